//! Bounding how long a future may take, on any [`Sleeper`].
//!
//! The facade's total and per-attempt timeouts are built on [`timeout`]. It
//! races the operation against a sleep from the caller's sleeper, so it
//! works on every runtime and in virtual time alike.

use core::future::{Future, IntoFuture, poll_fn};
use core::pin::pin;
use core::task::Poll;
use core::time::Duration;

use crate::Sleeper;

/// The error of a [`timeout`] whose limit passed before the operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("operation timed out after {limit:?}")]
pub struct Elapsed {
    limit: Duration,
}

impl Elapsed {
    /// The limit that passed.
    pub const fn limit(&self) -> Duration {
        self.limit
    }
}

/// Runs `operation`, giving up once `limit` has passed on `sleeper`.
///
/// The timer starts when the returned future is first polled. At each poll
/// the operation goes first, so an operation that is ready when the limit
/// passes still wins. When the limit passes, the operation is dropped
/// (cancelled) before `Err(Elapsed)` is returned.
///
/// # Errors
///
/// [`Elapsed`] if `limit` passes before `operation` completes.
///
/// # Examples
///
/// In virtual time, with no runtime:
///
/// ```
/// use core::pin::pin;
/// use core::task::{Context, Waker};
/// use core::time::Duration;
/// use resil_core::{timeout, ManualClock};
///
/// let clock = ManualClock::new();
/// let never = core::future::pending::<()>();
/// let mut call = pin!(timeout(&clock, Duration::from_secs(2), never));
/// let mut cx = Context::from_waker(Waker::noop());
///
/// assert!(call.as_mut().poll(&mut cx).is_pending());
/// clock.advance(Duration::from_secs(2));
/// let err = match call.as_mut().poll(&mut cx) {
///     core::task::Poll::Ready(result) => result.unwrap_err(),
///     core::task::Poll::Pending => unreachable!("the limit has passed"),
/// };
/// assert_eq!(err.limit(), Duration::from_secs(2));
/// ```
pub async fn timeout<S, F>(sleeper: &S, limit: Duration, operation: F) -> Result<F::Output, Elapsed>
where
    S: Sleeper + ?Sized,
    F: IntoFuture,
{
    let mut operation = pin!(operation.into_future());
    let mut sleep = pin!(sleeper.sleep(limit));
    poll_fn(|cx| {
        if let Poll::Ready(output) = operation.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match sleep.as_mut().poll(cx) {
            Poll::Ready(_) => Poll::Ready(Err(Elapsed { limit })),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}
