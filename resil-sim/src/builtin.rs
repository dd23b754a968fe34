//! The built-in scenarios: the files in `resil-sim/scenarios/`, compiled
//! in so that the binary and the tests need no path to find them.
//!
//! The files stay the source of truth (and the examples of the format); a
//! user's own scenario is run with `resil-sim run <file>`.

use crate::error::ScenarioError;
use crate::scenario::Scenario;

/// `(file name, TOML text)` of every built-in scenario, in report order.
pub const BUILTIN: &[(&str, &str)] = &[
    ("outage.toml", include_str!("../scenarios/outage.toml")),
    ("brownout.toml", include_str!("../scenarios/brownout.toml")),
    ("overload.toml", include_str!("../scenarios/overload.toml")),
    ("layered.toml", include_str!("../scenarios/layered.toml")),
    (
        "sre_throttle.toml",
        include_str!("../scenarios/sre_throttle.toml"),
    ),
];

/// The built-in scenario from the file named `file` (`"outage.toml"`).
///
/// # Errors
///
/// A [`ScenarioError`] naming `file` if there is no such scenario (the
/// built-ins themselves always load: a test checks it).
pub fn builtin(file: &str) -> Result<Scenario, ScenarioError> {
    let (_, text) = BUILTIN
        .iter()
        .find(|(name, _)| *name == file)
        .ok_or_else(|| ScenarioError::new(file, "no built-in scenario of that name"))?;
    Scenario::from_toml(text)
}
