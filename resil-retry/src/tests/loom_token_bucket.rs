//! `TokenBucket`: concurrent outcomes all land (the count equals the
//! sequential one), and `withdraw` only ever sees counts some sequential
//! order produces.

use loom::sync::Arc;
use loom::thread;

use resil_core::Outcome;

use crate::Budget;
use crate::budget::TokenBucket;

/// Two threads record failures and successes; no update is lost. The
/// counts stay clear of the floor and the cap, so every order ends at the
/// same count.
#[test]
fn loom_concurrent_outcomes_land_exactly() {
    loom::model(|| {
        let bucket = Arc::new(TokenBucket::new(10, 0.5).unwrap());
        for _ in 0..4 {
            bucket.record(Outcome::Failure);
        }
        let other = bucket.clone();
        let handle = thread::spawn(move || {
            other.record(Outcome::Failure);
            other.record(Outcome::Success);
        });
        bucket.record(Outcome::Failure);
        bucket.record(Outcome::Failure);
        handle.join().unwrap();
        // 6 - 1 + 0.5 - 1 - 1
        assert_eq!(bucket.tokens(), 3.5);
    });
}

/// Two successes lift the bucket from 4 to 5.2 tokens, over the threshold
/// of 5, while a third thread asks to retry: it may retry only once both
/// have landed, and afterwards it always may.
///
/// The asking thread is spawned last and `main` only joins: loom 0.7 does
/// not explore a plain load racing a *later* load-then-compare-and-swap
/// (`fetch_update`) when the plain load runs first, because the updating
/// thread's own load hides the race (see `loom_ratio_budget`'s docs).
#[test]
fn loom_withdraw_racing_records_sees_whole_updates() {
    loom::model(|| {
        let bucket = Arc::new(TokenBucket::new(10, 0.6).unwrap());
        for _ in 0..6 {
            bucket.record(Outcome::Failure);
        }
        let recorders: [_; 2] = core::array::from_fn(|_| {
            let other = bucket.clone();
            thread::spawn(move || other.record(Outcome::Success))
        });
        let asker = {
            let other = bucket.clone();
            thread::spawn(move || (other.withdraw(), other.tokens()))
        };
        for handle in recorders {
            handle.join().unwrap();
        }
        let (during, tokens_seen) = asker.join().unwrap();
        assert!(
            !during || tokens_seen == 5.2,
            "retried at {tokens_seen} tokens"
        );
        assert_eq!(bucket.tokens(), 5.2);
        assert!(bucket.withdraw());
    });
}
