//! Sliding windows of call outcomes: what the breaker's rate conditions are
//! evaluated over.
//!
//! Two kinds, as in resilience4j: a **count** window holds the last N
//! outcomes whenever they happened (it reacts at the pace of the traffic),
//! a **time** window holds the outcomes of the last T (it forgets at the
//! pace of the clock, so a quiet hour wipes it).
//!
//! # Why O(1) reads
//!
//! The breaker reads the totals after every outcome it records, to decide
//! whether to trip. Walking a window of 100,000 slots or 1,000 buckets on
//! every call would make the closed-state success path cost what the window
//! is long. Both windows therefore keep **running totals** in one atomic
//! word, moved as outcomes enter and leave; a read is one load (a time
//! window may first expire the buckets the clock has left behind, at most
//! once per bucket width).
//!
//! # Why periods
//!
//! The breaker empties its window each time it closes. A call admitted
//! before that may finish after it: its outcome describes the dependency as
//! it was, and must not count against the fresh window. Every record
//! therefore names the *period* of its permit, and a window counts only
//! records of the period it is in. Each reset also starts a new internal
//! *generation* (resets so far), and the words that a record updates carry
//! the generation's low bits: an update computed before a reset cannot land
//! after it.
//!
//! # What both windows guarantee, whatever the interleaving
//!
//! - `record`, `totals` and `reset` take no lock and never allocate; every
//!   update is a compare-and-swap on one word, so a preempted thread never
//!   blocks another.
//! - **Exact at rest.** When no record is in flight, the totals are exactly
//!   what the window holds.
//! - **Never under, never wrapped.** A record counts its outcome *before*
//!   publishing it, and the thread that evicts outcomes (a slot overwritten,
//!   a bucket expired) uncounts them *after* unpublishing them. So the
//!   totals are never below what the window holds, and above it only by
//!   what operations in flight are moving: one outcome per record, one
//!   bucket per expiry between its two steps. Reads clamp
//!   `failures ≤ calls` and `slow ≤ calls` (and `calls ≤ size` for a count
//!   window): a rate computed from them is never above 1. No counter ever
//!   carries into its neighbour.
//! - **Stale records stay out.** A record of period p racing `reset(q)` is
//!   either counted before the reset (and erased by it) or not counted at
//!   all, never counted in q. Records of q made before `reset(q)` has taken
//!   effect are not counted either.
//!
//! Each file documents its packing, its limits and its remaining races.

mod count;
mod time;

use core::time::Duration;

use resil_core::Instant;

pub(crate) use self::count::CountWindow;
pub(crate) use self::time::TimeWindow;

/// The largest count window: 100,000 outcomes. The count window's totals
/// keep 18 bits per counter (262,143), which leaves room for 162,143
/// records in flight at once above a full window before a counter would
/// saturate (see `window/count.rs`).
pub(crate) const MAX_COUNT_WINDOW: u32 = 100_000;

/// The most buckets a time window may have: each costs 16 bytes, and a
/// reset or a jump of the clock visits every one of them.
pub(crate) const MAX_BUCKETS: u32 = 1_000;

/// One call's outcome as the window counts it (ignored outcomes are never
/// recorded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sample {
    /// The call failed.
    pub(crate) failure: bool,
    /// The call took longer than the slow-call duration.
    pub(crate) slow: bool,
}

/// What a window holds now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    /// Outcomes in the window.
    pub(crate) calls: u32,
    /// Of which failures.
    pub(crate) failures: u32,
    /// Of which slow calls (failed or not).
    pub(crate) slow: u32,
}

/// A sliding window of outcomes, shared by every thread that records.
#[derive(Debug)]
pub(crate) enum Window {
    /// The last N outcomes.
    Count(CountWindow),
    /// The outcomes of the last T.
    Time(TimeWindow),
}

impl Window {
    /// The last `size` outcomes (1 ≤ size ≤ [`MAX_COUNT_WINDOW`], validated
    /// by the breaker's builder).
    pub(crate) fn count(size: u32) -> Self {
        Window::Count(CountWindow::new(size))
    }

    /// The outcomes of the last `length`, in `buckets` buckets of
    /// `length / buckets` each (length > 0, 1 ≤ buckets ≤ [`MAX_BUCKETS`],
    /// length / buckets ≥ 1 ns: validated by the builder).
    pub(crate) fn time(length: Duration, buckets: u32) -> Self {
        Window::Time(TimeWindow::new(length, buckets))
    }

    /// Records one outcome in period `period` at time `now` and returns the
    /// totals right after. An outcome from a period other than the current
    /// one (a permit issued before the last `reset`) is not counted, and
    /// returns the current totals. A new window is in period 0.
    #[inline]
    pub(crate) fn record(&self, period: u32, sample: Sample, now: Instant) -> Totals {
        match self {
            Window::Count(window) => window.record(period, sample),
            Window::Time(window) => window.record(period, sample, now),
        }
    }

