//! A circuit breaker as written in a file.
//!
//! Every knob is optional and left to [`CircuitBreaker::builder`]'s default
//! when unset. Knobs that only make sense together are one table
//! (`slow_calls = { rate, duration }`), and knobs that exclude each other
//! are one key: `wait` is either a duration or a backoff table, so a file
//! cannot give both.

use core::fmt;
use core::time::Duration;

use resil_breaker::{BreakerBuilder, CircuitBreaker, SlidingWindow};
use resil_core::{Clock, ConfigError};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::duration::{DurationVisitor, field};
use super::{BackoffConfig, InvalidConfig};

/// A [`CircuitBreaker`]'s knobs.
///
/// # Default
///
/// Every field is optional; unset, it is [`BreakerBuilder`]'s default
/// (resilience4j's): open at a failure rate of 0.5 over the last 100 calls
/// once 100 (or a smaller window's size) are seen, no slow-call or
/// consecutive-failure tripping, a 60s wait, 10 half-open trial calls, no
/// half-open timeout.
///
/// The name and listener are set in code, on the builder
/// [`builder`](Self::builder) returns.
///
/// # Examples
///
/// ```
/// use resil::config::BreakerConfig;
/// use resil::core::{CircuitState, ManualClock};
///
/// let config: BreakerConfig = toml::from_str(r#"
///     failure_rate = 0.25
///     minimum_calls = 4
///     consecutive_failures = 3
///     slow_calls = { rate = 0.5, duration = "2s" }
///     window = { kind = "time", length = "1m", buckets = 6 }
///     wait = { growth = "exponential", base = "5s", factor = 2.0, max_delay = "1m" }
///     half_open_permits = 2
///     half_open_timeout = "30s"
/// "#)?;
/// let breaker = config.build(ManualClock::new())?;
/// assert_eq!(breaker.state(), CircuitState::Closed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Open when at least this share of the window's calls failed, in
    /// `(0, 1]`; `"off"` turns failure-rate tripping off.
    #[serde(default)]
    pub failure_rate: Option<FailureRate>,
    /// Slow-call tripping.
    #[serde(default)]
    pub slow_calls: Option<SlowCallsConfig>,
    /// Open after this many failures in a row; at least 1.
    #[serde(default)]
    pub consecutive_failures: Option<u32>,
    /// The calls the rates are computed over.
    #[serde(default)]
    pub window: Option<WindowConfig>,
    /// How many calls the window must hold before a rate can open it.
    #[serde(default)]
    pub minimum_calls: Option<u32>,
    /// How long to stay open: a duration (`"60s"`, the same after every
    /// trip) or a backoff table (growing with each trip in a row).
    #[serde(default)]
    pub wait: Option<WaitConfig>,
    /// How many trial calls half-open admits, in `1..=1000`.
    #[serde(default)]
    pub half_open_permits: Option<u32>,
    /// Reopen a half-open breaker whose trials have not all reported in
    /// this time.
    #[serde(default, deserialize_with = "field::optional::half_open_timeout")]
    pub half_open_timeout: Option<Duration>,
}

/// A failure rate in `(0, 1]`, or `"off"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FailureRate {
    /// Open at this rate.
    Rate(f64),
    /// Never open on the failure rate (only on slow calls or failures in a
    /// row).
    Off,
}

/// Slow-call tripping: a call longer than `duration` is slow, and the
/// breaker opens when `rate` of the window's calls were.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowCallsConfig {
    /// The share of slow calls that opens the breaker, in `(0, 1]`.
    pub rate: f64,
    /// How long a call may take before it counts as slow; not zero.
    #[serde(deserialize_with = "field::duration")]
    pub duration: Duration,
}

/// A [`SlidingWindow`], tagged by its `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum WindowConfig {
    /// The last `size` calls.
    Count {
        /// How many calls.
        size: u32,
    },
    /// The calls of the last `length`, in `buckets` buckets.
    Time {
        /// How far back.
        #[serde(deserialize_with = "field::length")]
        length: Duration,
        /// How finely the window moves.
        buckets: u32,
    },
}

/// How long an open breaker waits: one duration, or a growing backoff.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WaitConfig {
    /// The same wait after every trip (`wait = "60s"`).
    Constant(Duration),
    /// A wait growing with each trip in a row (`wait = { growth = … }`).
    Backoff(BackoffConfig),
}

