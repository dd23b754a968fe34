//! A smoke run of every fuzz target's check on stable, without libFuzzer:
//! the CI gate's fuzz-smoke stage.
//!
//! What it guards: that the targets still compile against the current API
//! of the resil crates, and that their invariants hold on a fixed sample of
//! inputs (pseudo-random bytes from a fixed seed, of varied lengths, plus
//! all-zero and all-0xFF ones), decoded exactly as `fuzz_target!` decodes
//! libFuzzer's bytes. It is not fuzzing: the sample is the same on every
//! run and nothing steers it towards new code. Real fuzzing stays
//! `cargo xtask fuzz`.

use core::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};

use arbitrary::{Arbitrary, Unstructured};
use resil_core::SplitMix64;
use resil_fuzz::{backoff, breaker, limiter, retry, throttle};

/// Pseudo-random inputs per target. 10,000 keep the whole smoke (five
/// targets on two test threads, debug build) at about two seconds, measured
/// on a loaded two-core machine. Random configurations are mostly invalid
/// (a builder error ends the check early), so the count is high enough for
/// a few hundred valid ones per target.
const SAMPLES: usize = 10_000;

/// The longest a pseudo-random input gets, cycling through these caps so
/// that short inputs (mostly configuration, few operations) and long ones
/// (up to the targets' operation limits) are both common.
const MAX_LENGTHS: [usize; 4] = [16, 128, 1024, 8192];

/// How many bytes in 64 are made odd (on top of the half that already
/// are), cycling through these per input. `arbitrary` builds a list element
/// by element while the low bit of the next byte says "one more", so plain
/// random bytes end a list of operations after one element on average;
/// with 48 or 60 of 64 bytes forced odd, lists run to about 7 or 31. The
/// price is a skew in every other choice read from those bytes, hence the
/// mix with plain ones.
const ODD_IN_64: [u64; 3] = [0, 48, 60];

/// Lengths of the all-zero and all-0xFF inputs.
const FILL_LENGTHS: [usize; 4] = [1, 16, 256, 4096];

/// Runs `check` on the target's sample, drawn from `seed`.
///
/// # Panics
///
/// When `check` does (after printing which input it was), or when too few
/// inputs decode for the run to mean anything.
fn smoke<T>(target: &str, seed: u64, check: fn(T))
where
    T: for<'a> Arbitrary<'a> + Debug,
{
    let mut rng = SplitMix64::new(seed);
    let random = (0..SAMPLES).map(|i| {
        let cap = MAX_LENGTHS[i % MAX_LENGTHS.len()];
        let odd = ODD_IN_64[i % ODD_IN_64.len()];
        let len = (rng.next_u64() % (cap as u64 + 1)) as usize;
        let mut bytes = vec![0; len];
        for byte in &mut bytes {
            let bits = rng.next_u64();
            *byte = bits as u8 | u8::from((bits >> 58) < odd);
        }
        bytes
    });
    let fills = FILL_LENGTHS
        .iter()
        .flat_map(|&len| [vec![0x00; len], vec![0xFF; len]]);
    let mut decoded = 0;
    for (sample, bytes) in random.chain(fills).enumerate() {
        // As `fuzz_target!` does: too short for the type, or undecodable,
        // and the input is skipped.
        if bytes.len() < T::size_hint(0).0 {
            continue;
        }
        let Ok(input) = T::arbitrary_take_rest(Unstructured::new(&bytes)) else {
            continue;
        };
        decoded += 1;
        if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(|| check(input))) {
            let input = T::arbitrary_take_rest(Unstructured::new(&bytes));
            eprintln!(
                "{target}: sample {sample} (seed {seed}, {} bytes) failed; input: {input:?}",
                bytes.len()
            );
            panic::resume_unwind(panic);
        }
    }
    assert!(
        decoded >= SAMPLES / 2,
        "{target}: only {decoded} inputs decoded"
    );
}

#[test]
fn backoff() {
    smoke("backoff", 1, backoff::check);
}

#[test]
fn retry() {
    smoke("retry", 2, retry::check);
}

#[test]
fn breaker() {
    smoke("breaker", 3, breaker::check);
}

#[test]
fn limiter() {
    smoke("limiter", 4, limiter::check);
}

#[test]
fn throttle() {
    smoke("throttle", 5, throttle::check);
}
