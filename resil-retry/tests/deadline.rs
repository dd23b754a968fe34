//! `max_elapsed` is a deadline on the policy's clock from the start of the
//! first attempt, counting the time spent inside the operation, and no wait
//! is ever scheduled that would end past it: the clock passes the deadline
//! only while an attempt runs, never because of a retry.

mod support;

use std::time::Duration;

use proptest::prelude::*;
use resil_core::{
    Backoff, BlockingSleeper, Clock, EventKind, Jitter, ManualClock, Sleeper, StopReason,
    listener_fn,
};
use resil_retry::Retry;

use support::{constant, exponential, ms, secs};

/// A policy on `clock` with `backoff`, a deadline of `limit`, and attempts
/// enough that only the deadline stops it.
fn policy(clock: &ManualClock, backoff: Backoff, limit: Duration) -> Retry<ManualClock> {
    Retry::builder()
        .clock(clock.clone())
        .backoff(backoff)
        .max_attempts(u32::MAX)
        .max_elapsed(limit)
        .build()
        .unwrap()
}

fn now(clock: &ManualClock) -> Duration {
    clock.now().since_origin()
}

#[test]
fn retrying_stops_before_a_wait_that_would_end_past_the_deadline() {
    // Waits of 1, 2 and 4 s end at 7 s; the next, 8 s, would end at 15 s.
    let clock = ManualClock::new();
    let retry = policy(&clock, exponential(secs(1), 2.0), secs(10));
    let mut starts = Vec::new();
    let err = clock
        .block_on(retry.run(&clock, async |_| {
            starts.push(now(&clock));
            Err::<(), _>("refused")
        }))
        .unwrap_err();
    assert_eq!(starts, [0, 1, 3, 7].map(secs));
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.reason(), StopReason::Deadline);
    assert_eq!(err.elapsed(), secs(7));
    assert_eq!(
        err.to_string(),
        "deadline reached after 4 attempts: refused"
    );
    assert_eq!(
        now(&clock),
        secs(7),
        "it gave up at once rather than wait out the deadline"
    );
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn a_wait_that_ends_exactly_at_the_deadline_is_allowed() {
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(secs(2)), secs(6));
    let mut starts = Vec::new();
    let err = retry
        .run_blocking(&clock, |_| {
            starts.push(now(&clock));
            Err::<(), _>("refused")
        })
        .unwrap_err();
    assert_eq!(starts, [0, 2, 4, 6].map(secs));
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.reason(), StopReason::Deadline);
    assert_eq!(err.elapsed(), secs(6));
}

#[test]
fn time_spent_inside_an_async_operation_counts() {
    // Each attempt sleeps 3 s on the policy's clock, then fails; the waits
    // are 1 s. Attempts run 0–3, 4–7, 8–11; at 11 s even a 1 s wait is too
    // late for a 10 s deadline.
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(secs(1)), secs(10));
    let mut starts = Vec::new();
    let mut retries = Vec::new();
    let err = clock
        .block_on(
            retry
                .call(async |_| {
                    starts.push(now(&clock));
                    clock.sleep(secs(3)).await;
                    Err::<(), _>("slow and wrong")
                })
                .on_retry(|info| retries.push((info.elapsed, info.delay)))
                .run(&clock),
        )
        .unwrap_err();
    assert_eq!(starts, [0, 4, 8].map(secs));
    assert_eq!(retries, [(secs(3), secs(1)), (secs(7), secs(1))]);
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.reason(), StopReason::Deadline);
    assert_eq!(
        err.elapsed(),
        secs(11),
        "the third attempt's own time is counted"
    );
}

#[test]
fn time_spent_inside_a_blocking_operation_counts() {
    // The same schedule, with an operation that moves the clock itself.
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(secs(1)), secs(10));
    let mut starts = Vec::new();
    let err = retry
        .run_blocking(&clock, |_| {
            starts.push(now(&clock));
            clock.advance(secs(3));
            Err::<(), _>("slow and wrong")
        })
        .unwrap_err();
    assert_eq!(starts, [0, 4, 8].map(secs));
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.reason(), StopReason::Deadline);
    assert_eq!(err.elapsed(), secs(11));
}

