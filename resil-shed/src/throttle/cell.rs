//! The atomic storage of an [`AdaptiveThrottle`](super::AdaptiveThrottle):
//! request and accept counts over a sliding window, in one word of totals
//! and a ring of buckets.
//!
//! # The scheme
//!
//! Counts are *packed*: requests in the low 32 bits of a `u64`, accepts in
//! the high 32, so one atomic read-modify-write counts a request and
//! returns both counts as they were, consistently. The window is
//! [`BUCKETS`] buckets; bucket `k` is the `k`-th slice of time on the
//! throttle's clock, and `head` is the newest bucket anyone has opened.
//!
//! - `totals` = the counts of every bucket still in the window (plus the
//!   ones counted but not yet placed in a bucket).
//! - `slots[k % BUCKETS]` holds the counts placed in bucket `k`. When bucket
//!   `k + BUCKETS` opens, the slot is swapped to zero and what it held is
//!   taken out of `totals`: the bucket's requests and accepts leave the
//!   window.
//!
//! # Why the order of the steps matters
//!
//! A count on the hot path reads `head`, then touches `totals` and a slot
//! without a lock, so a slot can be recycled for a newer bucket under it.
//!
//! - A count **adds to the totals, then places** in its slot. Whatever an
//!   expiry takes out of the totals was therefore added to them first, so
//!   neither half of the packed word ever goes below zero (a borrow from the
//!   accepts into the requests would read as four billion requests). The
//!   slot's `Release` add and the expiry's `Acquire` swap carry that
//!   ordering to the expiry's subtraction.
//! - If the slot is recycled between the two steps (the call stalled for a
//!   whole window, or the clock jumped by one), the count lands in the newer
//!   bucket and lasts until that bucket leaves the window: at most one
//!   window after it lands. If it lands first and the recycling takes it
//!   out, it counted, as an event of its own bucket, until that bucket left
//!   the window. Either way it is taken out exactly once.
//! - Opening buckets (under the mutex) **expires, then publishes** `head`
//!   (`Release`, paired with the hot path's `Acquire`): a call that reads
//!   the new `head` finds every expiry up to it already applied.
//!
//! # Saturation
//!
//! Each half counts up to [`CAP`] (2^31) per window. A count that finds its
//! half at the cap takes itself back out and is not placed: the window then
//! holds a sample of the traffic, and no half ever reaches 2^32 (that would
//! take 2^31 threads racing).

use crate::loom::{AtomicU64, Mutex, Ordering, lock};

/// Buckets per window.
pub(crate) const BUCKETS: u64 = 10;

/// One request, in a packed word.
pub(crate) const REQUEST: u64 = 1;

/// One accept, in a packed word.
pub(crate) const ACCEPT: u64 = 1 << 32;

/// The most requests (or accepts) a window counts at once.
pub(crate) const CAP: u64 = 1 << 31;

/// Requests and accepts, unpacked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) requests: u64,
    pub(crate) accepts: u64,
}

