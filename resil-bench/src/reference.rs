//! Reference points: governor's `check()` (a well-tuned atomic hot path
//! that reads the clock) and the floors every other figure sits on — an
//! empty closure (the measuring loop itself), one uncontended `fetch_add`,
//! and one read of the monotonic clock.

use core::hint::black_box;
use core::num::NonZeroU32;
use core::sync::atomic::{AtomicU64, Ordering};

use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::Operation;

/// governor's direct (unkeyed) limiter on its default clock (`std`'s
/// monotonic clock without the `quanta` feature), with a quota far above
/// the rate a benchmark reaches, so every `check()` is allowed.
#[derive(Debug)]
pub struct GovernorCheck(RateLimiter<NotKeyed, InMemoryState, DefaultClock>);

impl Operation for GovernorCheck {
    type Output = bool;

    fn new() -> Self {
        let per_second = NonZeroU32::new(1_000_000_000).expect("non-zero");
        let mut op = GovernorCheck(RateLimiter::direct(Quota::per_second(per_second)));
        assert!(op.run(), "governor refused a check");
        op
    }

    #[inline]
    fn run(&mut self) -> bool {
        self.0.check().is_ok()
    }
}

/// Calls a closure that does nothing: what the loop around every operation
/// costs.
#[derive(Debug)]
pub struct EmptyClosure;

impl Operation for EmptyClosure {
    type Output = ();

    fn new() -> Self {
        EmptyClosure
    }

    #[inline]
    fn run(&mut self) {
        black_box(|| {})();
    }
}

/// One uncontended atomic increment.
#[derive(Debug)]
pub struct FetchAdd(AtomicU64);

impl Operation for FetchAdd {
    type Output = u64;

    fn new() -> Self {
        FetchAdd(AtomicU64::new(0))
    }

    #[inline]
    fn run(&mut self) -> u64 {
        // Through `black_box`, so that `&mut self` cannot turn the atomic
        // into a plain add.
        black_box(&self.0).fetch_add(1, Ordering::Relaxed)
    }
}

/// One read of the monotonic clock.
#[derive(Debug)]
pub struct Now;

impl Operation for Now {
    type Output = std::time::Instant;

    fn new() -> Self {
        Now
    }

    #[inline]
    #[allow(
        clippy::disallowed_methods,
        reason = "the baseline is the cost of reading std's clock directly"
    )]
    fn run(&mut self) -> std::time::Instant {
        std::time::Instant::now()
    }
}
