//! The concurrency limiter in virtual time: the limit and reserves, priority
//! order in the queue, eviction, timeouts, cancellation, CoDel with adaptive
//! LIFO, and that every permit comes back.

use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use resil_core::{Clock, ManualClock, ShedReason};
use resil_shed::{ConcurrencyLimit, Fixed, Permit, Priority};

type Limiter = ConcurrencyLimit<Fixed, ManualClock>;

const MS: Duration = Duration::from_millis(1);

fn limiter(clock: &ManualClock, limit: u32, queue: usize) -> Limiter {
    ConcurrencyLimit::builder(Fixed::try_from(limit).unwrap())
        .max_queue(queue)
        .max_wait(100 * MS)
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn poll<F: Future>(future: core::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn permits_never_exceed_the_limit_and_all_come_back() {
    let clock = ManualClock::new();
    let limiter = limiter(&clock, 3, 0);
    let held: Vec<_> = (0..5)
        .filter_map(|_| limiter.try_acquire(Priority::Critical).ok())
        .collect();
    assert_eq!(held.len(), 3);
    assert_eq!(limiter.in_flight(), 3);
    let err = limiter.try_acquire(Priority::CriticalPlus).unwrap_err();
    assert_eq!(err.reason(), ShedReason::LimitReached);
    drop(held);
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn reserves_keep_capacity_for_more_critical_levels() {
    let clock = ManualClock::new();
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(10).unwrap())
        .reserve(Priority::CriticalPlus, 0.2)
        .reserve(Priority::Critical, 0.3)
        .clock(clock.clone())
        .build()
        .unwrap();
    let sheddable: Vec<_> = (0..10)
        .filter_map(|_| limiter.try_acquire(Priority::Sheddable).ok())
        .collect();
    assert_eq!(sheddable.len(), 5, "half the limit is reserved above it");
    let critical: Vec<_> = (0..10)
        .filter_map(|_| limiter.try_acquire(Priority::Critical).ok())
        .collect();
    assert_eq!(
        critical.len(),
        3,
        "its own reserve; CriticalPlus's 2 stay free"
    );
    let top: Vec<_> = (0..10)
        .filter_map(|_| limiter.try_acquire(Priority::CriticalPlus).ok())
        .collect();
    assert_eq!(top.len(), 2);
    assert_eq!(limiter.in_flight(), 10);
}

#[test]
fn a_freed_permit_goes_to_the_most_critical_waiter() {
    let clock = ManualClock::new();
    let limiter = limiter(&clock, 1, 10);
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    let mut low = pin!(limiter.acquire(&clock, Priority::Sheddable));
    let mut high = pin!(limiter.acquire(&clock, Priority::CriticalPlus));
    assert!(poll(low.as_mut()).is_pending());
    assert!(poll(high.as_mut()).is_pending());
    assert_eq!(limiter.waiting(), 2);
    drop(held);
    let Poll::Ready(Ok(permit)) = poll(high.as_mut()) else {
        panic!("the most critical waiter gets the permit");
    };
    assert_eq!(permit.priority(), Priority::CriticalPlus);
    assert!(poll(low.as_mut()).is_pending());
    drop(permit);
    assert!(matches!(poll(low.as_mut()), Poll::Ready(Ok(_))));
}

#[test]
fn try_acquire_does_not_overtake_a_waiter_of_its_level_or_above() {
    let clock = ManualClock::new();
    let limiter = limiter(&clock, 1, 10);
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    let mut waiting = pin!(limiter.acquire(&clock, Priority::Critical));
    assert!(poll(waiting.as_mut()).is_pending());
    drop(held);
    // The permit went to the waiter, not to a newcomer.
    assert!(limiter.try_acquire(Priority::Critical).is_err());
    assert!(matches!(poll(waiting.as_mut()), Poll::Ready(Ok(_))));
}

#[test]
fn a_waiter_is_shed_after_max_wait_and_leaves_no_trace() {
    let clock = ManualClock::new();
    let limiter = limiter(&clock, 1, 10);
    let _held = limiter.try_acquire(Priority::Critical).unwrap();
    let err = match clock.block_on(limiter.acquire(&clock, Priority::Critical)) {
        Ok(_) => panic!("nothing was freed"),
        Err(err) => err,
    };
    assert_eq!(err.reason(), ShedReason::WaitedTooLong);
    assert_eq!(clock.now() - resil_core::Instant::ZERO, 100 * MS);
    assert_eq!(limiter.waiting(), 0);
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn a_full_queue_evicts_a_less_critical_waiter_or_sheds_the_newcomer() {
    let clock = ManualClock::new();
    let limiter = limiter(&clock, 1, 1);
    let _held = limiter.try_acquire(Priority::Critical).unwrap();
    let mut low = pin!(limiter.acquire(&clock, Priority::Sheddable));
    assert!(poll(low.as_mut()).is_pending());
    // A second sheddable request finds the queue full.
    let mut also_low = pin!(limiter.acquire(&clock, Priority::Sheddable));
    match poll(also_low.as_mut()) {
        Poll::Ready(Err(err)) => assert_eq!(err.reason(), ShedReason::QueueFull),
        _ => panic!("the queue was full"),
    }
    // A critical one takes the sheddable waiter's place.
    let mut high = pin!(limiter.acquire(&clock, Priority::Critical));
    assert!(poll(high.as_mut()).is_pending());
    match poll(low.as_mut()) {
        Poll::Ready(Err(err)) => assert_eq!(err.reason(), ShedReason::QueueFull),
        _ => panic!("the sheddable waiter was evicted"),
    }
    assert_eq!(limiter.waiting(), 1);
}

#[test]
fn a_cancelled_waiter_leaves_the_queue_and_never_holds_a_permit() {
    let clock = ManualClock::new();
    let limiter = limiter(&clock, 1, 10);
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    {
        let mut waiting = pin!(limiter.acquire(&clock, Priority::Critical));
        assert!(poll(waiting.as_mut()).is_pending());
        assert_eq!(limiter.waiting(), 1);
    }
    assert_eq!(limiter.waiting(), 0);
    assert_eq!(clock.pending_sleeps(), 0);
    drop(held);
    assert_eq!(limiter.in_flight(), 0);

    // Granted, then cancelled before it looked: the permit comes back.
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    {
        let mut waiting = pin!(limiter.acquire(&clock, Priority::Critical));
        assert!(poll(waiting.as_mut()).is_pending());
        drop(held); // Hands the permit to the waiter...
        assert_eq!(limiter.in_flight(), 1);
    } // ...which is dropped without polling again.
    assert_eq!(limiter.in_flight(), 0);
    assert!(limiter.try_acquire(Priority::Sheddable).is_ok());
}

#[test]
fn a_panicking_holder_returns_its_permit() {
    let clock = ManualClock::new();
    let limiter = limiter(&clock, 1, 0);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _permit: Permit<_, _, _> = limiter.try_acquire(Priority::Critical).unwrap();
        panic!("the work failed badly");
    }));
    assert!(result.is_err());
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn codel_serves_newest_first_and_sheds_stale_waiters_under_sustained_overload() {
    let clock = ManualClock::new();
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(1).unwrap())
        .max_queue(10)
        .max_wait(Duration::from_secs(10))
        .codel(5 * MS, 100 * MS)
        .clock(clock.clone())
        .build()
        .unwrap();
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    let mut old = pin!(limiter.acquire(&clock, Priority::Critical));
    assert!(poll(old.as_mut()).is_pending());
    // The queue stays non-empty for longer than the interval: overload.
    clock.advance(150 * MS);
    let mut new = pin!(limiter.acquire(&clock, Priority::Critical));
    assert!(poll(new.as_mut()).is_pending());
    // The stale waiter was shed (it waited 150ms > 5ms) when the new one came.
    match poll(old.as_mut()) {
        Poll::Ready(Err(err)) => assert_eq!(err.reason(), ShedReason::WaitedTooLong),
        _ => panic!("the stale waiter is shed under overload"),
    }
    // Within the target, the newest waiter is served first.
    clock.advance(MS);
    let mut newest = pin!(limiter.acquire(&clock, Priority::Critical));
    assert!(poll(newest.as_mut()).is_pending());
    drop(held);
    let Poll::Ready(Ok(_served)) = poll(newest.as_mut()) else {
        panic!("LIFO under overload: the newest waiter is served first");
    };
    assert!(poll(new.as_mut()).is_pending());
}

