//! `AdaptiveThrottle`: counts racing each other and the expiry of old
//! buckets. No interleaving may count a request or an accept twice, lose
//! one outside the documented race (a count whose own bucket expires under
//! it), let a count outlive its window, or show `check` a torn or negative
//! count.
//!
//! Every model uses a one-second window (ten buckets of 100ms) on a shared
//! `ManualClock`. Threads that move the clock use `advance_to` (one
//! `fetch_max`), as the retry budget's models explain. Every thread first
//! crosses a `Start` line: loom 0.7 does not preempt a spawned thread whose
//! first operation is an atomic load (tokio-rs/loom#392), as the throttle's
//! clock read is.

use core::time::Duration;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicU64, Ordering};
use loom::thread;

use resil_core::{Clock, Instant, ManualClock};

use crate::AdaptiveThrottle;

const WINDOW: Duration = Duration::from_secs(1);

type Throttle = AdaptiveThrottle<ManualClock>;

/// A line every thread of a model crosses first, with a relaxed
/// read-modify-write that orders nothing (tokio-rs/loom#392).
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

fn throttle(clock: &ManualClock) -> Arc<Throttle> {
    let throttle = AdaptiveThrottle::builder()
        .window(WINDOW)
        .seed(1)
        .clock(clock.clone())
        .build()
        .unwrap();
    Arc::new(throttle)
}

/// Two threads count a request and an accept each at once: all four are
/// counted, once.
#[test]
fn loom_concurrent_counts_are_exact() {
    loom::model(|| {
        let clock = ManualClock::new();
        let throttle = throttle(&clock);
        let (other, start) = (throttle.clone(), Start::new());
        let line = start.clone();
        let handle = thread::spawn(move || {
            line.cross();
            let _ = other.check();
            other.accepted();
        });
        start.cross();
        let _ = throttle.check();
        throttle.accepted();
        handle.join().unwrap();
        assert_eq!(throttle.totals(), (2, 2));
    });
}

/// A request races the expiry of the bucket it may be placed in (the clock
/// jumps a whole window). It is counted once, unless it read the clock
/// before the jump and its own bucket expired under it (the documented
/// race); the old counts leave exactly once, and nothing outlives its
/// window.
#[test]
fn loom_count_racing_expiry_is_counted_at_most_once() {
    loom::model(|| {
        let clock = ManualClock::new();
        let throttle = throttle(&clock);
        throttle.check().unwrap();
        throttle.accepted();
        let (other, other_clock, start) = (throttle.clone(), clock.clone(), Start::new());
        let line = start.clone();
        let handle = thread::spawn(move || {
            line.cross();
            other_clock.advance_to(Instant::ZERO + WINDOW);
            other.accepted();
        });
        start.cross();
        // The throttle reads the clock after this, so a late reading here
        // is late there too.
        let late = clock.now() >= Instant::ZERO + WINDOW;
        let _ = throttle.check();
        handle.join().unwrap();
        let (requests, accepts) = throttle.totals();
        assert_eq!(accepts, 1, "the old accept left, the new one stayed");
        assert!(requests <= 1, "{requests}");
        assert!(
            !late || requests == 1,
            "a request of the new window was lost"
        );
        clock.advance(WINDOW);
        assert_eq!(throttle.requests(), 0);
        assert_eq!(throttle.totals(), (0, 0));
    });
}

/// Two threads see a new bucket at once: it is opened once, and the count
/// it expires leaves exactly once (twice would wrap the requests below
/// zero).
#[test]
fn loom_racing_openers_expire_each_bucket_once() {
    loom::model(|| {
        let clock = ManualClock::new();
        let throttle = throttle(&clock);
        throttle.check().unwrap();
        let start = Start::new();
        let open = |throttle: Arc<Throttle>, clock: ManualClock, line: Start| {
            thread::spawn(move || {
                line.cross();
                clock.advance_to(Instant::ZERO + WINDOW);
                throttle.accepted();
            })
        };
        let a = open(throttle.clone(), clock.clone(), start.clone());
        let b = open(throttle.clone(), clock.clone(), start.clone());
        start.cross();
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(throttle.totals(), (0, 2));
    });
}

/// A reader that expires a bucket while a request is being counted in it
/// never sees a negative (wrapped) count, and `check` never refuses on one.
/// Placing a request in its bucket before adding it to the totals lets the
/// expiry take it out first: the totals wrap to four billion requests.
#[test]
fn loom_expiry_never_shows_a_wrapped_count() {
    loom::model(|| {
        let clock = ManualClock::new();
        let throttle = throttle(&clock);
        for _ in 0..3 {
            throttle.accepted();
        }
        let (other, other_clock, start) = (throttle.clone(), clock.clone(), Start::new());
        let line = start.clone();
        let handle = thread::spawn(move || {
            line.cross();
            other_clock.advance_to(Instant::ZERO + WINDOW);
            (other.requests(), other.accepts())
        });
        start.cross();
        let _ = throttle.check();
        let (requests, accepts) = handle.join().unwrap();
        assert!(requests <= 1, "a wrapped count: {requests} requests");
        assert_eq!(accepts, 0, "the accepts of the old window left");
        // With the old accepts gone and one request at most, a check
        // decides on (1, 0) at worst: p = 0.5, never a wrapped 1.
        assert!(throttle.rejection_probability() <= 0.5);
        clock.advance(WINDOW);
        assert_eq!(throttle.requests(), 0);
        assert_eq!(throttle.totals(), (0, 0));
    });
}
