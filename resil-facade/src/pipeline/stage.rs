//! The stages a [`Pipeline`](super::Pipeline) composes, each either a real
//! technique or [`Off`].
//!
//! Why traits and not `Option`s: with `Option<CircuitBreaker<C, L>>` every
//! pipeline would name every technique's clock, listener, limit and budget
//! types, and a pipeline without a breaker could not infer them. A stage
//! that is [`Off`] costs nothing: its admission is a constant `Ok(())`.
//! The traits are public so a pipeline's type can be written down; resil's
//! techniques and [`Off`] implement them.

use core::future::{Future, ready};

use resil_breaker::{CircuitBreaker, Rejected};
use resil_core::{Classify, Clock, Listener, Outcome, Sleeper, StopReason};
use resil_retry::{Budget, Hint, Retry};
use resil_shed::{ConcurrencyLimit, Limit, Priority, Shed};

/// A stage that is not there: admits everything, retries nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Off;

/// The outermost stage: admission at the door.
pub trait ShedStage {
    /// What an admitted call holds until it finishes.
    type Permit;

    /// Admits a call at `priority`, waiting on `sleeper` if the stage
    /// queues.
    fn admit<S: Sleeper + ?Sized>(
        &self,
        sleeper: &S,
        priority: Priority,
    ) -> impl Future<Output = Result<Self::Permit, Shed>>;

    /// Returns the permit with the call's outcome.
    fn release(permit: Self::Permit, outcome: Outcome);
}

impl ShedStage for Off {
    type Permit = ();

    fn admit<S: Sleeper + ?Sized>(
        &self,
        _sleeper: &S,
        _priority: Priority,
    ) -> impl Future<Output = Result<(), Shed>> {
        ready(Ok(()))
    }

    fn release((): (), _outcome: Outcome) {}
}

impl<L: Limit, C: Clock, Li: Listener> ShedStage for ConcurrencyLimit<L, C, Li> {
    type Permit = resil_shed::Permit<L, C, Li>;

    fn admit<S: Sleeper + ?Sized>(
        &self,
        sleeper: &S,
        priority: Priority,
    ) -> impl Future<Output = Result<Self::Permit, Shed>> {
        self.acquire(sleeper, priority)
    }

    fn release(permit: Self::Permit, outcome: Outcome) {
        permit.record(outcome);
    }
}

/// The innermost technique: admission per attempt.
pub trait BreakerStage {
    /// What an admitted attempt holds until it finishes.
    type Permit<'a>
    where
        Self: 'a;

    /// Admits one attempt, or refuses it.
    ///
    /// # Errors
    ///
    /// [`Rejected`] when the breaker refuses.
    fn admit(&self) -> Result<Self::Permit<'_>, Rejected>;

    /// Records how the attempt went.
    fn record(permit: Self::Permit<'_>, outcome: Outcome);
}

impl BreakerStage for Off {
    type Permit<'a> = ();

    fn admit(&self) -> Result<(), Rejected> {
        Ok(())
    }

    fn record((): (), _outcome: Outcome) {}
}

impl<C: Clock, L: Listener> BreakerStage for CircuitBreaker<C, L> {
    type Permit<'a>
        = resil_breaker::Permit<'a, C, L>
    where
        Self: 'a;

    fn admit(&self) -> Result<Self::Permit<'_>, Rejected> {
        self.try_acquire()
    }

    fn record(permit: Self::Permit<'_>, outcome: Outcome) {
        permit.record_outcome(outcome);
    }
}

/// The last error of a call that no further attempt followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stopped<E> {
    /// The last attempt's error.
    pub error: E,
    /// Attempts made, the first included.
    pub attempts: u32,
    /// Why retrying stopped; `None` when the stage does not retry.
    pub reason: Option<StopReason>,
}

/// The stage that repeats attempts.
pub trait RetryStage {
    /// Runs `attempt` (given the attempt number, from 1) until `classify`
    /// calls a result final or the policy stops, waiting on `sleeper`, with
    /// `hint` as the server's floor for the next delay.
    fn run<S, F, T, E, K, H>(
        &self,
        sleeper: &S,
        attempt: F,
        classify: K,
        hint: H,
    ) -> impl Future<Output = Result<T, Stopped<E>>>
    where
        S: Sleeper + ?Sized,
        F: AsyncFnMut(u32) -> Result<T, E>,
        K: Classify<T, E>,
        H: Hint<T, E>;
}

impl RetryStage for Off {
    async fn run<S, F, T, E, K, H>(
        &self,
        _sleeper: &S,
        mut attempt: F,
        _classify: K,
        _hint: H,
    ) -> Result<T, Stopped<E>>
    where
        S: Sleeper + ?Sized,
        F: AsyncFnMut(u32) -> Result<T, E>,
        K: Classify<T, E>,
        H: Hint<T, E>,
    {
        attempt(1).await.map_err(|error| Stopped {
            error,
            attempts: 1,
            reason: None,
        })
    }
}

impl<C: Clock, B: Budget, L: Listener> RetryStage for Retry<C, B, L> {
    async fn run<S, F, T, E, K, H>(
        &self,
        sleeper: &S,
        attempt: F,
        classify: K,
        hint: H,
    ) -> Result<T, Stopped<E>>
    where
        S: Sleeper + ?Sized,
        F: AsyncFnMut(u32) -> Result<T, E>,
        K: Classify<T, E>,
        H: Hint<T, E>,
    {
        self.call(attempt)
            .classify(|result: &Result<T, E>| classify.classify(result))
            .hint(|result: &Result<T, E>| hint.hint(result))
            .run(sleeper)
            .await
            .map_err(|stopped| Stopped {
                attempts: stopped.attempts(),
                reason: Some(stopped.reason()),
                error: stopped.into_inner(),
            })
    }
}
