//! The time window: the outcomes of the last `length`, in `buckets`
//! buckets.
//!
//! # Design
//!
//! Time is cut into **epochs** of one bucket width (`length / buckets`,
//! rounded down to a nanosecond), counted from the clock's origin:
//! `epoch = now / width`. The window at epoch `h` is the epochs
//! `(h − buckets, h]`, and epoch `e` lives in bucket `e % buckets`, on
//! *lap* `e / buckets`. The time is always the caller's `now`: the window
//! never reads a clock.
//!
//! Reading is O(1) because of **running totals** (one word): each record
//! adds to them, and each bucket is subtracted from them when it is
//! recycled for a newer epoch. Expiry is eager: the thread that moves the
//! window forward recycles every bucket in between (at most `buckets` of
//! them, however long the quiet period), so stale counts never linger.
//!
//! The atomics:
//!
//! - `head`: the newest epoch the window has been moved to, published only
//!   once every bucket of `(head − buckets, head]` holds its epoch. A
//!   thread that sees a newer epoch recycles the buckets between (others
//!   may do the same work at once: recycling is idempotent) and then raises
//!   `head` with `fetch_max`. It never moves back.
//! - `current`: the breaker's period (low 32 bits) and the window's
//!   *generation*, the number of resets so far (high 32 bits).
//! - Per bucket, a **stamp** (`u64`): `lap << 1 | phase`. Laps only grow,
//!   compared in full, so a bucket is never mistaken for a newer use of
//!   itself; the phase flips at each recycle.
//! - Per bucket, its **counts** (a [`Tally`]): calls, failures and slow
//!   calls in 20 bits each, tagged with the phase of the stamp they belong
//!   to and the low 3 bits of the generation they were counted in.
//! - `totals`: the same three counters, untagged: the sum of every bucket,
//!   plus the records counted but not yet placed in a bucket.
//!
//! Recycling a bucket takes two steps: move the stamp to the new lap (a
//! compare-and-swap, which elects one thread), then empty the counts into
//! the new phase and subtract what they held from the totals. Any thread
//! that finds a bucket whose counts lag its stamp's phase finishes the
//! second step itself, so a thread preempted half-way blocks nobody; the
//! stamp is not moved again until its counts have caught up.
//!
//! # A record, step by step
//!
//! 1. Load `current`; a permit of another period is not counted.
//! 2. Move the window to the record's epoch if it is newer than `head`.
//!    A record older than the window (`head − epoch ≥ buckets`) is dropped.
//! 3. **Count first**: add the outcome to the totals (unless the window is
//!    full, see Limits).
//! 4. **Place**: add it to its bucket's counts with a compare-and-swap that
//!    checks the phase and the generation. If the bucket has been recycled
//!    for a newer epoch meanwhile, or a reset has begun since step 1, the
//!    record is not placed, and step 3 is undone.
//!
//! Every counted outcome is in the totals before it is in a bucket, and a
//! bucket's contents leave the totals only after they have left the bucket,
//! so the totals never fall below the buckets, whatever the interleaving.
//! The price is the converse: a read that races a recycling between its two
//! steps (bucket emptied, totals not yet reduced) still sees that bucket.
//! Once the recycling thread has finished, nobody does, and `head` is
//! published only after its buckets are finished.
//!
//! # A record racing the recycling of its bucket
//!
//! Exactly one of: the record is placed first, and the recycling removes
//! it with the rest of the bucket (it counted, as an outcome of its own
//! epoch, until that epoch left the window); or the recycling comes first,
//! and the record is dropped (its epoch has left the window). The totals
//! end the same either way.
//! A record is never placed in a newer use of its bucket (it checks the
//! stamp again after reading the counts), save for one race noted under
//! Limits, where it counts as if recorded when it landed.
//!
//! # Reset
//!
//! A reset moves `current` to the new period and the next generation, then
//! empties every bucket into it (O(buckets): a reset happens when the
//! breaker closes, not per call). A record of the old period that placed
//! its outcome before its bucket was emptied is erased with it; one that
//! comes after finds the new generation in the tag and is not placed.
//! Records that find a bucket not yet emptied for the generation they
//! belong to empty it themselves, so a preempted reset blocks nobody.
//! Records of the new period arriving before the reset has moved `current`
//! are not counted.
//!
//! # Time going backwards
//!
//! The window never moves back. A `now` older than `head` reads the window
//! as of `head`, expires nothing, and records into its own epoch's bucket
//! while that epoch is still in the window; further back, it is dropped as
//! too old. A clock that has stepped back by more than the window therefore
//! records nothing until it catches up with `head`.
//!
//! # Limits
//!
//! - A window counts at most 1,048,575 calls (20-bit counters) at once. A
//!   record that finds it full is not counted, until buckets expire: the
//!   rates are then those of a sample of the window, and no counter ever
//!   saturates, overflows or wraps into another.
//! - Epochs stop at 2^63 − 1 (292 years after the clock's origin at a
//!   width of 1 ns; out of reach at 2 ns or more).
//! - The 3-bit generation tag: a record of an old period can be counted in
//!   a new one only if a multiple of 8 resets happen while it is between
//!   its steps 1 and 4 (each reset is a full close cycle of the breaker). A record
//!   can land in a newer use of its bucket only if the bucket is recycled
//!   twice (two windows pass) between its last look at the bucket and its
//!   compare-and-swap, and ends with exactly the counts it had. Neither
//!   race can make the totals disagree with the buckets.

