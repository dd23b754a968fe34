//! Backoff: any growth, base, step, factor, maximum and jitter either fails
//! to build with a `ConfigError` or yields delays that never panic, never
//! exceed `max_delay`, and stay within their jitter's range of the nominal
//! delay — at every index, up to `u32::MAX`.

use core::time::Duration;

use arbitrary::Arbitrary;
use resil_core::{Backoff, Jitter};

use crate::{AnyDuration, AnyFloat};

/// What one fuzz run decodes its bytes into.
#[derive(Debug, Arbitrary)]
pub struct Input {
    growth: u8,
    base: AnyDuration,
    step: AnyDuration,
    factor: AnyFloat,
    max: Option<AnyDuration>,
    jitter: u8,
    seed: u64,
    draws: u16,
    far: Vec<u32>,
}

const NS: Duration = Duration::from_nanos(1);

/// Builds the policy `input` describes and drives it, asserting the
/// invariants above.
///
/// # Panics
///
/// When an invariant does not hold: that is the bug a fuzzer reports.
pub fn check(input: Input) {
    let base = input.base.0;
    let mut builder = match input.growth % 5 {
        0 => Backoff::constant(base),
        1 => Backoff::linear(base, input.step.0),
        2 => Backoff::exponential(base, input.factor.0),
        3 => Backoff::fibonacci(base),
        _ => Backoff::decorrelated(base),
    };
    if let Some(max) = input.max {
        builder = builder.max_delay(max.0);
    }
    let jitter = match input.jitter % 5 {
        0 => None,
        1 => Some(Jitter::None),
        2 => Some(Jitter::Full),
        3 => Some(Jitter::Equal),
        _ => Some(Jitter::Decorrelated),
    };
    if let Some(jitter) = jitter {
        builder = builder.jitter(jitter);
    }
    let Ok(backoff) = builder.build() else {
        return; // A typed error is the right answer to a bad configuration.
    };
    let max = backoff.max_delay();
    if let Some(given) = input.max {
        assert!(
            max <= given.0,
            "max_delay {max:?} above the {:?} asked for",
            given.0
        );
    }
    // Nominal delays at any index, however far, are capped and never panic.
    for &index in input.far.iter().take(16).chain(&[0, 1, u32::MAX]) {
        assert!(backoff.delay(index) <= max);
    }
    for (index, delay) in backoff
        .iter_seeded(input.seed)
        .take(usize::from(input.draws % 512))
        .enumerate()
    {
        let nominal = backoff.delay(u32::try_from(index).unwrap());
        assert!(delay <= max, "delay {index}: {delay:?} > max {max:?}");
        match backoff.jitter_mode() {
            Jitter::None => assert_eq!(delay, nominal, "delay {index}"),
            Jitter::Full => assert!(delay <= nominal, "delay {index}: {delay:?} > {nominal:?}"),
            Jitter::Equal => assert!(
                delay <= nominal && delay.saturating_add(NS) >= nominal / 2,
                "delay {index}: {delay:?} outside [{:?}, {nominal:?}]",
                nominal / 2
            ),
            Jitter::Decorrelated => assert!(
                delay.saturating_add(NS) >= backoff.base().min(max),
                "delay {index}: {delay:?} below the base {:?}",
                backoff.base()
            ),
            _ => {}
        }
    }
}
