//! The hot paths of resil-core allocate nothing: reading clocks, instant
//! arithmetic, drawing backoff delays, classifying, reporting to the no-op
//! listener, and a timeout whose operation is ready at once.

use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use resil_core::{
    Backoff, Classify, Clock, DefaultClassifier, Event, EventKind, Instant, Jitter, Listener,
    ManualClock, NoopListener, Outcome, SystemClock, timeout,
};
use resil_testkit::{CountingAllocator, allocations_during};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn the_counter_sees_allocations() {
    // Guards every other test here: a counter that saw nothing would pass them all.
    let (_, n) = allocations_during(|| std::hint::black_box(vec![1u8; 16]));
    assert!(n >= 1);
}

#[test]
fn reading_clocks_does_not_allocate() {
    let manual = ManualClock::new();
    SystemClock.now(); // The first reading fixes the origin.
    let (_, n) = allocations_during(|| {
        for _ in 0..100 {
            let t = SystemClock.now();
            let u = manual.advance(Duration::from_millis(1));
            std::hint::black_box((t + Duration::from_secs(1)) - u);
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn drawing_delays_does_not_allocate() {
    for jitter in [
        Jitter::None,
        Jitter::Full,
        Jitter::Equal,
        Jitter::Decorrelated,
    ] {
        let backoff = Backoff::exponential(Duration::from_millis(10), 2.0)
            .max_delay(Duration::from_secs(30))
            .jitter(jitter)
            .build()
            .unwrap();
        let (_, n) = allocations_during(|| {
            let mut delays = backoff.iter();
            for _ in 0..1_000 {
                std::hint::black_box(delays.next());
            }
            std::hint::black_box(backoff.delay(u32::MAX));
        });
        assert_eq!(n, 0, "{jitter:?}");
    }
}

#[test]
fn classifying_and_reporting_do_not_allocate() {
    let (_, n) = allocations_during(|| {
        let result: Result<u32, &str> = Err("boom");
        let outcome = DefaultClassifier.classify(&result);
        NoopListener.on_event(&Event::new(
            "db",
            Instant::ZERO,
            EventKind::call_rejected(resil_core::CircuitState::Open),
        ));
        std::hint::black_box(outcome)
    });
    assert_eq!(n, 0);
    assert_eq!(Outcome::of(&Ok::<(), ()>(())), Outcome::Success);
}

#[test]
fn a_timeout_whose_operation_is_ready_does_not_allocate() {
    let clock = ManualClock::new();
    let (ready, n) = allocations_during(|| {
        let mut call = pin!(timeout(&clock, Duration::from_secs(1), async { 7 }));
        call.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    });
    assert_eq!(ready, Poll::Ready(Ok(7)));
    assert_eq!(n, 0);
}
