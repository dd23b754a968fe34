//! A schedule's position, stepped from one delay to the next.
//!
//! Why not recompute: [`Growth::nominal`] answers "the n-th delay" from
//! scratch, which an exponential pays for with a `u128` power by squaring
//! and a fibonacci with a loop up to `n`. An iterator only ever asks for the
//! next one, and each next delay is one multiplication or addition away
//! from the current one, capped at `max`. Capping commutes with stepping
//! because every growth is non-decreasing: once a delay reaches `max` every
//! later one is `max`, and a capped delay stepped and capped again is the
//! capped true value. So the cursor's delays are exactly `nominal`'s (the
//! tests check them against each other), at a few instructions a step.
//!
//! Why `u64`: a delay below 2^64 ns (584 years) steps in one 64-bit
//! operation, and every delay does when `max_delay` does. Only a schedule
//! without such a cap can grow past it; from there on the cursor is *wide*
//! and recomputes each delay with `nominal`, as slow as before and as exact.
//! The `f64` exponential always recomputes: stepping `scale *= factor`
//! would round differently from `nominal`'s squaring.

use super::Backoff;
use super::growth::Growth;

/// The nominal delay before retry `index`, and (for fibonacci) the one
/// after it, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Cursor {
    /// The growth, as far as a narrow step needs it.
    step: Step,
    index: u32,
    /// The delay, while `narrow`.
    delay: u64,
    /// Fibonacci: the delay before retry `index + 1`, while `narrow`.
    next: u64,
    /// `max` if it fits a `u64`, else `u64::MAX`.
    max: u64,
    /// Whether `max` fits a `u64`: then a step past `u64::MAX` is `max`,
    /// otherwise it makes the cursor wide.
    capped: bool,
    /// Whether `delay` and `next` hold the schedule (otherwise recompute).
    narrow: bool,
}

/// How a narrow delay steps: [`Growth`] without its `u128`s, so that a step
/// reads one `u64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Constant,
    Add(u64),
    Times(u64),
    Fibonacci,
    /// The `f64` exponential, and a linear step of 2^64 ns or more.
    Recompute,
}

impl Cursor {
    /// The position before the first retry: `base` (`base ≤ max`).
    pub(super) fn start(backoff: &Backoff) -> Self {
        let (base, max) = (backoff.base, backoff.max);
        let step = match backoff.growth {
            Growth::Constant => Step::Constant,
            Growth::Linear { step } => u64::try_from(step).map_or(Step::Recompute, Step::Add),
            Growth::ExponentialInt { factor } => Step::Times(factor),
            Growth::ExponentialFloat { .. } => Step::Recompute,
            Growth::Fibonacci => Step::Fibonacci,
        };
        let capped = u64::try_from(max).is_ok();
        let narrow = u64::try_from(base).ok();
        let delay = narrow.unwrap_or(u64::MAX);
        Cursor {
            step,
            index: 0,
            delay,
            next: delay,
            max: u64::try_from(max).unwrap_or(u64::MAX),
            capped,
            narrow: narrow.is_some(),
        }
    }

    /// How many steps have been taken (saturating at `u32::MAX`).
    pub(super) const fn index(&self) -> u32 {
        self.index
    }

    /// The nominal delay at this position, if it is below 2^64.
    #[inline]
    pub(super) const fn narrow(&self) -> Option<u64> {
        if self.narrow { Some(self.delay) } else { None }
    }

    /// The nominal delay at this position, in `[base, max]`.
    pub(super) fn delay(&self, backoff: &Backoff) -> u128 {
        match self.narrow() {
            Some(delay) => delay.into(),
            None => backoff.nominal(self.index),
        }
    }

    /// Moves to the next retry. At index `u32::MAX` it stays put, as
    /// [`Growth::nominal`]'s index cannot go further either.
    #[inline]
    pub(super) fn advance(&mut self, backoff: &Backoff) {
        let Some(index) = self.index.checked_add(1) else {
            return;
        };
        self.index = index;
        if !self.narrow {
            return;
        }
        let delay = match self.step {
            Step::Constant => return,
            Step::Add(step) => self.delay.checked_add(step),
            Step::Times(factor) => self.delay.checked_mul(factor),
            Step::Recompute => recompute(backoff, index),
            Step::Fibonacci => {
                let after = self
                    .delay
                    .checked_add(self.next)
                    .map(|after| after.min(self.max));
                match after {
                    Some(after) => Some(core::mem::replace(&mut self.next, after)),
                    // `next` is the delay, `after` is `max`.
                    None if self.capped => Some(core::mem::replace(&mut self.next, self.max)),
                    None => None,
                }
            }
        };
        match delay {
            Some(delay) => self.delay = delay.min(self.max),
            // Past 2^64: that is `max` if `max` is below it, otherwise wide.
            None if self.capped => self.delay = self.max,
            None => self.narrow = false,
        }
    }
}

