//! Per-call options: `retry_if` and `classify` decide what is retried (an
//! `Ok` value included), a server hint sets the next delay (jitter on top,
//! cut to `max_hint`, never past the deadline, zero meaning none), and
//! `on_retry` sees every retry before its wait.

mod support;

use std::time::Duration;

use resil_core::{Backoff, Clock, Jitter, ManualClock, Outcome, StopReason};
use resil_retry::{Retry, RetryBuilder};

use support::{constant, exponential, ms, secs};

/// A builder on `clock` with `backoff` and many attempts.
fn builder(clock: &ManualClock, backoff: Backoff) -> RetryBuilder<ManualClock> {
    Retry::builder()
        .clock(clock.clone())
        .backoff(backoff)
        .max_attempts(10)
}

fn now(clock: &ManualClock) -> Duration {
    clock.now().since_origin()
}

/// An error that may say how long to wait.
#[derive(Clone, Debug, PartialEq)]
enum Fault {
    /// Worth retrying, maybe after the server's wait.
    Busy(Option<Duration>),
    /// Not worth retrying.
    BadRequest,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fault::Busy(_) => "busy",
            Fault::BadRequest => "bad request",
        })
    }
}

fn busy_hint<T>(result: &Result<T, Fault>) -> Option<Duration> {
    match result {
        Err(Fault::Busy(hint)) => *hint,
        _ => None,
    }
}

/// An HTTP-style response that arrives as `Ok` even when it failed.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Response {
    status: u16,
    retry_after: Option<Duration>,
}

const fn status(status: u16) -> Response {
    Response {
        status,
        retry_after: None,
    }
}

fn by_status(result: &Result<Response, Fault>) -> Outcome {
    match result {
        Ok(r) if r.status >= 500 => Outcome::Failure,
        Ok(_) => Outcome::Success,
        Err(Fault::Busy(_)) => Outcome::Failure,
        Err(Fault::BadRequest) => Outcome::Ignored,
    }
}

// retry_if

#[test]
fn an_error_retry_if_rejects_is_returned_at_once() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1))).build().unwrap();
    let mut calls = 0;
    let err = clock
        .block_on(
            retry
                .call(async |_| {
                    calls += 1;
                    Err::<(), _>(Fault::BadRequest)
                })
                .retry_if(|e| matches!(e, Fault::Busy(_)))
                .run(&clock),
        )
        .unwrap_err();
    assert_eq!(calls, 1);
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(
        err.to_string(),
        "not retryable after 1 attempt: bad request"
    );
    assert_eq!(err.into_inner(), Fault::BadRequest);
    assert_eq!(now(&clock), Duration::ZERO);
}

#[test]
fn retry_if_retries_what_it_accepts_until_an_error_it_rejects() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1))).build().unwrap();
    let err = retry
        .call_blocking(|attempt| {
            Err::<(), _>(if attempt < 3 {
                Fault::Busy(None)
            } else {
                Fault::BadRequest
            })
        })
        .retry_if(|e| matches!(e, Fault::Busy(_)))
        .run(&clock)
        .unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(err.error(), &Fault::BadRequest);
    assert_eq!(now(&clock), secs(2));
}

#[test]
fn retry_if_returns_an_ok_at_once() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1))).build().unwrap();
    let answer = retry
        .call_blocking(|attempt| {
            if attempt == 1 {
                Err(Fault::Busy(None))
            } else {
                Ok(attempt)
            }
        })
        .retry_if(|_| true)
        .run(&clock);
    assert_eq!(answer, Ok(2));
}

// classify

#[test]
fn classify_retries_an_ok_value_it_calls_a_failure() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1))).build().unwrap();
    let mut responses = vec![status(200), status(503), status(502)];
    let answer = clock.block_on(
        retry
            .call(async |_| Ok(responses.pop().unwrap()))
            .classify(by_status)
            .run(&clock),
    );
    assert_eq!(answer, Ok(status(200)));
    assert!(responses.is_empty());
    assert_eq!(now(&clock), secs(2));
}

