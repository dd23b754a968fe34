//! Vegas: the limit holds a small, measured queue, after TCP Vegas and
//! Netflix's `VegasLimit`.
//!
//! Vegas estimates how many of the limit's calls are *queued* rather than
//! being served. If the dependency served `limit` calls with no queue in
//! `rtt_noload`, but they take `rtt`, then
//!
//! ```text
//! queue = limit × (1 − rtt_noload / rtt)
//! ```
//!
//! of them are waiting. Each round it aims to keep that queue between
//! `alpha` and `beta` calls, both scaled by `log10(limit)` as Netflix does
//! (a big limit tolerates a bigger queue), with `lg = max(1, log10(limit))`:
//!
//! | estimated queue | change |
//! |---|---|
//! | ≤ lg | `+ beta × lg` (nothing queues: grow fast) |
//! | < `alpha × lg` | `+ lg` |
//! | > `beta × lg` | `− max(lg, (queue − beta × lg) / 2)` |
//! | otherwise | none |
//!
//! A failure multiplies the limit by `backoff_ratio` (and lowers it by at
//! least 1).
//!
//! `rtt` is the round's *minimum* latency (as Linux's `tcp_vegas` takes it),
//! so a single slow call does not read as queueing, and `rtt_noload` is the
//! smallest latency seen since the last probe round.
//!
//! # What it does differently from Netflix's `VegasLimit`
//!
//! - **The no-load latency is re-measured without drifting.** Netflix's
//!   first versions never reset `rtt_noload`, so a permanent latency shift
//!   read as endless queueing and the limit collapsed to its minimum (in
//!   the closed-loop simulation: from 112 to 8 when the base latency
//!   triples). Its later probe sets `rtt_noload` to whatever the next
//!   sample says, under load: a queued latency becomes the baseline, the
//!   queue reads as empty, the limit grows by `beta` until the queue is
//!   `beta` again, and each probe ratchets it up. Here a probe round lowers
//!   the limit for one round (to half, or to `limit − beta × lg` if that is
//!   lower), so its calls meet no queue, and their minimum
//!   latency is the new `rtt_noload`: a shift is adopted, queueing is not.
//! - **Once per round, not per sample.** Netflix moves by `log10(limit)`
//!   on every sample, up to `limit × log10(limit)` per round trip before
//!   the effect shows, and swings between 1 and four times the capacity in
//!   the closed-loop model. Here the limit decides once per round.
//! - **Large queues shrink fast.** Stepping down by `log10(limit)` a round
//!   would take a hundred rounds to drain a queue of 300; the step grows to
//!   half the excess queue.
//! - **Failures are drops, decided once per event**, by `backoff_ratio`
//!   (Netflix subtracts `log10(limit)` for each failed sample); a failure's
//!   latency is never taken for the no-load latency (a fast rejection would
//!   pin it near zero).
//! - **No integer staircase.** Netflix computes `(int) log10(limit)`, so
//!   `alpha` jumps from 3 to 6 at a limit of 100; here `log10` is continuous,
//!   and the estimate an `f64`.
//! - Like Netflix, it does not grow while less than half the limit is in
//!   use (the app-limited guard).
//!
//! One weakness is Vegas's own: `rtt_noload` is a minimum, so an unusually
//! fast call (a cached response, say) lowers it until the next probe round,
//! and the limit shrinks meanwhile. [`Gradient2`](super::Gradient2)
//! averages instead.
//!
//! # Convergence
//!
//! Against a server of fixed capacity C (`tests/convergence.rs`: a closed
//! loop; latency = base × max(1, in flight / C); failures beyond 2C) the
//! limit settles at C plus a queue of `alpha` to `beta` × lg, within
//! **[C + 3 lg, C + 6 lg + 1]**: 111 or 112 at C = 100, 410 to 413 at
//! C = 400, 17 at C = 10, from an initial limit of 20 or of 4C. With
//! latencies spread by up to +50%, 107 to 109 at C = 100. During a probe
//! round it is half that (less for C < 10: `limit − beta × lg`).
//!
//! It grows by `beta × lg` a round while nothing queues, so it gets from 20
//! to C = 100 in about 3,000 calls, and to C = 400 in about 30,000.

