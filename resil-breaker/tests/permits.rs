//! Permits: each way of recording an outcome, dropping one unrecorded (an
//! ignored call that frees a half-open slot), permits of an earlier state
//! generation that must change nothing, owned permits moving across threads,
//! and `call` with its errors, its classifier and a panicking closure.

mod support;

use std::cell::Cell;
use std::error::Error as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use resil_breaker::{CallError, CircuitBreaker, OwnedPermit, Permit, Rejected, SlidingWindow};
use resil_core::{CircuitState, ManualClock, NoopListener, Outcome};

use support::{fail, on, rejection, secs, succeed};

/// A breaker with a count window of 10 that never trips on its own.
fn counting(clock: &ManualClock) -> CircuitBreaker<ManualClock> {
    on(clock)
        .window(SlidingWindow::count(10))
        .minimum_calls(10)
        .failure_rate(1.0)
        .build()
        .unwrap()
}

/// The window's calls and failures, and the run of failures.
fn window(breaker: &CircuitBreaker<ManualClock>) -> (u32, u32, u32) {
    let m = breaker.metrics();
    (m.calls, m.failures, m.consecutive_failures)
}

/// A half-open breaker with `permits` trial slots, none taken.
fn half_open(clock: &ManualClock, permits: u32) -> CircuitBreaker<ManualClock> {
    let breaker = on(clock)
        .consecutive_failures(1)
        .half_open_permits(permits)
        .wait(secs(1))
        .build()
        .unwrap();
    fail(&breaker);
    clock.advance(secs(1));
    breaker
}

#[test]
fn record_counts_ok_as_a_success_and_err_as_a_failure() {
    let clock = ManualClock::new();
    let breaker = counting(&clock);
    breaker.try_acquire().unwrap().record(&Ok::<_, ()>(1));
    assert_eq!(window(&breaker), (1, 0, 0));
    breaker.try_acquire().unwrap().record(&Err::<(), _>("down"));
    assert_eq!(window(&breaker), (2, 1, 1));
}

#[test]
fn success_failure_and_ignore_record_what_they_say() {
    let clock = ManualClock::new();
    let breaker = counting(&clock);
    breaker.try_acquire().unwrap().failure();
    breaker.try_acquire().unwrap().failure();
    assert_eq!(window(&breaker), (2, 2, 2));
    breaker.try_acquire().unwrap().ignore();
    assert_eq!(
        window(&breaker),
        (2, 2, 2),
        "ignored: not counted, run intact"
    );
    breaker.try_acquire().unwrap().success();
    assert_eq!(window(&breaker), (3, 2, 0), "a success ends the run");
    breaker
        .try_acquire()
        .unwrap()
        .record_outcome(Outcome::Failure);
    breaker
        .try_acquire()
        .unwrap()
        .record_outcome(Outcome::Ignored);
    assert_eq!(window(&breaker), (4, 3, 1));
}

#[test]
fn dropping_a_permit_unrecorded_leaves_a_closed_window_unchanged() {
    let clock = ManualClock::new();
    let breaker = counting(&clock);
    fail(&breaker);
    let before = window(&breaker);
    for _ in 0..20 {
        drop(breaker.try_acquire().unwrap());
    }
    assert_eq!(window(&breaker), before);
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn dropping_a_trial_permit_frees_its_half_open_slot() {
    let clock = ManualClock::new();
    let breaker = half_open(&clock, 1);
    let trial = breaker.try_acquire().unwrap();
    assert_eq!(rejection(&breaker).state(), CircuitState::HalfOpen);
    drop(trial);
    let trial = breaker.try_acquire().expect("the slot was freed");
    assert_eq!(rejection(&breaker).state(), CircuitState::HalfOpen);
    trial.ignore();
    let trial = breaker.try_acquire().expect("ignore frees it too");
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    trial.success();
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn dropped_trials_do_not_count_toward_the_verdict() {
    let clock = ManualClock::new();
    let breaker = half_open(&clock, 2);
    for _ in 0..10 {
        drop(breaker.try_acquire().unwrap());
        drop(breaker.try_acquire().unwrap());
    }
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    succeed(&breaker);
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    succeed(&breaker);
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_closed_permit_recorded_after_the_breaker_opened_changes_nothing() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(10))
        .minimum_calls(10)
        .consecutive_failures(2)
        .wait(secs(60))
        .build()
        .unwrap();
    let old = breaker.try_acquire().unwrap();
    fail(&breaker);
    fail(&breaker);
    assert_eq!(breaker.state(), CircuitState::Open);
    let before = window(&breaker);
    old.failure();
    assert_eq!(breaker.state(), CircuitState::Open);
    assert_eq!(
        window(&breaker),
        before,
        "the stale failure changed the window"
    );
}

#[test]
fn a_closed_permit_recorded_after_the_breaker_closed_again_changes_nothing() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(10))
        .minimum_calls(10)
        .consecutive_failures(2)
        .wait(secs(1))
        .half_open_permits(1)
        .build()
        .unwrap();
    let old = breaker.try_acquire().unwrap();
    fail(&breaker);
    fail(&breaker);
    clock.advance(secs(1));
    succeed(&breaker); // The trial: closed again, with a fresh window.
    assert_eq!(breaker.state(), CircuitState::Closed);
    old.failure();
    fail(&breaker);
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "one real failure of the two needed opened it"
    );
    assert_eq!(window(&breaker), (1, 1, 1), "the stale failure was counted");
}

