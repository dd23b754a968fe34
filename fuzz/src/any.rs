//! Inputs shared by the fuzz targets: durations and floats that favour the
//! corners builders must survive (zero, `Duration::MAX`, NaN, ±∞,
//! subnormals), where plain `arbitrary` values would rarely land.

use core::time::Duration;

use arbitrary::{Arbitrary, Unstructured};

/// A duration, often a corner case.
#[derive(Debug, Clone, Copy)]
pub struct AnyDuration(pub Duration);

impl<'a> Arbitrary<'a> for AnyDuration {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(AnyDuration(match u.int_in_range(0..=5u8)? {
            0 => Duration::ZERO,
            1 => Duration::MAX,
            2 => Duration::from_nanos(u.int_in_range(1..=3)?),
            3 => Duration::from_millis(u.int_in_range(0..=10_000)?),
            4 => Duration::from_secs(u64::arbitrary(u)?),
            _ => Duration::new(u64::arbitrary(u)?, u.int_in_range(0..=999_999_999)?),
        }))
    }
}

/// A float, often a corner case.
#[derive(Debug, Clone, Copy)]
pub struct AnyFloat(pub f64);

impl<'a> Arbitrary<'a> for AnyFloat {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(AnyFloat(match u.int_in_range(0..=9u8)? {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => f64::MIN_POSITIVE / 2.0, // subnormal
            4 => -0.0,
            5 => f64::MAX,
            6 => 1.0,
            7 => f64::from(u.int_in_range(0..=1000u16)?) / 1000.0,
            8 => f64::from(u.int_in_range(0..=100u16)?) / 10.0,
            _ => f64::arbitrary(u)?,
        }))
    }
}

/// A count, often a corner case.
#[derive(Debug, Clone, Copy)]
pub struct AnyCount(pub u32);

impl<'a> Arbitrary<'a> for AnyCount {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(AnyCount(match u.int_in_range(0..=4u8)? {
            0 => 0,
            1 => u32::MAX,
            2 => 1,
            3 => u.int_in_range(0..=64)?,
            _ => u32::arbitrary(u)?,
        }))
    }
}
