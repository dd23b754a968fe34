//! One call through a pipeline: its per-call options, and the run that
//! threads the stages together.

use core::time::Duration;

use resil_breaker::Rejected;
use resil_core::{Classify, DefaultClassifier, Outcome, Sleeper, timeout};
use resil_retry::{Hint, NoHint};
use resil_shed::Priority;

use super::error::{Cause, PipelineError};
use super::stage::{BreakerStage, Next, RetryStage, ShedStage, Stopped};
use super::{Pipeline, Settings};

/// An operation and the options of one pipeline call; run it with
/// [`run`](Self::run).
///
/// Made by [`Pipeline::call`]. `priority`, `classify` and `hint` each
/// replace one field (the last two change a type parameter), so an unused
/// option costs nothing.
#[derive(Debug)]
#[must_use = "a call does nothing until `run` is called"]
pub struct PipelineCall<'p, S, R, K, F, Cl = DefaultClassifier, H = NoHint> {
    pipeline: &'p Pipeline<S, R, K>,
    op: F,
    priority: Priority,
    seed: Option<u64>,
    classify: Cl,
    hint: H,
}

impl<S, R, K> Pipeline<S, R, K> {
    /// A call of `op` (an `AsyncFnMut` given the attempt number, from 1)
    /// through the pipeline, at the default priority
    /// ([`Priority::Critical`]), with `Ok` a success and `Err` a failure.
    pub fn call<F, T, E>(&self, op: F) -> PipelineCall<'_, S, R, K, F>
    where
        F: AsyncFnMut(u32) -> Result<T, E>,
    {
        PipelineCall {
            pipeline: self,
            op,
            priority: Priority::default(),
            seed: None,
            classify: DefaultClassifier,
            hint: NoHint,
        }
    }
}

impl<'p, S, R, K, F, T, E, Cl, H> PipelineCall<'p, S, R, K, F, Cl, H>
where
    F: AsyncFnMut(u32) -> Result<T, E>,
{
    /// The priority the shed stage admits the call at.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Fixes the jitter of this call's backoff delays with `seed`: the same
    /// seed gives the same delays, for reproducible tests and simulations.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Classifies each attempt's result, for the breaker, the retry policy
    /// and the shed stage's adaptive limit at once (an `Ok` 503 can be a
    /// failure).
    pub fn classify<Cl2>(self, classify: Cl2) -> PipelineCall<'p, S, R, K, F, Cl2, H>
    where
        Cl2: Fn(&Result<T, E>) -> Outcome,
    {
        PipelineCall {
            pipeline: self.pipeline,
            op: self.op,
            priority: self.priority,
            seed: self.seed,
            classify,
            hint: self.hint,
        }
    }

    /// Where a server's "retry after" comes from: the floor of the next
    /// delay (see [`resil_retry::hint`]).
    pub fn hint<H2>(self, hint: H2) -> PipelineCall<'p, S, R, K, F, Cl, H2>
    where
        H2: Fn(&Result<T, E>) -> Option<Duration>,
    {
        PipelineCall {
            pipeline: self.pipeline,
            op: self.op,
            priority: self.priority,
            seed: self.seed,
            classify: self.classify,
            hint,
        }
    }
}

/// One attempt that returned `Ok`, with what the classifier said of it.
struct Attempted<T> {
    value: T,
    outcome: Outcome,
    hint: Option<Duration>,
}

/// One attempt that did not return `Ok`.
enum AttemptError<E> {
    Rejected(Rejected),
    TimedOut(Duration),
    Failed {
        error: E,
        outcome: Outcome,
        hint: Option<Duration>,
    },
}

