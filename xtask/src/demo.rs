//! `cargo xtask demo`: shows the project doing something, with no setup.
//!
//! Why: a newcomer (or a reviewer) should see resil's behaviour in one
//! command before reading any code. The demo is the simulator's default
//! set: the built-in scenarios (outage, brownout, overload, layered, the
//! SRE throttle) with the five client configurations side by side, and the
//! AWS jitter reproduction, all in virtual time on the real crates. It
//! prints a table per scenario and writes an HTML report with charts.
//!
//! Release mode, because the set simulates about a million requests: the
//! run itself takes under two seconds optimised on 2 cores (plus the build).

use crate::step::{Failed, Step};

/// The demo's cargo arguments. Steps run from the workspace root, so the
/// report lands in `<workspace>/target/resil-report/`; the simulator
/// prints its full path.
const DEMO: &str = "run --quiet --release -p resil-sim -- demo --out target/resil-report";

/// Runs the demo.
///
/// # Errors
///
/// Fails if the simulator does not build or run; the failure has been
/// printed.
pub(crate) fn run() -> Result<(), Failed> {
    Step::cargo("demo", DEMO).run()?;
    Ok(())
}
