//! `cargo xtask loom`: runs the loom models of every crate that has them.
//!
//! Why a task of its own: loom replaces the atomics of each crate's `cell.rs`
//! through the `resil_loom` cfg, which needs its own `RUSTFLAGS`, a separate
//! target directory (so it never invalidates the normal build cache) and
//! `--release` (exhaustive interleavings are slow in debug). Nobody should
//! have to remember that incantation. The models live in
//! `src/tests/loom_*.rs`, so the `loom_` test filter selects exactly them.

use std::env;

use crate::step::{Failed, Step};

/// Crates with loom models.
const LOOM_CRATES: &[&str] = &["resil-core", "resil-retry", "resil-breaker", "resil-shed"];

/// The preemption bound loom explores per execution.
///
/// 2 or 3 keeps models exhaustive enough to catch ordering bugs in a
/// two- or three-thread CAS loop while finishing in seconds to minutes.
/// Measured at 3 (2026-11-27, 2 cores, after a release build of ~1 min from
/// clean): resil-core's 4 models explore in 1.3s, resil-retry's 7 in 0.7s,
/// resil-breaker's 13 in 3.0s, resil-shed's 7 in 0.3s. Record the times here when the models
/// change. Override the bound with an already-set `LOOM_MAX_PREEMPTIONS`.
///
/// Every model starts each thread with a relaxed read-modify-write on a
/// shared counter: loom 0.7 does not preempt a spawned thread whose first
/// operation is an atomic load (tokio-rs/loom#392) and would otherwise miss
/// interleavings.
pub(crate) const LOOM_MAX_PREEMPTIONS: &str = "3";

/// Runs each crate's loom models, printing the time per crate.
///
/// # Errors
///
/// Fails at the first crate whose models fail; the failure has been printed.
pub(crate) fn run() -> Result<(), Failed> {
    let preemptions =
        env::var("LOOM_MAX_PREEMPTIONS").unwrap_or_else(|_| LOOM_MAX_PREEMPTIONS.to_owned());
    for &krate in LOOM_CRATES {
        let args = format!("test --release --target-dir target/loom -p {krate} --lib -- loom_");
        Step::cargo(format!("loom {krate}"), &args)
            .env("RUSTFLAGS", "--cfg resil_loom")
            .env("LOOM_MAX_PREEMPTIONS", &preemptions)
            .run()?;
    }
    Ok(())
}