use alloc::boxed::Box;
use core::cmp::Ordering as Order;
use core::fmt;
use core::time::Duration;

use resil_core::Instant;

use super::{Sample, Tally, Totals};
use crate::loom::{AtomicU64, Ordering};
use crate::padded::Padded;

/// Counters of 20 bits, and a 4-bit tag: bit 0 the phase, bits 1 to 3 the
/// generation's low bits.
type Counts = Tally<20>;

/// The most calls a window counts at once.
const CAPACITY: u64 = Counts::MAX;

const GENERATION_MASK: u32 = 0b111;

/// The last epoch: a lap and a phase bit must fit in a stamp.
const MAX_EPOCH: u64 = u64::MAX >> 1;

/// The outcomes of the last `length`.
pub(crate) struct TimeWindow {
    buckets: Box<[Bucket]>,
    /// Bucket width in nanoseconds, at least 1.
    width: u64,
    /// The newest epoch the window has moved to; every bucket of
    /// `(head − buckets, head]` holds its epoch.
    head: AtomicU64,
    /// The period (low 32 bits) and generation (high 32 bits).
    current: AtomicU64,
    /// The running totals (an untagged [`Counts`]), written by every record:
    /// on lines of their own (`padded.rs`), away from the words records read.
    totals: Padded<AtomicU64>,
}

/// One bucket width of outcomes.
struct Bucket {
    /// `lap << 1 | phase`: which epoch the bucket holds.
    stamp: AtomicU64,
    /// The counters (a [`Counts`] tagged with phase and generation).
    counts: AtomicU64,
}

impl TimeWindow {
    /// An empty window of `length` in `buckets` buckets (at least 1, of at
    /// least a nanosecond each), in period 0.
    pub(crate) fn new(length: Duration, buckets: u32) -> Self {
        let buckets = buckets.max(1);
        let nanos = u64::try_from(length.as_nanos()).unwrap_or(u64::MAX);
        TimeWindow {
            buckets: (0..buckets)
                .map(|_| Bucket {
                    stamp: AtomicU64::new(0),
                    counts: AtomicU64::new(Counts::empty(0).0),
                })
                .collect(),
            width: (nanos / u64::from(buckets)).max(1),
            head: AtomicU64::new(0),
            current: AtomicU64::new(pack_current(0, 0)),
            totals: Padded(AtomicU64::new(Counts::empty(0).0)),
        }
    }

    /// Records `sample` in `period` at `now`, returning the totals right after.
    pub(crate) fn record(&self, period: u32, sample: Sample, now: Instant) -> Totals {
        // 1. Which period and generation the window is in.
        let (current_period, generation) = unpack_current(self.current.load(Ordering::Acquire));
        if current_period != period {
            return self.totals(now);
        }
        // 2. Move the window; drop what is older than it.
        let epoch = self.epoch(now);
        let head = self.advance(epoch);
        if head - epoch >= self.len() {
            return self.read();
        }
        // 3. Count first (unless full), 4. then place, or undo.
        if self.count(sample) && !self.place(epoch, generation, sample) {
            self.uncount(Counts::one(sample));
        }
        self.read()
    }

    /// The totals at `now`, after expiring the buckets it has left behind.
    pub(crate) fn totals(&self, now: Instant) -> Totals {
        self.advance(self.epoch(now));
        self.read()
    }

