//! Helpers shared by the integration tests: short duration constructors,
//! backoffs without jitter, a budget that counts how the retry loop uses it,
//! an event log, and a one-shot poll.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resil_core::{Backoff, Instant, Outcome};
use resil_retry::Budget;

pub(crate) const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub(crate) const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
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

/// Polls `future` once with a waker that does nothing.
pub(crate) fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// What a [`CountingBudget`] has seen so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Calls to `deposit`: one per request.
    pub(crate) deposits: u32,
    /// Calls to `withdraw`, granted or not.
    pub(crate) withdrawals: u32,
    /// Calls to `withdraw` that returned `true`.
    pub(crate) granted: u32,
    /// `record(Outcome::Success)` calls.
    pub(crate) successes: u32,
    /// `record(Outcome::Failure)` calls.
    pub(crate) failures: u32,
    /// `record(Outcome::Ignored)` calls.
    pub(crate) ignored: u32,
}

impl Counts {
    /// Every `record` call, whatever its outcome.
    pub(crate) fn records(&self) -> u32 {
        self.successes + self.failures + self.ignored
    }
}

/// A budget that counts every call the retry loop makes on it, and grants
/// withdrawals only while it has allowance left. It uses atomics only, so it
/// allocates nothing and may be shared across threads.
#[derive(Debug)]
pub(crate) struct CountingBudget {
    deposits: AtomicU32,
    withdrawals: AtomicU32,
    granted: AtomicU32,
    successes: AtomicU32,
    failures: AtomicU32,
    ignored: AtomicU32,
    /// Withdrawals it will still grant.
    allowance: AtomicU32,
}

impl CountingBudget {
    /// A budget that grants every withdrawal.
    pub(crate) fn unlimited() -> Self {
        Self::granting(u32::MAX)
    }

    /// A budget that refuses every withdrawal.
    pub(crate) fn refusing() -> Self {
        Self::granting(0)
    }

    /// A budget that grants the first `n` withdrawals and refuses the rest.
    pub(crate) fn granting(n: u32) -> Self {
        CountingBudget {
            deposits: AtomicU32::new(0),
            withdrawals: AtomicU32::new(0),
            granted: AtomicU32::new(0),
            successes: AtomicU32::new(0),
            failures: AtomicU32::new(0),
            ignored: AtomicU32::new(0),
            allowance: AtomicU32::new(n),
        }
    }

    /// What it has seen so far.
    pub(crate) fn counts(&self) -> Counts {
        Counts {
            deposits: self.deposits.load(Ordering::SeqCst),
            withdrawals: self.withdrawals.load(Ordering::SeqCst),
            granted: self.granted.load(Ordering::SeqCst),
            successes: self.successes.load(Ordering::SeqCst),
            failures: self.failures.load(Ordering::SeqCst),
            ignored: self.ignored.load(Ordering::SeqCst),
        }
    }
}

impl Budget for CountingBudget {
    fn deposit(&self) {
        self.deposits.fetch_add(1, Ordering::SeqCst);
    }

    fn withdraw(&self) -> bool {
        self.withdrawals.fetch_add(1, Ordering::SeqCst);
        let took = self
            .allowance
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if took {
            self.granted.fetch_add(1, Ordering::SeqCst);
        }
        took
    }

    fn record(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Success => &self.successes,
            Outcome::Failure => &self.failures,
            Outcome::Ignored => &self.ignored,
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}
