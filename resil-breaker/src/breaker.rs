//! The circuit breaker: a thin, generic shell over the state machine
//! (`state.rs`), its atomic cell (`cell.rs`) and the sliding window.

use core::time::Duration;

use resil_core::{
    CircuitState, Clock, Event, EventKind, Instant, Listener, NoopListener, Outcome, SplitMix64,
};

use crate::cell::Cell;
use crate::config::{Config, DefaultClock, SlidingWindow};
use crate::error::Rejected;
use crate::loom::Arc;
use crate::metrics::Metrics;
use crate::state::{self, Admission, State, Trial, Verdict};
use crate::window::{Sample, Window};

/// A circuit breaker: stops calling a dependency that keeps failing, and
/// lets a few trial calls through after a wait to find out whether it has
/// recovered.
///
/// Cheap to clone (clones share one breaker), `Send + Sync`. See the
/// [crate docs](crate) for the states and an example.
#[derive(Debug)]
pub struct CircuitBreaker<C = DefaultClock, L = NoopListener> {
    shared: Arc<Shared<C, L>>,
}

impl<C, L> Clone for CircuitBreaker<C, L> {
    fn clone(&self) -> Self {
        CircuitBreaker {
            shared: Arc::clone(&self.shared),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Shared<C, L> {
    cell: Cell,
    window: Window,
    config: Config,
    name: &'static str,
    clock: C,
    listener: L,
}

/// What a permit carries: enough to record its outcome against the state
/// that issued it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket {
    generation: u32,
    trial: bool,
    /// False when the breaker was disabled: nothing is recorded.
    counts: bool,
    /// When the call started, if slow calls are detected.
    started: Option<Instant>,
}

impl<C: Clock, L: Listener> CircuitBreaker<C, L> {
    pub(crate) fn new(config: Config, name: &'static str, clock: C, listener: L) -> Self {
        let window = match config.window {
            SlidingWindow::Count { size } => Window::count(size),
            SlidingWindow::Time { length, buckets } => Window::time(length, buckets),
        };
        CircuitBreaker {
            shared: Arc::new(Shared {
                cell: Cell::new(seed()),
                window,
                config,
                name,
                clock,
                listener,
            }),
        }
    }

    /// The current state. A breaker whose open wait has passed still reports
    /// `Open` until a call arrives to try it.
    pub fn state(&self) -> CircuitState {
        self.shared.cell.load().kind
    }

    /// Whether the breaker is protecting nothing right now: closed,
    /// disabled, or open with its wait over (the next call would try it).
    #[cfg(feature = "std")]
    pub(crate) fn is_idle(&self) -> bool {
        match self.state() {
            CircuitState::Closed | CircuitState::Disabled => true,
            CircuitState::Open => self.shared.clock.now() >= self.shared.cell.open_until(),
            _ => false,
        }
    }

    /// The name given at build time.
    pub fn name(&self) -> &'static str {
        self.shared.name
    }

    /// A snapshot of the window and counters.
    pub fn metrics(&self) -> Metrics {
        let shared = &*self.shared;
        let now = shared.clock.now();
        Metrics::new(
            shared.cell.load().kind,
            shared.window.totals(now),
            shared.cell.rejected(),
            shared.cell.consecutive_failures(),
        )
    }

    /// Holds the breaker open: every call is rejected until [`reset`](Self::reset)
    /// or [`disable`](Self::disable).
    pub fn force_open(&self) {
        self.shared
            .transition(|_| true, CircuitState::ForcedOpen, None);
    }

    /// Switches the breaker off: every call is admitted and nothing is
    /// recorded, until [`reset`](Self::reset) or [`force_open`](Self::force_open).
    pub fn disable(&self) {
        self.shared
            .transition(|_| true, CircuitState::Disabled, None);
    }

    /// Closes the breaker with an empty window and no trip history.
    pub fn reset(&self) {
        self.shared.transition(|_| true, CircuitState::Closed, None);
    }

    /// Opens the breaker for `wait` (then half-open as usual), whatever its
    /// state: a manual trip.
    pub fn open_for(&self, wait: Duration) {
        self.shared
            .transition(|_| true, CircuitState::Open, Some(OpenFor::Exactly(wait)));
    }

    /// Asks to make a call. `Ok` holds a permit: record the call's outcome on
    /// it (dropping it unrecorded counts as ignored). `Err` says why not, and
    /// when the breaker may admit again.
    ///
    /// # Errors
    ///
    /// [`Rejected`] when the breaker is open, forced open, or half-open with
    /// every trial permit taken.
    #[inline]
    pub fn try_acquire(&self) -> Result<crate::Permit<'_, C, L>, Rejected> {
        let ticket = self.shared.acquire()?;
        Ok(crate::Permit::new(self, ticket))
    }

