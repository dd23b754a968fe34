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
use core::time::Duration;

use resil_breaker::{CircuitBreaker, Rejected};
use resil_core::{Clock, Listener, Outcome, Sleeper, StopReason};
use resil_retry::{Attempts, Budget, Decision, Retry};
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
    ///
    /// The future is `Send` (with a `Sync` sleeper whose sleeps are
    /// `Send`), so a pipeline call can be spawned on a work-stealing
    /// runtime and boxed by a tower service.
    fn admit<S>(
        &self,
        sleeper: &S,
        priority: Priority,
    ) -> impl Future<Output = Result<Self::Permit, Shed>> + Send
    where
        S: Sleeper + Sync + ?Sized,
        S::Sleep: Send;

    /// Returns the permit with the call's outcome.
    fn release(permit: Self::Permit, outcome: Outcome);
}

impl ShedStage for Off {
    type Permit = ();

    fn admit<S>(
        &self,
        _sleeper: &S,
        _priority: Priority,
    ) -> impl Future<Output = Result<(), Shed>> + Send
    where
        S: Sleeper + Sync + ?Sized,
        S::Sleep: Send,
    {
        ready(Ok(()))
    }

    fn release((): (), _outcome: Outcome) {}
}

impl<L: Limit + Send, C: Clock, Li: Listener> ShedStage for ConcurrencyLimit<L, C, Li> {
    type Permit = resil_shed::Permit<L, C, Li>;

    fn admit<S>(
        &self,
        sleeper: &S,
        priority: Priority,
    ) -> impl Future<Output = Result<Self::Permit, Shed>> + Send
    where
        S: Sleeper + Sync + ?Sized,
        S::Sleep: Send,
    {
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

/// What follows an attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<T, E> {
    /// Wait this long, then attempt again.
    Retry(Duration),
    /// The call is over.
    Done(Result<T, Stopped<E>>),
}

/// The stage that repeats attempts: it decides, the pipeline runs each
/// attempt and waits.
pub trait RetryStage {
    /// One call's progress.
    type Progress;

    /// Begins a call; `seed`, if given, fixes the jitter of its delays.
    fn begin(&self, seed: Option<u64>) -> Self::Progress;

    /// Starts an attempt; returns its number, from 1.
    fn start(&self, progress: &mut Self::Progress) -> u32;

    /// Decides what follows an attempt that ended with `result`, classified
    /// as `outcome`, with the server's `hint` as the floor of the next
    /// delay.
    fn settle<T, E>(
        &self,
        progress: &mut Self::Progress,
        result: Result<T, E>,
        outcome: Outcome,
        hint: Option<Duration>,
    ) -> Next<T, E>;
}

impl RetryStage for Off {
    type Progress = ();

    fn begin(&self, _seed: Option<u64>) {}

    fn start(&self, (): &mut ()) -> u32 {
        1
    }

    fn settle<T, E>(
        &self,
        (): &mut (),
        result: Result<T, E>,
        _outcome: Outcome,
        _hint: Option<Duration>,
    ) -> Next<T, E> {
        Next::Done(result.map_err(|error| Stopped {
            error,
            attempts: 1,
            reason: None,
        }))
    }
}

impl<C: Clock, B: Budget, L: Listener> RetryStage for Retry<C, B, L> {
    type Progress = Attempts;

    fn begin(&self, seed: Option<u64>) -> Attempts {
        match seed {
            Some(seed) => self.attempts().seed(seed),
            None => self.attempts(),
        }
    }

    fn start(&self, progress: &mut Attempts) -> u32 {
        progress.start()
    }

    #[inline]
    fn settle<T, E>(
        &self,
        progress: &mut Attempts,
        result: Result<T, E>,
        outcome: Outcome,
        hint: Option<Duration>,
    ) -> Next<T, E> {
        match progress.settle(self, result, outcome, hint) {
            Decision::Retry(delay) => Next::Retry(delay),
            Decision::Done(result) => Next::Done(result.map_err(|stopped| Stopped {
                attempts: stopped.attempts(),
                reason: Some(stopped.reason()),
                error: stopped.into_inner(),
            })),
        }
    }
}

/// A stage chosen at run time (from a configuration file, say): `None` is
/// [`Off`].
impl<T: ShedStage + Sync> ShedStage for Option<T> {
    type Permit = Option<T::Permit>;

    async fn admit<S>(&self, sleeper: &S, priority: Priority) -> Result<Self::Permit, Shed>
    where
        S: Sleeper + Sync + ?Sized,
        S::Sleep: Send,
    {
        match self {
            Some(stage) => stage.admit(sleeper, priority).await.map(Some),
            None => Ok(None),
        }
    }

    fn release(permit: Self::Permit, outcome: Outcome) {
        if let Some(permit) = permit {
            T::release(permit, outcome);
        }
    }
}

/// A stage chosen at run time: `None` is [`Off`].
impl<T: BreakerStage> BreakerStage for Option<T> {
    type Permit<'a>
        = Option<T::Permit<'a>>
    where
        Self: 'a;

    fn admit(&self) -> Result<Self::Permit<'_>, Rejected> {
        self.as_ref().map(T::admit).transpose()
    }

    fn record(permit: Self::Permit<'_>, outcome: Outcome) {
        if let Some(permit) = permit {
            T::record(permit, outcome);
        }
    }
}

/// A stage chosen at run time: `None` is [`Off`].
impl<T: RetryStage> RetryStage for Option<T> {
    type Progress = Option<T::Progress>;

    fn begin(&self, seed: Option<u64>) -> Self::Progress {
        self.as_ref().map(|stage| stage.begin(seed))
    }

    fn start(&self, progress: &mut Self::Progress) -> u32 {
        match (self, progress) {
            (Some(stage), Some(progress)) => stage.start(progress),
            _ => Off.start(&mut ()),
        }
    }

    fn settle<T2, E>(
        &self,
        progress: &mut Self::Progress,
        result: Result<T2, E>,
        outcome: Outcome,
        hint: Option<Duration>,
    ) -> Next<T2, E> {
        match (self, progress) {
            (Some(stage), Some(progress)) => stage.settle(progress, result, outcome, hint),
            _ => Off.settle(&mut (), result, outcome, hint),
        }
    }
}
