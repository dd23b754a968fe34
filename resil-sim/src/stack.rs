//! The client stack: the real resil techniques, composed in front of a
//! downstream, exactly as a service would compose them.
//!
//! This is the one module that knows how the techniques are put together.
//! The order is the facade's `Pipeline`'s, outermost first, with the SRE
//! client-side throttle (which the pipeline does not have) just outside
//! the breaker:
//!
//! > shed (priority concurrency limit) → retry (with its budget) →
//! > client-side throttle → breaker → per-attempt timeout → downstream
//!
//! Why not the `Pipeline` itself: besides the throttle's place, the
//! adaptive limit here learns only from overload (timeouts and refusals for
//! lack of capacity), while the breaker and the retry policy count every
//! error — two classifications, where the pipeline deliberately has one.
//!
//! Nothing here re-implements a technique: every decision (admit, shed,
//! retry, wait how long, trip, throttle) is made by `resil-shed`,
//! `resil-retry` and `resil-breaker`, on the simulation's `ManualClock`;
//! a limit or budget chosen by a scenario file is resil-shed's `AnyLimit`
//! or resil-retry's `AnyBudget`.

use core::future::Future;
use core::time::Duration;
use std::cell::Cell;

use resil_breaker::CircuitBreaker;
use resil_core::{ConfigError, ManualClock, Outcome, SplitMix64, timeout};
use resil_retry::{AnyBudget, RatioBudget, Retry, TokenBucket};
use resil_shed::{
    AdaptiveThrottle, Aimd, AnyLimit, ConcurrencyLimit, Fixed, Gradient2, Priority, Vegas,
};

use crate::scenario::{BudgetSpec, ClientSpec, LimitSpec, ShedSpec, ThrottleSpec};

/// Why a downstream call failed, as the caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallError {
    /// Refused at once: the service is down.
    Refused,
    /// Refused at once: the service is full.
    Overloaded,
    /// Failed after being served (a brownout's errors).
    Failed,
}

/// Something a client stack can call.
pub trait Service {
    /// One call at `priority`.
    fn call(&self, priority: Priority) -> impl Future<Output = Result<(), CallError>>;
}

/// Why a request failed, as its client sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Failure {
    /// Shed by the concurrency limit: never sent.
    Shed,
    /// Rejected by the open breaker: never sent.
    Rejected,
    /// Refused by the client-side throttle: never sent.
    Throttled,
    /// The attempt timed out.
    Timeout,
    /// The downstream answered with an error.
    Downstream(CallError),
}

impl Failure {
    /// Whether the client itself refused the request (it never left).
    pub fn is_local(self) -> bool {
        matches!(self, Failure::Shed | Failure::Rejected | Failure::Throttled)
    }

    /// Whether a retry may help: errors and timeouts, not local refusals
    /// (retrying those would only spin).
    fn is_retryable(&self) -> bool {
        !self.is_local()
    }
}

/// Builds the budget `spec` describes on `clock`.
///
/// # Errors
///
/// The budget's own [`ConfigError`].
pub(crate) fn build_budget(
    spec: &BudgetSpec,
    clock: &ManualClock,
) -> Result<AnyBudget<ManualClock>, ConfigError> {
    Ok(match *spec {
        BudgetSpec::None => AnyBudget::Unlimited,
        BudgetSpec::Ratio {
            ratio,
            min_per_second,
            window,
        } => AnyBudget::Ratio(
            RatioBudget::builder()
                .ratio(ratio)
                .min_per_second(min_per_second)
                .window(window)
                .clock(clock.clone())
                .build()?,
        ),
        BudgetSpec::TokenBucket { max_tokens, ratio } => {
            AnyBudget::TokenBucket(TokenBucket::new(max_tokens, ratio)?)
        }
    })
}

/// Builds the limit algorithm `spec` describes.
///
/// # Errors
///
/// The algorithm's own [`ConfigError`].
pub(crate) fn build_limit(spec: &LimitSpec) -> Result<AnyLimit, ConfigError> {
    Ok(match *spec {
        LimitSpec::Fixed(limit) => AnyLimit::Fixed(Fixed::try_from(limit)?),
        LimitSpec::Aimd {
            bounds: [initial, min, max],
            timeout,
        } => {
            let builder = Aimd::builder().initial(initial).min(min).max(max);
            let builder = match timeout {
                Some(t) => builder.timeout(t),
                None => builder,
            };
            AnyLimit::Aimd(builder.build()?)
        }
        LimitSpec::Gradient2 {
            bounds: [initial, min, max],
        } => AnyLimit::Gradient2(
            Gradient2::builder()
                .initial(initial)
                .min(min)
                .max(max)
                .build()?,
        ),
        LimitSpec::Vegas {
            bounds: [initial, min, max],
        } => AnyLimit::Vegas(
            Vegas::builder()
                .initial(initial)
                .min(min)
                .max(max)
                .build()?,
        ),
    })
}

/// Builds the concurrency limiter `spec` describes on `clock`.
///
/// # Errors
///
/// The limiter's or the algorithm's [`ConfigError`].
pub(crate) fn build_limiter(
    spec: &ShedSpec,
    clock: ManualClock,
) -> Result<ConcurrencyLimit<AnyLimit, ManualClock>, ConfigError> {
    let mut builder = ConcurrencyLimit::builder(build_limit(&spec.limit)?)
        .max_queue(spec.max_queue as usize)
        .max_wait(spec.max_wait);
    for &(priority, share) in &spec.reserves {
        builder = builder.reserve(priority, share);
    }
    builder.clock(clock).build()
}

