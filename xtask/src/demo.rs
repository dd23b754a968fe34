//! `cargo xtask demo`: shows the project doing something, with no setup.
//!
//! Why: a newcomer (or a reviewer) should see resil's behaviour in one
//! command before reading any code.

use crate::step::{Failed, Step};

/// The demo's cargo arguments. For now it prints resil-core's backoff table;
/// the simulator replaces it once it exists.
const DEMO: &str = "run --quiet --release -p resil-core --example backoff_table";

/// Runs the demo.
///
/// # Errors
///
/// Fails if the demo does not build or run; the failure has been printed.
pub(crate) fn run() -> Result<(), Failed> {
    Step::cargo("demo", DEMO).run()?;
    Ok(())
}
