//! `AnyBudget` is the budget it wraps, call for call; `Unlimited` grants
//! every retry.

use std::time::Duration;

use resil_core::{ManualClock, Outcome};
use resil_retry::{AnyBudget, Budget, RatioBudget, TokenBucket};

/// Drives `budget` through a fixed mix of requests, outcomes and retries,
/// returning which withdrawals it granted.
fn story(budget: &impl Budget, clock: &ManualClock) -> Vec<bool> {
    let mut granted = Vec::new();
    for i in 0..200u32 {
        budget.deposit();
        budget.record(if i % 3 == 0 {
            Outcome::Failure
        } else {
            Outcome::Success
        });
        if i % 2 == 0 {
            granted.push(budget.withdraw());
        }
        clock.advance(Duration::from_millis(50));
    }
    granted
}

#[test]
fn any_budget_is_the_budget_it_wraps() {
    let bucket = || TokenBucket::new(5, 0.1).unwrap();
    let (a, b) = (ManualClock::new(), ManualClock::new());
    assert_eq!(
        story(&AnyBudget::<ManualClock>::from(bucket()), &a),
        story(&bucket(), &b)
    );

    let ratio = |clock: &ManualClock| {
        RatioBudget::builder()
            .ratio(0.1)
            .min_per_second(1)
            .clock(clock.clone())
            .build()
            .unwrap()
    };
    let (a, b) = (ManualClock::new(), ManualClock::new());
    let wrapped = story(&AnyBudget::from(ratio(&a)), &a);
    assert_eq!(wrapped, story(&ratio(&b), &b));
    assert!(
        wrapped.contains(&false),
        "the mix must exhaust the budget sometimes"
    );

    let unlimited = story(&AnyBudget::<ManualClock>::Unlimited, &ManualClock::new());
    assert!(unlimited.iter().all(|&granted| granted));
}
