//! A call that succeeds on its first attempt allocates nothing: async
//! (polled once by hand) and blocking, with a deadline, a budget, a listener
//! and every per-call option set.

mod support;

use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::time::Duration;

use resil_core::{Clock, ManualClock, Outcome, listener_fn};
use resil_retry::Retry;
use resil_testkit::{CountingAllocator, allocations_during};

use support::{CountingBudget, constant, secs};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn the_counter_sees_allocations() {
    // Guards every other test here: a counter that saw nothing would pass them all.
    let (_, n) = allocations_during(|| std::hint::black_box(vec![1u8; 16]));
    assert!(n >= 1);
}

#[test]
fn the_counter_sees_a_failing_call_allocate() {
    // Guards the blocking tests: a retry whose operation allocates is seen.
    let clock = ManualClock::new();
    let retry = Retry::builder()
        .clock(clock.clone())
        .backoff(constant(secs(1)))
        .build()
        .unwrap();
    let (result, n) =
        allocations_during(|| retry.run_blocking(&clock, |_| Err::<(), _>(String::from("boxed"))));
    assert!(result.is_err());
    assert!(n >= 3, "one string per attempt, counted {n}");
}

#[test]
fn an_async_first_attempt_success_does_not_allocate() {
    let clock = ManualClock::new();
    let retry = Retry::builder().clock(clock.clone()).build().unwrap();
    let (ready, n) = allocations_during(|| {
        let mut call = pin!(retry.run(&clock, async |attempt| Ok::<_, ()>(attempt)));
        call.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    });
    assert_eq!(ready, Poll::Ready(Ok(1)));
    assert_eq!(n, 0);
}

#[test]
fn an_async_first_attempt_success_with_a_deadline_budget_and_listener_does_not_allocate() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = Retry::builder()
        .clock(clock.clone())
        .max_elapsed(secs(30))
        .budget(&budget)
        .listener(listener_fn(|_| {
            panic!("a first-attempt success reports nothing")
        }))
        .build()
        .unwrap();
    let (ready, n) = allocations_during(|| {
        let mut call = pin!(
            retry
                .call(async |attempt| Ok::<_, &str>(attempt))
                .retry_if(|_| true)
                .hint(|_| Some(secs(1)))
                .on_retry(|_| panic!("no retry"))
                .run(&clock)
        );
        call.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    });
    assert_eq!(ready, Poll::Ready(Ok(1)));
    assert_eq!(n, 0);
    assert_eq!(budget.counts().deposits, 1, "the budget was used");
}

#[test]
fn an_async_first_attempt_success_with_classify_does_not_allocate() {
    let clock = ManualClock::new();
    let retry = Retry::builder()
        .clock(clock.clone())
        .max_elapsed(secs(30))
        .build()
        .unwrap();
    let (ready, n) = allocations_during(|| {
        let mut call = pin!(
            retry
                .call(async |_| Ok::<u16, ()>(200))
                .classify(|r| if r == &Ok(200) {
                    Outcome::Success
                } else {
                    Outcome::Failure
                })
                .run(&clock)
        );
        call.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    });
    assert_eq!(ready, Poll::Ready(Ok(200)));
    assert_eq!(n, 0);
}

#[test]
fn a_blocking_first_attempt_success_does_not_allocate() {
    let clock = ManualClock::new();
    let retry = Retry::builder().clock(clock.clone()).build().unwrap();
    let (answer, n) = allocations_during(|| retry.run_blocking(&clock, Ok::<_, ()>));
    assert_eq!(answer, Ok(1));
    assert_eq!(n, 0);
}

#[test]
fn a_blocking_first_attempt_success_with_every_option_does_not_allocate() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = Retry::builder()
        .clock(clock.clone())
        .max_elapsed(secs(30))
        .budget(&budget)
        .listener(listener_fn(|_| {
            panic!("a first-attempt success reports nothing")
        }))
        .build()
        .unwrap();
    let (answer, n) = allocations_during(|| {
        retry
            .call_blocking(Ok::<_, &str>)
            .retry_if(|_| true)
            .hint(|_| Some(Duration::ZERO))
            .on_retry(|_| panic!("no retry"))
            .run(&clock)
    });
    assert_eq!(answer, Ok(1));
    assert_eq!(n, 0);
    assert_eq!(budget.counts().successes, 1);
}

#[test]
fn a_first_attempt_success_on_the_system_clock_does_not_allocate() {
    // The default clock, read for the deadline.
    let retry = Retry::builder().max_elapsed(secs(30)).build().unwrap();
    retry.clock().now(); // The first reading fixes the origin.
    let (answer, n) = allocations_during(|| retry.run_blocking(&|_| {}, |_| Ok::<_, ()>(7)));
    assert_eq!(answer, Ok(7));
    assert_eq!(n, 0);
}
