//! The concurrency limiter: permits for work in flight, a bounded
//! priority-ordered wait queue, and a fixed or adaptive limit.
//!
//! Admission without waiting is lock-free: the permits out per priority
//! level are one packed atomic word (`state.rs`), and a request is admitted
//! by a compare-and-swap that checks the limit and the reserves at once.
//! Only waiting takes a lock (`queue.rs`). A permit returned while others
//! wait is handed to the most critical waiter by the returning thread,
//! which takes it on the waiter's behalf: no newcomer overtakes a waiter.

mod permit;
mod queue;
mod state;

pub use permit::Permit;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::poll_fn;
use core::pin::pin;
use core::task::{Poll, Waker};
use core::time::Duration;

use resil_core::error::{check_at_least, check_non_zero};
use resil_core::{
    Clock, ConfigError, Event, EventKind, Instant, Listener, NoopListener, Outcome, ShedReason,
    Sleeper, SystemClock,
};

use crate::limit::{Limit, Sample};
use crate::loom::lock;
use crate::loom::{AtomicU64, Mutex, Ordering};
use crate::{Priority, Shed};
use queue::{Codel, Queue, WaitState, Waiter};
use state::{Counts, LEVELS, MAX_LIMIT, Reserves, admits};

/// A concurrency limit with priorities: hands out RAII [`Permit`]s for work
/// in flight, refuses (sheds) what does not fit, and lets callers that can
/// wait queue for a bounded time.
///
/// Cheap to clone (clones share one limiter), `Send + Sync`, runtime-free:
/// waiting uses the [`Sleeper`] the caller passes.
///
/// # Examples
///
/// Critical traffic survives while sheddable traffic is refused:
///
/// ```
/// use resil_core::ManualClock;
/// use resil_shed::{ConcurrencyLimit, Fixed, Priority};
///
/// let limiter = ConcurrencyLimit::builder(Fixed::try_from(10)?)
///     .reserve(Priority::Critical, 0.5) // half the limit, kept from less critical work
///     .clock(ManualClock::new())
///     .build()?;
///
/// // Batch work takes all it may: the unreserved half.
/// let batch: Vec<_> = (0..10).filter_map(|_| limiter.try_acquire(Priority::Sheddable).ok()).collect();
/// assert_eq!(batch.len(), 5);
/// // User-facing requests still get in.
/// let users: Vec<_> = (0..5).filter_map(|_| limiter.try_acquire(Priority::Critical).ok()).collect();
/// assert_eq!(users.len(), 5);
/// assert!(limiter.try_acquire(Priority::Sheddable).is_err());
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct ConcurrencyLimit<L, C = SystemClock, Li = NoopListener> {
    shared: Arc<Shared<L, C, Li>>,
}

