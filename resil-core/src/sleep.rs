//! How to wait, without knowing which runtime is waiting.
//!
//! A [`Sleeper`] turns a duration into a future that completes after it.
//! Any `Fn(Duration) -> impl Future` is one, whatever the future's output,
//! so `tokio::time::sleep`, `async_std::task::sleep` and
//! `smol::Timer::after` plug in untouched, as does an embedded timer or
//! [`ManualClock`](crate::ManualClock)'s virtual time. A
//! [`BlockingSleeper`] is the same idea for synchronous code.

#[cfg(feature = "std")]
mod thread;

#[cfg(feature = "std")]
pub use thread::ThreadSleeper;

use core::future::Future;
use core::time::Duration;

/// Makes futures that complete after a duration.
///
/// Implemented for every `Fn(Duration) -> Fut` where `Fut: Future`, with any
/// output (smol's timer yields an `Instant`; it is ignored). Durations may be
/// anything up to [`Duration::MAX`]; a sleeper must not panic on large ones
/// (tokio's, async-std's and smol's do not).
///
/// # Examples
///
/// With tokio (any runtime's sleep function works the same way):
///
/// ```
/// use core::time::Duration;
/// use resil_core::Sleeper;
///
/// fn takes_a_sleeper<S: Sleeper>(sleeper: S) -> S::Sleep {
///     sleeper.sleep(Duration::from_millis(10))
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// takes_a_sleeper(tokio::time::sleep).await;
/// # }
/// ```
pub trait Sleeper {
    /// The future returned by [`sleep`](Self::sleep).
    type Sleep: Future;

    /// A future that completes once `d` has passed.
    fn sleep(&self, d: Duration) -> Self::Sleep;
}

impl<F, Fut> Sleeper for F
where
    F: Fn(Duration) -> Fut,
    Fut: Future,
{
    type Sleep = Fut;

    fn sleep(&self, d: Duration) -> Fut {
        self(d)
    }
}

/// Blocks the current thread for a duration: the synchronous twin of
/// [`Sleeper`].
///
/// Implemented for every `Fn(Duration)`, for [`ThreadSleeper`]
/// (`std::thread::sleep`), and for [`ManualClock`](crate::ManualClock),
/// which advances its time instead of waiting.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::{BlockingSleeper, Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// clock.sleep_blocking(Duration::from_secs(60));
/// assert_eq!(clock.now().since_origin(), Duration::from_secs(60));
/// ```
pub trait BlockingSleeper {
    /// Returns once `d` has passed.
    fn sleep_blocking(&self, d: Duration);
}

impl<F: Fn(Duration)> BlockingSleeper for F {
    fn sleep_blocking(&self, d: Duration) {
        self(d)
    }
}
