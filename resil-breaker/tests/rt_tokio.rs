//! The breaker on tokio in paused time: `call_async` around operations that
//! `tokio::time::sleep`, slow-call detection and the open wait measured on a
//! clock that reads tokio's time, half-open trials racing as tasks, and a
//! cancelled call (a timeout dropping its future) freeing its trial slot.

use std::time::Duration;

use resil_breaker::{CallError, CircuitBreaker, SlidingWindow};
use resil_core::{CircuitState, Outcome};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

use resil_testkit::TokioClock;

fn assert_send<T: Send>(_: &T) {}

/// A breaker on tokio's time that opens at its first failure.
fn tripping(wait: Duration, permits: u32) -> CircuitBreaker<TokioClock> {
    CircuitBreaker::builder()
        .clock(TokioClock::new())
        .consecutive_failures(1)
        .wait(wait)
        .half_open_permits(permits)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn call_async_runs_an_operation_that_sleeps() {
    let breaker = tripping(secs(30), 1);
    let start = tokio::time::Instant::now();
    let answer = breaker
        .call_async(|| async {
            tokio::time::sleep(ms(250)).await;
            Ok::<_, &str>(42)
        })
        .await;
    assert_eq!(answer, Ok(42));
    assert_eq!(start.elapsed(), ms(250));
    assert_eq!(breaker.metrics().calls, 1);
    let err = breaker
        .call_async(|| async {
            tokio::time::sleep(ms(250)).await;
            Err::<(), _>("timeout")
        })
        .await
        .unwrap_err();
    assert_eq!(err, CallError::Failed("timeout"));
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn slow_calls_are_measured_on_tokio_time() {
    let breaker = CircuitBreaker::builder()
        .clock(TokioClock::new())
        .window(SlidingWindow::count(2))
        .minimum_calls(2)
        .failure_rate(1.0)
        .slow_calls(1.0, secs(1))
        .build()
        .unwrap();
    let taking = |d: Duration| async move {
        tokio::time::sleep(d).await;
        Ok::<_, ()>(())
    };
    for _ in 0..4 {
        breaker.call_async(|| taking(secs(1))).await.unwrap();
    }
    assert_eq!(
        breaker.metrics().slow_calls,
        0,
        "exactly the limit is not slow"
    );
    breaker.call_async(|| taking(ms(1001))).await.unwrap();
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "one slow call of two"
    );
    breaker.call_async(|| taking(ms(1500))).await.unwrap();
    assert_eq!(breaker.state(), CircuitState::Open, "two slow calls of two");
}

#[tokio::test(start_paused = true)]
async fn the_open_wait_passes_in_tokio_time() {
    let breaker = tripping(secs(30), 1);
    let _ = breaker.call_async(|| async { Err::<(), _>(()) }).await;
    tokio::time::sleep(secs(29)).await;
    match breaker.call_async(|| async { Ok::<_, ()>(()) }).await {
        Err(CallError::Rejected(r)) => assert_eq!(r.retry_after(), Some(secs(1))),
        other => panic!("expected a rejection, got {other:?}"),
    }
    tokio::time::sleep(secs(1)).await;
    assert_eq!(breaker.call_async(|| async { Ok::<_, ()>(7) }).await, Ok(7));
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn half_open_admits_its_permits_to_racing_tasks() {
    let breaker = tripping(secs(1), 2);
    breaker.open_for(Duration::ZERO);
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let breaker = breaker.clone();
            tokio::spawn(async move {
                breaker
                    .call_async(|| async {
                        tokio::time::sleep(secs(1)).await;
                        Ok::<_, ()>(())
                    })
                    .await
            })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => admitted += 1,
            Err(CallError::Rejected(r)) => assert_eq!(r.state(), CircuitState::HalfOpen),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(admitted, 2);
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_call_cancelled_by_a_timeout_frees_its_trial_slot() {
    let breaker = tripping(secs(1), 1);
    breaker.open_for(Duration::ZERO);
    let start = tokio::time::Instant::now();
    let outcome = tokio::time::timeout(
        secs(2),
        breaker.call_async(|| async {
            tokio::time::sleep(secs(3600)).await;
            Ok::<_, ()>(())
        }),
    )
    .await;
    assert!(outcome.is_err(), "the timeout won");
    assert_eq!(start.elapsed(), secs(2));
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    assert_eq!(breaker.call_async(|| async { Ok::<_, ()>(1) }).await, Ok(1));
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "the second trial decided"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_closed_call_is_not_recorded() {
    let breaker = tripping(secs(1), 1);
    let outcome = tokio::time::timeout(
        ms(10),
        breaker.call_async(|| async {
            tokio::time::sleep(secs(1)).await;
            Err::<(), _>("would have opened it")
        }),
    )
    .await;
    assert!(outcome.is_err());
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.metrics().calls, 0);
}

#[tokio::test(start_paused = true)]
async fn call_async_is_send_and_can_be_spawned() {
    let breaker = tripping(secs(1), 1);
    let call = breaker.call_async(|| async { Ok::<_, ()>(1) });
    assert_send(&call);
    assert_eq!(call.await, Ok(1));
    let spawned = breaker.clone();
    let task = tokio::spawn(async move {
        spawned
            .call_async_with(
                &|r: &Result<u16, ()>| match r {
                    Ok(503) | Err(_) => Outcome::Failure,
                    Ok(_) => Outcome::Success,
                },
                || async {
                    tokio::time::sleep(ms(5)).await;
                    Ok(503)
                },
            )
            .await
    });
    assert_eq!(task.await.unwrap(), Ok(503));
    assert_eq!(
        breaker.state(),
        CircuitState::Open,
        "a 503 classified as a failure"
    );
}
