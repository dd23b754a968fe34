//! The pipeline's documented semantics, each pinned on a virtual clock: the
//! order of the stages, what the breaker counts, what is (and is not)
//! retried, what the timeouts cover, and that nothing leaks.

use core::time::Duration;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use resil::breaker::CircuitBreaker;
use resil::core::{Backoff, Clock, ManualClock, Outcome, Sleeper, StopReason};
use resil::pipeline::{
    BreakerStage, Cause, Off, Pipeline, PipelineBuilder, PipelineError, RetryStage, ShedStage,
    Stage,
};
use resil::retry::Retry;
use resil::shed::{ConcurrencyLimit, Fixed, Priority};
use resil_core::CircuitState;

type Limiter = ConcurrencyLimit<Fixed, ManualClock>;
type Breaker = CircuitBreaker<ManualClock>;

/// Every stage on: a limit of `limit`, `attempts` attempts 100ms apart, a
/// breaker opening for 1s after 2 failures in a row (one trial call
/// closes it again).
fn stack(
    clock: &ManualClock,
    limit: u32,
    attempts: u32,
) -> (
    PipelineBuilder<Limiter, Retry<ManualClock>, Breaker>,
    Limiter,
    Breaker,
) {
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(limit).unwrap())
        .clock(clock.clone())
        .build()
        .unwrap();
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(2)
        .wait(Duration::from_secs(1))
        .half_open_permits(1)
        .clock(clock.clone())
        .build()
        .unwrap();
    let retry = Retry::builder()
        .backoff(
            Backoff::constant(Duration::from_millis(100))
                .build()
                .unwrap(),
        )
        .max_attempts(attempts)
        .clock(clock.clone())
        .build()
        .unwrap();
    let builder = Pipeline::builder()
        .shed(limiter.clone())
        .retry(retry)
        .breaker(breaker.clone());
    (builder, limiter, breaker)
}

/// Runs one call that answers `answer` on every attempt; returns how many
/// attempts ran and the call's result.
fn run_counting<S, R, K, E: Clone>(
    pipeline: &Pipeline<S, R, K>,
    clock: &ManualClock,
    answer: Result<(), E>,
) -> (u32, Result<(), PipelineError<E>>)
where
    S: ShedStage,
    R: RetryStage,
    K: BreakerStage,
{
    let calls = Cell::new(0);
    let result = clock.block_on(
        pipeline
            .call(async |_| {
                calls.set(calls.get() + 1);
                answer.clone()
            })
            .run(clock),
    );
    (calls.get(), result)
}

fn elapsed(clock: &ManualClock) -> Duration {
    clock.now().since_origin()
}

