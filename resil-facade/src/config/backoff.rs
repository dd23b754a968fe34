//! A backoff schedule as written in a file.
//!
//! Why a tagged table (`growth = "linear"`) rather than one flat table with
//! every knob? Each growth has its own knobs: a `factor` means something to
//! an exponential schedule and nothing to a linear one. With a tag, a knob
//! that does not belong to the chosen growth is an unknown field, reported,
//! instead of a value silently ignored.

use core::time::Duration;

use resil_core::{Backoff, BackoffBuilder, ConfigError, Jitter};
use serde::Deserialize;

#[cfg(any(feature = "retry", feature = "breaker"))]
use super::InvalidConfig;
use super::duration::field;

/// A [`Backoff`] schedule, tagged by its `growth`.
///
/// Every variant but `decorrelated` takes an optional `max_delay` and
/// `jitter`; unset, they are [`BackoffBuilder`]'s defaults (no cap, no
/// jitter). A policy whose backoff is not configured at all uses its own
/// default instead (for a retry, [`Backoff::default()`]: exponential from
/// 100ms, doubling, capped at 10s, full jitter).
///
/// The seed of the jitter is not configured here: a [`Backoff`] draws a
/// fresh seed per retry loop, and a fixed one is chosen per call
/// (`resil_retry::Call::seed`), in code.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil::config::BackoffConfig;
///
/// let config: BackoffConfig = toml::from_str(r#"
///     growth = "exponential"
///     base = "50ms"
///     factor = 3.0
///     max_delay = "2s"
///     jitter = "equal"
/// "#)?;
/// let backoff = config.build().map_err(|e| e.to_string())?;
/// assert_eq!(backoff.delay(0), Duration::from_millis(50));
/// assert_eq!(backoff.delay(1), Duration::from_millis(150));
/// assert_eq!(backoff.delay(9), Duration::from_secs(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(tag = "growth", rename_all = "snake_case", deny_unknown_fields)]
pub enum BackoffConfig {
    /// The same `delay` every time ([`Backoff::constant`]).
    Constant {
        /// The delay; zero retries at once.
        #[serde(deserialize_with = "field::delay")]
        delay: Duration,
        /// The cap on every delay.
        #[serde(default, deserialize_with = "field::optional::max_delay")]
        max_delay: Option<Duration>,
        /// How delays are randomised.
        #[serde(default)]
        jitter: Option<JitterConfig>,
    },
    /// `base`, `base + step`, `base + 2·step`, … ([`Backoff::linear`]).
    Linear {
        /// The first delay.
        #[serde(deserialize_with = "field::base")]
        base: Duration,
        /// What each delay adds; not zero.
        #[serde(deserialize_with = "field::step")]
        step: Duration,
        /// The cap on every delay.
        #[serde(default, deserialize_with = "field::optional::max_delay")]
        max_delay: Option<Duration>,
        /// How delays are randomised.
        #[serde(default)]
        jitter: Option<JitterConfig>,
    },
    /// `base`, `base·factor`, `base·factor²`, … ([`Backoff::exponential`]).
    Exponential {
        /// The first delay; not zero.
        #[serde(deserialize_with = "field::base")]
        base: Duration,
        /// The growth factor: finite, at least 1.
        factor: f64,
        /// The cap on every delay.
        #[serde(default, deserialize_with = "field::optional::max_delay")]
        max_delay: Option<Duration>,
        /// How delays are randomised.
        #[serde(default)]
        jitter: Option<JitterConfig>,
    },
    /// `base` times the Fibonacci numbers ([`Backoff::fibonacci`]).
    Fibonacci {
        /// The first delay; not zero.
        #[serde(deserialize_with = "field::base")]
        base: Duration,
        /// The cap on every delay.
        #[serde(default, deserialize_with = "field::optional::max_delay")]
        max_delay: Option<Duration>,
        /// How delays are randomised.
        #[serde(default)]
        jitter: Option<JitterConfig>,
    },
    /// AWS's decorrelated jitter: each delay drawn from `[base, 3 ×
    /// previous]` ([`Backoff::decorrelated`]); its jitter is fixed.
    Decorrelated {
        /// The shortest delay; not zero.
        #[serde(deserialize_with = "field::base")]
        base: Duration,
        /// The cap on every delay.
        #[serde(default, deserialize_with = "field::optional::max_delay")]
        max_delay: Option<Duration>,
    },
}

/// A [`Jitter`] mode, written in lower case: `"none"`, `"full"`, `"equal"`
/// or `"decorrelated"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JitterConfig {
    /// [`Jitter::None`].
    None,
    /// [`Jitter::Full`].
    Full,
    /// [`Jitter::Equal`].
    Equal,
    /// [`Jitter::Decorrelated`].
    Decorrelated,
}

impl From<JitterConfig> for Jitter {
    fn from(jitter: JitterConfig) -> Self {
        match jitter {
            JitterConfig::None => Jitter::None,
            JitterConfig::Full => Jitter::Full,
            JitterConfig::Equal => Jitter::Equal,
            JitterConfig::Decorrelated => Jitter::Decorrelated,
        }
    }
}

impl BackoffConfig {
    /// The builder this describes, with its knobs set.
    pub fn builder(&self) -> BackoffBuilder {
        let (builder, max_delay, jitter) = match *self {
            BackoffConfig::Constant {
                delay,
                max_delay,
                jitter,
            } => (Backoff::constant(delay), max_delay, jitter),
            BackoffConfig::Linear {
                base,
                step,
                max_delay,
                jitter,
            } => (Backoff::linear(base, step), max_delay, jitter),
            BackoffConfig::Exponential {
                base,
                factor,
                max_delay,
                jitter,
            } => (Backoff::exponential(base, factor), max_delay, jitter),
            BackoffConfig::Fibonacci {
                base,
                max_delay,
                jitter,
            } => (Backoff::fibonacci(base), max_delay, jitter),
            BackoffConfig::Decorrelated { base, max_delay } => {
                (Backoff::decorrelated(base), max_delay, None)
            }
        };
        let builder = match max_delay {
            Some(max) => builder.max_delay(max),
            None => builder,
        };
        match jitter {
            Some(jitter) => builder.jitter(jitter.into()),
            None => builder,
        }
    }

    /// Validates the schedule ([`BackoffBuilder::build`]).
    ///
    /// # Errors
    ///
    /// The builder's [`ConfigError`]; its field is the builder's name for
    /// the knob, which is the key in the file (`base`, `step`, `factor`,
    /// `max_delay`), except that a constant schedule's `delay` is the
    /// builder's `base`. A policy's config reports it with its path
    /// (`retry.backoff.factor`).
    pub fn build(&self) -> Result<Backoff, ConfigError> {
        self.builder().build()
    }

    /// Validates the schedule found at `section` (`"retry.backoff"`),
    /// reporting an error with its path.
    #[cfg(any(feature = "retry", feature = "breaker"))]
    pub(crate) fn build_at(&self, section: &str) -> Result<Backoff, InvalidConfig> {
        self.build().map_err(|e| {
            let key = match (self, e.field()) {
                (BackoffConfig::Constant { .. }, "base") => "delay",
                (_, field) => field,
            };
            InvalidConfig::new(section, key, e)
        })
    }
}
