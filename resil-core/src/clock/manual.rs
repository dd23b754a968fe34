//! Virtual time: a clock that moves only when told to.
//!
//! [`ManualClock`] is the clock of every resil test and of the simulator.
//! Its time is one atomic shared by all clones of a handle; separate
//! `ManualClock::new()` calls make separate timelines, so tests running in
//! parallel never see each other's time.
//!
//! With `std` it is also a [`Sleeper`](crate::Sleeper): its sleeps complete
//! when the clock is advanced to or past their deadline. Pending sleeps sit
//! in one ordered map keyed by `(deadline, id)`, so [`ManualClock::advance`]
//! wakes them in deadline order and [`ManualClock::next_deadline`] tells an
//! event loop how far to jump. A sleep is finished exactly when `advance` or
//! `set` has taken it out of the map (or when it sees its deadline passed),
//! which is what rules out lost wake-ups: `cargo xtask loom` checks it.

use core::time::Duration;

use crate::loom::{Arc, AtomicU64, Ordering};
use crate::{BlockingSleeper, Clock, Instant};

#[cfg(feature = "std")]
use {
    crate::Sleeper,
    crate::loom::{Mutex, lock},
    alloc::collections::BTreeMap,
    alloc::vec::Vec,
    core::future::Future,
    core::pin::Pin,
    core::task::{Context, Poll, Waker},
};

#[cfg(feature = "std")]
mod block_on;

/// A clock whose time moves only when [`advance`](Self::advance) or
/// [`set`](Self::set) is called. Clones share one time.
///
/// With the `std` feature it is also a virtual [`Sleeper`]: a sleep of `d`
/// completes once the clock has reached `now + d`. As a [`BlockingSleeper`],
/// "sleeping" simply advances the clock, so blocking code under test never
/// waits. Pass the clock itself where a sleeper is wanted (clones are cheap):
/// `&ManualClock` is not a `Sleeper`, because the blanket impl for closures
/// leaves no room for one.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Clock, Instant, ManualClock};
///
/// let clock = ManualClock::new();
/// let handle = clock.clone();
/// handle.advance(Duration::from_millis(250));
/// assert_eq!(clock.now(), Instant::ZERO + Duration::from_millis(250));
/// ```
///
/// Sleeping in virtual time, driven by hand:
///
/// ```
/// use core::pin::pin;
/// use core::task::{Context, Waker};
/// use core::time::Duration;
/// use resil_core::{Clock, ManualClock, Sleeper};
///
/// let clock = ManualClock::new();
/// let mut sleep = pin!(clock.sleep(Duration::from_secs(3600)));
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(sleep.as_mut().poll(&mut cx).is_pending());
///
/// // An hour passes in no time at all.
/// assert_eq!(clock.advance_to_next(), Some(clock.now()));
/// assert!(sleep.as_mut().poll(&mut cx).is_ready());
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Nanoseconds since the origin.
    now: AtomicU64,
    #[cfg(feature = "std")]
    timers: Mutex<Timers>,
}

/// The sleeps waiting for the clock to reach their deadline.
#[cfg(feature = "std")]
#[derive(Debug, Default)]
struct Timers {
    next_id: u64,
    pending: BTreeMap<TimerKey, Waker>,
}

/// `(deadline in nanoseconds, registration id)`: orders sleeps by deadline,
/// then by the order in which they were registered.
#[cfg(feature = "std")]
type TimerKey = (u64, u64);

impl ManualClock {
    /// A new timeline starting at [`Instant::ZERO`].
    pub fn new() -> Self {
        Self::starting_at(Instant::ZERO)
    }

    /// A new timeline starting at `start`.
    pub fn starting_at(start: Instant) -> Self {
        let shared = Shared {
            now: AtomicU64::new(start.as_nanos()),
            #[cfg(feature = "std")]
            timers: Mutex::new(Timers::default()),
        };
        ManualClock {
            shared: Arc::new(shared),
        }
    }

