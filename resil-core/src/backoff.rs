//! How long to wait before the next attempt.
//!
//! A [`Backoff`] is a validated schedule of delays: a *growth* (constant,
//! linear, exponential, fibonacci) capped by `max_delay`, then perturbed by
//! [`Jitter`] so that clients which failed together do not retry together.
//! It is plain data (`Copy`); [`Backoff::iter`] hands out a fresh
//! [`Delays`] iterator per retry loop, and [`Backoff::delay`] answers "the
//! n-th delay" directly for callers that keep a count instead (a breaker's
//! growing open duration).
//!
//! # Saturation
//!
//! Delays are computed in `u128` nanoseconds and saturate at `max_delay`, or
//! at [`Duration::MAX`] when none is set. No index, factor or base can panic
//! or overflow: the millionth delay of a factor-`1e300` exponential is simply
//! `max_delay`. A jittered delay never exceeds `max_delay`, and a
//! sub-millisecond base is kept to the nanosecond.

mod cursor;
mod delays;
mod growth;
mod jitter;
mod rng;

pub use delays::Delays;
pub use jitter::Jitter;
pub use rng::SplitMix64;

use core::fmt;
use core::time::Duration;

use growth::Growth;
use rand::RngCore;

use crate::error::{ConfigError, check_at_least, check_non_zero, check_ordered};

/// A validated backoff schedule.
///
/// Built from one of the constructors below, then [`BackoffBuilder`]'s
/// knobs, then [`build`](BackoffBuilder::build).
///
/// # Default
///
/// - `max_delay`: none (growth saturates at [`Duration::MAX`])
/// - `jitter`: [`Jitter::None`], except for [`Backoff::decorrelated`]
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Backoff, Jitter};
///
/// let backoff = Backoff::exponential(Duration::from_millis(100), 2.0)
///     .max_delay(Duration::from_secs(1))
///     .build()?;
/// let delays: Vec<_> = backoff.iter().take(5).collect();
/// assert_eq!(delays, [100, 200, 400, 800, 1000].map(Duration::from_millis));
///
/// // Full jitter, seeded for a reproducible sequence: each delay is drawn
/// // from [0, nominal delay].
/// let jittered = Backoff::exponential(Duration::from_millis(100), 2.0)
///     .jitter(Jitter::Full)
///     .build()?;
/// let a: Vec<_> = jittered.iter_seeded(7).take(5).collect();
/// let b: Vec<_> = jittered.iter_seeded(7).take(5).collect();
/// assert_eq!(a, b);
/// assert!(a[4] <= Duration::from_millis(1600));
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct Backoff {
    growth: Growth,
    /// Nanoseconds.
    base: u128,
    /// Nanoseconds; `Duration::MAX` when no maximum was set.
    max: u128,
    jitter: Jitter,
}

/// Configures a [`Backoff`]; made by its constructors.
#[derive(Clone, Copy, Debug, PartialEq)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct BackoffBuilder {
    growth: GrowthConfig,
    base: Duration,
    max_delay: Option<Duration>,
    jitter: Jitter,
}

/// The growth as the user gave it, before validation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum GrowthConfig {
    Constant,
    Linear { step: Duration },
    Exponential { factor: f64 },
    Fibonacci,
}

impl Backoff {
    /// The same delay every time. A zero `delay` (retry at once) is allowed.
    pub const fn constant(delay: Duration) -> BackoffBuilder {
        BackoffBuilder::new(GrowthConfig::Constant, delay)
    }

    /// `base`, `base + step`, `base + 2·step`, …
    ///
    /// `build()` rejects a zero `step` (use [`Backoff::constant`]).
    pub const fn linear(base: Duration, step: Duration) -> BackoffBuilder {
        BackoffBuilder::new(GrowthConfig::Linear { step }, base)
    }

    /// `base`, `base·factor`, `base·factor²`, …
    ///
    /// `build()` rejects a zero `base` and a `factor` that is not a finite
    /// number of at least 1.
    pub const fn exponential(base: Duration, factor: f64) -> BackoffBuilder {
        BackoffBuilder::new(GrowthConfig::Exponential { factor }, base)
    }

    /// `base`, `base`, `2·base`, `3·base`, `5·base`, … (the Fibonacci numbers).
    ///
    /// `build()` rejects a zero `base`.
    pub const fn fibonacci(base: Duration) -> BackoffBuilder {
        BackoffBuilder::new(GrowthConfig::Fibonacci, base)
    }

    /// AWS's "decorrelated jitter": each delay drawn from
    /// `[base, 3 × previous delay]`, capped at `max_delay`.
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::Backoff;
    ///
    /// let base = Duration::from_millis(10);
    /// let backoff = Backoff::decorrelated(base).max_delay(Duration::from_secs(1)).build()?;
    /// let mut previous = base;
    /// for delay in backoff.iter().take(50) {
    ///     assert!(delay >= base && delay <= (previous * 3).min(Duration::from_secs(1)));
    ///     previous = delay;
    /// }
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    ///
    /// The same as `Backoff::constant(base).jitter(Jitter::Decorrelated)`.
    /// `build()` rejects a zero `base`.
    pub const fn decorrelated(base: Duration) -> BackoffBuilder {
        BackoffBuilder::new(GrowthConfig::Constant, base).jitter(Jitter::Decorrelated)
    }

    /// The first delay's nominal value.
    pub fn base(&self) -> Duration {
        growth::to_duration(self.base)
    }

    /// The cap on every delay ([`Duration::MAX`] if none was set).
    pub fn max_delay(&self) -> Duration {
        growth::to_duration(self.max)
    }

