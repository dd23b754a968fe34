//! The time window under every interleaving: concurrent records add up
//! exactly, a record racing the recycling of its bucket is either expired
//! with it or dropped (never left behind), a read leaves no expired bucket
//! behind, racing advances expire exactly
//! the old buckets and keep the new record, a record of the old period
//! racing a reset never shows up in the new one, and a reset overtaken by a
//! later one leaves the later period's records alone.

use core::time::Duration;

use loom::thread;
use resil_core::Instant;

use crate::loom::{Arc, AtomicU64, Ordering};
use crate::window::{Sample, TimeWindow, Totals};

const OK: Sample = Sample {
    failure: false,
    slow: false,
};
const FAILED: Sample = Sample {
    failure: true,
    slow: false,
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

/// Two buckets of a second.
fn two_seconds() -> Arc<TimeWindow> {
    Arc::new(TimeWindow::new(Duration::from_secs(2), 2))
}

fn at(seconds: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(seconds)
}

/// The totals at `now` are exact, and agree with the buckets.
fn assert_at_rest(window: &TimeWindow, now: Instant, expected: Totals) {
    assert_eq!(window.totals(now), expected);
    assert_eq!(window.raw_totals(), window.bucket_sum());
    assert_eq!(window.raw_totals(), window.recount());
}

/// Two records in one bucket: both count.
#[test]
fn loom_time_concurrent_records_sum_exactly() {
    loom::model(|| {
        let window = two_seconds();
        let start = Start::new();
        let (other, line) = (Arc::clone(&window), start.clone());
        let recorder = thread::spawn(move || {
            line.cross();
            other.record(0, FAILED, at(1));
        });
        start.cross();
        window.record(0, OK, at(1));
        recorder.join().unwrap();
        assert_at_rest(&window, at(1), totals(2, 1, 0));
    });
}

/// A failure of epoch 0 races a record at epoch 2 that recycles its
/// bucket: the failure is placed first and expired with the bucket, or
/// dropped as too old. Either way only the new success remains.
#[test]
fn loom_time_record_racing_recycling_never_lingers() {
    loom::model(|| {
        let window = two_seconds();
        let start = Start::new();
        let (other, line) = (Arc::clone(&window), start.clone());
        let late = thread::spawn(move || {
            line.cross();
            let seen = other.record(0, FAILED, at(0));
            assert!(seen.failures <= seen.calls);
        });
        start.cross();
        window.record(0, OK, at(2));
        late.join().unwrap();
        assert_at_rest(&window, at(2), totals(1, 0, 0));
    });
}

/// Once a read at epoch 2 returns, the bucket of epoch 0 has been emptied,
/// even if another thread began moving the window first: the window is
/// published as moved only once its buckets are, and a reader that finds
/// it behind does the work itself. (The totals may still include the
/// failure for as long as the thread that emptied the bucket has not taken
/// it out of them: see "never under" in `window.rs`.)
#[test]
fn loom_time_read_leaves_no_expired_bucket_behind() {
    loom::model(|| {
        let window = two_seconds();
        window.record(0, FAILED, at(0));
        let start = Start::new();
        let (other, line) = (Arc::clone(&window), start.clone());
        let recorder = thread::spawn(move || {
            line.cross();
            other.record(0, OK, at(2));
        });
        start.cross();
        window.totals(at(2));
        assert!(window.holds_nothing_older_than(at(2)));
        recorder.join().unwrap();
        assert_at_rest(&window, at(2), totals(1, 0, 0));
    });
}

/// Two threads move the window at once (to epochs 2 and 3), recycling the
/// same buckets, while one of them records at epoch 2: both old failures
/// expire, and the new success is kept.
#[test]
fn loom_time_racing_advances_expire_exactly_the_old_buckets() {
    loom::model(|| {
        let window = two_seconds();
        window.record(0, FAILED, at(0));
        window.record(0, FAILED, at(1));
        let start = Start::new();
        let (other, line) = (Arc::clone(&window), start.clone());
        let reader = thread::spawn(move || {
            line.cross();
            let seen = other.totals(at(3));
            assert!(seen.failures <= seen.calls);
        });
        start.cross();
        window.record(0, OK, at(2));
        reader.join().unwrap();
        assert_at_rest(&window, at(3), totals(1, 0, 0));
    });
}

/// A record of period 0 racing `reset(1)` and a record of period 1 in the
/// same bucket: the new period holds exactly its own success.
#[test]
fn loom_time_stale_record_never_counts_after_reset() {
    loom::model(|| {
        let window = two_seconds();
        let start = Start::new();
        let (other, line) = (Arc::clone(&window), start.clone());
        let stale = thread::spawn(move || {
            line.cross();
            other.record(0, FAILED, at(1));
        });
        start.cross();
        window.reset(1);
        window.record(1, OK, at(1));
        stale.join().unwrap();
        assert_at_rest(&window, at(1), totals(1, 0, 0));
    });
}

/// `reset(1)` is overtaken by `reset(2)`, which returns, and then a failure
/// is recorded in period 2. Forces the slow reset to reach the failure's
/// bucket only after it has been re-tagged by the later reset and the
/// failure placed there: the slow reset must leave it alone. If `reset(2)`
/// took effect last, the failure is counted; if `reset(1)` did, nothing is.
/// Which one did is told by whether a probe record of period 2 counts.
#[test]
fn loom_time_overtaken_reset_keeps_the_newer_periods_records() {
    loom::model(|| {
        let window = two_seconds();
        let start = Start::new();
        let (other, line) = (Arc::clone(&window), start.clone());
        let slow = thread::spawn(move || {
            line.cross();
            other.reset(1);
        });
        start.cross();
        window.reset(2);
        window.record(2, FAILED, at(1));
        slow.join().unwrap();
        let held = window.totals(at(1));
        assert_eq!(window.raw_totals(), window.bucket_sum());
        assert_eq!(window.raw_totals(), window.recount());
        let in_period_2 = window.record(2, OK, at(1)).calls == held.calls + 1;
        if in_period_2 {
            assert_eq!(held, totals(1, 1, 0), "a record of the last period lost");
            assert_at_rest(&window, at(1), totals(2, 1, 0));
        } else {
            assert_eq!(held, totals(0, 0, 0), "a record of an old period counted");
            assert_at_rest(&window, at(1), totals(0, 0, 0));
        }
    });
}
