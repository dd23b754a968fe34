//! The count window under every interleaving: concurrent records add up
//! exactly, each returns the totals right after it while nothing is
//! evicted, two records on one slot neither lose nor double an outcome, a
//! reader never sees a rate above 1, and a record of the old period racing
//! a reset never shows up in the new one.

use loom::thread;

use crate::loom::{Arc, AtomicU64, Ordering};
use crate::window::{CountWindow, Sample, Totals};

const OK: Sample = Sample {
    failure: false,
    slow: false,
};
const FAILED: Sample = Sample {
    failure: true,
    slow: false,
};
const SLOW: Sample = Sample {
    failure: false,
    slow: true,
};

fn totals(calls: u32, failures: u32, slow: u32) -> Totals {
    Totals {
        calls,
        failures,
        slow,
    }
}

/// A line every thread of a model crosses first, with a read-modify-write
/// (relaxed: it orders nothing). It works around tokio-rs/loom#392: loom
/// never preempts a spawned thread whose first operation is an atomic load
/// (as every window operation's is), and so would miss most interleavings.
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

/// The totals are exact, and agree with the ring slot by slot.
fn assert_at_rest(window: &CountWindow, expected: Totals) {
    assert_eq!(window.totals(), expected);
    assert_eq!(window.raw_totals(), window.recount());
}

fn assert_sane(seen: Totals, size: u32) {
    assert!(seen.failures <= seen.calls, "{seen:?}");
    assert!(seen.slow <= seen.calls, "{seen:?}");
    assert!(seen.calls <= size, "{seen:?}");
}

/// Two records into two free slots: both count, whatever the order.
#[test]
fn loom_count_concurrent_records_sum_exactly() {
    loom::model(|| {
        let window = Arc::new(CountWindow::new(2));
        let start = Start::new();
        let (other, line) = (Arc::clone(&window), start.clone());
        let recorder = thread::spawn(move || {
            line.cross();
            other.record(0, FAILED);
        });
        start.cross();
        window.record(0, SLOW);
        recorder.join().unwrap();
        assert_at_rest(&window, totals(2, 1, 1));
    });
}

/// Three records into a window of two (two of them on one slot), read
/// while they race: the window ends with two outcomes that the ring holds,
/// and no read reports more calls than slots or a rate above 1.
#[test]
fn loom_count_records_sharing_a_slot_lose_nothing() {
    loom::model(|| {
        let window = Arc::new(CountWindow::new(2));
        let start = Start::new();
        let handles: alloc::vec::Vec<_> = [FAILED, SLOW]
            .into_iter()
            .map(|sample| {
                let (window, line) = (Arc::clone(&window), start.clone());
                thread::spawn(move || {
                    line.cross();
                    assert_sane(window.record(0, sample), 2);
                })
            })
            .collect();
        start.cross();
        assert_sane(window.record(0, FAILED), 2);
        assert_sane(window.totals(), 2);
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(window.totals().calls, 2);
        assert_eq!(window.raw_totals(), window.recount());
    });
}

/// A record of period 0 racing `reset(1)` and a record of period 1 on
/// separate slots: the new period holds exactly its own success.
#[test]
fn loom_count_stale_record_never_counts_after_reset() {
    loom::model(|| {
        let window = Arc::new(CountWindow::new(2));
        let start = Start::new();
        let (other, line) = (Arc::clone(&window), start.clone());
        let stale = thread::spawn(move || {
            line.cross();
            other.record(0, FAILED);
        });
        start.cross();
        window.reset(1);
        window.record(1, OK);
        stale.join().unwrap();
        assert_at_rest(&window, totals(1, 0, 0));
    });
}

/// The same on a single slot, where the stale record may evict the new
/// success: then the slot holds a stale outcome, which counts as empty,
/// and the totals must say so. The stale failure never counts.
#[test]
fn loom_count_stale_record_evicting_a_new_one_is_uncounted() {
    loom::model(|| {
        let window = Arc::new(CountWindow::new(1));
        let start = Start::new();
        let (other, line) = (Arc::clone(&window), start.clone());
        let stale = thread::spawn(move || {
            line.cross();
            other.record(0, FAILED);
        });
        start.cross();
        window.reset(1);
        window.record(1, OK);
        stale.join().unwrap();
        let now = window.totals();
        assert_eq!(now.failures, 0, "{now:?}");
        assert_eq!(window.raw_totals(), window.recount());
    });
}

/// Two successes into a window of three that holds one failure: neither
/// evicts anything, so each record must return the totals right after it,
/// in the order the two took effect: one sees two calls, the other three.
/// (The breaker lets a fast success trip it only when its record returns
/// exactly `minimum_calls` calls.) Forces a record to be preempted after
/// its own count while the other counts: a record that returned a later
/// read of the totals instead would let both see three, which no order of
/// the two gives.
#[test]
fn loom_count_records_return_the_totals_right_after_them() {
    loom::model(|| {
        let window = Arc::new(CountWindow::new(3));
        window.record(0, FAILED);
        let start = Start::new();
        let (other, line) = (Arc::clone(&window), start.clone());
        let recorder = thread::spawn(move || {
            line.cross();
            other.record(0, OK)
        });
        start.cross();
        let mine = window.record(0, OK);
        let theirs = recorder.join().unwrap();
        let (first, second) = if mine.calls <= theirs.calls {
            (mine, theirs)
        } else {
            (theirs, mine)
        };
        assert_eq!((first, second), (totals(2, 1, 0), totals(3, 1, 0)));
        assert_at_rest(&window, totals(3, 1, 0));
    });
}
