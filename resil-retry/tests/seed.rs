//! A call's jitter seed: the same seed gives the same delays, different
//! seeds give different ones (what a simulation's determinism rests on).

use core::time::Duration;

use resil_core::{Backoff, Clock, Jitter, ManualClock};
use resil_retry::Retry;

fn waited(seed: Option<u64>) -> Duration {
    let backoff = Backoff::exponential(Duration::from_millis(100), 2.0)
        .jitter(Jitter::Full)
        .build()
        .unwrap();
    let clock = ManualClock::new();
    let policy = Retry::builder()
        .backoff(backoff)
        .max_attempts(6)
        .clock(clock.clone())
        .build()
        .unwrap();
    let call = policy.call_blocking(|_| Err::<(), _>("busy"));
    let result = match seed {
        Some(seed) => call.seed(seed).run(&clock),
        None => call.run(&clock),
    };
    assert_eq!(result.unwrap_err().attempts(), 6);
    clock.now().since_origin()
}

#[test]
fn the_same_seed_waits_the_same() {
    assert_eq!(waited(Some(42)), waited(Some(42)));
}

#[test]
fn different_seeds_wait_differently() {
    let waits: std::collections::BTreeSet<_> = (0..8).map(|s| waited(Some(s))).collect();
    assert!(waits.len() > 1, "{waits:?}");
}

#[test]
fn async_calls_take_the_seed_too() {
    let run = |seed| {
        let clock = ManualClock::new();
        let policy = Retry::builder()
            .max_attempts(5)
            .clock(clock.clone())
            .build()
            .unwrap();
        let call = policy
            .call(async |_| Err::<(), _>("busy"))
            .seed(seed)
            .run(&clock);
        let mut call = core::pin::pin!(call);
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        while call.as_mut().poll(&mut cx).is_pending() {
            clock.advance_to_next();
        }
        clock.now()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}