use core::f64::consts::{LN_2, LN_10};
use core::time::Duration;

use resil_core::error::{check_count, check_ordered};
use resil_core::{ConfigError, Instant};

use super::aimd::check_backoff_ratio;
use super::bounds::{Bounds, DEFAULT_INITIAL};
use super::round::{Rounds, Step, Summary};
use super::{Limit, Sample};

const DEFAULT_ALPHA: f64 = 3.0;
const DEFAULT_BETA: f64 = 6.0;
const DEFAULT_BACKOFF_RATIO: f64 = 0.9;
const DEFAULT_PROBE_MULTIPLIER: u32 = 60;

/// A Vegas concurrency limit: keeps an estimated queue of `alpha` to `beta`
/// × `log10(limit)` calls (see the [module docs](self) for the algorithm and
/// how it avoids the pitfalls of Netflix's version).
///
/// # Examples
///
/// Calls as fast as the fastest seen grow the limit quickly; calls twice as
/// slow (half of them queued) shrink it.
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Instant, Outcome};
/// use resil_shed::{Limit, Sample, Vegas};
///
/// let mut limit = Vegas::builder().initial(100).build()?;
/// // Rounds of 100 calls, back to back.
/// let round = |limit: &mut Vegas, start_ms: u64, latency_ms: u64| {
///     for i in 0..100 {
///         let end = Instant::from_nanos((start_ms + latency_ms + i / 10) * 1_000_000);
///         let latency = Duration::from_millis(latency_ms);
///         limit.update(&Sample::new(latency, 100, Outcome::Success, end));
///     }
/// };
/// round(&mut limit, 1, 10);
/// round(&mut limit, 30, 10); // no queue: + 6 × log10(100)
/// assert_eq!(limit.limit(), 112);
/// assert_eq!(limit.rtt_noload(), Some(Duration::from_millis(10)));
/// round(&mut limit, 60, 20);
/// round(&mut limit, 100, 20); // a queue of 56: well above 12
/// assert_eq!(limit.limit(), 90);
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Vegas {
    bounds: Bounds,
    estimate: f64,
    alpha: f64,
    beta: f64,
    backoff_ratio: f64,
    /// The smallest latency since the last probe, in nanoseconds.
    rtt_noload: Option<u64>,
    rounds: Rounds,
}

impl Vegas {
    /// A builder with the defaults listed on [`VegasBuilder`].
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::{Limit, Vegas};
    ///
    /// assert_eq!(Vegas::builder().build()?.limit(), 20);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn builder() -> VegasBuilder {
        VegasBuilder::default()
    }

    /// The latency of a call that meets no queue: the smallest since the
    /// last probe round. `None` until the first success.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::{Limit, Sample, Vegas};
    ///
    /// let mut limit = Vegas::default();
    /// assert_eq!(limit.rtt_noload(), None);
    /// let at = Instant::from_nanos(1_000_000_000);
    /// for ms in [30, 20, 25] {
    ///     let latency = Duration::from_millis(ms);
    ///     limit.update(&Sample::new(latency, 1, Outcome::Success, at));
    /// }
    /// assert_eq!(limit.rtt_noload(), Some(Duration::from_millis(20)));
    /// ```
    pub fn rtt_noload(&self) -> Option<Duration> {
        self.rtt_noload.map(Duration::from_nanos)
    }

    /// Whether a probe round is under way: the limit is lowered for one
    /// round (to half, or to `limit − beta × log10(limit)` if lower) to
    /// re-measure `rtt_noload`.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Vegas;
    ///
    /// assert!(!Vegas::default().is_probing());
    /// ```
    pub fn is_probing(&self) -> bool {
        self.rounds.is_probing()
    }

    fn decide(&mut self, round: Summary, at: Instant) {
        if u64::from(round.max_in_flight) * 2 < u64::from(self.limit()) {
            return; // app-limited: says nothing about a full limit
        }
        let noload = self.rtt_noload.unwrap_or(round.min) as f64;
        let rtt = round.min as f64;
        // `rtt > noload ≥ 0`, so the ratio is in [0, 1).
        let queue = if rtt > noload {
            self.estimate * (1.0 - noload / rtt)
        } else {
            0.0
        };
        let lg = log10(self.estimate).max(1.0);
        let (alpha, beta) = (self.alpha * lg, self.beta * lg);
        let next = if queue <= lg {
            self.estimate + beta
        } else if queue < alpha {
            self.estimate + lg
        } else if queue > beta {
            self.estimate - lg.max((queue - beta) / 2.0)
        } else {
            return;
        };
        self.set(next, at);
    }

    fn set(&mut self, next: f64, at: Instant) {
        self.estimate = self.rounds.set(self.bounds, self.estimate, next, at);
    }
}

