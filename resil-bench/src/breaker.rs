//! Circuit breakers: resil-breaker against failsafe and recloser.
//!
//! Every breaker wraps the same call ([`ok`] or [`fail`]) with its own
//! one-step `call` — resil's [`CircuitBreaker::call`], failsafe's
//! `CircuitBreaker::call`, recloser's `Recloser::call` — so each pays for
//! admission, the call, classification and recording, and nothing else.
//! Each runs on the real monotonic clock (resil's default `SystemClock`,
//! `std::time::Instant` in the peers).
//!
//! # Configurations
//!
//! | type | configuration |
//! |---|---|
//! | [`ResilCount`] | count window of the last 100 calls, at least 100 calls, opens at the failure rate given, 1 h open, 10 half-open trials |
//! | [`RecloserCount`] | the same: ring buffer of 100 (`closed_len`), `error_rate` as given, `open_wait` 1 h, `half_open_len` 10 |
//! | [`FailsafeConsecutive`] | failsafe has no count window; its cheapest policy, `consecutive_failures(5)`, with a constant 1 h backoff. It does less than a window (one counter), so it flatters failsafe, never resil |
//! | [`ResilTime`] | failsafe's default policy rebuilt in resil: a 30 s window in 5 buckets, at least 5 calls, opens at the failure rate given or after 5 failures in a row, open 10 s growing to 300 s with equal jitter |
//! | [`FailsafeDefault`] | `Config::new()`'s policy with the same rate: success rate over 30 s (5 slices, at least 5 requests) or 5 consecutive failures, equal-jittered 10 s – 300 s |
//!
//! The operations open a breaker at a failure rate of 0.5 (resilience4j's
//! and recloser's default), except [`FailureThenSuccess`], whose window is
//! half failures and which therefore uses 0.75 so that it stays closed.

use std::sync::Arc;
use std::time::Duration;

use failsafe::CircuitBreaker as _;
use failsafe::backoff::{Constant, EqualJittered};
use failsafe::failure_policy::{
    ConsecutiveFailures, OrElse, SuccessRateOverTimeWindow, consecutive_failures,
    success_rate_over_time_window,
};
use failsafe::{FailurePolicy as _, StateMachine};
use recloser::Recloser;
use resil_breaker::{CallError, CircuitBreaker, SlidingWindow};
use resil_core::{Backoff, Jitter};

use crate::{Failure, Operation, fail, ok};

/// The failure rate that opens a breaker in most rows.
pub(crate) const TRIPS_AT: f64 = 0.5;

/// The failure rate for a window that is half failures and must stay closed.
const LENIENT: f64 = 0.75;

/// How long an open breaker stays open: longer than any benchmark.
const OPEN_FOR: Duration = Duration::from_secs(3600);

/// A breaker as the operations see it.
pub trait Breaker: Sized {
    /// What `call` returns.
    type Output;

    /// Builds the breaker, closed, opening at failure rate `trips_at`
    /// (ignored by a policy without a rate).
    fn build(trips_at: f64) -> Self;

    /// Runs [`ok`] through the breaker.
    fn call_ok(&self) -> Self::Output;

    /// Runs [`fail`] through the breaker.
    fn call_fail(&self) -> Self::Output;

    /// Whether `output` is a rejection (the call did not run).
    fn rejected(output: &Self::Output) -> bool;
}

/// resil-breaker with a count window (see the module docs).
#[derive(Clone, Debug)]
pub struct ResilCount(pub(crate) CircuitBreaker);

impl Breaker for ResilCount {
    type Output = Result<u64, CallError<Failure>>;

    fn build(trips_at: f64) -> Self {
        let breaker = CircuitBreaker::builder()
            .window(SlidingWindow::count(100))
            .minimum_calls(100)
            .failure_rate(trips_at)
            .wait(OPEN_FOR)
            .half_open_permits(10)
            .build()
            .expect("a valid breaker configuration");
        ResilCount(breaker)
    }

