//! Hedging on virtual time: when hedges start (fixed delay, percentile,
//! at once after a failure), that the first success wins and the rest are
//! cancelled, the `max_hedges` and budget limits, and its config errors.

use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::sync::Mutex;

use resil_core::{
    Clock, Event, EventKind, Instant, ManualClock, Outcome, Sleeper, StopReason, listener_fn,
};
use resil_retry::{Budget, Hedge, HedgeDelay};

const MS: Duration = Duration::from_millis(1);

/// An attempt that answers `value` after `latency` on `clock`.
async fn answer_after<T>(
    clock: ManualClock,
    latency: Duration,
    value: Result<T, &'static str>,
) -> Result<T, &'static str> {
    clock.sleep(latency).await;
    value
}

fn fixed(clock: &ManualClock, delay: Duration, max_hedges: u32) -> Hedge<ManualClock> {
    Hedge::builder()
        .delay(HedgeDelay::Fixed(delay))
        .max_hedges(max_hedges)
        .clock(clock.clone())
        .build()
        .unwrap()
}

#[test]
fn a_fast_first_attempt_sends_no_hedge() {
    let clock = ManualClock::new();
    let hedge = fixed(&clock, 50 * MS, 2);
    let launched = AtomicU32::new(0);
    let result = clock.block_on(hedge.run(&clock, |attempt| {
        launched.fetch_add(1, Ordering::SeqCst);
        answer_after(clock.clone(), 10 * MS, Ok(attempt))
    }));
    assert_eq!(result, Ok(1));
    assert_eq!(launched.load(Ordering::SeqCst), 1);
    assert_eq!(clock.now(), Instant::ZERO + 10 * MS);
    assert_eq!(clock.pending_sleeps(), 0, "the hedge timer was dropped");
}

#[test]
fn a_slow_attempt_is_hedged_after_the_delay_and_cancelled_when_the_hedge_wins() {
    let clock = ManualClock::new();
    let hedge = fixed(&clock, 50 * MS, 1);
    let started = Mutex::new(Vec::new());
    let result = clock.block_on(hedge.run(&clock, |attempt| {
        started.lock().unwrap().push((attempt, clock.now()));
        let latency = if attempt == 1 {
            Duration::from_secs(60)
        } else {
            10 * MS
        };
        answer_after(clock.clone(), latency, Ok(attempt))
    }));
    assert_eq!(result, Ok(2));
    assert_eq!(
        started.into_inner().unwrap(),
        [(1, Instant::ZERO), (2, Instant::ZERO + 50 * MS)]
    );
    assert_eq!(clock.now(), Instant::ZERO + 60 * MS);
    assert_eq!(clock.pending_sleeps(), 0, "the slow attempt was cancelled");
}

#[test]
fn a_failure_starts_the_next_hedge_at_once() {
    let clock = ManualClock::new();
    let hedge = fixed(&clock, Duration::from_secs(10), 1);
    let started = Mutex::new(Vec::new());
    let result = clock.block_on(hedge.run(&clock, |attempt| {
        started.lock().unwrap().push(clock.now());
        let value = if attempt == 1 {
            Err("reset")
        } else {
            Ok(attempt)
        };
        answer_after(clock.clone(), 5 * MS, value)
    }));
    assert_eq!(result, Ok(2));
    assert_eq!(
        started.into_inner().unwrap(),
        [Instant::ZERO, Instant::ZERO + 5 * MS],
        "no waiting for the 10s hedge delay after a failure"
    );
}

#[test]
fn max_hedges_bounds_the_attempts_in_flight() {
    let clock = ManualClock::new();
    let hedge = fixed(&clock, Duration::from_secs(1), 2);
    let launched = AtomicU32::new(0);
    let result = clock.block_on(hedge.run(&clock, |attempt| {
        launched.fetch_add(1, Ordering::SeqCst);
        answer_after(clock.clone(), Duration::from_secs(10), Ok(attempt))
    }));
    assert_eq!(
        launched.load(Ordering::SeqCst),
        3,
        "the first and two hedges"
    );
    assert_eq!(result, Ok(1), "the first attempt still finishes first");
    assert_eq!(clock.now(), Instant::ZERO + Duration::from_secs(10));
}

#[test]
fn when_every_attempt_fails_the_last_error_is_returned() {
    let clock = ManualClock::new();
    let hedge = fixed(&clock, 20 * MS, 2);
    let err = clock
        .block_on(hedge.run(&clock, |attempt| {
            answer_after::<u32>(clock.clone(), MS * attempt, Err("down"))
        }))
        .unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.reason(), StopReason::AttemptsExhausted);
    assert_eq!(err.into_inner(), "down");
}

