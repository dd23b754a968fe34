//! One call under a policy, with its per-call options.
//!
//! [`Retry::call`](crate::Retry::call) (async) and
//! [`Retry::call_blocking`](crate::Retry::call_blocking) wrap the operation;
//! `retry_if`, `classify`, `hint` and `on_retry` each replace one type
//! parameter, so nothing is boxed and an unused option costs nothing; `run`
//! takes the sleeper, so a call without one does not compile.

use core::time::Duration;

use resil_core::{DefaultClassifier, Outcome};

use crate::Retry;
use crate::classify::RetryIf;
use crate::hint::NoHint;
use crate::hook::{NoHook, RetryInfo};

/// An operation and the options of one retried call; run it with `run`.
///
/// Made by [`Retry::call`](crate::Retry::call) or
/// [`Retry::call_blocking`](crate::Retry::call_blocking).
#[derive(Debug)]
#[must_use = "a call does nothing until `run` is called"]
pub struct Call<'r, Op, C, B, L, K = DefaultClassifier, H = NoHint, N = NoHook> {
    pub(crate) retry: &'r Retry<C, B, L>,
    pub(crate) op: Op,
    pub(crate) classify: K,
    pub(crate) hint: H,
    pub(crate) on_retry: N,
    /// The jitter seed, when the caller fixed one.
    pub(crate) seed: Option<u64>,
}

/// An async operation: a closure `AsyncFnMut(u32) -> Result<T, E>` given
/// the attempt number (from 1).
#[derive(Debug)]
pub struct Async<F>(pub(crate) F);

/// A blocking operation: a closure `FnMut(u32) -> Result<T, E>` given the
/// attempt number (from 1).
#[derive(Debug)]
pub struct Blocking<F>(pub(crate) F);

/// What an operation returns: `Result<Ok, Err>`. Lets the options infer
/// their closures' argument types from the operation.
pub trait Operation {
    /// The success type.
    type Ok;
    /// The error type.
    type Err;
}

impl<F, T, E> Operation for Async<F>
where
    F: AsyncFnMut(u32) -> Result<T, E>,
{
    type Ok = T;
    type Err = E;
}

impl<F, T, E> Operation for Blocking<F>
where
    F: FnMut(u32) -> Result<T, E>,
{
    type Ok = T;
    type Err = E;
}

impl<'r, Op: Operation, C, B, L, K, H, N> Call<'r, Op, C, B, L, K, H, N> {
    /// Retries only the errors `predicate` accepts; other errors are
    /// returned at once (stop reason: not retryable). `Ok` is always returned.
    pub fn retry_if<P>(self, predicate: P) -> Call<'r, Op, C, B, L, RetryIf<P>, H, N>
    where
        P: Fn(&Op::Err) -> bool,
    {
        self.with_classify(RetryIf(predicate))
    }

    /// Classifies whole results: [`Outcome::Failure`] is retried,
    /// [`Outcome::Success`] and [`Outcome::Ignored`] are returned. Lets an
    /// `Ok` value (a 503 response) be retried.
    pub fn classify<F>(self, classify: F) -> Call<'r, Op, C, B, L, F, H, N>
    where
        F: Fn(&Result<Op::Ok, Op::Err>) -> Outcome,
    {
        self.with_classify(classify)
    }

    /// Where a server's "retry after" hint comes from (see the
    /// [`hint`](crate::hint) module for how it sets the delay).
    pub fn hint<F>(self, hint: F) -> Call<'r, Op, C, B, L, K, F, N>
    where
        F: Fn(&Result<Op::Ok, Op::Err>) -> Option<Duration>,
    {
        Call {
            retry: self.retry,
            op: self.op,
            classify: self.classify,
            hint,
            on_retry: self.on_retry,
            seed: self.seed,
        }
    }

    /// Called before each retry's wait, with the attempt, its result, the
    /// delay and the elapsed time.
    pub fn on_retry<F>(self, on_retry: F) -> Call<'r, Op, C, B, L, K, H, F>
    where
        F: FnMut(&RetryInfo<'_, Op::Ok, Op::Err>),
    {
        Call {
            retry: self.retry,
            op: self.op,
            classify: self.classify,
            hint: self.hint,
            on_retry,
            seed: self.seed,
        }
    }

    /// Seeds this call's jitter, so that its delays repeat from run to run
    /// (simulations, reproducible tests). Without it each call draws from a
    /// fresh, unpredictable seed, which is what production wants: clients
    /// that share a seed jitter alike.
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Backoff, Clock, Jitter, ManualClock};
    /// use resil_retry::Retry;
    ///
    /// let backoff = Backoff::exponential(Duration::from_millis(100), 2.0)
    ///     .jitter(Jitter::Full)
    ///     .build()?;
    /// let policy = Retry::builder().backoff(backoff).max_attempts(4).build()?;
    /// let waited = |seed| {
    ///     let clock = ManualClock::new();
    ///     let _ = policy.call_blocking(|_| Err::<(), _>("busy")).seed(seed).run(&clock);
    ///     clock.now()
    /// };
    /// assert_eq!(waited(7), waited(7));
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    fn with_classify<K2>(self, classify: K2) -> Call<'r, Op, C, B, L, K2, H, N> {
        Call {
            retry: self.retry,
            op: self.op,
            classify,
            hint: self.hint,
            on_retry: self.on_retry,
            seed: self.seed,
        }
    }
}