/// The defaults listed on [`VegasBuilder`].
///
/// ```
/// use resil_shed::{Limit, Vegas};
///
/// assert_eq!(Vegas::default().limit(), 20);
/// ```
impl Default for Vegas {
    fn default() -> Self {
        Vegas::from_builder(&VegasBuilder::default(), Bounds::DEFAULT)
    }
}

impl Limit for Vegas {
    fn limit(&self) -> u32 {
        if self.rounds.is_probing() {
            // Half, or the limit less the largest queue it keeps if that is
            // lower (small limits): either way, below capacity.
            let lg = log10(self.estimate).max(1.0);
            let probe = (self.estimate / 2.0).min(self.estimate - self.beta * lg);
            self.bounds.limit(probe.max(self.bounds.min()))
        } else {
            self.bounds.limit(self.estimate)
        }
    }

    fn update(&mut self, sample: &Sample) -> u32 {
        if sample.outcome.is_success() {
            let latency = sample.latency_nanos();
            self.rtt_noload = Some(self.rtt_noload.map_or(latency, |min| min.min(latency)));
        }
        match self.rounds.step(sample, self.estimate) {
            Step::Hold => {}
            Step::Drop => {
                let lowered = (self.estimate * self.backoff_ratio).min(self.estimate - 1.0);
                self.set(lowered, sample.at);
            }
            Step::Decide(round) => self.decide(round, sample.at),
            Step::Rebase(round) => self.rtt_noload = Some(round.min),
        }
        self.limit()
    }
}

/// Configures a [`Vegas`] limit; made by [`Vegas::builder`].
///
/// # Default
///
/// - `initial`: 20, `min`: 1, `max`: 1000 (Netflix's, with its implicit
///   minimum of 1)
/// - `alpha`: 3 and `beta`: 6, times `log10(limit)` (Netflix's)
/// - `backoff_ratio`: 0.9 — what a failure multiplies the limit by
/// - `probe_multiplier`: 60 — a probe round every 30 to 60 round trips
///   (twice Netflix's multiplier, as its probes cost nothing and these
///   lower the limit for a round)
///
/// # Examples
///
/// ```
/// use resil_shed::{Limit, Vegas};
///
/// let limit = Vegas::builder()
///     .initial(50)
///     .min(5)
///     .max(5_000)
///     .alpha(2.0)
///     .beta(4.0)
///     .backoff_ratio(0.8)
///     .probe_multiplier(100)
///     .build()?;
/// assert_eq!(limit.limit(), 50);
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct VegasBuilder {
    initial: u32,
    min: u32,
    max: u32,
    alpha: f64,
    beta: f64,
    backoff_ratio: f64,
    probe_multiplier: u32,
}

