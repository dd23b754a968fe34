//! `ManualClock`: advancing time races registering, re-polling and dropping
//! sleeps. No interleaving may lose a wake-up, leak a timer, or lose time.

use core::time::Duration;
use std::boxed::Box;

use loom::future::block_on;
use loom::thread;

use crate::loom::{Arc, AtomicU64, Ordering};
use crate::{Clock, Instant, ManualClock, Sleeper};

/// A line every thread of a model crosses first, with a relaxed
/// read-modify-write that orders nothing. It works around tokio-rs/loom#392:
/// loom does not preempt a spawned thread whose first operation is an atomic
/// load (as `ManualClock::now` is), and so would miss interleavings.
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

const SECOND: Duration = Duration::from_secs(1);

/// A sleep whose deadline is reached by a concurrent `advance` always
/// completes: `block_on` would report a deadlock on a lost wake-up.
#[test]
fn loom_advance_vs_registration_loses_no_wakeup() {
    loom::model(|| {
        let clock = ManualClock::new();
        // Deadlines are fixed when a sleep is made, so make it first.
        let sleep = clock.sleep(SECOND);
        let (advancer, start) = (clock.clone(), Start::new());
        let line = start.clone();
        let handle = thread::spawn(move || {
            line.cross();
            advancer.advance(SECOND);
        });
        start.cross();
        block_on(sleep);
        handle.join().unwrap();
        assert_eq!(clock.pending_sleeps(), 0);
    });
}

/// Two sleepers on different threads, one advance: both wake.
#[test]
fn loom_one_advance_wakes_every_due_sleeper() {
    loom::model(|| {
        let clock = ManualClock::new();
        let short = clock.sleep(SECOND);
        let long = clock.sleep(SECOND * 2);
        let start = Start::new();
        let line = start.clone();
        let sleeper = thread::spawn(move || {
            line.cross();
            block_on(short)
        });
        let (advancer, line) = (clock.clone(), start.clone());
        let handle = thread::spawn(move || {
            line.cross();
            advancer.advance(SECOND * 2);
        });
        start.cross();
        block_on(long);
        sleeper.join().unwrap();
        handle.join().unwrap();
        assert_eq!(clock.pending_sleeps(), 0);
    });
}

/// A sleep dropped (cancelled) while `advance` fires leaves no timer behind.
#[test]
fn loom_drop_vs_advance_leaks_no_timer() {
    loom::model(|| {
        let clock = ManualClock::new();
        let mut sleep = Box::pin(clock.sleep(SECOND));
        let waker = futures_noop_waker();
        let mut cx = core::task::Context::from_waker(&waker);
        let _ = sleep.as_mut().poll(&mut cx);
        let (advancer, start) = (clock.clone(), Start::new());
        let line = start.clone();
        let handle = thread::spawn(move || {
            line.cross();
            advancer.advance(SECOND);
        });
        start.cross();
        drop(sleep);
        handle.join().unwrap();
        assert_eq!(clock.pending_sleeps(), 0);
    });
}

/// Concurrent advances add up: no step is lost.
#[test]
fn loom_concurrent_advances_all_count() {
    loom::model(|| {
        let clock = ManualClock::new();
        let (other, start) = (clock.clone(), Start::new());
        let line = start.clone();
        let handle = thread::spawn(move || {
            line.cross();
            other.advance(SECOND);
        });
        start.cross();
        clock.advance(SECOND);
        handle.join().unwrap();
        assert_eq!(clock.now(), Instant::ZERO + SECOND * 2);
    });
}

fn futures_noop_waker() -> core::task::Waker {
    core::task::Waker::noop().clone()
}