    #[inline]
    fn call_ok(&self) -> Self::Output {
        self.0.call(ok)
    }

    #[inline]
    fn call_fail(&self) -> Self::Output {
        self.0.call(fail)
    }

    fn rejected(output: &Self::Output) -> bool {
        matches!(output, Err(CallError::Rejected(_)))
    }
}

/// resil-breaker with failsafe's default policy rebuilt on a time window
/// (see the module docs).
#[derive(Clone, Debug)]
pub struct ResilTime(CircuitBreaker);

impl Breaker for ResilTime {
    type Output = Result<u64, CallError<Failure>>;

    fn build(trips_at: f64) -> Self {
        let wait = Backoff::exponential(Duration::from_secs(10), 2.0)
            .max_delay(Duration::from_secs(300))
            .jitter(Jitter::Equal)
            .build()
            .expect("a valid backoff");
        let breaker = CircuitBreaker::builder()
            .window(SlidingWindow::time(Duration::from_secs(30), 5))
            .minimum_calls(5)
            .failure_rate(trips_at)
            .consecutive_failures(5)
            .wait_backoff(wait)
            .build()
            .expect("a valid breaker configuration");
        ResilTime(breaker)
    }

    #[inline]
    fn call_ok(&self) -> Self::Output {
        self.0.call(ok)
    }

    #[inline]
    fn call_fail(&self) -> Self::Output {
        self.0.call(fail)
    }

    fn rejected(output: &Self::Output) -> bool {
        matches!(output, Err(CallError::Rejected(_)))
    }
}

/// recloser with a ring buffer of 100 calls (see the module docs).
///
/// A `Recloser` is not `Clone`; the `Arc` lets two threads share one, as a
/// server would.
#[derive(Clone, Debug)]
pub struct RecloserCount(Arc<Recloser>);

impl Breaker for RecloserCount {
    type Output = Result<u64, recloser::Error<Failure>>;

    fn build(trips_at: f64) -> Self {
        // recloser's rates are `f32`; 0.5 and 0.75 are exact in both.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "the rates are exact in f32"
        )]
        let rate = trips_at as f32;
        let breaker = Recloser::custom()
            .error_rate(rate)
            .closed_len(100)
            .half_open_len(10)
            .open_wait(OPEN_FOR)
            .build();
        RecloserCount(Arc::new(breaker))
    }

    #[inline]
    fn call_ok(&self) -> Self::Output {
        self.0.call(ok)
    }

    #[inline]
    fn call_fail(&self) -> Self::Output {
        self.0.call(fail)
    }

    fn rejected(output: &Self::Output) -> bool {
        matches!(output, Err(recloser::Error::Rejected))
    }
}

/// failsafe with its consecutive-failures policy (see the module docs).
#[derive(Clone, Debug)]
pub struct FailsafeConsecutive(pub(crate) StateMachine<ConsecutiveFailures<Constant>, ()>);

impl Breaker for FailsafeConsecutive {
    type Output = Result<u64, failsafe::Error<Failure>>;

    fn build(_trips_at: f64) -> Self {
        let policy = consecutive_failures(5, failsafe::backoff::constant(OPEN_FOR));
        FailsafeConsecutive(failsafe::Config::new().failure_policy(policy).build())
    }

    #[inline]
    fn call_ok(&self) -> Self::Output {
        self.0.call(ok)
    }

    #[inline]
    fn call_fail(&self) -> Self::Output {
        self.0.call(fail)
    }

    fn rejected(output: &Self::Output) -> bool {
        matches!(output, Err(failsafe::Error::Rejected))
    }
}

/// failsafe's default policy, `Config::new()`'s, with the rate given.
type DefaultPolicy =
    OrElse<SuccessRateOverTimeWindow<EqualJittered>, ConsecutiveFailures<EqualJittered>>;

