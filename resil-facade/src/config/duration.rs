//! Durations as people write them in configuration files: `"250ms"`,
//! `"1.5s"`, `"2m"`.
//!
//! Why strings with a unit, and no bare numbers? A bare `250` is a guess
//! waiting to go wrong: milliseconds to one reader, seconds to the next, and
//! a timeout off by a factor of a thousand is the kind of mistake that only
//! shows in an incident. So every duration names its unit, and a number
//! without one is an error that says so.
//!
//! Why exact? `"1.1s"` is parsed in integers, digit by digit, so it is
//! exactly 1,100,000,000 ns (an `f64` would make it 1,099,999,999). A value
//! finer than a nanosecond or beyond [`Duration::MAX`] is an error, never
//! rounded or clamped.

use alloc::string::String;
use core::fmt;
use core::time::Duration;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// The units a duration may be written in, with their length in
/// nanoseconds, as listed in error messages.
const UNITS: [(&str, u128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// More decimal places than this (after trailing zeros are dropped) could
/// overflow the exact arithmetic, and cannot be a whole number of
/// nanoseconds in any unit here.
const MAX_DECIMALS: usize = 24;

/// Why a duration string was refused.
///
/// # Examples
///
/// ```
/// use resil::config::{DurationError, parse_duration};
///
/// assert_eq!(parse_duration("250"), Err(DurationError::MissingUnit));
/// assert_eq!(
///     parse_duration("250 ms").unwrap_err().to_string(),
///     "unknown unit \" ms\" (expected ns, us, ms, s, m or h)",
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// The string is empty.
    #[error("it is empty")]
    Empty,
    /// A number without a unit (`"250"`).
    #[error("it has no unit (write \"250ms\", not \"250\")")]
    MissingUnit,
    /// The unit is not one of `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`.
    #[error("unknown unit {0:?} (expected ns, us, ms, s, m or h)")]
    UnknownUnit(String),
    /// The number is missing or malformed (`"ms"`, `"1.s"`, `"1e3ms"`).
    #[error("expected a number such as 250 or 1.5 before the unit")]
    InvalidNumber,
    /// A minus sign: durations are never negative.
    #[error("durations cannot be negative")]
    Negative,
    /// Not a whole number of nanoseconds (`"1.5ns"`).
    #[error("it is finer than a nanosecond")]
    TooPrecise,
    /// Longer than [`Duration::MAX`].
    #[error("it is longer than the longest duration")]
    TooLong,
}

/// Parses a duration written as a number and a unit: `"250ms"`, `"1.5s"`,
/// `"2m"`, `"100us"`, `"10ns"`.
///
/// The number is a whole number or a decimal (`"0.25s"`; a digit is
/// needed on both sides of the point), with no sign, exponent or spaces.
/// The unit is one of `ns`, `us` (or `µs`), `ms`, `s`, `m` (minutes) or `h`.
/// The result is exact: `"1.1s"` is 1.1 seconds to the nanosecond.
///
/// # Errors
///
/// [`DurationError`] saying what is wrong: no unit (a bare number is never
/// taken as milliseconds or seconds), an unknown unit, a malformed or
/// negative number, a value finer than a nanosecond, or one beyond
/// [`Duration::MAX`].
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil::config::parse_duration;
///
/// assert_eq!(parse_duration("250ms")?, Duration::from_millis(250));
/// assert_eq!(parse_duration("1.5s")?, Duration::from_millis(1_500));
/// assert_eq!(parse_duration("2m")?, Duration::from_secs(120));
/// assert_eq!(parse_duration("100us")?, Duration::from_micros(100));
/// assert_eq!(parse_duration("10ns")?, Duration::from_nanos(10));
/// assert!(parse_duration("1.5ns").is_err());
/// # Ok::<(), resil::config::DurationError>(())
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return Err(DurationError::InvalidNumber);
    }
    if unit.is_empty() {
        return Err(DurationError::MissingUnit);
    }
    let nanos_per_unit = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, nanos)| nanos)
        .ok_or_else(|| DurationError::UnknownUnit(unit.into()))?;

    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (number, ""),
    };
    // A digit on both sides of a point, and only one point.
    if whole.is_empty() || (number.contains('.') && fraction.is_empty()) || fraction.contains('.') {
        return Err(DurationError::InvalidNumber);
    }
    let whole = digits(whole)
        .and_then(|w| w.checked_mul(nanos_per_unit))
        .ok_or(DurationError::TooLong)?;

    let fraction = fraction.trim_end_matches('0');
    let fraction_nanos = if fraction.is_empty() {
        0
    } else {
        if fraction.len() > MAX_DECIMALS {
            return Err(DurationError::TooPrecise);
        }
        // Both fit: fraction < 10^24 and nanos_per_unit < 10^13.
        let scaled = digits(fraction).ok_or(DurationError::TooPrecise)? * nanos_per_unit;
        let divisor = 10u128.pow(fraction.len() as u32);
        if scaled % divisor != 0 {
            return Err(DurationError::TooPrecise);
        }
        scaled / divisor
    };

    let total = whole
        .checked_add(fraction_nanos)
        .ok_or(DurationError::TooLong)?;
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| DurationError::TooLong)?;
    // Below 10^9, so it fits.
    let subsec = (total % 1_000_000_000) as u32;
    Ok(Duration::new(secs, subsec))
}

