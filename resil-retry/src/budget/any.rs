//! One type for a budget chosen at run time (from a configuration file,
//! say), so that a policy's type does not depend on the choice.

use resil_core::{Clock, Outcome, SystemClock};

use super::{Budget, RatioBudget, TokenBucket};

/// No budget, a [`RatioBudget`] or a [`TokenBucket`], as one type.
///
/// Share it between policies through `&AnyBudget` or `Arc<AnyBudget>`
/// (both are budgets too).
///
/// # Examples
///
/// ```
/// use resil_retry::{AnyBudget, Budget, TokenBucket};
///
/// let budget: AnyBudget = TokenBucket::new(10, 0.1)?.into();
/// assert!(budget.withdraw());
/// assert!(AnyBudget::<resil_core::SystemClock>::Unlimited.withdraw());
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyBudget<C = SystemClock> {
    /// No budget: every retry the policy allows goes ahead.
    Unlimited,
    /// A [`RatioBudget`].
    Ratio(RatioBudget<C>),
    /// A [`TokenBucket`].
    TokenBucket(TokenBucket),
}

impl<C: Clock> Budget for AnyBudget<C> {
    fn deposit(&self) {
        match self {
            AnyBudget::Unlimited => {}
            AnyBudget::Ratio(budget) => budget.deposit(),
            AnyBudget::TokenBucket(budget) => budget.deposit(),
        }
    }

    fn withdraw(&self) -> bool {
        match self {
            AnyBudget::Unlimited => true,
            AnyBudget::Ratio(budget) => budget.withdraw(),
            AnyBudget::TokenBucket(budget) => budget.withdraw(),
        }
    }

    fn record(&self, outcome: Outcome) {
        match self {
            AnyBudget::Unlimited => {}
            AnyBudget::Ratio(budget) => budget.record(outcome),
            AnyBudget::TokenBucket(budget) => budget.record(outcome),
        }
    }
}

impl<C> From<RatioBudget<C>> for AnyBudget<C> {
    fn from(budget: RatioBudget<C>) -> Self {
        AnyBudget::Ratio(budget)
    }
}

impl<C> From<TokenBucket> for AnyBudget<C> {
    fn from(budget: TokenBucket) -> Self {
        AnyBudget::TokenBucket(budget)
    }
}
