//! A retry budget proportional to traffic: Finagle's and tower's.
//!
//! Why a ratio and a reserve? A ratio ("retries may add 20% to the
//! traffic") bounds the extra load retries put on a dependency by the load
//! it already gets, which is the quantity that matters when it starts to
//! fail: at 20%, a fleet whose every request fails sends 1.2× its normal
//! traffic, not 3× or 27×. A ratio alone would starve a quiet client (ten
//! requests a minute would earn two retries), so a small reserve of retries
//! per second is always allowed on top.
//!
//! Why buckets? The ratio applies to recent traffic only: deposits made an
//! hour ago must not pay for retries now. An exact sliding window would have
//! to remember every request; splitting the window into ten buckets
//! remembers ten numbers, at the price of a documented slack of one bucket
//! width (see [`RatioBudget`]'s guarantee).
//!
//! Why fixed point? The balance is one `i64` of thousandths of a retry, so a
//! withdrawal can check and take in a single compare-and-swap, and no amount
//! of traffic accumulates floating-point error.

mod cell;

use core::fmt;
use core::time::Duration;

use resil_core::error::{ConfigError, check_at_least, check_non_zero};
use resil_core::{Clock, Instant, SystemClock};

use self::cell::{BUCKETS, Cell, UNIT};
use crate::Budget;

/// The largest ratio accepted: a thousand retries per request.
const MAX_RATIO: f64 = 1_000.0;

/// The longest window accepted. Bounding it keeps every amount in the
/// balance far below `i64::MAX` at any request rate an atomic can sustain.
const MAX_WINDOW: Duration = Duration::from_secs(3_600);

const DEFAULT_RATIO: f64 = 0.2;
const DEFAULT_MIN_PER_SECOND: u32 = 10;
const DEFAULT_WINDOW: Duration = Duration::from_secs(10);

/// A retry budget of `ratio` retries per request over a sliding `window`,
/// plus `min_per_second` retries a second whatever the traffic
/// (Finagle's `RetryBudget`, tower's `TpsBudget`).
///
/// Every request [`deposit`](Budget::deposit)s `ratio` of a retry; every
/// retry [`withdraw`](Budget::withdraw)s a whole one. At any moment
///
/// > balance = reserve + ratio × (deposits in the window) − (retries in the window),
/// > where reserve = `min_per_second` × `window` in seconds,
///
/// and a retry is allowed only if the balance covers it. With the defaults
/// (ratio 0.2, 10 per second, 10 s window) a client may always make 100
/// retries per 10 s, plus one for every five requests in that time.
///
/// Share one budget between every call to a dependency (and every policy
/// that calls it) by reference or through an `Arc`: it is `Send + Sync`, and
/// all its methods take `&self`.
///
/// # Guarantee
///
/// The window is divided into ten buckets of `window / 10` on the budget's
/// clock (the current one and the nine before it). Think of each call as
/// taking effect at one instant during the call. Whatever the interleaving
/// of threads:
///
/// - **Withdrawals are exact.** A withdrawal succeeds only if the balance
///   covers a whole retry at the instant it takes effect, and takes it in the
///   same atomic step: when *n* retries are left, *n* of any number of racing
///   threads get one, never *n* + 1. With a ratio of 0.6 and no reserve, ten
///   requests pay for exactly six retries.
/// - **A deposit counts for at most one `window`**, from when it takes effect
///   until the bucket it was recorded in leaves the window, and for at least
///   `window − window / 10` from when the call began. A deposit that races
///   the expiry of its own bucket may count for less, or not at all.
/// - **A retry stays charged for at least `window − window / 10`**: until the
///   bucket it was admitted in leaves the window. A withdrawal that races an
///   expiry may be charged for longer, never for less.
///
/// Together: whenever a retry is admitted at time *t*,
///
/// > retries admitted in \[*t* − (`window` − `window` / 10), *t*\] ≤
/// > reserve + ratio × deposits made in (*t* − `window`, *t*\].
///
/// Against an exact sliding window, the slack is that the retries of the
/// oldest tenth of the window may already have been returned. In time that
/// is one bucket width; in retries it can be a whole budget's worth: if
/// every retry of one window was admitted in its last bucket, the same
/// number can be admitted again a bucket width later, so over a full
/// `window` up to twice the allowance can go out in such a burst. Deposits
/// never count for longer than `window`.
/// `tests/budget_ratio.rs` checks this property on random schedules.
///
/// Amounts are kept in thousandths of a retry: each deposit adds
/// `round(ratio × 1000)` thousandths, each retry costs 1000, and the reserve
/// is `min_per_second × window` rounded down to a thousandth.
///
/// # Cost
///
/// `deposit` and `withdraw` read the clock and touch three atomics, with no
/// lock and no allocation, as long as the current bucket is current. The
/// first call to notice that a new bucket has begun takes a mutex to expire
/// the old ones (at most once per bucket width; calls racing it wait for it).
///
/// # Examples
///
/// Ten requests at a ratio of 0.6 pay for exactly six retries, and the
/// credit expires with the window:
///
/// ```
/// use core::time::Duration;
/// use resil_core::ManualClock;
/// use resil_retry::{Budget, RatioBudget};
///
/// let clock = ManualClock::new();
/// let budget = RatioBudget::builder()
///     .ratio(0.6)
///     .min_per_second(0)
///     .window(Duration::from_secs(10))
///     .clock(clock.clone())
///     .build()?;
///
/// for _ in 0..10 {
///     budget.deposit();
/// }
/// let retries = (0..10).filter(|_| budget.withdraw()).count();
/// assert_eq!(retries, 6);
///
/// // Ten seconds later those requests and retries have left the window:
/// // the next ten requests pay for six more.
/// clock.advance(Duration::from_secs(10));
/// assert_eq!(budget.available(), 0);
/// for _ in 0..10 {
///     budget.deposit();
/// }
/// assert_eq!(budget.available(), 6);
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
pub struct RatioBudget<C = SystemClock> {
    cell: Cell,
    config: Config,
    clock: C,
}