    /// Moves time forward by `d` (saturating at [`Instant::MAX`]) and wakes,
    /// in deadline order, every sleep that is now due. Returns the new time.
    ///
    /// Concurrent calls add up: two threads advancing by one second each
    /// move the clock two seconds. To let several threads wait out the same
    /// stretch of time, use [`advance_to`](Self::advance_to).
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// assert_eq!(clock.advance(Duration::from_secs(1)), Instant::ZERO + Duration::from_secs(1));
    /// assert_eq!(clock.advance(Duration::MAX), Instant::MAX);
    /// ```
    pub fn advance(&self, d: Duration) -> Instant {
        let step = crate::instant::duration_to_nanos(d);
        let previous = self
            .shared
            .now
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(step))
            })
            .unwrap_or_else(|now| now);
        let now = previous.saturating_add(step);
        self.wake_due(now);
        Instant::from_nanos(now)
    }

    /// Moves time forward to `t`, unless it is already later, and wakes
    /// every sleep due by then. Returns the new time (never earlier than
    /// before).
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let t = Instant::ZERO + Duration::from_secs(5);
    /// assert_eq!(clock.advance_to(t), t);
    /// assert_eq!(clock.advance_to(Instant::ZERO), t, "never backwards");
    /// ```
    pub fn advance_to(&self, t: Instant) -> Instant {
        let previous = self.shared.now.fetch_max(t.as_nanos(), Ordering::SeqCst);
        let now = previous.max(t.as_nanos());
        self.wake_due(now);
        Instant::from_nanos(now)
    }

    /// Sets the time to `t` and wakes every sleep due by then.
    ///
    /// Unlike a real clock, this may move time backwards: tests use it to
    /// check that a component treats a backwards step as "no time passed".
    /// A sleep that has completed stays completed.
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Clock, Instant, ManualClock};
    ///
    /// let clock = ManualClock::starting_at(Instant::ZERO + Duration::from_secs(10));
    /// clock.set(Instant::ZERO + Duration::from_secs(3));
    /// assert_eq!(clock.now().since_origin(), Duration::from_secs(3));
    /// ```
    pub fn set(&self, t: Instant) {
        self.shared.now.store(t.as_nanos(), Ordering::SeqCst);
        self.wake_due(t.as_nanos());
    }

    #[cfg(feature = "std")]
    fn wake_due(&self, now: u64) {
        let due: Vec<Waker> = {
            let mut timers = lock(&self.shared.timers);
            let mut due = Vec::new();
            while let Some(entry) = timers.pending.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            due
        };
        // Woken outside the lock: a waker may poll straight back into us.
        wake_all(due);
    }

    #[cfg(not(feature = "std"))]
    fn wake_due(&self, _now: u64) {}
}

#[cfg(feature = "std")]
impl ManualClock {
    /// The deadline of the earliest pending sleep, if any.
    ///
    /// This is all a "run until idle" loop needs: poll every task until none
    /// can progress (a sleep registers only when polled), then jump to the
    /// next deadline with [`advance_to_next`](Self::advance_to_next).
    pub fn next_deadline(&self) -> Option<Instant> {
        let timers = lock(&self.shared.timers);
        timers
            .pending
            .first_key_value()
            .map(|(&(deadline, _), _)| Instant::from_nanos(deadline))
    }

    /// Jumps to the earliest pending deadline (never backwards) and wakes
    /// what is due. Returns the new time, or `None` if nothing is sleeping.
    pub fn advance_to_next(&self) -> Option<Instant> {
        let deadline = self.next_deadline()?;
        Some(self.advance_to(deadline))
    }

    /// How many sleeps are registered and not yet due. A sleep registers
    /// when first polled, so one created but never polled is not counted.
    ///
    /// Tests use it to prove that a cancelled operation left no timer behind.
    pub fn pending_sleeps(&self) -> usize {
        lock(&self.shared.timers).pending.len()
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        Instant::from_nanos(self.shared.now.load(Ordering::SeqCst))
    }
}

/// Blocking code under test "sleeps" by moving the clock to `now + d` at
/// once. Like real sleeps, concurrent ones overlap rather than add up: two
/// threads sleeping one second each leave the clock one second later.
impl BlockingSleeper for ManualClock {
    fn sleep_blocking(&self, d: Duration) {
        self.advance_to(self.now().saturating_add(d));
    }
}

#[cfg(feature = "std")]
impl Sleeper for ManualClock {
    type Sleep = ManualSleep;

    /// A sleep until `now + d`, measured from this call.
    fn sleep(&self, d: Duration) -> ManualSleep {
        ManualSleep {
            shared: Arc::clone(&self.shared),
            deadline: self.now().saturating_add(d).as_nanos(),
            state: SleepState::Unregistered,
        }
    }
}

/// A sleep in virtual time; see [`ManualClock`]'s [`Sleeper`] impl.
///
/// Completes once its clock reaches the deadline. Dropping it before then
/// removes its timer, so [`ManualClock::pending_sleeps`] does not count it.
/// It is `Unpin`, so hand-written futures can hold it without pinning.
#[cfg(feature = "std")]
#[derive(Debug)]
#[must_use = "a sleep does nothing unless awaited"]
pub struct ManualSleep {
    shared: Arc<Shared>,
    deadline: u64,
    state: SleepState,
}

#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SleepState {
    Unregistered,
    Registered(u64),
    Done,
}

#[cfg(feature = "std")]
impl ManualSleep {
    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        Instant::from_nanos(self.deadline)
    }
}

