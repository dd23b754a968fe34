//! Eight OS threads racing on one breaker, counted rather than timed:
//! half-open admits exactly its permits however many threads ask, the open
//! → half-open move is made once, concurrent failures open a closed breaker
//! exactly once, and concurrent trial outcomes reach exactly one verdict.

mod support;

use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use resil_breaker::CircuitBreaker;
use resil_core::{CircuitState, Event, EventKind, ManualClock, listener_fn};

use support::{on, secs};

const THREADS: usize = 8;
const ROUNDS: usize = 40;

/// Counts transitions by their ends.
#[derive(Debug, Default)]
struct Transitions {
    to_open: AtomicUsize,
    to_half_open: AtomicUsize,
    to_closed: AtomicUsize,
    other: AtomicUsize,
}

impl Transitions {
    fn count(&self, event: &Event<'_>) {
        if let EventKind::BreakerTransition { from, to, .. } = event.kind {
            let counter = match (from, to) {
                (_, CircuitState::Open) => &self.to_open,
                (CircuitState::Open, CircuitState::HalfOpen) => &self.to_half_open,
                (CircuitState::HalfOpen, CircuitState::Closed) => &self.to_closed,
                _ => &self.other,
            };
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn take(&self) -> [usize; 4] {
        [
            &self.to_open,
            &self.to_half_open,
            &self.to_closed,
            &self.other,
        ]
        .map(|counter| counter.swap(0, Ordering::SeqCst))
    }
}

#[test]
fn half_open_admits_exactly_its_permits_to_eight_racing_threads() {
    const ATTEMPTS: usize = 200;
    for permits in [1, 3, 7, 20] {
        let transitions = Transitions::default();
        let clock = ManualClock::new();
        let breaker = on(&clock)
            .half_open_permits(permits)
            .listener(listener_fn(|event| transitions.count(event)))
            .build()
            .unwrap();
        for round in 0..ROUNDS {
            breaker.open_for(Duration::ZERO);
            transitions.take();
            let rejected_before = breaker.metrics().rejected;
            let start = Barrier::new(THREADS);
            let done = Barrier::new(THREADS);
            let admitted = AtomicUsize::new(0);
            thread::scope(|s| {
                for _ in 0..THREADS {
                    s.spawn(|| {
                        start.wait();
                        let mut held = Vec::new();
                        for _ in 0..ATTEMPTS {
                            if let Ok(permit) = breaker.try_acquire() {
                                held.push(permit);
                            }
                        }
                        admitted.fetch_add(held.len(), Ordering::SeqCst);
                        // Every permit is held until every thread has asked.
                        done.wait();
                    });
                }
            });
            let admitted = admitted.load(Ordering::SeqCst);
            assert_eq!(
                admitted, permits as usize,
                "{permits} permits, round {round}"
            );
            assert_eq!(
                breaker.metrics().rejected - rejected_before,
                (THREADS * ATTEMPTS - admitted) as u64,
                "every other attempt was rejected"
            );
            assert_eq!(
                transitions.take(),
                [0, 1, 0, 0],
                "one open → half-open move, round {round}"
            );
            assert_eq!(breaker.state(), CircuitState::HalfOpen);
        }
    }
}

#[test]
fn concurrent_failures_open_a_closed_breaker_exactly_once() {
    let transitions = Transitions::default();
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .consecutive_failures(1)
        .wait(secs(60))
        .listener(listener_fn(|event| transitions.count(event)))
        .build()
        .unwrap();
    for round in 0..ROUNDS {
        breaker.reset();
        transitions.take();
        let start = Barrier::new(THREADS);
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    // Admitted while closed, so every failure is current.
                    let permit = breaker.try_acquire().unwrap();
                    start.wait();
                    permit.failure();
                    for _ in 0..50 {
                        if let Ok(permit) = breaker.try_acquire() {
                            permit.failure();
                        }
                    }
                });
            }
        });
        assert_eq!(breaker.state(), CircuitState::Open);
        assert_eq!(transitions.take(), [1, 0, 0, 0], "round {round}");
    }
}

#[test]
fn concurrent_trial_outcomes_reach_exactly_one_verdict() {
    for fails in [true, false] {
        let transitions = Transitions::default();
        let clock = ManualClock::new();
        let breaker = on(&clock)
            .half_open_permits(THREADS as u32)
            .failure_rate(0.5)
            .wait(secs(60))
            .listener(listener_fn(|event| transitions.count(event)))
            .build()
            .unwrap();
        for round in 0..ROUNDS {
            breaker.reset();
            breaker.open_for(Duration::ZERO);
            transitions.take();
            let start = Barrier::new(THREADS);
            thread::scope(|s| {
                for _ in 0..THREADS {
                    s.spawn(|| {
                        let trial = breaker.try_acquire().unwrap();
                        start.wait();
                        if fails {
                            trial.failure();
                        } else {
                            trial.success();
                        }
                    });
                }
            });
            let (state, expected) = if fails {
                (CircuitState::Open, [1, 1, 0, 0])
            } else {
                (CircuitState::Closed, [0, 1, 1, 0])
            };
            assert_eq!(breaker.state(), state, "round {round}");
            assert_eq!(transitions.take(), expected, "round {round}");
        }
    }
}

#[test]
fn owned_permits_across_threads_keep_the_count_exact() {
    // Permits handed from the threads that acquire them to one that drops
    // them: each dropped trial frees exactly one slot.
    let clock = ManualClock::new();
    let breaker: CircuitBreaker<ManualClock> = on(&clock).half_open_permits(2).build().unwrap();
    breaker.open_for(Duration::ZERO);
    for _ in 0..ROUNDS {
        let (tx, rx) = std::sync::mpsc::channel();
        thread::scope(|s| {
            for _ in 0..THREADS {
                let tx = tx.clone();
                let breaker = breaker.clone();
                s.spawn(move || {
                    for _ in 0..20 {
                        if let Ok(permit) = breaker.try_acquire_owned() {
                            tx.send(permit).unwrap();
                        }
                    }
                });
            }
        });
        drop(tx);
        let permits: Vec<_> = rx.iter().collect();
        assert_eq!(permits.len(), 2);
        drop(permits);
    }
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
}