    /// Empties the window and starts `period`.
    pub(crate) fn reset(&self, period: u32) {
        let mut current = self.current.load(Ordering::Acquire);
        loop {
            let (_, generation) = unpack_current(current);
            let next = pack_current(period, generation.wrapping_add(1));
            match self
                .current
                .compare_exchange(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        for bucket in self.buckets.iter() {
            loop {
                // The counts first, then `current`: counts emptied by a
                // later reset are seen with that reset's generation, and
                // left alone.
                let counts = Counts::from_bits(bucket.counts.load(Ordering::Acquire));
                let (_, generation) = unpack_current(self.current.load(Ordering::Acquire));
                if generation_tag(counts) == generation & GENERATION_MASK {
                    break;
                }
                let empty = counts_tag(generation, phase(counts));
                if self.replace(bucket, counts, empty) {
                    break;
                }
            }
        }
    }

    fn len(&self) -> u64 {
        self.buckets.len() as u64
    }

    /// The epoch `now` falls in.
    fn epoch(&self, now: Instant) -> u64 {
        (now.as_nanos() / self.width).min(MAX_EPOCH)
    }

    /// The bucket of `epoch`, and the lap it is on.
    fn bucket(&self, epoch: u64) -> (&Bucket, u64) {
        let len = self.len();
        (&self.buckets[(epoch % len) as usize], epoch / len)
    }

    /// Moves the window to `epoch` if that is newer, recycling the buckets
    /// in between; returns the head after (at least `epoch`).
    fn advance(&self, epoch: u64) -> u64 {
        let head = self.head.load(Ordering::Acquire);
        if epoch <= head {
            return head;
        }
        // At most `buckets` epochs: past that, every bucket is recycled.
        let first = head.max(epoch.saturating_sub(self.len())) + 1;
        for newer in first..=epoch {
            self.recycle(newer);
        }
        self.head.fetch_max(epoch, Ordering::AcqRel).max(epoch)
    }

    /// Brings `epoch`'s bucket to `epoch`'s lap (unless it is there or
    /// further already), counts included: when this returns, the bucket
    /// holds nothing older than `epoch`'s lap.
    fn recycle(&self, epoch: u64) {
        let (bucket, lap) = self.bucket(epoch);
        loop {
            let stamp = bucket.stamp.load(Ordering::Acquire);
            let counts = Counts::from_bits(bucket.counts.load(Ordering::Acquire));
            if phase(counts) != stamp_phase(stamp) {
                // The last recycling (maybe another thread's, maybe to this
                // very lap) has not emptied the counts yet: finish it.
                self.settle(bucket, stamp);
                continue;
            }
            if stamp_lap(stamp) >= lap {
                return;
            }
            let next = make_stamp(lap, stamp_phase(stamp) ^ 1);
            // On success the next turn of the loop empties the counts.
            let _ = bucket
                .stamp
                .compare_exchange(stamp, next, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    /// Empties `bucket`'s counts into `stamp`'s phase, if `stamp` is still
    /// the bucket's and the counts have not caught up with it yet.
    fn settle(&self, bucket: &Bucket, stamp: u64) {
        loop {
            let counts = Counts::from_bits(bucket.counts.load(Ordering::Acquire));
            if phase(counts) == stamp_phase(stamp) {
                return;
            }
            // Stamps only grow, so the stamp was `stamp` when `counts` was
            // loaded if it still is now: the two are a consistent pair.
            if bucket.stamp.load(Ordering::Acquire) != stamp {
                return;
            }
            let empty = counts_tag(generation_tag(counts), stamp_phase(stamp));
            if self.replace(bucket, counts, empty) {
                return;
            }
        }
    }

    /// Places `sample`, already counted, in `epoch`'s bucket for
    /// `generation`; false if the bucket has moved past `epoch` or a reset
    /// has begun.
    fn place(&self, epoch: u64, generation: u32, sample: Sample) -> bool {
        let (bucket, lap) = self.bucket(epoch);
        let tag = generation & GENERATION_MASK;
        loop {
            let stamp = bucket.stamp.load(Ordering::Acquire);
            match stamp_lap(stamp).cmp(&lap) {
                Order::Greater => return false, // Recycled: `epoch` has left the window.
                Order::Less => {
                    // Not reachable once `head` covers `epoch`; harmless.
                    self.recycle(epoch);
                    continue;
                }
                Order::Equal => {}
            }
            let counts = Counts::from_bits(bucket.counts.load(Ordering::Acquire));
            if phase(counts) != stamp_phase(stamp) {
                self.settle(bucket, stamp);
                continue;
            }
            // Stamps only grow: if it is unchanged, `counts` belong to it
            // (and not to a later lap of the same phase).
            if bucket.stamp.load(Ordering::Acquire) != stamp {
                continue;
            }
            if generation_tag(counts) != tag {
                // Loaded after the counts: if a reset emptied them, this
                // sees its generation.
                let (_, now) = unpack_current(self.current.load(Ordering::Acquire));
                if now != generation {
                    return false; // A reset has begun since step 1.
                }
                // A reset has not reached this bucket yet: do its work.
                self.replace(bucket, counts, counts_tag(generation, phase(counts)));
                continue;
            }
            if counts.calls() >= CAPACITY {
                return false; // Unreachable: the totals are full first.
            }
            let placed = counts.plus(Counts::one(sample));
            if bucket
                .counts
                .compare_exchange(counts.0, placed.0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return true;
            }
        }
    }

    /// Replaces `bucket`'s counts `old` with the empty `new`, and takes what
    /// `old` held out of the totals; false if the counts were not `old`.
    fn replace(&self, bucket: &Bucket, old: Counts, new: Counts) -> bool {
        let swapped = bucket
            .counts
            .compare_exchange(old.0, new.0, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if swapped {
            self.uncount(old);
        }
        swapped
    }

    /// Adds `sample` to the totals; false if the window is full.
    fn count(&self, sample: Sample) -> bool {
        let mut word = self.totals.load(Ordering::Acquire);
        loop {
            let totals = Counts::from_bits(word);
            if totals.calls() >= CAPACITY {
                return false;
            }
            let next = totals.plus(Counts::one(sample));
            match self
                .totals
                .compare_exchange(word, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => word = actual,
            }
        }
    }

    /// Takes `counts` out of the totals.
    fn uncount(&self, counts: Counts) {
        if counts.is_zero() {
            return;
        }
        let mut word = self.totals.load(Ordering::Acquire);
        loop {
            let next = Counts::from_bits(word).minus(counts);
            match self
                .totals
                .compare_exchange(word, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => word = actual,
            }
        }
    }

    /// The totals as they stand: one load.
    fn read(&self) -> Totals {
        Counts::from_bits(self.totals.load(Ordering::Acquire)).totals(u64::MAX)
    }

    /// The totals exactly as stored.
    #[cfg(test)]
    pub(crate) fn raw_totals(&self) -> Totals {
        self.read()
    }

    /// What every bucket holds, added up, whatever its epoch or generation:
    /// what the totals must equal once no record is in flight.
    #[cfg(test)]
    pub(crate) fn bucket_sum(&self) -> Totals {
        self.buckets
            .iter()
            .map(|bucket| Counts::from_bits(bucket.counts.load(Ordering::Acquire)))
            .fold(Counts::empty(0), |sum, counts| sum.plus(counts))
            .totals(u64::MAX)
    }

    /// What the buckets that should count now hold: those in the window
    /// (or ahead of it), settled, and of the current generation. Once no
    /// record is in flight, no other bucket holds anything.
    #[cfg(test)]
    pub(crate) fn recount(&self) -> Totals {
        let head = self.head.load(Ordering::Acquire);
        let (_, generation) = unpack_current(self.current.load(Ordering::Acquire));
        let mut sum = Counts::empty(0);
        for (index, bucket) in self.buckets.iter().enumerate() {
            let stamp = bucket.stamp.load(Ordering::Acquire);
            let counts = Counts::from_bits(bucket.counts.load(Ordering::Acquire));
            let epoch = stamp_lap(stamp) * self.len() + index as u64;
            let live = head - epoch.min(head) < self.len()
                && phase(counts) == stamp_phase(stamp)
                && generation_tag(counts) == generation & GENERATION_MASK;
            if live {
                sum = sum.plus(counts);
            }
        }
        sum.totals(u64::MAX)
    }
}

#[cfg(test)]
impl TimeWindow {
    /// Whether every bucket is settled and holds nothing older than the
    /// window at `now`: what must hold once `totals(now)` has returned,
    /// whatever other threads are doing.
    pub(crate) fn holds_nothing_older_than(&self, now: Instant) -> bool {
        let newest = self.epoch(now);
        self.buckets.iter().enumerate().all(|(index, bucket)| {
            let counts = Counts::from_bits(bucket.counts.load(Ordering::Acquire));
            let stamp = bucket.stamp.load(Ordering::Acquire);
            let epoch = stamp_lap(stamp) * self.len() + index as u64;
            let fresh = newest - epoch.min(newest) < self.len();
            // A bucket whose counts lag its stamp may hold anything.
            let settled = phase(counts) == stamp_phase(stamp);
            counts.is_zero() || (fresh && settled)
        })
    }
}

impl fmt::Debug for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (period, generation) = unpack_current(self.current.load(Ordering::Acquire));
        f.debug_struct("TimeWindow")
            .field("buckets", &self.buckets.len())
            .field("width", &Duration::from_nanos(self.width))
            .field("head", &self.head.load(Ordering::Acquire))
            .field("period", &period)
            .field("generation", &generation)
            .field("totals", &self.read())
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

const fn make_stamp(lap: u64, phase: u64) -> u64 {
    lap << 1 | phase
}

const fn stamp_lap(stamp: u64) -> u64 {
    stamp >> 1
}

const fn stamp_phase(stamp: u64) -> u64 {
    stamp & 1
}

/// Empty counts of `generation` in `phase`.
const fn counts_tag(generation: u32, phase: u64) -> Counts {
    Counts::empty(((generation & GENERATION_MASK) as u64) << 1 | phase)
}

const fn phase(counts: Counts) -> u64 {
    counts.tag() & 1
}

const fn generation_tag(counts: Counts) -> u32 {
    (counts.tag() >> 1) as u32
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use alloc::collections::VecDeque;
    use alloc::sync::Arc;
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicBool, AtomicU64 as StdAtomicU64, Ordering as StdOrdering};

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
    const SECOND: Duration = Duration::from_secs(1);

    fn totals(calls: u32, failures: u32, slow: u32) -> Totals {
        Totals {
            calls,
            failures,
            slow,
        }
    }

    fn at(seconds: f64) -> Instant {
        Instant::ZERO + Duration::from_secs_f64(seconds)
    }

    /// Four buckets of a second, as the breaker builds it (reset to period 0).
    fn four_seconds() -> TimeWindow {
        let window = TimeWindow::new(SECOND * 4, 4);
        window.reset(0);
        window
    }

    fn assert_consistent(window: &TimeWindow) {
        assert_eq!(
            window.raw_totals(),
            window.bucket_sum(),
            "totals against every bucket"
        );
        assert_eq!(
            window.raw_totals(),
            window.recount(),
            "totals against the live buckets"
        );
    }

    /// After a read at `now`, no bucket holds anything older than the window.
    fn assert_expired(window: &TimeWindow, now: Instant) {
        window.totals(now);
        assert!(window.holds_nothing_older_than(now), "{window:?}");
    }

    #[test]
    fn counts_a_known_sequence_exactly() {
        let window = four_seconds();
        assert_eq!(window.record(0, OK, at(0.0)), totals(1, 0, 0));
        assert_eq!(window.record(0, FAILED, at(0.5)), totals(2, 1, 0));
        assert_eq!(window.record(0, SLOW, at(1.2)), totals(3, 1, 1));
        assert_eq!(window.record(0, FAILED, at(3.9)), totals(4, 2, 1));
        assert_eq!(window.totals(at(3.99)), totals(4, 2, 1));
        assert_consistent(&window);
    }

    #[test]
    fn buckets_expire_as_time_advances() {
        let window = four_seconds();
        window.record(0, FAILED, at(0.0)); // epoch 0
        window.record(0, OK, at(1.0)); // epoch 1
        window.record(0, SLOW, at(2.5)); // epoch 2
        window.record(0, OK, at(3.0)); // epoch 3
        assert_eq!(window.totals(at(3.999)), totals(4, 1, 1));
        // At 4 s the window is epochs 1 to 4: the failure of epoch 0 has left.
        assert_eq!(window.totals(at(4.0)), totals(3, 0, 1));
        assert_eq!(window.totals(at(5.5)), totals(2, 0, 1));
        assert_eq!(window.totals(at(6.0)), totals(1, 0, 0));
        assert_eq!(window.totals(at(7.0)), totals(0, 0, 0));
        assert_expired(&window, at(7.0));
        assert_consistent(&window);
    }

    #[test]
    fn a_jump_of_many_windows_empties_every_bucket() {
        let window = four_seconds();
        for i in 0..4 {
            window.record(0, FAILED, at(f64::from(i)));
        }
        assert_eq!(window.totals(at(3.0)), totals(4, 4, 0));
        // A quiet day.
        assert_eq!(window.totals(at(86_400.0)), totals(0, 0, 0));
        assert_expired(&window, at(86_400.0));
        assert_consistent(&window);
        assert_eq!(window.record(0, OK, at(86_400.5)), totals(1, 0, 0));
        assert_consistent(&window);
    }

    #[test]
    fn a_record_moves_the_window_too() {
        let window = four_seconds();
        window.record(0, FAILED, at(0.0));
        // No read in between: the record at 10 s expires the failure itself.
        assert_eq!(window.record(0, OK, at(10.0)), totals(1, 0, 0));
    }

    #[test]
    fn records_older_than_the_window_are_dropped() {
        let window = four_seconds();
        window.record(0, OK, at(10.0)); // head: epoch 10, window 7..=10
        assert_eq!(
            window.record(0, FAILED, at(6.9)),
            totals(1, 0, 0),
            "epoch 6 is out"
        );
        assert_eq!(
            window.record(0, FAILED, at(7.0)),
            totals(2, 1, 0),
            "epoch 7 is in"
        );
        // The late failure of epoch 7 leaves with its bucket.
        assert_eq!(window.totals(at(11.0)), totals(1, 0, 0));
        assert_consistent(&window);
    }

    #[test]
    fn time_going_backwards_neither_panics_nor_expires() {
        let window = four_seconds();
        window.record(0, FAILED, at(100.0));
        window.record(0, OK, at(101.0));
        // The clock is set back a little: the window stays at 101 s, and a
        // record lands in the bucket of its own time.
        assert_eq!(window.totals(at(99.0)), totals(2, 1, 0));
        assert_eq!(window.record(0, SLOW, at(98.5)), totals(3, 1, 1));
        // It expires as its own epoch (98) leaves: at 102 s.
        assert_eq!(window.totals(at(102.0)), totals(2, 1, 0));
        // Set back by more than the window: reads see the newest time, and
        // records are too old until the clock catches up.
        assert_eq!(window.totals(at(1.0)), totals(2, 1, 0));
        assert_eq!(window.record(0, FAILED, at(1.0)), totals(2, 1, 0));
        assert_eq!(window.totals(at(0.0)), totals(2, 1, 0));
        assert_eq!(window.record(0, FAILED, at(102.5)), totals(3, 2, 0));
        assert_consistent(&window);
    }

    #[test]
    fn debug_shows_the_shape_and_position() {
        let window = TimeWindow::new(Duration::from_secs(10), 5);
        window.reset(4);
        window.record(4, OK, at(3.0));
        let shown = alloc::format!("{window:?}");
        assert!(
            shown.starts_with(
                "TimeWindow { buckets: 5, width: 2s, head: 1, period: 4, generation: 1"
            ),
            "{shown}"
        );
    }

    #[test]
    fn the_end_of_time_fits_a_stamp_with_one_nanosecond_bucket() {
        // One bucket of 1 ns: the lap is the epoch itself, so the last
        // epoch must leave room for the stamp's phase bit.
        let window = TimeWindow::new(Duration::from_nanos(1), 1);
        assert_eq!(window.record(0, OK, Instant::MAX), totals(1, 0, 0));
        assert_eq!(window.record(0, FAILED, Instant::MAX), totals(2, 1, 0));
        assert_eq!(window.totals(Instant::MAX), totals(2, 1, 0));
        assert_consistent(&window);
    }

    #[test]
    fn the_end_of_time_is_an_ordinary_epoch() {
        let window = TimeWindow::new(Duration::from_nanos(3), 3);
        window.record(0, FAILED, Instant::ZERO);
        assert_eq!(window.record(0, OK, Instant::MAX), totals(1, 0, 0));
        assert_eq!(window.record(0, OK, Instant::MAX), totals(2, 0, 0));
        assert_eq!(window.totals(Instant::MAX), totals(2, 0, 0));
        assert_eq!(window.totals(Instant::ZERO), totals(2, 0, 0));
        window.reset(1);
        assert_eq!(window.record(1, OK, Instant::MAX), totals(1, 0, 0));
        assert_consistent(&window);
    }

    #[test]
    fn buckets_are_rounded_down_to_a_nanosecond() {
        // 10 ns in 3 buckets: 3 ns each, a window of 9 ns.
        let window = TimeWindow::new(Duration::from_nanos(10), 3);
        window.record(0, OK, Instant::from_nanos(0));
        assert_eq!(window.totals(Instant::from_nanos(8)), totals(1, 0, 0));
        assert_eq!(window.totals(Instant::from_nanos(9)), totals(0, 0, 0));
    }

    #[test]
    fn a_single_bucket_holds_only_the_current_epoch() {
        let window = TimeWindow::new(SECOND, 1);
        window.record(0, FAILED, at(0.1));
        assert_eq!(window.record(0, OK, at(0.9)), totals(2, 1, 0));
        assert_eq!(window.record(0, OK, at(1.0)), totals(1, 0, 0));
        assert_eq!(
            window.record(0, FAILED, at(0.9)),
            totals(1, 0, 0),
            "a second ago is too old"
        );
    }

    #[test]
    fn records_of_another_period_are_not_counted() {
        let window = four_seconds();
        window.record(0, FAILED, at(0.0));
        window.record(0, FAILED, at(1.0));
        window.reset(9);
        assert_eq!(window.totals(at(1.0)), totals(0, 0, 0));
        assert_eq!(window.record(0, FAILED, at(1.5)), totals(0, 0, 0));
        assert_eq!(window.record(8, FAILED, at(1.5)), totals(0, 0, 0));
        assert_eq!(window.record(9, OK, at(1.5)), totals(1, 0, 0));
        // The emptied buckets expire without taking anything away again.
        assert_eq!(window.totals(at(4.5)), totals(1, 0, 0));
        assert_eq!(window.totals(at(5.5)), totals(0, 0, 0));
        assert_consistent(&window);
    }

    #[test]
    fn many_resets_wrap_the_generation_tag_cleanly() {
        let window = four_seconds();
        for period in 1..=20u32 {
            window.record(period - 1, FAILED, at(f64::from(period)));
            window.reset(period);
            assert_eq!(window.totals(at(f64::from(period))), totals(0, 0, 0));
            assert_consistent(&window);
        }
        assert_eq!(window.record(20, OK, at(20.0)), totals(1, 0, 0));
    }

    // 2^20 records: many minutes under Miri, for saturation arithmetic the
    // normal test run checks in full.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "2^20 records take many minutes under Miri; plain arithmetic"
    )]
    fn a_full_window_stops_counting_until_buckets_expire() {
        let window = TimeWindow::new(SECOND * 2, 2);
        let full = CAPACITY as u32;
        for _ in 0..full - 1 {
            window.record(0, OK, at(0.0));
        }
        assert_eq!(window.record(0, FAILED, at(1.0)), totals(full, 1, 0));
        // Full: not counted, and no counter spills into another.
        assert_eq!(window.record(0, SLOW, at(1.0)), totals(full, 1, 0));
        assert_consistent(&window);
        // The first bucket expires: room again.
        assert_eq!(window.totals(at(2.0)), totals(1, 1, 0));
        assert_eq!(window.record(0, SLOW, at(2.0)), totals(2, 1, 1));
        assert_consistent(&window);
    }

    /// Recorders on a shared clock, one thread moving the clock (sometimes
    /// by whole windows), one resetting: once all are done, the totals
    /// equal the buckets, and no read ever reports a rate above 1.
    #[test]
    fn threads_recording_while_time_moves_keep_the_totals_exact() {
        let window = Arc::new(TimeWindow::new(Duration::from_micros(40), 4));
        // Miri checks the races on far fewer rounds (20,000 took minutes).
        let rounds: u32 = if cfg!(miri) { 200 } else { 20_000 };
        let clock = Arc::new(StdAtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let recorders: Vec<_> = (0..3u32)
            .map(|t| {
                let (window, clock) = (Arc::clone(&window), Arc::clone(&clock));
                std::thread::spawn(move || {
                    for i in 0..rounds {
                        let now = Instant::from_nanos(clock.load(StdOrdering::Relaxed));
                        let (period, _) = unpack_current(window.current.load(Ordering::Relaxed));
                        let sample = Sample {
                            failure: (i + t) % 3 == 0,
                            slow: i % 5 == 0,
                        };
                        let after = window.record(period, sample, now);
                        assert!(after.failures <= after.calls && after.slow <= after.calls);
                    }
                })
            })
            .collect();
        let mover = {
            let (window, clock, done) =
                (Arc::clone(&window), Arc::clone(&clock), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut step = 0u64;
                while !done.load(StdOrdering::Relaxed) {
                    step += 1;
                    let jump = if step % 97 == 0 { 1_000_000 } else { 700 };
                    let now = clock.fetch_add(jump, StdOrdering::Relaxed) + jump;
                    if step % 211 == 0 {
                        window.reset(u32::try_from(step).unwrap_or(0));
                    }
                    let read = window.totals(Instant::from_nanos(now));
                    assert!(read.failures <= read.calls && read.slow <= read.calls);
                }
            })
        };
        for recorder in recorders {
            recorder.join().unwrap();
        }
        done.store(true, StdOrdering::Relaxed);
        mover.join().unwrap();
        assert_eq!(window.raw_totals(), window.bucket_sum());
        let now = Instant::from_nanos(clock.load(StdOrdering::Relaxed));
        window.totals(now);
        assert_consistent(&window);
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Records at the clock's time, or `lag` nanoseconds before it (a
        /// call that read the clock a while ago).
        Record {
            sample: Sample,
            lag: u64,
        },
        /// A record from a permit issued before the last reset.
        Stale(Sample),
        Advance(u64),
        /// A quiet period of many windows.
        Jump(u64),
        /// The clock set back.
        Back(u64),
        /// The clock set to the end of time.
        End,
        Reset(u32),
        Read,
    }

    fn sample() -> impl Strategy<Value = Sample> {
        (any::<bool>(), any::<bool>()).prop_map(|(failure, slow)| Sample { failure, slow })
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            12 => (sample(), prop_oneof![3 => Just(0u64), 1 => 0u64..40_000])
                .prop_map(|(sample, lag)| Op::Record { sample, lag }),
            1 => sample().prop_map(Op::Stale),
            6 => (0u64..3_000).prop_map(Op::Advance),
            1 => (0u64..1_000_000).prop_map(Op::Jump),
            1 => (0u64..20_000).prop_map(Op::Back),
            1 => Just(Op::End),
            1 => any::<u32>().prop_map(Op::Reset),
            2 => Just(Op::Read),
        ]
    }

    /// The reference, at bucket granularity: every outcome with its epoch,
    /// and the newest epoch seen.
    struct Model {
        width: u64,
        buckets: u64,
        period: u32,
        head: u64,
        outcomes: VecDeque<(u64, Sample)>,
    }

    impl Model {
        fn epoch(&self, now: u64) -> u64 {
            (now / self.width).min(MAX_EPOCH)
        }

        fn advance(&mut self, now: u64) {
            self.head = self.head.max(self.epoch(now));
            let (head, buckets) = (self.head, self.buckets);
            self.outcomes.retain(|&(epoch, _)| head - epoch < buckets);
        }

        fn record(&mut self, period: u32, sample: Sample, now: u64) {
            self.advance(now);
            let epoch = self.epoch(now);
            if period == self.period && self.head - epoch < self.buckets {
                self.outcomes.push_back((epoch, sample));
            }
        }

        fn totals(&self) -> Totals {
            let count =
                |f: fn(&Sample) -> bool| self.outcomes.iter().filter(|(_, s)| f(s)).count() as u32;
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
        fn agrees_with_a_model_at_bucket_granularity(
            length in 1u64..5_000,
            buckets in 1u32..7,
            start in 0u64..100_000,
            ops in proptest::collection::vec(op(), 0..200),
        ) {
            let length = length.max(u64::from(buckets));
            let window = TimeWindow::new(Duration::from_nanos(length), buckets);
            let mut model = Model {
                width: length / u64::from(buckets),
                buckets: buckets.into(),
                period: 0,
                head: 0,
                outcomes: VecDeque::new(),
            };
            let mut clock = start;
            for op in ops {
                let moves_to_the_clock = !matches!(op, Op::Record { .. });
                let (got, want) = match op {
                    Op::Record { sample, lag } => {
                        let now = clock.saturating_sub(lag);
                        model.record(model.period, sample, now);
                        (window.record(model.period, sample, Instant::from_nanos(now)), model.totals())
                    }
                    Op::Stale(sample) => {
                        let stale = model.period.wrapping_add(1);
                        model.record(stale, sample, clock);
                        (window.record(stale, sample, Instant::from_nanos(clock)), model.totals())
                    }
                    Op::Advance(d) | Op::Jump(d) => {
                        clock = clock.saturating_add(d);
                        model.advance(clock);
                        (window.totals(Instant::from_nanos(clock)), model.totals())
                    }
                    Op::Back(d) => {
                        clock = clock.saturating_sub(d);
                        model.advance(clock);
                        (window.totals(Instant::from_nanos(clock)), model.totals())
                    }
                    Op::End => {
                        clock = u64::MAX;
                        model.advance(clock);
                        (window.totals(Instant::MAX), model.totals())
                    }
                    Op::Reset(period) => {
                        window.reset(period);
                        model.period = period;
                        model.outcomes.clear();
                        model.advance(clock);
                        (window.totals(Instant::from_nanos(clock)), model.totals())
                    }
                    Op::Read => {
                        model.advance(clock);
                        (window.totals(Instant::from_nanos(clock)), model.totals())
                    }
                };
                prop_assert_eq!(got, want);
                prop_assert_eq!(window.raw_totals(), window.bucket_sum());
                prop_assert_eq!(window.raw_totals(), window.recount());
                if moves_to_the_clock {
                    prop_assert!(window.holds_nothing_older_than(Instant::from_nanos(clock)));
                }
            }
        }
    }
}
