//! `cargo xtask deny`: the supply chain, checked by cargo-deny against
//! `deny.toml` — licenses, banned and duplicate crates, and sources.
//!
//! Why not advisories by default: `cargo deny check advisories` clones the
//! RustSec database from GitHub, and the gate's network reaches crates.io
//! only. The gate checks what works offline; `cargo xtask deny --advisories`
//! adds the advisory check where GitHub is reachable (its configuration is
//! in `deny.toml` too).

use crate::step::{Failed, Step};
use crate::tool::{self, CARGO_DENY};

/// The checks that need no network beyond the crates.io index.
const OFFLINE_CHECKS: &str = "licenses bans sources";

/// Installs cargo-deny if needed and runs its offline checks, plus
/// advisories if `args` is `["--advisories"]`.
///
/// # Errors
///
/// Fails if the install or any check fails, or on an unknown argument; the
/// failure has been printed.
pub(crate) fn run(args: &[String]) -> Result<(), Failed> {
    let checks = match args {
        [] => OFFLINE_CHECKS.to_owned(),
        [flag] if flag == "--advisories" => format!("{OFFLINE_CHECKS} advisories"),
        _ => {
            eprintln!("usage: cargo xtask deny [--advisories]");
            return Err(Failed);
        }
    };
    tool::ensure(CARGO_DENY)?;
    Step::cargo("deny", &format!("deny check {checks}")).run()?;
    Ok(())
}
