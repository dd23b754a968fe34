//! A configuration value the technique crates refused, and where it was.
//!
//! Why a path? A [`ConfigError`] from a builder says `invalid factor`, which
//! is enough when the call that set the factor is on the line above. In a
//! file with a retry policy and a breaker that both have a backoff, the
//! reader needs to know *which* factor: `retry.backoff.factor`.

use alloc::string::String;

use resil_core::ConfigError;

/// A value in a configuration that its policy's builder refused, with the
/// path of the field in the file.
///
/// The check itself is the technique crate's own `build()`: this type only
/// adds where the value came from.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "retry")] {
/// use resil::config::ResilConfig;
///
/// let config: ResilConfig = serde_json::from_str(
///     r#"{ "retry": { "backoff": { "growth": "exponential", "base": "100ms", "factor": 0.5 } } }"#,
/// )?;
/// let err = config.validate().unwrap_err();
/// assert_eq!(err.path(), "retry.backoff.factor");
/// assert_eq!(
///     err.to_string(),
///     "retry.backoff.factor: invalid factor: got 0.5, expected a finite number of at least 1",
/// );
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{path}: {error}")]
pub struct InvalidConfig {
    path: String,
    error: ConfigError,
}

impl InvalidConfig {
    /// `error`, reported by a builder for `field`, found at `section.field`.
    #[cfg(any(feature = "retry", feature = "breaker", feature = "shed"))]
    pub(crate) fn new(section: &str, field: &str, error: ConfigError) -> Self {
        InvalidConfig {
            path: alloc::format!("{section}.{field}"),
            error,
        }
    }

    /// `error` for a top-level field.
    pub(crate) fn top_level(error: ConfigError) -> Self {
        InvalidConfig {
            path: error.field().into(),
            error,
        }
    }

    /// Where the value is, as dotted keys: `"retry.backoff.factor"`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What the builder said about it.
    pub fn error(&self) -> &ConfigError {
        &self.error
    }
}
