//! The blocking retry loop, for synchronous code: the same decisions as the
//! async loop, waiting on a [`BlockingSleeper`].

use resil_core::{BlockingSleeper, Classify, Clock, Listener};

use crate::budget::Budget;
use crate::call::{Blocking, Call};
use crate::hint::Hint;
use crate::hook::OnRetry;
use crate::state::{Progress, Step};
use crate::{Retry, RetryError};

impl<C: Clock, B: Budget, L: Listener> Retry<C, B, L> {
    /// Runs the blocking `op` under this policy, retrying every `Err`, and
    /// waiting on `sleeper` ([`ThreadSleeper`] in production, a
    /// [`ManualClock`] in tests).
    ///
    /// # Errors
    ///
    /// The last error, in a [`RetryError`] that says how many attempts were
    /// made and why retrying stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Backoff, Clock, ManualClock};
    /// use resil_retry::Retry;
    ///
    /// let clock = ManualClock::new();
    /// let policy = Retry::builder()
    ///     .clock(clock.clone())
    ///     .backoff(Backoff::constant(Duration::from_secs(1)).build()?)
    ///     .build()?;
    /// let answer = policy.run_blocking(&clock, |attempt| if attempt < 3 { Err("busy") } else { Ok(attempt) });
    /// assert_eq!(answer, Ok(3));
    /// assert_eq!(clock.now().since_origin(), Duration::from_secs(2), "two waits, in virtual time");
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    ///
    /// [`ThreadSleeper`]: resil_core::ThreadSleeper
    /// [`ManualClock`]: resil_core::ManualClock
    pub fn run_blocking<S, F, T, E>(&self, sleeper: &S, op: F) -> Result<T, RetryError<E>>
    where
        S: BlockingSleeper + ?Sized,
        F: FnMut(u32) -> Result<T, E>,
    {
        self.call_blocking(op).run(sleeper)
    }

    /// Wraps the blocking `op` for a call with per-call options; finish
    /// with [`run`](Call::run).
    pub fn call_blocking<F, T, E>(&self, op: F) -> Call<'_, Blocking<F>, C, B, L>
    where
        F: FnMut(u32) -> Result<T, E>,
    {
        Call {
            retry: self,
            op: Blocking(op),
            classify: resil_core::DefaultClassifier,
            hint: crate::hint::NoHint,
            on_retry: crate::hook::NoHook,
            seed: None,
        }
    }
}

impl<F, T, E, C, B, L, K, H, N> Call<'_, Blocking<F>, C, B, L, K, H, N>
where
    F: FnMut(u32) -> Result<T, E>,
    C: Clock,
    B: Budget,
    L: Listener,
    K: Classify<T, E>,
    H: Hint<T, E>,
    N: OnRetry<T, E>,
{
    /// Runs the call, blocking on `sleeper` between attempts.
    ///
    /// A panic inside the operation propagates; the policy and its budget
    /// stay usable (a retry is paid for only once it is decided).
    ///
    /// # Errors
    ///
    /// As [`Retry::run_blocking`].
    pub fn run<S: BlockingSleeper + ?Sized>(mut self, sleeper: &S) -> Result<T, RetryError<E>> {
        let retry = self.retry;
        let mut progress = Progress::begin(retry).seeded(self.seed);
        loop {
            let attempt = progress.start_attempt();
            let result = (self.op.0)(attempt);
            let options = (&self.classify, &self.hint, &mut self.on_retry);
            match progress.settle(retry, options, attempt, result) {
                Step::Wait(delay) => sleeper.sleep_blocking(delay),
                Step::Done(result) => return result,
            }
        }
    }
}
