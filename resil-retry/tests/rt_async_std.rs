//! The retry policy on async-std, waiting on `async_std::task::sleep`.
//! async-std has no paused clock, so every backoff here is zero and nothing
//! waits for real; the policy's clock is a `ManualClock` that nothing moves.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resil_core::{Backoff, ManualClock, StopReason};
use resil_retry::Retry;

/// A policy that retries at once, `attempts` times in all.
fn policy(attempts: u32) -> Retry<ManualClock> {
    Retry::builder()
        .clock(ManualClock::new())
        .backoff(Backoff::constant(Duration::ZERO).build().unwrap())
        .max_attempts(attempts)
        .build()
        .unwrap()
}

#[test]
fn a_late_success_is_returned() {
    let retry = policy(5);
    let mut seen = Vec::new();
    let answer = async_std::task::block_on(retry.run(&async_std::task::sleep, async |attempt| {
        seen.push(attempt);
        if attempt < 4 {
            Err("busy")
        } else {
            Ok(attempt)
        }
    }));
    assert_eq!(answer, Ok(4));
    assert_eq!(seen, [1, 2, 3, 4]);
}

#[test]
fn running_out_of_attempts_returns_the_last_error() {
    let retry = policy(3);
    let err = async_std::task::block_on(retry.run(&async_std::task::sleep, async |attempt| {
        Err::<(), _>(attempt)
    }))
    .unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.reason(), StopReason::AttemptsExhausted);
    assert_eq!(
        err.elapsed(),
        Duration::ZERO,
        "measured on the policy's clock"
    );
    assert_eq!(err.into_inner(), 3);
}

#[test]
fn a_non_retryable_error_is_returned_at_once() {
    let retry = policy(5);
    let err = async_std::task::block_on(
        retry
            .call(async |attempt| Err::<(), _>(if attempt < 2 { "busy" } else { "bad request" }))
            .retry_if(|e| *e == "busy")
            .run(&async_std::task::sleep),
    )
    .unwrap_err();
    assert_eq!(
        (err.attempts(), err.reason()),
        (2, StopReason::NotRetryable)
    );
    assert_eq!(err.into_inner(), "bad request");
}

#[test]
fn calls_run_on_async_std_tasks() {
    // The call's future is `Send`, so async-std's executor can run it on any thread.
    let retry = Arc::new(policy(3));
    let calls = Arc::new(AtomicU32::new(0));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let retry = Arc::clone(&retry);
            let calls = Arc::clone(&calls);
            async_std::task::spawn(async move {
                retry
                    .run(&async_std::task::sleep, async move |attempt| {
                        calls.fetch_add(1, Ordering::SeqCst);
                        if attempt < 3 { Err(()) } else { Ok(attempt) }
                    })
                    .await
            })
        })
        .collect();
    async_std::task::block_on(async {
        for task in tasks {
            assert_eq!(task.await, Ok(3));
        }
    });
    assert_eq!(calls.load(Ordering::SeqCst), 12);
}