/// `nominal`, if it is below 2^64.
#[cold]
#[inline(never)]
fn recompute(backoff: &Backoff, index: u32) -> Option<u64> {
    u64::try_from(backoff.nominal(index)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Jitter;

    fn backoff(growth: Growth, base: u128, max: u128) -> Backoff {
        let jitter = Jitter::None;
        Backoff {
            growth,
            base,
            max,
            jitter,
        }
    }

    /// Steps a cursor `n` times and checks each position against `nominal`.
    fn agrees(growth: Growth, base: u128, max: u128, n: u32) {
        let backoff = backoff(growth, base, max);
        let mut cursor = Cursor::start(&backoff);
        for index in 0..n {
            assert_eq!(cursor.index(), index);
            let expected = growth.nominal(base, index, max);
            let delay = cursor.delay(&backoff);
            assert_eq!(
                delay, expected,
                "{growth:?} base {base} max {max} at {index}"
            );
            if let Some(narrow) = cursor.narrow() {
                assert_eq!(u128::from(narrow), expected);
            }
            cursor.advance(&backoff);
        }
    }

    const TWO_TO_THE_64: u128 = 1 << 64;

    #[test]
    fn stepping_matches_recomputing() {
        let u64_max = u128::from(u64::MAX);
        let maxes = [
            1_000,
            10_000_000_000,
            u64_max - 1,
            u64_max,
            TWO_TO_THE_64,
            u128::MAX,
        ];
        for max in maxes {
            for base in [0, 1, 3, 999, 1_000, u64_max - 1, u64_max, TWO_TO_THE_64] {
                if base > max {
                    continue;
                }
                agrees(Growth::Constant, base, max, 300);
                agrees(Growth::Linear { step: 7 }, base, max, 300);
                agrees(Growth::Linear { step: u64_max }, base, max, 300);
                agrees(
                    Growth::Linear {
                        step: u128::MAX / 3,
                    },
                    base,
                    max,
                    300,
                );
                if base == 0 {
                    continue;
                }
                for factor in [1, 2, 3, 10, u64::MAX] {
                    agrees(Growth::ExponentialInt { factor }, base, max, 300);
                }
                agrees(Growth::exponential(1.5), base, max, 300);
                agrees(Growth::exponential(1e300), base, max, 300);
                agrees(Growth::Fibonacci, base, max, 300);
            }
        }
    }

    #[test]
    fn crossing_two_to_the_sixty_four_is_exact() {
        // 3^40 < 2^64 < 3^41: the step from one to the other leaves the
        // narrow cursor, with or without a cap above 2^64.
        for max in [u128::MAX, TWO_TO_THE_64 * 2, TWO_TO_THE_64] {
            agrees(Growth::ExponentialInt { factor: 3 }, 1, max, 90);
            agrees(Growth::Fibonacci, 1, max, 200);
            agrees(Growth::Linear { step: 1 << 60 }, 1, max, 40);
        }
        let backoff = backoff(Growth::ExponentialInt { factor: 3 }, 1, u128::MAX);
        let mut cursor = Cursor::start(&backoff);
        for _ in 0..41 {
            cursor.advance(&backoff);
        }
        assert_eq!(cursor.narrow(), None);
    }

    #[test]
    fn the_last_index_stays_put() {
        let growth = Growth::Linear { step: 1 };
        let last = u64::from(u32::MAX);
        let backoff = backoff(growth, 0, u128::MAX);
        let mut cursor = Cursor::start(&backoff);
        (cursor.index, cursor.delay) = (u32::MAX - 1, last - 1);
        cursor.advance(&backoff);
        assert_eq!((cursor.index(), cursor.narrow()), (u32::MAX, Some(last)));
        cursor.advance(&backoff);
        assert_eq!((cursor.index(), cursor.narrow()), (u32::MAX, Some(last)));
        assert_eq!(growth.nominal(0, u32::MAX, u128::MAX), last.into());
    }
}