#[test]
fn an_ignored_result_ends_the_call_and_cancels_the_others() {
    let clock = ManualClock::new();
    let hedge = fixed(&clock, 10 * MS, 1);
    let err = clock
        .block_on(hedge.run_classified(
            &clock,
            |r: &Result<u32, &str>| match r {
                Err("bad request") => Outcome::Ignored,
                Err(_) => Outcome::Failure,
                Ok(_) => Outcome::Success,
            },
            |attempt| {
                let (latency, value) = if attempt == 1 {
                    (Duration::from_secs(60), Ok(1))
                } else {
                    (5 * MS, Err("bad request"))
                };
                answer_after(clock.clone(), latency, value)
            },
        ))
        .unwrap_err();
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(err.attempts(), 2);
    assert_eq!(clock.pending_sleeps(), 0);
}

/// Allows `hedges` withdrawals, then refuses; counts every call.
#[derive(Default)]
struct Allowance {
    hedges: AtomicU32,
    deposits: AtomicU32,
    records: AtomicU32,
}

impl Budget for Allowance {
    fn deposit(&self) {
        self.deposits.fetch_add(1, Ordering::SeqCst);
    }

    fn withdraw(&self) -> bool {
        self.hedges
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    fn record(&self, _outcome: Outcome) {
        self.records.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn every_hedge_is_paid_for_from_the_budget() {
    let clock = ManualClock::new();
    let budget = Allowance::default();
    budget.hedges.store(1, Ordering::SeqCst);
    let hedge = Hedge::builder()
        .delay(HedgeDelay::Fixed(MS))
        .max_hedges(5)
        .clock(clock.clone())
        .budget(&budget)
        .build()
        .unwrap();
    let err = clock
        .block_on(hedge.run(&clock, |_| {
            answer_after::<()>(clock.clone(), 10 * MS, Err("slow and failing"))
        }))
        .unwrap_err();
    assert_eq!(err.attempts(), 2, "one hedge was affordable");
    assert_eq!(err.reason(), StopReason::BudgetEmpty);
    assert_eq!(budget.deposits.load(Ordering::SeqCst), 1);
    assert_eq!(budget.records.load(Ordering::SeqCst), 2);
}

#[test]
fn a_percentile_delay_follows_recent_latencies() {
    let clock = ManualClock::new();
    let events = Mutex::new(Vec::new());
    let hedge = Hedge::builder()
        .delay(HedgeDelay::Percentile {
            quantile: 0.95,
            initial: Duration::from_secs(1),
        })
        .clock(clock.clone())
        .listener(listener_fn(|e: &Event<'_>| {
            events.lock().unwrap().push((e.at, e.kind))
        }))
        .build()
        .unwrap();
    // Twenty calls of 20ms teach it the service's latency.
    for _ in 0..20 {
        let result =
            clock.block_on(hedge.run(&clock, |a| answer_after(clock.clone(), 20 * MS, Ok(a))));
        assert_eq!(result, Ok(1));
    }
    assert!(
        events.lock().unwrap().is_empty(),
        "no hedges while the initial delay is 1s"
    );
    // Now a slow call is hedged after ~20ms, not the initial 1s.
    let begin = clock.now();
    let result = clock.block_on(hedge.run(&clock, |attempt| {
        let latency = if attempt == 1 {
            Duration::from_secs(60)
        } else {
            20 * MS
        };
        answer_after(clock.clone(), latency, Ok(attempt))
    }));
    assert_eq!(result, Ok(2));
    let events = events.into_inner().unwrap();
    let sent: Vec<_> = events
        .iter()
        .filter(|(_, kind)| matches!(kind, EventKind::HedgeSent { .. }))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, begin + 20 * MS);
}

#[test]
fn invalid_configurations_are_errors() {
    let err = Hedge::builder().max_hedges(0).build().unwrap_err();
    assert_eq!(err.field(), "max_hedges");
    for quantile in [0.0, -0.5, 1.5, f64::NAN] {
        let err = Hedge::builder()
            .delay(HedgeDelay::Percentile {
                quantile,
                initial: MS,
            })
            .build()
            .unwrap_err();
        assert_eq!(err.field(), "quantile");
    }
    assert!(
        Hedge::builder()
            .delay(HedgeDelay::Fixed(Duration::ZERO))
            .build()
            .is_ok()
    );
}
