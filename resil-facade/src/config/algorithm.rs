//! A concurrency-limit algorithm as written in a file, and the limit it
//! makes.
//!
//! A file chooses the algorithm at run time, so it builds resil-shed's
//! [`AnyLimit`]: one type for the four, whichever the file names.

use resil_core::ConfigError;
use resil_shed::{Aimd, AnyLimit, Fixed, Gradient2, Vegas};
use serde::Deserialize;

use core::time::Duration;

use super::duration::field;

/// A limit algorithm, tagged by its `kind`: `"fixed"`, `"aimd"`,
/// `"gradient2"` or `"vegas"`.
///
/// An adaptive algorithm's unset knobs are its builder's defaults (see
/// [`AimdBuilder`](resil_shed::AimdBuilder),
/// [`Gradient2Builder`](resil_shed::Gradient2Builder),
/// [`VegasBuilder`](resil_shed::VegasBuilder): each starts at 20 within
/// `[1, 1000]`). A fixed limit has no default: `limit` is required.
///
/// # Examples
///
/// ```
/// use resil::config::LimitAlgorithm;
/// use resil::shed::Limit;
///
/// let config: LimitAlgorithm = toml::from_str(r#"
///     kind = "vegas"
///     initial = 50
///     alpha = 2.0
///     beta = 4.0
/// "#)?;
/// assert_eq!(config.build()?.limit(), 50);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LimitAlgorithm {
    /// A [`Fixed`] limit.
    Fixed {
        /// The limit; at least 1.
        limit: u32,
    },
    /// [`Aimd`]: additive increase, multiplicative decrease on failures and
    /// timeouts.
    Aimd {
        /// The limit to start from.
        #[serde(default)]
        initial: Option<u32>,
        /// The lowest the limit goes.
        #[serde(default)]
        min: Option<u32>,
        /// The highest the limit goes.
        #[serde(default)]
        max: Option<u32>,
        /// What a drop multiplies the limit by, in `[0.5, 1)`.
        #[serde(default)]
        backoff_ratio: Option<f64>,
        /// A success slower than this counts as a drop.
        #[serde(default, deserialize_with = "field::optional::timeout")]
        timeout: Option<Duration>,
        /// What a round trip of successes adds.
        #[serde(default)]
        increase: Option<f64>,
    },
    /// [`Gradient2`]: mean latency against a measured baseline.
    Gradient2 {
        /// The limit to start from.
        #[serde(default)]
        initial: Option<u32>,
        /// The lowest the limit goes.
        #[serde(default)]
        min: Option<u32>,
        /// The highest the limit goes.
        #[serde(default)]
        max: Option<u32>,
        /// Latency up to this times the baseline is not queueing; at least 1.
        #[serde(default)]
        tolerance: Option<f64>,
        /// How far a decrease moves toward its target, in `(0, 1]`.
        #[serde(default)]
        smoothing: Option<f64>,
        /// The growth per round, and the headroom at equilibrium.
        #[serde(default)]
        queue_size: Option<u32>,
        /// How many samples the baseline takes to follow faster calls.
        #[serde(default)]
        long_window: Option<u32>,
        /// A probe round every this many (or half as many) round trips.
        #[serde(default)]
        probe_multiplier: Option<u32>,
    },
    /// [`Vegas`]: the estimated queue, from the minimum latency.
    Vegas {
        /// The limit to start from.
        #[serde(default)]
        initial: Option<u32>,
        /// The lowest the limit goes.
        #[serde(default)]
        min: Option<u32>,
        /// The highest the limit goes.
        #[serde(default)]
        max: Option<u32>,
        /// Grow while the queue is below `alpha × log10(limit)`.
        #[serde(default)]
        alpha: Option<f64>,
        /// Shrink while the queue is above `beta × log10(limit)`.
        #[serde(default)]
        beta: Option<f64>,
        /// What a failure multiplies the limit by, in `[0.5, 1)`.
        #[serde(default)]
        backoff_ratio: Option<f64>,
        /// A probe round every this many (or half as many) round trips.
        #[serde(default)]
        probe_multiplier: Option<u32>,
    },
}

/// Calls `$builder.$knob(value)` for each knob that is set.
macro_rules! set {
    ($builder:expr, $($knob:ident),* $(,)?) => {{
        let mut builder = $builder;
        $(
            if let Some(value) = $knob {
                builder = builder.$knob(value);
            }
        )*
        builder
    }};
}

impl LimitAlgorithm {
    /// Builds the limit.
    ///
    /// # Errors
    ///
    /// The algorithm's [`ConfigError`] (from `Fixed::try_from` or the
    /// adaptive builders' `build()`); its field is the key in the file.
    pub fn build(&self) -> Result<AnyLimit, ConfigError> {
        Ok(match *self {
            LimitAlgorithm::Fixed { limit } => AnyLimit::Fixed(Fixed::try_from(limit)?),
            LimitAlgorithm::Aimd {
                initial,
                min,
                max,
                backoff_ratio,
                timeout,
                increase,
            } => AnyLimit::Aimd(
                set!(
                    Aimd::builder(),
                    initial,
                    min,
                    max,
                    backoff_ratio,
                    timeout,
                    increase
                )
                .build()?,
            ),
            LimitAlgorithm::Gradient2 {
                initial,
                min,
                max,
                tolerance,
                smoothing,
                queue_size,
                long_window,
                probe_multiplier,
            } => AnyLimit::Gradient2(
                set!(
                    Gradient2::builder(),
                    initial,
                    min,
                    max,
                    tolerance,
                    smoothing,
                    queue_size,
                    long_window,
                    probe_multiplier
                )
                .build()?,
            ),
            LimitAlgorithm::Vegas {
                initial,
                min,
                max,
                alpha,
                beta,
                backoff_ratio,
                probe_multiplier,
            } => AnyLimit::Vegas(
                set!(
                    Vegas::builder(),
                    initial,
                    min,
                    max,
                    alpha,
                    beta,
                    backoff_ratio,
                    probe_multiplier
                )
                .build()?,
            ),
        })
    }

    /// The key of the limit's starting value: the limiter reports a limit
    /// it cannot hold under this name.
    pub(crate) fn initial_key(&self) -> &'static str {
        match self {
            LimitAlgorithm::Fixed { .. } => "limit",
            _ => "initial",
        }
    }
}
