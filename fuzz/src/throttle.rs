//! SRE adaptive throttle: any K, window, maximum rejection and seed, and any
//! sequence of requests, accepts and clock moves. Invariants: no panic; the
//! rejection probability is a number in [0, max_rejection] (never NaN); it
//! is zero while accepts keep up (requests ≤ K · accepts); accepts never
//! outnumber requests in the window.

use arbitrary::Arbitrary;
use resil_core::ManualClock;
use resil_shed::AdaptiveThrottle;

use crate::{AnyDuration, AnyFloat};

/// What one fuzz run decodes its bytes into: a configuration and the
/// operations to apply to it, in order.
#[derive(Debug, Arbitrary)]
pub struct Input {
    config: Config,
    ops: Vec<Op>,
}

#[derive(Debug, Arbitrary)]
struct Config {
    k: Option<AnyFloat>,
    window: Option<AnyDuration>,
    max_rejection: Option<AnyFloat>,
    seed: u64,
}

#[derive(Debug, Arbitrary)]
enum Op {
    Request { accepted: bool },
    Advance(AnyDuration),
}

/// Builds the policy `input` describes and drives it, asserting the
/// invariants above.
///
/// # Panics
///
/// When an invariant does not hold: that is the bug a fuzzer reports.
pub fn check(input: Input) {
    let Input { config, ops } = input;
    let clock = ManualClock::new();
    let mut builder = AdaptiveThrottle::builder()
        .clock(clock.clone())
        .seed(config.seed);
    if let Some(k) = config.k {
        builder = builder.k(k.0);
    }
    if let Some(window) = config.window {
        builder = builder.window(window.0);
    }
    if let Some(max) = config.max_rejection {
        builder = builder.max_rejection(max.0);
    }
    let Ok(throttle) = builder.build() else {
        return;
    };
    let max_rejection = config.max_rejection.map_or(1.0, |m| m.0);
    for op in ops.into_iter().take(5_000) {
        match op {
            Op::Request { accepted } => {
                let p = throttle.rejection_probability();
                assert!((0.0..=1.0).contains(&p), "probability {p}");
                assert!(
                    p <= max_rejection + 1e-12,
                    "probability {p} above {max_rejection}"
                );
                if throttle.check().is_ok() && accepted {
                    throttle.accepted();
                }
            }
            Op::Advance(d) => {
                clock.advance(d.0);
            }
        }
        assert!(
            throttle.accepts() <= throttle.requests(),
            "more accepts than requests"
        );
    }
}
