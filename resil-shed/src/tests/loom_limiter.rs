//! The concurrency limiter under every interleaving: permits never exceed
//! the limit, a returned permit reaches a waiter with no lost wake-up, a
//! cancelled waiter never keeps a permit, and a limit that shrinks while
//! permits are out is respected.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::future::Future;
use core::task::{Context, Waker};
use core::time::Duration;

use loom::future::block_on;
use loom::thread;
use resil_core::ManualClock;

use crate::loom::{AtomicU64, Ordering};
use crate::{ConcurrencyLimit, Fixed, Limit, Priority, Sample};

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
            let mut waiting = alloc::boxed::Box::pin(limiter.acquire(&never, Priority::Critical));
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

/// As `loom_a_cancelled_waiter_never_keeps_a_permit`, with the future really
/// dropped while the permit is returned: there, `drop(waiting)` drops only
/// the `Pin<&mut _>` that `pin!` made, and the future itself at the end of
/// its block, after the join.
#[test]
fn loom_a_waiter_cancelled_while_a_permit_returns_never_keeps_it() {
    loom::model(|| {
        let limiter = limiter(1, 1);
        let held = limiter.try_acquire(Priority::Critical).unwrap();
        let mut waiting = Box::pin(limiter.acquire(&never, Priority::Critical));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        let start = Start::new();
        let line = start.clone();
        let releaser = thread::spawn(move || {
            line.cross();
            drop(held);
        });
        start.cross();
        // Leaves the queue, or returns the permit handed to it meanwhile.
        drop(waiting);
        releaser.join().unwrap();
        assert_eq!(limiter.in_flight(), 0);
        assert_eq!(limiter.waiting(), 0);
        let one = limiter.try_acquire(Priority::Critical).unwrap();
        assert!(limiter.try_acquire(Priority::Critical).is_err());
        drop(one);
    });
}

/// A limit that shrinks to 1 at its first sample.
#[derive(Debug)]
struct ShrinkToOne(u32);

impl Limit for ShrinkToOne {
    fn limit(&self) -> u32 {
        self.0
    }

    fn update(&mut self, _: &Sample) -> u32 {
        self.0 = 1;
        1
    }
}

#[test]
fn loom_a_shrinking_limit_is_respected() {
    loom::model(|| {
        let limiter = ConcurrencyLimit::builder(ShrinkToOne(2))
            .clock(ManualClock::new())
            .build()
            .unwrap();
        let recorded = limiter.try_acquire(Priority::Critical).unwrap();
        let kept = limiter.try_acquire(Priority::Critical).unwrap();
        let start = Start::new();
        let line = start.clone();
        let recorder = thread::spawn(move || {
            line.cross();
            // Returned, then its sample shrinks the limit to 1.
            recorded.success();
        });
        let line = start.clone();
        let racer = {
            let limiter = limiter.clone();
            thread::spawn(move || {
                line.cross();
                // The limit only shrinks: admission is under this one or less.
                let seen = limiter.limit();
                let permit = limiter.try_acquire(Priority::Critical).ok();
                if permit.is_some() {
                    assert!(limiter.in_flight() <= seen);
                }
                if seen == 1 {
                    // The shrink followed the release; `kept` is still out.
                    assert!(permit.is_none(), "admitted past a limit of 1");
                }
                permit
            })
        };
        start.cross();
        assert!(limiter.in_flight() <= 2);
        recorder.join().unwrap();
        let raced = racer.join().unwrap();
        assert_eq!(limiter.limit(), 1);
        assert_eq!(limiter.in_flight(), 1 + u32::from(raced.is_some()));
        drop(raced);
        drop(kept);
        assert_eq!(limiter.in_flight(), 0);
        // Exactly one more permit.
        let one = limiter.try_acquire(Priority::Critical).unwrap();
        assert!(limiter.try_acquire(Priority::Critical).is_err());
        drop(one);
        assert_eq!(limiter.in_flight(), 0);
    });
}

#[test]

fn loom_no_admission_after_a_shrink_is_seen() {
    loom::model(|| {
        let limiter = ConcurrencyLimit::builder(ShrinkToOne(2))
            .clock(ManualClock::new())
            .build()
            .unwrap();
        let recorded = limiter.try_acquire(Priority::Critical).unwrap();
        let _kept = limiter.try_acquire(Priority::Critical).unwrap();
        let start = Start::new();
        let line = start.clone();
        let recorder = thread::spawn(move || {
            line.cross();
            recorded.success();
        });
        let line = start.clone();
        let racer = {
            let limiter = limiter.clone();
            thread::spawn(move || {
                line.cross();
                limiter.try_acquire(Priority::Critical).ok()
            })
        };
        start.cross();
        // An observer sees the shrink done: a limit of 1 with 1 permit out.
        let limit = limiter.limit();
        let out = limiter.in_flight();
        recorder.join().unwrap();
        let raced = racer.join().unwrap();
        if (limit, out) == (1, 1) {
            // Nothing was returned since, so nothing may have been admitted.
            assert!(raced.is_none(), "admitted with 1 out under a limit of 1");
        }
    });
}
