//! Retries whose first attempt succeeds: resil-retry against backon and
//! backoff, beside the bare call.
//!
//! This is the price every call pays for being retryable, failing or not.
//! All three are configured alike: exponential backoff from 100 ms,
//! doubling, capped at 10 s, jittered, at most 3 attempts — resil's
//! `Retry::builder()` default. Where a peer cannot say that, the closest:
//!
//! - backon: `ExponentialBuilder` with those delays, `with_jitter()` and
//!   `with_max_times(2)` (2 retries = 3 attempts). backon builds its
//!   backoff iterator, jitter generator included, on every call — its
//!   design, so it is measured.
//! - backoff: `ExponentialBackoff` with those delays, its default
//!   randomization factor (0.5) and no elapsed-time limit (it has no
//!   attempt limit). A prebuilt policy is cloned per call (the cheapest way
//!   to give `retry` its by-value backoff); `retry` then resets it, which
//!   reads the clock.
//! - resil: one `Retry` built up front and borrowed by every call, as
//!   intended.
//!
//! The blocking rows sleep on each library's thread sleeper, the async rows
//! on a sleeper whose sleep is ready at once; neither sleeps, since the
//! first attempt succeeds. The async rows poll the call once on a no-op
//! waker ([`poll_once`]): no executor is involved.

use core::future::{Ready, ready};
use core::pin::pin;
use core::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};
use resil_core::{Backoff, Jitter, ThreadSleeper};
use resil_retry::{Retry, RetryError};

use crate::{Failure, Operation, ok, poll_once};

/// resil's policy: `Retry::builder()`'s defaults, spelled out.
pub(crate) fn resil_policy() -> Retry {
    let backoff = Backoff::exponential(Duration::from_millis(100), 2.0)
        .max_delay(Duration::from_secs(10))
        .jitter(Jitter::Full)
        .build()
        .expect("a valid backoff");
    Retry::builder()
        .backoff(backoff)
        .max_attempts(3)
        .build()
        .expect("a valid retry policy")
}

/// backon's equivalent.
pub(crate) fn backon_builder() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(100))
        .with_factor(2.0)
        .with_max_delay(Duration::from_secs(10))
        .with_max_times(2)
        .with_jitter()
}

/// backoff's equivalent.
fn backoff_policy() -> backoff::ExponentialBackoff {
    backoff::ExponentialBackoffBuilder::new()
        .with_initial_interval(Duration::from_millis(100))
        .with_multiplier(2.0)
        .with_max_interval(Duration::from_secs(10))
        .with_randomization_factor(0.5)
        .with_max_elapsed_time(None)
        .build()
}

/// The wrapped call, as backoff wants it: errors are transient.
#[inline]
fn ok_transient() -> Result<u64, backoff::Error<Failure>> {
    ok().map_err(backoff::Error::transient)
}

/// A sleeper whose sleep is over at once (never called: nothing fails).
pub(crate) fn no_sleep(_: Duration) -> Ready<()> {
    ready(())
}

/// backoff's sleeper trait, for [`no_sleep`].
#[derive(Clone, Copy, Debug)]
struct NoSleep;

impl backoff::future::Sleeper for NoSleep {
    type Sleep = Ready<()>;

    fn sleep(&self, dur: Duration) -> Ready<()> {
        no_sleep(dur)
    }
}

/// Checks that a set-up call succeeded.
pub(crate) fn expect_ok<E: core::fmt::Debug>(result: Result<u64, E>) {
    assert_eq!(result.expect("the first attempt succeeds"), 1);
}

/// The bare blocking call: the floor of the blocking row.
#[derive(Debug)]
pub struct BlockingBare;

impl Operation for BlockingBare {
    type Output = Result<u64, Failure>;

    fn new() -> Self {
        BlockingBare
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        ok()
    }
}

/// `Retry::run_blocking` on the thread sleeper.
#[derive(Debug)]
pub struct BlockingResil(Retry);

impl Operation for BlockingResil {
    type Output = Result<u64, RetryError<Failure>>;

    fn new() -> Self {
        let mut op = BlockingResil(resil_policy());
        expect_ok(op.run());
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        self.0.run_blocking(&ThreadSleeper, |_attempt| ok())
    }
}

/// backon's `BlockingRetryable::retry(..).call()` on its std sleeper.
#[derive(Debug)]
pub struct BlockingBackon(ExponentialBuilder);

impl Operation for BlockingBackon {
    type Output = Result<u64, Failure>;

    fn new() -> Self {
        let mut op = BlockingBackon(backon_builder());
        expect_ok(op.run());
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        use backon::BlockingRetryable as _;
        ok.retry(self.0).call()
    }
}

/// `backoff::retry` (it sleeps with `std::thread::sleep`).
#[derive(Debug)]
pub struct BlockingBackoff(backoff::ExponentialBackoff);

impl Operation for BlockingBackoff {
    type Output = Result<u64, backoff::Error<Failure>>;

    fn new() -> Self {
        let mut op = BlockingBackoff(backoff_policy());
        expect_ok(op.run());
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        backoff::retry(self.0.clone(), ok_transient)
    }
}

/// The bare async call, polled once: the floor of the async row.
#[derive(Debug)]
pub struct AsyncBare;

impl Operation for AsyncBare {
    type Output = Result<u64, Failure>;

    fn new() -> Self {
        AsyncBare
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        poll_once(pin!(async { ok() }))
    }
}

/// `Retry::run`, polled once.
#[derive(Debug)]
pub struct AsyncResil(Retry);

impl Operation for AsyncResil {
    type Output = Result<u64, RetryError<Failure>>;

    fn new() -> Self {
        let mut op = AsyncResil(resil_policy());
        expect_ok(op.run());
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        poll_once(pin!(self.0.run(&no_sleep, async |_attempt| ok())))
    }
}

/// backon's `Retryable::retry(..).sleep(..)`, polled once.
#[derive(Debug)]
pub struct AsyncBackon(ExponentialBuilder);

impl Operation for AsyncBackon {
    type Output = Result<u64, Failure>;

    fn new() -> Self {
        let mut op = AsyncBackon(backon_builder());
        expect_ok(op.run());
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        poll_once(pin!((|| async { ok() }).retry(self.0).sleep(no_sleep)))
    }
}

/// `backoff::future::Retry`, polled once. `backoff::future::retry` itself
/// needs its tokio or async-std feature for a sleeper; this is its body
/// (reset the backoff, then `Retry::new`) with the no-op sleeper.
#[derive(Debug)]
pub struct AsyncBackoff(backoff::ExponentialBackoff);

impl Operation for AsyncBackoff {
    type Output = Result<u64, Failure>;

    fn new() -> Self {
        let mut op = AsyncBackoff(backoff_policy());
        expect_ok(op.run());
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        use backoff::backoff::Backoff as _;
        let mut backoff = self.0.clone();
        backoff.reset();
        let notify = |_: Failure, _: Duration| {};
        poll_once(pin!(backoff::future::Retry::new(
            NoSleep,
            backoff,
            notify,
            || async { ok_transient() },
        )))
    }
}
