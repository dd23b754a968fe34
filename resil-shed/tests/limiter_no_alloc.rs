//! The limiter's hot path allocates nothing: `try_acquire` and dropping the
//! permit on an uncongested limiter, with a fixed limit and with an
//! adaptive one (whose permits also measure their latency and, when
//! recorded, feed the limit).

use std::hint::black_box;
use std::time::Duration;

use resil_core::{ManualClock, Outcome};
use resil_shed::{Aimd, ConcurrencyLimit, Fixed, Priority};
use resil_testkit::{CountingAllocator, allocations_during};

#[global_allocator]
static A: CountingAllocator = CountingAllocator;

#[test]
fn the_counter_sees_allocations() {
    // Guards every other test here: a counter that saw nothing would pass them all.
    let (_, n) = allocations_during(|| black_box(Box::new(7u64)));
    assert!(n >= 1);
}

#[test]
fn try_acquire_and_drop_with_a_fixed_limit_do_not_allocate() {
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(8).unwrap())
        .max_queue(4)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let ((), n) = allocations_during(|| {
        for i in 0..10_000 {
            let priority = Priority::ALL[i % 4];
            let permit = limiter.try_acquire(priority).unwrap();
            let second = limiter.try_acquire(Priority::Sheddable).unwrap();
            black_box(&permit);
            drop(permit);
            drop(second);
        }
    });
    assert_eq!(n, 0);
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn a_refusal_does_not_allocate_either() {
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(1).unwrap())
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let _held = limiter.try_acquire(Priority::Critical).unwrap();
    let ((), n) = allocations_during(|| {
        for _ in 0..1_000 {
            let refused = limiter.try_acquire(Priority::CriticalPlus);
            assert!(black_box(refused).is_err());
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn try_acquire_and_drop_with_an_adaptive_limit_do_not_allocate() {
    let clock = ManualClock::new();
    let limiter = ConcurrencyLimit::builder(Aimd::builder().initial(10).build().unwrap())
        .clock(clock.clone())
        .build()
        .unwrap();
    // Warm up: the first lock of the limit's mutex, and so on.
    limiter.try_acquire(Priority::Critical).unwrap().success();

    let ((), n) = allocations_during(|| {
        for _ in 0..10_000 {
            let permit = limiter.try_acquire(Priority::Critical).unwrap();
            clock.advance(Duration::from_micros(50));
            drop(black_box(permit)); // unrecorded: ignored, no sample
        }
    });
    assert_eq!(n, 0);

    // Recorded, a permit feeds the limit (which moves): no allocation either.
    let before = limiter.limit();
    let ((), n) = allocations_during(|| {
        for i in 0..1_000 {
            let permit = limiter.try_acquire(Priority::Critical).unwrap();
            clock.advance(Duration::from_micros(50));
            let outcome = if i % 100 == 99 {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            permit.record(outcome);
        }
    });
    assert_eq!(n, 0);
    assert_ne!(limiter.limit(), before, "the samples reached the limit");
    assert_eq!(limiter.in_flight(), 0);
}