impl<L, C, Li> Clone for ConcurrencyLimit<L, C, Li> {
    fn clone(&self) -> Self {
        ConcurrencyLimit {
            shared: Arc::clone(&self.shared),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Shared<L, C, Li> {
    /// Permits out per level and the current limit ([`Counts`]): one word,
    /// so admissions and limit changes are ordered.
    counts: AtomicU64,
    /// Waiters queued per level (a [`Counts`] too): lets admission see,
    /// without the lock, whether it would overtake a waiter.
    waiting: AtomicU64,
    reserves: Reserves,
    queue: Mutex<Queue>,
    /// The limit algorithm; only try-locked, so a contended update skips a
    /// sample instead of waiting.
    algorithm: Mutex<L>,
    max_queue: usize,
    max_wait: Duration,
    codel: Option<Codel>,
    name: &'static str,
    clock: C,
    listener: Li,
}

/// Configures a [`ConcurrencyLimit`]; made by [`ConcurrencyLimit::builder`].
///
/// # Default
///
/// - no reserves: every level shares the whole limit (the most critical is
///   still never refused where a less critical request is admitted)
/// - `max_queue`: 0 — no waiting, [`ConcurrencyLimit::acquire`] behaves as
///   `try_acquire`
/// - `max_wait`: 1s
/// - CoDel: off (FIFO within a level)
#[derive(Debug)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct ConcurrencyLimitBuilder<L, C = SystemClock, Li = NoopListener> {
    algorithm: L,
    reserves: [f64; LEVELS],
    max_queue: usize,
    max_wait: Duration,
    codel: Option<Codel>,
    name: &'static str,
    clock: C,
    listener: Li,
}

impl<L: Limit> ConcurrencyLimit<L> {
    /// A builder around `algorithm` (a [`Fixed`](crate::Fixed) limit, or an
    /// adaptive one).
    pub fn builder(algorithm: L) -> ConcurrencyLimitBuilder<L> {
        ConcurrencyLimitBuilder {
            algorithm,
            reserves: [0.0; LEVELS],
            max_queue: 0,
            max_wait: Duration::from_secs(1),
            codel: None,
            name: "",
            clock: SystemClock,
            listener: NoopListener,
        }
    }
}

impl<L, C, Li> ConcurrencyLimitBuilder<L, C, Li> {
    /// Keeps `share` (in `[0, 1]`) of the limit for `priority` against less
    /// critical levels; idle reserved capacity is still used by more
    /// critical ones.
    pub fn reserve(mut self, priority: Priority, share: f64) -> Self {
        self.reserves[priority.index()] = share;
        self
    }

    /// How many requests may wait at once; 0 means none may.
    pub fn max_queue(mut self, waiters: usize) -> Self {
        self.max_queue = waiters;
        self
    }

    /// How long a request may wait before it is shed.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Turns on CoDel with adaptive LIFO: a level whose queue has not been
    /// empty for `interval` serves its newest waiters first and sheds those
    /// that have waited longer than `target`.
    pub fn codel(mut self, target: Duration, interval: Duration) -> Self {
        self.codel = Some(Codel { target, interval });
        self
    }

    /// The name events carry as their source.
    pub fn name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The clock waits and latencies are measured on.
    pub fn clock<C2: Clock>(self, clock: C2) -> ConcurrencyLimitBuilder<L, C2, Li> {
        ConcurrencyLimitBuilder {
            algorithm: self.algorithm,
            reserves: self.reserves,
            max_queue: self.max_queue,
            max_wait: self.max_wait,
            codel: self.codel,
            name: self.name,
            clock,
            listener: self.listener,
        }
    }

    /// Where shed and limit-change events go.
    pub fn listener<Li2: Listener>(self, listener: Li2) -> ConcurrencyLimitBuilder<L, C, Li2> {
        ConcurrencyLimitBuilder {
            algorithm: self.algorithm,
            reserves: self.reserves,
            max_queue: self.max_queue,
            max_wait: self.max_wait,
            codel: self.codel,
            name: self.name,
            clock: self.clock,
            listener,
        }
    }
}

impl<L: Limit, C: Clock, Li: Listener> ConcurrencyLimitBuilder<L, C, Li> {
    /// Validates the configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if a reserve is not in `[0, 1]` or the reserves add
    /// up to more than 1; `max_wait`, or a CoDel target or interval, is zero;
    /// or the limit is above 4,095 (or `max_queue` is).
    pub fn build(self) -> Result<ConcurrencyLimit<L, C, Li>, ConfigError> {
        let mut permille = [0; LEVELS];
        for (level, &share) in self.reserves.iter().enumerate() {
            check_at_least("reserve", share, 0.0, "a share in [0, 1]")?;
            if share > 1.0 {
                return Err(ConfigError::invalid("reserve", share, "a share in [0, 1]"));
            }
            permille[level] = (share * 1000.0).round() as u32;
        }
        let total: f64 = self.reserves.iter().sum();
        if total > 1.0 + 1e-9 {
            return Err(ConfigError::invalid(
                "reserves",
                total,
                "shares adding up to at most 1",
            ));
        }
        check_non_zero("max_wait", self.max_wait)?;
        if let Some(codel) = self.codel {
            check_non_zero("codel target", codel.target)?;
            check_non_zero("codel interval", codel.interval)?;
        }
        let limit = self.algorithm.limit();
        if limit > MAX_LIMIT {
            return Err(ConfigError::invalid("limit", limit, "at most 4095"));
        }
        if self.max_queue > MAX_LIMIT as usize {
            return Err(ConfigError::invalid(
                "max_queue",
                self.max_queue,
                "at most 4095",
            ));
        }
        let now = self.clock.now();
        Ok(ConcurrencyLimit {
            shared: Arc::new(Shared {
                counts: AtomicU64::new(Counts::with_limit(limit.max(1)).0),
                waiting: AtomicU64::new(0),
                reserves: Reserves(permille),
                queue: Mutex::new(Queue::new(now)),
                algorithm: Mutex::new(self.algorithm),
                max_queue: self.max_queue,
                max_wait: self.max_wait,
                codel: self.codel,
                name: self.name,
                clock: self.clock,
                listener: self.listener,
            }),
        })
    }
}

impl<L: Limit, C: Clock, Li: Listener> ConcurrencyLimit<L, C, Li> {
    /// A permit if one is free for `priority` now, without waiting.
    ///
    /// # Errors
    ///
    /// [`Shed`] with [`ShedReason::LimitReached`] if the limit (or a more
    /// critical level's reserve) leaves no room, or a request at least as
    /// critical is already waiting.
    pub fn try_acquire(&self, priority: Priority) -> Result<Permit<L, C, Li>, Shed> {
        if self.shared.try_admit(priority) {
            Ok(self.permit(priority))
        } else {
            Err(self.shared.shed(priority, ShedReason::LimitReached))
        }
    }

    /// A permit for `priority` if one is free now; `None` otherwise, and
    /// then nothing is reported (no shed event): for a caller that tries
    /// first and waits with [`acquire`](Self::acquire) only when it must,
    /// so that only a refusal it finally gives counts as a shed.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_core::ManualClock;
    /// use resil_shed::{ConcurrencyLimit, Fixed, Priority};
    ///
    /// let limiter = ConcurrencyLimit::builder(Fixed::try_from(1)?)
    ///     .clock(ManualClock::new())
    ///     .build()?;
    /// let held = limiter.acquire_now(Priority::Critical).expect("one is free");
    /// assert!(limiter.acquire_now(Priority::Critical).is_none());
    /// drop(held);
    /// assert!(limiter.acquire_now(Priority::Critical).is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn acquire_now(&self, priority: Priority) -> Option<Permit<L, C, Li>> {
        self.shared
            .try_admit(priority)
            .then(|| self.permit(priority))
    }

    /// A permit for `priority`, waiting in the queue (on `sleeper`) for at
    /// most `max_wait` if none is free.
    ///
    /// Dropping the returned future leaves the queue; a permit granted to
    /// it in the meantime is returned at once.
    ///
    /// # Errors
    ///
    /// [`Shed`] with [`ShedReason::QueueFull`] if the queue has no room (a
    /// waiter of lower priority is evicted to make room, when there is one),
    /// or [`ShedReason::WaitedTooLong`] after `max_wait` (or CoDel's target
    /// under overload).
    pub async fn acquire<S: Sleeper + ?Sized>(
        &self,
        sleeper: &S,
        priority: Priority,
    ) -> Result<Permit<L, C, Li>, Shed> {
        if self.shared.try_admit(priority) {
            return Ok(self.permit(priority));
        }
        let shared = &*self.shared;
        if shared.max_queue == 0 {
            return Err(shared.shed(priority, ShedReason::LimitReached));
        }
        let waiter = shared.enqueue(priority)?;
        let guard = Cancel {
            shared,
            waiter: Some(&waiter),
        };
        let mut timeout = pin!(sleeper.sleep(shared.max_wait));
        let outcome = poll_fn(|cx| {
            {
                let mut state = lock(&waiter.state);
                match &mut *state {
                    WaitState::Granted => return Poll::Ready(Ok(())),
                    WaitState::Shed(reason) => return Poll::Ready(Err(*reason)),
                    WaitState::Waiting(waker) => match waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => *waker = Some(cx.waker().clone()),
                    },
                }
            }
            match timeout.as_mut().poll(cx) {
                Poll::Ready(_) => Poll::Ready(Err(ShedReason::WaitedTooLong)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await;
        match outcome {
            Ok(()) => {
                guard.disarm();
                Ok(self.permit(priority))
            }
            Err(reason) => {
                // Leave the queue (or return a permit granted just now).
                drop(guard);
                Err(shared.shed(priority, reason))
            }
        }
    }

    /// The current limit.
    pub fn limit(&self) -> u32 {
        self.shared.counts().limit()
    }

    /// Permits out now, all levels together.
    pub fn in_flight(&self) -> u32 {
        Counts(self.shared.counts.load(Ordering::Acquire)).total()
    }

    /// Permits out now at `priority`.
    pub fn in_flight_at(&self, priority: Priority) -> u32 {
        Counts(self.shared.counts.load(Ordering::Acquire)).of(priority.index())
    }

    /// Requests waiting now.
    pub fn waiting(&self) -> u32 {
        Counts(self.shared.waiting.load(Ordering::Acquire)).total()
    }

    fn permit(&self, priority: Priority) -> Permit<L, C, Li> {
        let started = L::ADAPTIVE.then(|| self.shared.clock.now());
        Permit::new(Arc::clone(&self.shared), priority, started)
    }
}

/// Leaves the queue when an `acquire` ends without its permit (cancelled,
/// timed out or shed), returning a permit granted in the meantime.
struct Cancel<'a, L: Limit, C: Clock, Li: Listener> {
    shared: &'a Shared<L, C, Li>,
    waiter: Option<&'a Arc<Waiter>>,
}

impl<L: Limit, C: Clock, Li: Listener> Cancel<'_, L, C, Li> {
    fn disarm(mut self) {
        self.waiter = None;
    }
}

impl<L: Limit, C: Clock, Li: Listener> Drop for Cancel<'_, L, C, Li> {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            self.shared.cancel(waiter);
        }
    }
}

