//! `cargo xtask ci`: the whole CI gate, in order, stopping at the first
//! failure.
//!
//! Why in xtask and not in a CI YAML file: `.ci/run` only calls this task, so
//! a developer runs exactly what CI runs, on any machine, with one command.
//! The order puts the fast, most often failing checks first.

use core::time::Duration;

use crate::step::{self, Failed, Step};
use crate::{deny, features, loom, msrv, tidy, tool};

/// A crate that must build without `std`.
struct NoStd {
    krate: &'static str,
    /// Features to build with one at a time, besides none at all.
    features: &'static [&'static str],
    /// Whether it must also build for the [`NO_STD_TARGETS`].
    bare_metal: bool,
}

/// The crates that build without `std`. resil-breaker needs an allocator,
/// `Arc` and 64-bit atomics, so it is checked on the host only.
const NO_STD_CRATES: &[NoStd] = &[
    NoStd {
        krate: "resil-core",
        features: &["alloc"],
        bare_metal: true,
    },
    NoStd {
        krate: "resil-retry",
        features: &[],
        bare_metal: true,
    },
    NoStd {
        krate: "resil-breaker",
        features: &[],
        bare_metal: false,
    },
    NoStd {
        krate: "resil-shed",
        features: &[],
        bare_metal: true,
    },
];

/// One stage of the gate: a name for the summary and what it runs.
type Stage = (&'static str, fn() -> Result<(), Failed>);

/// The gate, in the order it runs.
const STAGES: &[Stage] = &[
    ("fmt", fmt),
    ("clippy", clippy),
    ("test", test),
    ("fuzz-smoke", fuzz_smoke),
    ("doc", doc),
    ("no_std", no_std),
    ("features", features::run),
    ("msrv", msrv::run),
    ("tidy", tidy::run),
    ("deny", || deny::run(&[])),
    ("loom", loom::run),
];

/// Runs every stage, then prints one summary line.
///
/// # Errors
///
/// Fails at the first failing stage; the failure has been printed.
pub(crate) fn run() -> Result<(), Failed> {
    let mut passed: Vec<(&str, Duration)> = Vec::new();
    let mut total = Duration::ZERO;
    for &(name, stage) in STAGES {
        let (result, took) = step::timed(stage);
        total += took;
        if result.is_err() {
            eprintln!(
                "ci: FAILED at step {name} after {}",
                step::format_duration(total)
            );
            return Err(Failed);
        }
        passed.push((name, took));
    }
    let times: Vec<String> = passed
        .iter()
        .map(|&(name, took)| format!("{name} {}", step::format_duration(took)))
        .collect();
    eprintln!(
        "ci: {} steps passed in {} ({})",
        passed.len(),
        step::format_duration(total),
        times.join(", ")
    );
    Ok(())
}

/// Formatting is checked, never fixed, in CI.
fn fmt() -> Result<(), Failed> {
    Step::cargo("fmt", "fmt --all --check").run()?;
    Ok(())
}

/// Lints deny warnings here rather than in source, so a new lint in a new
/// toolchain breaks CI and not our users.
fn clippy() -> Result<(), Failed> {
    Step::cargo(
        "clippy",
        "clippy --workspace --all-targets --all-features -- -D warnings",
    )
    .run()?;
    Ok(())
}

/// Unit, integration and doc tests, with every feature on, so the
/// facade's tower, tracing and serde tests run (builds of each feature
/// alone are the features step's).
fn test() -> Result<(), Failed> {
    Step::cargo("test", "test --workspace --all-features").run()?;
    Ok(())
}

/// The fuzz targets' checks (`fuzz/src/<target>.rs`), linted and run on a
/// fixed sample of inputs by `fuzz/tests/smoke.rs`, on stable: so an API
/// change that breaks a target fails here and not at the next
/// `cargo xtask fuzz`. `--no-default-features` leaves out libfuzzer-sys and
/// its C++ build, and with them the target binaries. The fuzz crate is its
/// own workspace, built in `fuzz/target`.
fn fuzz_smoke() -> Result<(), Failed> {
    const FUZZ: &str = "--manifest-path fuzz/Cargo.toml --no-default-features --locked";
    Step::cargo(
        "fuzz-smoke clippy",
        &format!("clippy {FUZZ} --all-targets -- -D warnings"),
    )
    .run()?;
    Step::cargo("fuzz-smoke test", &format!("test {FUZZ}")).run()?;
    Ok(())
}

/// Docs deny warnings so that broken intra-doc links never ship.
fn doc() -> Result<(), Failed> {
    Step::cargo("doc", "doc --workspace --no-deps --all-features")
        .env("RUSTDOCFLAGS", "-D warnings")
        .run()?;
    Ok(())
}

/// Bare-metal targets the `no_std` crates must build for: one without
/// compare-and-swap (thumbv6m) and one without 64-bit atomics (thumbv7em).
/// A host build alone would not notice a dependency on either.
const NO_STD_TARGETS: &[&str] = &["thumbv6m-none-eabi", "thumbv7em-none-eabihf"];

/// The `no_std` crates build with no features and with `alloc` alone, for
/// the host and for each of [`NO_STD_TARGETS`] (installed here with rustup,
/// so a fresh machine needs nothing done by hand).
fn no_std() -> Result<(), Failed> {
    tool::ensure_targets(NO_STD_TARGETS)?;
    let targets = std::iter::once(None).chain(NO_STD_TARGETS.iter().map(Some));
    for target in targets {
        let on = target.map_or_else(String::new, |t| format!(" --target {t}"));
        for krate in NO_STD_CRATES
            .iter()
            .filter(|k| target.is_none() || k.bare_metal)
        {
            let name = krate.krate;
            let bare = format!("build -p {name} --no-default-features{on}");
            Step::cargo(format!("no_std {name}{on}"), &bare).run()?;
            for feature in krate.features {
                let with = format!("{bare} --features {feature}");
                Step::cargo(format!("no_std {name} +{feature}{on}"), &with).run()?;
            }
        }
    }
    Ok(())
}