/// The value of a string of ASCII digits, `None` on overflow.
fn digits(text: &str) -> Option<u128> {
    text.bytes().try_fold(0u128, |acc, b| {
        acc.checked_mul(10)?.checked_add(u128::from(b - b'0'))
    })
}

/// Deserializes the duration of `field`, naming it in every error.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
    field: &'static str,
) -> Result<Duration, D::Error> {
    deserializer.deserialize_str(DurationVisitor { field })
}

/// Deserializes the optional duration of `field`: a missing value or a
/// null (JSON's `null`) is `None`, as for every other optional knob.
pub(crate) fn deserialize_optional<'de, D: Deserializer<'de>>(
    deserializer: D,
    field: &'static str,
) -> Result<Option<Duration>, D::Error> {
    deserializer.deserialize_option(OptionalVisitor { field })
}

/// Reads a null or a duration string.
#[derive(Debug)]
struct OptionalVisitor {
    field: &'static str,
}

impl<'de> Visitor<'de> for OptionalVisitor {
    type Value = Option<Duration>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        DurationVisitor { field: self.field }.expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        deserialize(d, self.field).map(Some)
    }
}

/// Reads a duration string; says which field was wrong, and why.
#[derive(Debug)]
pub(crate) struct DurationVisitor {
    pub(crate) field: &'static str,
}

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a duration with a unit for `{}`, like \"250ms\" or \"1.5s\"",
            self.field
        )
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        parse_duration(text).map_err(|reason| {
            E::custom(format_args!(
                "invalid duration {text:?} for `{}`: {reason}",
                self.field
            ))
        })
    }
}

/// One deserializer function per duration field, so that the error names
/// the field whatever the format (serde tells a field's deserializer
/// nothing about where it is). `optional::NAME` reads an `Option`.
macro_rules! named {
    (required: $($field:ident),*; optional: $($optional:ident),* $(,)?) => {
        $(
            pub(crate) fn $field<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
                deserialize(d, stringify!($field))
            }
        )*

        /// The same, for optional fields (`#[serde(default)]` makes a
        /// missing one `None`).
        pub(crate) mod optional {
            use core::time::Duration;
            use serde::Deserializer;

            $(
                pub(crate) fn $optional<'de, D: Deserializer<'de>>(
                    d: D,
                ) -> Result<Option<Duration>, D::Error> {
                    super::deserialize_optional(d, stringify!($optional))
                }
            )*
        }
    };
}

