//! Policy configuration from files: TOML, JSON, or anything serde reads.
//!
//! Why configure resilience from a file at all? Retry counts, breaker
//! thresholds and concurrency limits are operational knobs: they are tuned
//! during incidents and differ between environments, so they belong next to
//! the service's other settings, not in a rebuild. But a knob typed by hand
//! is a knob typed wrong sooner or later, so this module is strict:
//!
//! - **Unknown keys are errors** (`deny_unknown_fields`): a misspelt
//!   `max_attemps` fails at start-up instead of silently leaving the default.
//! - **Durations carry a unit** (`"250ms"`, `"1.5s"`, `"2m"`; see
//!   [`parse_duration`]); a bare number is refused, never guessed at, and
//!   the error names the field.
//! - **Validation stays in the technique crates.** Each config only sets
//!   the knobs it was given on the real builder and calls its `build()`,
//!   whose [`ConfigError`](crate::core::ConfigError) comes back as an
//!   [`InvalidConfig`] with the path of the field in the file:
//!   `retry.backoff.factor: invalid factor: got NaN, …`.
//! - **Unset means the builder's default.** Every knob is an `Option`, and
//!   `None` leaves the builder's documented default in place, so the
//!   defaults are written once, in the technique crates.
//!
//! Errors therefore come at two moments: the format crate's (`toml`,
//! `serde_json`) while reading, for syntax, types, unknown keys and
//! durations (with its line and column); and [`InvalidConfig`] while
//! building, for values a builder refuses. [`ResilConfig::validate`] runs
//! every builder at once, so both can be checked at start-up.
//!
//! # Examples
//!
//! ```
//! # #[cfg(all(feature = "retry", feature = "breaker"))] {
//! use core::time::Duration;
//! use resil::config::ResilConfig;
//! use resil::core::ManualClock;
//!
//! let config: ResilConfig = toml::from_str(r#"
//!     total_timeout = "5s"
//!     attempt_timeout = "1s"
//!
//!     [retry]
//!     max_attempts = 4
//!     backoff = { growth = "exponential", base = "100ms", factor = 2.0, max_delay = "2s", jitter = "full" }
//!     budget = { kind = "ratio", ratio = 0.2 }
//!
//!     [breaker]
//!     failure_rate = 0.5
//!     window = { kind = "count", size = 50 }
//!     wait = "30s"
//! "#)?;
//! config.validate()?;
//! assert_eq!(config.total_timeout, Some(Duration::from_secs(5)));
//!
//! let clock = ManualClock::new();
//! let retry = config.retry.unwrap_or_default().build(clock.clone())?;
//! assert_eq!(retry.max_attempts(), 4);
//! let breaker = config.breaker.unwrap_or_default().builder(clock)?.name("db").build()?;
//! # let _ = breaker;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A bad value names its field:
//!
//! ```
//! use resil::config::ResilConfig;
//!
//! let typo = toml::from_str::<ResilConfig>("total_timout = \"1s\"\n").unwrap_err();
//! assert!(typo.to_string().contains("unknown field `total_timout`"));
//!
//! let no_unit = serde_json::from_str::<ResilConfig>(r#"{ "total_timeout": "250" }"#).unwrap_err();
//! assert_eq!(
//!     no_unit.to_string(),
//!     "invalid duration \"250\" for `total_timeout`: it has no unit (write \"250ms\", not \"250\") at line 1 column 24",
//! );
//! ```
//!
//! The example file `resil-facade/examples/resil.toml` shows every section
//! and knob, commented.

mod backoff;
mod duration;
mod error;

#[cfg(feature = "shed")]
mod algorithm;
#[cfg(feature = "breaker")]
mod breaker;
#[cfg(feature = "retry")]
mod budget;
#[cfg(feature = "shed")]
mod limit;
#[cfg(feature = "retry")]
mod retry;
#[cfg(feature = "shed")]
mod throttle;

pub use backoff::{BackoffConfig, JitterConfig};
pub use duration::{DurationError, parse_duration};
pub use error::InvalidConfig;

