//! `cargo xtask`: resil's project automation, written in Rust.
//!
//! Why xtask (matklad's cargo-xtask, rust-analyzer): the automation needs no
//! tool beyond cargo, runs the same on every OS, and CI calls it — `.ci/run`
//! is just `cargo xtask ci` — so a developer runs exactly what CI runs.
//! One file per task; `step.rs` holds the shared "named, timed step".

#![forbid(unsafe_code)]

mod bench;
mod ci;
mod demo;
mod deny;
mod features;
mod fuzz;
mod loom;
mod miri;
mod msrv;
mod mutants;
mod step;
mod stress;
mod tidy;
mod tool;
mod workspace;

use std::env;
use std::process::ExitCode;

/// What `cargo xtask help` prints.
const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci      the whole CI gate: fmt, clippy, test, doc, no_std, features,
          msrv, tidy, deny, loom
  loom    run the loom models (RUSTFLAGS=\"--cfg resil_loom\", release)
  demo    run the demo
  bench   benchmarks against the peers (criterion timings and callgrind
          instruction counts) in one table; a few minutes, not part of ci
  tidy    check architecture invariants (no runtime deps, workspace lints,
          no mod.rs, #![forbid(unsafe_code)], CHANGELOG has Unreleased)
  deny    supply chain with cargo-deny: licenses, bans and duplicates,
          sources (installs cargo-deny); --advisories also checks RustSec
          (needs GitHub, so not in ci)
  features  every feature of every crate alone, and the facade's feature
          powerset, with cargo-hack (installs it)
  fuzz [secs]  run each cargo-fuzz target in fuzz/ for secs (default 60)
          seconds (nightly and cargo-fuzz, installed if missing)
  miri    the unit tests of resil-core and the technique crates under Miri
          (pinned nightly, installed with rustup)
  mutants [crate...]  mutation testing (cargo-mutants, --jobs 1) of core
          and the state machines, windows and limits; tens of minutes
  msrv    build the published crates with the declared rust-version
          (installs that toolchain with rustup)
  stress  the seeded limiter and breaker storms under more seeds and the
          1,000,000-key registry memory test, in release (~4 min)
  help    print this message
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (Some(task.as_str()), rest),
        None => (None, &[][..]),
    };
    // Only some tasks take arguments; the others refuse them.
    let takes_args = matches!(task, Some("deny" | "fuzz" | "mutants"));
    if !takes_args && !rest.is_empty() {
        eprintln!("error: unexpected arguments after `{}`\n\n{USAGE}", args[0]);
        return ExitCode::from(2);
    }
    let result = match task {
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("ci") => ci::run(),
        Some("loom") => loom::run(),
        Some("demo") => demo::run(),
        Some("bench") => bench::run(),
        Some("tidy") => tidy::run(),
        Some("deny") => deny::run(rest),
        Some("features") => features::run(),
        Some("msrv") => msrv::run(),
        Some("miri") => miri::run(),
        Some("fuzz") => fuzz::run(rest),
        Some("mutants") => mutants::run(rest),
        Some("stress") => stress::run(),
        Some(other) => {
            eprintln!("error: unknown task `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Failures have already been reported by the step that failed.
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(step::Failed) => ExitCode::FAILURE,
    }
}
