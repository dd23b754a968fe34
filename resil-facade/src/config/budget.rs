//! A retry budget as written in a file, and the budget it makes.
//!
//! A file chooses the kind of budget at run time, so it builds
//! resil-retry's [`AnyBudget`]: one type whichever the file names, at the
//! cost of one branch per call.

use core::time::Duration;

use resil_core::{Clock, ConfigError};
use resil_retry::{AnyBudget, RatioBudget, TokenBucket};
use serde::Deserialize;

use super::duration::field;

/// A retry budget, tagged by its `kind`: `"ratio"` or `"token_bucket"`.
///
/// Unset knobs take the builder's defaults (see
/// [`RatioBudgetBuilder`](resil_retry::RatioBudgetBuilder): ratio 0.2,
/// 10 retries a second, a 10s window). A token bucket has no defaults: both
/// its knobs are required, as [`TokenBucket::new`] requires them.
///
/// # Examples
///
/// ```
/// use resil::config::BudgetConfig;
/// use resil::core::ManualClock;
///
/// let config: BudgetConfig = toml::from_str(r#"
///     kind = "ratio"
///     ratio = 0.1
///     window = "30s"
/// "#)?;
/// let budget = config.build(ManualClock::new())?;
/// assert!(format!("{budget:?}").contains("ratio: 0.1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BudgetConfig {
    /// A [`RatioBudget`]: `ratio` retries per request over a `window`, plus
    /// `min_per_second` whatever the traffic (Finagle, tower).
    Ratio {
        /// Retries allowed per request, in `[0, 1000]`.
        #[serde(default)]
        ratio: Option<f64>,
        /// Retries a second allowed whatever the traffic.
        #[serde(default)]
        min_per_second: Option<u32>,
        /// How long a deposit counts; at most an hour.
        #[serde(default, deserialize_with = "field::optional::window")]
        window: Option<Duration>,
    },
    /// A [`TokenBucket`] (gRPC's retry throttling): failures take a token,
    /// successes give back `token_ratio`, and retries stop while the bucket
    /// is at most half full.
    TokenBucket {
        /// The bucket's size, in `1..=1000`.
        max_tokens: u32,
        /// Tokens a success gives back, kept to thousandths.
        token_ratio: f64,
    },
}

impl BudgetConfig {
    /// Builds the budget, its window (if any) measured on `clock`.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`RatioBudgetBuilder::build`] or
    /// [`TokenBucket::new`]; its field is the key in the file.
    ///
    /// [`RatioBudgetBuilder::build`]: resil_retry::RatioBudgetBuilder::build
    pub fn build<C: Clock>(&self, clock: C) -> Result<AnyBudget<C>, ConfigError> {
        match *self {
            BudgetConfig::Ratio {
                ratio,
                min_per_second,
                window,
            } => {
                let mut builder = RatioBudget::builder();
                if let Some(ratio) = ratio {
                    builder = builder.ratio(ratio);
                }
                if let Some(min) = min_per_second {
                    builder = builder.min_per_second(min);
                }
                if let Some(window) = window {
                    builder = builder.window(window);
                }
                builder.clock(clock).build().map(AnyBudget::Ratio)
            }
            BudgetConfig::TokenBucket {
                max_tokens,
                token_ratio,
            } => TokenBucket::new(max_tokens, token_ratio).map(AnyBudget::TokenBucket),
        }
    }
}
