//! `Retry::attempts` (the loop driven by hand) makes exactly the decisions
//! `Retry::run` makes: the same waits, the same result and story, the same
//! events and the same budget accounting, across successes, exhausted
//! attempts, deadlines, empty budgets, ignored outcomes and server hints.

mod support;

use std::time::Duration;

use resil_core::{Clock, ManualClock, Outcome, listener_fn};
use resil_retry::{Decision, Retry, RetryError};
use resil_testkit::{EventLog, Seen};
use support::{CountingBudget, Counts, exponential, ms};

/// One scenario: the outcome of each attempt (the last repeats), a server
/// hint, and the policy's limits.
#[derive(Clone, Copy, Debug)]
struct Scenario {
    outcomes: &'static [Outcome],
    hint: Option<Duration>,
    max_attempts: u32,
    max_elapsed: Option<Duration>,
    allowance: u32,
}

type Story = (
    Result<u32, RetryError<u32>>,
    Vec<Duration>,
    Vec<Seen>,
    Counts,
);

fn outcome_of(scenario: &Scenario, attempt: u32) -> Outcome {
    let i = (attempt as usize - 1).min(scenario.outcomes.len() - 1);
    scenario.outcomes[i]
}

fn result_of(scenario: &Scenario, attempt: u32) -> Result<u32, u32> {
    match outcome_of(scenario, attempt) {
        Outcome::Success => Ok(attempt),
        _ => Err(attempt),
    }
}

/// Runs `scenario` with `drive` and returns what happened.
fn story(scenario: Scenario, by_hand: bool) -> Story {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let budget = CountingBudget::granting(scenario.allowance);
    let mut builder = Retry::builder()
        .backoff(exponential(ms(100), 2.0))
        .max_attempts(scenario.max_attempts)
        .clock(clock.clone())
        .budget(&budget)
        .name("by-hand")
        .listener(listener_fn(|event| log.push(event)));
    if let Some(limit) = scenario.max_elapsed {
        builder = builder.max_elapsed(limit);
    }
    let retry = builder.build().unwrap();
    let mut starts = Vec::new();
    let result = if by_hand {
        let mut attempts = retry.attempts();
        loop {
            let n = attempts.start();
            starts.push(clock.now().since_origin());
            let result = result_of(&scenario, n);
            let hint = scenario.hint.filter(|_| result.is_err());
            match attempts.settle(&retry, result, outcome_of(&scenario, n), hint) {
                Decision::Retry(delay) => {
                    clock.advance(delay);
                }
                Decision::Done(result) => break result,
            }
        }
    } else {
        let call = retry
            .call(async |n| {
                starts.push(clock.now().since_origin());
                result_of(&scenario, n)
            })
            .classify(|r: &Result<u32, u32>| {
                outcome_of(&scenario, *r.as_ref().unwrap_or_else(|e| e))
            })
            .hint(|r: &Result<u32, u32>| scenario.hint.filter(|_| r.is_err()))
            .run(&clock);
        clock.block_on(call)
    };
    (result, starts, log.take(), budget.counts())
}

#[test]
fn by_hand_and_run_tell_the_same_story() {
    use Outcome::{Failure, Ignored, Success};
    let base = Scenario {
        outcomes: &[Failure],
        hint: None,
        max_attempts: 4,
        max_elapsed: None,
        allowance: u32::MAX,
    };
    let scenarios = [
        Scenario {
            outcomes: &[Success],
            ..base
        },
        Scenario {
            outcomes: &[Failure, Failure, Success],
            ..base
        },
        base,
        Scenario {
            outcomes: &[Failure, Ignored],
            ..base
        },
        Scenario {
            max_elapsed: Some(ms(250)),
            ..base
        },
        Scenario {
            allowance: 1,
            ..base
        },
        Scenario {
            hint: Some(ms(700)),
            ..base
        },
    ];
    for scenario in scenarios {
        let by_hand = story(scenario, true);
        let run = story(scenario, false);
        assert_eq!(by_hand, run, "{scenario:?}");
    }
    // The scenarios do differ: a guard against a comparison of two empty stories.
    let (_, starts, _, counts) = story(
        Scenario {
            hint: Some(ms(700)),
            ..base
        },
        true,
    );
    assert_eq!(starts, [ms(0), ms(700), ms(1400), ms(2100)]);
    assert_eq!(counts.deposits, 1);
}

#[test]
fn a_seed_fixes_the_jitter_as_calls_seed_does() {
    let backoff = resil_core::Backoff::exponential(ms(100), 2.0)
        .jitter(resil_core::Jitter::Full)
        .build()
        .unwrap();
    let clock = ManualClock::new();
    let retry = Retry::builder()
        .backoff(backoff)
        .max_attempts(6)
        .clock(clock.clone())
        .build()
        .unwrap();
    let by_hand = |seed| {
        let mut attempts = retry.attempts().seed(seed);
        let mut delays = Vec::new();
        loop {
            attempts.start();
            match attempts.settle(&retry, Err::<(), _>(()), Outcome::Failure, None) {
                Decision::Retry(delay) => delays.push(delay),
                Decision::Done(_) => break delays,
            }
        }
    };
    let by_call = |seed| {
        let mut starts = Vec::new();
        let _ = retry
            .call_blocking(|_| {
                starts.push(clock.now());
                Err::<(), _>(())
            })
            .seed(seed)
            .run(&clock);
        starts.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
    };
    assert_eq!(by_hand(7), by_call(7));
    assert_eq!(by_hand(7), by_hand(7));
    assert_ne!(by_hand(7), by_hand(8));
}
