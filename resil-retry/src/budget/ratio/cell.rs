//! The atomic storage of a [`RatioBudget`](super::RatioBudget): one balance
//! that withdrawals take from in a single CAS loop, and a ring of buckets
//! that remembers what each slice of the window added, so it can be taken
//! back out when the slice leaves the window.
//!
//! # The scheme
//!
//! All amounts are fixed-point *units* ([`UNIT`] per retry). The window is
//! [`BUCKETS`] buckets; bucket `k` is the `k`-th slice of time on the
//! budget's clock, and `head` is the newest bucket anyone has opened.
//!
//! - `balance` = reserve + the net of every bucket still in the window. It is
//!   the one authority: `withdraw` checks and takes a retry from it in one
//!   compare-and-swap loop, so it never admits a retry the balance does not
//!   cover, whatever the interleaving.
//! - `slots[k % BUCKETS]` holds the net units (deposits minus retries)
//!   recorded in bucket `k`. When bucket `k + BUCKETS` opens, the slot is
//!   swapped to zero and its old net taken back out of `balance`: the
//!   bucket's deposits expire and its retries are returned.
//!
//! # Why the order of the steps matters
//!
//! A call on the hot path reads `head`, then touches a slot and the balance
//! without a lock, so a slot can be recycled for a newer bucket under it.
//! Each step is ordered so that such a race errs towards fewer retries:
//!
//! - A deposit **records, then credits**. Its credit can only ever be in the
//!   balance while its record sits in a bucket that has not expired: if the
//!   record lands in a bucket that expires before the credit arrives, the
//!   expiry takes it out first and the credit merely cancels that (the
//!   deposit is lost, which is safe); if the slot was recycled before the
//!   record landed, the record belongs to the newer bucket, which some thread
//!   has already seen as current, so the credit lasts at most one window
//!   from when it arrives. Crediting first would let a stalled deposit's
//!   credit outlive its window: the record could land in a bucket opened
//!   long after the credit.
//! - A withdrawal **takes, then records** its charge in the bucket of the
//!   `head` it read. That slot belongs to that bucket or, if it was recycled
//!   meanwhile, to a newer one: the charge is returned no sooner than when
//!   the bucket it was admitted in leaves the window, possibly later.
//! - Opening buckets (under the mutex) **expires, then publishes** `head`.
//!   A call that reads the new `head` (`Acquire`, pairing with the
//!   `Release` store) therefore finds every expiry up to it already applied
//!   to the balance.
//!
//! The argument above reasons in the order of the balance's updates, so
//! every read-modify-write of `balance` is `AcqRel` (loads `Acquire`): each
//! one synchronizes with all earlier ones, and a step sequenced before a
//! balance update (a deposit's record, an expiry's swap) is seen by every
//! call whose balance update comes later. Without that, a withdrawal whose
//! compare-and-swap saw an expiry's return could still record its charge in
//! the slot *before* that expiry's swap, and have it returned at once. The
//! slots are `Relaxed`: they are only ever read by the swap, which is
//! ordered by the balance update that follows it.

use crate::loom::{AtomicI64, AtomicU64, Mutex, Ordering, lock};

/// Buckets per window.
pub(crate) const BUCKETS: u64 = 10;

/// Fixed-point units per retry.
pub(crate) const UNIT: i64 = 1_000;

/// See the module docs.
#[derive(Debug)]
pub(super) struct Cell {
    /// Reserve + the net of the live buckets, in units. May be negative:
    /// retries stay charged after the deposits that paid for them expire.
    balance: AtomicI64,
    /// The newest bucket opened. Buckets `head - BUCKETS + 1 ..= head` are live.
    head: AtomicU64,
    /// Net units recorded in bucket `k`, at index `k % BUCKETS`.
    slots: [AtomicI64; BUCKETS as usize],
    /// Held while opening buckets, by the first thread to see a new one.
    expiry: Mutex<()>,
}

impl Cell {
    /// A cell whose balance is `reserve` units, with `head` the current bucket.
    pub(super) fn new(reserve: i64, head: u64) -> Self {
        Cell {
            balance: AtomicI64::new(reserve),
            head: AtomicU64::new(head),
            slots: core::array::from_fn(|_| AtomicI64::new(0)),
            expiry: Mutex::new(()),
        }
    }

    /// Adds `units` of credit, recorded in the current bucket.
    pub(super) fn deposit(&self, bucket: u64, units: i64) {
        let head = self.current(bucket);
        // Record, then credit: see the module docs.
        self.slot(head).fetch_add(units, Ordering::Relaxed);
        self.balance.fetch_add(units, Ordering::AcqRel);
    }

    /// Takes one retry if the balance covers it.
    pub(super) fn withdraw(&self, bucket: u64) -> bool {
        let head = self.current(bucket);
        // The check and the take are one atomic step: the whole point.
        let taken = self
            .balance
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |balance| {
                if balance >= UNIT {
                    Some(balance - UNIT)
                } else {
                    None
                }
            })
            .is_ok();
        if taken {
            // Take, then record: see the module docs.
            self.slot(head).fetch_sub(UNIT, Ordering::Relaxed);
        }
        taken
    }

    /// Whole retries the balance covers at `bucket`.
    pub(super) fn available(&self, bucket: u64) -> u64 {
        self.current(bucket);
        retries(self.balance.load(Ordering::Acquire))
    }

    /// The balance in units, as of the last call (no expiry).
    pub(super) fn units(&self) -> i64 {
        self.balance.load(Ordering::Acquire)
    }

    /// The bucket to record in at `bucket`: the head, after opening every
    /// bucket up to `bucket` if the window is behind. A reading older than
    /// the head (a clock set backwards, a thread that read it long ago)
    /// records in the head.
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
        // Only opened under the lock, so a relaxed read sees the latest head.
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
            let expired = self.slot(k).swap(0, Ordering::Relaxed);
            self.balance.fetch_sub(expired, Ordering::AcqRel);
        }
        // Expire, then publish: see the module docs.
        self.head.store(bucket, Ordering::Release);
        bucket
    }

    fn slot(&self, bucket: u64) -> &AtomicI64 {
        // `BUCKETS` is tiny: the index always fits.
        &self.slots[(bucket % BUCKETS) as usize]
    }
}

/// Whole retries covered by `units` (none if negative).
pub(super) fn retries(units: i64) -> u64 {
    u64::try_from(units / UNIT).unwrap_or(0)
}