#[test]
fn a_success_after_slow_attempts_inside_the_deadline_is_returned() {
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(secs(1)), secs(10));
    let answer = clock.block_on(retry.run(&clock, async |attempt| {
        clock.sleep(secs(2)).await;
        if attempt < 3 {
            Err("slow")
        } else {
            Ok(attempt)
        }
    }));
    assert_eq!(answer, Ok(3));
    assert_eq!(now(&clock), secs(2 + 1 + 2 + 1 + 2));
}

#[test]
fn the_deadline_runs_from_the_first_attempt_not_from_building_the_policy() {
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(secs(1)), secs(5));
    clock.advance(secs(100));
    let mut starts = Vec::new();
    let err = retry
        .run_blocking(&clock, |_| {
            starts.push(now(&clock));
            Err::<(), _>("refused")
        })
        .unwrap_err();
    assert_eq!(starts, [100, 101, 102, 103, 104, 105].map(secs));
    assert_eq!(err.reason(), StopReason::Deadline);
    assert_eq!(err.elapsed(), secs(5));

    // A second call gets a deadline of its own.
    let err = clock
        .block_on(retry.run(&clock, async |_| Err::<(), _>("again")))
        .unwrap_err();
    assert_eq!(err.attempts(), 6);
    assert_eq!(err.elapsed(), secs(5));
    assert_eq!(now(&clock), secs(110));
}

#[test]
fn a_first_attempt_longer_than_the_deadline_is_not_retried() {
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(ms(1)), secs(10));
    let mut calls = 0;
    let err = clock
        .block_on(retry.run(&clock, async |_| {
            calls += 1;
            clock.sleep(secs(20)).await;
            Err::<(), _>("far too slow")
        }))
        .unwrap_err();
    assert_eq!(calls, 1);
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.reason(), StopReason::Deadline);
    assert_eq!(err.elapsed(), secs(20));
}

#[test]
fn running_out_of_attempts_first_is_reported_as_attempts_exhausted() {
    let clock = ManualClock::new();
    let retry = Retry::builder()
        .clock(clock.clone())
        .backoff(constant(secs(1)))
        .max_attempts(2)
        .max_elapsed(secs(60))
        .build()
        .unwrap();
    let err = retry
        .run_blocking(&clock, |_| Err::<(), _>(()))
        .unwrap_err();
    assert_eq!(err.reason(), StopReason::AttemptsExhausted);
    assert_eq!(err.attempts(), 2);
}

#[test]
fn with_a_zero_backoff_the_last_attempt_may_start_at_the_deadline_itself() {
    // Attempts of 1 s with no wait between them: 0, 1, 2, 3 s; the one that
    // would start at 3 s is allowed (it starts *at* the deadline), the next
    // is not.
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(Duration::ZERO), secs(3));
    let mut starts = Vec::new();
    let err = retry
        .run_blocking(&clock, |_| {
            starts.push(now(&clock));
            clock.advance(secs(1));
            Err::<(), _>(())
        })
        .unwrap_err();
    assert_eq!(starts, [0, 1, 2, 3].map(secs));
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.elapsed(), secs(4));
    assert_eq!(err.reason(), StopReason::Deadline);

    // Instantaneous attempts with no wait: every one starts at 0, so only
    // the attempt limit stops them.
    let retry = Retry::builder()
        .clock(clock.clone())
        .backoff(constant(Duration::ZERO))
        .max_attempts(50)
        .max_elapsed(secs(3))
        .build()
        .unwrap();
    let err = retry
        .run_blocking(&clock, |_| Err::<(), _>(()))
        .unwrap_err();
    assert_eq!(
        (err.attempts(), err.reason()),
        (50, StopReason::AttemptsExhausted)
    );
}

