//! `ManualClock` as a clock and as a virtual sleeper: shared and separate
//! timelines, exact deadlines, wake-up order, sleeps on several threads,
//! "run until idle" loops, cancellation, backwards steps, blocking sleeps and
//! the end of time.

mod support;

use std::collections::BTreeSet;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::{Pin, pin};
use std::sync::{Arc, mpsc};
use std::task::{Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use resil_core::{BlockingSleeper, Clock, Instant, ManualClock, ManualSleep, Sleeper};

use support::{WakeLog, block_on, poll_once, poll_with};

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

const fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

fn at(d: Duration) -> Instant {
    Instant::ZERO + d
}

#[test]
fn clones_share_one_time_and_one_set_of_sleeps() {
    let clock = ManualClock::new();
    let handle = clock.clone();

    assert_eq!(handle.advance(secs(3)), at(secs(3)));
    assert_eq!(clock.now(), at(secs(3)));
    clock.set(at(secs(10)));
    assert_eq!(handle.now(), at(secs(10)));
    // A clone made later joins the same timeline, not a copy of it.
    let late = handle.clone();
    late.advance(secs(1));
    assert_eq!(clock.now(), at(secs(11)));

    // A sleep made through one handle is seen and completed through another.
    let mut sleep = pin!(handle.sleep(secs(5)));
    assert_eq!(sleep.deadline(), at(secs(16)));
    assert!(poll_once(sleep.as_mut()).is_pending());
    assert_eq!(clock.pending_sleeps(), 1);
    assert_eq!(late.next_deadline(), Some(at(secs(16))));
    assert_eq!(late.advance_to_next(), Some(at(secs(16))));
    assert_eq!(handle.now(), at(secs(16)));
    assert!(poll_once(sleep.as_mut()).is_ready());
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn separate_clocks_never_interfere() {
    let a = ManualClock::new();
    let b = ManualClock::starting_at(at(secs(100)));
    let log = WakeLog::new();

    let mut sleep_a = pin!(a.sleep(secs(1)));
    assert!(poll_with(sleep_a.as_mut(), &log.waker(0)).is_pending());

    // Moving `b` far past `a`'s deadline touches neither `a`'s time nor its sleep.
    b.advance(secs(3600));
    b.set(Instant::MAX);
    assert_eq!(a.now(), Instant::ZERO);
    assert_eq!(b.now(), Instant::MAX);
    assert_eq!(a.pending_sleeps(), 1);
    assert_eq!(b.pending_sleeps(), 0);
    assert_eq!(b.next_deadline(), None);
    assert_eq!(b.advance_to_next(), None);
    assert!(log.snapshot().is_empty());
    assert!(poll_with(sleep_a.as_mut(), &log.waker(0)).is_pending());

    // A sleep on `b` (already at the end of time) is due at once and leaves `a` alone.
    let mut sleep_b = pin!(b.sleep(secs(1)));
    assert!(poll_once(sleep_b.as_mut()).is_ready());
    assert_eq!(a.pending_sleeps(), 1);

    a.advance(secs(1));
    assert_eq!(log.take(), [0]);
    assert!(poll_once(sleep_a.as_mut()).is_ready());
}

#[test]
fn a_sleep_completes_exactly_at_its_deadline() {
    let start = at(secs(7));
    let clock = ManualClock::starting_at(start);
    let log = WakeLog::new();
    let d = ms(250) + Duration::from_nanos(1);

    let mut sleep = pin!(clock.sleep(d));
    assert_eq!(sleep.deadline(), start + d);
    assert!(poll_with(sleep.as_mut(), &log.waker(0)).is_pending());
    assert_eq!(clock.next_deadline(), Some(start + d));

    // One nanosecond short: neither woken nor ready.
    clock.advance(d - Duration::from_nanos(1));
    assert!(log.snapshot().is_empty());
    assert!(poll_with(sleep.as_mut(), &log.waker(0)).is_pending());
    assert_eq!(clock.pending_sleeps(), 1);

    // The last nanosecond: woken once, ready, and stays ready.
    assert_eq!(clock.advance(Duration::from_nanos(1)), start + d);
    assert_eq!(log.take(), [0]);
    assert_eq!(clock.pending_sleeps(), 0);
    assert!(poll_once(sleep.as_mut()).is_ready());
    assert!(poll_once(sleep.as_mut()).is_ready());
    clock.advance(secs(1));
    assert!(
        log.snapshot().is_empty(),
        "a finished sleep is never woken again"
    );
}

#[test]
fn a_zero_sleep_is_ready_at_once_without_a_timer() {
    let clock = ManualClock::starting_at(at(secs(1)));
    let mut sleep = pin!(clock.sleep(Duration::ZERO));
    assert_eq!(sleep.deadline(), at(secs(1)));
    assert!(poll_once(sleep.as_mut()).is_ready());
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(clock.next_deadline(), None);
}

#[test]
fn the_deadline_is_measured_from_the_sleep_call_not_the_first_poll() {
    let clock = ManualClock::new();
    let mut sleep = pin!(clock.sleep(secs(10)));
    clock.advance(secs(4));
    assert!(poll_once(sleep.as_mut()).is_pending());
    assert_eq!(clock.next_deadline(), Some(at(secs(10))));
    clock.advance(secs(6));
    assert!(poll_once(sleep.as_mut()).is_ready());

    // A sleep whose deadline passed before its first poll is ready at once.
    let mut late = pin!(clock.sleep(secs(1)));
    clock.advance(secs(1));
    assert!(poll_once(late.as_mut()).is_ready());
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn one_big_advance_wakes_every_due_sleep_in_deadline_order() {
    let clock = ManualClock::new();
    let log = WakeLog::new();
    // Registered in this order; ids 1 and 3 share a deadline.
    let delays = [ms(50), ms(10), ms(30), ms(10), ms(40), ms(20), ms(500)];
    let mut sleeps: Vec<Pin<Box<ManualSleep>>> =
        delays.iter().map(|&d| Box::pin(clock.sleep(d))).collect();
    for (id, sleep) in sleeps.iter_mut().enumerate() {
        assert!(poll_with(sleep.as_mut(), &log.waker(id)).is_pending());
    }
    assert_eq!(clock.pending_sleeps(), delays.len());

    clock.advance(ms(100));

    // Deadline order; equal deadlines in registration order; 500 ms not yet.
    assert_eq!(log.take(), [1, 3, 5, 2, 4, 0]);
    assert_eq!(clock.pending_sleeps(), 1);
    assert_eq!(clock.next_deadline(), Some(at(ms(500))));
    for (id, sleep) in sleeps.iter_mut().enumerate() {
        assert_eq!(poll_once(sleep.as_mut()).is_ready(), id != 6, "sleep {id}");
    }
}

#[test]
fn equal_deadlines_wake_in_registration_order_not_creation_order() {
    let clock = ManualClock::new();
    let log = WakeLog::new();
    let mut first_made = pin!(clock.sleep(secs(1)));
    let mut second_made = pin!(clock.sleep(secs(1)));
    // The second one registers (is first polled) first.
    assert!(poll_with(second_made.as_mut(), &log.waker(2)).is_pending());
    assert!(poll_with(first_made.as_mut(), &log.waker(1)).is_pending());
    clock.advance(secs(1));
    assert_eq!(log.take(), [2, 1]);
}

#[test]
fn only_the_waker_of_the_latest_poll_is_woken() {
    let clock = ManualClock::new();
    let log = WakeLog::new();
    let mut sleep = pin!(clock.sleep(secs(1)));
    assert!(poll_with(sleep.as_mut(), &log.waker(1)).is_pending());
    assert!(poll_with(sleep.as_mut(), &log.waker(2)).is_pending());
    assert_eq!(
        clock.pending_sleeps(),
        1,
        "re-polling does not register twice"
    );
    clock.advance(secs(1));
    assert_eq!(log.take(), [2]);
    assert!(poll_once(sleep.as_mut()).is_ready());
}

#[test]
fn sleeps_on_several_threads_finish_exactly_when_due() {
    const THREADS: usize = 6;
    let clock = ManualClock::new();
    let (finished_tx, finished) = mpsc::channel();

    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let clock = clock.clone();
            let finished_tx = finished_tx.clone();
            thread::spawn(move || {
                // Threads pair up on deadlines: 1 s, 1 s, 2 s, 2 s, 3 s, 3 s.
                let d = secs(i as u64 / 2 + 1);
                block_on(clock.sleep(d));
                finished_tx.send((i, clock.now())).unwrap();
            })
        })
        .collect();
    drop(finished_tx);

    // Virtual time must not move until every thread has registered its sleep.
    while clock.pending_sleeps() != THREADS {
        thread::yield_now();
    }
    assert_eq!(clock.now(), Instant::ZERO);

    for step in 1..=THREADS / 2 {
        let now = clock.advance(secs(1));
        assert_eq!(now, at(secs(step as u64)));
        // The due timers leave the map inside `advance`, the others stay.
        assert_eq!(clock.pending_sleeps(), THREADS - 2 * step);
        let mut done = vec![finished.recv().unwrap(), finished.recv().unwrap()];
        done.sort();
        assert_eq!(done, [(2 * step - 2, now), (2 * step - 1, now)]);
    }

    for thread in threads {
        thread.join().unwrap();
    }
    assert!(finished.try_recv().is_err(), "no thread finished twice");
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn advance_to_next_runs_many_sleeping_tasks_until_idle() {
    const TASKS: usize = 40;
    let clock = ManualClock::new();
    let log = WakeLog::new();

    // A small deterministic generator: some delays are zero, many collide.
    let mut seed = 0x2545_f491_u64;
    let mut next = move |bound: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % bound
    };
    let plans: Vec<Vec<Duration>> = (0..TASKS)
        .map(|_| (0..=next(4)).map(|_| ms(next(8) * 5)).collect())
        .collect();

    // Every moment at which some sleep falls due, i.e. every jump the loop makes.
    let mut deadlines = BTreeSet::new();
    for plan in &plans {
        let mut t = Duration::ZERO;
        for &d in plan {
            t += d;
            if !d.is_zero() {
                deadlines.insert(at(t));
            }
        }
    }

    let mut tasks: Vec<Option<Pin<Box<dyn Future<Output = Instant>>>>> = plans
        .iter()
        .map(|plan| {
            let clock = clock.clone();
            let plan = plan.clone();
            let task: Pin<Box<dyn Future<Output = Instant>>> = Box::pin(async move {
                for d in plan {
                    clock.sleep(d).await;
                }
                clock.now()
            });
            Some(task)
        })
        .collect();
    let mut finished_at = vec![None; TASKS];
    let mut runnable: Vec<usize> = (0..TASKS).collect();
    let mut jumps = Vec::new();

    loop {
        // Run every runnable task, then jump to the next deadline.
        while !runnable.is_empty() {
            for id in runnable.drain(..) {
                let Some(task) = tasks[id].as_mut() else {
                    panic!("finished task {id} was woken");
                };
                if let Poll::Ready(t) = poll_with(task.as_mut(), &log.waker(id)) {
                    finished_at[id] = Some(t);
                    tasks[id] = None;
                }
            }
            runnable = log.take();
        }
        let Some(deadline) = clock.next_deadline() else {
            break;
        };
        assert_eq!(clock.advance_to_next(), Some(deadline));
        assert_eq!(clock.now(), deadline);
        jumps.push(deadline);
        runnable = log.take();
        assert!(!runnable.is_empty(), "a jump woke nobody");
    }

    assert_eq!(jumps, deadlines.into_iter().collect::<Vec<_>>());
    for (id, plan) in plans.iter().enumerate() {
        let total: Duration = plan.iter().sum();
        assert_eq!(finished_at[id], Some(at(total)), "task {id}");
    }
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(clock.advance_to_next(), None);
    assert_eq!(clock.now(), jumps.last().copied().unwrap_or(Instant::ZERO));
}

#[test]
fn dropping_a_pending_sleep_removes_its_timer() {
    let clock = ManualClock::new();
    let log = WakeLog::new();
    let mut early = Box::pin(clock.sleep(secs(1)));
    let mut middle = Box::pin(clock.sleep(secs(2)));
    let mut late = Box::pin(clock.sleep(secs(3)));
    assert!(poll_with(early.as_mut(), &log.waker(1)).is_pending());
    assert!(poll_with(middle.as_mut(), &log.waker(2)).is_pending());
    assert!(poll_with(late.as_mut(), &log.waker(3)).is_pending());
    assert_eq!(clock.pending_sleeps(), 3);

    drop(middle);
    assert_eq!(clock.pending_sleeps(), 2);
    assert_eq!(clock.next_deadline(), Some(at(secs(1))));
    drop(early);
    assert_eq!(clock.pending_sleeps(), 1);
    assert_eq!(clock.next_deadline(), Some(at(secs(3))));

    // Nothing dropped is woken; the survivor still is.
    clock.advance(secs(3));
    assert_eq!(log.take(), [3]);
    assert!(poll_once(late.as_mut()).is_ready());

    // Dropping a sleep that never registered, or one that finished, changes nothing.
    let unpolled = clock.sleep(secs(1));
    drop(unpolled);
    drop(late);
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(clock.next_deadline(), None);
}

#[test]
fn setting_time_backwards_does_not_undo_a_finished_sleep() {
    let clock = ManualClock::new();
    let log = WakeLog::new();

    // Finished and observed as ready, then time goes back.
    let mut observed = pin!(clock.sleep(secs(5)));
    // Woken by the forward step but not yet polled when time goes back.
    let mut unobserved = pin!(clock.sleep(secs(5)));
    // Not due yet when time goes back: keeps its absolute deadline.
    let mut later = pin!(clock.sleep(secs(20)));
    assert!(poll_with(observed.as_mut(), &log.waker(1)).is_pending());
    assert!(poll_with(unobserved.as_mut(), &log.waker(2)).is_pending());
    assert!(poll_with(later.as_mut(), &log.waker(3)).is_pending());

    clock.set(at(secs(10)));
    assert_eq!(log.take(), [1, 2]);
    assert!(poll_once(observed.as_mut()).is_ready());

    clock.set(Instant::ZERO);
    assert_eq!(clock.now(), Instant::ZERO);
    assert!(poll_once(observed.as_mut()).is_ready());
    assert!(poll_once(unobserved.as_mut()).is_ready());
    assert!(poll_with(later.as_mut(), &log.waker(3)).is_pending());
    assert_eq!(clock.pending_sleeps(), 1);

    // The pending sleep is due at its original instant, not 20 s after the step back.
    clock.advance(secs(19));
    assert!(log.snapshot().is_empty());
    clock.advance(secs(1));
    assert_eq!(log.take(), [3]);
    assert!(poll_once(later.as_mut()).is_ready());
}

#[test]
fn sleep_blocking_advances_the_clock_and_wakes_due_sleepers() {
    fn nap<B: BlockingSleeper>(sleeper: &B, d: Duration) {
        sleeper.sleep_blocking(d);
    }

    let clock = ManualClock::new();
    let log = WakeLog::new();
    let mut sleep = pin!(clock.sleep(secs(5)));
    assert!(poll_with(sleep.as_mut(), &log.waker(0)).is_pending());

    nap(&clock, secs(3));
    assert_eq!(clock.now(), at(secs(3)));
    assert!(log.snapshot().is_empty());
    nap(&clock, secs(2));
    assert_eq!(clock.now(), at(secs(5)));
    assert_eq!(log.take(), [0]);
    assert!(poll_once(sleep.as_mut()).is_ready());

    // The same across threads: a blocked thread is released by a blocking nap.
    let sleeper = clock.clone();
    let waiter = thread::spawn(move || {
        block_on(sleeper.sleep(secs(60)));
        sleeper.now()
    });
    while clock.pending_sleeps() != 1 {
        thread::yield_now();
    }
    nap(&clock, secs(60));
    assert_eq!(waiter.join().unwrap(), at(secs(65)));
}

#[test]
fn time_and_deadlines_saturate_at_the_end_of_time() {
    let clock = ManualClock::new();
    let log = WakeLog::new();

    // `Duration::MAX` is longer than the clock can count: the deadline is `Instant::MAX`.
    let mut forever = pin!(clock.sleep(Duration::MAX));
    assert_eq!(forever.deadline(), Instant::MAX);
    assert!(poll_with(forever.as_mut(), &log.waker(0)).is_pending());
    assert_eq!(clock.next_deadline(), Some(Instant::MAX));

    // Exact even there: one nanosecond short is not enough.
    clock.advance(Duration::from_nanos(u64::MAX - 1));
    assert!(log.snapshot().is_empty());
    assert_eq!(clock.advance(Duration::MAX), Instant::MAX);
    assert_eq!(log.take(), [0]);
    assert!(poll_once(forever.as_mut()).is_ready());

    // Further steps stay at the end instead of wrapping or panicking.
    assert_eq!(clock.advance(Duration::MAX), Instant::MAX);
    clock.sleep_blocking(Duration::MAX);
    assert_eq!(clock.now(), Instant::MAX);
    let mut at_the_end = pin!(clock.sleep(Duration::MAX));
    assert_eq!(at_the_end.deadline(), Instant::MAX);
    assert!(poll_once(at_the_end.as_mut()).is_ready());

    // `advance_to_next` can reach the end of time too.
    let other = ManualClock::starting_at(at(secs(1)));
    let mut sleep = pin!(other.sleep(Duration::MAX));
    assert!(poll_once(sleep.as_mut()).is_pending());
    assert_eq!(other.advance_to_next(), Some(Instant::MAX));
    assert!(poll_once(sleep.as_mut()).is_ready());
}

/// A waker that owns a sleep of the clock it is registered with, as a task's
/// waker owns the task and so its other sleeps. Dropping its last handle
/// drops that sleep, whose `Drop` takes the clock's lock.
struct OwningWaker(#[allow(dead_code, reason = "held only to be dropped")] ManualSleep);

impl Wake for OwningWaker {
    fn wake(self: Arc<Self>) {}
}

/// A sleep of `clock`, registered, then hidden inside a waker that is the
/// only thing keeping it alive.
fn waker_owning_a_registered_sleep(clock: &ManualClock) -> Waker {
    let mut owned = clock.sleep(secs(60));
    assert!(poll_once(Pin::new(&mut owned)).is_pending());
    Waker::from(Arc::new(OwningWaker(owned)))
}

// Regression tests: a waker released while the clock's lock is held could
// drop a sleep of the same clock, whose `Drop` locks again and deadlocks.
// A regression shows up as a hang.

#[test]
fn re_polling_may_release_a_waker_that_owns_another_sleep() {
    let clock = ManualClock::new();
    let mut sleep = pin!(clock.sleep(secs(1)));
    let waker = waker_owning_a_registered_sleep(&clock);
    assert!(poll_with(sleep.as_mut(), &waker).is_pending());
    drop(waker);
    assert_eq!(clock.pending_sleeps(), 2);

    // The new waker replaces the old one, whose release drops the owned sleep.
    assert!(poll_once(sleep.as_mut()).is_pending());
    assert_eq!(clock.pending_sleeps(), 1);
    assert_eq!(clock.next_deadline(), Some(at(secs(1))));
}

#[test]
fn dropping_a_sleep_may_release_a_waker_that_owns_another_sleep() {
    let clock = ManualClock::new();
    let mut sleep = Box::pin(clock.sleep(secs(1)));
    let waker = waker_owning_a_registered_sleep(&clock);
    assert!(poll_with(sleep.as_mut(), &waker).is_pending());
    drop(waker);

    drop(sleep);
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn waking_may_release_a_waker_that_owns_another_sleep() {
    let clock = ManualClock::new();
    let mut sleep = pin!(clock.sleep(secs(1)));
    let waker = waker_owning_a_registered_sleep(&clock);
    assert!(poll_with(sleep.as_mut(), &waker).is_pending());
    drop(waker);

    clock.advance(secs(1));
    assert_eq!(clock.pending_sleeps(), 0);
    assert!(poll_once(sleep.as_mut()).is_ready());
}

/// A waker that panics when woken.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("this waker panics");
    }
}

#[test]
fn a_panicking_waker_does_not_lose_the_other_wake_ups() {
    let clock = ManualClock::new();
    let log = WakeLog::new();
    let mut first = pin!(clock.sleep(secs(1)));
    let mut panics = pin!(clock.sleep(secs(2)));
    let mut last = pin!(clock.sleep(secs(3)));
    assert!(poll_with(first.as_mut(), &log.waker(1)).is_pending());
    assert!(poll_with(panics.as_mut(), &Waker::from(Arc::new(PanickingWaker))).is_pending());
    assert!(poll_with(last.as_mut(), &log.waker(3)).is_pending());

    let advanced = panic::catch_unwind(AssertUnwindSafe(|| clock.advance(secs(3))));
    assert!(advanced.is_err(), "the waker's panic reaches the caller");
    assert_eq!(log.take(), [1, 3]);
    assert_eq!(clock.now(), at(secs(3)));
    assert_eq!(clock.pending_sleeps(), 0);
    assert!(poll_once(panics.as_mut()).is_ready());
    assert!(poll_once(last.as_mut()).is_ready());
}

proptest! {
    /// Against a model: after every `advance`, exactly the sleeps whose
    /// deadline has been reached are woken, each once, in `(deadline,
    /// registration)` order, and exactly those are ready.
    #[test]
    fn advances_wake_exactly_the_due_sleeps_in_order(
        delays in vec(0u64..40, 0..16),
        steps in vec(0u64..25, 1..8),
    ) {
        let clock = ManualClock::new();
        let log = WakeLog::new();
        let mut sleeps: Vec<Pin<Box<ManualSleep>>> =
            delays.iter().map(|&d| Box::pin(clock.sleep(ms(d)))).collect();
        for (id, sleep) in sleeps.iter_mut().enumerate() {
            let ready = poll_with(sleep.as_mut(), &log.waker(id)).is_ready();
            prop_assert_eq!(ready, delays[id] == 0);
        }

        let mut now = 0;
        for step in steps {
            let before = now;
            now += step;
            prop_assert_eq!(clock.advance(ms(step)), at(ms(now)));

            let mut due: Vec<(u64, usize)> = delays
                .iter()
                .enumerate()
                .filter(|&(_, &d)| d > before && d <= now)
                .map(|(id, &d)| (d, id))
                .collect();
            due.sort();
            let expected: Vec<usize> = due.into_iter().map(|(_, id)| id).collect();
            prop_assert_eq!(log.take(), expected);
            prop_assert_eq!(
                clock.pending_sleeps(),
                delays.iter().filter(|&&d| d > now).count()
            );
            for (id, sleep) in sleeps.iter_mut().enumerate() {
                let ready = poll_with(sleep.as_mut(), &log.waker(id)).is_ready();
                prop_assert_eq!(ready, delays[id] <= now);
            }
        }
    }
}