/// The validated knobs, in the units the cell works in.
#[derive(Clone, Copy, Debug)]
struct Config {
    ratio: f64,
    min_per_second: u32,
    window: Duration,
    /// Units each deposit adds: `round(ratio × UNIT)`.
    deposit: i64,
    /// `window` in nanoseconds (at most an hour's worth).
    window_nanos: u64,
}

impl Config {
    /// `ratio` and `window` must already be valid.
    fn new(ratio: f64, min_per_second: u32, window: Duration) -> Self {
        // At most 3.6e12: an hour.
        let window_nanos = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
        // In [0, 1e6]: exact in an i64.
        let deposit = (ratio * UNIT as f64).round() as i64;
        Config {
            ratio,
            min_per_second,
            window,
            deposit,
            window_nanos,
        }
    }

    /// `min_per_second × window` in units, rounded down: at most about
    /// 1.5e16 (`u32::MAX` a second for an hour).
    fn reserve(&self) -> i64 {
        let units = u128::from(self.min_per_second) * u128::from(self.window_nanos) * UNIT as u128
            / 1_000_000_000;
        i64::try_from(units).unwrap_or(i64::MAX)
    }

    /// The bucket `now` falls in.
    fn bucket(&self, now: Instant) -> u64 {
        bucket_of(now.as_nanos(), self.window_nanos)
    }
}

/// The bucket holding `nanos`: `floor(nanos × BUCKETS / window_nanos)`,
/// saturating at `u64::MAX`. Buckets need not be whole nanoseconds wide.
fn bucket_of(nanos: u64, window_nanos: u64) -> u64 {
    match nanos.checked_mul(BUCKETS) {
        Some(scaled) => scaled / window_nanos,
        None => {
            let bucket = u128::from(nanos) * u128::from(BUCKETS) / u128::from(window_nanos);
            u64::try_from(bucket).unwrap_or(u64::MAX)
        }
    }
}

impl RatioBudget {
    /// A builder with the defaults: ratio 0.2, 10 retries a second, a 10 s
    /// window, on the [`SystemClock`].
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_retry::RatioBudget;
    ///
    /// let budget = RatioBudget::builder().ratio(0.1).build()?;
    /// assert_eq!(budget.available(), 100); // 10 a second for 10 s
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn builder() -> RatioBudgetBuilder {
        RatioBudgetBuilder::default()
    }
}

impl<C: Clock> RatioBudget<C> {
    fn from_config(config: Config, clock: C) -> Self {
        let head = config.bucket(clock.now());
        RatioBudget {
            cell: Cell::new(config.reserve(), head),
            config,
            clock,
        }
    }

    /// The whole retries that could be withdrawn now: for metrics and tests.
    ///
    /// Cheap: a clock read and an atomic load (plus, once per bucket width,
    /// expiring the buckets that left the window). Other threads may change
    /// it the moment it is read, so deciding by it is not exact:
    /// [`withdraw`](Budget::withdraw) is.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::ManualClock;
    /// use resil_retry::{Budget, RatioBudget};
    ///
    /// let clock = ManualClock::new();
    /// let budget = RatioBudget::builder()
    ///     .min_per_second(1)
    ///     .window(Duration::from_secs(5))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// assert_eq!(budget.available(), 5);
    /// assert!(budget.withdraw());
    /// assert_eq!(budget.available(), 4);
    ///
    /// // The retry is returned once its bucket leaves the window.
    /// clock.advance(Duration::from_secs(5));
    /// assert_eq!(budget.available(), 5);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn available(&self) -> u64 {
        self.cell.available(self.config.bucket(self.clock.now()))
    }

    /// The raw balance in thousandths of a retry, without expiring anything:
    /// for the loom models' exact checks.
    #[cfg(all(test, resil_loom))]
    pub(crate) fn units(&self) -> i64 {
        self.cell.units()
    }
}

