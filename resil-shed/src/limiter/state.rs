//! The limiter's admission rule as pure functions over a packed word.
//!
//! [`Counts`] holds the permits out per priority level (12 bits each) *and
//! the current limit* (16 bits) in one `u64`. One compare-and-swap admits a
//! request against the limit and the reserves at once, and a limit change is
//! a compare-and-swap on the same word: an admission and a shrinking limit
//! are ordered, so no permit is ever admitted against a limit that has
//! already been lowered. The rule:
//!
//! - nothing is admitted once the permits out reach the limit;
//! - a level's reserve protects it against *less* critical levels only: a
//!   request may not take capacity that a more critical level has reserved
//!   and is not using. So the most critical level is refused only when the
//!   limit is reached, and a more critical request is never refused where a
//!   less critical one would be admitted.

use crate::Priority;

/// Levels of priority.
pub(crate) const LEVELS: usize = 4;

/// The largest limit (and queue) the packing allows: 12 bits per level.
pub(crate) const MAX_LIMIT: u32 = 4_095;

const LEVEL_BITS: u32 = 12;
const LEVEL_MASK: u64 = (1 << LEVEL_BITS) - 1;
const LIMIT_SHIFT: u32 = 48;

/// Permits out (or waiters) per level, 12 bits each, and the limit in the
/// top 16 bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts(pub(crate) u64);

impl Counts {
    /// No permits out, under `limit`.
    pub(crate) const fn with_limit(limit: u32) -> Counts {
        Counts((limit as u64) << LIMIT_SHIFT)
    }

    /// The limit the word carries.
    pub(crate) const fn limit(self) -> u32 {
        (self.0 >> LIMIT_SHIFT) as u32
    }

    /// The same counts under a new `limit`.
    pub(crate) const fn relimited(self, limit: u32) -> Counts {
        Counts((self.0 & ((1 << LIMIT_SHIFT) - 1)) | ((limit as u64) << LIMIT_SHIFT))
    }

    /// The increment of one at `level`, for the waiter counts.
    pub(crate) const fn unit(level: usize) -> u64 {
        1 << (LEVEL_BITS as usize * level)
    }

    pub(crate) const fn of(self, level: usize) -> u32 {
        ((self.0 >> (LEVEL_BITS as usize * level)) & LEVEL_MASK) as u32
    }

    pub(crate) const fn total(self) -> u32 {
        self.of(0) + self.of(1) + self.of(2) + self.of(3)
    }

    /// One more permit at `level` (the caller has checked the limit, which
    /// keeps every level within its 12 bits).
    pub(crate) const fn plus(self, level: usize) -> Counts {
        Counts(self.0 + Self::unit(level))
    }
}

/// Reserves, in thousandths of the limit, per level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reserves(pub(crate) [u32; LEVELS]);

impl Reserves {
    /// Level `level`'s reserve in permits at `limit`.
    pub(crate) const fn at(&self, level: usize, limit: u32) -> u32 {
        ((limit as u64 * self.0[level] as u64) / 1000) as u32
    }
}

/// Whether one more request at `priority` may be admitted under the limit
/// the word carries.
pub(crate) fn admits(counts: Counts, reserves: &Reserves, priority: Priority) -> bool {
    let limit = counts.limit();
    let total = counts.total();
    if total >= limit {
        return false;
    }
    let held_back: u32 = (0..priority.index())
        .filter(|&level| reserves.0[level] != 0)
        .map(|level| reserves.at(level, limit).saturating_sub(counts.of(level)))
        .sum();
    total.saturating_add(held_back) < limit
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Kills the `<<` → `>>` mutant in `with_limit` (cargo xtask mutants):
    /// a new word carries its limit and no permits.
    #[test]
    fn a_new_word_carries_its_limit_and_nothing_else() {
        for limit in [1, 2, 100, MAX_LIMIT] {
            let word = Counts::with_limit(limit);
            assert_eq!(word.limit(), limit);
            assert_eq!(word.total(), 0);
            assert_eq!(word.relimited(7).limit(), 7);
        }
    }

    fn counts(levels: [u32; LEVELS]) -> Counts {
        levels
            .iter()
            .enumerate()
            .fold(Counts::default(), |c, (level, &n)| {
                (0..n).fold(c, |c, _| c.plus(level))
            })
    }

    #[test]
    fn packing_keeps_levels_apart() {
        let c = counts([1, 2, 3, 4]);
        assert_eq!([c.of(0), c.of(1), c.of(2), c.of(3)], [1, 2, 3, 4]);
        assert_eq!(c.total(), 10);
        assert_eq!(c.relimited(7).limit(), 7);
        assert_eq!(
            c.relimited(7).total(),
            10,
            "the limit leaves the counts alone"
        );
    }

    #[test]
    fn without_reserves_every_level_shares_the_limit() {
        let none = Reserves::default();
        for p in Priority::ALL {
            assert!(admits(counts([0, 0, 0, 9]).relimited(10), &none, p));
            assert!(!admits(counts([0, 0, 0, 10]).relimited(10), &none, p));
        }
    }

    #[test]
    fn a_reserve_holds_back_less_critical_levels_only() {
        // Critical reserves half of 10.
        let reserves = Reserves([0, 500, 0, 0]);
        let busy = counts([0, 0, 0, 5]); // sheddable borrowed the other half
        assert!(!admits(busy.relimited(10), &reserves, Priority::Sheddable));
        assert!(!admits(
            busy.relimited(10),
            &reserves,
            Priority::SheddablePlus
        ));
        assert!(admits(busy.relimited(10), &reserves, Priority::Critical));
        assert!(admits(
            busy.relimited(10),
            &reserves,
            Priority::CriticalPlus
        ));
        // Once critical uses its reserve, the rest is shared again.
        let used = counts([0, 5, 0, 4]);
        assert!(admits(used.relimited(10), &reserves, Priority::Sheddable));
    }

    proptest! {
        #[test]
        fn a_more_critical_request_is_never_refused_where_a_less_critical_one_is_admitted(
            levels in proptest::array::uniform4(0u32..20),
            limit in 1u32..60,
            permille in proptest::array::uniform4(0u32..=250),
        ) {
            let c = counts(levels);
            let reserves = Reserves(permille);
            for (more, less) in [(0, 1), (1, 2), (2, 3), (0, 3)] {
                let (more, less) = (Priority::ALL[more], Priority::ALL[less]);
                if admits(c.relimited(limit), &reserves, less) {
                    prop_assert!(admits(c.relimited(limit), &reserves, more));
                }
            }
            // And nothing is admitted at or past the limit.
            if c.total() >= limit {
                for p in Priority::ALL {
                    prop_assert!(!admits(c.relimited(limit), &reserves, p));
                }
            }
        }

        #[test]
        fn a_level_under_its_reserve_is_admitted_against_less_critical_ones(
            limit in 4u32..60,
            mine in 0u32..4,
        ) {
            // Critical reserves half; sheddable holds all it may.
            let reserves = Reserves([0, 500, 0, 0]);
            let reserve = reserves.at(1, limit);
            prop_assume!(mine < reserve);
            let others = limit - reserve;
            let c = counts([0, mine, 0, others]);
            prop_assert!(admits(c.relimited(limit), &reserves, Priority::Critical));
            prop_assert!(!admits(c.relimited(limit), &reserves, Priority::Sheddable));
        }
    }
}