    /// The jitter mode.
    pub const fn jitter_mode(&self) -> Jitter {
        self.jitter
    }

    /// The nominal (un-jittered) delay before retry number `index`, counting
    /// from 0: `delay(0)` is the first delay. Saturates at `max_delay`.
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::Backoff;
    ///
    /// let backoff = Backoff::exponential(Duration::from_micros(50), 1e300).build()?;
    /// assert_eq!(backoff.delay(0), Duration::from_micros(50));
    /// assert_eq!(backoff.delay(u32::MAX), Duration::MAX);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn delay(&self, index: u32) -> Duration {
        growth::to_duration(self.nominal(index))
    }

    /// The delay before retry `index` with jitter applied, given the delay
    /// actually used before the previous retry (or [`base`](Self::base) for
    /// the first) and a random source. [`Delays`] calls this for you.
    pub fn jittered_delay<R: RngCore + ?Sized>(
        &self,
        index: u32,
        previous: Duration,
        rng: &mut R,
    ) -> Duration {
        let previous = previous.as_nanos();
        growth::to_duration(self.jittered(index, previous, rng))
    }

    /// A fresh, infinite iterator over this schedule's delays, with a random
    /// seed (from the OS's hash keys with `std`; see [`Delays`] without it).
    pub fn iter(&self) -> Delays {
        Delays::new(*self, delays::fresh_rng())
    }

    /// Like [`iter`](Self::iter), with a fixed seed: the same seed gives the
    /// same delays on every platform (see [`SplitMix64`]).
    pub fn iter_seeded(&self, seed: u64) -> Delays {
        Delays::new(*self, SplitMix64::new(seed))
    }

    /// Like [`iter`](Self::iter), drawing jitter from `rng`.
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Backoff, Jitter, SplitMix64};
    ///
    /// let backoff = Backoff::fibonacci(Duration::from_millis(1)).jitter(Jitter::Full).build()?;
    /// let delays: Vec<_> = backoff.iter_with_rng(SplitMix64::new(3)).take(3).collect();
    /// assert_eq!(delays, backoff.iter_seeded(3).take(3).collect::<Vec<_>>());
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn iter_with_rng<R: RngCore>(&self, rng: R) -> Delays<R> {
        Delays::new(*self, rng)
    }

    fn nominal(&self, index: u32) -> u128 {
        self.growth.nominal(self.base, index, self.max)
    }

    fn jittered<R: RngCore + ?Sized>(&self, index: u32, previous: u128, rng: &mut R) -> u128 {
        self.jitter
            .apply(self.nominal(index), previous, self.base, self.max, rng)
    }
}

/// Shows durations, not raw nanoseconds.
impl fmt::Debug for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Backoff");
        debug.field("growth", &self.growth);
        debug.field("base", &self.base());
        if self.max < Duration::MAX.as_nanos() {
            debug.field("max_delay", &self.max_delay());
        }
        debug.field("jitter", &self.jitter).finish()
    }
}

/// Exponential from 100ms, doubling, capped at 10s, with full jitter: the
/// schedule AWS's analysis recommends, and every resil policy's default.
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Backoff, Jitter};
///
/// let expected = Backoff::exponential(Duration::from_millis(100), 2.0)
///     .max_delay(Duration::from_secs(10))
///     .jitter(Jitter::Full)
///     .build()?;
/// assert_eq!(Backoff::default(), expected);
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            growth: Growth::ExponentialInt { factor: 2 },
            base: Duration::from_millis(100).as_nanos(),
            max: Duration::from_secs(10).as_nanos(),
            jitter: Jitter::Full,
        }
    }
}

impl IntoIterator for &Backoff {
    type Item = Duration;
    type IntoIter = Delays;

    fn into_iter(self) -> Delays {
        self.iter()
    }
}

impl BackoffBuilder {
    const fn new(growth: GrowthConfig, base: Duration) -> Self {
        BackoffBuilder {
            growth,
            base,
            max_delay: None,
            jitter: Jitter::None,
        }
    }

    /// Caps every delay, jittered or not, at `max`.
    pub const fn max_delay(mut self, max: Duration) -> Self {
        self.max_delay = Some(max);
        self
    }

    /// Sets the jitter mode.
    pub const fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Validates the configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the field if the exponential `factor` is NaN,
    /// infinite or below 1; `base` is zero for exponential, fibonacci or
    /// decorrelated backoff; a linear `step` is zero; or `max_delay` is
    /// below `base`.
    pub fn build(self) -> Result<Backoff, ConfigError> {
        let growth = match self.growth {
            GrowthConfig::Constant => Growth::Constant,
            GrowthConfig::Linear { step } => Growth::Linear {
                step: check_non_zero("step", step)?.as_nanos(),
            },
            GrowthConfig::Exponential { factor } => {
                check_non_zero("base", self.base)?;
                Growth::exponential(check_at_least(
                    "factor",
                    factor,
                    1.0,
                    "a finite number of at least 1",
                )?)
            }
            GrowthConfig::Fibonacci => {
                check_non_zero("base", self.base)?;
                Growth::Fibonacci
            }
        };
        if self.jitter == Jitter::Decorrelated {
            check_non_zero("base", self.base)?;
        }
        let max = self.max_delay.unwrap_or(Duration::MAX);
        check_ordered("base", self.base, "max_delay", max)?;
        Ok(Backoff {
            growth,
            base: self.base.as_nanos(),
            max: max.as_nanos(),
            jitter: self.jitter,
        })
    }
}
