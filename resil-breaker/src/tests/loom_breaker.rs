//! The breaker's state cell under every interleaving: trips happen once,
//! half-open admits exactly its permits, dropped permits free their slot,
//! and stale outcomes change nothing.

use alloc::boxed::Box;
use alloc::sync::Arc as StdArc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering as StdOrdering};
use core::time::Duration;

use loom::thread;
use resil_core::{CircuitState, Event, EventKind, ManualClock, listener_fn};

use crate::loom::{Arc, AtomicU64, Ordering};
use crate::{CircuitBreaker, OwnedPermit};

/// A line every thread of a model crosses first, with a relaxed
/// read-modify-write that orders nothing. It works around tokio-rs/loom#392:
/// loom does not preempt a spawned thread whose first operation is an atomic
/// load (as `try_acquire`'s is), and so would miss interleavings.
#[derive(Clone)]
struct Start(Arc<AtomicU64>);

impl Start {
    fn new() -> Self {
        Start(Arc::new(AtomicU64::new(0)))
    }

    fn cross(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

type Breaker =
    CircuitBreaker<ManualClock, resil_core::FnListener<Box<dyn Fn(&Event<'_>) + Send + Sync>>>;

/// A breaker that counts its transitions into `transitions`.
fn breaker(permits: u32, transitions: &StdArc<AtomicUsize>) -> Breaker {
    let counter = StdArc::clone(transitions);
    let count: Box<dyn Fn(&Event<'_>) + Send + Sync> = Box::new(move |event: &Event<'_>| {
        if let EventKind::BreakerTransition { .. } = event.kind {
            counter.fetch_add(1, StdOrdering::SeqCst);
        }
    });
    CircuitBreaker::builder()
        .consecutive_failures(1)
        .half_open_permits(permits)
        .wait(Duration::from_secs(1))
        .clock(ManualClock::new())
        .listener(listener_fn(count))
        .build()
        .unwrap()
}

#[test]
fn loom_concurrent_failures_open_the_breaker_exactly_once() {
    loom::model(|| {
        let transitions = StdArc::new(AtomicUsize::new(0));
        let breaker = breaker(1, &transitions);
        let (other, start) = (breaker.clone(), Start::new());
        let line = start.clone();
        let handle = thread::spawn(move || {
            line.cross();
            if let Ok(permit) = other.try_acquire() {
                permit.failure();
            }
        });
        start.cross();
        if let Ok(permit) = breaker.try_acquire() {
            permit.failure();
        }
        handle.join().unwrap();
        assert_eq!(breaker.state(), CircuitState::Open);
        assert_eq!(transitions.load(StdOrdering::SeqCst), 1);
    });
}

#[test]
fn loom_half_open_admits_exactly_its_permits() {
    loom::model(|| {
        let transitions = StdArc::new(AtomicUsize::new(0));
        let breaker = breaker(1, &transitions);
        breaker.open_for(Duration::ZERO);
        let start = Start::new();
        let take = |b: Breaker, line: Start| {
            thread::spawn(move || {
                line.cross();
                b.try_acquire_owned().ok()
            })
        };
        let a = take(breaker.clone(), start.clone());
        let b = take(breaker.clone(), start.clone());
        start.cross();
        let mine = breaker.try_acquire_owned().ok();
        let permits: Vec<OwnedPermit<_, _>> = [a.join().unwrap(), b.join().unwrap(), mine]
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(permits.len(), 1, "one trial permit, three callers");
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
    });
}

#[test]
fn loom_a_dropped_permit_frees_its_half_open_slot() {
    loom::model(|| {
        let transitions = StdArc::new(AtomicUsize::new(0));
        let breaker = breaker(1, &transitions);
        breaker.open_for(Duration::ZERO);
        let (other, start) = (breaker.clone(), Start::new());
        let line = start.clone();
        let handle = thread::spawn(move || {
            line.cross();
            drop(other.try_acquire_owned());
        });
        start.cross();
        drop(breaker.try_acquire_owned());
        handle.join().unwrap();
        // Every permit was dropped unrecorded, so the slot is free again.
        let permit = breaker.try_acquire_owned();
        assert!(permit.is_ok());
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
    });
}

#[test]
fn loom_a_stale_outcome_never_flips_a_newer_state() {
    loom::model(|| {
        let transitions = StdArc::new(AtomicUsize::new(0));
        let breaker = breaker(1, &transitions);
        let permit = breaker.try_acquire_owned().unwrap();
        let (other, start) = (breaker.clone(), Start::new());
        let line = start.clone();
        let handle = thread::spawn(move || {
            line.cross();
            other.force_open();
            other.reset();
        });
        start.cross();
        // Issued while closed in generation 0; recorded whenever.
        permit.failure();
        handle.join().unwrap();
        // Either the failure tripped generation 0 before the reset, or it
        // was stale: the reset's closed state stands in both cases.
        assert_eq!(breaker.state(), CircuitState::Closed);
    });
}

/// The rejection fast path reads the state word, then the open deadline,
/// with no CAS: it must never pair an open state with a deadline older than
/// the one written for it. An earlier trip left a long deadline behind
/// (10 s); a failure trips the breaker again for 1 s while another thread
/// asks. A rejection says 1 s, never 10 s, and the new trip is not taken
/// for a wait already over. (Seeded bug: publishing the open state before
/// writing its deadline fails this model.)
#[test]
fn loom_a_fast_rejection_sees_the_deadline_of_its_open_state() {
    loom::model(|| {
        let transitions = StdArc::new(AtomicUsize::new(0));
        let breaker = breaker(1, &transitions);
        breaker.open_for(Duration::from_secs(10));
        breaker.reset();
        let (other, start) = (breaker.clone(), Start::new());
        let line = start.clone();
        let handle = thread::spawn(move || {
            line.cross();
            if let Ok(permit) = other.try_acquire() {
                permit.failure();
            }
        });
        start.cross();
        match breaker.try_acquire() {
            // Admitted while still closed: dropped, so ignored.
            Ok(permit) => drop(permit),
            Err(rejected) => {
                assert_eq!(rejected.state(), CircuitState::Open);
                assert_eq!(rejected.retry_after(), Some(Duration::from_secs(1)));
            }
        }
        handle.join().unwrap();
        assert_eq!(breaker.state(), CircuitState::Open);
    });
}
