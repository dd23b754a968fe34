//! Named, timed steps: the unit every task is made of.
//!
//! Why a wrapper around `Command`: a red CI log should answer three questions
//! without scrolling — which step failed, how long each one took, and which
//! exact command reproduces the failure locally. Every step prints
//! `==> name` before it starts and `<== name: ok in 12.3s` (or a failure
//! with the command to rerun) when it ends.

use core::fmt::Write as _;
use core::time::Duration;
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A step failed. Its name and the reason have already been printed.
#[derive(Debug)]
pub(crate) struct Failed;

/// A named cargo command with its arguments and extra environment.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    name: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// An exit code that also means success, besides 0.
    also_ok: Option<i32>,
}

impl Step {
    /// A step named `name` that runs `cargo <args>` from the workspace root.
    ///
    /// `args` is split on whitespace, so it reads like the command line;
    /// none of our arguments contain spaces (values with spaces go in `env`).
    pub(crate) fn cargo(name: impl Into<String>, args: &str) -> Self {
        Self {
            name: name.into(),
            args: args.split_whitespace().map(str::to_owned).collect(),
            env: Vec::new(),
            also_ok: None,
        }
    }

    /// Appends one argument as it is, spaces and all (a regex, say).
    pub(crate) fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Sets `key=value` in the command's environment.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Counts exit code `code` as success too (a tool whose non-zero codes
    /// do not all mean failure).
    pub(crate) fn also_ok(mut self, code: i32) -> Self {
        self.also_ok = Some(code);
        self
    }

    /// The command as a developer would type it in a shell.
    pub(crate) fn command_line(&self) -> String {
        let mut line = String::new();
        for (key, value) in &self.env {
            let _ = write!(line, "{key}={} ", shell_quote(value));
        }
        line.push_str("cargo");
        for arg in &self.args {
            line.push(' ');
            line.push_str(&shell_quote(arg));
        }
        line
    }

    /// Runs the command, printing its name and time.
    ///
    /// # Errors
    ///
    /// Fails if cargo cannot be started or exits unsuccessfully; the reason
    /// and the command to reproduce it are printed first.
    pub(crate) fn run(&self) -> Result<Duration, Failed> {
        run_named(&self.name, || {
            let status = Command::new(cargo())
                .args(&self.args)
                .envs(self.env.iter().map(|(key, value)| (key, value)))
                .current_dir(workspace_root())
                .status()
                .map_err(|err| format!("could not start cargo: {err}"))?;
            if status.success() || status.code().is_some_and(|code| Some(code) == self.also_ok) {
                Ok(())
            } else {
                Err(format!(
                    "cargo exited with {status}\n    reproduce from the workspace root with:\n    {}",
                    self.command_line()
                ))
            }
        })
    }
}

/// Runs `body` as a step named `name`: prints `==> name`, then the outcome
/// and the time taken.
///
/// # Errors
///
/// Fails if `body` does; its message is printed under the step's name.
pub(crate) fn run_named(
    name: &str,
    body: impl FnOnce() -> Result<(), String>,
) -> Result<Duration, Failed> {
    eprintln!("==> {name}");
    let (result, took) = timed(body);
    match result {
        Ok(()) => {
            eprintln!("<== {name}: ok in {}", format_duration(took));
            Ok(took)
        }
        Err(reason) => {
            eprintln!("<== {name}: FAILED after {}", format_duration(took));
            eprintln!("    {reason}");
            Err(Failed)
        }
    }
}

/// Runs `f` and measures how long it took.
// The workspace bans `Instant::now` so that library code takes a `Clock`.
// Here the wall-clock time is only reported to a human and never feeds back
// into behaviour, so reading the real clock is exactly what we want.
#[allow(clippy::disallowed_methods)]
pub(crate) fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// Formats a duration for humans: `0.4s`, `40.1s`, `4m12s`.
pub(crate) fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs < 60 {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

/// The cargo binary that invoked us (`$CARGO`), so nested commands use the
/// same toolchain; plain `cargo` when run outside cargo.
pub(crate) fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The workspace root: the parent of this crate's directory.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Quotes `arg` for a POSIX shell if it needs it.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_quotes_what_the_shell_would_split() {
        let step = Step::cargo("doc", "doc --workspace").env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            step.command_line(),
            "RUSTDOCFLAGS='-D warnings' cargo doc --workspace"
        );
    }

    #[test]
    fn durations_switch_to_minutes_at_one_minute() {
        assert_eq!(format_duration(Duration::from_millis(400)), "0.4s");
        assert_eq!(format_duration(Duration::from_millis(40_120)), "40.1s");
        assert_eq!(format_duration(Duration::from_secs(252)), "4m12s");
        assert_eq!(format_duration(Duration::from_secs(62)), "1m02s");
    }
}