impl<C: Clock> Budget for RatioBudget<C> {
    /// Credits `ratio` of a retry for the next `window`.
    fn deposit(&self) {
        // A ratio of zero deposits nothing: skip the clock and the atomics.
        if self.config.deposit != 0 {
            let bucket = self.config.bucket(self.clock.now());
            self.cell.deposit(bucket, self.config.deposit);
        }
    }

    /// Takes one retry, if the balance covers it, in one atomic step.
    fn withdraw(&self) -> bool {
        self.cell.withdraw(self.config.bucket(self.clock.now()))
    }
}

/// The default budget: ratio 0.2, 10 retries a second, a 10 s window, on the
/// [`SystemClock`].
///
/// ```
/// use resil_retry::RatioBudget;
///
/// assert_eq!(RatioBudget::default().available(), 100);
/// ```
impl Default for RatioBudget {
    fn default() -> Self {
        let config = Config::new(DEFAULT_RATIO, DEFAULT_MIN_PER_SECOND, DEFAULT_WINDOW);
        RatioBudget::from_config(config, SystemClock)
    }
}

impl<C> fmt::Debug for RatioBudget<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RatioBudget")
            .field("ratio", &self.config.ratio)
            .field("min_per_second", &self.config.min_per_second)
            .field("window", &self.config.window)
            // As of the last call: formatting does not read the clock.
            .field("balance", &(self.cell.units() as f64 / UNIT as f64))
            .finish_non_exhaustive()
    }
}

/// Configures a [`RatioBudget`]; made by [`RatioBudget::builder`].
///
/// # Default
///
/// - `ratio`: 0.2 retries per request
/// - `min_per_second`: 10 retries a second
/// - `window`: 10 seconds
/// - `clock`: [`SystemClock`]
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::ManualClock;
/// use resil_retry::RatioBudget;
///
/// let budget = RatioBudget::builder()
///     .ratio(0.1)
///     .min_per_second(5)
///     .window(Duration::from_secs(30))
///     .clock(ManualClock::new())
///     .build()?;
/// assert_eq!(budget.available(), 150);
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RatioBudgetBuilder<C = SystemClock> {
    ratio: f64,
    min_per_second: u32,
    window: Duration,
    clock: C,
}

impl Default for RatioBudgetBuilder {
    fn default() -> Self {
        RatioBudgetBuilder {
            ratio: DEFAULT_RATIO,
            min_per_second: DEFAULT_MIN_PER_SECOND,
            window: DEFAULT_WINDOW,
            clock: SystemClock,
        }
    }
}

impl<C> RatioBudgetBuilder<C> {
    /// Retries allowed per request, on top of the reserve: 0.2 means
    /// retries may add 20% to the traffic. Kept to thousandths (each deposit
    /// adds `round(ratio × 1000)` thousandths of a retry). Default 0.2.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails unless `ratio` is finite and in
    /// \[0, 1000\], and either 0 or at least 0.0005 (smaller ratios would
    /// round to no credit).
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_core::ManualClock;
    /// use resil_retry::{Budget, RatioBudget};
    ///
    /// let budget = RatioBudget::builder()
    ///     .ratio(0.5)
    ///     .min_per_second(0)
    ///     .clock(ManualClock::new())
    ///     .build()?;
    /// for _ in 0..9 {
    ///     budget.deposit();
    /// }
    /// assert_eq!(budget.available(), 4); // 4.5 retries, rounded down
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = ratio;
        self
    }

    /// Retries a second allowed whatever the traffic; the reserve is this
    /// times the window in seconds. Zero leaves only the ratio. Default 10.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::ManualClock;
    /// use resil_retry::RatioBudget;
    ///
    /// let budget = RatioBudget::builder()
    ///     .min_per_second(3)
    ///     .window(Duration::from_millis(2_500))
    ///     .clock(ManualClock::new())
    ///     .build()?;
    /// assert_eq!(budget.available(), 7); // 7.5 retries with no traffic at all
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn min_per_second(mut self, min_per_second: u32) -> Self {
        self.min_per_second = min_per_second;
        self
    }

    /// How long a deposit counts, and a retry stays charged (see
    /// [`RatioBudget`]'s guarantee for the bucket slack). Default 10 s.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails unless `window` is greater than zero and
    /// at most an hour.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::ManualClock;
    /// use resil_retry::{Budget, RatioBudget};
    ///
    /// let clock = ManualClock::new();
    /// let budget = RatioBudget::builder()
    ///     .ratio(1.0)
    ///     .min_per_second(0)
    ///     .window(Duration::from_secs(60))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// budget.deposit();
    /// clock.advance(Duration::from_secs(59));
    /// assert_eq!(budget.available(), 1);
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(budget.available(), 0);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The clock the window is measured on. Default [`SystemClock`]; tests
    /// use [`ManualClock`](resil_core::ManualClock).
    ///
    /// # Examples
    ///
    /// A budget whose window moves only when the test says so:
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::ManualClock;
    /// use resil_retry::{Budget, RatioBudget};
    ///
    /// let clock = ManualClock::new();
    /// let budget = RatioBudget::builder()
    ///     .min_per_second(1)
    ///     .window(Duration::from_secs(1))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// assert!(budget.withdraw());
    /// assert!(!budget.withdraw());
    /// clock.advance(Duration::from_secs(1));
    /// assert!(budget.withdraw());
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn clock<C2: Clock>(self, clock: C2) -> RatioBudgetBuilder<C2> {
        RatioBudgetBuilder {
            ratio: self.ratio,
            min_per_second: self.min_per_second,
            window: self.window,
            clock,
        }
    }
}

