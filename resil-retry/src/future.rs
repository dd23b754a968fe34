//! The async retry loop: attempt, decide, wait on the caller's sleeper.

use resil_core::{Classify, Clock, Listener, Sleeper};

use crate::budget::Budget;
use crate::call::{Async, Call};
use crate::hint::Hint;
use crate::hook::OnRetry;
use crate::state::{Progress, Step};
use crate::{Retry, RetryError};

impl<C: Clock, B: Budget, L: Listener> Retry<C, B, L> {
    /// Runs `op` under this policy, retrying every `Err`, and waiting on
    /// `sleeper` (tokio's, smol's, async-std's, a [`ManualClock`], …).
    ///
    /// `op` is called with the attempt number (from 1). It may borrow
    /// local state mutably between attempts: it is an `AsyncFnMut`. For
    /// per-call options, use [`call`](Self::call).
    ///
    /// # Errors
    ///
    /// The last error, in a [`RetryError`] that says how many attempts were
    /// made and why retrying stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_retry::{Retry, RetryError};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let policy = Retry::builder().max_attempts(5).build()?;
    /// let mut failures_left = 2;
    /// let answer = policy
    ///     .run(&tokio::time::sleep, async |_attempt| {
    ///         // Borrowing `failures_left` mutably across attempts.
    ///         if failures_left > 0 {
    ///             failures_left -= 1;
    ///             Err("busy")
    ///         } else {
    ///             Ok(42)
    ///         }
    ///     })
    ///     .await
    ///     .map_err(RetryError::into_inner)?;
    /// assert_eq!(answer, 42);
    /// assert_eq!(failures_left, 0);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// [`ManualClock`]: resil_core::ManualClock
    pub async fn run<S, F, T, E>(&self, sleeper: &S, op: F) -> Result<T, RetryError<E>>
    where
        S: Sleeper + ?Sized,
        F: AsyncFnMut(u32) -> Result<T, E>,
    {
        self.call(op).run(sleeper).await
    }

    /// Wraps the async `op` for a call with per-call options
    /// ([`retry_if`](Call::retry_if), [`classify`](Call::classify),
    /// [`hint`](Call::hint), [`on_retry`](Call::on_retry)); finish with
    /// [`run`](Call::run).
    pub fn call<F, T, E>(&self, op: F) -> Call<'_, Async<F>, C, B, L>
    where
        F: AsyncFnMut(u32) -> Result<T, E>,
    {
        Call {
            retry: self,
            op: Async(op),
            classify: resil_core::DefaultClassifier,
            hint: crate::hint::NoHint,
            on_retry: crate::hook::NoHook,
            seed: None,
        }
    }
}

impl<F, T, E, C, B, L, K, H, N> Call<'_, Async<F>, C, B, L, K, H, N>
where
    F: AsyncFnMut(u32) -> Result<T, E>,
    C: Clock,
    B: Budget,
    L: Listener,
    K: Classify<T, E>,
    H: Hint<T, E>,
    N: OnRetry<T, E>,
{
    /// Runs the call, waiting on `sleeper` between attempts.
    ///
    /// Dropping the returned future cancels the call between or during
    /// attempts; the budget is left consistent (a retry is paid for only
    /// once it is decided, and never refunded).
    ///
    /// # Errors
    ///
    /// As [`Retry::run`].
    pub async fn run<S: Sleeper + ?Sized>(mut self, sleeper: &S) -> Result<T, RetryError<E>> {
        let retry = self.retry;
        let mut progress = Progress::begin(retry).seeded(self.seed);
        loop {
            let attempt = progress.start_attempt();
            let result = (self.op.0)(attempt).await;
            let options = (&self.classify, &self.hint, &mut self.on_retry);
            match progress.settle(retry, options, attempt, result) {
                Step::Wait(delay) => {
                    sleeper.sleep(delay).await;
                }
                Step::Done(result) => return result,
            }
        }
    }
}