#[test]
fn breaker_counts_each_attempt_and_its_rejection_ends_the_call() {
    let clock = ManualClock::new();
    let (builder, limiter, breaker) = stack(&clock, 10, 5);
    let pipeline = builder.build().unwrap();
    let (calls, result) = run_counting(&pipeline, &clock, Err("down"));
    let err = result.unwrap_err();
    // Two failed attempts opened the breaker; the third was refused and not
    // retried, though the policy allowed five.
    assert_eq!(calls, 2);
    assert_eq!(err.stage(), Stage::Breaker);
    assert!(matches!(err.cause(), Cause::Rejected(r) if r.state() == CircuitState::Open));
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.stop_reason(), Some(StopReason::NotRetryable));
    assert_eq!(err.inner(), None);
    assert_eq!(breaker.state(), CircuitState::Open);
    assert_eq!(elapsed(&clock), Duration::from_millis(200));
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn a_rejection_is_retried_after_the_breakers_retry_after_when_asked() {
    let clock = ManualClock::new();
    let (builder, _limiter, breaker) = stack(&clock, 10, 5);
    let pipeline = builder.retry_rejected(true).build().unwrap();
    let calls = Cell::new(0);
    let at = std::cell::RefCell::new(Vec::new());
    let answer = clock.block_on(
        pipeline
            .call(async |_| {
                calls.set(calls.get() + 1);
                at.borrow_mut().push(elapsed(&clock));
                if calls.get() <= 2 {
                    Err("down")
                } else {
                    Ok("up")
                }
            })
            .run(&clock),
    );
    assert_eq!(answer, Ok("up"));
    // Failures at 0 and 100ms open the breaker until 1.1s; the rejection
    // at 200ms waits out the remaining 900ms, not the 100ms backoff.
    assert_eq!(
        *at.borrow(),
        [
            Duration::ZERO,
            Duration::from_millis(100),
            Duration::from_millis(1100)
        ]
    );
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_rejection_without_a_known_retry_after_is_never_retried() {
    let clock = ManualClock::new();
    let (builder, _limiter, breaker) = stack(&clock, 10, 5);
    let pipeline = builder.retry_rejected(true).build().unwrap();
    breaker.force_open();
    let (calls, result) = run_counting(&pipeline, &clock, Ok::<_, ()>(()));
    let err = result.unwrap_err();
    assert_eq!(calls, 0);
    assert_eq!(err.attempts(), 1);
    assert!(matches!(err.cause(), Cause::Rejected(r) if r.state() == CircuitState::ForcedOpen));
    assert_eq!(elapsed(&clock), Duration::ZERO);
}

#[test]
fn a_shed_call_never_runs_and_is_never_retried() {
    let clock = ManualClock::new();
    let (builder, limiter, breaker) = stack(&clock, 1, 5);
    let pipeline = builder.build().unwrap();
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    let calls = Cell::new(0);
    let err = clock
        .block_on(
            pipeline
                .call(async |_| {
                    calls.set(calls.get() + 1);
                    Ok::<_, ()>(())
                })
                .priority(Priority::Sheddable)
                .run(&clock),
        )
        .unwrap_err();
    assert_eq!(calls.get(), 0);
    assert_eq!(err.stage(), Stage::Shed);
    assert!(matches!(err.cause(), Cause::Shed(shed) if shed.priority() == Priority::Sheddable));
    assert_eq!((err.attempts(), err.stop_reason()), (0, None));
    assert_eq!(breaker.metrics().calls, 0);
    drop(held);
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn the_total_timeout_covers_attempts_and_backoff_sleeps() {
    let clock = ManualClock::new();
    let (builder, limiter, _breaker) = stack(&clock, 10, 100);
    let pipeline = builder
        .breaker(Off)
        .total_timeout(Duration::from_millis(250))
        .build()
        .unwrap();
    let err = clock
        .block_on(pipeline.call(async |_| Err::<(), _>("down")).run(&clock))
        .unwrap_err();
    // Attempts at 0, 100 and 200ms; the deadline falls in the third sleep.
    assert_eq!(err.stage(), Stage::TotalTimeout);
    assert_eq!(
        *err.cause(),
        Cause::TotalTimeout(Duration::from_millis(250))
    );
    assert_eq!((err.attempts(), err.stop_reason()), (3, None));
    assert_eq!(elapsed(&clock), Duration::from_millis(250));
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn an_attempt_timeout_is_a_failure_for_the_breaker_and_is_retried() {
    let clock = ManualClock::new();
    let (builder, _limiter, breaker) = stack(&clock, 10, 3);
    let pipeline = builder
        .attempt_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let answer = clock.block_on(
        pipeline
            .call(async |attempt| {
                if attempt == 1 {
                    clock.sleep(Duration::from_secs(60)).await; // hangs
                }
                Ok::<_, ()>(attempt)
            })
            .run(&clock),
    );
    assert_eq!(answer, Ok(2));
    assert_eq!(elapsed(&clock), Duration::from_millis(1100));
    let metrics = breaker.metrics();
    assert_eq!((metrics.calls, metrics.failures), (2, 1));
}

#[test]
fn the_last_attempt_timing_out_says_so() {
    let clock = ManualClock::new();
    let (builder, _limiter, _breaker) = stack(&clock, 10, 2);
    let pipeline = builder
        .attempt_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let err = clock
        .block_on(
            pipeline
                .call(async |_| {
                    clock.sleep(Duration::from_secs(60)).await;
                    Ok::<_, &str>(())
                })
                .run(&clock),
        )
        .unwrap_err();
    assert_eq!(*err.cause(), Cause::AttemptTimeout(Duration::from_secs(1)));
    assert_eq!(err.stop_reason(), Some(StopReason::AttemptsExhausted));
    assert_eq!(
        err.to_string(),
        "attempt timed out after 1s (after 2 attempts, attempts exhausted)"
    );
}

#[test]
fn one_classifier_serves_all_three_and_the_hint_sets_the_floor() {
    let clock = ManualClock::new();
    let (builder, limiter, breaker) = stack(&clock, 10, 3);
    let pipeline = builder.build().unwrap();
    let answer = clock.block_on(
        pipeline
            .call(async |attempt| Ok::<u16, ()>(if attempt == 1 { 503 } else { 200 }))
            .classify(|r| match r {
                Ok(503) | Err(_) => Outcome::Failure,
                Ok(_) => Outcome::Success,
            })
            .hint(|r| (*r == Ok(503)).then_some(Duration::from_secs(3)))
            .run(&clock),
    );
    assert_eq!(answer, Ok(200));
    assert_eq!(elapsed(&clock), Duration::from_secs(3)); // not the 100ms backoff
    let metrics = breaker.metrics();
    assert_eq!((metrics.calls, metrics.failures), (2, 1));
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn the_operations_error_is_reachable_without_downcasting() {
    #[derive(Debug, PartialEq, thiserror::Error)]
    #[error("no such user {0}")]
    struct NotFound(u32);

    let clock = ManualClock::new();
    let (builder, _limiter, _breaker) = stack(&clock, 10, 1);
    let pipeline = builder.build().unwrap();
    let err = clock
        .block_on(
            pipeline
                .call(async |_| Err::<(), _>(NotFound(7)))
                .run(&clock),
        )
        .unwrap_err();
    assert_eq!(err.stage(), Stage::Operation);
    assert_eq!(err.inner(), Some(&NotFound(7)));
    assert_eq!(
        err.to_string(),
        "no such user 7 (after 1 attempt, attempts exhausted)"
    );
    assert!(std::error::Error::source(&err).is_none());
    assert_eq!(err.into_inner(), Some(NotFound(7)));
}

#[test]
fn a_pipeline_without_stages_runs_the_operation_once() {
    let clock = ManualClock::new();
    let pipeline = Pipeline::builder().build().unwrap();
    let (calls, result) = run_counting(&pipeline, &clock, Err("down"));
    let err = result.unwrap_err();
    assert_eq!(calls, 1);
    assert_eq!((err.attempts(), err.stop_reason()), (1, None));
    assert_eq!(err.to_string(), "down (after 1 attempt)");
}

#[test]
fn a_cancelled_call_returns_its_permits() {
    let clock = ManualClock::new();
    let (builder, limiter, breaker) = stack(&clock, 1, 3);
    let pipeline = builder.build().unwrap();
    breaker.force_open();
    breaker.reset();
    {
        let call = pipeline
            .call(async |_| {
                clock.sleep(Duration::from_secs(60)).await;
                Ok::<_, ()>(())
            })
            .run(&clock);
        let mut call = std::pin::pin!(call);
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        assert!(call.as_mut().poll(&mut cx).is_pending());
        assert_eq!(limiter.in_flight(), 1);
    }
    assert_eq!(limiter.in_flight(), 0);
    // The breaker's permit was dropped unrecorded: ignored, not a failure.
    assert_eq!(breaker.metrics().calls, 0);
}

#[test]
fn a_panicking_operation_returns_its_permits() {
    let clock = ManualClock::new();
    let (builder, limiter, breaker) = stack(&clock, 1, 3);
    let pipeline = builder.build().unwrap();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        clock.block_on(
            pipeline
                .call(async |_| -> Result<(), ()> { panic!("bug in the operation") })
                .run(&clock),
        )
    }));
    assert!(outcome.is_err());
    assert_eq!(limiter.in_flight(), 0);
    assert_eq!(breaker.metrics().failures, 0);
    // The pipeline still works.
    assert_eq!(
        clock.block_on(pipeline.call(async |_| Ok::<_, ()>(1)).run(&clock)),
        Ok(1)
    );
}

#[test]
fn zero_timeouts_are_config_errors() {
    let err = Pipeline::builder()
        .total_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("total_timeout"), "{err}");
    let err = Pipeline::builder()
        .attempt_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("attempt_timeout"), "{err}");
}