    /// Like [`try_acquire`](Self::try_acquire), with a permit that owns a
    /// handle to the breaker (`'static` if `C` and `L` are), for futures
    /// and tower services that outlive a borrow.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    pub fn try_acquire_owned(&self) -> Result<crate::OwnedPermit<C, L>, Rejected> {
        let ticket = self.shared.acquire()?;
        Ok(crate::OwnedPermit::new(self.clone(), ticket))
    }

    #[inline]
    pub(crate) fn finish(&self, ticket: Ticket, outcome: Outcome) {
        self.shared.finish(ticket, outcome);
    }
}

/// How long a transition to `Open` waits.
#[derive(Clone, Copy, Debug)]
enum OpenFor {
    /// The backoff's next wait (a trip).
    Backoff,
    /// A given wait (a manual trip).
    Exactly(Duration),
}

impl<C: Clock, L: Listener> Shared<C, L> {
    #[inline]
    fn acquire(&self) -> Result<Ticket, Rejected> {
        let word = self.cell.word();
        // The common case, closed, from the raw word.
        if let Some(generation) = State::closed_generation(word) {
            return Ok(self.ticket(generation, false, true));
        }
        // The common case while open: the wait is not over. One load of the
        // deadline and one clock read, no CAS. The deadline is written before
        // the open state is published, so it is this state's or a later
        // open state's (a later deadline: rejecting is right either way).
        if State::is_open(word) {
            let now = self.clock.now();
            let until = self.cell.open_until();
            if now < until {
                return Err(self.reject(CircuitState::Open, Some(until - now)));
            }
        }
        self.acquire_slow()
    }

    /// Every other admission: half-open permits, the end of the open wait,
    /// forced open, verdicts due. Kept out of line so that the two fast
    /// paths above stay small enough to inline.
    #[inline(never)]
    fn acquire_slow(&self) -> Result<Ticket, Rejected> {
        loop {
            let state = self.cell.load();
            match state::admit(state, &self.config) {
                Admission::Admit { generation, trial } => {
                    return Ok(self.ticket(generation, trial, state.kind == CircuitState::Closed));
                }
                Admission::Claim(next) => {
                    if self.cell.update(state, next) {
                        return Ok(self.ticket(state.generation, true, true));
                    }
                }
                Admission::Open => {
                    let now = self.clock.now();
                    let until = self.cell.open_until();
                    if now < until {
                        return Err(self.reject(state.kind, Some(until - now)));
                    }
                    // No side data to write, so no claim: one CAS, and the
                    // thread that wins it reports the transition.
                    if self.cell.update(state, state.next(CircuitState::HalfOpen)) {
                        self.report(EventKind::breaker_transition(
                            state.kind,
                            CircuitState::HalfOpen,
                        ));
                    }
                }
                Admission::Reject => {
                    if !self.half_open_expired(state) {
                        return Err(self.reject(state.kind, None));
                    }
                    // Trials that never report (a hung call, a leaked
                    // permit) must not hold the breaker half-open forever.
                    self.transition(|s| s == state, CircuitState::Open, Some(OpenFor::Backoff));
                }
                Admission::Verdict(verdict) => self.apply(state, verdict),
            }
        }
    }

    /// Whether `state` is a half-open state whose trials have had longer
    /// than `half_open_timeout` (counted from the end of the open wait).
    fn half_open_expired(&self, state: State) -> bool {
        match self.config.half_open_timeout {
            Some(limit) if state.kind == CircuitState::HalfOpen => {
                self.clock.now() >= self.cell.open_until() + limit
            }
            _ => false,
        }
    }

    #[inline]
    fn ticket(&self, generation: u32, trial: bool, counts: bool) -> Ticket {
        let timed = counts && self.config.slow_call_rate.is_some();
        Ticket {
            generation,
            trial,
            counts,
            started: timed.then(|| self.clock.now()),
        }
    }

    #[inline]
    fn reject(&self, state: CircuitState, retry_after: Option<Duration>) -> Rejected {
        self.cell.count_rejection();
        self.report(EventKind::call_rejected(state));
        Rejected::new(state, retry_after)
    }

    /// The healthy steady state inline: an untimed success of a closed
    /// period into a count window of plain successes records nothing (in
    /// `finish_slow` it would return at the generation check or at the
    /// healthy one). Everything else goes out of line, so the common case
    /// pays for one load and a few tests of the ticket.
    #[inline]
    fn finish(&self, ticket: Ticket, outcome: Outcome) {
        let healthy_success = outcome == Outcome::Success
            && ticket.counts
            && !ticket.trial
            && ticket.started.is_none()
            && self.window.healthy();
        if !healthy_success {
            self.finish_slow(ticket, outcome);
        }
    }

