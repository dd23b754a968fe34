//! `cargo xtask miri`: the unit tests of resil-core and the technique
//! crates under Miri, on a pinned nightly.
//!
//! Why, in crates without `unsafe`: `#![forbid(unsafe_code)]` covers our
//! code, not the standard library's and our dependencies' `unsafe` that our
//! code drives (atomics, `Arc`, wakers, `rand`), and Miri also checks for
//! leaks, data races between the threads a test spawns, and integer
//! overflow in arithmetic that release builds would wrap. The nightly is
//! pinned so a Miri update cannot turn the task red overnight; rustup
//! installs it, with the `miri` and `rust-src` components, if missing.
//!
//! Only `--lib` (the unit tests beside the code): the integration tests
//! run the same code through runtimes (tokio, smol, async-std) whose
//! executors Miri runs very slowly. Property tests run 8 cases instead of
//! their usual count (`PROPTEST_CASES`, or `cfg!(miri)` where a test sets
//! its own count). Isolation is off (`-Zmiri-disable-isolation`) because
//! proptest looks up its regression files on disk; no test reads the real
//! clock, and the workspace lints forbid them to. A test Miri cannot run is skipped
//! with `#[cfg_attr(miri, ignore = "reason")]` beside it, never here.

use crate::step::Failed;
use crate::tool;

/// The pinned nightly (rustc 1.97.0-nightly e50aa6fba 2026-05-19).
pub(crate) const NIGHTLY: &str = "nightly-2026-05-20";

/// The crates whose unit tests run under Miri.
const CRATES: &[&str] = &["resil-core", "resil-retry", "resil-breaker", "resil-shed"];

/// Installs the nightly if needed and runs each crate's unit tests.
///
/// # Errors
///
/// Fails at the first crate with a failing test or undefined behaviour;
/// the failure has been printed.
pub(crate) fn run() -> Result<(), Failed> {
    tool::ensure_toolchain(NIGHTLY, &["miri", "rust-src"])?;
    let env = [
        ("PROPTEST_CASES", "8"),
        (
            "MIRIFLAGS",
            "-Zmiri-strict-provenance -Zmiri-disable-isolation",
        ),
    ];
    for krate in CRATES {
        let args = [
            "miri",
            "test",
            "--target-dir",
            "target/miri",
            "-p",
            krate,
            "--lib",
        ]
        .map(str::to_owned)
        .to_vec();
        tool::cargo_with(&format!("miri {krate}"), NIGHTLY, &args, &env)?;
    }
    Ok(())
}
