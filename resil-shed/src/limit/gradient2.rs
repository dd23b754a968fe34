//! Gradient2: the limit follows the ratio of a baseline latency to the
//! current one, after Netflix's `Gradient2Limit`.
//!
//! Each round (see below) compares the round's mean latency, the *short*
//! RTT, with a *long* RTT standing for the latency without queueing:
//!
//! ```text
//! gradient  = clamp(tolerance × long / short, 0.5, 1)
//! target    = limit × gradient + queue_size
//! new limit = target                                  if target ≥ limit
//!           = limit + smoothing × (target − limit)    otherwise
//! ```
//!
//! While calls are no slower than `tolerance` × the baseline, the gradient
//! is 1 and the limit grows by `queue_size` a round. Beyond it, the
//! gradient falls below 1 and the limit shrinks towards the point where
//! latency is `tolerance` × the baseline. A failure counts as the steepest
//! gradient, 0.5, without the queue allowance: it multiplies the limit by
//! `1 − smoothing / 2`.
//!
//! # What it does differently from Netflix's `Gradient2Limit`
//!
//! - **The long RTT does not drift with the load.** Netflix's long RTT is an
//!   exponential average of *every* sample. Under sustained load every
//!   sample is queued, the average absorbs the queueing it is meant to
//!   detect, the gradient returns to 1 and the limit creeps up by
//!   `queue_size` a step until something fails (Netflix issue #137 and the
//!   2024 discussion on pull request #134); in the closed-loop simulation it
//!   reaches its maximum. Here the long RTT is *measured*: each probe round
//!   (every 30 to 60 round trips, at half the limit, or at the capacity the
//!   limit implies, `limit / tolerance − queue_size`, if lower) sets it to
//!   that round's mean latency; between probes it only moves down, towards
//!   samples faster than itself (by `1 / long_window` of the difference,
//!   and by Netflix's own drift fix: × 0.95 whenever it is more than twice
//!   the latest latency, so it recovers at once when an overload ends). A
//!   permanent latency shift is adopted at the next probe, so it does not
//!   collapse the limit either.
//! - **Failures are drops.** Netflix's version ignores them (issue #176): a
//!   server rejecting calls at once looks *fast*, and the limit grows.
//! - **Once per round, not per sample.** Netflix updates on every sample,
//!   so a round trip of samples all push the same way before the first
//!   effect is seen. Here the limit decides once per round: the calls that
//!   started after the previous decision, summarised when one round trip of
//!   them has come back (about every two round trips).
//! - **Smoothing slows decreases only**, as Netflix's documentation of it
//!   says ("to limit how aggressively the estimated limit can shrink"),
//!   though its code applies it both ways. Growth is `queue_size` a round.
//! - Like Netflix, it does not grow while less than half the limit is in
//!   use (the app-limited guard), and the estimate is an `f64`.
//!
//! # Convergence
//!
//! Against a server of fixed capacity C (`tests/convergence.rs`: a closed
//! loop; latency = base × max(1, in flight / C); failures beyond 2C) the
//! limit settles at `tolerance × C + queue_size`, and stays there: with the
//! defaults exactly ⌊1.5 C + 4⌋ (154 at C = 100, 604 at C = 400, 19 at
//! C = 10), from an initial limit of 20 or of 4C. With latencies spread by
//! up to +50%, within **[1.49 C, 1.62 C]** at C = 100 and [1.46 C, 1.52 C]
//! at C = 400. During a probe round it is half that (or less for C < 8,
//! where `queue_size` dominates).
//!
//! It grows by `queue_size` a round (about two round trips), so it takes
//! about 12,000 calls to get from 20 to C = 100, and 170,000 to C = 400: an
//! initial limit near the expected capacity pays off. From above, each
//! round moves a fifth of the way down.

use core::time::Duration;

use resil_core::error::{check_at_least, check_count, check_rate};
use resil_core::{ConfigError, Instant};

use super::bounds::{Bounds, DEFAULT_INITIAL};
use super::round::{Rounds, Step, Summary};
use super::{Limit, Sample};