#[test]
fn stages_chosen_at_run_time_are_options() {
    let clock = ManualClock::new();
    let (_, limiter, breaker) = stack(&clock, 1, 3);
    let retry = Retry::builder()
        .backoff(
            Backoff::constant(Duration::from_millis(100))
                .build()
                .unwrap(),
        )
        .max_attempts(3)
        .clock(clock.clone())
        .build()
        .unwrap();
    let some = Pipeline::builder()
        .shed(Some(limiter.clone()))
        .retry(Some(retry))
        .breaker(Some(breaker.clone()))
        .build()
        .unwrap();
    let err = clock
        .block_on(some.call(async |_| Err::<(), _>("down")).run(&clock))
        .unwrap_err();
    // Every stage is there: two failures open the breaker, which refuses
    // the third attempt.
    assert_eq!((err.attempts(), err.stage()), (3, Stage::Breaker));
    let none: Pipeline<Option<Limiter>, Option<Retry<ManualClock>>, Option<Breaker>> =
        Pipeline::builder()
            .shed(None)
            .retry(None)
            .breaker(None)
            .build()
            .unwrap();
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    let err = clock
        .block_on(none.call(async |_| Err::<(), _>("down")).run(&clock))
        .unwrap_err();
    assert_eq!((err.attempts(), err.stop_reason()), (1, None)); // no shed, no retry
    drop(held);
}

