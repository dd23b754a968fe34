//! The techniques composed around one async operation, in one documented
//! order.
//!
//! # Why a fixed order
//!
//! Whether a breaker sees every retry attempt or only the final result,
//! whether a shed request is retried, whether a total timeout covers the
//! backoff sleeps: with loose layers these depend on an order nobody wrote
//! down. A [`Pipeline`] fixes it, outermost first:
//!
//! 1. **shed** — admission at the door ([`ConcurrencyLimit`]). A refused
//!    call ends at once with [`Cause::Shed`]: it never ran, and this
//!    pipeline never retries it (retrying into your own overload protection
//!    only adds load). The permit is held for the whole call, retries
//!    included, and returned when the call ends or its future is dropped.
//! 2. **total timeout** — one deadline for everything inside: every attempt
//!    and every backoff sleep ([`Cause::TotalTimeout`]).
//! 3. **retry** — the [`Retry`] policy, with its budget and backoff. It sees
//!    each attempt's classified outcome and the server's hint.
//! 4. **breaker** — admission per attempt ([`CircuitBreaker`]): the breaker
//!    counts *each attempt*, so a burst of retries against a failing
//!    dependency trips it, and once open it stops the retries too. A
//!    rejection ([`Cause::Rejected`]) is not retried blindly: by default it
//!    ends the call; with [`retry_rejected`](PipelineBuilder::retry_rejected)
//!    it is retried only when the breaker says when it may admit again
//!    (its `retry_after`), no sooner than that (the retry after is the floor
//!    of the next delay, however long: the policy's `max_hint` caps
//!    servers' hints, not the breaker's), and only within the retry
//!    policy's attempts, budget and deadline and the total timeout.
//! 5. **attempt timeout** — a limit on each attempt
//!    ([`Cause::AttemptTimeout`]); an attempt that runs past it is dropped,
//!    counted as a failure by the breaker, and retried like a failure.
//!
//! Every stage is optional ([`Off`] by default) and costs nothing when off.
//!
//! # Classification
//!
//! One classifier (default: `Ok` succeeds, `Err` fails) decides each
//! attempt's [`Outcome`](resil_core::Outcome): the breaker records it, the
//! retry policy retries a failure, and the shed permit reports the final
//! one to an adaptive limit. So an `Ok(response)` with status 503 can be a
//! failure for all three at once, and a `Retry-After` the hint extractor
//! reads from it sets the floor of the next delay.
//!
//! # Cost
//!
//! A call allocates nothing of its own: the stages are borrowed, the
//! future lives where the caller awaits it, and the techniques' success
//! paths are allocation-free (a counting-allocator test pins it). The
//! limiter allocates only to queue a waiter.
//!
//! [`ConcurrencyLimit`]: resil_shed::ConcurrencyLimit
//! [`Retry`]: resil_retry::Retry
//! [`CircuitBreaker`]: resil_breaker::CircuitBreaker

mod call;
mod error;
mod stage;

use core::time::Duration;

use resil_core::ConfigError;
use resil_core::error::check_non_zero;

pub use call::PipelineCall;
pub use error::{Cause, PipelineError, Stage};
pub use stage::{BreakerStage, Next, Off, RetryStage, ShedStage, Stopped};

/// Shed → total timeout → retry → breaker → attempt timeout around an
/// async operation (see the [module docs](self) for what each stage does
/// and why in this order).
///
/// Cheap to clone when its stages are (the breaker and the limiter are
/// shared handles: clones of a pipeline share them).
///
/// # Examples
///
/// A dependency that fails twice, then answers: the retry policy waits out
/// its backoff on a virtual clock, and the breaker counts each attempt.
///
/// ```
/// use core::time::Duration;
/// use resil::Pipeline;
/// use resil::breaker::CircuitBreaker;
/// use resil::core::{Backoff, Clock, ManualClock};
/// use resil::retry::Retry;
/// use resil::shed::{ConcurrencyLimit, Fixed, Priority};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = ManualClock::new();
/// let breaker = CircuitBreaker::builder().clock(clock.clone()).build()?;
/// let pipeline = Pipeline::builder()
///     .shed(ConcurrencyLimit::builder(Fixed::try_from(100)?).clock(clock.clone()).build()?)
///     .retry(
///         Retry::builder()
///             .backoff(Backoff::constant(Duration::from_millis(100)).build()?)
///             .max_attempts(3)
///             .clock(clock.clone())
///             .build()?,
///     )
///     .breaker(breaker.clone())
///     .attempt_timeout(Duration::from_secs(1))
///     .build()?;
///
/// let mut failures = 2;
/// let call = pipeline
///     .call(async |_attempt| {
///         if failures > 0 {
///             failures -= 1;
///             Err("unavailable")
///         } else {
///             Ok("hello")
///         }
///     })
///     .priority(Priority::Critical)
///     .run(&clock);
/// let answer = clock.block_on(call).map_err(|e| e.to_string())?;
/// assert_eq!(answer, "hello");
/// assert_eq!(clock.now().since_origin(), Duration::from_millis(200)); // two backoff sleeps
/// assert_eq!(breaker.metrics().failures, 2); // each attempt counted
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Pipeline<S = Off, R = Off, K = Off> {
    shed: S,
    retry: R,
    breaker: K,
    settings: Settings,
}

