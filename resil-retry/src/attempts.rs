//! A call's attempts, driven by hand.
//!
//! [`Retry::run`](crate::Retry::run) takes the operation as a closure and
//! owns the loop. Some callers cannot hand over a closure: a tower
//! service's response future must be a named type, and a composed pipeline
//! wraps each attempt in other techniques. [`Attempts`] is the same loop
//! turned inside out — the caller runs each attempt and waits; the policy
//! decides — with the very decisions `run` makes (one shared
//! implementation, so the two cannot drift apart).

use core::time::Duration;

use resil_core::{Clock, Listener, Outcome};

use crate::budget::Budget;
use crate::hook::NoHook;
use crate::state::{Progress, Step};
use crate::{Retry, RetryError};

/// The progress of one call's attempts under a [`Retry`] policy; made by
/// [`Retry::attempts`].
///
/// Call [`start`](Self::start) before each attempt and
/// [`settle`](Self::settle) after it, passing the policy that made it:
/// settle says whether to wait and try again, or gives the call's result.
/// It holds no borrow, so it can live in a named future beside an owned
/// policy.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Backoff, ManualClock, Outcome};
/// use resil_retry::{Decision, Retry};
///
/// let policy = Retry::builder()
///     .backoff(Backoff::constant(Duration::from_millis(100)).build()?)
///     .max_attempts(3)
///     .clock(ManualClock::new())
///     .build()?;
/// let mut attempts = policy.attempts();
/// let mut waits = Vec::new();
/// let result = loop {
///     let n = attempts.start();
///     let result: Result<u32, &str> = if n < 3 { Err("busy") } else { Ok(n) };
///     let outcome = Outcome::of(&result);
///     match attempts.settle(&policy, result, outcome, None) {
///         Decision::Retry(delay) => waits.push(delay), // sleep here
///         Decision::Done(result) => break result,
///     }
/// };
/// assert_eq!(result, Ok(3));
/// assert_eq!(waits, [Duration::from_millis(100); 2]);
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Attempts {
    progress: Progress,
    attempt: u32,
}

/// What follows an attempt.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a decision to retry means waiting, then attempting again"]
pub enum Decision<T, E> {
    /// Wait this long, then start the next attempt.
    Retry(Duration),
    /// The call is over: its result, or its last error with the story.
    Done(Result<T, RetryError<E>>),
}

impl<C: Clock, B: Budget, L: Listener> Retry<C, B, L> {
    /// Begins a call whose attempts the caller runs (see [`Attempts`]).
    /// Like every call, it pays its deposit into the retry budget now.
    pub fn attempts(&self) -> Attempts {
        Attempts {
            progress: Progress::begin(self),
            attempt: 0,
        }
    }
}

impl Attempts {
    /// Fixes the jitter of this call's delays with `seed` (as
    /// [`Call::seed`](crate::Call::seed) does): the same seed gives the same
    /// delays, for reproducible tests and simulations.
    pub fn seed(mut self, seed: u64) -> Self {
        self.progress = self.progress.seeded(Some(seed));
        self
    }

    /// Starts the next attempt; returns its number, from 1.
    #[inline]
    pub fn start(&mut self) -> u32 {
        self.attempt = self.progress.start_attempt();
        self.attempt
    }

    /// Settles the attempt just made, whose result the caller classified as
    /// `outcome`, with the server's `hint` if it gave one (the floor of the
    /// next delay, see [`hint`](crate::hint)): the same decision, events
    /// and budget accounting as [`Retry::run`].
    ///
    /// `retry` must be the policy that began the call.
    #[inline]
    pub fn settle<C, B, L, T, E>(
        &mut self,
        retry: &Retry<C, B, L>,
        result: Result<T, E>,
        outcome: Outcome,
        hint: Option<Duration>,
    ) -> Decision<T, E>
    where
        C: Clock,
        B: Budget,
        L: Listener,
    {
        let classify = |_: &Result<T, E>| outcome;
        let hint = |_: &Result<T, E>| hint;
        match self
            .progress
            .settle(retry, (&classify, &hint, &mut NoHook), self.attempt, result)
        {
            Step::Wait(delay) => Decision::Retry(delay),
            Step::Done(result) => Decision::Done(result),
        }
    }
}
