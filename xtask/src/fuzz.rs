//! `cargo xtask fuzz [seconds]`: runs every cargo-fuzz target in `fuzz/`
//! for a bounded time each (60 s by default).
//!
//! Why not in `cargo xtask ci`: a fuzzer finds bugs in proportion to the
//! time it runs, and a minute per target would double the gate for little;
//! the targets are fuzzed here, on demand and before a release. The gate
//! still compiles each target's logic (`fuzz/src/<target>.rs`, which the
//! `fuzz_targets/` binaries only call) on stable without libFuzzer, lints
//! it, and runs it on a fixed sample of inputs: its fuzz-smoke stage, so
//! an API change cannot break a target unnoticed.
//! libFuzzer needs a nightly compiler (the pinned one of `cargo xtask
//! miri`), and cargo-fuzz is installed (pinned, `--locked`) if missing.
//! Each target builds its policy from arbitrary configuration (NaN, ±∞,
//! subnormal floats, `Duration::ZERO` and `MAX`, counts up to `u32::MAX`)
//! and drives it with arbitrary operations and clock moves, asserting the
//! invariants listed in its module's docs. `-timeout=10` turns a hang
//! into a failure; the corpus grows in `fuzz/corpus/<target>/` (not
//! committed) and a crash lands in `fuzz/artifacts/<target>/`.

use crate::miri::NIGHTLY;
use crate::step::Failed;
use crate::tool::{self, CARGO_FUZZ};

/// The targets, one per policy.
const TARGETS: &[&str] = &["backoff", "retry", "breaker", "limiter", "throttle"];

/// Seconds per target unless the command line says otherwise.
const DEFAULT_SECONDS: u64 = 60;

/// Runs each target for the given (or default) number of seconds.
///
/// # Errors
///
/// Fails on a bad argument, or at the first target that crashes, hangs or
/// fails to build; the failure has been printed.
pub(crate) fn run(args: &[String]) -> Result<(), Failed> {
    let seconds = match args {
        [] => DEFAULT_SECONDS,
        [secs] => secs.parse().map_err(|_| {
            eprintln!("usage: cargo xtask fuzz [seconds per target]");
            Failed
        })?,
        _ => {
            eprintln!("usage: cargo xtask fuzz [seconds per target]");
            return Err(Failed);
        }
    };
    tool::ensure(CARGO_FUZZ)?;
    tool::ensure_toolchain(NIGHTLY, &[])?;
    for target in TARGETS {
        let args = [
            "fuzz",
            "run",
            "--fuzz-dir",
            "fuzz",
            target,
            "--",
            &format!("-max_total_time={seconds}"),
            "-timeout=10",
            "-print_final_stats=1",
        ]
        .map(str::to_owned)
        .to_vec();
        tool::cargo_with(&format!("fuzz {target} ({seconds}s)"), NIGHTLY, &args, &[])?;
    }
    Ok(())
}
