//! The closed-state success path allocates nothing — `try_acquire` and
//! `success()`, and `call(|| Ok(..))` — for count and time windows, with and
//! without slow-call detection; nor does recording a failure below the
//! threshold, or a rejection while open.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resil_breaker::{BreakerBuilder, CircuitBreaker, SlidingWindow};
use resil_core::{CircuitState, EventKind, ManualClock, listener_fn};
use resil_testkit::{CountingAllocator, allocations_during};

use support::{fail, ms, on, secs};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn the_counter_sees_allocations() {
    // Guards every other test here: a counter that saw nothing would pass them all.
    let (_, n) = allocations_during(|| std::hint::black_box(vec![1u8; 16]));
    assert!(n >= 1);
}

#[test]
fn the_counter_sees_a_call_that_allocates() {
    // Guards the `call` tests: an allocation inside the closure is counted.
    let breaker = on(&ManualClock::new()).build().unwrap();
    let (result, n) = allocations_during(|| breaker.call(|| Ok::<_, ()>(String::from("boxed"))));
    assert_eq!(result.as_deref(), Ok("boxed"));
    assert!(n >= 1);
}

/// The four closed-state configurations: count or time window, with or
/// without slow-call detection. None trips on the calls made here.
fn configurations(clock: &ManualClock) -> Vec<(&'static str, CircuitBreaker<ManualClock>)> {
    let count = || on(clock).window(SlidingWindow::count(100));
    let time = || {
        on(clock)
            .window(SlidingWindow::time(secs(10), 10))
            .minimum_calls(100)
    };
    let slow = |b: BreakerBuilder<ManualClock>| b.slow_calls(0.9, ms(100));
    vec![
        ("count", count().build().unwrap()),
        ("count, slow calls", slow(count()).build().unwrap()),
        ("time", time().build().unwrap()),
        ("time, slow calls", slow(time()).build().unwrap()),
    ]
}

#[test]
fn try_acquire_and_success_allocate_nothing() {
    let clock = ManualClock::new();
    for (name, breaker) in configurations(&clock) {
        // Fill the window first, so that recording also evicts.
        for _ in 0..150 {
            breaker.try_acquire().unwrap().success();
        }
        let (_, n) = allocations_during(|| {
            for _ in 0..1_000 {
                breaker.try_acquire().unwrap().success();
            }
        });
        assert_eq!(n, 0, "{name}");
        assert_eq!(breaker.state(), CircuitState::Closed);
    }
}

#[test]
fn call_allocates_nothing() {
    let clock = ManualClock::new();
    for (name, breaker) in configurations(&clock) {
        let (sum, n) = allocations_during(|| {
            let mut sum = 0;
            for i in 0..1_000 {
                sum += breaker.call(|| Ok::<_, ()>(i)).unwrap();
            }
            sum
        });
        assert_eq!(sum, 499_500);
        assert_eq!(n, 0, "{name}");
    }
}

#[test]
fn a_time_window_moving_forward_allocates_nothing() {
    // The clock crosses buckets between calls, so records expire buckets.
    let clock = ManualClock::new();
    for (name, breaker) in configurations(&clock) {
        let (_, n) = allocations_during(|| {
            for _ in 0..1_000 {
                clock.advance(ms(30));
                breaker.try_acquire().unwrap().success();
                let _ = breaker.metrics();
            }
        });
        assert_eq!(n, 0, "{name}");
    }
}

#[test]
fn failures_below_the_threshold_and_ignored_calls_allocate_nothing() {
    let clock = ManualClock::new();
    for (name, breaker) in configurations(&clock) {
        let (_, n) = allocations_during(|| {
            for i in 0..1_000 {
                let permit = breaker.try_acquire().unwrap();
                // One failure in four recorded calls: under the 50% threshold.
                match i % 6 {
                    0 => permit.failure(),
                    1 => permit.ignore(),
                    2 => drop(permit),
                    _ => permit.success(),
                }
            }
        });
        assert_eq!(n, 0, "{name}");
        assert_eq!(breaker.state(), CircuitState::Closed, "{name}");
    }
}

#[test]
fn a_rejection_while_open_allocates_nothing() {
    let clock = ManualClock::new();
    let breaker = on(&clock).consecutive_failures(1).build().unwrap();
    fail(&breaker);
    let (rejections, n) = allocations_during(|| {
        (0..1_000)
            .filter(|_| {
                clock.advance(Duration::from_millis(1));
                breaker.try_acquire().is_err()
            })
            .count()
    });
    assert_eq!(rejections, 1_000);
    assert_eq!(n, 0);
    breaker.force_open();
    let (result, n) = allocations_during(|| breaker.call(|| Ok::<_, ()>(())));
    assert!(result.is_err());
    assert_eq!(n, 0, "forced open");
}

#[test]
fn a_rejection_reported_to_a_listener_allocates_nothing() {
    let clock = ManualClock::new();
    let rejected = AtomicU32::new(0);
    let breaker = on(&clock)
        .name("db")
        .consecutive_failures(1)
        .listener(listener_fn(|event| {
            if let EventKind::CallRejected { .. } = event.kind {
                rejected.fetch_add(1, Ordering::Relaxed);
            }
        }))
        .build()
        .unwrap();
    fail(&breaker);
    let (_, n) = allocations_during(|| {
        for _ in 0..100 {
            assert!(breaker.try_acquire().is_err());
        }
    });
    assert_eq!(n, 0);
    assert_eq!(rejected.load(Ordering::Relaxed), 100);
}