    /// Whether a plain success may skip recording: a full count window of
    /// plain successes, which a success leaves as it is (never for a time
    /// window, whose buckets a record also moves along).
    #[inline]
    pub(crate) fn healthy(&self) -> bool {
        match self {
            Window::Count(window) => window.healthy(),
            Window::Time(_) => false,
        }
    }

    /// The totals now (a time window first drops buckets that have fallen
    /// out of the window).
    pub(crate) fn totals(&self, now: Instant) -> Totals {
        match self {
            Window::Count(window) => window.totals(),
            Window::Time(window) => window.totals(now),
        }
    }

    /// Empties the window and starts period `period` (the breaker calls this
    /// when it closes). Emptying needs no clock.
    pub(crate) fn reset(&self, period: u32) {
        match self {
            Window::Count(window) => window.reset(period),
            Window::Time(window) => window.reset(period),
        }
    }
}

/// Three counters (calls, failures, slow calls) of `BITS` bits each, packed
/// in the low `3 × BITS` bits of a `u64`, with a tag in the bits above them
/// whose meaning the owner decides.
///
/// All arithmetic stops at the ends of a counter (`plus` at its maximum,
/// `minus` at zero) instead of carrying into the next one: a counter that
/// would overflow is wrong, its neighbours are not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tally<const BITS: u32>(pub(crate) u64);

impl<const BITS: u32> Tally<BITS> {
    /// The largest value a counter holds.
    pub(crate) const MAX: u64 = (1 << BITS) - 1;
    /// Where the tag starts.
    const TAG_SHIFT: u32 = 3 * BITS;
    /// The largest tag.
    pub(crate) const TAG_MAX: u64 = u64::MAX >> Self::TAG_SHIFT;
    /// The three counters' bits.
    const COUNTERS: u64 = (1 << Self::TAG_SHIFT) - 1;
    /// The lowest bit of each field but the first: where a carry (or a
    /// borrow) out of a counter would land.
    const BOUNDARIES: u64 = (1 << BITS) | (1 << (2 * BITS)) | (1 << Self::TAG_SHIFT);

    /// The tally stored as `word`.
    pub(crate) const fn from_bits(word: u64) -> Self {
        Tally(word)
    }

    /// All counters zero, with `tag` (masked to the bits it has).
    pub(crate) const fn empty(tag: u64) -> Self {
        Tally((tag & Self::TAG_MAX) << Self::TAG_SHIFT)
    }

    /// One outcome, untagged.
    pub(crate) const fn one(sample: Sample) -> Self {
        Self::new(0, 1, sample.failure as u64, sample.slow as u64)
    }

    /// The counters given, each at most [`Self::MAX`].
    const fn new(tag: u64, calls: u64, failures: u64, slow: u64) -> Self {
        Tally(
            ((tag & Self::TAG_MAX) << Self::TAG_SHIFT)
                | (slow << (2 * BITS))
                | (failures << BITS)
                | calls,
        )
    }

    pub(crate) const fn tag(self) -> u64 {
        self.0 >> Self::TAG_SHIFT
    }

    pub(crate) const fn calls(self) -> u64 {
        self.0 & Self::MAX
    }

    pub(crate) const fn failures(self) -> u64 {
        (self.0 >> BITS) & Self::MAX
    }

    pub(crate) const fn slow(self) -> u64 {
        (self.0 >> (2 * BITS)) & Self::MAX
    }

    /// Whether every counter is zero.
    pub(crate) const fn is_zero(self) -> bool {
        self.calls() == 0 && self.failures() == 0 && self.slow() == 0
    }

    /// Adds `other`'s counters, each stopping at [`Self::MAX`]; keeps the tag.
    ///
    /// The hot paths add or take away one outcome to counters far from
    /// their ends: one add of the whole word, checked for a carry across a
    /// counter's boundary (`a ^ b ^ (a + b)` has a bit set where a carry
    /// came in), does it; only a carry takes the counter-by-counter path.
    #[inline]
    pub(crate) fn plus(self, other: Self) -> Self {
        let add = other.0 & Self::COUNTERS;
        let sum = self.0.wrapping_add(add);
        if (self.0 ^ add ^ sum) & Self::BOUNDARIES == 0 {
            return Tally(sum);
        }
        self.plus_each(other)
    }

    #[cold]
    fn plus_each(self, other: Self) -> Self {
        Self::new(
            self.tag(),
            (self.calls() + other.calls()).min(Self::MAX),
            (self.failures() + other.failures()).min(Self::MAX),
            (self.slow() + other.slow()).min(Self::MAX),
        )
    }

    /// Subtracts `other`'s counters, each stopping at zero; keeps the tag.
    /// (One subtraction of the whole word unless a counter would borrow,
    /// as in [`plus`](Self::plus).)
    #[inline]
    pub(crate) fn minus(self, other: Self) -> Self {
        let sub = other.0 & Self::COUNTERS;
        let difference = self.0.wrapping_sub(sub);
        if (self.0 ^ sub ^ difference) & Self::BOUNDARIES == 0 {
            return Tally(difference);
        }
        self.minus_each(other)
    }

