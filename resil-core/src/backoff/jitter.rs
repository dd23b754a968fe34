//! Randomising delays so that clients that failed together do not retry
//! together (see AWS's "Exponential Backoff and Jitter"). Every mode draws
//! from a range inside `[0, max]`, so jitter never escapes `max_delay`.
//!
//! Sampling is written here rather than taken from rand, so that a seeded
//! schedule depends on nothing but resil's own code.

use rand::RngCore;

/// How a nominal delay `d` is randomised.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Backoff, Jitter};
///
/// let backoff = Backoff::constant(Duration::from_millis(100)).jitter(Jitter::Equal).build()?;
/// for delay in backoff.iter().take(100) {
///     assert!(delay >= Duration::from_millis(50) && delay <= Duration::from_millis(100));
/// }
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Jitter {
    /// Exactly `d`.
    #[default]
    None,
    /// Uniform in `[0, d]`: the best spread, the lowest total load.
    Full,
    /// Uniform in `[d/2, d]`: spread, but never much shorter than planned.
    Equal,
    /// Uniform in `[base, max(d, 3 × previous delay)]`, capped at
    /// `max_delay`: each delay grows from the one actually used before it, so
    /// clients drift apart. With constant growth this is AWS's
    /// "decorrelated jitter" ([`Backoff::decorrelated`](crate::Backoff::decorrelated));
    /// with any other growth the range still reaches the nominal delay, so
    /// the spread never collapses.
    Decorrelated,
}

impl Jitter {
    /// The jittered delay for nominal `delay` with `base ≤ delay ≤ max`, all
    /// in nanoseconds.
    #[inline]
    pub(super) fn apply<R: RngCore + ?Sized>(
        self,
        delay: u128,
        previous: u128,
        base: u128,
        max: u128,
        rng: &mut R,
    ) -> u128 {
        match self {
            Jitter::None => delay,
            Jitter::Full => uniform(rng, 0, delay),
            Jitter::Equal => {
                let half = delay / 2;
                half + uniform(rng, 0, delay - half)
            }
            Jitter::Decorrelated => {
                let high = previous.saturating_mul(3).max(delay).min(max);
                uniform(rng, base.min(high), high)
            }
        }
    }

    /// [`apply`](Self::apply) in `u64`, for a nominal `delay` below 2^64 ns
    /// (584 years): the same draws and the same result, without carrying
    /// `u128`s through the hot path. `None` for decorrelated jitter, whose
    /// range depends on more than the nominal delay.
    #[inline]
    pub(super) fn apply_narrow<R: RngCore + ?Sized>(self, delay: u64, rng: &mut R) -> Option<u64> {
        match self {
            Jitter::None => Some(delay),
            Jitter::Full => Some(uniform_u64(rng, delay)),
            Jitter::Equal => {
                let half = delay / 2;
                Some(half + uniform_u64(rng, delay - half))
            }
            Jitter::Decorrelated => None,
        }
    }
}

/// Uniform in `[low, high]`, `low ≤ high`, by masked rejection: draw the
/// bits the span needs, retry if above it (fewer than two draws on average).
///
/// A span below 2^64 takes one 64-bit draw per try and is computed in
/// `u64`; a wider one takes two draws per try (high bits first).
#[inline]
fn uniform<R: RngCore + ?Sized>(rng: &mut R, low: u128, high: u128) -> u128 {
    let span = high - low;
    match u64::try_from(span) {
        Ok(span) => low + u128::from(uniform_u64(rng, span)),
        Err(_) => low + uniform_wide(rng, span),
    }
}

/// Uniform in `[0, span]`; no draw for a zero span.
#[inline]
fn uniform_u64<R: RngCore + ?Sized>(rng: &mut R, span: u64) -> u64 {
    if span == 0 {
        return 0;
    }
    let mask = u64::MAX >> span.leading_zeros();
    loop {
        let offset = rng.next_u64() & mask;
        if offset <= span {
            return offset;
        }
    }
}

/// Uniform in `[0, span]` for `span ≥ 2^64`.
#[cold]
fn uniform_wide<R: RngCore + ?Sized>(rng: &mut R, span: u128) -> u128 {
    let mask = u128::MAX >> span.leading_zeros();
    loop {
        let bits = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
        let offset = bits & mask;
        if offset <= span {
            return offset;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SplitMix64;

    #[test]
    fn every_mode_stays_in_its_range() {
        let mut rng = SplitMix64::new(1);
        for _ in 0..1_000 {
            assert_eq!(Jitter::None.apply(100, 0, 10, 1_000, &mut rng), 100);
            assert!(Jitter::Full.apply(100, 0, 10, 1_000, &mut rng) <= 100);
            assert!((50..=100).contains(&Jitter::Equal.apply(100, 0, 10, 1_000, &mut rng)));
            let d = Jitter::Decorrelated.apply(100, 300, 10, 1_000, &mut rng);
            assert!((10..=900).contains(&d));
            let d = Jitter::Decorrelated.apply(100, 900, 10, 1_000, &mut rng);
            assert!((10..=1_000).contains(&d));
            // A previous delay far below the nominal one cannot shrink the range.
            let d = Jitter::Decorrelated.apply(800, 20, 10, 1_000, &mut rng);
            assert!((10..=800).contains(&d));
        }
    }

    #[test]
    fn uniform_covers_small_ranges_evenly() {
        let mut rng = SplitMix64::new(2);
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            seen[usize::try_from(uniform(&mut rng, 3, 9) - 3).unwrap()] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1_200).contains(&n)), "{seen:?}");
    }

    #[test]
    fn huge_ranges_do_not_overflow() {
        let mut rng = SplitMix64::new(2);
        let max = u128::MAX;
        assert!(Jitter::Full.apply(max, 0, 1, max, &mut rng) <= max);
        assert!(Jitter::Equal.apply(max, 0, 1, max, &mut rng) >= max / 2);
        assert!(Jitter::Decorrelated.apply(max, max, 1, max, &mut rng) >= 1);
        // The full u128 range: both halves are reached.
        let draws: [u128; 64] = core::array::from_fn(|_| uniform(&mut rng, 0, u128::MAX));
        assert!(draws.iter().any(|d| d >> 127 == 1) && draws.iter().any(|d| d >> 127 == 0));
    }

    #[test]
    fn odd_delays_keep_equal_jitter_below_the_delay() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..100 {
            assert!(Jitter::Equal.apply(3, 0, 1, 3, &mut rng) <= 3);
        }
    }
}
