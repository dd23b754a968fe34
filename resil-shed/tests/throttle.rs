//! `AdaptiveThrottle` in virtual time: against a backend that accepts a
//! fixed rate, the traffic it lets through settles near K × accepts; the
//! formula at exact points; the window expiring as the clock moves; seeded
//! reproducibility; events; and exact counts under real threads.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use resil_core::{Clock, EventKind, Instant, ManualClock, ShedReason, listener_fn};
use resil_shed::AdaptiveThrottle;

const MS: Duration = Duration::from_millis(1);

/// A backend that accepts `per_second` requests a second (a token bucket
/// with a burst of a tenth of a second), offered `offered` a second for
/// `seconds`; returns the requests the throttle let through in each second.
fn offer(
    throttle: &AdaptiveThrottle<ManualClock>,
    clock: &ManualClock,
    offered: u32,
    per_second: u32,
    seconds: u32,
) -> Vec<u32> {
    // Tokens in millionths of a request, refilled every tick.
    let tick = Duration::from_secs(1) / offered;
    let refill = u64::from(per_second) * 1_000_000 / u64::from(offered);
    let burst = u64::from(per_second) * 100_000;
    let mut tokens = burst;
    let mut sent = vec![0; seconds as usize];
    for second in &mut sent {
        for _ in 0..offered {
            clock.advance(tick);
            tokens = (tokens + refill).min(burst);
            if throttle.check().is_err() {
                continue;
            }
            *second += 1;
            if tokens >= 1_000_000 {
                tokens -= 1_000_000;
                throttle.accepted();
            }
        }
    }
    sent
}

fn throttle(clock: &ManualClock) -> AdaptiveThrottle<ManualClock> {
    AdaptiveThrottle::builder()
        .clock(clock.clone())
        .seed(2_024)
        .build()
        .unwrap()
}

/// The mean of `sent` over its last `seconds`.
fn rate(sent: &[u32], seconds: usize) -> f64 {
    let tail = &sent[sent.len() - seconds..];
    f64::from(tail.iter().sum::<u32>()) / seconds as f64
}

#[test]
fn lets_through_about_k_times_what_the_backend_accepts() {
    // 1,000 a second offered, 100 accepted: K = 2 lets 200 through. The
    // default window is two minutes: measure over the two after the first
    // four.
    let clock = ManualClock::new();
    let throttle = throttle(&clock);
    let sent = offer(&throttle, &clock, 1_000, 100, 360);
    let through = rate(&sent, 120);
    assert!((190.0..=210.0).contains(&through), "{through} a second");
    // Every second of those, not just on average.
    let (lo, hi) = (
        sent[240..].iter().min().unwrap(),
        sent[240..].iter().max().unwrap(),
    );
    assert!(*lo >= 150 && *hi <= 260, "[{lo}, {hi}]");
}

#[test]
fn k_sets_the_ratio() {
    // (K = 1 is degenerate here: every request let through is accepted, so
    // any rate up to the backend's is a fixed point, and it drifts below.)
    for (k, expected) in [(1.5, 150.0), (3.0, 300.0), (4.0, 400.0)] {
        let clock = ManualClock::new();
        let throttle = AdaptiveThrottle::builder()
            .k(k)
            .window(Duration::from_secs(30))
            .clock(clock.clone())
            .seed(7)
            .build()
            .unwrap();
        let sent = offer(&throttle, &clock, 1_000, 100, 120);
        let through = rate(&sent, 60);
        assert!(
            (expected * 0.95..=expected * 1.05).contains(&through),
            "K = {k}: {through} a second"
        );
    }
}

#[test]
fn max_rejection_keeps_a_trickle_flowing() {
    let clock = ManualClock::new();
    let throttle = AdaptiveThrottle::builder()
        .max_rejection(0.5)
        .window(Duration::from_secs(30))
        .clock(clock.clone())
        .seed(7)
        .build()
        .unwrap();
    // The backend accepts nothing at all.
    let sent = offer(&throttle, &clock, 1_000, 0, 60);
    let through = rate(&sent, 30);
    assert!((470.0..=530.0).contains(&through), "{through} a second");
    assert_eq!(throttle.rejection_probability(), 0.5);
}

