//! Randomising delays so that clients that failed together do not retry
//! together (see AWS's "Exponential Backoff and Jitter"). Every mode draws
//! from a range inside `[0, max]`, so jitter never escapes `max_delay`.

use rand::{Rng, RngCore};

/// How a nominal delay `d` is randomised.
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
    /// Uniform in `[d, 3 × previous delay]` (capped at `max_delay`): each
    /// delay grows from the one actually used before it, so clients drift
    /// apart. Never below the nominal delay.
    Decorrelated,
}

impl Jitter {
    /// The jittered delay for nominal `delay ≤ max`, all in nanoseconds.
    pub(super) fn apply<R: RngCore + ?Sized>(
        self,
        delay: u128,
        previous: u128,
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
                let high = previous.saturating_mul(3).min(max).max(delay);
                uniform(rng, delay, high)
            }
        }
    }
}

/// Uniform in `[low, high]`, `low ≤ high`.
fn uniform<R: RngCore + ?Sized>(rng: &mut R, low: u128, high: u128) -> u128 {
    if low == high {
        return low;
    }
    // Most ranges fit in 64 bits, where sampling is cheaper.
    match (u64::try_from(low), u64::try_from(high)) {
        (Ok(low), Ok(high)) => rng.random_range(low..=high).into(),
        _ => rng.random_range(low..=high),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    #[test]
    fn every_mode_stays_in_its_range() {
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..1_000 {
            assert_eq!(Jitter::None.apply(100, 0, 1_000, &mut rng), 100);
            assert!(Jitter::Full.apply(100, 0, 1_000, &mut rng) <= 100);
            assert!((50..=100).contains(&Jitter::Equal.apply(100, 0, 1_000, &mut rng)));
            assert!((100..=900).contains(&Jitter::Decorrelated.apply(100, 300, 1_000, &mut rng)));
            assert!((100..=1_000).contains(&Jitter::Decorrelated.apply(100, 900, 1_000, &mut rng)));
        }
    }

    #[test]
    fn huge_ranges_do_not_overflow() {
        let mut rng = SmallRng::seed_from_u64(2);
        let max = u128::MAX;
        assert!(Jitter::Full.apply(max, 0, max, &mut rng) <= max);
        assert!(Jitter::Equal.apply(max, 0, max, &mut rng) >= max / 2);
        assert_eq!(Jitter::Decorrelated.apply(max, max, max, &mut rng), max);
    }

    #[test]
    fn odd_delays_keep_equal_jitter_below_the_delay() {
        let mut rng = SmallRng::seed_from_u64(3);
        for _ in 0..100 {
            assert!(Jitter::Equal.apply(3, 0, 3, &mut rng) <= 3);
        }
    }
}
