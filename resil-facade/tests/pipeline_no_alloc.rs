//! A pipeline call that succeeds on its first attempt allocates nothing,
//! with every stage on: the stages are borrowed, the call's future lives on
//! the caller's stack, and each technique's success path is allocation-free.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use resil::Pipeline;
use resil::breaker::CircuitBreaker;
use resil::core::{Backoff, ManualClock};
use resil::retry::{RatioBudget, Retry};
use resil::shed::{ConcurrencyLimit, Priority, Vegas};
use resil_testkit::{CountingAllocator, allocations_during};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn the_counter_sees_allocations() {
    // Guards the test below: a counter that saw nothing would pass it.
    let (_, n) = allocations_during(|| std::hint::black_box(vec![1u8; 16]));
    assert!(n >= 1);
}

/// Polls once: every stage's success path completes without waiting.
fn poll_once<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a first-attempt success should not wait"),
    }
}

#[test]
fn a_first_attempt_success_allocates_nothing() {
    let clock = ManualClock::new();
    let pipeline = Pipeline::builder()
        .shed(
            ConcurrencyLimit::builder(Vegas::default())
                .max_queue(16)
                .clock(clock.clone())
                .build()
                .unwrap(),
        )
        .retry(
            Retry::builder()
                .backoff(Backoff::default())
                .budget(RatioBudget::builder().clock(clock.clone()).build().unwrap())
                .clock(clock.clone())
                .build()
                .unwrap(),
        )
        .breaker(
            CircuitBreaker::builder()
                .clock(clock.clone())
                .build()
                .unwrap(),
        )
        .total_timeout(Duration::from_secs(10))
        .attempt_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let call = || {
        pipeline
            .call(async |attempt| Ok::<_, ()>(attempt))
            .priority(Priority::Critical)
            .run(&clock)
    };
    // Warm up: the first lock of each std mutex, and so on.
    assert_eq!(poll_once(call()), Ok(1));

    let (result, n) = allocations_during(|| {
        for _ in 0..100 {
            assert_eq!(poll_once(call()), Ok(1));
        }
    });
    let () = result;
    assert_eq!(n, 0, "{n} allocations in 100 calls");
}
