//! Load shedding: resil-shed's concurrency limiter against tokio's
//! `Semaphore` and tower's `ConcurrencyLimit` (alone and under `LoadShed`);
//! the adaptive limit and the SRE client-side throttle on their own.
//!
//! # The fixed-limit row: one permit taken and returned, uncongested
//!
//! Every limiter allows [`LIMIT`] at once and has nothing else in flight,
//! so every attempt is admitted; what is measured is admission plus
//! release, the price every request pays when nothing is shed.
//!
//! - resil: `ConcurrencyLimit<Fixed>` on its default `SystemClock` (a
//!   fixed limit reads no clock), no reserves, no queue;
//!   `try_acquire(Priority::Critical)`, then the permit dropped. The permit
//!   is owned: it holds a clone of the limiter's `Arc`, which it takes and
//!   gives back.
//! - tokio: `Semaphore::try_acquire` on a semaphore of [`LIMIT`] permits,
//!   then the permit dropped. Its permit borrows the semaphore, so it pays
//!   no reference count (tokio's `try_acquire_owned` would): this flatters
//!   tokio, never resil.
//! - tower: `ConcurrencyLimit` around [`Noop`] (a service whose readiness is
//!   always `Ready` and whose response future is `Ready`), then the same
//!   under `LoadShed`. One operation is what a caller of a tower service
//!   does: `poll_ready`, polled once on a no-op waker (it takes a permit
//!   with `try_acquire_owned` through tokio-util's `PollSemaphore`), then
//!   `call`, which moves the permit into the response future; the response
//!   future is dropped without being polled, which returns the permit.
//!   Never polling it leaves out the (trivial) inner future's poll, so this
//!   too flatters tower.
//!
//! # The adaptive row
//!
//! resil's `ConcurrencyLimit<Aimd>` (the defaults: limit 20, timeout 5 s)
//! on `SystemClock`: `try_acquire(Priority::Critical)`, then
//! `Permit::success`. Beyond the fixed row, an adaptive permit reads the
//! clock when it is granted and when it is returned (its latency), and the
//! returning thread try-locks the limit, reads the clock for the sample's
//! time, runs `Aimd::update` and compares the limit with the admission
//! word's. With one call in flight out of 20 the limit does not grow (the
//! app-limited guard: growth needs half the limit in use), so every run is
//! the same steady-state update. No peer offers an adaptive limit.
//!
//! # The throttle row
//!
//! resil's `AdaptiveThrottle` (the defaults: K = 2, a 120 s window) on
//! `SystemClock`: `check()`, then `accepted()`. Every request is accepted,
//! so the rejection probability stays 0 and no random draw is made; each
//! call reads the clock and updates the window's counters. No peer
//! implements the SRE throttle.

use core::convert::Infallible;
use core::future::{Ready, ready};
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use resil_shed::{AdaptiveThrottle, Aimd, ConcurrencyLimit, Fixed, Limit as _, Priority, Shed};
use tokio::sync::{Semaphore, TryAcquireError};
use tower::Service;
use tower::limit::ConcurrencyLimit as TowerConcurrencyLimit;
use tower::load_shed::LoadShed;

use crate::{Operation, poll_once};

/// How many permits every limiter of the fixed row allows: far more than
/// the one the operation holds.
pub const LIMIT: u32 = 100;

/// Runs each operation's set-up check this many times: more than
/// [`LIMIT`], so a permit that was not returned shows.
const WARM_UP: u32 = 2 * LIMIT;

/// resil's fixed limit (see the module docs).
#[derive(Debug)]
pub struct ResilFixed(ConcurrencyLimit<Fixed>);

impl Operation for ResilFixed {
    type Output = Result<(), Shed>;

    fn new() -> Self {
        let limit = Fixed::try_from(LIMIT).expect("a valid limit");
        let limiter = ConcurrencyLimit::builder(limit)
            .build()
            .expect("a valid limiter");
        let mut op = ResilFixed(limiter);
        for _ in 0..WARM_UP {
            op.run().expect("an uncongested limiter admits");
        }
        assert_eq!(op.0.in_flight(), 0, "a permit was not returned");
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        self.0.try_acquire(Priority::Critical).map(drop)
    }
}

/// resil's AIMD limit, each permit returned as a success (see the module
/// docs).
#[derive(Debug)]
pub struct ResilAimd(ConcurrencyLimit<Aimd>);

impl Operation for ResilAimd {
    type Output = Result<(), Shed>;

    fn new() -> Self {
        let aimd = Aimd::default();
        let initial = aimd.limit();
        let limiter = ConcurrencyLimit::builder(aimd)
            .build()
            .expect("a valid limiter");
        let mut op = ResilAimd(limiter);
        for _ in 0..WARM_UP {
            op.run().expect("an uncongested limiter admits");
        }
        assert_eq!(op.0.in_flight(), 0, "a permit was not returned");
        // One call in flight never grows the limit, nor does a success
        // shrink it: every run is the same update.
        assert_eq!(op.0.limit(), initial, "the limit moved while warming up");
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        self.0
            .try_acquire(Priority::Critical)
            .map(resil_shed::Permit::success)
    }
}

/// resil's SRE throttle, every request accepted (see the module docs).
#[derive(Debug)]
pub struct ResilThrottle(AdaptiveThrottle);