const DEFAULT_TOLERANCE: f64 = 1.5;
const DEFAULT_SMOOTHING: f64 = 0.2;
const DEFAULT_QUEUE_SIZE: u32 = 4;
const DEFAULT_LONG_WINDOW: u32 = 600;
const DEFAULT_PROBE_MULTIPLIER: u32 = 60;

/// A Gradient2 concurrency limit: grows while latency stays within
/// `tolerance` of a measured baseline, and shrinks in proportion beyond it
/// (see the [module docs](self) for the algorithm and how it avoids the
/// drift of Netflix's version).
///
/// # Examples
///
/// Calls at the baseline latency grow the limit by `queue_size` a round;
/// calls at three times the baseline shrink it.
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Instant, Outcome};
/// use resil_shed::{Gradient2, Limit, Sample};
///
/// let mut limit = Gradient2::builder().initial(10).build()?;
/// // Rounds of calls each 10ms long, 10 in flight, back to back.
/// let round = |limit: &mut Gradient2, start_ms: u64, latency_ms: u64| {
///     for i in 0..10 {
///         let end = Instant::from_nanos((start_ms + latency_ms + i) * 1_000_000);
///         let latency = Duration::from_millis(latency_ms);
///         limit.update(&Sample::new(latency, 10, Outcome::Success, end));
///     }
/// };
/// round(&mut limit, 1, 10); // the first round: opens, nothing to judge
/// round(&mut limit, 30, 10); // closes the first round: +4
/// assert_eq!(limit.limit(), 14);
/// round(&mut limit, 60, 30); // three times slower: the gradient is 0.5
/// round(&mut limit, 120, 30);
/// assert!(limit.limit() < 14);
/// assert_eq!(limit.long_rtt(), Some(Duration::from_millis(10)));
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Gradient2 {
    bounds: Bounds,
    estimate: f64,
    tolerance: f64,
    smoothing: f64,
    queue_size: f64,
    long_window: f64,
    /// The baseline latency, in nanoseconds; `None` until the first success.
    long_rtt: Option<f64>,
    rounds: Rounds,
}

impl Gradient2 {
    /// A builder with the defaults listed on [`Gradient2Builder`].
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::{Gradient2, Limit};
    ///
    /// assert_eq!(Gradient2::builder().build()?.limit(), 20);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn builder() -> Gradient2Builder {
        Gradient2Builder::default()
    }

    /// The baseline latency the current one is compared with: the mean of
    /// the last probe round, lowered since by faster calls. `None` until the
    /// first success.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::{Gradient2, Limit, Sample};
    ///
    /// let mut limit = Gradient2::default();
    /// assert_eq!(limit.long_rtt(), None);
    /// let at = Instant::from_nanos(50_000_000);
    /// limit.update(&Sample::new(Duration::from_millis(40), 1, Outcome::Success, at));
    /// assert_eq!(limit.long_rtt(), Some(Duration::from_millis(40)));
    /// ```
    pub fn long_rtt(&self) -> Option<Duration> {
        // At most `u64::MAX` nanoseconds: the cast saturates.
        self.long_rtt
            .map(|nanos| Duration::from_nanos(nanos as u64))
    }

    /// Whether a probe round is under way: the limit is lowered for one
    /// round (to half, or to `limit / tolerance − queue_size` if lower) to
    /// re-measure the baseline.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Gradient2;
    ///
    /// assert!(!Gradient2::default().is_probing());
    /// ```
    pub fn is_probing(&self) -> bool {
        self.rounds.is_probing()
    }

    /// Folds a successful call's latency into the baseline: only faster
    /// calls move it, and only down.
    fn observe(&mut self, latency: f64) {
        let long = match self.long_rtt {
            None => latency,
            Some(mut long) => {
                if latency < long {
                    long += (latency - long) / self.long_window;
                }
                // Netflix's drift fix: recover at once after an overload.
                if long > 2.0 * latency {
                    long *= 0.95;
                }
                long
            }
        };
        self.long_rtt = Some(long);
    }

    fn decide(&mut self, round: Summary, at: Instant) {
        if u64::from(round.max_in_flight) * 2 < u64::from(self.limit()) {
            return; // app-limited: says nothing about a full limit
        }
        let long = self.long_rtt.unwrap_or(round.mean);
        let gradient = if round.mean > 0.0 {
            // Both finite and non-negative: the ratio is too, or +inf.
            (self.tolerance * long / round.mean).clamp(0.5, 1.0)
        } else {
            1.0
        };
        let target = self.estimate * gradient + self.queue_size;
        let next = if target >= self.estimate {
            target
        } else {
            self.estimate + self.smoothing * (target - self.estimate)
        };
        self.set(next, at);
    }

    fn set(&mut self, next: f64, at: Instant) {
        self.estimate = self.rounds.set(self.bounds, self.estimate, next, at);
    }
}

