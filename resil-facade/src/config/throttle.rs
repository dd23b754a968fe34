//! The SRE client-side throttle as written in a file.
//!
//! Every knob is optional and left to [`AdaptiveThrottle::builder`]'s
//! default when unset.

use core::fmt;
use core::time::Duration;

use resil_core::{Clock, ConfigError};
use resil_shed::{AdaptiveThrottle, AdaptiveThrottleBuilder, Priority};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

use super::InvalidConfig;
use super::duration::field;

/// An [`AdaptiveThrottle`]'s knobs.
///
/// # Default
///
/// Every field is optional; unset, it is [`AdaptiveThrottleBuilder`]'s
/// default (the SRE book's): `k` 2, a 2-minute window, no cap on the
/// rejection probability, a random seed, events reported at priority
/// `critical_plus` (level 0).
///
/// The name and listener are set in code, on the builder
/// [`builder`](Self::builder) returns.
///
/// # Examples
///
/// ```
/// use resil::config::ThrottleConfig;
/// use resil::core::ManualClock;
///
/// let config: ThrottleConfig = toml::from_str(r#"
///     k = 1.5
///     window = "30s"
///     max_rejection = 0.9
///     seed = 7
///     priority = "sheddable"
/// "#)?;
/// let throttle = config.build(ManualClock::new())?;
/// assert!(throttle.check().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Let through `k` times what the backend accepts; at least 1.
    #[serde(default)]
    pub k: Option<f64>,
    /// How far back requests and accepts count.
    #[serde(default, deserialize_with = "field::optional::window")]
    pub window: Option<Duration>,
    /// The highest probability of refusal, in `(0, 1]`.
    #[serde(default)]
    pub max_rejection: Option<f64>,
    /// Seeds the random decisions, for reproducible runs.
    #[serde(default)]
    pub seed: Option<u64>,
    /// The priority refusals are reported with in events, written
    /// `"critical_plus"`, `"critical"`, `"sheddable_plus"` or `"sheddable"`.
    #[serde(default, deserialize_with = "priority")]
    pub priority: Option<Priority>,
}

impl ThrottleConfig {
    /// An [`AdaptiveThrottleBuilder`] with every configured knob set, on
    /// `clock`, and already validated: the builder's own `build()` has
    /// accepted these values, so the caller may add a name and a listener
    /// and build again without a configuration error.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] naming the field (`throttle.k`, `throttle.window`,
    /// `throttle.max_rejection`) the builder refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil::config::ThrottleConfig;
    /// use resil::core::ManualClock;
    ///
    /// let config: ThrottleConfig = serde_json::from_str(r#"{ "k": 0.5 }"#)?;
    /// let err = config.builder(ManualClock::new()).unwrap_err();
    /// assert_eq!(err.to_string(), "throttle.k: invalid k: got 0.5, expected at least 1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder<C: Clock + Clone>(
        &self,
        clock: C,
    ) -> Result<AdaptiveThrottleBuilder<C>, InvalidConfig> {
        let builder = self.knobs(clock);
        builder.clone().build().map_err(at)?;
        Ok(builder)
    }

    /// The throttle, built on `clock`.
    ///
    /// # Errors
    ///
    /// As [`builder`](Self::builder).
    pub fn build<C: Clock>(&self, clock: C) -> Result<AdaptiveThrottle<C>, InvalidConfig> {
        self.knobs(clock).build().map_err(at)
    }

    fn knobs<C: Clock>(&self, clock: C) -> AdaptiveThrottleBuilder<C> {
        let mut builder = AdaptiveThrottle::builder().clock(clock);
        if let Some(k) = self.k {
            builder = builder.k(k);
        }
        if let Some(window) = self.window {
            builder = builder.window(window);
        }
        if let Some(max) = self.max_rejection {
            builder = builder.max_rejection(max);
        }
        if let Some(seed) = self.seed {
            builder = builder.seed(seed);
        }
        if let Some(priority) = self.priority {
            builder = builder.priority(priority.level());
        }
        builder
    }
}

/// A throttle builder's error, with its path.
fn at(error: ConfigError) -> InvalidConfig {
    InvalidConfig::new("throttle", error.field(), error)
}

/// Reads a [`Priority`] by its snake-case name.
fn priority<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Priority>, D::Error> {
    struct Name;

    impl Visitor<'_> for Name {
        type Value = Priority;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a priority: critical_plus, critical, sheddable_plus or sheddable")
        }

        fn visit_str<E: de::Error>(self, name: &str) -> Result<Priority, E> {
            match name {
                "critical_plus" => Ok(Priority::CriticalPlus),
                "critical" => Ok(Priority::Critical),
                "sheddable_plus" => Ok(Priority::SheddablePlus),
                "sheddable" => Ok(Priority::Sheddable),
                _ => Err(E::unknown_variant(
                    name,
                    &["critical_plus", "critical", "sheddable_plus", "sheddable"],
                )),
            }
        }
    }

    deserializer.deserialize_str(Name).map(Some)
}
