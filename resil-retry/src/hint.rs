//! Server hints: when a server says how long to wait (HTTP `Retry-After`,
//! gRPC `grpc-retry-pushback-ms`), a client that ignores it retries into a
//! service that has just said it is not ready. tokio-retry2 has such a field
//! and its sleep ignores it; here the hint sets the next delay.
//!
//! With a hint `h`, the next delay is `h` plus the random part of the
//! backoff's jitter (zero without jitter), so the server's time is honoured
//! and clients that got the same hint still spread out; the sum is cut to
//! the policy's `max_hint`, and if it would end past the deadline, retrying
//! stops. A hint of zero counts as no hint.

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
