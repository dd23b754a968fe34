//! Retry: any backoff, attempt limit (up to `u32::MAX`) and deadline, on a
//! `ManualClock`, against an operation that fails a given number of times:
//! never panics, never hangs, stops at the first success or at a limit, and
//! never makes more attempts than allowed or keeps going past its deadline
//! by more than one delay.

use arbitrary::Arbitrary;
use resil_core::{Backoff, Clock, Jitter, ManualClock};
use resil_retry::Retry;

use crate::{AnyCount, AnyDuration, AnyFloat};

/// What one fuzz run decodes its bytes into.
#[derive(Debug, Arbitrary)]
pub struct Input {
    base: AnyDuration,
    factor: AnyFloat,
    max_delay: Option<AnyDuration>,
    full_jitter: bool,
    max_attempts: Option<AnyCount>,
    max_elapsed: Option<AnyDuration>,
    /// Failures before the first success; capped so a generous policy
    /// still ends.
    failures: u8,
    seed: u64,
}

/// Builds the policy `input` describes and drives it, asserting the
/// invariants above.
///
/// # Panics
///
/// When an invariant does not hold: that is the bug a fuzzer reports.
pub fn check(input: Input) {
    let mut backoff = Backoff::exponential(input.base.0, input.factor.0);
    if let Some(max) = input.max_delay {
        backoff = backoff.max_delay(max.0);
    }
    if input.full_jitter {
        backoff = backoff.jitter(Jitter::Full);
    }
    let Ok(backoff) = backoff.build() else {
        return;
    };
    let clock = ManualClock::new();
    let mut builder = Retry::builder().backoff(backoff).clock(clock.clone());
    if let Some(attempts) = input.max_attempts {
        builder = builder.max_attempts(attempts.0);
    }
    if let Some(limit) = input.max_elapsed {
        builder = builder.max_elapsed(limit.0);
    }
    let Ok(policy) = builder.build() else {
        return;
    };
    let failures = u32::from(input.failures);
    let mut calls = 0u32;
    let result = policy
        .call_blocking(|attempt| {
            calls += 1;
            assert_eq!(attempt, calls, "attempts are numbered from 1");
            if attempt <= failures {
                Err(attempt)
            } else {
                Ok(attempt)
            }
        })
        .seed(input.seed)
        .run(&clock);
    assert!(calls >= 1);
    assert!(
        calls <= policy.max_attempts().max(1),
        "{calls} calls > {}",
        policy.max_attempts()
    );
    assert!(calls <= failures + 1, "called again after a success");
    match result {
        Ok(attempt) => assert_eq!(attempt, failures + 1),
        Err(err) => {
            assert_eq!(err.attempts(), calls);
            assert!(calls <= failures);
        }
    }
    // A deadline is never passed by waiting: the loop stops before a delay
    // that would cross it.
    if let Some(limit) = policy.max_elapsed() {
        assert!(
            clock.now().since_origin() <= limit,
            "waited past the deadline"
        );
    }
}
