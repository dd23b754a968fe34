//! The breaker on smol: `call_async` driven by `smol::block_on` and run on
//! smol tasks, and a task cancelled mid-call freeing its half-open slot.
//! smol has no paused clock, so nothing here sleeps; the breaker's clock is
//! a `ManualClock`.

mod support;

use std::time::Duration;

use resil_breaker::{CallError, CircuitBreaker};
use resil_core::{CircuitState, ManualClock};

use support::{on, secs};

/// A breaker that opens at its first failure for 30 s, with `permits` trials.
fn tripping(clock: &ManualClock, permits: u32) -> CircuitBreaker<ManualClock> {
    on(clock)
        .consecutive_failures(1)
        .wait(secs(30))
        .half_open_permits(permits)
        .build()
        .unwrap()
}

#[test]
fn call_async_trips_rejects_and_recovers() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, 1);
    smol::block_on(async {
        assert_eq!(
            breaker.call_async(|| async { Ok::<_, &str>(1) }).await,
            Ok(1)
        );
        let err = breaker
            .call_async(|| async {
                smol::future::yield_now().await;
                Err::<(), _>("refused")
            })
            .await;
        assert_eq!(err, Err(CallError::Failed("refused")));
        match breaker.call_async(|| async { Ok::<_, &str>(2) }).await {
            Err(CallError::Rejected(r)) => assert_eq!(r.retry_after(), Some(secs(30))),
            other => panic!("expected a rejection, got {other:?}"),
        }
        clock.advance(secs(30));
        assert_eq!(
            breaker.call_async(|| async { Ok::<_, &str>(3) }).await,
            Ok(3)
        );
    });
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn calls_run_on_smol_tasks() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, 3);
    breaker.open_for(Duration::ZERO);
    // Each task's trial waits for a signal, so all eight ask while three are out.
    let (go, wait) = smol::channel::bounded::<()>(1);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let breaker = breaker.clone();
            let wait = wait.clone();
            smol::spawn(async move {
                breaker
                    .call_async(|| async move {
                        let _ = wait.recv().await;
                        Ok::<_, ()>(())
                    })
                    .await
            })
        })
        .collect();
    let admitted = smol::block_on(async {
        while breaker.metrics().rejected < 5 {
            smol::future::yield_now().await;
        }
        drop(go); // Closing the channel releases every trial.
        let mut admitted = 0;
        for task in tasks {
            match task.await {
                Ok(()) => admitted += 1,
                Err(e) => assert!(e.is_rejected()),
            }
        }
        admitted
    });
    assert_eq!(admitted, 3);
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_task_cancelled_mid_call_frees_its_trial_slot() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, 1);
    breaker.open_for(Duration::ZERO);
    let (started, running) = smol::channel::bounded::<()>(1);
    let trial = breaker.clone();
    let task = smol::spawn(async move {
        trial
            .call_async(|| async move {
                started.send(()).await.unwrap();
                std::future::pending::<Result<(), ()>>().await
            })
            .await
    });
    smol::block_on(async {
        running.recv().await.unwrap();
        assert!(
            breaker.try_acquire().is_err(),
            "the trial holds the only slot"
        );
        assert_eq!(task.cancel().await, None, "cancelled before it finished");
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
        assert_eq!(breaker.call_async(|| async { Ok::<_, ()>(9) }).await, Ok(9));
    });
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_call_future_dropped_after_one_poll_frees_its_trial_slot() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, 1);
    breaker.open_for(Duration::ZERO);
    smol::block_on(async {
        let polled =
            smol::future::poll_once(breaker.call_async(std::future::pending::<Result<(), ()>>))
                .await;
        assert_eq!(polled, None, "pending, then dropped");
        assert_eq!(
            breaker.call_async(|| async { Ok::<_, ()>(()) }).await,
            Ok(())
        );
    });
    assert_eq!(breaker.state(), CircuitState::Closed);
}
