//! `cargo xtask tidy`: architecture invariants that no compiler checks.
//!
//! Why: the rules that keep resil runtime-agnostic and uniform (see
//! `ARCHITECTURE.md` and `STYLE.md`) are easy to break in one innocent line
//! — a `tokio` dependency added for convenience, a crate that forgets the
//! workspace lints. Checking them on every CI run turns a review comment into
//! a failing step. Every violation is printed, not just the first.
//!
//! The crates are read from the root `Cargo.toml`'s `members`, so a new
//! crate is checked the day it lands: every published member (no
//! `publish = false`) is a library that must stay runtime-free.
//!
//! One changelog, at the root: the crates share one version
//! (`version.workspace = true`) and are released together, so one
//! `CHANGELOG.md` with an `## [Unreleased]` section on top, entries prefixed
//! by the crate they touch, tells users what changed. A member that keeps a
//! `CHANGELOG.md` of its own (if the crates ever version separately) is held
//! to the same rule.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::step::{self, Failed};
use crate::workspace::{is_published, members, package_name, read};

/// Runtimes (and their executors), and test support, that may appear only
/// in `[dev-dependencies]`.
const RUNTIME_CRATES: &[&str] = &[
    "tokio",
    "async-std",
    "smol",
    "async-io",
    "async-executor",
    "futures-executor",
    "async-global-executor",
    // Test support (it holds the workspace's one `unsafe impl`).
    "resil-testkit",
];

/// Members exempt from the workspace lints and `#![forbid(unsafe_code)]`,
/// with the reason. Each must stay a dev-dependency only (checked above).
const UNSAFE_EXEMPT: &[(&str, &str)] = &[(
    "resil-testkit",
    "a counting global allocator needs one `unsafe impl GlobalAlloc`",
)];

/// Checks every invariant as one step.
///
/// # Errors
///
/// Fails if any invariant is violated; each violation has been printed.
pub(crate) fn run() -> Result<(), Failed> {
    step::run_named("tidy", || {
        let root = step::workspace_root();
        let mut violations = Vec::new();
        match members(&root) {
            Ok(members) => {
                for member in &members {
                    check_member(&root, member, &mut violations);
                    match read(&root.join(member).join("Cargo.toml")) {
                        Ok(manifest) if is_published(&manifest) => match package_name(&manifest) {
                            Some(name) => check_no_runtime(&root, &name, &mut violations),
                            None => violations.push(format!(
                                "{member}/Cargo.toml: no `name = \"…\"` in [package]"
                            )),
                        },
                        Ok(_) => {}
                        Err(err) => violations.push(err),
                    }
                    let own = root.join(member).join("CHANGELOG.md");
                    if own.is_file() {
                        check_changelog(&root, &own, &mut violations);
                    }
                }
            }
            Err(err) => violations.push(err),
        }
        check_changelog(&root, &root.join("CHANGELOG.md"), &mut violations);
        for violation in &violations {
            eprintln!("tidy: {violation}");
        }
        match violations.len() {
            0 => Ok(()),
            1 => Err("1 violation".to_owned()),
            n => Err(format!("{n} violations")),
        }
    })
    .map(drop)
}

/// (a) `krate`'s normal dependency tree, with every feature on every target,
/// contains no runtime.
fn check_no_runtime(root: &Path, krate: &str, violations: &mut Vec<String>) {
    let args = format!(
        "tree -e normal -p {krate} --all-features --target all --prefix none --format {{p}}"
    );
    let output = match Command::new(step::cargo())
        .args(args.split_whitespace())
        .current_dir(root)
        .output()
    {
        Ok(output) => output,
        Err(err) => {
            violations.push(format!("could not start `cargo tree`: {err}"));
            return;
        }
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        violations.push(format!("`cargo {args}` failed:\n{}", stderr.trim_end()));
        return;
    }
    // Each line is `name vX.Y.Z [(source)] [(*)]`; the name is enough.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut found: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| RUNTIME_CRATES.contains(name))
        .collect();
    found.sort_unstable();
    found.dedup();
    for runtime in found {
        violations.push(format!(
            "{krate} depends on `{runtime}`, which belongs in \
             [dev-dependencies] only (see why: \
             cargo tree -e normal -p {krate} --all-features --target all -i {runtime})"
        ));
    }
}

