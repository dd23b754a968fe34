//! The count window: the last `size` outcomes, in a ring.
//!
//! # Design
//!
//! A record claims the next slot of a ring with one `fetch_add` on a
//! cursor, swaps its outcome into the slot, and moves the running totals by
//! "the slot went from what it held to this": reading the totals is then
//! one load, however long the window.
//!
//! Three kinds of atomic hold the state:
//!
//! - `current` (`u64`): the breaker's period (low 32 bits) and the window's
//!   **generation**, the number of resets so far (high 32 bits, wrapping),
//!   read together in one load.
//! - Each **slot** (`u32`): an occupied bit, a failure bit, a slow bit and
//!   the low 29 bits of the generation the outcome was recorded in. A slot
//!   of another generation counts as empty, so a reset does not touch the
//!   ring: it costs the same for a window of 1 and of 100,000.
//! - **`totals`** (`u64`, a [`Tally`]): calls, failures and slow calls in
//!   18 bits each, tagged with the low 10 bits of the generation they
//!   count. Every update is a compare-and-swap that checks the tag, so an
//!   update computed in one generation cannot land in the next.
//!
//! # A record, step by step
//!
//! 1. Load `current`. A permit of another period is not counted.
//! 2. **Count first**: add the outcome to the totals, if they are still
//!    tagged with the generation of step 1 (if not, a reset has happened
//!    since: not counted, nothing else is touched).
//! 3. Claim a slot and swap the outcome in, stamped with that generation.
//! 4. **Uncount after**: if the outcome swapped out belongs to the
//!    generation current *now* (loaded after the swap), subtract it from
//!    the totals, if they are tagged with that generation.
//!
//! Every outcome is counted before any thread can see it in a slot, and
//! uncounted only by the one thread that swapped it out, after the swap
//! (the swaps are acquire-release, so that thread sees the count). Hence
//! the totals are never below what the ring holds, and above it only by
//! the records between their steps 2 and 4.
//!
//! Step 4 is relative to the current generation, not the recorder's. That
//! is what keeps a stale record harmless: a record of generation g that
//! passed step 2 just before a reset to g + 1, and then evicts an outcome
//! of g + 1 from its slot, subtracts that outcome from the g + 1 totals;
//! the slot now holds a g outcome, which counts as empty. The ring has lost
//! one outcome of g + 1 to a stale one, and the totals agree.
//!
//! # A success into a healthy window
//!
//! When the totals show a full window and no failure or slow call
//! ([`CountWindow::healthy`]), the breaker does not record a plain success
//! at all: the outcome it would evict is a plain
//! success too, so the totals would not move, and which of two identical
//! successes leaves the ring first cannot be observed. The totals cannot
//! hide a failure: a failure is counted before it is placed and uncounted
//! only after it is evicted (step 2 and step 4), so while any failure is in
//! the ring or on its way there, the totals show it and every record takes
//! the full path. A record that would not have been counted (another
//! period, a reset under way) is not counted either way. Nor can such a
//! success trip the breaker, or end a run of consecutive failures (the
//! window would show the failures). So a healthy dependency's successes
//! cost one load.
//!
//! # Two records on one slot
//!
//! With more than `size` records in flight at once (always possible with a
//! window of 1), two records may claim the same slot. The swaps order
//! them: the later one evicts the earlier one's outcome and uncounts it,
//! which the earlier one had counted before its own swap. The ring keeps
//! "the last `size` outcomes" in swap order, and nothing is lost or
//! counted twice. Meanwhile a reader may see up to one extra call per
//! record in flight, which is why reads clamp `calls` to `size` and
//! `failures`, `slow` to `calls`.
//!
//! # Reset
//!
//! A reset moves `current` to the new period and the next generation, then
//! replaces the totals with empty ones tagged with that generation, unless
//! a later reset has moved `current` on in between, in which case the later
//! reset installs its own (the totals are loaded before `current`, so a
//! slow reset can never overwrite a newer one's totals). Records of the new
//! period arriving before the totals are re-tagged are not counted. The
//! cost is the same whatever the size: the ring is left as it is.
//!
//! # Limits
//!
//! - `size` ≤ [`MAX_COUNT_WINDOW`](super::MAX_COUNT_WINDOW) (100,000).
//!   With 18-bit counters (262,143), a full window can take 162,143 records
//!   in flight at once before a counter saturates; if one ever did, it
//!   would stop at its maximum rather than carry into its neighbour (and
//!   the totals would then run low by what it missed, until the next
//!   reset).
//! - The 10-bit tag on the totals: an update lands in the wrong generation
//!   only if 1,024 resets (full close cycles of the breaker) happen while
//!   one record is between its steps 1 and 4. The totals would then be off
//!   by that one outcome until the next reset.
//! - The 29-bit generation in a slot: an outcome reads as current again
//!   only if its slot is not overwritten during 2^29 resets.

