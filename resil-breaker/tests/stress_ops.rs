//! A seeded storm on one breaker: 100,000 acquire / record / abandon /
//! panic operations from sixteen tasks on a multi-threaded tokio runtime,
//! while they move virtual time, checked by counts, never by times.
//!
//! Why on top of `stress.rs` and the loom models: those race threads on one
//! transition at a time (half-open admission, one trip per burst); here
//! every transition happens thousands of times in an arbitrary order, with
//! permits held across transitions, dropped unrecorded, or dropped by a
//! panicking task or a panicking closure inside `call`. Afterwards the
//! books must balance: every admitted call settled exactly one way, the
//! breaker's own rejection count matches ours, no open episode half-opened
//! twice, and a fresh half-open episode admits exactly its trial permits
//! (a trial slot leaked by the storm would show as one fewer).
//!
//! The seed is printed; rerun one with
//! `RESIL_STRESS_SEED=<seed> cargo test -p resil-breaker --test stress_ops`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use resil_breaker::{CircuitBreaker, SlidingWindow};
use resil_core::{CircuitState, Event, EventKind, Listener, ManualClock, SplitMix64};

/// Operations in all, shared out between the tasks.
const OPS: u64 = 100_000;
/// Tasks racing on the breaker.
const TASKS: u64 = 16;
/// Trial calls a half-open breaker admits.
const PERMITS: u32 = 3;
/// How long the breaker stays open.
const WAIT: Duration = Duration::from_millis(10);

/// What the tasks saw.
#[derive(Debug, Default)]
struct Tally {
    admitted: AtomicU64,
    rejected: AtomicU64,
    successes: AtomicU64,
    failures: AtomicU64,
    ignored: AtomicU64,
    /// Permits dropped without a word.
    abandoned: AtomicU64,
    /// Permits dropped by unwinding: a panicking task or closure.
    panicked: AtomicU64,
}

/// Transitions by their ends, as the listener saw them.
#[derive(Debug, Default)]
struct Transitions {
    to_open: AtomicU64,
    open_to_half_open: AtomicU64,
    from_half_open: AtomicU64,
}

