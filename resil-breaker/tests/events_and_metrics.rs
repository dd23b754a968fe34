//! Events and metrics: one `BreakerTransition` per transition with the
//! right ends, one `CallRejected` per rejection with the refusing state, each
//! stamped with the breaker's name and its clock's time; and every field of
//! `metrics()` as calls come and go.

mod support;

use std::time::Duration;

use resil_breaker::{CircuitBreaker, SlidingWindow};
use resil_core::{CircuitState, EventKind, ManualClock, Outcome, listener_fn};

use resil_testkit::{EventLog, Seen};
use support::{at, call_taking, fail, on, rejection, secs, succeed};

use CircuitState::{Closed, Disabled, ForcedOpen, HalfOpen, Open};

fn transition(from: CircuitState, to: CircuitState) -> EventKind {
    EventKind::breaker_transition(from, to)
}

fn rejected(state: CircuitState) -> EventKind {
    EventKind::call_rejected(state)
}

#[test]
fn a_full_cycle_reports_every_transition_and_rejection_in_order() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let breaker = on(&clock)
        .name("payments")
        .consecutive_failures(1)
        .wait(secs(10))
        .half_open_permits(1)
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    assert_eq!(breaker.name(), "payments");

    succeed(&breaker);
    fail(&breaker); // 0 s: opens.
    let _ = rejection(&breaker);
    clock.advance(secs(10));
    let trial = breaker.try_acquire().unwrap(); // 10 s: half-open.
    let _ = rejection(&breaker);
    trial.failure(); // Reopens.
    clock.advance(secs(10));
    succeed(&breaker); // 20 s: half-open, then closed.
    breaker.force_open();
    let _ = rejection(&breaker);
    clock.advance(secs(1));
    breaker.disable(); // 21 s.
    fail(&breaker);
    breaker.reset();
    breaker.open_for(secs(5));

    let seen = |t: u64, kind| Seen {
        source: "payments".to_owned(),
        at: at(secs(t)),
        kind,
    };
    assert_eq!(
        log.take(),
        [
            seen(0, transition(Closed, Open)),
            seen(0, rejected(Open)),
            seen(10, transition(Open, HalfOpen)),
            seen(10, rejected(HalfOpen)),
            seen(10, transition(HalfOpen, Open)),
            seen(20, transition(Open, HalfOpen)),
            seen(20, transition(HalfOpen, Closed)),
            seen(20, transition(Closed, ForcedOpen)),
            seen(20, rejected(ForcedOpen)),
            seen(21, transition(ForcedOpen, Disabled)),
            seen(21, transition(Disabled, Closed)),
            seen(21, transition(Closed, Open)),
        ]
    );
}

#[test]
fn calls_that_change_no_state_report_nothing() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(10))
        .minimum_calls(10)
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    for i in 0..50 {
        if i % 3 == 0 {
            fail(&breaker);
        } else {
            succeed(&breaker);
        }
    }
    drop(breaker.try_acquire().unwrap());
    assert_eq!(breaker.state(), Closed);
    assert_eq!(log.take(), []);
}

#[test]
fn an_unnamed_breaker_reports_an_empty_source() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let breaker = on(&clock)
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    assert_eq!(breaker.name(), "");
    clock.advance(secs(3));
    breaker.force_open();
    assert_eq!(
        log.take(),
        [Seen {
            source: String::new(),
            at: at(secs(3)),
            kind: transition(Closed, ForcedOpen),
        }]
    );
}

#[test]
fn a_rate_trip_reports_one_transition_and_each_rejection_one_event() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(4))
        .minimum_calls(4)
        .wait(secs(60))
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    for _ in 0..4 {
        fail(&breaker);
    }
    for _ in 0..7 {
        let _ = rejection(&breaker);
    }
    let kinds = log.take_kinds();
    assert_eq!(kinds[0], transition(Closed, Open));
    assert_eq!(kinds[1..], [rejected(Open); 7]);
    assert_eq!(breaker.metrics().rejected, 7);
}

