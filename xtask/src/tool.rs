//! The external tools some tasks need (cargo-deny, cargo-hack, cargo-mutants,
//! cargo-fuzz) and the extra toolchains (a pinned nightly, the MSRV),
//! installed by xtask itself when they are missing.
//!
//! Why here and not in a setup guide: the gate runs on a fresh machine, and
//! a step that needs a tool nobody installed fails for the wrong reason.
//! Each tool is pinned to one version and installed with
//! `cargo install --locked` (the tool's own lockfile, so a new release of one
//! of its dependencies cannot break our gate); a tool already installed at
//! that version is used as it is, so the install cost is paid once per
//! machine. Toolchains come from rustup, with the minimal profile.

use std::process::Command;

use crate::step::{self, Failed, Step};

/// A cargo subcommand from crates.io, pinned to one version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tool {
    /// The crate to `cargo install`.
    pub(crate) krate: &'static str,
    /// The exact version to install.
    pub(crate) version: &'static str,
    /// The cargo subcommand it provides (`cargo <subcommand> --version`).
    pub(crate) subcommand: &'static str,
}

/// cargo-deny, for `cargo xtask deny`.
pub(crate) const CARGO_DENY: Tool = Tool {
    krate: "cargo-deny",
    version: "0.20.2",
    subcommand: "deny",
};

/// cargo-hack, for `cargo xtask features`.
pub(crate) const CARGO_HACK: Tool = Tool {
    krate: "cargo-hack",
    version: "0.6.46",
    subcommand: "hack",
};

/// cargo-fuzz, for `cargo xtask fuzz`.
pub(crate) const CARGO_FUZZ: Tool = Tool {
    krate: "cargo-fuzz",
    version: "0.13.2",
    subcommand: "fuzz",
};

/// cargo-mutants, for `cargo xtask mutants`.
pub(crate) const CARGO_MUTANTS: Tool = Tool {
    krate: "cargo-mutants",
    version: "27.1.0",
    subcommand: "mutants",
};

/// Installs `tool` with `cargo install --locked` unless
/// `cargo <subcommand> --version` already reports the pinned version.
///
/// # Errors
///
/// Fails if the install fails; the failure has been printed.
pub(crate) fn ensure(tool: Tool) -> Result<(), Failed> {
    let installed = Command::new(step::cargo())
        .args([tool.subcommand, "--version"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned());
    if installed
        .as_deref()
        .is_some_and(|line| reports_version(line, tool.version))
    {
        eprintln!("    {} {} is installed", tool.krate, tool.version);
        return Ok(());
    }
    let args = format!(
        "install --locked {} --version ={}",
        tool.krate, tool.version
    );
    Step::cargo(format!("install {} {}", tool.krate, tool.version), &args).run()?;
    Ok(())
}

/// Whether a `--version` line names exactly `version` (as a whole word, so
/// 0.2.1 does not match 0.2.10).
fn reports_version(line: &str, version: &str) -> bool {
    line.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .any(|word| word.trim_start_matches('v') == version)
}

/// Installs `toolchain` (with `components`) through rustup unless rustup
/// already has it, with the minimal profile.
///
/// # Errors
///
/// Fails if rustup cannot install it; the failure has been printed.
pub(crate) fn ensure_toolchain(toolchain: &str, components: &[&str]) -> Result<(), Failed> {
    let mut args = vec![toolchain, "--profile", "minimal"];
    for component in components {
        args.extend(["--component", component]);
    }
    rustup(
        &format!("toolchain {toolchain}"),
        &["toolchain", "install"],
        &args,
    )
}

/// Adds `targets` to the current toolchain through rustup (a no-op for a
/// target it already has).
///
/// # Errors
///
/// Fails if rustup cannot add them; the failure has been printed.
pub(crate) fn ensure_targets(targets: &[&str]) -> Result<(), Failed> {
    rustup(
        &format!("targets {}", targets.join(" ")),
        &["target", "add"],
        targets,
    )
}

/// Runs `rustup <command> <args>` as a step named `name`.
fn rustup(name: &str, command: &[&str], args: &[&str]) -> Result<(), Failed> {
    step::run_named(name, || {
        let status = Command::new("rustup")
            .args(command)
            .args(args)
            .status()
            .map_err(|err| format!("could not start rustup: {err}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "`rustup {} {}` exited with {status}",
                command.join(" "),
                args.join(" ")
            ))
        }
    })?;
    Ok(())
}

/// Runs `cargo <args>` with `toolchain` (through `rustup run`, since
/// `$CARGO` is the current toolchain's own binary and does not understand
/// `+toolchain`) from the workspace root, as a step named `name`.
///
/// # Errors
///
/// Fails if cargo fails; the command to reproduce it has been printed.
pub(crate) fn cargo_with(
    name: &str,
    toolchain: &str,
    args: &[String],
    env: &[(&str, &str)],
) -> Result<(), Failed> {
    step::run_named(name, || {
        let status = Command::new("rustup")
            .args(["run", toolchain, "cargo"])
            .args(args)
            .envs(env.iter().copied())
            // Set by the outer cargo for the current toolchain; they would
            // override the one `rustup run` selects.
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .env_remove("RUSTC")
            .current_dir(step::workspace_root())
            .status()
            .map_err(|err| format!("could not start rustup: {err}"))?;
        if status.success() {
            Ok(())
        } else {
            let env: String = env.iter().map(|(k, v)| format!("{k}='{v}' ")).collect();
            Err(format!(
                "exited with {status}\n    reproduce from the workspace root with:\n    {env}cargo +{toolchain} {}",
                args.join(" ")
            ))
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_match_whole_words_only() {
        assert!(reports_version("cargo-deny 0.20.2\n", "0.20.2"));
        assert!(reports_version("cargo-hack 0.6.39\n", "0.6.39"));
        assert!(reports_version("cargo-mutants 25.3.1 (abc)\n", "25.3.1"));
        assert!(reports_version("cargo-fuzz 0.13.1", "0.13.1"));
        assert!(!reports_version("cargo-deny 0.20.21\n", "0.20.2"));
        assert!(!reports_version("cargo-deny 0.20.1\n", "0.20.2"));
    }
}