#[test]
fn a_stale_success_does_not_break_a_run_of_failures() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(10))
        .minimum_calls(10)
        .consecutive_failures(2)
        .build()
        .unwrap();
    let old = breaker.try_acquire().unwrap();
    breaker.reset(); // A new closed generation.
    fail(&breaker);
    old.success();
    fail(&breaker);
    assert_eq!(breaker.state(), CircuitState::Open, "two failures in a row");
}

#[test]
fn a_closed_permit_recorded_while_half_open_takes_no_trial() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(10))
        .minimum_calls(10)
        .consecutive_failures(1)
        .wait(secs(1))
        .half_open_permits(1)
        .build()
        .unwrap();
    let old = breaker.try_acquire().unwrap();
    fail(&breaker);
    clock.advance(secs(1));
    let trial = breaker.try_acquire().unwrap();
    old.success();
    assert_eq!(
        breaker.state(),
        CircuitState::HalfOpen,
        "the stale success closed it"
    );
    trial.failure();
    assert_eq!(breaker.state(), CircuitState::Open, "the trial decided");
}

#[test]
fn a_closed_permit_recorded_after_a_reset_is_not_in_the_new_window() {
    let clock = ManualClock::new();
    let breaker = counting(&clock);
    let old = breaker.try_acquire().unwrap();
    breaker.reset();
    old.failure();
    assert_eq!(breaker.metrics().calls, 0);
    assert_eq!(breaker.metrics().failures, 0);
}

#[test]
fn trial_permits_of_an_earlier_half_open_change_nothing() {
    let clock = ManualClock::new();
    let breaker = half_open(&clock, 2);
    let a = breaker.try_acquire().unwrap();
    let b = breaker.try_acquire().unwrap();
    breaker.force_open();
    breaker.reset();
    breaker.open_for(secs(0));
    let c = breaker
        .try_acquire()
        .expect("a new half-open has its own slots");
    a.success();
    b.success();
    assert_eq!(
        breaker.state(),
        CircuitState::HalfOpen,
        "old trials did not close it"
    );
    let d = breaker.try_acquire().expect("old trials took no slot");
    assert_eq!(rejection(&breaker).state(), CircuitState::HalfOpen);
    c.failure();
    d.failure();
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn a_permit_issued_while_disabled_records_nothing_later() {
    let clock = ManualClock::new();
    let breaker = on(&clock).consecutive_failures(1).build().unwrap();
    breaker.disable();
    let old = breaker.try_acquire().unwrap();
    breaker.reset();
    old.failure();
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.metrics().calls, 0);
}

#[test]
fn owned_permits_are_send_and_static() {
    fn send_static<T: Send + 'static>() {}
    fn send_sync_static<T: Send + Sync + Clone + 'static>() {}
    send_static::<OwnedPermit<ManualClock, NoopListener>>();
    send_sync_static::<CircuitBreaker<ManualClock, NoopListener>>();
    send_sync_static::<Rejected>();
    // A borrowed permit may cross a scoped thread.
    fn send<T: Send>() {}
    send::<Permit<'_, ManualClock, NoopListener>>();
}

