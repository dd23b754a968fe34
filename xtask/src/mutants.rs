//! `cargo xtask mutants`: mutation testing of resil-core and the pure
//! state-transition and window code of the technique crates, with
//! cargo-mutants.
//!
//! Why: coverage says a line ran; a surviving mutant says no test would
//! notice if it were wrong. The scope is the code whose every branch is a
//! decision (the pure `state.rs` machines, the sliding windows, backoff
//! growth and jitter, the limits), not glue. Not in `cargo xtask ci`: each
//! mutant rebuilds and retests its crate, so a run takes tens of minutes on
//! two cores. `--jobs 1` leaves the second core to the build. cargo-mutants
//! is installed (pinned, `--locked`) if missing; results land in
//! `target/mutants/<crate>/mutants.out/`. A surviving mutant in a state-transition
//! function needs a new test; an equivalent one is listed with its reason
//! in `MUTANTS.md`, with the score per file.
//!
//! The oracle is the crate's unit and integration tests (`--tests`), not
//! its doctests, which would compile every example again for each mutant.
//! `.cargo/mutants.toml` excludes the mutants `MUTANTS.md` lists as
//! equivalent, and those inside `tests` modules (cargo-mutants skips
//! `#[cfg(test)]` modules but not the `#[cfg(all(test, not(resil_loom)))]`
//! ones, and a mutated test helper says nothing about the library). So a
//! run passes only when every other mutant is caught.

use crate::step::{self, Failed, Step};
use crate::tool::{self, CARGO_MUTANTS};

/// Each crate with the files mutated in it.
const SCOPE: &[(&str, &[&str])] = &[
    (
        "resil-core",
        &[
            "resil-core/src/backoff.rs",
            "resil-core/src/backoff/**/*.rs",
            "resil-core/src/instant.rs",
        ],
    ),
    (
        "resil-breaker",
        &[
            "resil-breaker/src/state.rs",
            "resil-breaker/src/window/*.rs",
        ],
    ),
    (
        "resil-retry",
        &[
            "resil-retry/src/state.rs",
            "resil-retry/src/budget.rs",
            "resil-retry/src/budget/**/*.rs",
        ],
    ),
    (
        "resil-shed",
        &[
            "resil-shed/src/limiter/state.rs",
            "resil-shed/src/limit/*.rs",
        ],
    ),
];

/// Runs cargo-mutants on each crate's scope, or only on the crates named
/// in `args`.
///
/// # Errors
///
/// Fails if a mutant survives (or the run fails); the survivors are
/// listed in `target/mutants/<crate>/mutants.out/missed.txt`.
pub(crate) fn run(args: &[String]) -> Result<(), Failed> {
    tool::ensure(CARGO_MUTANTS)?;
    // cargo-mutants creates its output directory but not the parents.
    let parent = step::workspace_root().join("target").join("mutants");
    step::run_named("mutants: output directory", || {
        std::fs::create_dir_all(&parent).map_err(|err| format!("{}: {err}", parent.display()))
    })?;
    for &(krate, files) in SCOPE {
        if !args.is_empty() && !args.iter().any(|a| a == krate) {
            continue;
        }
        let mut command = format!(
            "mutants --jobs 1 --package {krate} --output target/mutants/{krate} \
             --cargo-arg=--tests"
        );
        for file in files {
            command.push_str(" --file ");
            command.push_str(file);
        }
        Step::cargo(format!("mutants {krate}"), &command).run()?;
    }
    Ok(())
}