use alloc::boxed::Box;
use core::fmt;

use super::{Sample, Tally, Totals};
use crate::loom::{AtomicU32, AtomicU64, Ordering};
use crate::padded::Padded;

/// The totals word: 18-bit counters and a 10-bit generation tag.
type Counts = Tally<18>;

/// Generation bits kept in a slot.
const SLOT_GENERATION_BITS: u32 = 29;
const SLOT_GENERATION_MASK: u32 = (1 << SLOT_GENERATION_BITS) - 1;
const OCCUPIED: u32 = 1;
const FAILURE: u32 = 1 << 1;
const SLOW: u32 = 1 << 2;

/// The last `size` recorded outcomes.
pub(crate) struct CountWindow {
    /// The ring, one outcome per slot (see the module docs for the bits).
    slots: Box<[AtomicU32]>,
    /// The period (low 32 bits) and generation (high 32 bits).
    current: AtomicU64,
    /// The words every record writes, on lines of their own (`padded.rs`):
    /// `current`, read by every record, stays shared by every core.
    hot: Padded<Hot>,
    /// `slots.len()`.
    size: u32,
}

/// The two words a record writes.
struct Hot {
    /// Records ever placed: the next one goes to `cursor % size`. A `u64`
    /// never wraps (at a record a nanosecond, it would take 584 years).
    cursor: AtomicU64,
    /// The running totals of the current generation, tagged with its low bits.
    totals: AtomicU64,
}

impl CountWindow {
    /// An empty window of `size` slots (at least 1), in period 0.
    pub(crate) fn new(size: u32) -> Self {
        let size = size.max(1);
        CountWindow {
            slots: (0..size).map(|_| AtomicU32::new(0)).collect(),
            current: AtomicU64::new(pack_current(0, 0)),
            hot: Padded(Hot {
                cursor: AtomicU64::new(0),
                totals: AtomicU64::new(Counts::empty(0).0),
            }),
            size,
        }
    }

    /// Records `sample` in `period`, returning the totals right after.
    pub(crate) fn record(&self, period: u32, sample: Sample) -> Totals {
        // 1. Which period and generation the window is in.
        let (current_period, generation) = unpack_current(self.current.load(Ordering::Acquire));
        if current_period != period {
            return self.totals();
        }
        // 2. Count first.
        let Some(mut after) = self.update(generation, |counts| counts.plus(Counts::one(sample)))
        else {
            return self.totals(); // A reset has begun since step 1.
        };
        // 3. Publish, evicting the slot's previous outcome.
        let slot = self.hot.cursor.fetch_add(1, Ordering::Relaxed) % u64::from(self.size);
        let new = slot_word(generation, sample);
        let old = self.slots[slot as usize].swap(new, Ordering::AcqRel);
        // 4. Uncount the evicted outcome if it is counted in the generation now current.
        let (_, latest) = unpack_current(self.current.load(Ordering::Acquire));
        match slot_sample(old) {
            Some(evicted) if slot_generation(old) == latest & SLOT_GENERATION_MASK => {
                match self.update(latest, |counts| counts.minus(Counts::one(evicted))) {
                    Some(counts) => after = counts,
                    None => return self.totals(),
                }
            }
            // A reset since step 1: what was counted has been erased.
            _ if latest != generation => return self.totals(),
            _ => {}
        }
        after.totals(self.size.into())
    }

