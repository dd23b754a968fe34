//! Additive increase, multiplicative decrease: TCP Reno's congestion
//! avoidance, for calls.
//!
//! AIMD needs no latency model at all: it grows the limit slowly while calls
//! succeed and cuts it by a fixed ratio when one fails or takes longer than
//! a timeout. That makes it the most robust of the adaptive limits (it
//! cannot be fooled by latency noise) and the least precise: it finds the
//! load at which calls *start failing*, and saw-tooths just under it. Give
//! it a `timeout` at the latency you are willing to accept, and it will keep
//! latency under it.
//!
//! # What it does differently from Netflix's `AIMDLimit`
//!
//! - **Additive per round trip, not per call.** Netflix adds 1 for every
//!   successful call. A round trip brings back about `limit` calls, so that
//!   doubles the limit every round trip: exponential growth, which
//!   overshoots the capacity by up to 2× before the first slow response
//!   returns. Here each success adds `increase / limit`, so a round trip of
//!   successes adds `increase`, as TCP's congestion avoidance does.
//! - **One decrease per overload event.** When the limit is too high, every
//!   call started in the round trip before the first failure comes back
//!   late or failed. Netflix backs off for each of them, multiplying the
//!   ratio dozens of times, and the limit collapses to its minimum. Here a
//!   failure (or timeout) counts only if its call started at or after the
//!   last decrease ([`Sample::started`]); the rest are the same event.
//! - **No frozen small limits.** The estimate is an `f64`; each decrease
//!   lowers the limit by at least 1 (as Netflix's `min(limit − 1, …)` does),
//!   and increases of a fraction of a call accumulate.
//! - Like Netflix, it grows only while at least half of the limit is in use
//!   (the app-limited guard).
//!
//! # Convergence
//!
//! Against a server of fixed capacity C whose calls exceed the timeout
//! beyond T calls in flight, or fail beyond it, the limit saw-tooths between
//! `backoff_ratio × T − 1` and `T + 1`. Measured by `tests/convergence.rs`
//! (a closed loop; latency = base × max(1, in flight / C); failures beyond
//! 2C), from an initial limit of 20 and of 4C:
//!
//! - `timeout` = 1.2 × base (T = 1.2 C): **[1.09 C, 1.21 C]** at C = 100,
//!   [1.08 C, 1.20 C] at C = 400, [1.2 C, 1.3 C] at C = 10;
//! - no timeout reached (T = 2C, failures only): **[1.81 C, 2.01 C]**;
//! - latencies spread by up to +50% (timeout 1.7 × base): [1.03 C, 1.16 C].
//!
//! Growth is one call per round trip, so it takes about `C` round trips to
//! get there from far below (about 6,000 calls at C = 100); from above it
//! backs off by a tenth per round trip.

use core::time::Duration;

use resil_core::error::check_non_zero;
use resil_core::{ConfigError, Instant, Outcome};

use super::bounds::{Bounds, DEFAULT_INITIAL};
use super::{Limit, Sample};

const DEFAULT_BACKOFF_RATIO: f64 = 0.9;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_INCREASE: f64 = 1.0;

/// An AIMD concurrency limit: `+increase` per round trip of successes,
/// `× backoff_ratio` on a failure or a call slower than `timeout` (see the
/// [module docs](self) for how it avoids the pitfalls of Netflix's version).
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Instant, Outcome};
/// use resil_shed::{Aimd, Limit, Sample};
///
/// let mut limit = Aimd::builder().initial(10).timeout(Duration::from_millis(100)).build()?;
/// let at = Instant::from_nanos(1_000_000_000);
///
/// // Fast successes with the limit in use: about +1 per round trip of ten.
/// let fast = Sample::new(Duration::from_millis(20), 10, Outcome::Success, at);
/// for _ in 0..11 {
///     limit.update(&fast);
/// }
/// assert_eq!(limit.limit(), 11);
///
/// // A call slower than the timeout: × 0.9, floored.
/// let slow = Sample::new(Duration::from_millis(150), 11, Outcome::Success, at);
/// assert_eq!(limit.update(&slow), 9);
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Aimd {
    bounds: Bounds,
    estimate: f64,
    backoff_ratio: f64,
    timeout: Duration,
    increase: f64,
    /// When the limit last went down.
    last_decrease: Option<Instant>,
}

