//! Attempt counts, attempt numbers and exact delay sequences, async and
//! blocking, in virtual time; and what a `RetryError` carries.

mod support;

use std::error::Error;
use std::fmt;
use std::time::Duration;

use resil_core::{Backoff, Clock, Jitter, ManualClock, StopReason};
use resil_retry::{Retry, RetryError};

use support::{constant, exponential, ms, secs};

/// A policy on `clock` with `backoff` and `attempts`, and nothing else.
fn policy(clock: &ManualClock, backoff: Backoff, attempts: u32) -> Retry<ManualClock> {
    Retry::builder()
        .clock(clock.clone())
        .backoff(backoff)
        .max_attempts(attempts)
        .build()
        .unwrap()
}

/// The time since the origin of `clock`.
fn now(clock: &ManualClock) -> Duration {
    clock.now().since_origin()
}

#[test]
fn a_constant_backoff_waits_the_same_delay_before_every_retry() {
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(ms(250)), 4);
    let mut starts = Vec::new();
    let result = clock.block_on(retry.run(&clock, async |_| {
        starts.push(now(&clock));
        Err::<(), _>("refused")
    }));
    assert_eq!(starts, [0, 250, 500, 750].map(ms));
    let err = result.unwrap_err();
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.reason(), StopReason::AttemptsExhausted);
    assert_eq!(err.elapsed(), ms(750));
    assert_eq!(now(&clock), ms(750), "no wait after the last attempt");
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn an_exponential_backoff_grows_each_delay_up_to_its_cap() {
    let clock = ManualClock::new();
    let backoff = Backoff::exponential(ms(100), 2.0)
        .max_delay(secs(1))
        .build()
        .unwrap();
    let retry = policy(&clock, backoff, 7);
    let mut starts = Vec::new();
    let err = clock
        .block_on(retry.run(&clock, async |_| {
            starts.push(now(&clock));
            Err::<(), _>("refused")
        }))
        .unwrap_err();
    // Delays 100, 200, 400, 800, then 1000 twice (the cap).
    assert_eq!(starts, [0, 100, 300, 700, 1500, 2500, 3500].map(ms));
    assert_eq!(err.attempts(), 7);
    assert_eq!(err.elapsed(), ms(3500));
}

#[test]
fn a_late_success_is_returned_after_exactly_the_waits_before_it() {
    let clock = ManualClock::new();
    let retry = policy(&clock, exponential(secs(1), 3.0), 5);
    let answer = clock.block_on(retry.run(&clock, async |attempt| {
        if attempt < 3 {
            Err("busy")
        } else {
            Ok(attempt * 10)
        }
    }));
    assert_eq!(answer, Ok(30));
    assert_eq!(now(&clock), secs(1 + 3));
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn a_first_attempt_success_neither_waits_nor_retries() {
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(secs(1)), 3);
    let mut calls = 0;
    let answer = clock.block_on(retry.run(&clock, async |_| {
        calls += 1;
        Ok::<_, &str>("fine")
    }));
    assert_eq!(answer, Ok("fine"));
    assert_eq!(calls, 1);
    assert_eq!(now(&clock), Duration::ZERO);
}

#[test]
fn max_attempts_of_one_means_no_retry() {
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(secs(1)), 1);
    let mut calls = 0;
    let err = clock
        .block_on(retry.run(&clock, async |_| {
            calls += 1;
            Err::<(), _>("refused")
        }))
        .unwrap_err();
    assert_eq!(calls, 1);
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.reason(), StopReason::AttemptsExhausted);
    assert_eq!(err.elapsed(), Duration::ZERO);
    assert_eq!(now(&clock), Duration::ZERO);

    let mut calls = 0;
    let err = retry
        .run_blocking(&clock, |_| {
            calls += 1;
            Err::<(), _>("refused")
        })
        .unwrap_err();
    assert_eq!((calls, err.attempts()), (1, 1));
    assert_eq!(err.reason(), StopReason::AttemptsExhausted);
    assert_eq!(now(&clock), Duration::ZERO);
}

#[test]
fn the_operation_is_given_the_attempt_number_from_one() {
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(ms(1)), 5);
    let mut seen = Vec::new();
    let _ = clock.block_on(retry.run(&clock, async |attempt| {
        seen.push(attempt);
        Err::<(), _>(())
    }));
    assert_eq!(seen, [1, 2, 3, 4, 5]);

    let mut seen = Vec::new();
    let _ = retry.run_blocking(&clock, |attempt| {
        seen.push(attempt);
        Err::<(), _>(())
    });
    assert_eq!(seen, [1, 2, 3, 4, 5]);
}

#[test]
fn the_operation_may_borrow_local_state_mutably_between_attempts() {
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(ms(10)), 5);
    let mut queue = vec![Err("a"), Err("b"), Ok(7), Ok(8)];
    queue.reverse();
    let mut log = String::new();
    let answer = clock.block_on(retry.run(&clock, async |attempt| {
        log.push_str(&format!("{attempt};"));
        queue.pop().unwrap()
    }));
    assert_eq!(answer, Ok(7));
    assert_eq!(log, "1;2;3;");
    assert_eq!(queue, [Ok(8)], "the closure consumed exactly three results");
}

