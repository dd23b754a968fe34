//! The breaker's state cell under every interleaving: trips happen once,
//! half-open admits exactly its permits, dropped permits free their slot,
//! and stale outcomes change nothing.

use core::time::Duration;
use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize, Ordering as StdOrdering};
use std::vec::Vec;

use loom::thread;
use resil_core::{CircuitState, Event, EventKind, ManualClock, listener_fn};

use crate::{CircuitBreaker, OwnedPermit};

type Breaker = CircuitBreaker<
    ManualClock,
    resil_core::FnListener<std::boxed::Box<dyn Fn(&Event<'_>) + Send + Sync>>,
>;

/// A breaker that counts its transitions into `transitions`.
fn breaker(permits: u32, transitions: &StdArc<AtomicUsize>) -> Breaker {
    let counter = StdArc::clone(transitions);
    let count: std::boxed::Box<dyn Fn(&Event<'_>) + Send + Sync> =
        std::boxed::Box::new(move |event: &Event<'_>| {
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
        let other = breaker.clone();
        let handle = thread::spawn(move || {
            if let Ok(permit) = other.try_acquire() {
                permit.failure();
            }
        });
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
        let take = |b: Breaker| thread::spawn(move || b.try_acquire_owned().ok());
        let a = take(breaker.clone());
        let b = take(breaker.clone());
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
        let other = breaker.clone();
        let handle = thread::spawn(move || {
            drop(other.try_acquire_owned());
        });
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
        let other = breaker.clone();
        let handle = thread::spawn(move || {
            other.force_open();
            other.reset();
        });
        // Issued while closed in generation 0; recorded whenever.
        permit.failure();
        handle.join().unwrap();
        // Either the failure tripped generation 0 before the reset, or it
        // was stale: the reset's closed state stands in both cases.
        assert_eq!(breaker.state(), CircuitState::Closed);
    });
}
