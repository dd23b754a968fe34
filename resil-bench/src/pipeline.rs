//! A whole call through every technique, succeeding on its first attempt:
//! the price each request pays when nothing goes wrong.
//!
//! - resil: the facade's `Pipeline` with a `ConcurrencyLimit<Fixed>` of
//!   [`LIMIT`], the retry row's policy (3 attempts,
//!   exponential backoff with full jitter) and the count-window breaker of
//!   the breaker rows; `call(..).priority(Critical).run(&no_sleep)`, polled
//!   once. No timeouts: the peers have no runtime-free timeout to compare.
//! - peers, composed by hand as a user without resil would: tokio's
//!   `Semaphore::try_acquire` (the limiter row's cheapest peer), then
//!   backon's retry (the retry row's) around failsafe's
//!   `consecutive_failures` breaker (the breaker rows' cheapest), polled
//!   once. failsafe's policy does less than a window (one counter), and the
//!   borrowed semaphore permit pays no reference count: both flatter the
//!   peers, never resil.
//! - the bare async call, as the floor.

use core::pin::pin;

use backon::{ExponentialBuilder, Retryable as _};
use failsafe::CircuitBreaker as _;
use resil::Pipeline;
use resil::pipeline::PipelineError;
use resil_breaker::CircuitBreaker;
use resil_retry::Retry;
use resil_shed::{ConcurrencyLimit, Fixed, Priority};
use tokio::sync::Semaphore;

use crate::breaker::{Breaker as _, FailsafeConsecutive, ResilCount, TRIPS_AT};
use crate::retry::{backon_builder, expect_ok, no_sleep, resil_policy};
use crate::shed::LIMIT;
use crate::{Failure, Operation, ok, poll_once};

/// resil's pipeline (see the module docs).
#[derive(Debug)]
pub struct ResilPipeline(Pipeline<ConcurrencyLimit<Fixed>, Retry, CircuitBreaker>);

impl Operation for ResilPipeline {
    type Output = Result<u64, PipelineError<Failure>>;

    fn new() -> Self {
        let limit = Fixed::try_from(LIMIT).expect("a valid limit");
        let pipeline = Pipeline::builder()
            .shed(
                ConcurrencyLimit::builder(limit)
                    .build()
                    .expect("a valid limiter"),
            )
            .retry(resil_policy())
            .breaker(ResilCount::build(TRIPS_AT).0)
            .build()
            .expect("a valid pipeline");
        let mut op = ResilPipeline(pipeline);
        for _ in 0..2 * LIMIT {
            expect_ok(op.run());
        }
        assert_eq!(op.0.shed().in_flight(), 0, "a permit was not returned");
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        let call = self
            .0
            .call(async |_attempt| ok())
            .priority(Priority::Critical);
        poll_once(pin!(call.run(&no_sleep)))
    }
}

/// The peers composed by hand (see the module docs).
#[derive(Debug)]
pub struct PeersByHand {
    semaphore: Semaphore,
    retry: ExponentialBuilder,
    breaker: FailsafeConsecutive,
}

/// Why the peers' composition refused or failed a call.
#[derive(Debug)]
pub enum PeerError {
    /// The semaphore had no permit.
    Shed,
    /// The breaker refused, or the call failed.
    Breaker(failsafe::Error<Failure>),
}

impl Operation for PeersByHand {
    type Output = Result<u64, PeerError>;

    fn new() -> Self {
        let mut op = PeersByHand {
            semaphore: Semaphore::new(LIMIT as usize),
            retry: backon_builder(),
            breaker: FailsafeConsecutive::build(TRIPS_AT),
        };
        for _ in 0..2 * LIMIT {
            expect_ok(op.run());
        }
        assert_eq!(
            op.semaphore.available_permits(),
            LIMIT as usize,
            "a permit was not returned"
        );
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        let PeersByHand {
            semaphore,
            retry,
            breaker,
        } = self;
        poll_once(pin!(async {
            let _permit = semaphore.try_acquire().map_err(|_| PeerError::Shed)?;
            (|| async { breaker.0.call(ok) })
                .retry(*retry)
                .sleep(no_sleep)
                .await
                .map_err(PeerError::Breaker)
        }))
    }
}