/// After a total outage the refused requests keep `requests` high, so the
/// share let through grows by about K per window: the throttle reopens
/// over several windows, faster with a cap on the probability.
#[test]
fn reopens_over_a_few_windows_when_the_backend_recovers() {
    let window = Duration::from_secs(10);
    let recovery = |max_rejection: Option<f64>| {
        let clock = ManualClock::new();
        let mut builder = AdaptiveThrottle::builder()
            .window(window)
            .clock(clock.clone())
            .seed(11);
        if let Some(max) = max_rejection {
            builder = builder.max_rejection(max);
        }
        let throttle = builder.build().unwrap();
        offer(&throttle, &clock, 1_000, 0, 20); // two windows of outage
        offer(&throttle, &clock, 1_000, 2_000, 80) // then it takes everything
    };
    let uncapped = recovery(None);
    assert!(uncapped[0] < 50, "{:?}", &uncapped[..10]);
    let reopened = uncapped.iter().position(|&sent| sent == 1_000).unwrap();
    assert!((30..=60).contains(&reopened), "reopened after {reopened}s");
    assert!(uncapped[reopened..].iter().all(|&sent| sent == 1_000));
    let capped = recovery(Some(0.9));
    assert!(capped[0] >= 80, "{:?}", &capped[..10]);
    let reopened = capped.iter().position(|&sent| sent == 1_000).unwrap();
    assert!(reopened <= 30, "reopened after {reopened}s");
}

#[test]
fn the_probability_is_the_formula_at_exact_points() {
    let clock = ManualClock::new();
    let throttle = throttle(&clock);
    assert_eq!(throttle.rejection_probability(), 0.0);
    // 10 requests, 5 accepted: 10 − 2 × 5 = 0.
    for i in 0..10 {
        let _ = throttle.check();
        if i % 2 == 0 {
            throttle.accepted();
        }
    }
    assert_eq!((throttle.requests(), throttle.accepts()), (10, 5));
    assert_eq!(throttle.rejection_probability(), 0.0);
    // 19 requests, 5 accepted: (19 − 10) / 20.
    for _ in 0..9 {
        let _ = throttle.check();
    }
    assert_eq!(throttle.rejection_probability(), 0.45);
    // Accepts beyond requests never make it negative.
    for _ in 0..100 {
        throttle.accepted();
    }
    assert_eq!(throttle.rejection_probability(), 0.0);
}

#[test]
fn the_first_request_and_every_healthy_one_go_through() {
    let clock = ManualClock::new();
    let throttle = throttle(&clock);
    for _ in 0..10_000 {
        assert!(throttle.check().is_ok());
        throttle.accepted();
        clock.advance(MS);
    }
}

#[test]
fn counts_leave_the_window_bucket_by_bucket() {
    let clock = ManualClock::starting_at(Instant::from_nanos(123));
    let throttle = AdaptiveThrottle::builder()
        .window(Duration::from_secs(10)) // buckets of 1s
        .clock(clock.clone())
        .build()
        .unwrap();
    let _ = throttle.check(); // at 0s
    clock.set(Instant::ZERO + Duration::from_millis(5_500));
    let _ = throttle.check(); // at 5.5s
    throttle.accepted();
    clock.set(Instant::ZERO + Duration::from_millis(9_999));
    assert_eq!((throttle.requests(), throttle.accepts()), (2, 1));
    // Bucket 0 leaves at 10s.
    clock.set(Instant::ZERO + Duration::from_secs(10));
    assert_eq!((throttle.requests(), throttle.accepts()), (1, 1));
    // Bucket 5 (5s to 6s) leaves at 15s, not 15.5s.
    clock.set(Instant::ZERO + Duration::from_millis(14_999));
    assert_eq!(throttle.requests(), 1);
    clock.set(Instant::ZERO + Duration::from_secs(15));
    assert_eq!((throttle.requests(), throttle.accepts()), (0, 0));
}

#[test]
fn a_quiet_spell_longer_than_the_window_empties_it() {
    let clock = ManualClock::new();
    let throttle = throttle(&clock);
    for _ in 0..50 {
        let _ = throttle.check();
    }
    clock.advance(Duration::from_secs(3_600 * 24 * 365));
    assert_eq!(throttle.requests(), 0);
    assert!(throttle.check().is_ok());
    assert_eq!(throttle.requests(), 1);
}