impl Default for VegasBuilder {
    fn default() -> Self {
        VegasBuilder {
            initial: DEFAULT_INITIAL,
            min: Bounds::DEFAULT_MIN,
            max: Bounds::DEFAULT_MAX,
            alpha: DEFAULT_ALPHA,
            beta: DEFAULT_BETA,
            backoff_ratio: DEFAULT_BACKOFF_RATIO,
            probe_multiplier: DEFAULT_PROBE_MULTIPLIER,
        }
    }
}

impl VegasBuilder {
    /// The limit to start from, in `[min, max]`. Default 20.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::{Limit, Vegas};
    ///
    /// assert_eq!(Vegas::builder().initial(1).build()?.limit(), 1);
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
    /// use resil_shed::Vegas;
    ///
    /// let err = Vegas::builder().min(30).build().unwrap_err();
    /// assert_eq!(err.to_string(), "min (30) must not exceed initial (20)");
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
    /// use resil_shed::{Limit, Vegas};
    ///
    /// assert_eq!(Vegas::builder().initial(7).max(7).build()?.limit(), 7);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn max(mut self, max: u32) -> Self {
        self.max = max;
        self
    }

    /// The smallest queue to keep, times `log10(limit)`; greater than zero
    /// and at most `beta`. Default 3.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails unless `0 < alpha ≤ beta`, both finite.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Vegas;
    ///
    /// let err = Vegas::builder().alpha(8.0).build().unwrap_err();
    /// assert_eq!(err.to_string(), "alpha (8.0) must not exceed beta (6.0)");
    /// ```
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// The largest queue to keep, times `log10(limit)`; at least `alpha`.
    /// Default 6.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails unless `0 < alpha ≤ beta`, both finite.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Vegas;
    ///
    /// assert_eq!(Vegas::builder().beta(f64::INFINITY).build().unwrap_err().field(), "beta");
    /// ```
    pub fn beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }

    /// What a failure multiplies the limit by, in `[0.5, 1)`; each drop
    /// lowers the limit by at least 1. Default 0.9.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails unless `ratio` is in `[0.5, 1)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::{Limit, Sample, Vegas};
    ///
    /// let mut limit = Vegas::builder().initial(100).backoff_ratio(0.5).build()?;
    /// let failed = Sample::new(Duration::from_millis(1), 100, Outcome::Failure, Instant::ZERO);
    /// assert_eq!(limit.update(&failed), 50);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn backoff_ratio(mut self, ratio: f64) -> Self {
        self.backoff_ratio = ratio;
        self
    }

    /// How often a probe round re-measures `rtt_noload`: after
    /// `probe_multiplier × limit` successes, times a jitter in `[0.5, 1)` —
    /// about every 30 to 60 round trips at the default of 60. At least 1.
    ///
    /// A probe lowers the limit for one round (about two round trips), so
    /// it costs throughput: in the closed-loop simulation, 2% at the
    /// default, twice that at Netflix's 30. Rarer probes cost less, but a
    /// latency shift takes longer to be adopted.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Vegas;
    ///
    /// assert!(Vegas::builder().probe_multiplier(u32::MAX).build().is_ok());
    /// assert!(Vegas::builder().probe_multiplier(0).build().is_err());
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
    /// `initial > max`, `alpha` is not finite and positive, `beta` is not
    /// finite, `alpha > beta`, `backoff_ratio` is not in `[0.5, 1)`, or
    /// `probe_multiplier` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::Vegas;
    ///
    /// let err = Vegas::builder().alpha(0.0).build().unwrap_err();
    /// assert_eq!(err.to_string(), "invalid alpha: got 0.0, expected a finite number greater than zero");
    /// ```
    pub fn build(self) -> Result<Vegas, ConfigError> {
        let bounds = Bounds::new(self.min, self.initial, self.max)?;
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(ConfigError::invalid(
                "alpha",
                self.alpha,
                "a finite number greater than zero",
            ));
        }
        if !self.beta.is_finite() {
            return Err(ConfigError::invalid("beta", self.beta, "a finite number"));
        }
        check_ordered("alpha", self.alpha, "beta", self.beta)?;
        check_backoff_ratio(self.backoff_ratio)?;
        check_count(
            "probe_multiplier",
            self.probe_multiplier.into(),
            1,
            "at least 1",
        )?;
        Ok(Vegas::from_builder(&self, bounds))
    }
}