impl Listener for Transitions {
    fn on_event(&self, event: &Event<'_>) {
        if let EventKind::BreakerTransition { from, to, .. } = event.kind {
            if to == CircuitState::Open {
                self.to_open.fetch_add(1, Ordering::SeqCst);
            }
            if (from, to) == (CircuitState::Open, CircuitState::HalfOpen) {
                self.open_to_half_open.fetch_add(1, Ordering::SeqCst);
            }
            if from == CircuitState::HalfOpen {
                self.from_half_open.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// One task's share of the storm.
async fn worker(breaker: Breaker, clock: ManualClock, tally: Arc<Tally>, seed: u64, ops: u64) {
    let mut rng = SplitMix64::new(seed);
    for _ in 0..ops {
        let roll = rng.next_u64();
        // Every task moves virtual time a little, now and then, so waits
        // end at a pace set by the operations, not by the scheduler.
        if roll % 4 == 0 {
            clock.advance(Duration::from_micros((roll >> 40) % 2_000));
        }
        let yields = (roll >> 8) % 4;
        // Half the calls fail, so the failure rate crosses 50% again and
        // again, and half-open trials both close and reopen the breaker.
        let fails = (roll >> 16) % 2 == 0;
        match (roll >> 24) % 8 {
            // A permit held across scheduling points, then settled one way.
            0..=3 => match breaker.try_acquire_owned() {
                Ok(permit) => {
                    tally.admitted.fetch_add(1, Ordering::Relaxed);
                    for _ in 0..yields {
                        tokio::task::yield_now().await;
                    }
                    match (roll >> 32) % 5 {
                        0 | 1 if fails => {
                            tally.failures.fetch_add(1, Ordering::Relaxed);
                            permit.failure();
                        }
                        0 | 1 => {
                            tally.successes.fetch_add(1, Ordering::Relaxed);
                            permit.success();
                        }
                        2 | 3 => {
                            tally.ignored.fetch_add(1, Ordering::Relaxed);
                            permit.ignore();
                        }
                        _ => {
                            tally.abandoned.fetch_add(1, Ordering::Relaxed);
                            drop(permit);
                        }
                    }
                }
                Err(_) => {
                    tally.rejected.fetch_add(1, Ordering::Relaxed);
                }
            },
            // `call` with a closure that succeeds or fails.
            4 | 5 => {
                let result = breaker.call(|| if fails { Err("down") } else { Ok(()) });
                match result {
                    Ok(()) => {
                        tally.admitted.fetch_add(1, Ordering::Relaxed);
                        tally.successes.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(err) if err.is_rejected() => {
                        tally.rejected.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        tally.admitted.fetch_add(1, Ordering::Relaxed);
                        tally.failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            // `call` with a closure that panics.
            6 => {
                let admitted = AtomicBool::new(false);
                let unwound = catch_unwind(AssertUnwindSafe(|| {
                    breaker.call(|| -> Result<(), &str> {
                        admitted.store(true, Ordering::Relaxed);
                        panic!("stress: deliberate panic inside call");
                    })
                }));
                if admitted.load(Ordering::Relaxed) {
                    assert!(unwound.is_err());
                    tally.admitted.fetch_add(1, Ordering::Relaxed);
                    tally.panicked.fetch_add(1, Ordering::Relaxed);
                } else {
                    assert!(matches!(unwound, Ok(Err(ref err)) if err.is_rejected()));
                    tally.rejected.fetch_add(1, Ordering::Relaxed);
                }
            }
            // A task that panics while it holds a permit.
            _ => {
                let breaker = breaker.clone();
                let inner = Arc::clone(&tally);
                let task = tokio::spawn(async move {
                    match breaker.try_acquire_owned() {
                        Ok(permit) => {
                            inner.admitted.fetch_add(1, Ordering::Relaxed);
                            inner.panicked.fetch_add(1, Ordering::Relaxed);
                            let _held = permit;
                            tokio::task::yield_now().await;
                            panic!("stress: deliberate panic while holding a permit");
                        }
                        Err(_) => {
                            inner.rejected.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
                if let Err(err) = task.await {
                    assert!(err.is_panic(), "the task was not cancelled: {err}");
                }
            }
        }
        // A rejection never awaits; without this, tasks that are rejected
        // in a loop starve the ones holding trial permits, and virtual time
        // (moved by the former) races ahead of the calls in flight.
        tokio::task::yield_now().await;
    }
}

/// Clones share one breaker; the listener counts its transitions.
type Breaker = CircuitBreaker<ManualClock, Arc<Transitions>>;

#[test]
fn a_storm_of_calls_abandons_and_panics_balances_the_books() {
    let seed = resil_testkit::stress_seed(0xB4EA_4E45);
    // The deliberate panics are expected; keep the output readable.
    let quiet = resil_testkit::quiet_panics("stress: deliberate");

    let clock = ManualClock::new();
    let transitions = Arc::new(Transitions::default());
    let breaker: Breaker = CircuitBreaker::builder()
        .window(SlidingWindow::count(20))
        .minimum_calls(5)
        .failure_rate(0.5)
        .wait(WAIT)
        .half_open_permits(PERMITS)
        .clock(clock.clone())
        .listener(Arc::clone(&transitions))
        .build()
        .unwrap();
    let tally = Arc::new(Tally::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    runtime.block_on(async {
        let workers: Vec<_> = (0..TASKS)
            .map(|task| {
                tokio::spawn(worker(
                    breaker.clone(),
                    clock.clone(),
                    Arc::clone(&tally),
                    seed.wrapping_add(task.wrapping_mul(SplitMix64::GAMMA)),
                    OPS / TASKS,
                ))
            })
            .collect();
        for worker in workers {
            worker.await.expect("a worker failed");
        }
    });
    drop(runtime);
    drop(quiet);

    let count = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
    let admitted = count(&tally.admitted);
    let rejected = count(&tally.rejected);
    let opened = count(&transitions.to_open);
    let half_opened = count(&transitions.open_to_half_open);
    eprintln!(
        "admitted {admitted}, rejected {rejected}, panicked {}, opened {opened}, half-opened {half_opened}",
        count(&tally.panicked)
    );
    assert_eq!(admitted + rejected, OPS, "every operation ended one way");
    assert_eq!(
        admitted,
        count(&tally.successes)
            + count(&tally.failures)
            + count(&tally.ignored)
            + count(&tally.abandoned)
            + count(&tally.panicked),
        "admitted = successes + failures + ignored + abandoned + panicked"
    );
    assert_eq!(
        breaker.metrics().rejected,
        rejected,
        "the breaker counted the same rejections"
    );
    // The storm went round the state machine many times.
    assert!(opened > 100, "opened only {opened} times");
    assert!(half_opened > 100, "half-opened only {half_opened} times");
    assert!(admitted > 5_000, "admitted only {admitted} calls");
    // Each open episode half-opens at most once; each half-open episode
    // ends at most once.
    assert!(
        half_opened <= opened,
        "{half_opened} half-opens for {opened} opens"
    );
    assert!(count(&transitions.from_half_open) <= half_opened);

    // A fresh half-open episode admits exactly its trial permits.
    breaker.open_for(WAIT);
    clock.advance(WAIT);
    let trials: Vec<_> = (0..PERMITS)
        .map(|_| breaker.try_acquire())
        .collect::<Result<_, _>>()
        .expect("every trial permit is free");
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    assert!(breaker.try_acquire().is_err(), "one trial too many");
    for trial in trials {
        trial.success();
    }
    assert_eq!(breaker.state(), CircuitState::Closed);
}
