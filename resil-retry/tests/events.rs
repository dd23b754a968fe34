//! Events through core's `Listener`: one `RetryScheduled` per retry,
//! `RetrySucceeded` after a late success, `RetryGaveUp` with the reason,
//! nothing at all for a first-attempt success; each stamped with the policy's
//! name and the time on its clock.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resil_core::{
    Backoff, Clock, EventKind, Instant, ManualClock, Outcome, StopReason, listener_fn,
};
use resil_retry::Retry;

use resil_testkit::{EventLog, Seen};
use support::{CountingBudget, at, constant, exponential, ms, secs};

#[test]
fn a_late_success_reports_each_retry_then_the_success() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let retry = Retry::builder()
        .clock(clock.clone())
        .backoff(exponential(secs(1), 2.0))
        .max_attempts(5)
        .name("payments")
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    let answer = clock.block_on(retry.run(&clock, async |attempt| {
        if attempt < 3 {
            Err("busy")
        } else {
            Ok(attempt)
        }
    }));
    assert_eq!(answer, Ok(3));
    let seen = |at_secs, kind| Seen {
        source: "payments".to_owned(),
        at: at(secs(at_secs)),
        kind,
    };
    assert_eq!(
        log.take(),
        [
            seen(0, EventKind::retry_scheduled(1, secs(1), Duration::ZERO)),
            seen(1, EventKind::retry_scheduled(2, secs(2), secs(1))),
            seen(3, EventKind::retry_succeeded(3, secs(3))),
        ]
    );
}

#[test]
fn a_first_attempt_success_reports_nothing() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let retry = Retry::builder()
        .clock(clock.clone())
        .max_elapsed(secs(10))
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    assert_eq!(
        clock.block_on(retry.run(&clock, async |_| Ok::<_, ()>(1))),
        Ok(1)
    );
    assert_eq!(retry.run_blocking(&clock, |_| Ok::<_, ()>(2)), Ok(2));
    assert_eq!(log.take(), []);
}

#[test]
fn running_out_of_attempts_reports_gave_up_with_that_reason() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let retry = Retry::builder()
        .clock(clock.clone())
        .backoff(constant(ms(500)))
        .max_attempts(3)
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    let _ = retry.run_blocking(&clock, |_| Err::<(), _>(()));
    let events = log.take();
    assert_eq!(
        events.iter().map(|s| s.kind).collect::<Vec<_>>(),
        [
            EventKind::retry_scheduled(1, ms(500), Duration::ZERO),
            EventKind::retry_scheduled(2, ms(500), ms(500)),
            EventKind::retry_gave_up(3, StopReason::AttemptsExhausted, secs(1)),
        ]
    );
    assert_eq!(events.last().unwrap().at, at(secs(1)));
    assert!(
        events.iter().all(|s| s.source.is_empty()),
        "the default name is empty"
    );
}

#[test]
fn a_non_retryable_error_reports_gave_up_as_not_retryable() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let retry = Retry::builder()
        .clock(clock.clone())
        .backoff(constant(secs(1)))
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    let _ = clock.block_on(
        retry
            .call(async |attempt| Err::<(), _>(attempt))
            .retry_if(|&attempt| attempt < 2)
            .run(&clock),
    );
    assert_eq!(
        log.take_kinds(),
        [
            EventKind::retry_scheduled(1, secs(1), Duration::ZERO),
            EventKind::retry_gave_up(2, StopReason::NotRetryable, secs(1)),
        ]
    );
}

#[test]
fn a_deadline_reports_gave_up_as_deadline() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let retry = Retry::builder()
        .clock(clock.clone())
        .backoff(constant(secs(4)))
        .max_attempts(10)
        .max_elapsed(secs(10))
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    let _ = clock.block_on(retry.run(&clock, async |_| Err::<(), _>(())));
    assert_eq!(
        log.take_kinds(),
        [
            EventKind::retry_scheduled(1, secs(4), Duration::ZERO),
            EventKind::retry_scheduled(2, secs(4), secs(4)),
            EventKind::retry_gave_up(3, StopReason::Deadline, secs(8)),
        ]
    );
}

#[test]
fn an_empty_budget_reports_gave_up_as_budget_empty() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let budget = CountingBudget::refusing();
    let retry = Retry::builder()
        .clock(clock.clone())
        .budget(&budget)
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    let _ = retry.run_blocking(&clock, |_| Err::<(), _>(()));
    assert_eq!(
        log.take_kinds(),
        [EventKind::retry_gave_up(
            1,
            StopReason::BudgetEmpty,
            Duration::ZERO
        )],
        "no retry was scheduled"
    );
}