/// (b), (c) and (d) for one workspace member.
fn check_member(root: &Path, member: &str, violations: &mut Vec<String>) {
    let dir = root.join(member);
    let exempt = UNSAFE_EXEMPT.iter().any(|&(name, _why)| name == member);

    // (b) The crate opts into the workspace lints.
    match read(&dir.join("Cargo.toml")) {
        Ok(manifest) if exempt || uses_workspace_lints(&manifest) => {}
        Ok(_) => violations.push(format!(
            "{member}/Cargo.toml: missing `[lints]` followed by `workspace = true`"
        )),
        Err(err) => violations.push(err),
    }

    // (c) `foo.rs` + `foo/`, never `foo/mod.rs`.
    find_mod_rs(root, &dir.join("src"), violations);

    // (d) Every library forbids unsafe code in its own source too.
    let lib = dir.join("src").join("lib.rs");
    if lib.is_file() && !exempt {
        match read(&lib) {
            Ok(source) if source.contains("#![forbid(unsafe_code)]") => {}
            Ok(_) => violations.push(format!(
                "{member}/src/lib.rs: missing `#![forbid(unsafe_code)]`"
            )),
            Err(err) => violations.push(err),
        }
    }
}

/// Whether the `[lints]` table of `manifest` says `workspace = true`.
fn uses_workspace_lints(manifest: &str) -> bool {
    let mut in_lints = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_lints = line == "[lints]";
        } else if in_lints && line.replace(' ', "") == "workspace=true" {
            return true;
        }
    }
    false
}

/// Reports every `mod.rs` under `dir`, recursively.
fn find_mod_rs(root: &Path, dir: &Path, violations: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return; // No `src/` (yet): nothing to check.
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_mod_rs(root, &path, violations);
        } else if path.file_name().is_some_and(|name| name == "mod.rs") {
            let shown = path.strip_prefix(root).unwrap_or(&path);
            violations.push(format!(
                "{}: use `foo.rs` + `foo/` instead of `foo/mod.rs`",
                shown.display()
            ));
        }
    }
}

/// (e) `path` is a Keep a Changelog file whose first version section is
/// `## [Unreleased]` and holds at least one entry.
fn check_changelog(root: &Path, path: &Path, violations: &mut Vec<String>) {
    let shown = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    match read(path) {
        Ok(text) => {
            if let Err(problem) = unreleased_problem(&text) {
                violations.push(format!("{shown}: {problem}"));
            }
        }
        Err(_) => violations.push(format!(
            "{shown}: missing; keep one with an `## [Unreleased]` section"
        )),
    }
}

/// Checks that the first `## ` section of a changelog is `[Unreleased]` and
/// has at least one `- ` entry before the next `## ` section.
fn unreleased_problem(text: &str) -> Result<(), String> {
    let mut sections = text.split("\n## ").skip(1);
    let first = sections
        .next()
        .ok_or("no `## [Unreleased]` section (no `## ` section at all)")?;
    let (heading, body) = first.split_once('\n').unwrap_or((first, ""));
    if !heading.trim().eq_ignore_ascii_case("[unreleased]") {
        return Err(format!(
            "the first section is `## {}`; `## [Unreleased]` must come first",
            heading.trim()
        ));
    }
    if body.lines().any(|line| line.trim_start().starts_with("- ")) {
        Ok(())
    } else {
        Err("`## [Unreleased]` has no entries (`- …` lines)".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_lints_must_be_in_the_lints_table() {
        assert!(uses_workspace_lints("[lints]\nworkspace = true\n"));
        assert!(!uses_workspace_lints(
            "[package]\nworkspace = true\n[lints]\n"
        ));
        assert!(!uses_workspace_lints("[package]\nname = \"x\"\n"));
    }

    #[test]
    fn the_changelog_opens_with_a_non_empty_unreleased_section() {
        let good =
            "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- `resil-core`: x\n\n## [0.1.0]\n";
        assert_eq!(unreleased_problem(good), Ok(()));
        let empty = "# Changelog\n\n## [Unreleased]\n\n## [0.1.0]\n\n- x\n";
        assert!(
            unreleased_problem(empty)
                .unwrap_err()
                .contains("no entries")
        );
        let late = "# Changelog\n\n## [0.1.0]\n\n- x\n\n## [Unreleased]\n- y\n";
        assert!(
            unreleased_problem(late)
                .unwrap_err()
                .contains("must come first")
        );
        assert!(unreleased_problem("# Changelog\n").is_err());
    }
}
