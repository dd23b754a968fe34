//! Invalid configuration, reported rather than clamped.
//!
//! Every resil builder validates in `build()` and returns a [`ConfigError`]
//! naming the field, the value it got and what it expected. Nothing is
//! silently clamped and nothing panics: a NaN factor or a minimum above its
//! maximum is a mistake the caller should hear about at start-up, not a
//! hot retry loop discovered in production.
//!
//! The `check_*` functions are the shared validators the technique crates
//! use, public so that users writing their own policies report errors the
//! same way.

use core::cmp::Ordering;
use core::fmt;
use core::time::Duration;

/// A builder was given a value it cannot work with.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::Backoff;
///
/// let err = Backoff::exponential(Duration::from_millis(10), f64::NAN).build().unwrap_err();
/// assert_eq!(err.field(), "factor");
/// assert_eq!(err.to_string(), "invalid factor: got NaN, expected a finite number");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A field's value is outside what it accepts.
    #[error("invalid {field}: got {value}, expected {expected}")]
    Invalid {
        /// The builder method or field name.
        field: &'static str,
        /// The value given.
        value: Value,
        /// What the field accepts, as a phrase ("a finite number").
        expected: &'static str,
    },
    /// A lower bound is above its upper bound.
    #[error("{min_field} ({min}) must not exceed {max_field} ({max})")]
    MinAboveMax {
        /// The lower bound's name.
        min_field: &'static str,
        /// The lower bound's value.
        min: Value,
        /// The upper bound's name.
        max_field: &'static str,
        /// The upper bound's value.
        max: Value,
    },
}

impl ConfigError {
    /// A value outside what `field` accepts.
    pub fn invalid(field: &'static str, value: impl Into<Value>, expected: &'static str) -> Self {
        ConfigError::Invalid {
            field,
            value: value.into(),
            expected,
        }
    }

    /// The field at fault (for [`MinAboveMax`](Self::MinAboveMax), the lower bound).
    pub const fn field(&self) -> &'static str {
        match self {
            ConfigError::Invalid { field, .. } => field,
            ConfigError::MinAboveMax { min_field, .. } => min_field,
        }
    }
}

/// A configuration value, as reported in a [`ConfigError`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A floating-point knob (a factor, a rate).
    Float(f64),
    /// A duration.
    Duration(Duration),
    /// A count (attempts, permits, window size).
    Count(u64),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `{:?}` keeps huge and tiny values short: 1e300, not 301 digits.
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Duration(d) => write!(f, "{d:?}"),
            Value::Count(n) => write!(f, "{n}"),
        }
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}

impl From<Duration> for Value {
    fn from(d: Duration) -> Self {
        Value::Duration(d)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Count(n.into())
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Count(n)
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Self {
        Value::Count(u64::try_from(n).unwrap_or(u64::MAX))
    }
}

/// `x` must be finite and at least `min`.
///
/// # Errors
///
/// [`ConfigError::Invalid`] naming `field` if `x` is NaN, infinite or below
/// `min` (or `min` is NaN).
pub fn check_at_least(
    field: &'static str,
    x: f64,
    min: f64,
    expected: &'static str,
) -> Result<f64, ConfigError> {
    if !x.is_finite() {
        return Err(ConfigError::invalid(field, x, "a finite number"));
    }
    if x < min {
        return Err(ConfigError::invalid(field, x, expected));
    }
    Ok(x)
}

/// `rate` must be in `(0, 1]`, the range of failure and slow-call rates.
///
/// # Errors
///
/// [`ConfigError::Invalid`] naming `field` otherwise (NaN included).
pub fn check_rate(field: &'static str, rate: f64) -> Result<f64, ConfigError> {
    if rate > 0.0 && rate <= 1.0 {
        Ok(rate)
    } else {
        Err(ConfigError::invalid(field, rate, "a rate in (0, 1]"))
    }
}

/// `n` must be at least `min` (a count: attempts, permits, window size).
///
/// # Errors
///
/// [`ConfigError::Invalid`] naming `field` if `n < min`.
pub fn check_count(
    field: &'static str,
    n: u64,
    min: u64,
    expected: &'static str,
) -> Result<u64, ConfigError> {
    if n < min {
        Err(ConfigError::invalid(field, n, expected))
    } else {
        Ok(n)
    }
}

/// `d` must not be zero.
///
/// # Errors
///
/// [`ConfigError::Invalid`] naming `field` if `d` is zero.
pub fn check_non_zero(field: &'static str, d: Duration) -> Result<Duration, ConfigError> {
    if d.is_zero() {
        Err(ConfigError::invalid(
            field,
            d,
            "a duration greater than zero",
        ))
    } else {
        Ok(d)
    }
}

/// `min` must not exceed `max`.
///
/// # Errors
///
/// [`ConfigError::MinAboveMax`] if `min > max`, or if they do not compare
/// (a NaN).
pub fn check_ordered<T>(
    min_field: &'static str,
    min: T,
    max_field: &'static str,
    max: T,
) -> Result<(), ConfigError>
where
    T: PartialOrd + Into<Value>,
{
    // Incomparable bounds (a NaN) are as wrong as reversed ones.
    if !matches!(
        min.partial_cmp(&max),
        Some(Ordering::Less | Ordering::Equal)
    ) {
        Err(ConfigError::MinAboveMax {
            min_field,
            min: min.into(),
            max_field,
            max: max.into(),
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn messages_name_the_field_and_value() {
        let e = check_at_least("factor", f64::INFINITY, 1.0, "at least 1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid factor: got inf, expected a finite number"
        );
        let e = check_at_least("factor", 0.5, 1.0, "at least 1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid factor: got 0.5, expected at least 1"
        );
        let e = check_ordered("min", Duration::from_secs(2), "max", Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(e.to_string(), "min (2s) must not exceed max (1s)");
        assert_eq!(e.field(), "min");
        let e = check_non_zero("window", Duration::ZERO).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid window: got 0ns, expected a duration greater than zero"
        );
    }

    #[test]
    fn rates_accept_exactly_the_half_open_unit_interval() {
        for ok in [f64::MIN_POSITIVE, 0.5, 1.0] {
            assert_eq!(check_rate("rate", ok), Ok(ok));
        }
        for bad in [
            0.0,
            -0.0,
            -1.0,
            1.0 + f64::EPSILON,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(check_rate("rate", bad).unwrap_err().field(), "rate");
        }
    }

    #[test]
    fn values_convert_and_saturate() {
        assert_eq!(Value::from(3u32), Value::Count(3));
        assert_eq!(Value::from(usize::MAX), Value::Count(u64::MAX));
        assert_eq!(Value::from(7u64).to_string(), "7");
        assert!(check_ordered("lo", 1u32, "hi", 1u32).is_ok());
    }
}