    #[inline(never)]
    fn finish_slow(&self, ticket: Ticket, outcome: Outcome) {
        if !ticket.counts {
            return;
        }
        let slow = match ticket.started {
            Some(started) => self.clock.now() - started > self.config.slow_call_duration,
            None => false,
        };
        if ticket.trial {
            self.finish_trial(ticket.generation, outcome, slow);
            return;
        }
        if outcome == Outcome::Ignored {
            return;
        }
        // A permit from a closed period that has ended changes nothing. (The
        // window also drops it once a new period begins; this check covers
        // the open and half-open states in between, and the failure run.)
        if self.cell.closed_generation() != Some(ticket.generation) {
            return;
        }
        let failure = match outcome {
            Outcome::Ignored => return,
            // The healthy steady state: nothing to record, nothing to trip.
            Outcome::Success if !slow && self.window.healthy() => return,
            Outcome::Success => {
                self.cell.success_in_a_row(ticket.generation);
                false
            }
            Outcome::Failure => true,
        };
        let in_a_row = if failure {
            self.cell.failure_in_a_row(ticket.generation)
        } else {
            0
        };
        let now = match self.config.window {
            SlidingWindow::Time { .. } => self.clock.now(),
            _ => Instant::ZERO,
        };
        let totals = self
            .window
            .record(ticket.generation, Sample { failure, slow }, now);
        // A fast success can trip the breaker only by bringing the window up
        // to `minimum_calls`: a rate already over its threshold would have
        // tripped on the failure that put it there, so skip the rest. (In a
        // time window, expiry can raise the rate between records; the next
        // failure then trips it.)
        let may_trip = failure || slow || Some(totals.calls) == self.config.minimum_calls;
        if may_trip && state::should_trip(totals, in_a_row, &self.config).is_some() {
            let generation = ticket.generation;
            self.transition(
                |s| s.kind == CircuitState::Closed && s.generation == generation,
                CircuitState::Open,
                Some(OpenFor::Backoff),
            );
        }
    }

    fn finish_trial(&self, generation: u32, outcome: Outcome, slow: bool) {
        let trial = match outcome {
            Outcome::Success => Trial::Success { slow },
            Outcome::Failure => Trial::Failure { slow },
            Outcome::Ignored => Trial::Ignored,
        };
        loop {
            let state = self.cell.load();
            let Some(next) = state::record_trial(state, generation, trial) else {
                return; // A stale permit: the breaker has moved on.
            };
            if self.cell.update(state, next) {
                if let Some(verdict) = state::verdict(next, &self.config) {
                    self.apply(next, verdict);
                }
                return;
            }
        }
    }

    /// Applies the half-open verdict reached in `state`.
    fn apply(&self, state: State, verdict: Verdict) {
        let (to, open) = match verdict {
            Verdict::Close => (CircuitState::Closed, None),
            Verdict::Reopen(_) => (CircuitState::Open, Some(OpenFor::Backoff)),
        };
        self.transition(|s| s == state, to, open);
    }

    /// Moves to `to` if the state still satisfies `expected`; one thread at a
    /// time, events reported after the claim is released.
    fn transition(
        &self,
        expected: impl Fn(State) -> bool,
        to: CircuitState,
        open: Option<OpenFor>,
    ) {
        // Read before claiming, so that no user code (a clock) runs under it.
        let now = self.clock.now();
        let claim = self.cell.claim();
        // Read once: every turn of the loop below writes the same side data.
        let (trips, last_wait, seed) = claim.trips();
        let mut state = claim.state();
        loop {
            if !expected(state) {
                return;
            }
            let next = state.next(to);
            match to {
                CircuitState::Open => {
                    let (wait, trips, last_wait) = match open {
                        // A manual trip neither grows nor seeds the automatic wait.
                        Some(OpenFor::Exactly(wait)) => (wait, trips, last_wait),
                        _ => {
                            let previous = Duration::from_nanos(last_wait);
                            let mut rng = SplitMix64::new(seed);
                            let wait = self.config.wait.jittered_delay(trips, previous, &mut rng);
                            let nanos = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
                            (wait, trips.saturating_add(1), nanos)
                        }
                    };
                    let next_seed = SplitMix64::new(seed).next_u64();
                    claim.set_open(now + wait, trips, last_wait, next_seed);
                }
                CircuitState::Closed => {
                    self.window.reset(next.generation);
                    claim.set_closed(next.generation);
                }
                _ => {}
            }
            if claim.publish(state, next) {
                drop(claim);
                // `reset()` of a closed breaker starts a new period but is no
                // change of state to report.
                if state.kind != to {
                    self.report(EventKind::breaker_transition(state.kind, to));
                }
                return;
            }
            // A lock-free update (a permit issued) raced us: decide again.
            state = claim.state();
        }
    }

    #[inline]
    fn report(&self, kind: EventKind) {
        if !self.listener.is_enabled() {
            return;
        }
        self.listener
            .on_event(&Event::new(self.name, self.clock.now(), kind));
    }
}

/// A per-breaker jitter seed: random with `std`, distinct per breaker without.
fn seed() -> u64 {
    #[cfg(feature = "std")]
    {
        use core::hash::BuildHasher;
        std::hash::RandomState::new().hash_one(0xB2EA_u64)
    }
    #[cfg(not(feature = "std"))]
    {
        use core::sync::atomic::{AtomicU32, Ordering};
        static BREAKERS: AtomicU32 = AtomicU32::new(0);
        u64::from(BREAKERS.fetch_add(1, Ordering::Relaxed))
    }
}