impl Aimd {
    /// A builder with the defaults listed on [`AimdBuilder`].
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::{Aimd, Limit};
    ///
    /// assert_eq!(Aimd::builder().build()?.limit(), 20);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn builder() -> AimdBuilder {
        AimdBuilder::default()
    }

    fn decrease(&mut self, at: Instant) {
        let lowered = (self.estimate * self.backoff_ratio).min(self.estimate - 1.0);
        self.estimate = self.bounds.clamp(lowered, self.bounds.min());
        self.last_decrease = Some(at);
    }
}

/// The defaults listed on [`AimdBuilder`].
///
/// ```
/// use resil_shed::{Aimd, Limit};
///
/// assert_eq!(Aimd::default().limit(), 20);
/// ```
impl Default for Aimd {
    fn default() -> Self {
        Aimd {
            bounds: Bounds::DEFAULT,
            estimate: f64::from(DEFAULT_INITIAL),
            backoff_ratio: DEFAULT_BACKOFF_RATIO,
            timeout: DEFAULT_TIMEOUT,
            increase: DEFAULT_INCREASE,
            last_decrease: None,
        }
    }
}

impl Limit for Aimd {
    fn limit(&self) -> u32 {
        self.bounds.limit(self.estimate)
    }

    fn update(&mut self, sample: &Sample) -> u32 {
        let dropped = match sample.outcome {
            Outcome::Ignored => return self.limit(),
            Outcome::Failure => true,
            Outcome::Success => sample.latency > self.timeout,
        };
        if dropped {
            // Calls started before the last decrease are the same event.
            if self.last_decrease.is_none_or(|t| sample.started() >= t) {
                self.decrease(sample.at);
            }
        } else if u64::from(sample.in_flight) * 2 >= u64::from(self.limit()) {
            // `estimate ≥ min ≥ 1`, so the step is at most `increase`.
            let grown = self.estimate + self.increase / self.estimate;
            self.estimate = self.bounds.clamp(grown, self.estimate);
        }
        self.limit()
    }
}

/// Configures an [`Aimd`] limit; made by [`Aimd::builder`].
///
/// # Default
///
/// - `initial`: 20, `min`: 1, `max`: 1000
/// - `backoff_ratio`: 0.9 (Netflix's)
/// - `timeout`: 5 s (Netflix's)
/// - `increase`: 1 per round trip of successes
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_shed::{Aimd, Limit};
///
/// let limit = Aimd::builder()
///     .initial(50)
///     .min(5)
///     .max(500)
///     .backoff_ratio(0.75)
///     .timeout(Duration::from_millis(250))
///     .increase(2.0)
///     .build()?;
/// assert_eq!(limit.limit(), 50);
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct AimdBuilder {
    initial: u32,
    min: u32,
    max: u32,
    backoff_ratio: f64,
    timeout: Duration,
    increase: f64,
}

impl Default for AimdBuilder {
    fn default() -> Self {
        AimdBuilder {
            initial: DEFAULT_INITIAL,
            min: Bounds::DEFAULT_MIN,
            max: Bounds::DEFAULT_MAX,
            backoff_ratio: DEFAULT_BACKOFF_RATIO,
            timeout: DEFAULT_TIMEOUT,
            increase: DEFAULT_INCREASE,
        }
    }
}

