//! `TokenBucket` from the outside: every configuration error; gRPC's
//! semantics (starts full, a failure takes one token, a success gives back
//! `token_ratio`, retries only while tokens > max/2, `withdraw` takes
//! nothing); thousandths; random outcome sequences against a reference
//! model; exact counts under eight racing threads; no allocation.

use std::sync::Barrier;
use std::thread;

use proptest::prelude::*;
use resil_core::{ConfigError, Outcome};
use resil_retry::Budget;
use resil_retry::budget::TokenBucket;
use resil_testkit::{CountingAllocator, allocations_during};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn record(bucket: &TokenBucket, outcome: Outcome, n: usize) {
    for _ in 0..n {
        bucket.record(outcome);
    }
}

// ---- Configuration ----

#[test]
fn every_invalid_max_tokens_is_an_error() {
    for bad in [0, 1_001, u32::MAX] {
        let err = TokenBucket::new(bad, 0.1).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    field: "max_tokens",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
    }
    assert_eq!(
        TokenBucket::new(0, 0.1).unwrap_err().to_string(),
        "invalid max_tokens: got 0, expected a count in 1..=1000"
    );
    assert_eq!(
        TokenBucket::new(1_001, 0.1).unwrap_err().to_string(),
        "invalid max_tokens: got 1001, expected a count in 1..=1000"
    );
}

#[test]
fn every_invalid_token_ratio_is_an_error() {
    for bad in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1.0,
        -0.0,
        0.0,
        0.0004,
        0.000_499,
    ] {
        let err = TokenBucket::new(10, bad).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    field: "token_ratio",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
    }
    assert_eq!(
        TokenBucket::new(10, f64::NAN).unwrap_err().to_string(),
        "invalid token_ratio: got NaN, expected a finite number"
    );
    assert_eq!(
        TokenBucket::new(10, 0.0004).unwrap_err().to_string(),
        "invalid token_ratio: got 0.0004, expected at least 0.0005 \
         (kept to thousandths, it must not round to 0)"
    );
}

#[test]
fn the_bounds_themselves_are_accepted() {
    for (max_tokens, token_ratio) in [(1, 0.0005), (1_000, 0.001), (1_000, 1_000.0), (7, 1e300)] {
        let bucket = TokenBucket::new(max_tokens, token_ratio).unwrap();
        assert_eq!(bucket.tokens(), f64::from(max_tokens));
    }
}

// ---- gRPC's semantics ----

#[test]
fn starts_full_and_failures_take_one_token_down_to_zero() {
    let bucket = TokenBucket::new(3, 0.5).unwrap();
    assert_eq!(bucket.tokens(), 3.0);
    record(&bucket, Outcome::Failure, 2);
    assert_eq!(bucket.tokens(), 1.0);
    record(&bucket, Outcome::Failure, 5);
    assert_eq!(bucket.tokens(), 0.0);
}

#[test]
fn successes_add_the_ratio_up_to_the_maximum() {
    let bucket = TokenBucket::new(3, 0.4).unwrap();
    record(&bucket, Outcome::Failure, 2);
    record(&bucket, Outcome::Success, 2);
    assert_eq!(bucket.tokens(), 1.8);
    record(&bucket, Outcome::Success, 10);
    assert_eq!(bucket.tokens(), 3.0);
}

#[test]
fn ignored_outcomes_and_deposits_change_nothing() {
    let bucket = TokenBucket::new(10, 0.1).unwrap();
    record(&bucket, Outcome::Failure, 3);
    record(&bucket, Outcome::Ignored, 100);
    for _ in 0..100 {
        bucket.deposit();
    }
    assert_eq!(bucket.tokens(), 7.0);
}

#[test]
fn retries_are_allowed_only_above_half_and_withdraw_takes_nothing() {
    // gRPC's A6 example: maxTokens 10, tokenRatio 0.1.
    let bucket = TokenBucket::new(10, 0.1).unwrap();
    record(&bucket, Outcome::Failure, 4);
    for _ in 0..100 {
        assert!(bucket.withdraw(), "6 > 5, and asking is free");
    }
    assert_eq!(bucket.tokens(), 6.0);
    bucket.record(Outcome::Failure);
    assert!(!bucket.withdraw(), "5 is not more than 10 / 2");
    bucket.record(Outcome::Success);
    assert!(bucket.withdraw(), "5.1 > 5");
}

#[test]
fn odd_maximums_have_a_half_token_threshold() {
    let bucket = TokenBucket::new(3, 1.0).unwrap();
    bucket.record(Outcome::Failure);
    assert!(bucket.withdraw(), "2 > 1.5");
    bucket.record(Outcome::Failure);
    assert!(!bucket.withdraw(), "1 <= 1.5");
}

