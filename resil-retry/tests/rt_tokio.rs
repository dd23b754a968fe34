//! The retry policy on tokio, waiting on `tokio::time::sleep` in tokio's
//! paused time: the waits take exactly the sum of the delays, a deadline on
//! a clock that reads tokio's time works as on the manual clock, hints are
//! honoured, and the call's future is `Send` so it can be spawned.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resil_core::{Backoff, StopReason};
use resil_retry::Retry;

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

use resil_testkit::TokioClock;

fn assert_send<T: Send>(_: &T) {}

fn exponential(base: Duration, factor: f64) -> Backoff {
    Backoff::exponential(base, factor).build().unwrap()
}

#[tokio::test(start_paused = true)]
async fn waits_take_exactly_the_sum_of_the_delays() {
    let retry = Retry::builder()
        .clock(TokioClock::new())
        .backoff(exponential(ms(100), 2.0))
        .max_attempts(5)
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let mut starts = Vec::new();
    let answer = retry
        .run(&tokio::time::sleep, async |attempt| {
            starts.push(start.elapsed());
            if attempt < 4 {
                Err("busy")
            } else {
                Ok(attempt)
            }
        })
        .await;
    assert_eq!(answer, Ok(4));
    assert_eq!(starts, [0, 100, 300, 700].map(ms));
    assert_eq!(start.elapsed(), ms(100 + 200 + 400));
}

#[tokio::test(start_paused = true)]
async fn running_out_of_attempts_reports_the_virtual_time_spent() {
    let retry = Retry::builder()
        .clock(TokioClock::new())
        .backoff(exponential(secs(1), 3.0))
        .max_attempts(4)
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let err = retry
        .run(&tokio::time::sleep, async |_| Err::<(), _>("refused"))
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.reason(), StopReason::AttemptsExhausted);
    assert_eq!(err.elapsed(), secs(1 + 3 + 9));
    assert_eq!(start.elapsed(), secs(1 + 3 + 9));
}

#[tokio::test(start_paused = true)]
async fn a_deadline_counts_time_inside_the_operation_on_tokio_time() {
    // Attempts of 3 s with 1 s waits and a 10 s deadline: 0–3, 4–7, 8–11 s.
    let retry = Retry::builder()
        .clock(TokioClock::new())
        .backoff(Backoff::constant(secs(1)).build().unwrap())
        .max_attempts(100)
        .max_elapsed(secs(10))
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let mut starts = Vec::new();
    let err = retry
        .run(&tokio::time::sleep, async |_| {
            starts.push(start.elapsed());
            tokio::time::sleep(secs(3)).await;
            Err::<(), _>("slow")
        })
        .await
        .unwrap_err();
    assert_eq!(starts, [0, 4, 8].map(secs));
    assert_eq!(err.reason(), StopReason::Deadline);
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.elapsed(), secs(11));
    assert_eq!(start.elapsed(), secs(11));
}

#[tokio::test(start_paused = true)]
async fn a_server_hint_sets_the_wait() {
    let retry = Retry::builder()
        .clock(TokioClock::new())
        .backoff(Backoff::constant(secs(1)).build().unwrap())
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let answer = retry
        .call(async |attempt| {
            if attempt == 1 {
                Err(Some(secs(30)))
            } else {
                Ok(attempt)
            }
        })
        .hint(|result| result.as_ref().err().copied().flatten())
        .run(&tokio::time::sleep)
        .await;
    assert_eq!(answer, Ok(2));
    assert_eq!(start.elapsed(), secs(30));
}

#[tokio::test(start_paused = true)]
async fn the_call_is_send_and_can_be_spawned() {
    // rustc cannot yet prove an `AsyncFnMut` call's future `Send` when the
    // closure borrows what it captured (rust-lang/rust#139475, a case of
    // #110338), so the closures here capture by `move`.
    let retry = Retry::builder()
        .clock(TokioClock::new())
        .backoff(Backoff::constant(ms(250)).build().unwrap())
        .max_attempts(3)
        .build()
        .unwrap();
    let calls = Arc::new(AtomicU32::new(0));

    let counter = Arc::clone(&calls);
    let call = retry.run(&tokio::time::sleep, async move |attempt| {
        counter.fetch_add(1, Ordering::SeqCst);
        if attempt < 3 {
            Err("busy")
        } else {
            Ok(attempt)
        }
    });
    assert_send(&call);
    assert_eq!(call.await, Ok(3));

    // A spawned task owns its policy; the call runs on another task.
    let counter = Arc::clone(&calls);
    let start = tokio::time::Instant::now();
    let task = tokio::spawn(async move {
        retry
            .run(&tokio::time::sleep, async move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>("refused")
            })
            .await
    });
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert_eq!(calls.load(Ordering::SeqCst), 6);
    assert_eq!(start.elapsed(), ms(500));
}

#[tokio::test(start_paused = true)]
async fn a_closure_returning_an_async_block_is_send_too() {
    // The other way around the borrow: a plain `move` closure that clones
    // what it needs into an `async move` block, with the policy in an `Arc`.
    let retry = Arc::new(
        Retry::builder()
            .clock(TokioClock::new())
            .backoff(Backoff::constant(secs(1)).build().unwrap())
            .max_attempts(4)
            .build()
            .unwrap(),
    );
    let calls = Arc::new(AtomicU32::new(0));
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let retry = Arc::clone(&retry);
            let calls = Arc::clone(&calls);
            tokio::spawn(async move {
                retry
                    .run(&tokio::time::sleep, move |attempt: u32| {
                        let calls = Arc::clone(&calls);
                        async move {
                            calls.fetch_add(1, Ordering::SeqCst);
                            if attempt < 4 {
                                Err(attempt)
                            } else {
                                Ok(attempt)
                            }
                        }
                    })
                    .await
            })
        })
        .collect();
    let start = tokio::time::Instant::now();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(4));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 12);
    assert_eq!(
        start.elapsed(),
        secs(3),
        "the three calls waited side by side"
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_call_mid_wait_stops_it() {
    // A call raced against a shorter timeout is cancelled in its wait; no
    // further attempt is made afterwards.
    let retry = Retry::builder()
        .clock(TokioClock::new())
        .backoff(Backoff::constant(secs(10)).build().unwrap())
        .max_attempts(5)
        .build()
        .unwrap();
    let calls = AtomicU32::new(0);
    let start = tokio::time::Instant::now();
    let outcome = tokio::time::timeout(
        secs(15),
        retry.run(&tokio::time::sleep, async |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(())
        }),
    )
    .await;
    assert!(outcome.is_err(), "the timeout won");
    assert_eq!(start.elapsed(), secs(15));
    tokio::time::sleep(secs(60)).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "attempts at 0 and 10 s only"
    );
}

/// Hedging on tokio's paused clock: the first attempt stalls, the hedge
/// sent after the delay answers, and the stalled attempt is cancelled.
#[tokio::test(start_paused = true)]
async fn a_hedge_on_tokio_answers_for_a_stalled_attempt() {
    use resil_retry::{Hedge, HedgeDelay};
    let hedge = Hedge::builder()
        .delay(HedgeDelay::Fixed(Duration::from_millis(50)))
        .clock(TokioClock::new())
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let answer = hedge
        .run(&tokio::time::sleep, |attempt| async move {
            if attempt == 1 {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            } else {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Ok::<_, ()>(attempt)
        })
        .await;
    assert_eq!(answer, Ok(2));
    assert_eq!(started.elapsed(), Duration::from_millis(60));
}
