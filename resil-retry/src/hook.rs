//! The `on_retry` hook: a look at each retry before its wait begins, for
//! logging or metrics that want the typed error (events carry no error).

use core::time::Duration;

/// What [`OnRetry`] sees before each retry.
#[derive(Debug)]
#[non_exhaustive]
pub struct RetryInfo<'a, T, E> {
    /// The attempt that just failed, counting from 1.
    pub attempt: u32,
    /// Its result (an `Err`, or an `Ok` classified as a failure).
    pub result: &'a Result<T, E>,
    /// The wait before the next attempt.
    pub delay: Duration,
    /// Time since the call started (see [`Retry`](crate::Retry#elapsed-time)
    /// for when that is).
    pub elapsed: Duration,
}

impl<T, E> RetryInfo<'_, T, E> {
    /// The error, if the failed attempt returned one.
    pub fn error(&self) -> Option<&E> {
        self.result.as_ref().err()
    }
}

/// Called before each retry's wait. Implemented for closures
/// `FnMut(&RetryInfo<'_, T, E>)` and for [`NoHook`], the default.
pub trait OnRetry<T, E> {
    /// One retry is about to wait `info.delay`.
    fn on_retry(&mut self, info: &RetryInfo<'_, T, E>);
}

/// No hook.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoHook;

impl<T, E> OnRetry<T, E> for NoHook {
    #[inline(always)]
    fn on_retry(&mut self, _info: &RetryInfo<'_, T, E>) {}
}

impl<T, E, F> OnRetry<T, E> for F
where
    F: FnMut(&RetryInfo<'_, T, E>),
{
    fn on_retry(&mut self, info: &RetryInfo<'_, T, E>) {
        self(info)
    }
}