#[cfg(feature = "shed")]
pub use algorithm::LimitAlgorithm;
#[cfg(feature = "breaker")]
pub use breaker::{BreakerConfig, FailureRate, SlowCallsConfig, WaitConfig, WindowConfig};
#[cfg(feature = "retry")]
pub use budget::BudgetConfig;
#[cfg(feature = "shed")]
pub use limit::{CodelConfig, LimitConfig, ReserveConfig};
#[cfg(feature = "retry")]
pub use resil_retry::AnyBudget;
#[cfg(feature = "shed")]
pub use resil_shed::AnyLimit;
#[cfg(feature = "retry")]
pub use retry::RetryConfig;
#[cfg(feature = "shed")]
pub use throttle::ThrottleConfig;

use core::time::Duration;

use resil_core::error::check_non_zero;
use serde::Deserialize;

use duration::field;

/// Every policy of a service's resilience stack, each section optional.
///
/// A section is present only with its technique's feature (`retry`,
/// `breaker`, `shed`); a file naming a section this build has no feature
/// for is refused as an unknown field.
///
/// # Examples
///
/// ```
/// use resil::config::ResilConfig;
///
/// let empty: ResilConfig = toml::from_str("")?;
/// assert_eq!(empty, ResilConfig::default());
/// assert!(empty.validate().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResilConfig {
    /// The retry policy (`[retry]`).
    #[cfg(feature = "retry")]
    #[serde(default)]
    pub retry: Option<RetryConfig>,
    /// The circuit breaker (`[breaker]`).
    #[cfg(feature = "breaker")]
    #[serde(default)]
    pub breaker: Option<BreakerConfig>,
    /// The concurrency limiter (`[limit]`).
    #[cfg(feature = "shed")]
    #[serde(default)]
    pub limit: Option<LimitConfig>,
    /// The client-side throttle (`[throttle]`).
    #[cfg(feature = "shed")]
    #[serde(default)]
    pub throttle: Option<ThrottleConfig>,
    /// A limit on a whole call, retries included; not zero.
    #[serde(default, deserialize_with = "field::optional::total_timeout")]
    pub total_timeout: Option<Duration>,
    /// A limit on each attempt; not zero.
    #[serde(default, deserialize_with = "field::optional::attempt_timeout")]
    pub attempt_timeout: Option<Duration>,
}

impl ResilConfig {
    /// Checks every section by building it (with each technique crate's
    /// `build()`, on a [`ManualClock`](crate::core::ManualClock) that is
    /// then dropped), and that the timeouts are not zero.
    ///
    /// # Errors
    ///
    /// The first [`InvalidConfig`] found, naming its field:
    /// `total_timeout`, `attempt_timeout`, or a field of a section
    /// (`breaker.window.size`, …).
    ///
    /// # Examples
    ///
    /// ```
    /// use resil::config::ResilConfig;
    ///
    /// let config: ResilConfig = toml::from_str(r#"attempt_timeout = "0s""#)?;
    /// let err = config.validate().unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "attempt_timeout: invalid attempt_timeout: got 0ns, expected a duration greater than zero",
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        // A clock that never moves: building reads it once, and nothing
        // here outlives the check. (Unused when no technique is enabled.)
        #[cfg_attr(
            not(any(feature = "retry", feature = "breaker", feature = "shed")),
            allow(unused_variables)
        )]
        let clock = resil_core::ManualClock::new();
        if let Some(timeout) = self.total_timeout {
            check_non_zero("total_timeout", timeout).map_err(InvalidConfig::top_level)?;
        }
        if let Some(timeout) = self.attempt_timeout {
            check_non_zero("attempt_timeout", timeout).map_err(InvalidConfig::top_level)?;
        }
        #[cfg(feature = "retry")]
        if let Some(retry) = &self.retry {
            retry.build(clock.clone())?;
        }
        #[cfg(feature = "breaker")]
        if let Some(breaker) = &self.breaker {
            breaker.build(clock.clone())?;
        }
        #[cfg(feature = "shed")]
        if let Some(limit) = &self.limit {
            limit.build(clock.clone())?;
        }
        #[cfg(feature = "shed")]
        if let Some(throttle) = &self.throttle {
            throttle.build(clock.clone())?;
        }
        Ok(())
    }
}
