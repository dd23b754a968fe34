//! The concurrency limiter under every interleaving: permits never exceed
//! the limit, a returned permit reaches a waiter with no lost wake-up, and a
//! cancelled waiter never keeps a permit.

use alloc::vec::Vec;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use loom::future::block_on;
use loom::thread;
use resil_core::ManualClock;

use crate::loom::{AtomicU64, Ordering};
use crate::{ConcurrencyLimit, Fixed, Priority};

type Limiter = ConcurrencyLimit<Fixed, ManualClock>;

/// A line every thread of a model crosses first, with a relaxed
/// read-modify-write that orders nothing: loom 0.7 does not preempt a
/// spawned thread whose first operation is an atomic load (tokio-rs/loom#392).
#[derive(Clone)]
struct Start(loom::sync::Arc<AtomicU64>);

impl Start {
    fn new() -> Self {
        Start(loom::sync::Arc::new(AtomicU64::new(0)))
    }

    fn cross(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn limiter(limit: u32, queue: usize) -> Limiter {
    ConcurrencyLimit::builder(Fixed::try_from(limit).unwrap())
        .max_queue(queue)
        .clock(ManualClock::new())
        .build()
        .unwrap()
}

/// A sleeper that never wakes: waiting ends only by a grant.
fn never(_: Duration) -> core::future::Pending<()> {
    core::future::pending()
}

#[test]
fn loom_permits_never_exceed_the_limit() {
    loom::model(|| {
        let limiter = limiter(1, 0);
        let start = Start::new();
        let spawn = |l: Limiter, line: Start| {
            thread::spawn(move || {
                line.cross();
                l.try_acquire(Priority::Critical).ok()
            })
        };
        let a = spawn(limiter.clone(), start.clone());
        let b = spawn(limiter.clone(), start.clone());
        start.cross();
        let held: Vec<_> = [a.join().unwrap(), b.join().unwrap()]
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(held.len(), 1);
        assert_eq!(limiter.in_flight(), 1);
        drop(held);
        assert_eq!(limiter.in_flight(), 0);
    });
}

#[test]
fn loom_a_returned_permit_reaches_the_waiter() {
    loom::model(|| {
        let limiter = limiter(1, 1);
        let held = limiter.try_acquire(Priority::Critical).unwrap();
        let start = Start::new();
        let line = start.clone();
        let releaser = thread::spawn(move || {
            line.cross();
            drop(held);
        });
        start.cross();
        // Blocks until granted: a lost wake-up would deadlock the model.
        let permit = block_on(limiter.acquire(&never, Priority::Critical)).unwrap();
        releaser.join().unwrap();
        assert_eq!(limiter.in_flight(), 1);
        drop(permit);
        assert_eq!(limiter.in_flight(), 0);
    });
}

#[test]
fn loom_a_cancelled_waiter_never_keeps_a_permit() {
    loom::model(|| {
        let limiter = limiter(1, 1);
        let held = limiter.try_acquire(Priority::Critical).unwrap();
        {
            let mut waiting = pin!(limiter.acquire(&never, Priority::Critical));
            let mut cx = Context::from_waker(Waker::noop());
            let first = waiting.as_mut().poll(&mut cx);
            assert!(first.is_pending());
            let start = Start::new();
            let line = start.clone();
            let releaser = thread::spawn(move || {
                line.cross();
                drop(held);
            });
            start.cross();
            // Cancelled while the permit may be on its way to it.
            drop(waiting);
            releaser.join().unwrap();
        }
        assert_eq!(limiter.in_flight(), 0);
        assert_eq!(limiter.waiting(), 0);
        assert!(limiter.try_acquire(Priority::Critical).is_ok());
    });
}