impl AimdBuilder {
    /// The limit to start from, in `[min, max]`. Default 20.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::{Aimd, Limit};
    ///
    /// assert_eq!(Aimd::builder().initial(64).build()?.limit(), 64);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn initial(mut self, initial: u32) -> Self {
        self.initial = initial;
        self
    }

    /// The lowest the limit goes, at least 1. Default 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::{Aimd, Limit, Sample};
    ///
    /// let mut limit = Aimd::builder().initial(4).min(4).build()?;
    /// let failed = Sample::new(Duration::from_millis(1), 4, Outcome::Failure, Instant::ZERO);
    /// assert_eq!(limit.update(&failed), 4);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn min(mut self, min: u32) -> Self {
        self.min = min;
        self
    }

    /// The highest the limit goes. Default 1000.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::{Aimd, Limit, Sample};
    ///
    /// let mut limit = Aimd::builder().initial(2).max(2).build()?;
    /// let ok = Sample::new(Duration::from_millis(1), 2, Outcome::Success, Instant::ZERO);
    /// for _ in 0..100 {
    ///     limit.update(&ok);
    /// }
    /// assert_eq!(limit.limit(), 2);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn max(mut self, max: u32) -> Self {
        self.max = max;
        self
    }

    /// What a drop multiplies the limit by, in `[0.5, 1)`; each drop lowers
    /// the limit by at least 1 whatever the ratio. Default 0.9.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails unless `ratio` is in `[0.5, 1)` (NaN is
    /// not).
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::{Aimd, Limit, Sample};
    ///
    /// let mut limit = Aimd::builder().initial(100).backoff_ratio(0.5).build()?;
    /// let failed = Sample::new(Duration::from_millis(1), 100, Outcome::Failure, Instant::ZERO);
    /// assert_eq!(limit.update(&failed), 50);
    /// assert!(Aimd::builder().backoff_ratio(1.0).build().is_err());
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn backoff_ratio(mut self, ratio: f64) -> Self {
        self.backoff_ratio = ratio;
        self
    }

    /// A successful call slower than this counts as a drop. Default 5 s.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails if `timeout` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::{Aimd, Limit, Sample};
    ///
    /// let mut limit = Aimd::builder().initial(10).timeout(Duration::from_secs(1)).build()?;
    /// let slow = Sample::new(Duration::from_secs(2), 10, Outcome::Success, Instant::ZERO);
    /// assert_eq!(limit.update(&slow), 9);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How much a round trip of successes adds to the limit (each success
    /// adds `increase / limit`). Default 1.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails unless `increase` is finite and greater
    /// than zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::{Aimd, Limit, Sample};
    ///
    /// let mut limit = Aimd::builder().initial(10).increase(5.0).build()?;
    /// let ok = Sample::new(Duration::from_millis(1), 10, Outcome::Success, Instant::ZERO);
    /// for _ in 0..10 {
    ///     limit.update(&ok);
    /// }
    /// assert_eq!(limit.limit(), 14); // each step is 5 / (the limit so far)
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn increase(mut self, increase: f64) -> Self {
        self.increase = increase;
        self
    }

    /// Validates the knobs and makes the limit.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the field if `min` is zero, `min > initial`,
    /// `initial > max`, `backoff_ratio` is not in `[0.5, 1)`, `timeout` is
    /// zero, or `increase` is not finite and positive.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Aimd;
    ///
    /// let err = Aimd::builder().initial(5).min(10).build().unwrap_err();
    /// assert_eq!(err.to_string(), "min (10) must not exceed initial (5)");
    /// let err = Aimd::builder().increase(f64::NAN).build().unwrap_err();
    /// assert_eq!(err.field(), "increase");
    /// ```
    pub fn build(self) -> Result<Aimd, ConfigError> {
        let bounds = Bounds::new(self.min, self.initial, self.max)?;
        let backoff_ratio = check_backoff_ratio(self.backoff_ratio)?;
        let timeout = check_non_zero("timeout", self.timeout)?;
        if !(self.increase.is_finite() && self.increase > 0.0) {
            return Err(ConfigError::invalid(
                "increase",
                self.increase,
                "a finite number greater than zero",
            ));
        }
        Ok(Aimd {
            bounds,
            estimate: f64::from(self.initial),
            backoff_ratio,
            timeout,
            increase: self.increase,
            last_decrease: None,
        })
    }
}

