//! Why budgets and not just a maximum number of attempts?
//!
//! `max_attempts = 3` bounds the load one request can cause, but not the
//! load a fleet causes when a dependency fails: every request then makes
//! three attempts, and a struggling service receives three times its normal
//! traffic exactly when it can least take it. Stack three layers that each
//! retry three times and the bottom one sees 27×. A budget bounds retries
//! *across* requests: retries may add at most, say, 20% to the traffic,
//! however many requests fail at once. When the budget is empty a request
//! fails fast with [`StopReason::BudgetEmpty`](resil_core::StopReason),
//! which is what lets the dependency recover.
//!
//! A [`Budget`] is shared by every call of a policy (and by as many
//! policies as you like, through `&B` or `Arc<B>`), across threads.

use resil_core::Outcome;

#[cfg(feature = "std")]
mod any;
#[cfg(feature = "std")]
mod ratio;
#[cfg(feature = "std")]
mod token_bucket;

#[cfg(feature = "std")]
pub use any::AnyBudget;
#[cfg(feature = "std")]
pub use ratio::{RatioBudget, RatioBudgetBuilder};
#[cfg(feature = "std")]
pub use token_bucket::TokenBucket;

/// A shared allowance of retries.
///
/// A retry loop calls [`deposit`](Self::deposit) once per request (before
/// its first attempt), [`record`](Self::record) with every attempt's
/// outcome, and [`withdraw`](Self::withdraw) before every retry: a retry
/// goes ahead only if `withdraw` returns `true`.
///
/// Implementations must be exact under contention. A budget that charges
/// per retry ([`RatioBudget`]) checks and takes in one atomic step in
/// `withdraw`, so threads racing for the last retry cannot all get it. One
/// that charges per failure ([`TokenBucket`], gRPC's semantics) has taken
/// its charge in `record` and only checks in `withdraw`.
pub trait Budget: Send + Sync {
    /// A new request is starting.
    fn deposit(&self);

    /// May one retry go ahead? If so, it is paid for (here, or already in
    /// `record`, depending on the budget).
    fn withdraw(&self) -> bool;

    /// An attempt ended with `outcome`. Budgets that only count requests and
    /// retries ignore it.
    fn record(&self, outcome: Outcome) {
        let _ = outcome;
    }
}

/// No budget: every retry the policy allows goes ahead. The default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoBudget;

impl Budget for NoBudget {
    #[inline(always)]
    fn deposit(&self) {}

    #[inline(always)]
    fn withdraw(&self) -> bool {
        true
    }
}

impl<B: Budget + ?Sized> Budget for &B {
    fn deposit(&self) {
        (**self).deposit()
    }

    fn withdraw(&self) -> bool {
        (**self).withdraw()
    }

    fn record(&self, outcome: Outcome) {
        (**self).record(outcome)
    }
}

#[cfg(feature = "std")]
impl<B: Budget + ?Sized> Budget for alloc::sync::Arc<B> {
    fn deposit(&self) {
        (**self).deposit()
    }

    fn withdraw(&self) -> bool {
        (**self).withdraw()
    }

    fn record(&self, outcome: Outcome) {
        (**self).record(outcome)
    }
}