#[test]
fn the_ratio_is_kept_to_thousandths() {
    let bucket = TokenBucket::new(10, 0.1234).unwrap();
    bucket.record(Outcome::Failure);
    bucket.record(Outcome::Success);
    assert_eq!(bucket.tokens(), 9.123);

    // Above the maximum, one success refills the bucket.
    let bucket = TokenBucket::new(10, 1e300).unwrap();
    record(&bucket, Outcome::Failure, 10);
    bucket.record(Outcome::Success);
    assert_eq!(bucket.tokens(), 10.0);
}

#[test]
fn shared_by_reference_and_by_arc() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TokenBucket>();

    let shared = std::sync::Arc::new(TokenBucket::new(2, 0.5).unwrap());
    Budget::record(&shared, Outcome::Failure);
    let by_ref: &TokenBucket = &shared;
    Budget::record(&by_ref, Outcome::Success);
    assert_eq!(shared.tokens(), 1.5);
    assert!(Budget::withdraw(&shared));
}

#[test]
fn debug_shows_the_tokens_and_the_knobs() {
    let bucket = TokenBucket::new(10, 0.25).unwrap();
    bucket.record(Outcome::Failure);
    assert_eq!(
        format!("{bucket:?}"),
        "TokenBucket { tokens: 9.0, max_tokens: 10, token_ratio: 0.25 }"
    );
}

#[test]
fn the_hot_paths_do_not_allocate() {
    let (_, n) = allocations_during(|| std::hint::black_box(vec![1u8; 16]));
    assert!(n >= 1, "the counter counts");

    let bucket = TokenBucket::new(100, 0.1).unwrap();
    let (_, n) = allocations_during(|| {
        for i in 0..1_000 {
            bucket.deposit();
            bucket.record(if i % 3 == 0 {
                Outcome::Success
            } else {
                Outcome::Failure
            });
            std::hint::black_box(bucket.withdraw());
            std::hint::black_box(bucket.tokens());
        }
    });
    assert_eq!(n, 0);
}

// ---- Threads ----

/// Eight threads record outcomes at once; the counts stay clear of zero and
/// the maximum, so every interleaving must end at the same exact count.
#[test]
fn eight_threads_record_exactly() {
    const THREADS: usize = 8;
    for _round in 0..20 {
        let bucket = TokenBucket::new(1_000, 0.5).unwrap();
        let start = Barrier::new(THREADS);
        // Phase 1: 8 × 50 failures take 400 tokens.
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    start.wait();
                    record(&bucket, Outcome::Failure, 50);
                });
            }
        });
        assert_eq!(bucket.tokens(), 600.0);
        // Phase 2: 8 × (25 failures, 25 successes, interleaved): -200 + 100,
        // never below 400 nor above 700 whatever the order.
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    start.wait();
                    for _ in 0..25 {
                        bucket.record(Outcome::Failure);
                        bucket.record(Outcome::Success);
                        bucket.withdraw();
                    }
                });
            }
        });
        assert_eq!(bucket.tokens(), 500.0);
    }
}

// ---- Properties ----

proptest! {
    /// Any sequence of outcomes leaves the bucket where a plain integer
    /// model of gRPC's rules (in thousandths) does, and `withdraw` agrees
    /// with the model's threshold after every step.
    #[test]
    fn matches_the_model(
        max_tokens in 1u32..=1_000,
        token_ratio in prop_oneof![Just(0.1), Just(1.0), 0.0005..20.0f64],
        outcomes in prop::collection::vec(
            prop_oneof![
                3 => Just(Outcome::Failure),
                2 => Just(Outcome::Success),
                1 => Just(Outcome::Ignored),
            ],
            0..500,
        ),
    ) {
        let bucket = TokenBucket::new(max_tokens, token_ratio).unwrap();
        let max = i64::from(max_tokens) * 1_000;
        let ratio = (token_ratio * 1_000.0).round() as i64;
        let mut tokens = max;
        for outcome in outcomes {
            bucket.record(outcome);
            tokens = match outcome {
                Outcome::Failure => (tokens - 1_000).max(0),
                Outcome::Success => (tokens + ratio).min(max),
                Outcome::Ignored => tokens,
            };
            prop_assert_eq!(bucket.tokens(), tokens as f64 / 1_000.0);
            // tokens > max / 2, without dividing.
            prop_assert_eq!(bucket.withdraw(), 2 * tokens > max);
        }
    }
}