impl Vegas {
    /// The limit `builder` describes; its values must be valid.
    fn from_builder(builder: &VegasBuilder, bounds: Bounds) -> Self {
        let estimate = f64::from(builder.initial);
        Vegas {
            bounds,
            estimate,
            alpha: builder.alpha,
            beta: builder.beta,
            backoff_ratio: builder.backoff_ratio,
            rtt_noload: None,
            rounds: Rounds::new(builder.probe_multiplier, estimate),
        }
    }
}

/// `log10(x)` for `x ≥ 1`, and 0 below (or for NaN), in plain arithmetic:
/// `core` has no logarithm, and a hand-written one gives the same bits on
/// every platform. Exact at powers of ten (so `alpha` and `beta` at a limit
/// of 100 are exactly 6 and 12), accurate to about 1e-9 elsewhere.
fn log10(x: f64) -> f64 {
    if x.is_nan() || x <= 1.0 {
        return 0.0;
    }
    if x == f64::INFINITY {
        return f64::INFINITY;
    }
    // x = y × 10^k with y in [1, 10): the whole part is exact.
    let (mut y, mut k) = (x, 0.0);
    while y >= 10.0 {
        y /= 10.0;
        k += 1.0;
    }
    // y = m × 2^e with m in [1, 2): y ≥ 1 is normal, so its bits say so.
    let bits = y.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let m = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
    // ln(m) = 2 atanh(t), t = (m − 1) / (m + 1) in [0, 1/3): a fast series.
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let series = 1.0
        + t2 * (1.0 / 3.0
            + t2 * (1.0 / 5.0
                + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0 + t2 * (1.0 / 11.0 + t2 / 13.0)))));
    k + (f64::from(exponent) * LN_2 + 2.0 * t * series) / LN_10
}

#[cfg(test)]
mod tests {
    use resil_core::Outcome;

    use super::*;

    const MS: u64 = 1_000_000;

    /// A limit that never probes in these tests.
    fn vegas(initial: u32) -> Vegas {
        Vegas::builder()
            .initial(initial)
            .probe_multiplier(u32::MAX)
            .build()
            .unwrap()
    }

    /// Feeds one closed round of `n` calls of `latency_ms` that started
    /// after `start_ms`, and the call that closes it; returns the time after.
    fn round(limit: &mut Vegas, start_ms: u64, latency_ms: u64, in_flight: u32) -> u64 {
        for i in 0..u64::from(in_flight) {
            let end = Instant::from_nanos((start_ms + 1 + i % 2 + latency_ms) * MS);
            let latency = Duration::from_millis(latency_ms);
            limit.update(&Sample::new(latency, in_flight, Outcome::Success, end));
        }
        let closing = start_ms + 2 + latency_ms + 1;
        let end = Instant::from_nanos((closing + latency_ms) * MS);
        let latency = Duration::from_millis(latency_ms);
        limit.update(&Sample::new(latency, in_flight, Outcome::Success, end));
        closing + latency_ms
    }

    #[test]
    fn log10_is_accurate_and_total() {
        for (x, expected) in [
            (1.0, 0.0),
            (2.0, core::f64::consts::LOG10_2),
            (10.0, 1.0),
            (100.0, 2.0),
            (999.0, 2.999_565_488_225_982_4),
            (1_000.0, 3.0),
            (4_294_967_295.0, 9.632_959_861_146_281),
        ] {
            assert!(
                (log10(x) - expected).abs() < 1e-9,
                "log10({x}) = {}",
                log10(x)
            );
        }
        // Exact where it matters for thresholds.
        assert_eq!(log10(10.0), 1.0);
        assert_eq!(log10(100.0), 2.0);
        assert_eq!(log10(1e6), 6.0);
        assert_eq!(log10(0.5), 0.0);
        assert_eq!(log10(f64::NAN), 0.0);
        assert_eq!(log10(f64::INFINITY), f64::INFINITY);
        assert!((log10(f64::MAX) - 308.254_715_559_916_7).abs() < 1e-9);
    }

