//! A concurrency limiter as written in a file.
//!
//! The algorithm is a table of its own (`[limit.algorithm]`, tagged by
//! `kind`), so its knobs never mix with the limiter's: an `alpha` under
//! `[limit]` is an unknown field, not a silently ignored Vegas knob.

use core::time::Duration;

use resil_core::{Clock, ConfigError, Value};
use resil_shed::{ConcurrencyLimit, ConcurrencyLimitBuilder, Priority};
use serde::Deserialize;

use super::duration::field;
use super::{AnyLimit, InvalidConfig, LimitAlgorithm};

/// A [`ConcurrencyLimit`]'s knobs.
///
/// # Default
///
/// `algorithm` is required (the limiter has no default limit). Every other
/// field is optional; unset, it is [`ConcurrencyLimitBuilder`]'s default: no
/// reserves, no queue (`max_queue` 0), a 1s `max_wait`, no CoDel.
///
/// The name and listener are set in code, on the builder
/// [`builder`](Self::builder) returns.
///
/// # Examples
///
/// ```
/// use resil::config::LimitConfig;
/// use resil::core::ManualClock;
/// use resil::shed::Priority;
///
/// let config: LimitConfig = toml::from_str(r#"
///     algorithm = { kind = "fixed", limit = 10 }
///     reserve = { critical = 0.5 }
///     max_queue = 100
///     max_wait = "50ms"
///     codel = { target = "5ms", interval = "100ms" }
/// "#)?;
/// let limiter = config.build(ManualClock::new())?;
/// let batch: Vec<_> = (0..10).filter_map(|_| limiter.try_acquire(Priority::Sheddable).ok()).collect();
/// assert_eq!(batch.len(), 5); // half the limit is kept for critical work
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitConfig {
    /// The limit and how it adapts.
    pub algorithm: LimitAlgorithm,
    /// Shares of the limit kept for each priority against less critical ones.
    #[serde(default)]
    pub reserve: ReserveConfig,
    /// How many requests may wait at once; at most 4095.
    #[serde(default)]
    pub max_queue: Option<usize>,
    /// How long a request may wait before it is shed.
    #[serde(default, deserialize_with = "field::optional::max_wait")]
    pub max_wait: Option<Duration>,
    /// CoDel with adaptive LIFO in the wait queue.
    #[serde(default)]
    pub codel: Option<CodelConfig>,
}

/// The share of the limit (in `[0, 1]`, adding up to at most 1) each
/// priority keeps against less critical levels; unset levels keep none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveConfig {
    /// [`Priority::CriticalPlus`]'s share.
    #[serde(default)]
    pub critical_plus: Option<f64>,
    /// [`Priority::Critical`]'s share.
    #[serde(default)]
    pub critical: Option<f64>,
    /// [`Priority::SheddablePlus`]'s share.
    #[serde(default)]
    pub sheddable_plus: Option<f64>,
    /// [`Priority::Sheddable`]'s share.
    #[serde(default)]
    pub sheddable: Option<f64>,
}

/// CoDel's two knobs: a level whose queue has not been empty for `interval`
/// serves its newest waiters first and sheds those older than `target`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodelConfig {
    /// The longest a waiter should wait once the queue is standing.
    #[serde(deserialize_with = "field::target")]
    pub target: Duration,
    /// How long the queue must stay non-empty before CoDel acts.
    #[serde(deserialize_with = "field::interval")]
    pub interval: Duration,
}

impl LimitConfig {
    /// A [`ConcurrencyLimitBuilder`] with every configured knob set, on
    /// `clock`, and already validated: the builder's own `build()` has
    /// accepted these values, so the caller may add a name and a listener
    /// and build again without a configuration error.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] naming the field (`limit.algorithm.backoff_ratio`,
    /// `limit.reserve`, `limit.codel.target`, …) that the algorithm or the
    /// limiter refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil::config::LimitConfig;
    /// use resil::core::ManualClock;
    ///
    /// let config: LimitConfig = toml::from_str(r#"
    ///     algorithm = { kind = "aimd", backoff_ratio = 1.5 }
    /// "#)?;
    /// let err = config.builder(ManualClock::new()).unwrap_err();
    /// assert_eq!(err.path(), "limit.algorithm.backoff_ratio");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder<C: Clock + Clone>(
        &self,
        clock: C,
    ) -> Result<ConcurrencyLimitBuilder<AnyLimit, C>, InvalidConfig> {
        // The limiter's builder cannot be cloned: check a twin.
        self.knobs(clock.clone())?.build().map_err(|e| self.at(e))?;
        self.knobs(clock)
    }

    /// The limiter, built on `clock`.
    ///
    /// # Errors
    ///
    /// As [`builder`](Self::builder).
    pub fn build<C: Clock>(
        &self,
        clock: C,
    ) -> Result<ConcurrencyLimit<AnyLimit, C>, InvalidConfig> {
        self.knobs(clock)?.build().map_err(|e| self.at(e))
    }

    fn knobs<C: Clock>(
        &self,
        clock: C,
    ) -> Result<ConcurrencyLimitBuilder<AnyLimit, C>, InvalidConfig> {
        let algorithm = self
            .algorithm
            .build()
            .map_err(|e| InvalidConfig::new("limit.algorithm", e.field(), e))?;
        let mut builder = ConcurrencyLimit::builder(algorithm).clock(clock);
        let reserve = &self.reserve;
        for (priority, share) in [
            (Priority::CriticalPlus, reserve.critical_plus),
            (Priority::Critical, reserve.critical),
            (Priority::SheddablePlus, reserve.sheddable_plus),
            (Priority::Sheddable, reserve.sheddable),
        ] {
            if let Some(share) = share {
                builder = builder.reserve(priority, share);
            }
        }
        if let Some(waiters) = self.max_queue {
            builder = builder.max_queue(waiters);
        }
        if let Some(wait) = self.max_wait {
            builder = builder.max_wait(wait);
        }
        if let Some(codel) = self.codel {
            builder = builder.codel(codel.target, codel.interval);
        }
        Ok(builder)
    }

    /// A limiter builder's error, with the path of its key in the file.
    fn at(&self, error: ConfigError) -> InvalidConfig {
        let key = match error.field() {
            // The limiter reports the first bad share without its level:
            // the first level holding that value is the one.
            "reserve" => self.reserve.level_of(&error).unwrap_or("reserve"),
            "reserves" => "reserve",
            "codel target" => "codel.target",
            "codel interval" => "codel.interval",
            "limit" => {
                return InvalidConfig::new("limit.algorithm", self.algorithm.initial_key(), error);
            }
            other => other,
        };
        InvalidConfig::new("limit", key, error)
    }
}

impl ReserveConfig {
    /// The path of the share a limiter's `reserve` error is about.
    fn level_of(&self, error: &ConfigError) -> Option<&'static str> {
        let ConfigError::Invalid {
            value: Value::Float(bad),
            ..
        } = *error
        else {
            return None;
        };
        [
            ("reserve.critical_plus", self.critical_plus),
            ("reserve.critical", self.critical),
            ("reserve.sheddable_plus", self.sheddable_plus),
            ("reserve.sheddable", self.sheddable),
        ]
        .into_iter()
        .find(|(_, share)| share.is_some_and(|s| s == bad || (s.is_nan() && bad.is_nan())))
        .map(|(key, _)| key)
    }
}
