//! A plain success into a full count window of plain successes records
//! nothing (the healthy fast path). These pin that the shortcut is taken
//! only then: a success still evicts a failure or a slow call, and fills a
//! window that is not yet full.

use core::time::Duration;

use resil_breaker::{CircuitBreaker, SlidingWindow};
use resil_core::{CircuitState, ManualClock};

fn breaker(clock: &ManualClock) -> CircuitBreaker<ManualClock> {
    CircuitBreaker::builder()
        .window(SlidingWindow::count(4))
        .minimum_calls(4)
        .failure_rate(0.5)
        .slow_calls(1.0, Duration::from_secs(1))
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn succeed(breaker: &CircuitBreaker<ManualClock>, n: usize) {
    for _ in 0..n {
        breaker.call(|| Ok::<_, ()>(())).unwrap();
    }
}

#[test]
fn a_success_still_evicts_a_failure() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let _ = breaker.call(|| Err::<(), _>("down"));
    succeed(&breaker, 3);
    assert_eq!(
        (breaker.metrics().calls, breaker.metrics().failures),
        (4, 1)
    );
    // The window is full but not healthy: this success evicts the failure.
    succeed(&breaker, 1);
    assert_eq!(
        (breaker.metrics().calls, breaker.metrics().failures),
        (4, 0)
    );
}

#[test]
fn a_success_still_evicts_a_slow_call() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let permit = breaker.try_acquire().unwrap();
    clock.advance(Duration::from_secs(2));
    permit.success();
    succeed(&breaker, 3);
    assert_eq!(breaker.metrics().slow_calls, 1);
    succeed(&breaker, 1);
    assert_eq!(breaker.metrics().slow_calls, 0);
}

#[test]
fn successes_fill_a_window_then_failures_still_trip_it() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    succeed(&breaker, 2);
    assert_eq!(breaker.metrics().calls, 2); // not full: recorded
    succeed(&breaker, 10); // full and healthy: nothing to record
    assert_eq!(
        (breaker.metrics().calls, breaker.metrics().failures),
        (4, 0)
    );
    let _ = breaker.call(|| Err::<(), _>("down"));
    assert_eq!(breaker.state(), CircuitState::Closed);
    let _ = breaker.call(|| Err::<(), _>("down"));
    assert_eq!(
        breaker.state(),
        CircuitState::Open,
        "2 of the last 4 failed"
    );
}