    #[test]
    fn no_queue_grows_by_beta() {
        let mut limit = vegas(100);
        round(&mut limit, 0, 10, 100);
        assert!((limit.estimate - 112.0).abs() < 1e-6, "{}", limit.estimate);
    }

    #[test]
    fn a_queue_within_alpha_and_beta_holds() {
        let mut limit = vegas(100);
        limit.rtt_noload = Some(10 * MS);
        // 100 × (1 − 10/11) = 9.1 calls queued: between 6 and 12.
        round(&mut limit, 0, 11, 100);
        assert_eq!(limit.estimate, 100.0);
    }

    #[test]
    fn a_small_queue_grows_by_lg() {
        let mut limit = vegas(100);
        limit.rtt_noload = Some(100 * MS);
        // 100 × (1 − 100/104) = 3.8 calls queued: above 2, below 6.
        round(&mut limit, 0, 104, 100);
        assert!((limit.estimate - 102.0).abs() < 1e-6, "{}", limit.estimate);
    }

    #[test]
    fn a_large_queue_shrinks_by_half_the_excess() {
        let mut limit = vegas(100);
        limit.rtt_noload = Some(10 * MS);
        // 50 queued; beta × lg = 12: down by 19.
        round(&mut limit, 0, 20, 100);
        assert!((limit.estimate - 81.0).abs() < 1e-6, "{}", limit.estimate);
        // Just above beta: down by lg = log10(81).
        let mut limit = vegas(100);
        limit.rtt_noload = Some(100 * MS);
        round(&mut limit, 0, 113, 100); // 11.5 > 12? no: holds
        assert_eq!(limit.estimate, 100.0);
        round(&mut limit, 300, 114, 100); // 12.3 queued
        assert!((limit.estimate - 98.0).abs() < 1e-6, "{}", limit.estimate);
    }

    #[test]
    fn a_queue_just_under_alpha_still_grows() {
        let mut limit = vegas(100);
        limit.rtt_noload = Some(100 * MS);
        // 100 × (1 − 100/106) = 5.7 calls queued: under alpha × lg = 6.
        round(&mut limit, 0, 106, 100);
        assert!((limit.estimate - 102.0).abs() < 1e-6, "{}", limit.estimate);
    }

    #[test]
    fn a_queue_of_exactly_alpha_or_beta_holds() {
        // With a limit of 8, lg is 1: alpha 3, beta 6, and these queues
        // are exact in binary.
        for (noload_ms, queue) in [(5, 3.0), (2, 6.0)] {
            let mut limit = vegas(8);
            limit.rtt_noload = Some(noload_ms * MS);
            // 8 × (1 − noload / 8ms).
            round(&mut limit, 0, 8, 8);
            assert_eq!(limit.estimate, 8.0, "a queue of {queue}");
        }
    }

    #[test]
    fn an_app_limited_round_holds() {
        let mut limit = vegas(100);
        round(&mut limit, 0, 10, 49);
        assert_eq!(limit.estimate, 100.0);
    }

    #[test]
    fn failures_are_drops_and_not_latency_samples() {
        let mut limit = vegas(100);
        let at = Instant::from_nanos(5 * MS);
        let fast_failure = Sample::new(Duration::ZERO, 100, Outcome::Failure, at);
        assert_eq!(limit.update(&fast_failure), 90);
        assert_eq!(limit.rtt_noload(), None);
        // In flight at the decrease: the same event.
        let earlier = Sample::new(Duration::from_millis(2), 100, Outcome::Failure, at);
        assert_eq!(limit.update(&earlier), 90);
    }

