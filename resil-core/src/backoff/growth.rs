//! The nominal delay schedules, as pure saturating arithmetic on `u128`
//! nanoseconds. Every function here returns a value in `[0, max]` for every
//! input, in a bounded number of steps.

use core::time::Duration;

/// How the nominal delay grows from one retry to the next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Growth {
    Constant,
    /// Nanoseconds added per retry.
    Linear {
        step: u128,
    },
    /// A whole-number factor (below 2^64), multiplied exactly.
    ExponentialInt {
        factor: u64,
    },
    /// Any other factor (finite, ≥ 1), multiplied in `f64`.
    ExponentialFloat {
        factor: f64,
    },
    Fibonacci,
}

impl Growth {
    /// An exponential growth for a validated (finite, ≥ 1) factor.
    pub(super) fn exponential(factor: f64) -> Self {
        // Whole factors below 2^64 multiply exactly in integers. (`f64::fract`
        // is not in `core`; the saturating cast round-trips only whole numbers.)
        let whole = factor as u64;
        if factor < 18_446_744_073_709_551_616.0 && whole as f64 == factor {
            Growth::ExponentialInt { factor: whole }
        } else {
            Growth::ExponentialFloat { factor }
        }
    }

    /// The delay before retry `index` (from 0), in `[0, max]`.
    pub(super) fn nominal(self, base: u128, index: u32, max: u128) -> u128 {
        let delay = match self {
            Growth::Constant => base,
            Growth::Linear { step } => step.saturating_mul(index.into()).saturating_add(base),
            Growth::ExponentialInt { factor } => pow_int(factor.into(), index, max)
                .and_then(|scale| base.checked_mul(scale))
                .unwrap_or(max),
            Growth::ExponentialFloat { factor } => exponential_float(base, factor, index, max),
            Growth::Fibonacci => fibonacci(base, index, max),
        };
        delay.min(max)
    }
}

/// `factor^index`, or `None` once it exceeds `limit` (by squaring: at most
/// 64 multiplications).
fn pow_int(factor: u128, mut index: u32, limit: u128) -> Option<u128> {
    let mut acc: u128 = 1;
    let mut square = Some(factor);
    while index > 0 {
        if index & 1 == 1 {
            acc = acc.checked_mul(square?).filter(|&a| a <= limit)?;
        }
        index >>= 1;
        if index > 0 {
            square = square.and_then(|s| s.checked_mul(s));
        }
    }
    Some(acc)
}

/// `base · factor^index` in `f64`, which is exact for bases up to 2^53 ns
/// (about 104 days) and within one part in 2^53 above. Never below `base`.
fn exponential_float(base: u128, factor: f64, mut index: u32, max: u128) -> u128 {
    if index == 0 {
        return base;
    }
    // Scale needed to reach `max`; beyond it the answer is `max`.
    let limit = max as f64 / base as f64;
    let mut scale = 1.0_f64;
    let mut square = factor;
    while index > 0 {
        if index & 1 == 1 {
            scale *= square;
            if scale > limit {
                return max;
            }
        }
        index >>= 1;
        // Squaring past f64::MAX gives infinity (never NaN: every operand is
        // at least 1), which the check above turns into `max`.
        square *= square;
    }
    let delay = base as f64 * scale;
    // Rounding `base` to `f64` must not make a delay shorter than the first.
    if delay < max as f64 {
        (delay as u128).max(base)
    } else {
        max
    }
}

/// `base · F(index + 1)` with `F(1) = F(2) = 1`. Stops as soon as the value
/// reaches `max`, so it never loops more than ~190 times.
fn fibonacci(base: u128, index: u32, max: u128) -> u128 {
    let (mut current, mut next): (u128, u128) = (1, 1);
    for _ in 0..index {
        match current.checked_mul(base) {
            Some(delay) if delay < max => {}
            _ => return max,
        }
        (current, next) = (next, current.saturating_add(next));
    }
    current.checked_mul(base).unwrap_or(max)
}

/// `nanos` as a `Duration`; values beyond `Duration::MAX` saturate.
#[inline]
pub(super) fn to_duration(nanos: u128) -> Duration {
    // Below 2^64 (584 years) the division by 10^9 is a 64-bit one, which
    // compiles to a multiplication; `u128` division is a library call.
    match u64::try_from(nanos) {
        Ok(nanos) => Duration::from_nanos(nanos),
        Err(_) => to_duration_wide(nanos),
    }
}