/// `ratio` must be in `[0.5, 1)`, as Netflix requires: below a half, one
/// drop throws away more than the last doubling; at 1, nothing decreases.
pub(crate) fn check_backoff_ratio(ratio: f64) -> Result<f64, ConfigError> {
    if (0.5..1.0).contains(&ratio) {
        Ok(ratio)
    } else {
        Err(ConfigError::invalid(
            "backoff_ratio",
            ratio,
            "a ratio in [0.5, 1)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn sample(start_ms: u64, end_ms: u64, in_flight: u32, outcome: Outcome) -> Sample {
        Sample::new(
            Duration::from_millis(end_ms - start_ms),
            in_flight,
            outcome,
            Instant::from_nanos(end_ms * MS),
        )
    }

    fn aimd(initial: u32) -> Aimd {
        Aimd::builder()
            .initial(initial)
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap()
    }

    #[test]
    fn a_round_trip_of_successes_adds_one() {
        let mut limit = aimd(100);
        for _ in 0..100 {
            limit.update(&sample(0, 10, 100, Outcome::Success));
        }
        // Each step is 1 / (the limit so far), a little under 1 / 100.
        assert!(
            (100.99..101.0).contains(&limit.estimate),
            "{}",
            limit.estimate
        );
        assert_eq!(limit.limit(), 100);
        limit.update(&sample(0, 10, 100, Outcome::Success));
        assert_eq!(limit.limit(), 101);
    }

    #[test]
    fn an_app_limited_success_does_not_grow_the_limit() {
        let mut limit = aimd(100);
        for _ in 0..1_000 {
            limit.update(&sample(0, 10, 49, Outcome::Success));
        }
        assert_eq!(limit.estimate, 100.0);
        limit.update(&sample(0, 10, 50, Outcome::Success));
        assert!(limit.estimate > 100.0);
    }

    #[test]
    fn one_overload_event_decreases_once() {
        let mut limit = aimd(100);
        // A round trip of calls started before the first failure came back.
        assert_eq!(limit.update(&sample(0, 50, 100, Outcome::Failure)), 90);
        for start in 0..50 {
            limit.update(&sample(start, 50 + start, 100, Outcome::Failure));
            limit.update(&sample(start, 200 + start, 100, Outcome::Success)); // timed out
        }
        assert_eq!(limit.limit(), 90);
        // A call started after the decrease that fails is news.
        assert_eq!(limit.update(&sample(50, 60, 90, Outcome::Failure)), 81);
    }

    #[test]
    fn each_decrease_lowers_the_limit_by_at_least_one() {
        let mut limit = Aimd::builder()
            .initial(5)
            .backoff_ratio(0.99)
            .build()
            .unwrap();
        let mut seen = [0; 6];
        for (i, end) in (1..=6).enumerate() {
            seen[i] = limit.update(&sample(end, end, 5, Outcome::Failure));
        }
        assert_eq!(seen, [4, 3, 2, 1, 1, 1]);
    }

    #[test]
    fn ignored_samples_change_nothing() {
        let mut limit = aimd(10);
        for _ in 0..100 {
            limit.update(&sample(0, 10_000, 10, Outcome::Ignored));
        }
        assert_eq!(limit.estimate, 10.0);
        assert_eq!(limit.last_decrease, None);
    }

    #[test]
    fn a_clock_that_never_moves_still_backs_off_on_every_failure() {
        let mut limit = aimd(100);
        let failed = Sample::new(Duration::ZERO, 100, Outcome::Failure, Instant::ZERO);
        assert_eq!(limit.update(&failed), 90);
        assert_eq!(limit.update(&failed), 81);
    }

    #[test]
    fn backoff_ratios_outside_half_to_one_are_rejected() {
        for ok in [0.5, 0.9, 1.0 - f64::EPSILON] {
            assert_eq!(check_backoff_ratio(ok), Ok(ok));
        }
        for bad in [0.0, 0.49, 1.0, f64::NAN, f64::INFINITY, -0.9] {
            assert_eq!(
                check_backoff_ratio(bad).unwrap_err().field(),
                "backoff_ratio"
            );
        }
    }
}