    #[test]
    fn a_clock_that_never_moves_backs_off_on_failures_and_otherwise_holds() {
        let mut limit = vegas(100);
        let ok = Sample::new(Duration::ZERO, 100, Outcome::Success, Instant::ZERO);
        let failed = Sample {
            outcome: Outcome::Failure,
            ..ok
        };
        for _ in 0..1_000 {
            limit.update(&ok);
        }
        assert_eq!(limit.limit(), 100);
        assert_eq!(limit.update(&failed), 90);
        assert_eq!(limit.update(&failed), 81);
    }

    #[test]
    fn small_limits_still_move() {
        let mut limit = vegas(1);
        let t = round(&mut limit, 0, 10, 1);
        assert_eq!(limit.limit(), 7); // 1 + 6 × max(1, log10 1)
        let failed = Sample::new(
            Duration::ZERO,
            7,
            Outcome::Failure,
            Instant::from_nanos(t * MS),
        );
        assert_eq!(limit.update(&failed), 6);
        // 7 × 0.9 = 6.3 would hold the limit at 6 on the next drop too: a
        // drop takes at least one whole call off the estimate.
        assert_eq!(limit.estimate, 6.0);
    }

    #[test]
    fn rtt_noload_is_the_fastest_success() {
        let mut limit = vegas(10);
        for (end_ms, latency_ms) in [(40, 30), (50, 20), (60, 25)] {
            let end = Instant::from_nanos(end_ms * MS);
            let latency = Duration::from_millis(latency_ms);
            limit.update(&Sample::new(latency, 1, Outcome::Success, end));
        }
        assert_eq!(limit.rtt_noload(), Some(Duration::from_millis(20)));
    }

    #[test]
    fn a_round_at_exactly_half_the_limit_is_judged() {
        let mut limit = vegas(100);
        round(&mut limit, 0, 10, 50);
        assert!((limit.estimate - 112.0).abs() < 1e-6, "{}", limit.estimate);
    }

    #[test]
    fn rounds_of_instant_calls_see_no_queue() {
        let mut limit = vegas(10);
        for i in 0..100 {
            let at = Instant::from_nanos(i * MS);
            limit.update(&Sample::new(Duration::ZERO, 10, Outcome::Success, at));
        }
        // 10 + 6, + 6 × log10(16); then 10 in flight is app-limited.
        let expected = 16.0 + 6.0 * log10(16.0);
        assert!(
            (limit.estimate - expected).abs() < 1e-9,
            "{}",
            limit.estimate
        );
    }

    #[test]
    fn a_decision_held_at_max_is_not_a_decrease() {
        let mut limit = Vegas::builder()
            .initial(100)
            .max(100)
            .probe_multiplier(u32::MAX)
            .build()
            .unwrap();
        let t = round(&mut limit, 0, 10, 100); // would grow: clamped to 100
        assert_eq!(limit.limit(), 100);
        // A failure of a call started before that decision is a fresh event.
        let at = Instant::from_nanos((t + 5) * MS);
        let failed = Sample::new(Duration::from_millis(10), 100, Outcome::Failure, at);
        assert_eq!(limit.update(&failed), 90);
    }

    #[test]
    fn a_probe_lowers_by_the_largest_queue_when_that_is_below_half() {
        let mut limit = Vegas::builder()
            .initial(20)
            .beta(10.0)
            .probe_multiplier(1)
            .build()
            .unwrap();
        // One call in flight: app-limited, so the estimate holds at 20
        // until the probe, after 10 to 19 successes.
        let mut ms = 0;
        while !limit.is_probing() && ms < 1_000 {
            let end = Instant::from_nanos((ms + 10) * MS);
            limit.update(&Sample::new(
                Duration::from_millis(10),
                1,
                Outcome::Success,
                end,
            ));
            ms += 1;
        }
        assert!(limit.is_probing());
        assert_eq!(limit.estimate, 20.0);
        // 20 − 10 × log10(20) = 6.99, below half of 20.
        assert_eq!(limit.limit(), 6);
    }
}