    /// Whether a plain success may skip recording: the window is full and
    /// holds no failure and no slow call (see "A success into a healthy
    /// window" in the module docs). One load.
    #[inline]
    pub(crate) fn healthy(&self) -> bool {
        let counts = Counts::from_bits(self.hot.totals.load(Ordering::Acquire));
        counts.calls() >= u64::from(self.size) && counts.failures() == 0 && counts.slow() == 0
    }

    /// The totals now: one load.
    pub(crate) fn totals(&self) -> Totals {
        Counts::from_bits(self.hot.totals.load(Ordering::Acquire)).totals(self.size.into())
    }

    /// Empties the window and starts `period`.
    pub(crate) fn reset(&self, period: u32) {
        let mut current = self.current.load(Ordering::Acquire);
        let generation = loop {
            let (_, generation) = unpack_current(current);
            let next = pack_current(period, generation.wrapping_add(1));
            match self
                .current
                .compare_exchange(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break generation.wrapping_add(1),
                Err(actual) => current = actual,
            }
        };
        let empty = Counts::empty(generation.into()).0;
        loop {
            // The totals first, then `current`: if these totals were
            // installed by a later reset, its move of `current` is visible
            // below and this reset steps aside.
            let totals = self.hot.totals.load(Ordering::Acquire);
            let (_, latest) = unpack_current(self.current.load(Ordering::Acquire));
            if latest != generation {
                return; // A later reset owns the totals.
            }
            if self
                .hot
                .totals
                .compare_exchange(totals, empty, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Applies `change` to the totals while they are tagged with `generation`;
    /// `None` (and no change) once they are not.
    fn update(&self, generation: u32, change: impl Fn(Counts) -> Counts) -> Option<Counts> {
        let tag = Counts::empty(generation.into()).tag();
        let mut word = self.hot.totals.load(Ordering::Acquire);
        loop {
            let counts = Counts::from_bits(word);
            if counts.tag() != tag {
                return None;
            }
            let next = change(counts);
            match self.hot.totals.compare_exchange(
                word,
                next.0,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(next),
                Err(actual) => word = actual,
            }
        }
    }

    /// The totals recomputed from the ring, slot by slot: what `totals` must
    /// equal once no record is in flight.
    #[cfg(test)]
    pub(crate) fn recount(&self) -> Totals {
        let (_, generation) = unpack_current(self.current.load(Ordering::Acquire));
        let mut counts = Counts::empty(0);
        for slot in self.slots.iter() {
            let word = slot.load(Ordering::Acquire);
            if slot_generation(word) == generation & SLOT_GENERATION_MASK {
                if let Some(sample) = slot_sample(word) {
                    counts = counts.plus(Counts::one(sample));
                }
            }
        }
        counts.totals(u64::MAX)
    }

    /// The totals exactly as stored, before clamping.
    #[cfg(test)]
    pub(crate) fn raw_totals(&self) -> Totals {
        Counts::from_bits(self.hot.totals.load(Ordering::Acquire)).totals(u64::MAX)
    }
}

impl fmt::Debug for CountWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (period, generation) = unpack_current(self.current.load(Ordering::Acquire));
        f.debug_struct("CountWindow")
            .field("size", &self.size)
            .field("period", &period)
            .field("generation", &generation)
            .field("totals", &self.totals())
            .finish_non_exhaustive()
    }
}

const fn pack_current(period: u32, generation: u32) -> u64 {
    ((generation as u64) << 32) | period as u64
}

/// `(period, generation)`.
const fn unpack_current(word: u64) -> (u32, u32) {
    (word as u32, (word >> 32) as u32)
}

/// A slot holding `sample`, recorded in `generation`.
const fn slot_word(generation: u32, sample: Sample) -> u32 {
    let mut word = ((generation & SLOT_GENERATION_MASK) << 3) | OCCUPIED;
    if sample.failure {
        word |= FAILURE;
    }
    if sample.slow {
        word |= SLOW;
    }
    word
}

/// The outcome in a slot, if it holds one.
const fn slot_sample(word: u32) -> Option<Sample> {
    if word & OCCUPIED == 0 {
        return None;
    }
    Some(Sample {
        failure: word & FAILURE != 0,
        slow: word & SLOW != 0,
    })
}

/// The low bits of the generation a slot was written in.
const fn slot_generation(word: u32) -> u32 {
    word >> 3
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use alloc::collections::VecDeque;
    use alloc::sync::Arc;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    const OK: Sample = Sample {
        failure: false,
        slow: false,
    };
    const FAILED: Sample = Sample {
        failure: true,
        slow: false,
    };
    const SLOW: Sample = Sample {
        failure: false,
        slow: true,
    };
    const SLOW_FAILURE: Sample = Sample {
        failure: true,
        slow: true,
    };

    fn totals(calls: u32, failures: u32, slow: u32) -> Totals {
        Totals {
            calls,
            failures,
            slow,
        }
    }

    #[test]
    fn counts_a_known_sequence_exactly() {
        let window = CountWindow::new(5);
        assert_eq!(window.totals(), totals(0, 0, 0));
        assert_eq!(window.record(0, OK), totals(1, 0, 0));
        assert_eq!(window.record(0, FAILED), totals(2, 1, 0));
        assert_eq!(window.record(0, SLOW), totals(3, 1, 1));
        assert_eq!(window.record(0, SLOW_FAILURE), totals(4, 2, 2));
        assert_eq!(window.totals(), totals(4, 2, 2));
        assert_eq!(window.totals(), window.recount());
    }

    #[test]
    fn the_ring_overwrites_the_oldest_outcome() {
        let window = CountWindow::new(3);
        window.record(0, FAILED);
        window.record(0, SLOW);
        window.record(0, OK);
        assert_eq!(window.totals(), totals(3, 1, 1));
        // The failure leaves, a success comes in.
        assert_eq!(window.record(0, OK), totals(3, 0, 1));
        // The slow call leaves, a slow failure comes in.
        assert_eq!(window.record(0, SLOW_FAILURE), totals(3, 1, 1));
        // Around the ring once more, all failures.
        for _ in 0..3 {
            window.record(0, FAILED);
        }
        assert_eq!(window.totals(), totals(3, 3, 0));
        assert_eq!(window.totals(), window.recount());
    }

    #[test]
    fn a_window_of_one_holds_the_last_outcome() {
        let window = CountWindow::new(1);
        assert_eq!(window.record(0, FAILED), totals(1, 1, 0));
        assert_eq!(window.record(0, SLOW), totals(1, 0, 1));
        assert_eq!(window.record(0, OK), totals(1, 0, 0));
    }

    #[test]
    fn records_of_another_period_are_not_counted() {
        let window = CountWindow::new(4);
        window.record(0, FAILED);
        window.record(0, FAILED);
        window.reset(7);
        assert_eq!(window.totals(), totals(0, 0, 0));
        // Permits issued before the reset: ignored, and they report the current totals.
        assert_eq!(window.record(0, FAILED), totals(0, 0, 0));
        assert_eq!(window.record(6, FAILED), totals(0, 0, 0));
        assert_eq!(window.record(7, OK), totals(1, 0, 0));
        // The two failures of period 0 are still in their slots, stamped with
        // the old generation: overwriting them must not subtract them again.
        for _ in 0..4 {
            window.record(7, OK);
        }
        assert_eq!(window.totals(), totals(4, 0, 0));
        assert_eq!(window.totals(), window.recount());
    }

    #[test]
    fn a_reset_to_the_same_period_empties_the_window_again() {
        let window = CountWindow::new(4);
        window.reset(3);
        window.record(3, FAILED);
        window.reset(3);
        assert_eq!(window.totals(), totals(0, 0, 0));
        assert_eq!(window.record(3, OK), totals(1, 0, 0));
    }

    #[test]
    fn many_resets_wrap_the_tag_without_confusing_slots() {
        // 1,024 resets bring the 10-bit tag of the totals back to where it
        // was; the slots keep 29 bits and must still read as stale.
        let window = CountWindow::new(2);
        window.record(0, FAILED);
        for period in 1..=1024 {
            window.reset(period);
        }
        assert_eq!(window.totals(), totals(0, 0, 0));
        window.record(1024, OK);
        window.record(1024, OK);
        window.record(1024, OK);
        assert_eq!(window.totals(), totals(2, 0, 0));
        assert_eq!(window.totals(), window.recount());
    }

    #[test]
    fn reads_clamp_an_overcount_to_the_window() {
        let window = CountWindow::new(2);
        // What a reader may see while records are in flight: counted, not yet published.
        window.hot.totals.store(
            Counts::empty(0)
                .plus(Counts::one(FAILED))
                .plus(Counts::one(FAILED))
                .plus(Counts::one(OK))
                .0,
            Ordering::Release,
        );
        assert_eq!(window.totals(), totals(2, 2, 0));
    }

    /// `healthy` (the breaker's skip for a plain success) holds exactly
    /// when the window is full and holds no failure and no slow call.
    #[test]
    fn healthy_means_full_and_clean() {
        let window = CountWindow::new(3);
        assert!(!window.healthy(), "empty");
        window.record(0, OK);
        window.record(0, OK);
        assert!(!window.healthy(), "not full");
        window.record(0, OK);
        assert!(window.healthy(), "full of successes");
        window.record(0, FAILED);
        assert!(!window.healthy(), "a failure");
        for _ in 0..3 {
            window.record(0, OK);
        }
        assert!(window.healthy(), "the failure evicted");
        window.record(0, SLOW);
        assert!(!window.healthy(), "a slow call");
        window.reset(1);
        assert!(!window.healthy(), "reset: empty again");
    }

    #[test]
    fn debug_shows_size_period_generation_and_totals() {
        let window = CountWindow::new(3);
        window.record(0, FAILED);
        window.reset(7);
        window.record(7, OK);
        let shown = alloc::format!("{window:?}");
        assert!(
            shown.starts_with("CountWindow { size: 3, period: 7, generation: 1, totals: "),
            "{shown}"
        );
        assert!(shown.contains("calls: 1, failures: 0"), "{shown}");
    }

    // 100,010 records: about 3 minutes under Miri, for arithmetic the
    // normal test run checks in full; nothing here Miri checks better.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "100,010 records take ~3 min under Miri; plain arithmetic"
    )]
    fn the_largest_window_fits_its_counters() {
        assert!(u64::from(crate::window::MAX_COUNT_WINDOW) < Counts::MAX);
        let window = CountWindow::new(crate::window::MAX_COUNT_WINDOW);
        for _ in 0..crate::window::MAX_COUNT_WINDOW + 10 {
            window.record(0, SLOW_FAILURE);
        }
        let max = crate::window::MAX_COUNT_WINDOW;
        assert_eq!(window.totals(), totals(max, max, max));
    }

    /// Threads record into a small window while another reads: no read ever
    /// shows a rate above 1 or more calls than slots, and once every record
    /// is done the totals are exactly the ring's.
    #[test]
    fn threads_recording_at_once_keep_the_totals_exact() {
        let window = Arc::new(CountWindow::new(16));
        // Miri checks the races on far fewer rounds (20,000 took minutes).
        let rounds: u32 = if cfg!(miri) { 200 } else { 20_000 };
        let recorders: Vec<_> = (0..4)
            .map(|t| {
                let window = Arc::clone(&window);
                std::thread::spawn(move || {
                    for i in 0..rounds {
                        let sample = Sample {
                            failure: (i + t) % 3 == 0,
                            slow: (i * 7 + t) % 5 == 0,
                        };
                        let after = window.record(0, sample);
                        assert!(after.failures <= after.calls && after.slow <= after.calls);
                        assert!(after.calls <= 16);
                    }
                })
            })
            .collect();
        for _ in 0..rounds {
            let now = window.totals();
            assert!(now.failures <= now.calls && now.slow <= now.calls && now.calls <= 16);
        }
        for recorder in recorders {
            recorder.join().unwrap();
        }
        assert_eq!(window.raw_totals(), window.recount());
        assert_eq!(window.totals().calls, 16);
    }

    /// The same with a thread resetting: stale records race every reset.
    #[test]
    fn threads_recording_across_resets_keep_the_totals_exact() {
        let window = Arc::new(CountWindow::new(8));
        // Miri checks the races on far fewer rounds (20,000 took minutes).
        let (rounds, resets): (u32, u32) = if cfg!(miri) {
            (200, 50)
        } else {
            (20_000, 1_000)
        };
        let recorders: Vec<_> = (0..3)
            .map(|t| {
                let window = Arc::clone(&window);
                std::thread::spawn(move || {
                    for i in 0..rounds {
                        let (period, _) = unpack_current(window.current.load(Ordering::Relaxed));
                        window.record(
                            period,
                            Sample {
                                failure: (i + t) % 2 == 0,
                                slow: false,
                            },
                        );
                    }
                })
            })
            .collect();
        // Fewer than 1,024 resets: the 10-bit tag cannot come round (see Limits).
        for period in 1..=resets {
            window.reset(period);
        }
        for recorder in recorders {
            recorder.join().unwrap();
        }
        assert_eq!(window.raw_totals(), window.recount());
    }

    #[derive(Clone, Debug)]
    enum Op {
        Record(Sample),
        /// A record from a permit issued before the last reset.
        Stale(Sample),
        Reset(u32),
        Read,
    }

    fn sample() -> impl Strategy<Value = Sample> {
        (any::<bool>(), any::<bool>()).prop_map(|(failure, slow)| Sample { failure, slow })
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => sample().prop_map(Op::Record),
            1 => sample().prop_map(Op::Stale),
            1 => any::<u32>().prop_map(Op::Reset),
            1 => Just(Op::Read),
        ]
    }

    /// The reference: a queue of the last `size` outcomes of the period.
    struct Model {
        size: usize,
        period: u32,
        outcomes: VecDeque<Sample>,
    }

    impl Model {
        fn record(&mut self, period: u32, sample: Sample) {
            if period == self.period {
                self.outcomes.push_back(sample);
                if self.outcomes.len() > self.size {
                    self.outcomes.pop_front();
                }
            }
        }

        fn totals(&self) -> Totals {
            let count =
                |f: fn(&Sample) -> bool| self.outcomes.iter().filter(|s| f(s)).count() as u32;
            totals(
                self.outcomes.len() as u32,
                count(|s| s.failure),
                count(|s| s.slow),
            )
        }
    }

    proptest! {
        // 512 cases normally; a few under Miri, where each case takes
        // seconds (PROPTEST_CASES does not override an explicit count).
        #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 512 }))]

        #[test]
        fn agrees_with_a_queue_of_the_last_outcomes(
            size in 1u32..12,
            ops in proptest::collection::vec(op(), 0..200),
        ) {
            let window = CountWindow::new(size);
            let mut model = Model { size: size as usize, period: 0, outcomes: VecDeque::new() };
            for op in ops {
                let (got, want) = match op {
                    Op::Record(sample) => {
                        model.record(model.period, sample);
                        (window.record(model.period, sample), model.totals())
                    }
                    Op::Stale(sample) => {
                        let stale = model.period.wrapping_sub(1);
                        model.record(stale, sample);
                        (window.record(stale, sample), model.totals())
                    }
                    Op::Reset(period) => {
                        window.reset(period);
                        model.period = period;
                        model.outcomes.clear();
                        (window.totals(), model.totals())
                    }
                    Op::Read => (window.totals(), model.totals()),
                };
                prop_assert_eq!(got, want);
                prop_assert_eq!(window.raw_totals(), window.recount());
            }
        }
    }
}