#[test]
fn a_seed_fixes_the_jitter_of_a_calls_delays() {
    let waited = |seed| {
        let clock = ManualClock::new();
        let retry = Retry::builder()
            .backoff(
                Backoff::exponential(Duration::from_millis(100), 2.0)
                    .jitter(resil::core::Jitter::Full)
                    .build()
                    .unwrap(),
            )
            .max_attempts(5)
            .clock(clock.clone())
            .build()
            .unwrap();
        let pipeline = Pipeline::builder().retry(retry).build().unwrap();
        let call = pipeline
            .call(async |_| Err::<(), _>("down"))
            .seed(seed)
            .run(&clock);
        let _ = clock.block_on(call);
        elapsed(&clock)
    };
    assert_eq!(waited(1), waited(1));
    assert_ne!(waited(1), waited(2));
}

#[test]
fn a_breaker_wait_longer_than_max_hint_is_still_waited_out() {
    // Found in review: the breaker's retry_after went through the hint
    // path, whose max_hint (60s by default) cut a 120s wait in half, so the
    // retry was rejected again.
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(2)
        .wait(Duration::from_secs(120))
        .half_open_permits(1)
        .clock(clock.clone())
        .build()
        .unwrap();
    let retry = Retry::builder()
        .backoff(
            Backoff::constant(Duration::from_millis(100))
                .build()
                .unwrap(),
        )
        .max_attempts(4)
        .clock(clock.clone())
        .build()
        .unwrap();
    let pipeline = Pipeline::builder()
        .retry(retry)
        .breaker(breaker.clone())
        .retry_rejected(true)
        .build()
        .unwrap();
    let calls = Cell::new(0);
    let answer = clock.block_on(
        pipeline
            .call(async |_| {
                calls.set(calls.get() + 1);
                if calls.get() <= 2 {
                    Err("down")
                } else {
                    Ok("up")
                }
            })
            .run(&clock),
    );
    assert_eq!(answer, Ok("up"));
    assert_eq!(elapsed(&clock), Duration::from_millis(120_100));
    assert_eq!(breaker.metrics().rejected, 1);
}