#[test]
fn classify_returns_the_last_ok_when_the_attempts_run_out() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1)))
        .max_attempts(3)
        .build()
        .unwrap();
    let mut calls = 0;
    let answer = retry
        .call_blocking(|attempt| {
            calls += 1;
            Ok(status(500 + u16::try_from(attempt).unwrap()))
        })
        .classify(by_status)
        .run(&clock);
    assert_eq!(answer, Ok(status(503)), "the last attempt's response");
    assert_eq!(calls, 3);
    assert_eq!(now(&clock), secs(2));
}

#[test]
fn classify_can_ignore_an_error_which_is_then_returned_at_once() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1))).build().unwrap();
    let err = clock
        .block_on(
            retry
                .call(async |attempt| {
                    if attempt == 1 {
                        Err(Fault::Busy(None))
                    } else {
                        Err(Fault::BadRequest)
                    }
                })
                .classify(by_status)
                .run(&clock),
        )
        .unwrap_err();
    assert_eq!(err.attempts(), 2);
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(err.into_inner(), Fault::BadRequest);
}

#[test]
fn an_error_classified_as_a_success_is_returned_at_once_as_not_retryable() {
    // A 404 the caller treats as an answer: no retry, and the error comes
    // back with the one reason that fits.
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1))).build().unwrap();
    let err = retry
        .call_blocking(|_| Err::<(), _>(404))
        .classify(|r| {
            if r == &Err(404) {
                Outcome::Success
            } else {
                Outcome::Failure
            }
        })
        .run(&clock)
        .unwrap_err();
    assert_eq!(
        (err.attempts(), err.reason()),
        (1, StopReason::NotRetryable)
    );
    assert_eq!(now(&clock), Duration::ZERO);
}

// Hints

#[test]
fn a_hint_is_a_floor_under_the_backoff_delay_without_jitter() {
    // The backoff would wait 1 s, 2 s, 4 s; the server asks for 7 s, then
    // says nothing, then asks for 300 ms — less than the backoff's 4 s.
    let clock = ManualClock::new();
    let retry = builder(&clock, exponential(secs(1), 2.0)).build().unwrap();
    let hints = [Some(secs(7)), None, Some(ms(300))];
    let mut starts = Vec::new();
    let answer = clock.block_on(
        retry
            .call(async |attempt| {
                starts.push(now(&clock));
                match hints.get(usize::try_from(attempt).unwrap() - 1) {
                    Some(&hint) => Err(Fault::Busy(hint)),
                    None => Ok(attempt),
                }
            })
            .hint(busy_hint)
            .run(&clock),
    );
    assert_eq!(answer, Ok(4));
    // 7 s (the hint), the backoff's 2 s, then max(300 ms, 4 s) = 4 s.
    assert_eq!(starts, [secs(0), secs(7), secs(9), secs(13)]);
}

#[test]
fn a_hint_gets_the_random_part_of_full_jitter_on_top() {
    // Full jitter draws from [0, nominal]: a hinted delay is in
    // [hint, hint + nominal], and spread within it.
    let clock = ManualClock::new();
    let backoff = Backoff::constant(secs(1))
        .jitter(Jitter::Full)
        .build()
        .unwrap();
    let retry = builder(&clock, backoff).max_attempts(60).build().unwrap();
    let hint = secs(3);
    let mut delays = Vec::new();
    let err = retry
        .call_blocking(|_| Err::<(), _>(Fault::Busy(Some(hint))))
        .hint(busy_hint)
        .on_retry(|info| delays.push(info.delay))
        .run(&clock)
        .unwrap_err();
    assert_eq!(err.attempts(), 60);
    assert_eq!(delays.len(), 59);
    for delay in &delays {
        assert!(
            (hint..=hint + secs(1)).contains(delay),
            "{delay:?} outside [3s, 4s]"
        );
    }
    let spread = delays
        .iter()
        .max()
        .unwrap()
        .saturating_sub(*delays.iter().min().unwrap());
    assert!(spread > ms(100), "no spread among {delays:?}");
    assert_eq!(now(&clock), delays.iter().sum());
}

