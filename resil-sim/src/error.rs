//! What can go wrong before a simulation runs: a scenario that does not
//! parse or does not make sense, or a report that cannot be written.
//!
//! Every scenario error names its field, as a path into the file
//! (`clients[1].breaker.wait`), because the person reading it is editing
//! that file.

use std::fmt;

/// A scenario file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    field: String,
    message: String,
}

impl ScenarioError {
    /// `field` (a path such as `workload.rate`) is wrong: `message` says how.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The TOML did not parse (or had an unknown, missing or mistyped
    /// field); the parser's message shows the line and names the key.
    pub(crate) fn parse(message: String) -> Self {
        ScenarioError {
            field: String::new(),
            message,
        }
    }

    /// The path of the offending field, empty for a parse error (whose
    /// message quotes the line instead).
    pub fn field(&self) -> &str {
        &self.field
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message.trim_end())
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A failure of the command-line tool: a scenario, or writing the report.
#[derive(Debug)]
pub enum SimError {
    /// The scenario file is unusable.
    Scenario {
        /// Which file.
        path: String,
        /// Why.
        error: ScenarioError,
    },
    /// Reading or writing a file failed.
    Io {
        /// Which file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The command line was wrong.
    Usage(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Scenario { path, error } => write!(f, "{path}: {error}"),
            SimError::Io { path, error } => write!(f, "{path}: {error}"),
            SimError::Usage(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for SimError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SimError::Scenario { error, .. } => Some(error),
            SimError::Io { error, .. } => Some(error),
            SimError::Usage(_) => None,
        }
    }
}