#[test]
fn a_clock_set_backwards_counts_in_the_newest_bucket() {
    let clock = ManualClock::new();
    let throttle = AdaptiveThrottle::builder()
        .window(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    clock.set(Instant::ZERO + Duration::from_secs(100));
    let _ = throttle.check();
    clock.set(Instant::ZERO + Duration::from_secs(3)); // backwards
    let _ = throttle.check();
    throttle.accepted();
    assert_eq!((throttle.requests(), throttle.accepts()), (2, 1));
    // Both were placed in the newest bucket (100s), which leaves at 110s.
    clock.set(Instant::ZERO + Duration::from_secs(109));
    assert_eq!(throttle.requests(), 2);
    clock.set(Instant::ZERO + Duration::from_secs(110));
    assert_eq!(throttle.requests(), 0);
}

#[test]
fn a_seed_fixes_every_decision() {
    let decisions = |seed| {
        let clock = ManualClock::new();
        let throttle = AdaptiveThrottle::builder()
            .seed(seed)
            .clock(clock.clone())
            .build()
            .unwrap();
        (0..5_000)
            .map(|i| {
                clock.advance(MS);
                let ok = throttle.check().is_ok();
                if i % 7 == 0 {
                    throttle.accepted();
                }
                ok
            })
            .collect::<Vec<_>>()
    };
    let first = decisions(99);
    assert_eq!(decisions(99), first);
    assert_ne!(decisions(100), first);
    let refused = first.iter().filter(|ok| !**ok).count();
    assert!(refused > 1_000, "{refused}");
    // Unseeded throttles differ from each other.
    let unseeded = || {
        let throttle = AdaptiveThrottle::builder()
            .clock(ManualClock::new())
            .build()
            .unwrap();
        (0..200)
            .map(|_| throttle.check().is_ok())
            .collect::<Vec<_>>()
    };
    assert_ne!(unseeded(), unseeded());
}

#[test]
fn each_refusal_is_one_event() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let clock = ManualClock::new();
    let throttle = AdaptiveThrottle::builder()
        .name("search")
        .priority(2)
        .seed(5)
        .clock(clock.clone())
        .listener(listener_fn(move |event| {
            sink.lock()
                .unwrap()
                .push((event.source.to_owned(), event.at, event.kind));
        }))
        .build()
        .unwrap();
    let mut refused = Vec::new();
    for _ in 0..500 {
        clock.advance(MS);
        if let Err(throttled) = throttle.check() {
            assert!(throttled.probability() > 0.0 && throttled.probability() < 1.0);
            refused.push(clock.now());
        }
    }
    let events = events.lock().unwrap();
    assert!(refused.len() > 400, "{}", refused.len());
    assert_eq!(events.len(), refused.len());
    for ((source, at, kind), when) in events.iter().zip(&refused) {
        assert_eq!(*source, "search");
        assert_eq!(at, when);
        assert_eq!(*kind, EventKind::shed(2, ShedReason::Throttled));
    }
}

#[test]
fn counts_are_exact_under_threads() {
    let clock = ManualClock::new();
    let throttle = Arc::new(
        AdaptiveThrottle::builder()
            .window(Duration::from_secs(3_600))
            .clock(clock.clone())
            .seed(1)
            .build()
            .unwrap(),
    );
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (throttle, clock) = (Arc::clone(&throttle), clock.clone());
            std::thread::spawn(move || {
                for i in 0..10_000 {
                    let _ = throttle.check();
                    if i % 3 == 0 {
                        throttle.accepted();
                    }
                    if i % 1_000 == 0 {
                        clock.advance(Duration::from_secs(1)); // new buckets meanwhile
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    // 40 s of a one-hour window: nothing has expired.
    assert_eq!(throttle.requests(), 40_000);
    assert_eq!(throttle.accepts(), 4 * 3_334);
}

#[test]
fn throttled_says_why() {
    let throttle = AdaptiveThrottle::builder()
        .clock(ManualClock::new())
        .seed(3)
        .build()
        .unwrap();
    let refused = (0..100).find_map(|_| throttle.check().err()).unwrap();
    let text = refused.to_string();
    assert!(
        text.starts_with("request throttled locally (rejection probability 0."),
        "{text}"
    );
    assert!(!text.ends_with('.'));
    let debug = format!("{throttle:?}");
    assert!(debug.starts_with("AdaptiveThrottle {"), "{debug}");
}
