//! The throttle's hot path allocates nothing: `check` (allowed or refused,
//! with a listener), `accepted`, reading the probability, and the bucket
//! expiry that a new bucket triggers. Nor does updating a limit.

use core::time::Duration;
use std::sync::atomic::{AtomicU64, Ordering};

use resil_core::{Instant, ManualClock, Outcome, listener_fn};
use resil_shed::{AdaptiveThrottle, Aimd, Gradient2, Limit, Sample, Vegas};
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
fn check_and_accepted_do_not_allocate() {
    let clock = ManualClock::new();
    let refusals = AtomicU64::new(0);
    let throttle = AdaptiveThrottle::builder()
        .window(Duration::from_secs(10))
        .clock(clock.clone())
        .seed(1)
        .listener(listener_fn(|_| {
            refusals.fetch_add(1, Ordering::Relaxed);
        }))
        .build()
        .unwrap();
    // Warm up: the first lock of a std mutex, and so on.
    let _ = throttle.check();
    clock.advance(Duration::from_secs(1));
    let _ = throttle.check();

    let ((), n) = allocations_during(|| {
        for i in 0..10_000u32 {
            // Every 100th call moves into a new bucket (and expires one).
            if i % 100 == 0 {
                clock.advance(Duration::from_millis(1_000));
            }
            let _ = std::hint::black_box(throttle.check());
            if i % 4 == 0 {
                throttle.accepted();
            }
            std::hint::black_box(throttle.rejection_probability());
        }
    });
    assert_eq!(n, 0);
    // Both paths ran: some refused, some let through.
    let refused = refusals.load(Ordering::Relaxed);
    assert!(refused > 100 && refused < 9_900, "{refused}");
}

#[test]
fn updating_a_limit_does_not_allocate() {
    let mut aimd = Aimd::default();
    let mut gradient2 = Gradient2::builder().probe_multiplier(1).build().unwrap();
    let mut vegas = Vegas::builder().probe_multiplier(1).build().unwrap();
    let ((), n) = allocations_during(|| {
        for i in 0..10_000u64 {
            let outcome = if i % 50 == 0 {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            let at = Instant::from_nanos(i * 1_000_000);
            let sample = Sample::new(Duration::from_millis(3 + i % 5), 20, outcome, at);
            std::hint::black_box(aimd.update(&sample));
            std::hint::black_box(gradient2.update(&sample));
            std::hint::black_box(vegas.update(&sample));
        }
    });
    assert_eq!(n, 0);
}
