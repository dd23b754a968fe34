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
//!
//! A few mutants only change what happens when a reset lands between two
//! steps of a record, which no single-threaded test reaches. The normal
//! pass skips exactly those (named with their lines in [`SCOPE`]); a second
//! pass builds the crate as `cargo xtask loom` does and tests them against
//! the loom models alone (about 2 min for the baseline, then ~40 s each).

use crate::step::{self, Failed, Step};
use crate::tool::{self, CARGO_MUTANTS};

/// A crate, the files mutated in it, and its race-only mutants.
struct Scope {
    krate: &'static str,
    files: &'static [&'static str],
    /// Mutants that only a concurrent interleaving reaches (a reset landing
    /// between two steps of one record): the normal pass skips them and
    /// the loom pass tests them against the crate's loom models.
    race_only: Option<RaceOnly>,
}

/// Mutants for the loom models, and the test filter that selects them.
struct RaceOnly {
    /// The files they are in: cargo-mutants 27.1 lets "delete field"
    /// mutants of other files through `--re`.
    files: &'static [&'static str],
    /// Matched against the names `cargo mutants --list` prints; the line
    /// numbers make an edit that moves them fail loudly in the normal pass.
    names: &'static str,
    models: &'static str,
}

/// cargo-mutants' exit code when some mutants made the tests hang past the
/// timeout. It wins over 2 (a mutant survived), so `missed.txt` decides.
const TIMEOUTS: i32 = 3;

/// What is mutated, crate by crate.
const SCOPE: &[Scope] = &[
    Scope {
        krate: "resil-core",
        files: &[
            "resil-core/src/backoff.rs",
            "resil-core/src/backoff/**/*.rs",
            "resil-core/src/instant.rs",
        ],
        race_only: None,
    },
    Scope {
        krate: "resil-breaker",
        files: &[
            "resil-breaker/src/state.rs",
            "resil-breaker/src/window/*.rs",
        ],
        race_only: Some(RaceOnly {
            files: &["resil-breaker/src/window/*.rs"],
            names: r"^resil-breaker/src/window/(count\.rs:180:18: replace match guard latest != generation with true in CountWindow::record|count\.rs:180:25: replace != with == in CountWindow::record|time\.rs:224:57: replace & with \| in TimeWindow::reset|time\.rs:341:24: replace != with == in TimeWindow::place)$",
            models: "loom_window",
        }),
    },
    Scope {
        krate: "resil-retry",
        files: &[
            "resil-retry/src/state.rs",
            "resil-retry/src/budget.rs",
            "resil-retry/src/budget/**/*.rs",
        ],
        race_only: None,
    },
    Scope {
        krate: "resil-shed",
        files: &[
            "resil-shed/src/limiter/state.rs",
            "resil-shed/src/limit/*.rs",
        ],
        race_only: None,
    },
];

/// Runs cargo-mutants on each crate's scope, or only on the crates named
/// in `args`.
///
/// # Errors
///
/// Fails if a mutant survives (or the run fails); the survivors are
/// listed in `target/mutants/<crate>[-loom]/mutants.out/missed.txt`.
pub(crate) fn run(args: &[String]) -> Result<(), Failed> {
    tool::ensure(CARGO_MUTANTS)?;
    // cargo-mutants creates its output directory but not the parents.
    let parent = step::workspace_root().join("target").join("mutants");
    step::run_named("mutants: output directory", || {
        std::fs::create_dir_all(&parent).map_err(|err| format!("{}: {err}", parent.display()))
    })?;
    for scope in SCOPE {
        if !args.is_empty() && !args.iter().any(|a| a == scope.krate) {
            continue;
        }
        let krate = scope.krate;
        let normal = format!(
            "mutants --jobs 1 --package {krate} --output target/mutants/{krate} \
             --cargo-arg=--tests{}",
            file_args(scope.files)
        );
        let mut step = Step::cargo(format!("mutants {krate}"), &normal);
        if let Some(race) = &scope.race_only {
            step = step.arg("--exclude-re").arg(race.names);
        }
        run_pass(&step, krate)?;
        if let Some(race) = &scope.race_only {
            // The loom build (see `cargo xtask loom`): release, the loom
            // cfg, and only the models as the oracle.
            let output = format!("{krate}-loom");
            let loom = format!(
                "mutants --jobs 1 --package {krate} --output target/mutants/{output} \
                 --profile release --cargo-test-arg=--lib{}",
                file_args(race.files)
            );
            let step = Step::cargo(format!("mutants {krate} (loom models)"), &loom)
                .arg("--re")
                .arg(race.names)
                .arg("--")
                .arg(race.models)
                .env("RUSTFLAGS", "--cfg resil_loom")
                .env("LOOM_MAX_PREEMPTIONS", crate::loom::LOOM_MAX_PREEMPTIONS);
            run_pass(&step, &output)?;
        }
    }
    Ok(())
}

/// `--file` arguments for each glob.
fn file_args(files: &[&str]) -> String {
    files.iter().map(|file| format!(" --file {file}")).collect()
}

/// Runs one cargo-mutants pass whose results go to `target/mutants/<output>`.
/// A mutant that makes the tests hang counts as caught (the tests noticed),
/// so a pass ending with timeouts succeeds when no mutant was missed.
fn run_pass(step: &Step, output: &str) -> Result<(), Failed> {
    step.clone().also_ok(TIMEOUTS).run()?;
    let missed = step::workspace_root()
        .join("target/mutants")
        .join(output)
        .join("mutants.out/missed.txt");
    step::run_named(&format!("mutants {output}: no survivor"), || {
        let survivors = std::fs::read_to_string(&missed)
            .map_err(|err| format!("{}: {err}", missed.display()))?;
        if survivors.trim().is_empty() {
            Ok(())
        } else {
            Err(format!(
                "mutants survived (listed in {}):\n{survivors}",
                missed.display()
            ))
        }
    })?;
    Ok(())
}