    #[cold]
    fn minus_each(self, other: Self) -> Self {
        Self::new(
            self.tag(),
            self.calls().saturating_sub(other.calls()),
            self.failures().saturating_sub(other.failures()),
            self.slow().saturating_sub(other.slow()),
        )
    }

    /// The counters as totals, at most `max_calls` calls, and failures and
    /// slow calls at most the calls: whatever a racing update left in the
    /// word, no rate computed from the result exceeds 1.
    pub(crate) fn totals(self, max_calls: u64) -> Totals {
        let calls = self.calls().min(max_calls);
        Totals {
            calls: narrow(calls),
            failures: narrow(self.failures().min(calls)),
            slow: narrow(self.slow().min(calls)),
        }
    }
}

/// `value` as a `u32`, saturating (counters have at most 21 bits).
fn narrow(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use super::*;

    const OK: Sample = Sample {
        failure: false,
        slow: false,
    };
    const FAILED: Sample = Sample {
        failure: true,
        slow: false,
    };
    const SLOW_FAILURE: Sample = Sample {
        failure: true,
        slow: true,
    };

    type T = Tally<18>;

    #[test]
    fn windows_are_send_and_sync() {
        fn check<W: Send + Sync>() {}
        check::<Window>();
        check::<CountWindow>();
        check::<TimeWindow>();
    }

    #[test]
    fn tally_packs_three_counters_and_a_tag() {
        let t = T::new(T::TAG_MAX, T::MAX, 5, T::MAX - 1);
        assert_eq!(T::TAG_MAX, (1 << 10) - 1);
        assert_eq!(
            (t.tag(), t.calls(), t.failures(), t.slow()),
            (T::TAG_MAX, T::MAX, 5, T::MAX - 1)
        );
        assert_eq!(
            T::empty(T::TAG_MAX + 3).tag(),
            2,
            "tags are masked, never spill"
        );
        assert!(T::empty(9).is_zero());
        assert_eq!(T::one(SLOW_FAILURE), T::new(0, 1, 1, 1));
        assert_eq!(T::one(OK), T::new(0, 1, 0, 0));
    }

    #[test]
    fn tally_saturates_per_counter_instead_of_carrying() {
        let full = T::new(3, T::MAX, T::MAX, 0);
        let more = full.plus(T::one(FAILED));
        assert_eq!(
            (more.tag(), more.calls(), more.failures(), more.slow()),
            (3, T::MAX, T::MAX, 0)
        );
        let empty = T::empty(3).minus(T::one(SLOW_FAILURE));
        assert_eq!(empty, T::empty(3));
        let back = T::new(3, 2, 1, 1).minus(T::one(SLOW_FAILURE));
        assert_eq!(back, T::new(3, 1, 0, 0));
    }

    proptest::proptest! {
        /// The one-word fast paths agree with counter-by-counter arithmetic,
        /// at the ends of the counters too.
        #[test]
        fn tally_arithmetic_matches_each_counter(
            tag in 0..=T::TAG_MAX,
            a in proptest::array::uniform3(proptest::prop_oneof![0..4u64, T::MAX - 3..=T::MAX]),
            b in proptest::array::uniform3(proptest::prop_oneof![0..4u64, T::MAX - 3..=T::MAX]),
            other_tag in 0..=T::TAG_MAX,
        ) {
            let x = T::new(tag, a[0], a[1], a[2]);
            let y = T::new(other_tag, b[0], b[1], b[2]);
            proptest::prop_assert_eq!(x.plus(y), x.plus_each(y));
            proptest::prop_assert_eq!(x.minus(y), x.minus_each(y));
        }
    }

    #[test]
    fn tally_totals_never_report_a_rate_above_one() {
        // A word a racing update could leave behind: more failures than calls.
        let odd = T::new(0, 2, 5, 9);
        assert_eq!(
            odd.totals(u64::MAX),
            Totals {
                calls: 2,
                failures: 2,
                slow: 2
            }
        );
        assert_eq!(
            T::new(0, 12, 11, 3).totals(10),
            Totals {
                calls: 10,
                failures: 10,
                slow: 3
            }
        );
    }

    #[test]
    fn window_dispatches_to_its_kind() {
        let now = Instant::ZERO;
        for window in [Window::count(2), Window::time(Duration::from_secs(1), 2)] {
            window.reset(4);
            assert_eq!(
                window.record(4, FAILED, now),
                Totals {
                    calls: 1,
                    failures: 1,
                    slow: 0
                }
            );
            assert_eq!(
                window.record(3, OK, now),
                Totals {
                    calls: 1,
                    failures: 1,
                    slow: 0
                }
            );
            assert_eq!(
                window.totals(now),
                Totals {
                    calls: 1,
                    failures: 1,
                    slow: 0
                }
            );
            window.reset(5);
            assert_eq!(window.totals(now), Totals::default());
        }
    }
}
