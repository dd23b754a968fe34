//! The breaker's shared state: one atomic word for the state machine, and
//! the few atomics around it. The only loom target of the state machine.
//!
//! Lock-free paths change the state word with a CAS: issuing a half-open
//! permit, recording a trial, and moving from open to half-open (which has
//! nothing to write but the state). Transitions that write more — the open
//! deadline, the window's reset — are made by one thread at a time: it
//! *claims* the cell (a flag, not a lock: the claim is held for a few
//! atomic operations, a clock read, and a window reset; never across a
//! listener or any other user callback), checks that the state is still the
//! one it decided on, writes what the new state needs (the open deadline,
//! the trip count) and only then publishes the new state word. A thread
//! that reads a state word therefore also sees the deadline written for it.
//!
//! The words written on every call of some kind (the failure run, the
//! rejection count) sit on cache lines of their own, apart from the state
//! word and the deadline that every call reads (see `padded.rs`); the
//! rejection count is also striped over a few lines (`striped.rs`), so
//! threads rejecting at once do not share one.

use resil_core::{CircuitState, Instant};

use crate::loom::{AtomicBool, AtomicU32, AtomicU64, Ordering, spin};
use crate::padded::Padded;
use crate::state::State;
use crate::striped::Striped;

#[derive(Debug)]
pub(crate) struct Cell {
    /// The packed [`State`].
    state: AtomicU64,
    /// While open: when the wait ends (nanoseconds on the breaker's clock).
    open_until: AtomicU64,
    /// Set while one thread makes a transition.
    claimed: AtomicBool,
    /// Opens since the breaker last closed: the index into the wait backoff.
    trips: AtomicU32,
    /// The last wait, in nanoseconds (decorrelated jitter grows from it).
    last_wait: AtomicU64,
    /// The jitter generator's state (advanced by each trip).
    seed: AtomicU64,
    /// The words written per call, on lines of their own.
    counters: Padded<Counters>,
    /// Calls rejected, ever: striped, as every rejection writes it.
    rejected: Striped,
}

#[derive(Debug)]
struct Counters {
    /// Failures in a row while closed, tagged with the closed period's
    /// generation (high 32 bits) so that a stale outcome cannot touch the run
    /// of a newer period, however it races the transition.
    consecutive_failures: AtomicU64,
}

impl Cell {
    pub(crate) fn new(seed: u64) -> Self {
        Cell {
            state: AtomicU64::new(State::new(CircuitState::Closed, 0).pack()),
            open_until: AtomicU64::new(0),
            claimed: AtomicBool::new(false),
            trips: AtomicU32::new(0),
            last_wait: AtomicU64::new(0),
            seed: AtomicU64::new(seed),
            counters: Padded(Counters {
                consecutive_failures: AtomicU64::new(0),
            }),
            rejected: Striped::default(),
        }
    }

    pub(crate) fn load(&self) -> State {
        State::unpack(self.word())
    }

    /// The packed state word, for the fast paths that decide from a few bits.
    #[inline]
    pub(crate) fn word(&self) -> u64 {
        self.state.load(Ordering::Acquire)
    }

    /// The generation, if the breaker is closed (one load, no unpacking).
    #[inline]
    pub(crate) fn closed_generation(&self) -> Option<u32> {
        State::closed_generation(self.word())
    }

    /// Installs `next` if the state is still `current` (a lock-free update
    /// that keeps the generation: a permit issued, a trial recorded).
    pub(crate) fn update(&self, current: State, next: State) -> bool {
        self.state
            .compare_exchange(
                current.pack(),
                next.pack(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// When the open wait ends.
    #[inline]
    pub(crate) fn open_until(&self) -> Instant {
        Instant::from_nanos(self.open_until.load(Ordering::Acquire))
    }

    /// Claims the right to make a transition, waiting for a claim in progress
    /// (a handful of atomic operations) to finish.
    pub(crate) fn claim(&self) -> Claim<'_> {
        let mut spins = 0u32;
        while self
            .claimed
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            spins = spins.wrapping_add(1);
            spin(spins);
        }
        Claim { cell: self }
    }

    /// Counts one more failure in a row for a permit of closed period
    /// `generation`; returns the run's length (0 if the permit is stale).
    pub(crate) fn failure_in_a_row(&self, generation: u32) -> u32 {
        let mut run = 0;
        let _ = self.counters.consecutive_failures.fetch_update(
            Ordering::AcqRel,
            Ordering::Acquire,
            |word| {
                let (tag, n) = split_run(word);
                (tag == generation).then(|| {
                    run = n.saturating_add(1);
                    join_run(generation, run)
                })
            },
        );
        run
    }

    /// Ends a run of failures of closed period `generation`. Skips the write
    /// when there is no run, so that successes do not contend on this line.
    pub(crate) fn success_in_a_row(&self, generation: u32) {
        let word = self.counters.consecutive_failures.load(Ordering::Acquire);
        let (tag, n) = split_run(word);
        if tag == generation && n != 0 {
            let _ = self.counters.consecutive_failures.compare_exchange(
                word,
                join_run(generation, 0),
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }

    pub(crate) fn consecutive_failures(&self) -> u32 {
        split_run(self.counters.consecutive_failures.load(Ordering::Acquire)).1
    }

    #[inline]
    pub(crate) fn count_rejection(&self) {
        self.rejected.increment();
    }

    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.sum()
    }
}

/// The right to make one transition; released on drop (also on unwind).
#[derive(Debug)]
pub(crate) struct Claim<'a> {
    cell: &'a Cell,
}

impl Claim<'_> {
    /// The current state (it can still change by lock-free updates).
    pub(crate) fn state(&self) -> State {
        self.cell.load()
    }

    /// Opens since the last close, and the last wait and jitter seed.
    pub(crate) fn trips(&self) -> (u32, u64, u64) {
        (
            self.cell.trips.load(Ordering::Relaxed),
            self.cell.last_wait.load(Ordering::Relaxed),
            self.cell.seed.load(Ordering::Relaxed),
        )
    }

    /// Records a trip's wait: the open deadline, the trip count, the jitter state.
    pub(crate) fn set_open(&self, until: Instant, trips: u32, wait_nanos: u64, seed: u64) {
        self.cell
            .open_until
            .store(until.as_nanos(), Ordering::Release);
        self.cell.trips.store(trips, Ordering::Relaxed);
        self.cell.last_wait.store(wait_nanos, Ordering::Relaxed);
        self.cell.seed.store(seed, Ordering::Relaxed);
    }

    /// Forgets past trips and failures: the breaker is closing into
    /// `generation` (the run is tagged with it before the state is published).
    pub(crate) fn set_closed(&self, generation: u32) {
        self.cell.trips.store(0, Ordering::Relaxed);
        self.cell.last_wait.store(0, Ordering::Relaxed);
        self.cell
            .counters
            .consecutive_failures
            .store(join_run(generation, 0), Ordering::Release);
    }

    /// Publishes `next` if the state is still `current`.
    pub(crate) fn publish(&self, current: State, next: State) -> bool {
        self.cell.update(current, next)
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.cell.claimed.store(false, Ordering::Release);
    }
}

/// The failure run's word: `generation << 32 | run`.
const fn join_run(generation: u32, run: u32) -> u64 {
    ((generation as u64) << 32) | run as u64
}

const fn split_run(word: u64) -> (u32, u32) {
    ((word >> 32) as u32, word as u32)
}