#[test]
fn invalid_configurations_are_errors() {
    let build = |b: resil_shed::ConcurrencyLimitBuilder<Fixed>| b.build().unwrap_err().field();
    let fixed = || ConcurrencyLimit::builder(Fixed::try_from(10).unwrap());
    assert_eq!(build(fixed().reserve(Priority::Critical, -0.1)), "reserve");
    assert_eq!(build(fixed().reserve(Priority::Critical, 1.5)), "reserve");
    assert_eq!(
        build(fixed().reserve(Priority::Critical, f64::NAN)),
        "reserve"
    );
    assert_eq!(
        build(
            fixed()
                .reserve(Priority::CriticalPlus, 0.6)
                .reserve(Priority::Critical, 0.6)
        ),
        "reserves"
    );
    assert_eq!(build(fixed().max_wait(Duration::ZERO)), "max_wait");
    assert_eq!(build(fixed().codel(Duration::ZERO, MS)), "codel target");
}

#[test]
fn acquire_now_refuses_silently_and_respects_waiters() {
    let clock = ManualClock::new();
    let log = resil_testkit::EventLog::new();
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(1).unwrap())
        .max_queue(4)
        .max_wait(100 * MS)
        .clock(clock.clone())
        .listener(resil_core::listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    let held = limiter.acquire_now(Priority::Sheddable).unwrap();
    assert!(limiter.acquire_now(Priority::CriticalPlus).is_none());
    assert!(log.take().is_empty(), "a silent refusal reports nothing");
    // A queued waiter is not overtaken by an acquire_now at its level.
    let mut waiter = pin!(limiter.acquire(&clock, Priority::Critical));
    assert!(poll(waiter.as_mut()).is_pending());
    drop(held);
    assert!(limiter.acquire_now(Priority::Critical).is_none());
    assert!(matches!(poll(waiter.as_mut()), Poll::Ready(Ok(_))));
    assert_eq!(limiter.in_flight(), 0);
}