#[test]
fn an_owned_permit_is_recorded_on_another_thread() {
    let clock = ManualClock::new();
    let breaker = on(&clock).consecutive_failures(1).build().unwrap();
    let permit = breaker.try_acquire_owned().unwrap();
    drop(breaker.clone()); // The permit holds its own handle.
    std::thread::spawn(move || permit.failure()).join().unwrap();
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn an_owned_trial_permit_dropped_on_another_thread_frees_its_slot() {
    let clock = ManualClock::new();
    let breaker = half_open(&clock, 1);
    let permit = breaker.try_acquire_owned().unwrap();
    assert!(breaker.try_acquire_owned().is_err());
    std::thread::spawn(move || drop(permit)).join().unwrap();
    let trial = breaker.try_acquire_owned().expect("freed");
    trial.success();
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_panic_inside_call_propagates() {
    let clock = ManualClock::new();
    let breaker = counting(&clock);
    fail(&breaker);
    let before = window(&breaker);
    let payload = catch_unwind(AssertUnwindSafe(|| {
        breaker.call(|| -> Result<(), ()> { panic!("boom") })
    }))
    .expect_err("the panic reached the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!(window(&breaker), before, "a panic counts as ignored");
}

#[test]
fn a_panic_inside_a_half_open_call_frees_its_slot() {
    let clock = ManualClock::new();
    let breaker = half_open(&clock, 1);
    let result = catch_unwind(AssertUnwindSafe(|| {
        breaker.call(|| -> Result<(), ()> { panic!("trial blew up") })
    }));
    assert!(result.is_err());
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    assert_eq!(
        breaker.call(|| Ok::<_, ()>("second trial")),
        Ok("second trial")
    );
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn call_returns_the_value_or_the_error_and_records_it() {
    let clock = ManualClock::new();
    let breaker = counting(&clock);
    assert_eq!(breaker.call(|| Ok::<_, &str>(5)), Ok(5));
    let err = breaker.call(|| Err::<(), _>("refused")).unwrap_err();
    assert!(!err.is_rejected());
    assert_eq!(err.to_string(), "refused");
    assert_eq!(err.into_inner(), Some("refused"));
    assert_eq!(window(&breaker), (2, 1, 1));
}

#[test]
fn a_rejected_call_does_not_run() {
    let clock = ManualClock::new();
    let breaker = on(&clock).build().unwrap();
    breaker.force_open();
    let ran = Cell::new(false);
    let err = breaker
        .call(|| {
            ran.set(true);
            Ok::<_, std::io::Error>(())
        })
        .unwrap_err();
    assert!(!ran.get());
    assert!(err.is_rejected());
    let CallError::Rejected(rejected) = &err else {
        panic!("expected a rejection, got {err:?}");
    };
    assert_eq!(rejected.state(), CircuitState::ForcedOpen);
    assert_eq!(
        err.to_string(),
        "circuit breaker rejected the call: forced open"
    );
    assert!(
        err.source().is_none(),
        "transparent: the message is the rejection, which has no source"
    );
    assert_eq!(err.into_inner().map(|e| e.kind()), None);
}

#[test]
fn rejections_say_which_state_refused() {
    let clock = ManualClock::new();
    let breaker = half_open(&clock, 1);
    let _trial = breaker.try_acquire().unwrap();
    assert_eq!(
        rejection(&breaker).to_string(),
        "circuit breaker rejected the call: half-open, every trial permit taken"
    );
    breaker.open_for(secs(5));
    assert_eq!(
        rejection(&breaker).to_string(),
        "circuit breaker rejected the call: open"
    );
}

#[test]
fn call_with_classifies_the_result() {
    let clock = ManualClock::new();
    let breaker = counting(&clock);
    let by_status = |r: &Result<u16, ()>| match r {
        Ok(s) if *s >= 500 => Outcome::Failure,
        Ok(s) if *s >= 400 => Outcome::Ignored,
        Ok(_) => Outcome::Success,
        Err(()) => Outcome::Failure,
    };
    assert_eq!(breaker.call_with(&by_status, || Ok(503)), Ok(503));
    assert_eq!(window(&breaker), (1, 1, 1), "a 503 is a failure");
    assert_eq!(breaker.call_with(&by_status, || Ok(404)), Ok(404));
    assert_eq!(window(&breaker), (1, 1, 1), "a 404 is ignored");
    assert_eq!(breaker.call_with(&by_status, || Ok(200)), Ok(200));
    assert_eq!(window(&breaker), (2, 1, 0));
}