/// The defaults listed on [`Gradient2Builder`].
///
/// ```
/// use resil_shed::{Gradient2, Limit};
///
/// assert_eq!(Gradient2::default().limit(), 20);
/// ```
impl Default for Gradient2 {
    fn default() -> Self {
        Gradient2::from_builder(&Gradient2Builder::default(), Bounds::DEFAULT)
    }
}

impl Limit for Gradient2 {
    fn limit(&self) -> u32 {
        if self.rounds.is_probing() {
            // Half, or the capacity the limit implies if that is lower (a
            // large tolerance or queue size): either way, below capacity.
            let capacity = self.estimate / self.tolerance - self.queue_size;
            let probe = (self.estimate / 2.0).min(capacity);
            self.bounds.limit(probe.max(self.bounds.min()))
        } else {
            self.bounds.limit(self.estimate)
        }
    }

    fn update(&mut self, sample: &Sample) -> u32 {
        if sample.outcome.is_success() {
            self.observe(sample.latency_nanos() as f64);
        }
        match self.rounds.step(sample, self.estimate) {
            Step::Hold => {}
            Step::Drop => self.set(self.estimate * (1.0 - self.smoothing / 2.0), sample.at),
            Step::Decide(round) => self.decide(round, sample.at),
            Step::Rebase(round) => self.long_rtt = Some(round.mean),
        }
        self.limit()
    }
}

/// Configures a [`Gradient2`] limit; made by [`Gradient2::builder`].
///
/// # Default
///
/// - `initial`: 20, `min`: 1, `max`: 1000 (Netflix: 20, 20 and 200)
/// - `tolerance`: 1.5 — latency up to 1.5 × the baseline is not queueing
/// - `smoothing`: 0.2 — a decrease moves a fifth of the way to its target
/// - `queue_size`: 4 — the growth per round, and the headroom at equilibrium
/// - `long_window`: 600 — how many samples the baseline takes to follow
///   faster calls
/// - `probe_multiplier`: 60 — a probe round every 30 to 60 round trips
///
/// # Examples
///
/// ```
/// use resil_shed::{Gradient2, Limit};
///
/// let limit = Gradient2::builder()
///     .initial(100)
///     .min(10)
///     .max(2_000)
///     .tolerance(2.0)
///     .smoothing(0.5)
///     .queue_size(8)
///     .long_window(100)
///     .probe_multiplier(120)
///     .build()?;
/// assert_eq!(limit.limit(), 100);
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Gradient2Builder {
    initial: u32,
    min: u32,
    max: u32,
    tolerance: f64,
    smoothing: f64,
    queue_size: u32,
    long_window: u32,
    probe_multiplier: u32,
}

impl Default for Gradient2Builder {
    fn default() -> Self {
        Gradient2Builder {
            initial: DEFAULT_INITIAL,
            min: Bounds::DEFAULT_MIN,
            max: Bounds::DEFAULT_MAX,
            tolerance: DEFAULT_TOLERANCE,
            smoothing: DEFAULT_SMOOTHING,
            queue_size: DEFAULT_QUEUE_SIZE,
            long_window: DEFAULT_LONG_WINDOW,
            probe_multiplier: DEFAULT_PROBE_MULTIPLIER,
        }
    }
}