impl Operation for ResilThrottle {
    type Output = Result<(), resil_shed::Throttled>;

    fn new() -> Self {
        // The seed only fixes the draws, and none is made while every
        // request is accepted.
        let throttle = AdaptiveThrottle::builder()
            .seed(1)
            .build()
            .expect("a valid throttle");
        let mut op = ResilThrottle(throttle);
        for _ in 0..WARM_UP {
            op.run()
                .expect("a throttle whose requests are accepted refuses none");
        }
        assert_eq!(
            op.0.rejection_probability(),
            0.0,
            "the throttle would refuse"
        );
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        let decision = self.0.check();
        if decision.is_ok() {
            self.0.accepted();
        }
        decision
    }
}

/// tokio's `Semaphore::try_acquire`, the permit dropped (see the module
/// docs).
#[derive(Debug)]
pub struct TokioSemaphore(Semaphore);

impl Operation for TokioSemaphore {
    type Output = Result<(), TryAcquireError>;

    fn new() -> Self {
        let mut op = TokioSemaphore(Semaphore::new(LIMIT as usize));
        for _ in 0..WARM_UP {
            op.run().expect("an uncongested semaphore admits");
        }
        assert_eq!(
            op.0.available_permits(),
            LIMIT as usize,
            "a permit was not returned"
        );
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        self.0.try_acquire().map(drop)
    }
}

/// The service tower's limiters wrap: always ready, its response ready.
#[derive(Clone, Copy, Debug)]
pub struct Noop;

impl Service<()> for Noop {
    type Response = u64;
    type Error = Infallible;
    type Future = Ready<Result<u64, Infallible>>;

    #[inline]
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, (): ()) -> Self::Future {
        ready(Ok(1))
    }
}

/// One request through a tower service: `poll_ready` once on a no-op
/// waker, then `call`. `None` if the service was not ready.
#[inline]
fn ready_and_call<S: Service<()>>(service: &mut S) -> Option<S::Future> {
    let mut cx = Context::from_waker(Waker::noop());
    match service.poll_ready(&mut cx) {
        Poll::Ready(Ok(())) => Some(service.call(())),
        Poll::Ready(Err(_)) | Poll::Pending => None,
    }
}

/// The set-up check of a tower operation: the request is admitted and its
/// response is `Ok`, [`WARM_UP`] times (so a permit not returned shows).
fn check_tower<S>(service: &mut S)
where
    S: Service<(), Response = u64>,
    S::Error: core::fmt::Debug,
{
    for _ in 0..WARM_UP {
        let future = ready_and_call(service).expect("an uncongested tower limiter is ready");
        let response = poll_once(pin!(future));
        assert_eq!(response.expect("an uncongested tower limiter admits"), 1);
    }
}

/// tower's `ConcurrencyLimit` around [`Noop`]: `poll_ready` + `call`, the
/// response future dropped unpolled (see the module docs).
#[derive(Debug)]
pub struct TowerLimit(TowerConcurrencyLimit<Noop>);

impl Operation for TowerLimit {
    type Output = bool;

    fn new() -> Self {
        let mut op = TowerLimit(TowerConcurrencyLimit::new(Noop, LIMIT as usize));
        check_tower(&mut op.0);
        op
    }

    #[inline]
    fn run(&mut self) -> bool {
        ready_and_call(&mut self.0).is_some()
    }
}

/// tower's `LoadShed<ConcurrencyLimit<_>>` around [`Noop`]: `poll_ready` +
/// `call`, the response future dropped unpolled (see the module docs).
#[derive(Debug)]
pub struct TowerLoadShed(LoadShed<TowerConcurrencyLimit<Noop>>);

impl Operation for TowerLoadShed {
    type Output = bool;

    fn new() -> Self {
        let limit = TowerConcurrencyLimit::new(Noop, LIMIT as usize);
        let mut op = TowerLoadShed(LoadShed::new(limit));
        check_tower(&mut op.0);
        op
    }

    #[inline]
    fn run(&mut self) -> bool {
        // `LoadShed` is always ready; whether it shed is in the future,
        // which is dropped unpolled (the set-up checked that it admits).
        ready_and_call(&mut self.0).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limiter_admits_and_returns_its_permits() {
        // Each `new` checks its own limiter over more runs than the limit.
        let mut resil = ResilFixed::new();
        let mut aimd = ResilAimd::new();
        let mut throttle = ResilThrottle::new();
        let mut tokio = TokioSemaphore::new();
        let mut tower = TowerLimit::new();
        let mut shed = TowerLoadShed::new();
        for _ in 0..1_000 {
            assert!(resil.run().is_ok() && aimd.run().is_ok() && throttle.run().is_ok());
            assert!(tokio.run().is_ok() && tower.run() && shed.run());
        }
        assert_eq!(resil.0.in_flight(), 0);
        assert_eq!(aimd.0.in_flight(), 0);
        assert_eq!(tokio.0.available_permits(), LIMIT as usize);
        // tower's dropped futures gave their permits back: a limit of
        // `LIMIT` admitted 1,000 requests, and admits more.
        check_tower(&mut tower.0);
        check_tower(&mut shed.0);
    }
}
