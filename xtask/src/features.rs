//! `cargo xtask features`: every feature of every crate builds alone, and
//! every combination of the facade's features builds, with cargo-hack.
//!
//! Why: `cargo build` and `cargo test` see one feature set, the default one
//! (plus whatever other workspace members switch on through unification), so
//! a `#[cfg(feature = "std")]` missing on one item only breaks a user who
//! picks a different set. cargo-hack checks each set on its own.
//!
//! - `--each-feature` on the whole workspace: each crate with no features,
//!   each feature alone (without the defaults) and all features;
//! - `--feature-powerset` on the facade (`resil`), where users combine
//!   features: cargo-hack skips sets that only differ by a feature implied by
//!   another (`tower` implies `std`, `std` implies `alloc`, …), and `full`,
//!   an alias for all of them, is excluded (the all-features build has it).
//!
//! Both run `cargo check` on the libraries (not tests: dev-dependencies turn
//! features on through unification and would hide exactly what this looks
//! for). The bare-metal `no_std` builds are `cargo xtask ci`'s own step.
//! cargo-hack is installed (pinned, `--locked`) if missing.

use crate::step::{Failed, Step};
use crate::tool::{self, CARGO_HACK};

/// Each feature of every workspace crate, alone.
const EACH_FEATURE: &str = "hack check --workspace --each-feature";

/// Every combination of the facade's features.
const FACADE_POWERSET: &str = "hack check -p resil --feature-powerset --exclude-features full";

/// Installs cargo-hack if needed and checks every feature set.
///
/// # Errors
///
/// Fails at the first feature set that does not build; the failure has
/// been printed.
pub(crate) fn run() -> Result<(), Failed> {
    tool::ensure(CARGO_HACK)?;
    Step::cargo("features: each feature, every crate", EACH_FEATURE).run()?;
    Step::cargo("features: facade powerset", FACADE_POWERSET).run()?;
    Ok(())
}