impl<C: Clock> RatioBudgetBuilder<C> {
    /// Validates the knobs and makes the budget, its window starting now.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] naming the field if `ratio` is NaN,
    /// infinite, negative, above 1000, or between 0 and 0.0005 (it would
    /// round to no credit), or if `window` is zero or longer than an hour.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_retry::RatioBudget;
    ///
    /// let err = RatioBudget::builder().ratio(f64::NAN).build().unwrap_err();
    /// assert_eq!(err.field(), "ratio");
    /// let err = RatioBudget::builder().window(Duration::ZERO).build().unwrap_err();
    /// assert_eq!(err.field(), "window");
    /// ```
    pub fn build(self) -> Result<RatioBudget<C>, ConfigError> {
        const RATIO_RANGE: &str = "a ratio in [0, 1000]";
        let ratio = check_at_least("ratio", self.ratio, 0.0, RATIO_RANGE)?;
        if ratio > MAX_RATIO {
            return Err(ConfigError::invalid("ratio", ratio, RATIO_RANGE));
        }
        // Amounts are kept in thousandths: a ratio that would round to no
        // credit at all is an error, not a silent zero (0 itself is fine).
        if ratio > 0.0 && ratio < 0.0005 {
            return Err(ConfigError::invalid(
                "ratio",
                ratio,
                "0, or at least 0.0005 (amounts are kept in thousandths of a retry)",
            ));
        }
        let window = check_non_zero("window", self.window)?;
        if window > MAX_WINDOW {
            return Err(ConfigError::invalid("window", window, "at most one hour"));
        }
        let config = Config::new(ratio, self.min_per_second, window);
        Ok(RatioBudget::from_config(config, self.clock))
    }
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use super::*;

    #[test]
    fn buckets_split_the_window_exactly() {
        let second = 1_000_000_000;
        assert_eq!(bucket_of(0, 10 * second), 0);
        assert_eq!(bucket_of(second - 1, 10 * second), 0);
        assert_eq!(bucket_of(second, 10 * second), 1);
        // A window of 7 ns: buckets of 0.7 ns.
        assert_eq!(bucket_of(6, 7), 8);
        assert_eq!(bucket_of(7, 7), 10);
        // Past u64 when scaled: computed in u128, saturating.
        assert_eq!(bucket_of(u64::MAX, 10 * second), u64::MAX / second);
        assert_eq!(bucket_of(u64::MAX, 1), u64::MAX);
    }

    #[test]
    fn fixed_point_amounts() {
        let config = Config::new(0.2, 10, Duration::from_secs(10));
        assert_eq!(config.deposit, 200);
        assert_eq!(config.reserve(), 100 * UNIT);
        let config = Config::new(1_000.0, u32::MAX, MAX_WINDOW);
        assert_eq!(config.deposit, 1_000_000);
        assert_eq!(config.reserve(), i64::from(u32::MAX) * 3_600 * UNIT);
        // Rounded to thousandths; the reserve rounded down.
        let config = Config::new(0.0004, 1, Duration::from_nanos(1_500_999));
        assert_eq!(config.deposit, 0);
        assert_eq!(config.reserve(), 1);
        assert_eq!(Config::new(0.0005, 0, DEFAULT_WINDOW).deposit, 1);
    }

    #[test]
    fn retries_round_down_and_never_go_negative() {
        assert_eq!(cell::retries(1_999), 1);
        assert_eq!(cell::retries(0), 0);
        assert_eq!(cell::retries(-1), 0);
        assert_eq!(cell::retries(-5_000), 0);
    }
}
