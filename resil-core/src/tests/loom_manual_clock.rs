//! `ManualClock`: advancing time races registering, re-polling and dropping
//! sleeps. No interleaving may lose a wake-up, leak a timer, or lose time.

use core::time::Duration;
use std::boxed::Box;

use loom::future::block_on;
use loom::thread;

use crate::{Clock, Instant, ManualClock, Sleeper};

const SECOND: Duration = Duration::from_secs(1);

/// A sleep whose deadline is reached by a concurrent `advance` always
/// completes: `block_on` would report a deadlock on a lost wake-up.
#[test]
fn loom_advance_vs_registration_loses_no_wakeup() {
    loom::model(|| {
        let clock = ManualClock::new();
        // Deadlines are fixed when a sleep is made, so make it first.
        let sleep = clock.sleep(SECOND);
        let advancer = clock.clone();
        let handle = thread::spawn(move || {
            advancer.advance(SECOND);
        });
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
        let sleeper = thread::spawn(move || block_on(short));
        let advancer = clock.clone();
        let handle = thread::spawn(move || {
            advancer.advance(SECOND * 2);
        });
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
        let advancer = clock.clone();
        let handle = thread::spawn(move || {
            advancer.advance(SECOND);
        });
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
        let other = clock.clone();
        let handle = thread::spawn(move || {
            other.advance(SECOND);
        });
        clock.advance(SECOND);
        handle.join().unwrap();
        assert_eq!(clock.now(), Instant::ZERO + SECOND * 2);
    });
}

fn futures_noop_waker() -> core::task::Waker {
    core::task::Waker::noop().clone()
}
