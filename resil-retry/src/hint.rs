//! Server hints: when a server says how long to wait (HTTP `Retry-After`,
//! gRPC `grpc-retry-pushback-ms`), a client that ignores it retries into a
//! service that has just said it is not ready. tokio-retry2 has such a field
//! and its sleep ignores it; here the hint sets the next delay.
//!
//! The hint is a floor for the next delay, with the backoff's jitter on top.
//! Precisely: if the backoff would draw its delay from `[low, high]`, a hint
//! `h` (first cut to the policy's `max_hint`) makes it
//! `max(h, low) + (draw − low)`, and that is cut to `max_hint` again (or to
//! the backoff's own draw, if that is longer). Without jitter that is `max(h, delay)`: the
//! server's wait is honoured and a longer backoff still applies. With full
//! jitter it is `h` plus the random part, so clients that got the same hint
//! still spread out. If the result would end past the deadline, retrying
//! stops (reason: deadline). A hint of zero counts as no hint.

use core::time::Duration;

/// Extracts a server's hint ("retry after this long") from a result.
///
/// Implemented for closures `Fn(&Result<T, E>) -> Option<Duration>` and for
/// [`NoHint`], the default. It sees the whole result, so a hint can come
/// from an `Ok` response (a 503 with `Retry-After`) as well as an error.
pub trait Hint<T, E> {
    /// The wait the server asked for, if it asked.
    fn hint(&self, result: &Result<T, E>) -> Option<Duration>;
}

/// No hints: every delay comes from the backoff.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoHint;

impl<T, E> Hint<T, E> for NoHint {
    #[inline(always)]
    fn hint(&self, _result: &Result<T, E>) -> Option<Duration> {
        None
    }
}

impl<T, E, F> Hint<T, E> for F
where
    F: Fn(&Result<T, E>) -> Option<Duration>,
{
    fn hint(&self, result: &Result<T, E>) -> Option<Duration> {
        self(result)
    }
}