/// failsafe with its default policy (see the module docs).
#[derive(Clone, Debug)]
pub struct FailsafeDefault(StateMachine<DefaultPolicy, ()>);

impl Breaker for FailsafeDefault {
    type Output = Result<u64, failsafe::Error<Failure>>;

    fn build(trips_at: f64) -> Self {
        // `Config::new()`'s policy, field for field, with the rate given:
        // failsafe counts the success rate, so 1 - the failure rate.
        let backoff =
            || failsafe::backoff::equal_jittered(Duration::from_secs(10), Duration::from_secs(300));
        let policy =
            success_rate_over_time_window(1.0 - trips_at, 5, Duration::from_secs(30), backoff())
                .or_else(consecutive_failures(5, backoff()));
        FailsafeDefault(failsafe::Config::new().failure_policy(policy).build())
    }

    #[inline]
    fn call_ok(&self) -> Self::Output {
        self.0.call(ok)
    }

    #[inline]
    fn call_fail(&self) -> Self::Output {
        self.0.call(fail)
    }

    fn rejected(output: &Self::Output) -> bool {
        matches!(output, Err(failsafe::Error::Rejected))
    }
}

/// A closed breaker; the call succeeds. The window is full before the
/// first measured call, so every success also evicts an old one.
#[derive(Clone, Debug)]
pub struct Success<B>(B);

impl<B: Breaker> Operation for Success<B> {
    type Output = B::Output;

    fn new() -> Self {
        let breaker = B::build(TRIPS_AT);
        for _ in 0..200 {
            assert!(!B::rejected(&breaker.call_ok()), "closed while warming up");
        }
        Success(breaker)
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        self.0.call_ok()
    }
}

/// A closed breaker; one call fails, the next succeeds. The window holds
/// half failures, under the threshold of 0.75, so the breaker evaluates its
/// trip condition on every failure and stays closed; a failure alone costs
/// about this row minus the success row.
#[derive(Clone, Debug)]
pub struct FailureThenSuccess<B>(B);

impl<B: Breaker> Operation for FailureThenSuccess<B> {
    type Output = (B::Output, B::Output);

    fn new() -> Self {
        let breaker = B::build(LENIENT);
        for _ in 0..200 {
            assert!(
                !B::rejected(&breaker.call_fail()),
                "closed while warming up"
            );
            assert!(!B::rejected(&breaker.call_ok()), "closed while warming up");
        }
        FailureThenSuccess(breaker)
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        (self.0.call_fail(), self.0.call_ok())
    }
}

/// An open breaker (tripped by failures, open for an hour); the call is
/// rejected without running.
#[derive(Clone, Debug)]
pub struct Rejection<B>(B);

impl<B: Breaker> Operation for Rejection<B> {
    type Output = B::Output;

    fn new() -> Self {
        let breaker = B::build(TRIPS_AT);
        // Enough failures to fill a 100-call window; once open, the rest
        // are rejected.
        for _ in 0..200 {
            let _ = breaker.call_fail();
        }
        assert!(B::rejected(&breaker.call_ok()), "the breaker did not open");
        Rejection(breaker)
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        self.0.call_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation's set-up checks its own precondition; this runs them.
    fn check<B: Breaker>() {
        let mut success = Success::<B>::new();
        assert!(!B::rejected(&success.run()));
        let mut pair = FailureThenSuccess::<B>::new();
        for _ in 0..1_000 {
            let (failure, success) = pair.run();
            assert!(!B::rejected(&failure) && !B::rejected(&success));
        }
        let mut rejection = Rejection::<B>::new();
        assert!(B::rejected(&rejection.run()));
    }

    #[test]
    fn every_breaker_is_in_the_state_its_operations_measure() {
        check::<ResilCount>();
        check::<RecloserCount>();
        check::<FailsafeConsecutive>();
        check::<ResilTime>();
        check::<FailsafeDefault>();
    }
}