#[test]
fn blocking_retries_wait_the_same_delays_on_the_manual_clock() {
    let clock = ManualClock::new();
    let backoff = Backoff::exponential(ms(100), 2.0)
        .max_delay(secs(1))
        .build()
        .unwrap();
    let retry = policy(&clock, backoff, 7);
    let mut starts = Vec::new();
    let err = retry
        .run_blocking(&clock, |_| {
            starts.push(now(&clock));
            Err::<(), _>("refused")
        })
        .unwrap_err();
    assert_eq!(starts, [0, 100, 300, 700, 1500, 2500, 3500].map(ms));
    assert_eq!(err.attempts(), 7);
    assert_eq!(err.reason(), StopReason::AttemptsExhausted);
    assert_eq!(err.elapsed(), ms(3500));

    let start = now(&clock);
    let answer = retry.run_blocking(&clock, |attempt| {
        if attempt < 4 {
            Err(attempt)
        } else {
            Ok(attempt)
        }
    });
    assert_eq!(answer, Ok(4));
    assert_eq!(now(&clock) - start, ms(100 + 200 + 400));
}

#[test]
fn each_call_starts_its_own_schedule() {
    // The second call's first delay is the base again: a policy keeps no
    // per-call state.
    let clock = ManualClock::new();
    let retry = policy(&clock, exponential(secs(1), 2.0), 3);
    for round in 1..=3 {
        let start = now(&clock);
        let err = clock
            .block_on(retry.run(&clock, async |_| Err::<(), _>(round)))
            .unwrap_err();
        assert_eq!(err.attempts(), 3);
        assert_eq!(err.into_inner(), round);
        assert_eq!(now(&clock) - start, secs(1 + 2), "round {round}");
    }
}

#[test]
fn jittered_delays_stay_within_their_backoff_range() {
    // `Retry` seeds its jitter at random, so the exact delays differ per
    // call; each must still fall in the jitter mode's range.
    let nominal = [100, 200, 400, 800, 1600, 3200, 6400].map(ms);
    for (jitter, floor) in [(Jitter::Full, 0), (Jitter::Equal, 2)] {
        let backoff = Backoff::exponential(ms(100), 2.0)
            .jitter(jitter)
            .build()
            .unwrap();
        for _ in 0..20 {
            let clock = ManualClock::new();
            let retry = policy(&clock, backoff, 8);
            let mut delays = Vec::new();
            let _ = clock.block_on(
                retry
                    .call(async |_| Err::<(), _>(()))
                    .on_retry(|info| delays.push(info.delay))
                    .run(&clock),
            );
            assert_eq!(delays.len(), nominal.len());
            for (delay, nominal) in delays.iter().zip(nominal) {
                let low = if floor == 0 {
                    Duration::ZERO
                } else {
                    nominal / floor
                };
                assert!(
                    (low..=nominal).contains(delay),
                    "{jitter:?}: {delay:?} outside [{low:?}, {nominal:?}]"
                );
            }
            assert_eq!(
                now(&clock),
                delays.iter().sum(),
                "the clock moved by the delays drawn"
            );
        }
    }
}

/// An error type of the operation's.
#[derive(Debug, Clone, PartialEq)]
struct Refused {
    code: u16,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused with {}", self.code)
    }
}

impl Error for Refused {}

#[test]
fn a_retry_error_carries_the_last_error_the_attempts_the_reason_and_the_elapsed_time() {
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(secs(2)), 3);
    let err: RetryError<Refused> = clock
        .block_on(retry.run(&clock, async |attempt| {
            Err::<(), _>(Refused {
                code: 500 + u16::try_from(attempt).unwrap(),
            })
        }))
        .unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.reason(), StopReason::AttemptsExhausted);
    assert_eq!(err.elapsed(), secs(4));
    assert_eq!(
        err.error(),
        &Refused { code: 503 },
        "the last attempt's error"
    );
    assert_eq!(
        err.to_string(),
        "attempts exhausted after 3 attempts: refused with 503"
    );

    // The message already holds the operation's error, so the chain goes on
    // from *its* source (none here): a reporter prints nothing twice.
    assert!(err.source().is_none());
    let boxed: Box<dyn Error> = Box::new(err.clone());
    assert_eq!(boxed.to_string(), err.to_string());

    assert_eq!(err.into_inner(), Refused { code: 503 });
}

#[test]
fn a_single_attempt_error_reads_in_the_singular() {
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(secs(1)), 1);
    let err = retry
        .run_blocking(&clock, |_| Err::<(), _>(Refused { code: 429 }))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "attempts exhausted after 1 attempt: refused with 429"
    );
}

#[test]
fn a_retry_error_converts_into_a_boxed_error_with_the_question_mark() {
    fn call(retry: &Retry<ManualClock>, clock: &ManualClock) -> Result<(), Box<dyn Error>> {
        retry.run_blocking(clock, |_| Err::<(), _>(Refused { code: 502 }))?;
        Ok(())
    }
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(secs(1)), 2);
    let err = call(&retry, &clock).unwrap_err();
    assert_eq!(
        err.to_string(),
        "attempts exhausted after 2 attempts: refused with 502"
    );
    let retry_err = err.downcast_ref::<RetryError<Refused>>().unwrap();
    assert_eq!(retry_err.attempts(), 2);
    assert_eq!(retry_err.error(), &Refused { code: 502 });
}

#[test]
fn into_inner_gives_back_the_plain_error_for_the_question_mark() {
    fn call(retry: &Retry<ManualClock>, clock: &ManualClock) -> Result<u32, Refused> {
        let value = retry
            .run_blocking(clock, |_| Err::<u32, _>(Refused { code: 504 }))
            .map_err(RetryError::into_inner)?;
        Ok(value)
    }
    let clock = ManualClock::new();
    let retry = policy(&clock, constant(secs(1)), 2);
    assert_eq!(call(&retry, &clock), Err(Refused { code: 504 }));
}