#[cfg(feature = "std")]
impl Future for ManualSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.state == SleepState::Done {
            return Poll::Ready(());
        }
        // Wakers leave the map into this, to be dropped after the lock is
        // released: dropping a task's last waker may drop another sleep of
        // this clock, whose `Drop` takes the lock.
        let mut released: Option<Waker> = None;
        let mut timers = lock(&this.shared.timers);
        // Read under the lock: an `advance` that stored a later time before we
        // locked will find our timer when it locks after us.
        let reached = this.shared.now.load(Ordering::SeqCst) >= this.deadline;
        let finished = match this.state {
            SleepState::Registered(id) => {
                let key = (this.deadline, id);
                match timers.pending.get_mut(&key) {
                    // Taken out by `advance`/`set`: we are due.
                    None => true,
                    Some(_) if reached => {
                        released = timers.pending.remove(&key);
                        true
                    }
                    Some(waker) => {
                        if !waker.will_wake(cx.waker()) {
                            released = Some(core::mem::replace(waker, cx.waker().clone()));
                        }
                        false
                    }
                }
            }
            _ if reached => true,
            _ => {
                let id = timers.next_id;
                timers.next_id += 1;
                timers
                    .pending
                    .insert((this.deadline, id), cx.waker().clone());
                this.state = SleepState::Registered(id);
                false
            }
        };
        drop(timers);
        drop(released);
        if finished {
            this.state = SleepState::Done;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(feature = "std")]
impl Drop for ManualSleep {
    fn drop(&mut self) {
        if let SleepState::Registered(id) = self.state {
            // The guard is a temporary of this statement, so the removed
            // waker is dropped after the lock is released.
            let waker = lock(&self.shared.timers)
                .pending
                .remove(&(self.deadline, id));
            drop(waker);
        }
    }
}

/// Wakes every waker in order. If one panics, the rest are still woken (by
/// the guard, as the panic unwinds) before the panic continues.
#[cfg(feature = "std")]
fn wake_all(wakers: Vec<Waker>) {
    struct WakeRest(alloc::vec::IntoIter<Waker>);
    impl Drop for WakeRest {
        fn drop(&mut self) {
            self.0.by_ref().for_each(Waker::wake);
        }
    }
    let mut rest = WakeRest(wakers.into_iter());
    for waker in rest.0.by_ref() {
        waker.wake();
    }
}

#[cfg(all(test, feature = "std", not(resil_loom)))]
mod tests {
    use super::*;
    use core::pin::pin;

    fn poll(sleep: Pin<&mut ManualSleep>) -> Poll<()> {
        sleep.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn sleep_is_ready_exactly_at_its_deadline() {
        let clock = ManualClock::new();
        let mut sleep = pin!(clock.sleep(Duration::from_nanos(1_500)));
        assert!(poll(sleep.as_mut()).is_pending());
        clock.advance(Duration::from_nanos(1_499));
        assert!(poll(sleep.as_mut()).is_pending());
        clock.advance(Duration::from_nanos(1));
        assert!(poll(sleep.as_mut()).is_ready());
        assert!(poll(sleep.as_mut()).is_ready(), "stays ready");
    }

    #[test]
    fn zero_sleep_is_ready_without_registering() {
        let clock = ManualClock::new();
        let mut sleep = pin!(clock.sleep(Duration::ZERO));
        assert!(poll(sleep.as_mut()).is_ready());
        assert_eq!(clock.pending_sleeps(), 0);
    }

    #[test]
    fn dropping_a_pending_sleep_removes_its_timer() {
        let clock = ManualClock::new();
        {
            let mut sleep = pin!(clock.sleep(Duration::from_secs(1)));
            assert!(poll(sleep.as_mut()).is_pending());
            assert_eq!(clock.pending_sleeps(), 1);
        }
        assert_eq!(clock.pending_sleeps(), 0);
        assert_eq!(clock.next_deadline(), None);
    }

    #[test]
    fn a_completed_sleep_stays_completed_when_time_goes_back() {
        let clock = ManualClock::new();
        let mut sleep = pin!(clock.sleep(Duration::from_secs(5)));
        assert!(poll(sleep.as_mut()).is_pending());
        clock.set(Instant::ZERO + Duration::from_secs(10));
        clock.set(Instant::ZERO);
        assert!(poll(sleep.as_mut()).is_ready());
    }

    #[test]
    fn advance_saturates_at_the_end_of_time() {
        let clock = ManualClock::starting_at(Instant::MAX - Duration::from_nanos(1));
        assert_eq!(clock.advance(Duration::MAX), Instant::MAX);
        let mut sleep = pin!(clock.sleep(Duration::MAX));
        assert_eq!(sleep.deadline(), Instant::MAX);
        assert!(poll(sleep.as_mut()).is_ready());
    }

    #[test]
    fn advance_to_next_never_moves_backwards() {
        let clock = ManualClock::new();
        let mut sleep = pin!(clock.sleep(Duration::from_secs(1)));
        assert!(poll(sleep.as_mut()).is_pending());
        assert_eq!(
            clock.advance_to_next(),
            Some(Instant::ZERO + Duration::from_secs(1))
        );
        assert_eq!(clock.advance_to_next(), None);
    }

    #[test]
    fn separate_clocks_do_not_share_time() {
        let a = ManualClock::new();
        let b = ManualClock::new();
        a.advance(Duration::from_secs(1));
        assert_eq!(b.now(), Instant::ZERO);
    }
}
