//! How the retry loop uses its `Budget`, seen through a budget that counts:
//! one deposit per call, one record per attempt, one withdrawal per retry
//! that would otherwise go ahead (none when the attempts or the deadline stop
//! it first), and an empty budget stops retrying after one attempt.

mod support;

use std::sync::Arc;
use std::time::Duration;

use resil_core::{Clock, ManualClock, StopReason};
use resil_retry::{Budget, Retry};

use support::{CountingBudget, Counts, constant, secs};

/// A policy on `clock` using `budget`, with 1 s waits and `attempts`.
fn policy<B: Budget>(clock: &ManualClock, budget: B, attempts: u32) -> Retry<ManualClock, B> {
    Retry::builder()
        .clock(clock.clone())
        .backoff(constant(secs(1)))
        .max_attempts(attempts)
        .budget(budget)
        .build()
        .unwrap()
}

#[test]
fn a_first_attempt_success_deposits_and_records_once_and_withdraws_nothing() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget, 3);
    assert_eq!(
        clock.block_on(retry.run(&clock, async |_| Ok::<_, ()>(1))),
        Ok(1)
    );
    assert_eq!(
        budget.counts(),
        Counts {
            deposits: 1,
            successes: 1,
            ..Counts::default()
        }
    );
}

#[test]
fn a_late_success_withdraws_once_per_retry_and_records_every_attempt() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget, 5);
    let answer = clock.block_on(retry.run(
        &clock,
        async |attempt| if attempt < 3 { Err(()) } else { Ok(attempt) },
    ));
    assert_eq!(answer, Ok(3));
    assert_eq!(
        budget.counts(),
        Counts {
            deposits: 1,
            withdrawals: 2,
            granted: 2,
            successes: 1,
            failures: 2,
            ignored: 0,
        }
    );
}

#[test]
fn no_withdrawal_is_made_for_the_retry_the_attempt_limit_forbids() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget, 3);
    let err = retry
        .run_blocking(&clock, |_| Err::<(), _>(()))
        .unwrap_err();
    assert_eq!(err.reason(), StopReason::AttemptsExhausted);
    assert_eq!(
        budget.counts(),
        Counts {
            deposits: 1,
            withdrawals: 2,
            granted: 2,
            failures: 3,
            ..Counts::default()
        }
    );
}

#[test]
fn no_withdrawal_is_made_for_the_retry_the_deadline_forbids() {
    // Waits of 1 s within a 2 s deadline: attempts at 0, 1 and 2 s; the
    // third failure's retry would end at 3 s, so it is neither paid for nor
    // made.
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = Retry::builder()
        .clock(clock.clone())
        .backoff(constant(secs(1)))
        .max_attempts(10)
        .max_elapsed(secs(2))
        .budget(&budget)
        .build()
        .unwrap();
    let err = clock
        .block_on(retry.run(&clock, async |_| Err::<(), _>(())))
        .unwrap_err();
    assert_eq!((err.attempts(), err.reason()), (3, StopReason::Deadline));
    assert_eq!(
        budget.counts(),
        Counts {
            deposits: 1,
            withdrawals: 2,
            granted: 2,
            failures: 3,
            ..Counts::default()
        }
    );
}

#[test]
fn no_withdrawal_is_made_for_an_error_that_is_not_retried() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget, 3);
    let err = retry
        .call_blocking(|_| Err::<(), _>("bad request"))
        .retry_if(|_| false)
        .run(&clock)
        .unwrap_err();
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(
        budget.counts(),
        Counts {
            deposits: 1,
            ignored: 1,
            ..Counts::default()
        }
    );
}

#[test]
fn an_empty_budget_stops_retrying_after_exactly_one_attempt() {
    let clock = ManualClock::new();
    let budget = CountingBudget::refusing();
    let retry = policy(&clock, &budget, 5);
    let mut calls = 0;
    let mut hooks = 0;
    let err = clock
        .block_on(
            retry
                .call(async |_| {
                    calls += 1;
                    Err::<(), _>("unavailable")
                })
                .on_retry(|_| hooks += 1)
                .run(&clock),
        )
        .unwrap_err();
    assert_eq!(calls, 1);
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.reason(), StopReason::BudgetEmpty);
    assert_eq!(
        err.to_string(),
        "retry budget empty after 1 attempt: unavailable"
    );
    assert_eq!(hooks, 0, "on_retry is called only for retries that happen");
    assert_eq!(
        clock.now().since_origin(),
        Duration::ZERO,
        "it did not wait"
    );
    assert_eq!(
        budget.counts(),
        Counts {
            deposits: 1,
            withdrawals: 1,
            granted: 0,
            failures: 1,
            ..Counts::default()
        }
    );

    // Blocking, the same.
    let err = retry
        .run_blocking(&clock, |_| Err::<(), _>(()))
        .unwrap_err();
    assert_eq!((err.attempts(), err.reason()), (1, StopReason::BudgetEmpty));
    assert_eq!(budget.counts().deposits, 2);
    assert_eq!(budget.counts().withdrawals, 2);
}