#[test]
fn a_hint_gets_the_random_part_of_equal_jitter_on_top() {
    // Equal jitter draws from [nominal/2, nominal]: a hinted delay is in
    // [hint, hint + nominal/2].
    let clock = ManualClock::new();
    let backoff = Backoff::constant(secs(2))
        .jitter(Jitter::Equal)
        .build()
        .unwrap();
    let retry = builder(&clock, backoff).max_attempts(40).build().unwrap();
    let hint = secs(5);
    let mut delays = Vec::new();
    let _ = retry
        .call_blocking(|_| Err::<(), _>(Fault::Busy(Some(hint))))
        .hint(busy_hint)
        .on_retry(|info| delays.push(info.delay))
        .run(&clock);
    assert_eq!(delays.len(), 39);
    assert!(
        delays.iter().all(|d| (hint..=hint + secs(1)).contains(d)),
        "{delays:?}"
    );
    assert!(
        delays.iter().any(|d| *d > hint),
        "no jitter on top: {delays:?}"
    );
}

#[test]
fn a_zero_hint_counts_as_no_hint() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1)))
        .max_attempts(3)
        .build()
        .unwrap();
    let mut delays = Vec::new();
    let _ = retry
        .call_blocking(|_| Err::<(), _>(Fault::Busy(Some(Duration::ZERO))))
        .hint(busy_hint)
        .on_retry(|info| delays.push(info.delay))
        .run(&clock);
    assert_eq!(delays, [secs(1), secs(1)]);
    assert_eq!(now(&clock), secs(2));
}

#[test]
fn a_hint_is_cut_to_max_hint() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1)))
        .max_attempts(2)
        .max_hint(secs(10))
        .build()
        .unwrap();
    let mut delays = Vec::new();
    let _ = retry
        .call_blocking(|_| Err::<(), _>(Fault::Busy(Some(secs(3600)))))
        .hint(busy_hint)
        .on_retry(|info| delays.push(info.delay))
        .run(&clock);
    assert_eq!(delays, [secs(10)]);
    assert_eq!(now(&clock), secs(10));
}

#[test]
fn a_hint_with_jitter_on_top_is_still_cut_to_max_hint() {
    // Hint 9.5 s plus up to 1 s of full jitter, cut to the 10 s ceiling.
    let clock = ManualClock::new();
    let backoff = Backoff::constant(secs(1))
        .jitter(Jitter::Full)
        .build()
        .unwrap();
    let retry = builder(&clock, backoff)
        .max_attempts(40)
        .max_hint(secs(10))
        .build()
        .unwrap();
    let mut delays = Vec::new();
    let _ = retry
        .call_blocking(|_| Err::<(), _>(Fault::Busy(Some(ms(9_500)))))
        .hint(busy_hint)
        .on_retry(|info| delays.push(info.delay))
        .run(&clock);
    assert!(
        delays.iter().all(|d| (ms(9_500)..=secs(10)).contains(d)),
        "{delays:?}"
    );
    assert!(
        delays.iter().any(|d| *d < secs(10)),
        "spread below the cut: {delays:?}"
    );
    assert!(
        delays.iter().any(|d| *d == secs(10)),
        "and cut at it: {delays:?}"
    );
}

#[test]
fn the_default_hint_ceiling_is_a_minute() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1)))
        .max_attempts(2)
        .build()
        .unwrap();
    let err = clock
        .block_on(
            retry
                .call(async |_| Err::<(), _>(Fault::Busy(Some(secs(3600)))))
                .hint(busy_hint)
                .run(&clock),
        )
        .unwrap_err();
    assert_eq!(err.elapsed(), secs(60));
}

#[test]
fn a_hint_past_the_deadline_stops_retrying() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1)))
        .max_elapsed(secs(5))
        .build()
        .unwrap();
    let mut calls = 0;
    let err = clock
        .block_on(
            retry
                .call(async |_| {
                    calls += 1;
                    Err::<(), _>(Fault::Busy(Some(secs(6))))
                })
                .hint(busy_hint)
                .run(&clock),
        )
        .unwrap_err();
    assert_eq!(calls, 1);
    assert_eq!(err.reason(), StopReason::Deadline);
    assert_eq!(err.attempts(), 1);
    assert_eq!(now(&clock), Duration::ZERO, "it did not wait");
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn a_hint_that_ends_exactly_at_the_deadline_is_honoured() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1)))
        .max_elapsed(secs(5))
        .build()
        .unwrap();
    let answer = retry
        .call_blocking(|attempt| {
            if attempt == 1 {
                Err(Fault::Busy(Some(secs(5))))
            } else {
                Ok(attempt)
            }
        })
        .hint(busy_hint)
        .run(&clock);
    assert_eq!(answer, Ok(2));
    assert_eq!(now(&clock), secs(5));
}

