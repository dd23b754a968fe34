//! The pipeline on tokio: tokio's own sleep as the sleeper, in tokio's
//! paused time, and the call's future is `Send`, so it can be spawned.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resil::Pipeline;
use resil::breaker::CircuitBreaker;
use resil::core::Backoff;
use resil::retry::Retry;
use resil::shed::{ConcurrencyLimit, Fixed};
use resil_testkit::TokioClock;

fn assert_send<T: Send>(_: &T) {}

#[tokio::test(start_paused = true)]
async fn a_call_waits_on_tokios_sleep_and_can_be_spawned() {
    let clock = TokioClock::new();
    let pipeline = Pipeline::builder()
        .shed(
            ConcurrencyLimit::builder(Fixed::try_from(4).unwrap())
                .clock(clock)
                .build()
                .unwrap(),
        )
        .retry(
            Retry::builder()
                .backoff(
                    Backoff::constant(Duration::from_millis(250))
                        .build()
                        .unwrap(),
                )
                .max_attempts(3)
                .clock(clock)
                .build()
                .unwrap(),
        )
        .breaker(CircuitBreaker::builder().clock(clock).build().unwrap())
        .attempt_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let pipeline = Arc::new(pipeline);
    let calls = Arc::new(AtomicU32::new(0));

    let start = tokio::time::Instant::now();
    let task = {
        let pipeline = Arc::clone(&pipeline);
        let calls = Arc::clone(&calls);
        async move {
            pipeline
                .call(async move |attempt| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    if attempt < 3 {
                        Err("busy")
                    } else {
                        Ok(attempt)
                    }
                })
                .run(&tokio::time::sleep)
                .await
        }
    };
    assert_send(&task);
    let answer = tokio::spawn(task).await.unwrap();
    assert_eq!(answer, Ok(3));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    assert_eq!(pipeline.shed().in_flight(), 0);
}