/// Documented trade-off: without a deadline, a call that succeeds at once
/// reads no clock, so elapsed times count from the end of the first attempt;
/// with a deadline they count from its start.
#[test]
fn elapsed_counts_from_the_first_attempt_with_a_deadline_and_from_the_first_failure_without() {
    // Attempt 1 runs 0–5 s, the wait 5–6 s, attempt 2 runs 6–11 s.
    for (limit, first_retry, total) in [
        (Some(secs(3600)), secs(5), secs(11)),
        (None, secs(0), secs(6)),
    ] {
        let clock = ManualClock::new();
        let mut builder = Retry::builder()
            .clock(clock.clone())
            .backoff(constant(secs(1)))
            .max_attempts(2);
        if let Some(limit) = limit {
            builder = builder.max_elapsed(limit);
        }
        let events = std::sync::Mutex::new(Vec::new());
        let retry = builder
            .listener(listener_fn(|event| events.lock().unwrap().push(event.kind)))
            .build()
            .unwrap();
        let mut seen = Vec::new();
        let err = retry
            .call_blocking(|_| {
                clock.advance(secs(5));
                Err::<(), _>("slow")
            })
            .on_retry(|info| seen.push(info.elapsed))
            .run(&clock)
            .unwrap_err();
        assert_eq!(
            seen,
            [first_retry],
            "on_retry's elapsed with limit {limit:?}"
        );
        assert_eq!(
            err.elapsed(),
            total,
            "RetryError::elapsed with limit {limit:?}"
        );
        assert_eq!(
            events.into_inner().unwrap(),
            [
                EventKind::retry_scheduled(1, secs(1), first_retry),
                EventKind::retry_gave_up(2, StopReason::AttemptsExhausted, total),
            ],
            "events with limit {limit:?}"
        );
    }
}

/// Runs an always-failing blocking call whose attempts each take
/// `op_time`, and checks that every wait ends by the deadline. Returns the
/// error's attempts and reason.
fn check_waits_end_by_the_deadline(
    backoff: Backoff,
    limit: Duration,
    op_time: Duration,
    max_attempts: u32,
) -> Result<(u32, StopReason), TestCaseError> {
    let clock = ManualClock::new();
    let retry = Retry::builder()
        .clock(clock.clone())
        .backoff(backoff)
        .max_attempts(max_attempts)
        .max_elapsed(limit)
        .build()
        .unwrap();
    let mut waits = Vec::new();
    let mut starts = Vec::new();
    let err = retry
        .call_blocking(|_| {
            starts.push(now(&clock));
            clock.sleep_blocking(op_time);
            Err::<(), _>(())
        })
        .on_retry(|info| waits.push((info.elapsed, info.delay)))
        .run(&clock)
        .unwrap_err();
    for &(elapsed, delay) in &waits {
        prop_assert!(
            elapsed + delay <= limit,
            "a wait from {elapsed:?} of {delay:?} ends past {limit:?}"
        );
    }
    // Every attempt after the first starts by the deadline.
    for &start in starts.iter().skip(1) {
        prop_assert!(
            start <= limit,
            "an attempt started at {start:?}, past {limit:?}"
        );
    }
    prop_assert_eq!(err.elapsed(), now(&clock));
    prop_assert_eq!(starts.len(), usize::try_from(err.attempts()).unwrap());
    // The clock is past the deadline only by the last attempt's own time.
    prop_assert!(now(&clock) <= limit + op_time);
    if err.reason() == StopReason::Deadline && backoff.jitter_mode() == Jitter::None {
        // Stopped for a good reason: the next wait would have ended too late.
        let next = backoff.delay(err.attempts() - 1);
        prop_assert!(
            err.elapsed() + next > limit,
            "gave up early at {:?}",
            err.elapsed()
        );
    }
    Ok((err.attempts(), err.reason()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_wait_ever_ends_past_the_deadline(
        base_ms in 1u64..2_000,
        factor in 1.0f64..3.0,
        jitter in prop::sample::select(vec![Jitter::None, Jitter::Full, Jitter::Equal, Jitter::Decorrelated]),
        limit_ms in 1u64..20_000,
        op_ms in 0u64..3_000,
        max_attempts in 1u32..40,
    ) {
        let backoff = Backoff::exponential(ms(base_ms), factor).jitter(jitter).build().unwrap();
        let (attempts, reason) =
            check_waits_end_by_the_deadline(backoff, ms(limit_ms), ms(op_ms), max_attempts)?;
        prop_assert!(attempts <= max_attempts);
        prop_assert!(matches!(reason, StopReason::Deadline | StopReason::AttemptsExhausted));
        if attempts < max_attempts {
            prop_assert_eq!(reason, StopReason::Deadline);
        }
    }
}