impl<L: Limit, C: Clock, Li: Listener> Shared<L, C, Li> {
    /// Admits one request at `priority` if it fits and overtakes no waiter.
    fn try_admit(&self, priority: Priority) -> bool {
        let waiting = Counts(self.waiting.load(Ordering::SeqCst));
        if (0..=priority.index()).any(|level| waiting.of(level) > 0) {
            return false;
        }
        self.take(priority.index())
    }

    /// Takes one permit at `level` if the limit and reserves allow.
    fn take(&self, level: usize) -> bool {
        let priority = Priority::ALL[level];
        self.counts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |word| {
                let counts = Counts(word);
                admits(counts, &self.reserves, priority).then(|| counts.plus(level).0)
            })
            .is_ok()
    }

    /// Returns one permit at `level` and hands free capacity to waiters.
    pub(crate) fn release(&self, level: usize) {
        // One `fetch_sub`: every caller returns a permit it holds at `level`
        // (a permit, or a grant its waiter gave up), so the count is at least 1.
        self.counts.fetch_sub(Counts::unit(level), Ordering::SeqCst);
        // A read-modify-write, not a load: it is ordered with `enqueue`'s
        // increment of `waiting`, so either this sees the waiter, or the
        // waiter's own admission attempt (after its increment) sees this
        // permit returned. (With plain loads, both could miss each other:
        // the store-buffering race; loom finds it.)
        if self.waiting.fetch_add(0, Ordering::AcqRel) != 0 {
            self.dispatch();
        }
    }

    /// Queues a waiter at `priority`, evicting a less critical one if full.
    fn enqueue(&self, priority: Priority) -> Result<Arc<Waiter>, Shed> {
        let level = priority.index();
        let now = self.clock.now();
        let mut wake = Vec::new();
        let waiter = {
            let mut queue = lock(&self.queue);
            if queue.len() >= self.max_queue {
                let victim = queue
                    .least_critical_below(level)
                    .and_then(|l| queue.pop_at(l, true, now));
                match victim {
                    Some(victim) => {
                        self.waiting
                            .fetch_sub(Counts::unit(victim.level), Ordering::SeqCst);
                        wake.extend(victim.settle(WaitState::Shed(ShedReason::QueueFull)));
                    }
                    None => {
                        drop(queue);
                        return Err(self.shed(priority, ShedReason::QueueFull));
                    }
                }
            }
            let waiter = Waiter::new(level, now);
            queue.push(Arc::clone(&waiter));
            self.waiting
                .fetch_add(Counts::unit(level), Ordering::SeqCst);
            // A permit returned before we were counted as waiting is ours to take.
            self.dispatch_locked(&mut queue, now, &mut wake);
            waiter
        };
        wake.into_iter().for_each(Waker::wake);
        Ok(waiter)
    }

    /// Hands free capacity to waiters, most critical first.
    fn dispatch(&self) {
        let now = self.clock.now();
        let mut wake = Vec::new();
        {
            let mut queue = lock(&self.queue);
            self.dispatch_locked(&mut queue, now, &mut wake);
        }
        wake.into_iter().for_each(Waker::wake);
    }

    fn dispatch_locked(&self, queue: &mut Queue, now: Instant, wake: &mut Vec<Waker>) {
        for expired in queue.expire(self.codel, now) {
            self.waiting
                .fetch_sub(Counts::unit(expired.level), Ordering::SeqCst);
            wake.extend(expired.settle(WaitState::Shed(ShedReason::WaitedTooLong)));
        }
        while let Some(level) = queue.most_critical() {
            let lifo = queue.overloaded(level, self.codel, now);
            if queue.next_at(level, lifo).is_none() || !self.take(level) {
                break;
            }
            if let Some(waiter) = queue.pop_at(level, lifo, now) {
                self.waiting
                    .fetch_sub(Counts::unit(level), Ordering::SeqCst);
                wake.extend(waiter.settle(WaitState::Granted));
            }
        }
    }

    /// An `acquire` gave up: leave the queue, or return the permit it was
    /// granted meanwhile.
    fn cancel(&self, waiter: &Arc<Waiter>) {
        let now = self.clock.now();
        let removed = {
            let mut queue = lock(&self.queue);
            let removed = queue.remove(waiter, now);
            if removed {
                self.waiting
                    .fetch_sub(Counts::unit(waiter.level), Ordering::SeqCst);
            }
            removed
        };
        if removed {
            return;
        }
        let granted = matches!(*lock(&waiter.state), WaitState::Granted);
        if granted {
            self.release(waiter.level);
        }
    }

    /// A permit ended with `outcome` after `latency`: feed the adaptive limit.
    pub(crate) fn sample(&self, latency: Duration, outcome: Outcome, in_flight: u32) {
        if !L::ADAPTIVE || outcome == Outcome::Ignored {
            return;
        }
        let mut algorithm = match self.algorithm.try_lock() {
            Ok(algorithm) => algorithm,
            // A limit that panicked in `update` left its state as it was.
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            // Another thread is updating: this sample is skipped.
            Err(std::sync::TryLockError::WouldBlock) => return,
        };
        let now = self.clock.now();
        let after = algorithm
            .update(&Sample::new(latency, in_flight, outcome, now))
            .clamp(1, MAX_LIMIT);
        // On the counts' own word, so no admission can use the old limit
        // after this one has taken effect; still under the algorithm's lock,
        // so limits are installed in the order they were computed.
        let changed = self
            .counts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |word| {
                let counts = Counts(word);
                (counts.limit() != after).then(|| counts.relimited(after).0)
            });
        drop(algorithm);
        let Ok(word) = changed else {
            return; // Unchanged.
        };
        let before = Counts(word).limit();
        self.report(EventKind::limit_changed(before, after));
        // As in `release`: a read-modify-write, ordered with `enqueue`.
        if after > before && self.waiting.fetch_add(0, Ordering::AcqRel) != 0 {
            self.dispatch();
        }
    }

    pub(crate) fn clock(&self) -> &C {
        &self.clock
    }

    pub(crate) fn counts(&self) -> Counts {
        Counts(self.counts.load(Ordering::Acquire))
    }

    fn shed(&self, priority: Priority, reason: ShedReason) -> Shed {
        self.report(EventKind::shed(priority.level(), reason));
        Shed::new(priority, reason)
    }

    fn report(&self, kind: EventKind) {
        if !self.listener.is_enabled() {
            return;
        }
        self.listener
            .on_event(&Event::new(self.name, self.clock.now(), kind));
    }
}