impl<'p, S, R, K, F, T, E, Cl, H> PipelineCall<'p, S, R, K, F, Cl, H>
where
    S: ShedStage,
    R: RetryStage,
    K: BreakerStage,
    F: AsyncFnMut(u32) -> Result<T, E>,
    Cl: Classify<T, E>,
    H: Hint<T, E>,
{
    /// Runs the call, waiting (backoff, queue, timeouts) on `sleeper`
    /// (`Sync`, with `Send` sleeps, as every runtime's timer is: the
    /// call's future is `Send` when the operation's is).
    ///
    /// # Errors
    ///
    /// A [`PipelineError`] whose [`cause`](PipelineError::cause) names the
    /// stage that ended the call, or holds the operation's last error.
    pub async fn run<Sl>(self, sleeper: &Sl) -> Result<T, PipelineError<E>>
    where
        Sl: Sleeper + Sync + ?Sized,
        Sl::Sleep: Send,
    {
        let PipelineCall {
            pipeline,
            mut op,
            priority,
            seed,
            classify,
            hint,
        } = self;
        let settings = pipeline.settings;
        let permit = match pipeline.shed.admit(sleeper, priority).await {
            Ok(permit) => permit,
            Err(shed) => return Err(PipelineError::new(Cause::Shed(shed), 0, None)),
        };
        let retry = &pipeline.retry;
        let mut progress = retry.begin(seed);
        let mut started = 0;
        let attempts = async {
            loop {
                started = retry.start(&mut progress);
                let result = attempt(
                    &pipeline.breaker,
                    settings,
                    sleeper,
                    (&mut op, &classify, &hint),
                    started,
                )
                .await;
                let (outcome, hint) = (retry_outcome(settings, &result), retry_hint(&result));
                // The breaker's own wait is a floor the policy's `max_hint`
                // (a guard against servers' hints) must not cut: retrying
                // before it would only be rejected again.
                let reopens = match &result {
                    Err(AttemptError::Rejected(rejected)) => rejected.retry_after(),
                    _ => None,
                };
                match retry.settle(&mut progress, result, outcome, hint) {
                    Next::Retry(delay) => {
                        sleeper.sleep(delay.max(reopens.unwrap_or_default())).await
                    }
                    Next::Done(result) => break result,
                };
            }
        };
        let result = match settings.total_timeout {
            None => attempts.await,
            Some(limit) => match timeout(sleeper, limit, attempts).await {
                Ok(result) => result,
                Err(_) => {
                    S::release(permit, Outcome::Failure);
                    let cause = Cause::TotalTimeout(limit);
                    return Err(PipelineError::new(cause, started, None));
                }
            },
        };
        match result {
            Ok(done) => {
                S::release(permit, done.outcome);
                Ok(done.value)
            }
            Err(Stopped {
                error,
                attempts,
                reason,
            }) => {
                let (cause, outcome) = match error {
                    AttemptError::Rejected(rejected) => {
                        (Cause::Rejected(rejected), Outcome::Ignored)
                    }
                    AttemptError::TimedOut(limit) => {
                        (Cause::AttemptTimeout(limit), Outcome::Failure)
                    }
                    AttemptError::Failed { error, outcome, .. } => (Cause::Failed(error), outcome),
                };
                S::release(permit, outcome);
                Err(PipelineError::new(cause, attempts, reason))
            }
        }
    }
}

/// One attempt: the breaker's admission, the attempt timeout, the
/// operation, and the classification the breaker records.
async fn attempt<K, F, T, E, Cl, H, Sl>(
    breaker: &K,
    settings: Settings,
    sleeper: &Sl,
    (op, classify, hint): (&mut F, &Cl, &H),
    n: u32,
) -> Result<Attempted<T>, AttemptError<E>>
where
    K: BreakerStage,
    F: AsyncFnMut(u32) -> Result<T, E>,
    Cl: Classify<T, E>,
    H: Hint<T, E>,
    Sl: Sleeper + ?Sized,
{
    let permit = breaker.admit().map_err(AttemptError::Rejected)?;
    let result = match settings.attempt_timeout {
        None => op(n).await,
        Some(limit) => match timeout(sleeper, limit, op(n)).await {
            Ok(result) => result,
            Err(_) => {
                K::record(permit, Outcome::Failure);
                return Err(AttemptError::TimedOut(limit));
            }
        },
    };
    let outcome = classify.classify(&result);
    let hint = hint.hint(&result);
    K::record(permit, outcome);
    match result {
        Ok(value) => Ok(Attempted {
            value,
            outcome,
            hint,
        }),
        Err(error) => Err(AttemptError::Failed {
            error,
            outcome,
            hint,
        }),
    }
}

/// What the retry policy makes of an attempt: the classifier's verdict; a
/// timeout is a failure; a rejection is retried only on request, and only
/// when the breaker said when to come back.
fn retry_outcome<T, E>(
    settings: Settings,
    result: &Result<Attempted<T>, AttemptError<E>>,
) -> Outcome {
    match result {
        Ok(done) => done.outcome,
        Err(AttemptError::Failed { outcome, .. }) => *outcome,
        Err(AttemptError::TimedOut(_)) => Outcome::Failure,
        Err(AttemptError::Rejected(rejected)) => {
            if settings.retry_rejected && rejected.retry_after().is_some() {
                Outcome::Failure
            } else {
                Outcome::Ignored
            }
        }
    }
}

/// The floor of the next delay: the server's hint, or the breaker's
/// `retry_after`.
fn retry_hint<T, E>(result: &Result<Attempted<T>, AttemptError<E>>) -> Option<Duration> {
    match result {
        Ok(done) => done.hint,
        Err(AttemptError::Failed { hint, .. }) => *hint,
        Err(AttemptError::TimedOut(_)) => None,
        Err(AttemptError::Rejected(rejected)) => rejected.retry_after(),
    }
}