impl Gradient2Builder {
    /// The limit to start from, in `[min, max]`. Default 20.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::{Gradient2, Limit};
    ///
    /// assert_eq!(Gradient2::builder().initial(200).build()?.limit(), 200);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn initial(mut self, initial: u32) -> Self {
        self.initial = initial;
        self
    }

    /// The lowest the limit goes (probe rounds included), at least 1.
    /// Default 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Gradient2;
    ///
    /// assert_eq!(Gradient2::builder().min(0).build().unwrap_err().field(), "min");
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
    /// use resil_shed::Gradient2;
    ///
    /// let err = Gradient2::builder().max(10).build().unwrap_err();
    /// assert_eq!(err.to_string(), "initial (20) must not exceed max (10)");
    /// ```
    pub fn max(mut self, max: u32) -> Self {
        self.max = max;
        self
    }

    /// How much slower than the baseline calls may be before it counts as
    /// queueing, at least 1: the limit settles where latency is this times
    /// the baseline. Default 1.5.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails unless `tolerance` is finite and at
    /// least 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Gradient2;
    ///
    /// assert!(Gradient2::builder().tolerance(1.0).build().is_ok());
    /// assert_eq!(Gradient2::builder().tolerance(0.9).build().unwrap_err().field(), "tolerance");
    /// ```
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The fraction of the way to its target a decrease moves, in `(0, 1]`.
    /// Default 0.2.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails unless `smoothing` is in `(0, 1]`.
    ///
    /// # Examples
    ///
    /// A failure is the steepest gradient: with a smoothing of 1 it halves
    /// the limit.
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::{Gradient2, Limit, Sample};
    ///
    /// let mut limit = Gradient2::builder().initial(100).smoothing(1.0).build()?;
    /// let failed = Sample::new(Duration::from_millis(1), 100, Outcome::Failure, Instant::ZERO);
    /// assert_eq!(limit.update(&failed), 50);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn smoothing(mut self, smoothing: f64) -> Self {
        self.smoothing = smoothing;
        self
    }

    /// How much the limit grows per round while latency is within
    /// `tolerance`, and the headroom it keeps above `tolerance` × the
    /// capacity at equilibrium; at least 1. Default 4.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Gradient2;
    ///
    /// assert_eq!(Gradient2::builder().queue_size(0).build().unwrap_err().field(), "queue_size");
    /// ```
    pub fn queue_size(mut self, queue_size: u32) -> Self {
        self.queue_size = queue_size;
        self
    }

    /// How quickly the baseline follows calls faster than itself: by
    /// `1 / long_window` of the difference per call; at least 1. Default
    /// 600 (Netflix's long window).
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::{Gradient2, Limit, Sample};
    ///
    /// let mut limit = Gradient2::builder().long_window(1).build()?;
    /// let at = Instant::from_nanos(1_000_000_000);
    /// for ms in [30, 20] {
    ///     let latency = Duration::from_millis(ms);
    ///     limit.update(&Sample::new(latency, 1, Outcome::Success, at));
    /// }
    /// assert_eq!(limit.long_rtt(), Some(Duration::from_millis(20)));
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn long_window(mut self, samples: u32) -> Self {
        self.long_window = samples;
        self
    }

    /// How often a probe round re-measures the baseline: after
    /// `probe_multiplier × limit` successes, times a jitter in `[0.5, 1)` —
    /// about every 30 to 60 round trips at the default of 60. At least 1.
    ///
    /// A probe lowers the limit for one round (about two round trips), so
    /// it costs throughput: in the closed-loop simulation, 0.7% at the
    /// default, twice that at Netflix's 30. Rarer probes cost less, but a
    /// latency shift takes longer to be adopted.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Gradient2;
    ///
    /// let err = Gradient2::builder().probe_multiplier(0).build().unwrap_err();
    /// assert_eq!(err.field(), "probe_multiplier");
    /// ```
    pub fn probe_multiplier(mut self, multiplier: u32) -> Self {
        self.probe_multiplier = multiplier;
        self
    }

    /// Validates the knobs and makes the limit.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the field if `min` is zero, `min > initial`,
    /// `initial > max`, `tolerance` is below 1 or not finite, `smoothing` is
    /// not in `(0, 1]`, or `queue_size`, `long_window` or `probe_multiplier`
    /// is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Gradient2;
    ///
    /// let err = Gradient2::builder().smoothing(f64::NAN).build().unwrap_err();
    /// assert_eq!(err.to_string(), "invalid smoothing: got NaN, expected a rate in (0, 1]");
    /// ```
    pub fn build(self) -> Result<Gradient2, ConfigError> {
        let bounds = Bounds::new(self.min, self.initial, self.max)?;
        check_at_least("tolerance", self.tolerance, 1.0, "at least 1")?;
        check_rate("smoothing", self.smoothing)?;
        check_count("queue_size", self.queue_size.into(), 1, "at least 1")?;
        check_count("long_window", self.long_window.into(), 1, "at least 1")?;
        check_count(
            "probe_multiplier",
            self.probe_multiplier.into(),
            1,
            "at least 1",
        )?;
        Ok(Gradient2::from_builder(&self, bounds))
    }
}

