//! `cargo xtask stress`: the long-running checks, in release.
//!
//! Why a task of its own: the seeded storms (`tests/stress_ops.rs` in
//! resil-breaker and resil-shed, 100,000 operations each) are quick enough
//! for every `cargo test`, but one seed is one schedule; here each runs
//! under several more seeds. The registry memory test (`registry_memory.rs`,
//! 1,000,000 keys into a registry capped at 10,000) takes about three
//! minutes even in release, so it is `#[ignore]`d in the normal run and
//! runs only here. Everything counts, nothing is timed: the virtual clock
//! is the only clock the tests read.

use crate::step::{Failed, Step};

/// Seeds the storms run under, besides the default one of the normal run.
const SEEDS: &[&str] = &["1", "2", "3", "4", "5", "6", "7", "8"];

/// The storms, in release.
const STORMS: &str = "test --release -p resil-breaker -p resil-shed --test stress_ops";

/// The ignored memory test, in release.
const MEMORY: &str = "test --release -p resil-breaker --test registry_memory -- --ignored";

/// Runs every storm under every seed, then the memory test.
///
/// # Errors
///
/// Fails at the first failing run; the failure (and the seed to rerun it
/// with) has been printed.
pub(crate) fn run() -> Result<(), Failed> {
    for seed in SEEDS {
        Step::cargo(format!("stress: storms, seed {seed}"), STORMS)
            .env("RESIL_STRESS_SEED", seed)
            .run()?;
    }
    Step::cargo("stress: registry of 1,000,000 keys", MEMORY).run()?;
    Ok(())
}