#[test]
fn an_ok_retried_to_the_end_reports_gave_up() {
    // The last `Ok` is returned, but retrying did not succeed: the listener
    // hears that it gave up.
    let clock = ManualClock::new();
    let log = EventLog::new();
    let retry = Retry::builder()
        .clock(clock.clone())
        .backoff(constant(secs(1)))
        .max_attempts(2)
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    let answer = retry
        .call_blocking(|_| Ok::<u16, ()>(503))
        .classify(|r| match r {
            Ok(503) | Err(_) => resil_core::Outcome::Failure,
            Ok(_) => resil_core::Outcome::Success,
        })
        .run(&clock);
    assert_eq!(answer, Ok(503));
    assert_eq!(
        log.take_kinds(),
        [
            EventKind::retry_scheduled(1, secs(1), Duration::ZERO),
            EventKind::retry_gave_up(2, StopReason::AttemptsExhausted, secs(1)),
        ]
    );
}

#[test]
fn blocking_and_async_calls_report_the_same_events() {
    let run = |blocking: bool| {
        let clock = ManualClock::new();
        let log = EventLog::new();
        let retry = Retry::builder()
            .clock(clock.clone())
            .backoff(Backoff::exponential(ms(100), 3.0).build().unwrap())
            .max_attempts(4)
            .name("db")
            .listener(listener_fn(|event| log.push(event)))
            .build()
            .unwrap();
        let op = |attempt: u32| {
            if attempt < 4 {
                Err(attempt)
            } else {
                Ok(attempt)
            }
        };
        let answer = if blocking {
            retry.run_blocking(&clock, op)
        } else {
            clock.block_on(retry.run(&clock, async |attempt| op(attempt)))
        };
        assert_eq!(answer, Ok(4));
        log.take()
    };
    let blocking = run(true);
    assert_eq!(blocking, run(false));
    assert_eq!(blocking.len(), 4);
    assert!(blocking.iter().all(|s| s.source == "db"));
    assert_eq!(
        blocking.last().unwrap().kind,
        EventKind::retry_succeeded(4, ms(100 + 300 + 900))
    );
}

#[test]
fn listeners_compose_and_a_policy_can_share_one_through_a_reference() {
    // `(A, B)` fans out; `&L` lets two policies report to one log.
    let clock = ManualClock::new();
    let first = EventLog::new();
    let second = EventLog::new();
    let both = (
        listener_fn(|event| first.push(event)),
        listener_fn(|event| second.push(event)),
    );
    let a = Retry::builder()
        .clock(clock.clone())
        .backoff(constant(secs(1)))
        .max_attempts(2)
        .name("a")
        .listener(&both)
        .build()
        .unwrap();
    let b = Retry::builder()
        .clock(clock.clone())
        .backoff(constant(secs(1)))
        .max_attempts(2)
        .name("b")
        .listener(&both)
        .build()
        .unwrap();
    let _ = a.run_blocking(&clock, |_| Err::<(), _>(()));
    let _ = b.run_blocking(&clock, |_| Err::<(), _>(()));
    let sources: Vec<_> = first.take().into_iter().map(|s| s.source).collect();
    assert_eq!(sources, ["a", "a", "b", "b"]);
    assert_eq!(second.take().len(), 4);
}

/// An error the classifier calls a success ends the call at once, and with
/// one attempt made there is no retry to report: no `RetrySucceeded`.
#[test]
fn an_error_classified_as_a_success_at_once_reports_nothing() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let retry = Retry::builder()
        .clock(clock.clone())
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    let answer = retry
        .call_blocking(|_| Err::<(), _>("not found"))
        .classify(|_: &Result<(), &str>| Outcome::Success)
        .run(&clock);
    let error = answer.unwrap_err();
    assert_eq!((error.attempts(), *error.error()), (1, "not found"));
    assert_eq!(log.take(), []);
}

/// Without a deadline, a first-attempt success reads no clock at all: the
/// clock is read only once an attempt fails (the common path stays cheap).
#[test]
fn a_first_attempt_success_reads_no_clock() {
    struct Counting(ManualClock, AtomicU32);
    impl Clock for Counting {
        fn now(&self) -> Instant {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.now()
        }
    }
    let clock = Counting(ManualClock::new(), AtomicU32::new(0));
    let retry = Retry::builder().clock(&clock).build().unwrap();
    assert_eq!(retry.run_blocking(&clock.0, |_| Ok::<_, ()>(1)), Ok(1));
    assert_eq!(clock.1.load(Ordering::Relaxed), 0);
    // A failure does read it.
    let _ = retry.run_blocking(
        &clock.0,
        |attempt| if attempt < 2 { Err(()) } else { Ok(2) },
    );
    assert!(clock.1.load(Ordering::Relaxed) > 0);
}
