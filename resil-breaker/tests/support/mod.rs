//! Helpers shared by the integration tests: short duration constructors,
//! backoffs without jitter, a breaker builder on a manual clock, calls that
//! take a given (virtual) time, and an event log.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::time::Duration;

use resil_breaker::{BreakerBuilder, CircuitBreaker, Rejected};
use resil_core::{Backoff, Clock, Instant, Listener, ManualClock, Outcome};

pub(crate) const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub(crate) const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(crate) const fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

/// The instant `d` after the origin of a `ManualClock`.
pub(crate) fn at(d: Duration) -> Instant {
    Instant::ZERO + d
}

/// The same delay every time, without jitter.
pub(crate) fn constant(delay: Duration) -> Backoff {
    Backoff::constant(delay).build().unwrap()
}

/// `base`, `base·factor`, … without jitter.
pub(crate) fn exponential(base: Duration, factor: f64) -> Backoff {
    Backoff::exponential(base, factor).build().unwrap()
}

/// A builder with the defaults, on `clock`.
pub(crate) fn on(clock: &ManualClock) -> BreakerBuilder<ManualClock> {
    CircuitBreaker::builder().clock(clock.clone())
}

/// Acquires a permit, lets `took` pass on `clock`, and records `outcome`.
///
/// # Panics
///
/// If the breaker rejects the call.
pub(crate) fn call_taking<L: Listener>(
    breaker: &CircuitBreaker<ManualClock, L>,
    clock: &ManualClock,
    took: Duration,
    outcome: Outcome,
) {
    let permit = breaker
        .try_acquire()
        .unwrap_or_else(|r| panic!("rejected: {r}"));
    clock.advance(took);
    permit.record_outcome(outcome);
}

/// Records one success at once.
pub(crate) fn succeed<C: Clock, L: Listener>(breaker: &CircuitBreaker<C, L>) {
    breaker.try_acquire().expect("admitted").success();
}

/// Records one failure at once.
pub(crate) fn fail<C: Clock, L: Listener>(breaker: &CircuitBreaker<C, L>) {
    breaker.try_acquire().expect("admitted").failure();
}

/// The rejection of the next call.
///
/// # Panics
///
/// If the breaker admits it.
pub(crate) fn rejection<C: Clock, L: Listener>(breaker: &CircuitBreaker<C, L>) -> Rejected {
    match breaker.try_acquire() {
        Ok(_) => panic!("admitted, expected a rejection in {:?}", breaker.state()),
        Err(rejected) => rejected,
    }
}