#[test]
fn a_budget_that_runs_dry_mid_call_stops_it_there() {
    let clock = ManualClock::new();
    let budget = CountingBudget::granting(2);
    let retry = policy(&clock, &budget, 10);
    let err = retry
        .run_blocking(&clock, |_| Err::<(), _>(()))
        .unwrap_err();
    assert_eq!((err.attempts(), err.reason()), (3, StopReason::BudgetEmpty));
    assert_eq!(err.elapsed(), secs(2));
    assert_eq!(
        budget.counts(),
        Counts {
            deposits: 1,
            withdrawals: 3,
            granted: 2,
            failures: 3,
            ..Counts::default()
        }
    );
}

#[test]
fn one_budget_is_shared_by_many_calls_and_policies() {
    // Two policies, one by reference and one through an `Arc`, draw on the
    // same four retries.
    let clock = ManualClock::new();
    let budget = Arc::new(CountingBudget::granting(4));
    let by_ref = policy(&clock, &*budget, 3);
    let by_arc = policy(&clock, Arc::clone(&budget), 3);
    let mut reasons = Vec::new();
    for _ in 0..2 {
        reasons.push(
            by_ref
                .run_blocking(&clock, |_| Err::<(), _>(()))
                .unwrap_err()
                .reason(),
        );
        reasons.push(
            clock
                .block_on(by_arc.run(&clock, async |_| Err::<(), _>(())))
                .unwrap_err()
                .reason(),
        );
    }
    assert_eq!(
        reasons,
        [
            StopReason::AttemptsExhausted,
            StopReason::AttemptsExhausted,
            StopReason::BudgetEmpty,
            StopReason::BudgetEmpty,
        ]
    );
    let counts = budget.counts();
    assert_eq!(counts.deposits, 4);
    assert_eq!(counts.granted, 4);
    // 2 × 2 withdrawals granted, then one refused per call.
    assert_eq!(counts.withdrawals, 6);
    assert_eq!(counts.failures, 3 + 3 + 1 + 1);
}

#[test]
fn every_record_matches_an_attempt() {
    // Whatever the mix of outcomes, records equal attempts and granted
    // withdrawals equal retries.
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget, 4);
    let mut attempts_made = 0;
    for script in [
        &[Ok(1)][..],
        &[Err(true), Ok(2)],
        &[Err(true), Err(false)],
        &[Err(true); 4],
    ] {
        let mut calls = 0;
        let _ = retry
            .call_blocking(|attempt| {
                calls += 1;
                script[usize::try_from(attempt).unwrap() - 1]
            })
            .retry_if(|&retryable| retryable)
            .run(&clock);
        attempts_made += calls;
    }
    let counts = budget.counts();
    assert_eq!(counts.deposits, 4);
    assert_eq!(counts.records(), attempts_made);
    assert_eq!(
        counts.granted,
        attempts_made - 4,
        "one retry per attempt after the first"
    );
}

#[test]
fn one_policy_and_budget_shared_across_threads_count_exactly() {
    // Eight threads make 50 failing calls each through one policy; the
    // budget grants 100 retries in all, and every call is counted.
    let clock = ManualClock::new();
    let budget = CountingBudget::granting(100);
    let retry = policy(&clock, &budget, 3);
    let stopped: Vec<Vec<StopReason>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    (0..50)
                        .map(|_| {
                            retry
                                .run_blocking(&clock, |_| Err::<(), _>(()))
                                .unwrap_err()
                                .reason()
                        })
                        .collect()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let counts = budget.counts();
    assert_eq!(counts.deposits, 400);
    assert_eq!(counts.granted, 100);
    let budget_empty = stopped
        .iter()
        .flatten()
        .filter(|&&r| r == StopReason::BudgetEmpty)
        .count();
    // Each refused withdrawal ended one call.
    assert_eq!(
        u32::try_from(budget_empty).unwrap(),
        counts.withdrawals - counts.granted
    );
    assert_eq!(
        counts.failures,
        counts.granted + 400,
        "one attempt per call plus one per retry"
    );
}