impl Gradient2 {
    /// The limit `builder` describes; its values must be valid.
    fn from_builder(builder: &Gradient2Builder, bounds: Bounds) -> Self {
        let estimate = f64::from(builder.initial);
        Gradient2 {
            bounds,
            estimate,
            tolerance: builder.tolerance,
            smoothing: builder.smoothing,
            queue_size: f64::from(builder.queue_size),
            long_window: f64::from(builder.long_window),
            long_rtt: None,
            rounds: Rounds::new(builder.probe_multiplier, estimate),
        }
    }
}

#[cfg(test)]
mod tests {
    use resil_core::Outcome;

    use super::*;

    const MS: u64 = 1_000_000;

    fn sample(start_ms: u64, latency_ms: u64, in_flight: u32, outcome: Outcome) -> Sample {
        Sample::new(
            Duration::from_millis(latency_ms),
            in_flight,
            outcome,
            Instant::from_nanos((start_ms + latency_ms) * MS),
        )
    }

    /// A limit that never probes in these tests.
    fn gradient2(initial: u32) -> Gradient2 {
        Gradient2::builder()
            .initial(initial)
            .probe_multiplier(u32::MAX)
            .build()
            .unwrap()
    }

    /// Feeds one closed round of `n` calls of `latency_ms` that started
    /// after `start_ms`, and the call that closes it; returns the time after.
    fn round(limit: &mut Gradient2, start_ms: u64, latency_ms: u64, in_flight: u32) -> u64 {
        for i in 0..u64::from(in_flight) {
            limit.update(&sample(
                start_ms + 1 + i % 2,
                latency_ms,
                in_flight,
                Outcome::Success,
            ));
        }
        let closing = start_ms + 2 + latency_ms + 1;
        limit.update(&sample(closing, latency_ms, in_flight, Outcome::Success));
        closing + latency_ms
    }

    #[test]
    fn within_tolerance_the_limit_grows_by_the_queue_size_per_round() {
        let mut limit = gradient2(10);
        let mut t = 0;
        let mut seen = [0; 4];
        for slot in &mut seen {
            let in_flight = limit.limit();
            t = round(&mut limit, t, 10, in_flight);
            *slot = limit.limit();
        }
        assert_eq!(seen, [14, 18, 22, 26]);
        // 1.4 × the baseline is within the tolerance of 1.5.
        round(&mut limit, t, 14, 26);
        assert_eq!(limit.limit(), 30);
    }

    #[test]
    fn beyond_tolerance_the_limit_shrinks_in_proportion() {
        let mut limit = gradient2(100);
        let t = round(&mut limit, 0, 10, 100); // sets the baseline at 10ms
        assert_eq!(limit.estimate, 104.0);
        // 3 × the baseline: gradient 0.5, target 56, a fifth of the way.
        round(&mut limit, t, 30, 100);
        let expected = 104.0 + 0.2 * (56.0 - 104.0);
        assert!(
            (limit.estimate - expected).abs() < 1e-9,
            "{}",
            limit.estimate
        );
        assert_eq!(limit.limit(), 94);
    }

