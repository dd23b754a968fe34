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
mod loom;
mod step;
mod tidy;

use std::env;
use std::process::ExitCode;

/// What `cargo xtask help` prints.
const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci      the whole CI gate: fmt, clippy, test, doc, no_std, tidy, loom
  loom    run the loom models (RUSTFLAGS=\"--cfg resil_loom\", release)
  demo    run the demo
  bench   benchmarks against the peers (criterion timings and callgrind
          instruction counts) in one table; a few minutes, not part of ci
  tidy    check architecture invariants (no runtime deps, workspace lints,
          no mod.rs, #![forbid(unsafe_code)])
  help    print this message
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    if args.len() > 1 {
        eprintln!("error: unexpected arguments after `{}`\n\n{USAGE}", args[0]);
        return ExitCode::from(2);
    }
    let result = match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("ci") => ci::run(),
        Some("loom") => loom::run(),
        Some("demo") => demo::run(),
        Some("bench") => bench::run(),
        Some("tidy") => tidy::run(),
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