/// The named field deserializers the config types use. Each is used by
/// some technique's config, so a build without every technique leaves some
/// unused.
#[cfg_attr(
    not(all(feature = "retry", feature = "breaker", feature = "shed")),
    allow(dead_code)
)]
pub(crate) mod field {
    use super::{deserialize, deserialize_optional};
    use core::time::Duration;
    use serde::Deserializer;

    named!(
        required: base, delay, duration, interval, length, step, target;
        optional: attempt_timeout, half_open_timeout, max_delay, max_elapsed, max_hint, max_wait,
            timeout, total_timeout, window,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn ok(text: &str) -> Duration {
        parse_duration(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn every_unit() {
        assert_eq!(ok("10ns"), Duration::from_nanos(10));
        assert_eq!(ok("100us"), Duration::from_micros(100));
        assert_eq!(ok("100µs"), Duration::from_micros(100));
        assert_eq!(ok("100μs"), Duration::from_micros(100));
        assert_eq!(ok("250ms"), Duration::from_millis(250));
        assert_eq!(ok("3s"), Duration::from_secs(3));
        assert_eq!(ok("2m"), Duration::from_secs(120));
        assert_eq!(ok("1h"), Duration::from_secs(3_600));
        assert_eq!(ok("0s"), Duration::ZERO);
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(ok("1.5s"), Duration::from_millis(1_500));
        assert_eq!(ok("1.1s"), Duration::from_nanos(1_100_000_000));
        assert_eq!(ok("0.25ms"), Duration::from_micros(250));
        assert_eq!(ok("1.000000001s"), Duration::new(1, 1));
        assert_eq!(ok("1.5m"), Duration::from_secs(90));
        assert_eq!(ok("0.001us"), Duration::from_nanos(1));
        assert_eq!(ok("2.50000000000000000000000000000s"), ok("2.5s"));
        assert_eq!(ok("007ms"), Duration::from_millis(7));
    }

    #[test]
    fn the_longest_duration_and_one_beyond() {
        let max = Duration::MAX;
        let text = alloc::format!("{}.{:09}s", max.as_secs(), max.subsec_nanos());
        assert_eq!(ok(&text), max);
        // One nanosecond more is a whole second past u64::MAX.
        let beyond = alloc::format!("{}.000000000s", u128::from(max.as_secs()) + 1);
        assert_eq!(parse_duration(&beyond), Err(DurationError::TooLong));
        assert_eq!(
            parse_duration("99999999999999999999999999999999999999999h"),
            Err(DurationError::TooLong)
        );
        assert_eq!(
            parse_duration("18446744073709551616s"),
            Err(DurationError::TooLong)
        );
    }

    #[test]
    fn refusals_say_why() {
        use DurationError::*;
        for (text, why) in [
            ("", Empty),
            ("250", MissingUnit),
            ("1.5", MissingUnit),
            ("ms", InvalidNumber),
            (".5s", InvalidNumber),
            ("1.s", InvalidNumber),
            ("1..5s", InvalidNumber),
            ("1.2.3s", InvalidNumber),
            ("+1s", InvalidNumber),
            (" 5s", InvalidNumber),
            ("-1s", Negative),
            ("1.5ns", TooPrecise),
            ("0.0001us", TooPrecise),
            ("0.0000000000000000000000001h", TooPrecise),
        ] {
            assert_eq!(parse_duration(text), Err(why), "{text:?}");
        }
        for (text, unit) in [
            ("1e3ms", "e3ms"),
            ("5sec", "sec"),
            ("5 s", " s"),
            ("5s ", "s "),
            ("5d", "d"),
            ("5MS", "MS"),
        ] {
            assert_eq!(
                parse_duration(text),
                Err(UnknownUnit(unit.into())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn messages_are_lowercase_phrases() {
        assert_eq!(
            parse_duration("250").unwrap_err().to_string(),
            "it has no unit (write \"250ms\", not \"250\")"
        );
        assert_eq!(
            parse_duration("2x").unwrap_err().to_string(),
            "unknown unit \"x\" (expected ns, us, ms, s, m or h)"
        );
    }
}
