//! A retry policy as written in a file.
//!
//! Every knob is optional: an unset knob is left to [`Retry::builder`]'s
//! default, so the defaults live in one place (`resil-retry`) and a file
//! only says what it changes.

use core::time::Duration;

use resil_core::Clock;
use resil_retry::{Retry, RetryBuilder};
use serde::Deserialize;

use super::duration::field;
use super::{AnyBudget, BackoffConfig, BudgetConfig, InvalidConfig};

/// The section name errors are reported under.
const SECTION: &str = "retry";

/// A [`Retry`] policy's knobs.
///
/// # Default
///
/// Every field is optional; unset, it is [`Retry`]'s default: 3 attempts,
/// no deadline, hints capped at 60s, [`Backoff::default()`](resil_core::Backoff::default) (exponential
/// from 100ms, doubling, capped at 10s, full jitter), no budget.
///
/// The name and listener are not configured here (a name is a
/// `&'static str`, a listener is code): set them on the builder
/// [`builder`](Self::builder) returns.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil::config::RetryConfig;
/// use resil::core::ManualClock;
///
/// let config: RetryConfig = toml::from_str(r#"
///     max_attempts = 5
///     max_elapsed = "2s"
///
///     [backoff]
///     growth = "constant"
///     delay = "100ms"
///
///     [budget]
///     kind = "token_bucket"
///     max_tokens = 10
///     token_ratio = 0.1
/// "#)?;
/// let retry = config.build(ManualClock::new())?;
/// assert_eq!(retry.max_attempts(), 5);
/// assert_eq!(retry.max_elapsed(), Some(Duration::from_secs(2)));
/// assert_eq!(retry.backoff().delay(3), Duration::from_millis(100));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// The most attempts per call, the first included; at least 1.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// A deadline for the whole call.
    #[serde(default, deserialize_with = "field::optional::max_elapsed")]
    pub max_elapsed: Option<Duration>,
    /// The longest wait a server hint may ask for.
    #[serde(default, deserialize_with = "field::optional::max_hint")]
    pub max_hint: Option<Duration>,
    /// The delays between attempts.
    #[serde(default)]
    pub backoff: Option<BackoffConfig>,
    /// A retry budget shared by the policy's calls.
    #[serde(default)]
    pub budget: Option<BudgetConfig>,
}

impl RetryConfig {
    /// A [`RetryBuilder`] with every configured knob set, its budget built
    /// on `clock`, and already validated: the builder's own `build()` has
    /// accepted these values, so the caller may add a name and a listener
    /// and build again without a configuration error.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] naming the field (`retry.max_attempts`,
    /// `retry.backoff.factor`, `retry.budget.window`, …) that the backoff,
    /// the budget or the retry builder refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil::config::RetryConfig;
    /// use resil::core::ManualClock;
    ///
    /// let config: RetryConfig = serde_json::from_str(r#"{ "max_attempts": 4 }"#)?;
    /// let retry = config.builder(ManualClock::new())?.name("payments").build()?;
    /// assert_eq!(retry.max_attempts(), 4);
    ///
    /// let zero: RetryConfig = serde_json::from_str(r#"{ "max_attempts": 0 }"#)?;
    /// let err = zero.builder(ManualClock::new()).unwrap_err();
    /// assert_eq!(err.path(), "retry.max_attempts");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder<C: Clock + Clone>(
        &self,
        clock: C,
    ) -> Result<RetryBuilder<C, AnyBudget<C>>, InvalidConfig> {
        // The policy's own knobs are checked by its `build()`, on a
        // throwaway copy without the budget (which cannot be cloned and is
        // checked by its own builder below).
        let knobs = self.knobs(clock.clone())?;
        knobs.clone().build().map_err(|e| self.at(e))?;
        let budget = self.budget(clock)?;
        Ok(knobs.budget(budget))
    }

    /// The policy, built on `clock`.
    ///
    /// # Errors
    ///
    /// As [`builder`](Self::builder).
    pub fn build<C: Clock + Clone>(
        &self,
        clock: C,
    ) -> Result<Retry<C, AnyBudget<C>>, InvalidConfig> {
        let budget = self.budget(clock.clone())?;
        self.knobs(clock)?
            .budget(budget)
            .build()
            .map_err(|e| self.at(e))
    }

    /// The configured budget on `clock`, [`AnyBudget::Unlimited`] if none:
    /// for sharing one budget between several policies (through an `Arc`).
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] naming the budget's field (`retry.budget.ratio`, …).
    pub fn budget<C: Clock>(&self, clock: C) -> Result<AnyBudget<C>, InvalidConfig> {
        match &self.budget {
            Some(budget) => budget
                .build(clock)
                .map_err(|e| InvalidConfig::new("retry.budget", e.field(), e)),
            None => Ok(AnyBudget::Unlimited),
        }
    }

    /// The builder with the configured knobs and backoff, no budget.
    fn knobs<C: Clock>(&self, clock: C) -> Result<RetryBuilder<C>, InvalidConfig> {
        let mut builder = Retry::builder().clock(clock);
        if let Some(backoff) = &self.backoff {
            let backoff = backoff.build_at("retry.backoff")?;
            builder = builder.backoff(backoff);
        }
        if let Some(attempts) = self.max_attempts {
            builder = builder.max_attempts(attempts);
        }
        if let Some(limit) = self.max_elapsed {
            builder = builder.max_elapsed(limit);
        }
        if let Some(ceiling) = self.max_hint {
            builder = builder.max_hint(ceiling);
        }
        Ok(builder)
    }

    /// A retry builder's error, with its path.
    fn at(&self, error: resil_core::ConfigError) -> InvalidConfig {
        InvalidConfig::new(SECTION, error.field(), error)
    }
}