#[test]
fn metrics_count_calls_failures_and_slow_calls() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(10))
        .minimum_calls(10)
        .failure_rate(1.0)
        .slow_calls(1.0, secs(1))
        .build()
        .unwrap();
    let m = breaker.metrics();
    assert_eq!((m.calls, m.failures, m.slow_calls), (0, 0, 0));
    assert_eq!(
        (m.failure_rate, m.slow_call_rate),
        (0.0, 0.0),
        "no calls: rates are 0"
    );
    assert_eq!(
        (m.rejected, m.consecutive_failures, m.state),
        (0, 0, Closed)
    );

    let slow = secs(2);
    for (took, outcome) in [
        (Duration::ZERO, Outcome::Success),
        (Duration::ZERO, Outcome::Failure),
        (slow, Outcome::Success),
        (slow, Outcome::Failure),
        (Duration::ZERO, Outcome::Success),
        (slow, Outcome::Ignored),
    ] {
        call_taking(&breaker, &clock, took, outcome);
    }
    let m = breaker.metrics();
    assert_eq!((m.calls, m.failures, m.slow_calls), (5, 2, 2));
    assert_eq!((m.failure_rate, m.slow_call_rate), (0.4, 0.4));
    assert_eq!(m.consecutive_failures, 0);

    fail(&breaker);
    fail(&breaker);
    let m = breaker.metrics();
    assert_eq!((m.calls, m.failures, m.consecutive_failures), (7, 4, 2));
    assert_eq!(m.failure_rate, 4.0 / 7.0);
    assert_eq!(m.slow_call_rate, 2.0 / 7.0);
}

#[test]
fn metrics_cover_only_the_window() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(4))
        .minimum_calls(4)
        .failure_rate(1.0)
        .build()
        .unwrap();
    for _ in 0..3 {
        fail(&breaker);
    }
    for _ in 0..10 {
        succeed(&breaker);
    }
    let m = breaker.metrics();
    assert_eq!((m.calls, m.failures, m.failure_rate), (4, 0, 0.0));
}

#[test]
fn metrics_of_a_time_window_follow_the_clock() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::time(secs(4), 4))
        .minimum_calls(100)
        .build()
        .unwrap();
    fail(&breaker);
    clock.advance(secs(1));
    succeed(&breaker);
    assert_eq!(breaker.metrics().failure_rate, 0.5);
    clock.advance(secs(3));
    let m = breaker.metrics();
    assert_eq!((m.calls, m.failures, m.failure_rate), (1, 0, 0.0));
}

#[test]
fn metrics_report_the_state_and_every_rejection() {
    let clock = ManualClock::new();
    let breaker: CircuitBreaker<ManualClock> = on(&clock)
        .consecutive_failures(2)
        .wait(secs(1))
        .half_open_permits(1)
        .build()
        .unwrap();
    fail(&breaker);
    assert_eq!(breaker.metrics().consecutive_failures, 1);
    fail(&breaker);
    assert_eq!(breaker.metrics().state, Open);
    let _ = rejection(&breaker);
    let _ = rejection(&breaker);
    assert_eq!(breaker.metrics().rejected, 2);
    clock.advance(secs(1));
    let trial = breaker.try_acquire().unwrap();
    assert_eq!(breaker.metrics().state, HalfOpen);
    let _ = rejection(&breaker);
    assert_eq!(breaker.metrics().rejected, 3);
    trial.success();
    let m = breaker.metrics();
    assert_eq!((m.state, m.consecutive_failures, m.calls), (Closed, 0, 0));
    breaker.force_open();
    let _ = rejection(&breaker);
    assert_eq!(breaker.metrics().state, ForcedOpen);
    breaker.reset();
    assert_eq!(
        breaker.metrics().rejected,
        4,
        "counted since the breaker was built, across resets"
    );
    breaker.disable();
    assert_eq!(breaker.metrics().state, Disabled);
}