/// The pipeline's own knobs, beside its stages.
#[derive(Clone, Copy, Debug, Default)]
struct Settings {
    total_timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    retry_rejected: bool,
}

/// Configures a [`Pipeline`]; made by [`Pipeline::builder`].
///
/// # Default
///
/// Every stage [`Off`], no timeouts, breaker rejections not retried.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct PipelineBuilder<S = Off, R = Off, K = Off> {
    stages: Pipeline<S, R, K>,
}

impl Pipeline {
    /// A builder with every stage off.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder {
            stages: Pipeline {
                shed: Off,
                retry: Off,
                breaker: Off,
                settings: Settings::default(),
            },
        }
    }
}

impl<S, R, K> PipelineBuilder<S, R, K> {
    /// Admission at the door: a [`ConcurrencyLimit`](resil_shed::ConcurrencyLimit)
    /// (or any [`ShedStage`]).
    pub fn shed<S2: ShedStage>(self, shed: S2) -> PipelineBuilder<S2, R, K> {
        let Pipeline {
            retry,
            breaker,
            settings,
            ..
        } = self.stages;
        PipelineBuilder {
            stages: Pipeline {
                shed,
                retry,
                breaker,
                settings,
            },
        }
    }

    /// The retry policy: a [`Retry`](resil_retry::Retry) (or any
    /// [`RetryStage`]).
    pub fn retry<R2: RetryStage>(self, retry: R2) -> PipelineBuilder<S, R2, K> {
        let Pipeline {
            shed,
            breaker,
            settings,
            ..
        } = self.stages;
        PipelineBuilder {
            stages: Pipeline {
                shed,
                retry,
                breaker,
                settings,
            },
        }
    }

    /// The per-attempt admission: a
    /// [`CircuitBreaker`](resil_breaker::CircuitBreaker) (or any
    /// [`BreakerStage`]).
    pub fn breaker<K2: BreakerStage>(self, breaker: K2) -> PipelineBuilder<S, R, K2> {
        let Pipeline {
            shed,
            retry,
            settings,
            ..
        } = self.stages;
        PipelineBuilder {
            stages: Pipeline {
                shed,
                retry,
                breaker,
                settings,
            },
        }
    }

    /// One limit on the whole call: every attempt and every sleep between.
    pub fn total_timeout(mut self, limit: Duration) -> Self {
        self.stages.settings.total_timeout = Some(limit);
        self
    }

    /// A limit on each attempt.
    pub fn attempt_timeout(mut self, limit: Duration) -> Self {
        self.stages.settings.attempt_timeout = Some(limit);
        self
    }

    /// Whether a breaker rejection is retried once the breaker's
    /// `retry_after` has passed (default: no, the call ends). A rejection
    /// without a known `retry_after` (forced open, half-open full) always
    /// ends the call.
    pub fn retry_rejected(mut self, retry: bool) -> Self {
        self.stages.settings.retry_rejected = retry;
        self
    }

    /// The pipeline.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if a timeout is zero (it would fail every call).
    pub fn build(self) -> Result<Pipeline<S, R, K>, ConfigError> {
        let settings = self.stages.settings;
        if let Some(limit) = settings.total_timeout {
            check_non_zero("total_timeout", limit)?;
        }
        if let Some(limit) = settings.attempt_timeout {
            check_non_zero("attempt_timeout", limit)?;
        }
        Ok(self.stages)
    }
}

impl<S, R, K> Pipeline<S, R, K> {
    /// The shed stage.
    pub fn shed(&self) -> &S {
        &self.shed
    }

    /// The retry stage.
    pub fn retry(&self) -> &R {
        &self.retry
    }

    /// The breaker stage.
    pub fn breaker(&self) -> &K {
        &self.breaker
    }

    /// The limit on the whole call, if any.
    pub fn total_timeout(&self) -> Option<Duration> {
        self.settings.total_timeout
    }

    /// The limit on each attempt, if any.
    pub fn attempt_timeout(&self) -> Option<Duration> {
        self.settings.attempt_timeout
    }
}