#[cold]
fn to_duration_wide(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    if nanos >= Duration::MAX.as_nanos() {
        return Duration::MAX;
    }
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    // The remainder is below 10^9, so it fits.
    let subsec = (nanos % NANOS_PER_SEC) as u32;
    Duration::new(secs, subsec)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u128 = u128::MAX;

    #[test]
    fn integer_powers_are_exact_and_saturate() {
        assert_eq!(pow_int(2, 0, MAX), Some(1));
        assert_eq!(pow_int(2, 10, MAX), Some(1024));
        assert_eq!(pow_int(3, 5, MAX), Some(243));
        assert_eq!(pow_int(2, 127, MAX), Some(1 << 127));
        assert_eq!(pow_int(2, 128, MAX), None);
        assert_eq!(pow_int(2, 11, 1024), None);
        assert_eq!(pow_int(1, u32::MAX, MAX), Some(1));
    }

    #[test]
    fn exponential_keeps_sub_millisecond_bases_exact() {
        let g = Growth::exponential(2.0);
        assert_eq!(g.nominal(1_500, 3, MAX), 12_000);
        let g = Growth::exponential(1.5);
        assert_eq!(g.nominal(100_000, 2, MAX), 225_000);
    }

    /// Whole factors below 2^64 multiply exactly in integers: 3^40 is
    /// above 2^53, where `f64` would round it. 2^64 itself is a float.
    #[test]
    fn whole_factors_multiply_in_integers() {
        assert_eq!(
            Growth::exponential(2.0),
            Growth::ExponentialInt { factor: 2 }
        );
        let g = Growth::exponential(3.0);
        assert_eq!(g.nominal(1, 40, MAX), 3u128.pow(40));
        let two_to_the_64 = 18_446_744_073_709_551_616.0;
        let g = Growth::exponential(two_to_the_64);
        assert!(matches!(g, Growth::ExponentialFloat { .. }), "{g:?}");
        assert_eq!(g.nominal(1, 1, MAX), 1 << 64);
    }

    /// A float delay a hair under `max` is truncated, not rounded up to
    /// `max`: 11 × (15/11 in f64) is 14.999999999999998.
    #[test]
    fn float_exponential_truncates_just_below_the_cap() {
        let g = Growth::ExponentialFloat {
            factor: 15.0 / 11.0,
        };
        assert_eq!(g.nominal(11, 1, 15), 14);
    }

    #[test]
    fn float_exponential_saturates_on_huge_factors() {
        let g = Growth::exponential(1e300);
        assert!(matches!(g, Growth::ExponentialFloat { .. }));
        assert_eq!(g.nominal(1, 0, 1_000), 1);
        assert_eq!(g.nominal(1, 1, 1_000), 1_000);
        assert_eq!(g.nominal(1, u32::MAX, 1_000), 1_000);
        let g = Growth::exponential(1.000_000_1);
        assert_eq!(g.nominal(1_000, u32::MAX, 5_000), 5_000);
    }

    #[test]
    fn fibonacci_sequence_and_saturation() {
        let seq: [u128; 7] = core::array::from_fn(|i| fibonacci(10, i as u32, MAX));
        assert_eq!(seq, [10, 10, 20, 30, 50, 80, 130]);
        assert_eq!(fibonacci(10, u32::MAX, 1_000), 1_000);
        assert_eq!(fibonacci(1, u32::MAX, MAX), MAX);
    }

    #[test]
    fn linear_saturates() {
        let g = Growth::Linear { step: 5 };
        assert_eq!(g.nominal(10, 3, MAX), 25);
        assert_eq!(g.nominal(10, u32::MAX, 100), 100);
        let g = Growth::Linear { step: MAX };
        assert_eq!(g.nominal(MAX, u32::MAX, MAX), MAX);
    }

    #[test]
    fn durations_round_trip_and_saturate() {
        assert_eq!(to_duration(Duration::MAX.as_nanos()), Duration::MAX);
        assert_eq!(to_duration(u128::MAX), Duration::MAX);
        assert_eq!(to_duration(1_500), Duration::from_nanos(1_500));
    }
}