impl Counts {
    fn unpack(word: u64) -> Self {
        Counts {
            requests: word & 0xFFFF_FFFF,
            accepts: word >> 32,
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct Cell {
    /// The packed counts of the live buckets.
    totals: AtomicU64,
    /// The newest bucket opened. Buckets `head - BUCKETS + 1 ..= head` are live.
    head: AtomicU64,
    /// The packed counts placed in bucket `k`, at index `k % BUCKETS`.
    slots: [AtomicU64; BUCKETS as usize],
    /// Held while opening buckets, by the first thread to see a new one.
    expiry: Mutex<()>,
}

impl Cell {
    /// An empty window whose current bucket is `head`.
    pub(super) fn new(head: u64) -> Self {
        Cell {
            totals: AtomicU64::new(0),
            head: AtomicU64::new(head),
            slots: core::array::from_fn(|_| AtomicU64::new(0)),
            expiry: Mutex::new(()),
        }
    }

    /// Counts one `unit` ([`REQUEST`] or [`ACCEPT`]) at `bucket`, and
    /// returns the counts as they were just before it.
    #[inline]
    pub(super) fn add(&self, bucket: u64, unit: u64) -> Counts {
        let head = self.current(bucket);
        // Add, then place: see the module docs.
        let before = Counts::unpack(self.totals.fetch_add(unit, Ordering::AcqRel));
        let full = if unit == REQUEST {
            before.requests >= CAP
        } else {
            before.accepts >= CAP
        };
        if full {
            self.totals.fetch_sub(unit, Ordering::AcqRel);
        } else {
            self.slot(head).fetch_add(unit, Ordering::Release);
        }
        before
    }

    /// The counts of the window at `bucket`.
    pub(super) fn counts(&self, bucket: u64) -> Counts {
        self.current(bucket);
        self.totals()
    }

    /// The counts as of the last call (no expiry).
    pub(super) fn totals(&self) -> Counts {
        Counts::unpack(self.totals.load(Ordering::Acquire))
    }

    /// The bucket to count in at `bucket`: the head, after opening every
    /// bucket up to `bucket` if the window is behind. A reading older than
    /// the head (a clock set backwards, a thread that read it long ago)
    /// counts in the head.
    #[inline]
    fn current(&self, bucket: u64) -> u64 {
        let head = self.head.load(Ordering::Acquire);
        if bucket <= head {
            head
        } else {
            self.open(bucket)
        }
    }

    /// Opens every bucket after the head up to `bucket`, expiring the ones
    /// they replace, then publishes the new head. Threads that race here
    /// wait for the first, then find the work done.
    #[cold]
    #[inline(never)]
    fn open(&self, bucket: u64) -> u64 {
        let _guard = lock(&self.expiry);
        // Only written under the lock, so a relaxed read sees the latest.
        let head = self.head.load(Ordering::Relaxed);
        if bucket <= head {
            return head;
        }
        // Bucket `k` takes over the slot of bucket `k - BUCKETS`. Opening more
        // than `BUCKETS` buckets at once recycles every slot exactly once.
        let first = head
            .saturating_add(1)
            .max(bucket.saturating_sub(BUCKETS - 1));
        for k in first..=bucket {
            let expired = self.slot(k).swap(0, Ordering::Acquire);
            if expired != 0 {
                self.totals.fetch_sub(expired, Ordering::AcqRel);
            }
        }
        // Expire, then publish: see the module docs.
        self.head.store(bucket, Ordering::Release);
        bucket
    }

    fn slot(&self, bucket: u64) -> &AtomicU64 {
        // `BUCKETS` is tiny: the index always fits.
        &self.slots[(bucket % BUCKETS) as usize]
    }
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use super::*;

    #[test]
    fn counts_pack_and_unpack() {
        assert_eq!(
            Counts::unpack(3 * REQUEST + 5 * ACCEPT),
            Counts {
                requests: 3,
                accepts: 5
            }
        );
        assert_eq!(Counts::unpack(u64::MAX).requests, 0xFFFF_FFFF);
    }

    #[test]
    fn add_returns_the_counts_before_it() {
        let cell = Cell::new(0);
        assert_eq!(cell.add(0, REQUEST), Counts::default());
        cell.add(0, ACCEPT);
        let before = cell.add(0, REQUEST);
        assert_eq!(
            before,
            Counts {
                requests: 1,
                accepts: 1
            }
        );
        assert_eq!(cell.totals().requests, 2);
    }

    #[test]
    fn buckets_expire_one_window_later() {
        let cell = Cell::new(0);
        cell.add(0, REQUEST);
        cell.add(3, REQUEST);
        cell.add(3, ACCEPT);
        assert_eq!(cell.counts(9).requests, 2);
        // Bucket 10 replaces bucket 0.
        assert_eq!(
            cell.counts(10),
            Counts {
                requests: 1,
                accepts: 1
            }
        );
        // A jump of more than a window empties it, each slot once.
        assert_eq!(cell.counts(1_000), Counts::default());
        assert_eq!(cell.head.load(Ordering::Relaxed), 1_000);
        // An old reading counts in the head.
        cell.add(5, REQUEST);
        assert_eq!(cell.counts(1_009).requests, 1);
        assert_eq!(cell.counts(1_010).requests, 0);
    }

    #[test]
    fn each_half_saturates_without_touching_the_other() {
        let cell = Cell::new(0);
        cell.totals.store(CAP | (CAP << 32), Ordering::Relaxed);
        let before = cell.add(0, REQUEST);
        assert_eq!(before.requests, CAP);
        cell.add(0, ACCEPT);
        assert_eq!(
            cell.totals(),
            Counts {
                requests: CAP,
                accepts: CAP
            }
        );
        assert_eq!(cell.slot(0).load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_last_bucket_does_not_overflow() {
        let cell = Cell::new(u64::MAX - 3);
        cell.add(u64::MAX - 3, REQUEST);
        assert_eq!(cell.counts(u64::MAX).requests, 1);
        cell.add(u64::MAX, ACCEPT);
        assert_eq!(cell.totals().accepts, 1);
    }
}