    #[test]
    fn an_app_limited_round_holds() {
        let mut limit = gradient2(100);
        let mut t = 0;
        for _ in 0..5 {
            t = round(&mut limit, t, 10, 49);
        }
        assert_eq!(limit.estimate, 100.0);
    }

    #[test]
    fn the_baseline_moves_only_down_between_probes() {
        let ms = MS as f64;
        let mut limit = gradient2(10);
        limit.observe(10.0 * ms);
        for _ in 0..1_000 {
            limit.observe(15.0 * ms);
        }
        assert_eq!(limit.long_rtt, Some(10.0 * ms));
        // A faster call: 1/600 of the way.
        limit.observe(6.0 * ms);
        let expected = 10.0 * ms + (6.0 * ms - 10.0 * ms) / 600.0;
        assert_eq!(limit.long_rtt, Some(expected));
        // More than twice a call's latency: Netflix's 0.95 as well.
        limit.observe(1.0 * ms);
        let expected = (expected + (1.0 * ms - expected) / 600.0) * 0.95;
        assert_eq!(limit.long_rtt, Some(expected));
    }

    #[test]
    fn a_failure_is_the_steepest_gradient_once_per_event() {
        let mut limit = gradient2(100);
        assert_eq!(limit.update(&sample(0, 5, 100, Outcome::Failure)), 90);
        // In flight at the decrease: the same event.
        assert_eq!(limit.update(&sample(1, 5, 100, Outcome::Failure)), 90);
        assert_eq!(limit.update(&sample(5, 5, 90, Outcome::Failure)), 81);
    }

    #[test]
    fn zero_latencies_never_make_a_nan() {
        let mut limit = gradient2(10);
        for i in 0..100 {
            let at = Instant::from_nanos(i * MS);
            limit.update(&Sample::new(Duration::ZERO, 10, Outcome::Success, at));
        }
        assert!(limit.estimate.is_finite());
        assert_eq!(limit.long_rtt(), Some(Duration::ZERO));
        // A round of instant calls is within tolerance: 10, 14, 18, 22,
        // then 10 in flight is under half the limit (app-limited).
        assert_eq!(limit.limit(), 22);
    }

    #[test]
    fn a_round_at_exactly_half_the_limit_is_judged() {
        let mut limit = gradient2(100);
        round(&mut limit, 0, 10, 50);
        assert_eq!(limit.estimate, 104.0);
    }

    #[test]
    fn the_baseline_shrinks_by_a_twentieth_only_when_more_than_twice_a_latency() {
        let ms = MS as f64;
        let mut limit = Gradient2::builder().long_window(2).build().unwrap();
        limit.observe(45.0 * ms);
        // Half way down to 15ms is 30ms: exactly twice, so no 0.95.
        limit.observe(15.0 * ms);
        assert_eq!(limit.long_rtt, Some(30.0 * ms));
    }

    #[test]
    fn a_decision_held_at_max_is_not_a_decrease() {
        let mut limit = Gradient2::builder()
            .initial(100)
            .max(100)
            .probe_multiplier(u32::MAX)
            .build()
            .unwrap();
        let t = round(&mut limit, 0, 10, 100); // would grow: clamped to 100
        assert_eq!(limit.limit(), 100);
        // A failure of a call started before that decision is a fresh event.
        assert_eq!(limit.update(&sample(t - 5, 10, 100, Outcome::Failure)), 90);
    }

    #[test]
    fn a_probe_lowers_to_the_capacity_the_limit_implies_when_below_half() {
        let mut limit = Gradient2::builder()
            .initial(100)
            .tolerance(4.0)
            .queue_size(1)
            .probe_multiplier(1)
            .build()
            .unwrap();
        // One call in flight: app-limited, so the estimate holds at 100
        // until the probe, after 50 to 99 successes.
        let mut ms = 0;
        while !limit.is_probing() && ms < 1_000 {
            limit.update(&sample(ms, 10, 1, Outcome::Success));
            ms += 1;
        }
        assert!(limit.is_probing());
        assert_eq!(limit.estimate, 100.0);
        // 100 / 4 − 1 = 24, below half of 100.
        assert_eq!(limit.limit(), 24);
    }
}