/// Builds the client-side throttle `spec` describes on `clock`.
///
/// # Errors
///
/// The throttle's [`ConfigError`].
pub(crate) fn build_throttle(
    spec: &ThrottleSpec,
    clock: ManualClock,
    seed: u64,
) -> Result<AdaptiveThrottle<ManualClock>, ConfigError> {
    AdaptiveThrottle::builder()
        .k(spec.k)
        .window(spec.window)
        .clock(clock)
        .seed(seed)
        .build()
}

/// One client's stack of techniques, built from a [`ClientSpec`].
#[derive(Debug)]
pub struct Stack {
    clock: ManualClock,
    timeout: Duration,
    retry: Option<Retry<ManualClock, AnyBudget<ManualClock>>>,
    breaker: Option<CircuitBreaker<ManualClock>>,
    shed: Option<ConcurrencyLimit<AnyLimit, ManualClock>>,
    throttle: Option<AdaptiveThrottle<ManualClock>>,
    /// Per-call jitter seeds: `seed`, then its successors.
    next_seed: Cell<u64>,
}

impl Stack {
    /// Builds `spec`'s techniques on `clock`, seeding their randomness from
    /// `seed`.
    ///
    /// # Errors
    ///
    /// A technique's [`ConfigError`] (scenarios are checked when loaded, so
    /// this happens only for a hand-made [`ClientSpec`]).
    pub fn new(spec: &ClientSpec, clock: &ManualClock, seed: u64) -> Result<Stack, ConfigError> {
        let retry = match &spec.retry {
            Some(r) => {
                let builder = Retry::builder()
                    .backoff(r.backoff)
                    .max_attempts(r.attempts)
                    .clock(clock.clone())
                    .budget(build_budget(&r.budget, clock)?);
                let builder = match r.deadline {
                    Some(d) => builder.max_elapsed(d),
                    None => builder,
                };
                Some(builder.build()?)
            }
            None => None,
        };
        let breaker = match &spec.breaker {
            Some(b) => Some(
                CircuitBreaker::builder()
                    .failure_rate(b.failure_rate)
                    .window(b.window)
                    .minimum_calls(b.minimum_calls)
                    .wait(b.wait)
                    .half_open_permits(b.half_open_permits)
                    .clock(clock.clone())
                    .build()?,
            ),
            None => None,
        };
        let shed = match &spec.shed {
            Some(s) => Some(build_limiter(s, clock.clone())?),
            None => None,
        };
        let throttle = match &spec.throttle {
            Some(t) => Some(build_throttle(t, clock.clone(), SplitMix64::mix(seed))?),
            None => None,
        };
        Ok(Stack {
            clock: clock.clone(),
            timeout: spec.timeout,
            retry,
            breaker,
            shed,
            throttle,
            next_seed: Cell::new(SplitMix64::mix(seed ^ 0x5EED)),
        })
    }

    /// One request at `priority` through the whole stack to `service`.
    ///
    /// # Errors
    ///
    /// The [`Failure`] of the last attempt (or the local refusal).
    pub async fn call<S: Service>(&self, priority: Priority, service: &S) -> Result<(), Failure> {
        let permit = match &self.shed {
            Some(limiter) => Some(
                limiter
                    .acquire(&self.clock, priority)
                    .await
                    .map_err(|_| Failure::Shed)?,
            ),
            None => None,
        };
        let result = match &self.retry {
            Some(retry) => {
                let seed = self.next_seed.get();
                self.next_seed.set(seed.wrapping_add(SplitMix64::GAMMA));
                retry
                    .call(async |_attempt| self.attempt(priority, service).await)
                    .retry_if(Failure::is_retryable)
                    .seed(seed)
                    .run(&self.clock)
                    .await
                    .map_err(resil_retry::RetryError::into_inner)
            }
            None => self.attempt(priority, service).await,
        };
        if let Some(permit) = permit {
            // An adaptive limit learns overload from timeouts and refusals
            // for lack of capacity; other errors say nothing about load.
            permit.record(match result {
                Ok(()) => Outcome::Success,
                Err(Failure::Timeout | Failure::Downstream(CallError::Overloaded)) => {
                    Outcome::Failure
                }
                Err(_) => Outcome::Ignored,
            });
        }
        result
    }

    /// One attempt: throttle, breaker, timeout, downstream.
    async fn attempt<S: Service>(&self, priority: Priority, service: &S) -> Result<(), Failure> {
        if let Some(throttle) = &self.throttle {
            throttle.check().map_err(|_| Failure::Throttled)?;
        }
        let permit = match &self.breaker {
            Some(breaker) => Some(breaker.try_acquire().map_err(|_| Failure::Rejected)?),
            None => None,
        };
        let result = match timeout(&self.clock, self.timeout, service.call(priority)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(Failure::Downstream(error)),
            Err(_) => Err(Failure::Timeout),
        };
        if let Some(permit) = permit {
            permit.record_outcome(if result.is_ok() {
                Outcome::Success
            } else {
                Outcome::Failure
            });
        }
        if let Some(throttle) = &self.throttle {
            // SRE's "accepts": the backend took the request (answered it,
            // even with an error) rather than refusing it for overload.
            if matches!(result, Ok(()) | Err(Failure::Downstream(CallError::Failed))) {
                throttle.accepted();
            }
        }
        result
    }
}