impl BreakerConfig {
    /// A [`BreakerBuilder`] with every configured knob set, on `clock`, and
    /// already validated: the builder's own `build()` has accepted these
    /// values, so the caller may add a name and a listener and build again
    /// without a configuration error.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] naming the field (`breaker.failure_rate`,
    /// `breaker.window.size`, `breaker.wait.base`, …) the breaker or its
    /// wait backoff refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil::config::BreakerConfig;
    /// use resil::core::ManualClock;
    ///
    /// let config: BreakerConfig = toml::from_str(r#"failure_rate = 1.5"#)?;
    /// let err = config.builder(ManualClock::new()).unwrap_err();
    /// assert_eq!(err.to_string(), "breaker.failure_rate: invalid failure_rate: got 1.5, expected a rate in (0, 1]");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder<C: Clock + Clone>(&self, clock: C) -> Result<BreakerBuilder<C>, InvalidConfig> {
        let builder = self.knobs(clock)?;
        builder.clone().build().map_err(at)?;
        Ok(builder)
    }

    /// The breaker, built on `clock`.
    ///
    /// # Errors
    ///
    /// As [`builder`](Self::builder).
    pub fn build<C: Clock>(&self, clock: C) -> Result<CircuitBreaker<C>, InvalidConfig> {
        self.knobs(clock)?.build().map_err(at)
    }

    fn knobs<C: Clock>(&self, clock: C) -> Result<BreakerBuilder<C>, InvalidConfig> {
        let mut builder = CircuitBreaker::builder().clock(clock);
        match self.failure_rate {
            Some(FailureRate::Rate(rate)) => builder = builder.failure_rate(rate),
            Some(FailureRate::Off) => builder = builder.without_failure_rate(),
            None => {}
        }
        if let Some(slow) = self.slow_calls {
            builder = builder.slow_calls(slow.rate, slow.duration);
        }
        if let Some(failures) = self.consecutive_failures {
            builder = builder.consecutive_failures(failures);
        }
        if let Some(window) = self.window {
            builder = builder.window(match window {
                WindowConfig::Count { size } => SlidingWindow::count(size),
                WindowConfig::Time { length, buckets } => SlidingWindow::time(length, buckets),
            });
        }
        if let Some(calls) = self.minimum_calls {
            builder = builder.minimum_calls(calls);
        }
        match self.wait {
            Some(WaitConfig::Constant(wait)) => builder = builder.wait(wait),
            Some(WaitConfig::Backoff(backoff)) => {
                builder = builder.wait_backoff(backoff.build_at("breaker.wait")?);
            }
            None => {}
        }
        if let Some(permits) = self.half_open_permits {
            builder = builder.half_open_permits(permits);
        }
        if let Some(timeout) = self.half_open_timeout {
            builder = builder.half_open_timeout(timeout);
        }
        Ok(builder)
    }
}

/// A breaker builder's error, with the path of its key in the file.
fn at(error: ConfigError) -> InvalidConfig {
    let key = match error.field() {
        "slow_call_rate" => "slow_calls.rate",
        "slow_call_duration" => "slow_calls.duration",
        "window size" => "window.size",
        "window length" => "window.length",
        "window buckets" => "window.buckets",
        other => other,
    };
    InvalidConfig::new("breaker", key, error)
}

impl<'de> Deserialize<'de> for FailureRate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RateOrOff;

        impl Visitor<'_> for RateOrOff {
            type Value = FailureRate;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a failure rate in (0, 1], or \"off\"")
            }

            fn visit_f64<E: de::Error>(self, rate: f64) -> Result<FailureRate, E> {
                Ok(FailureRate::Rate(rate))
            }

            // A whole number (`failure_rate = 1`) is a rate too; the
            // builder says whether it is a valid one.
            fn visit_u64<E: de::Error>(self, rate: u64) -> Result<FailureRate, E> {
                Ok(FailureRate::Rate(rate as f64))
            }

            fn visit_i64<E: de::Error>(self, rate: i64) -> Result<FailureRate, E> {
                Ok(FailureRate::Rate(rate as f64))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<FailureRate, E> {
                if text == "off" {
                    Ok(FailureRate::Off)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(text), &self))
                }
            }
        }

        deserializer.deserialize_any(RateOrOff)
    }
}

impl<'de> Deserialize<'de> for WaitConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationOrBackoff;

        impl<'de> Visitor<'de> for DurationOrBackoff {
            type Value = WaitConfig;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration for `wait` like \"60s\", or a backoff table")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<WaitConfig, E> {
                DurationVisitor { field: "wait" }
                    .visit_str(text)
                    .map(WaitConfig::Constant)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<WaitConfig, A::Error> {
                BackoffConfig::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(WaitConfig::Backoff)
            }
        }

        deserializer.deserialize_any(DurationOrBackoff)
    }
}