#[test]
fn a_hint_can_come_from_an_ok_response_classified_as_a_failure() {
    // A 503 with `Retry-After: 4`, then a 200.
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1))).build().unwrap();
    let answer = clock.block_on(
        retry
            .call(async |attempt| {
                Ok(if attempt == 1 {
                    Response {
                        status: 503,
                        retry_after: Some(secs(4)),
                    }
                } else {
                    status(200)
                })
            })
            .classify(by_status)
            .hint(|result| result.as_ref().ok().and_then(|r| r.retry_after))
            .run(&clock),
    );
    assert_eq!(answer, Ok(status(200)));
    assert_eq!(now(&clock), secs(4));
}

// on_retry

#[test]
fn on_retry_sees_each_retry_with_its_attempt_result_delay_and_elapsed_time() {
    // Each attempt takes 500 ms; the deadline makes the clock start with
    // the first attempt.
    let clock = ManualClock::new();
    let retry = builder(&clock, exponential(secs(1), 2.0))
        .max_elapsed(secs(3600))
        .build()
        .unwrap();
    let mut seen = Vec::new();
    let answer = clock.block_on(
        retry
            .call(async |attempt| {
                clock.advance(ms(500));
                if attempt < 3 {
                    Err(format!("failure {attempt}"))
                } else {
                    Ok(attempt)
                }
            })
            .on_retry(|info| {
                seen.push((
                    info.attempt,
                    info.error().cloned(),
                    info.delay,
                    info.elapsed,
                ));
                assert!(info.result.is_err());
            })
            .run(&clock),
    );
    assert_eq!(answer, Ok(3));
    assert_eq!(
        seen,
        [
            (1, Some("failure 1".to_owned()), secs(1), ms(500)),
            (2, Some("failure 2".to_owned()), secs(2), ms(2_000)),
        ],
        "not called after the success"
    );
}

#[test]
fn on_retry_is_not_called_after_the_last_attempt() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1)))
        .max_attempts(3)
        .build()
        .unwrap();
    let mut attempts = Vec::new();
    let _ = retry
        .call_blocking(|_| Err::<(), _>(()))
        .on_retry(|info| attempts.push(info.attempt))
        .run(&clock);
    assert_eq!(attempts, [1, 2]);
}

#[test]
fn on_retry_sees_an_ok_result_classified_as_a_failure() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1)))
        .max_attempts(2)
        .build()
        .unwrap();
    let mut seen = Vec::new();
    let _ = retry
        .call_blocking(|_| Ok(status(503)))
        .classify(by_status)
        .on_retry(|info| seen.push((info.result.clone(), info.error().is_none())))
        .run(&clock);
    assert_eq!(seen, [(Ok(status(503)), true)]);
}

#[test]
fn on_retry_sees_the_hinted_delay() {
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1)))
        .max_attempts(2)
        .build()
        .unwrap();
    let mut delays = Vec::new();
    let _ = clock.block_on(
        retry
            .call(async |_| Err::<(), _>(Fault::Busy(Some(secs(42)))))
            .hint(busy_hint)
            .on_retry(|info| delays.push(info.delay))
            .run(&clock),
    );
    assert_eq!(delays, [secs(42)]);
    assert_eq!(now(&clock), secs(42));
}

#[test]
fn all_options_together_in_either_order() {
    // Options may be given in any order; each replaces one type parameter.
    let clock = ManualClock::new();
    let retry = builder(&clock, constant(secs(1))).build().unwrap();
    let mut hooks = 0;
    let answer = retry
        .call_blocking(|attempt| {
            if attempt < 3 {
                Err(Fault::Busy(Some(secs(2))))
            } else {
                Ok(attempt)
            }
        })
        .on_retry(|_| hooks += 1)
        .hint(busy_hint)
        .retry_if(|e| matches!(e, Fault::Busy(_)))
        .run(&clock);
    assert_eq!(answer, Ok(3));
    assert_eq!(hooks, 2);
    assert_eq!(now(&clock), secs(4));
}
