//! The workspace as the root `Cargo.toml` describes it: its members, their
//! package names, and which of them are published.
//!
//! Why read it rather than list crates in each task: crates land while
//! others work (the facade, the simulator), and a task with its own list
//! silently skips a crate nobody added to it. Plain string parsing keeps
//! xtask free of dependencies; it is enough for our manifests and refuses
//! what it cannot read (a glob in `members`).

use std::fs;
use std::path::Path;

/// The workspace members listed in the root `Cargo.toml`.
///
/// Simple string parsing, enough for our one explicit `members = [...]`
/// list; globs are rejected rather than silently skipped.
pub(crate) fn members(root: &Path) -> Result<Vec<String>, String> {
    let manifest = read(&root.join("Cargo.toml"))?;
    let start = manifest
        .lines()
        .position(|line| line.trim_start().starts_with("members"))
        .ok_or("Cargo.toml: no `members = [...]` in [workspace]")?;
    let rest: Vec<&str> = manifest.lines().skip(start).collect();
    let rest = rest.join("\n");
    let list = rest
        .split_once('[')
        .and_then(|(_, after)| after.split_once(']'))
        .map(|(list, _)| list)
        .ok_or("Cargo.toml: cannot parse `members = [...]`")?;
    let members: Vec<String> = list
        .split(',')
        .map(|item| item.trim().trim_matches('"').to_owned())
        .filter(|item| !item.is_empty())
        .collect();
    match members.iter().find(|member| member.contains('*')) {
        Some(glob) => Err(format!(
            "Cargo.toml: tidy does not expand the glob `{glob}`; list members explicitly"
        )),
        None => Ok(members),
    }
}

/// The `[package]` table's value for `key` in `manifest`, unquoted.
fn package_value(manifest: &str, key: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some((k, value)) = line.split_once('=') {
                if k.trim() == key {
                    return Some(value.trim().trim_matches('"').to_owned());
                }
            }
        }
    }
    None
}

/// The package name of `manifest`.
pub(crate) fn package_name(manifest: &str) -> Option<String> {
    package_value(manifest, "name")
}

/// Whether `manifest` is published: no `publish = false` in `[package]`.
pub(crate) fn is_published(manifest: &str) -> bool {
    package_value(manifest, "publish").is_none_or(|value| value != "false")
}

/// The package names of the published members (no `publish = false`): the
/// library crates users depend on.
///
/// # Errors
///
/// A manifest that cannot be read or has no package name.
pub(crate) fn published_packages(root: &Path) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for member in members(root)? {
        let manifest = read(&root.join(&member).join("Cargo.toml"))?;
        if is_published(&manifest) {
            names.push(
                package_name(&manifest).ok_or_else(|| {
                    format!("{member}/Cargo.toml: no `name = \"…\"` in [package]")
                })?,
            );
        }
    }
    Ok(names)
}

/// Reads a file, naming it in the error.
pub(crate) fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_members_are_read_from_the_package_table() {
        let facade =
            "[package]\nname = \"resil\"\nversion.workspace = true\n\n[lib]\nname = \"other\"\n";
        assert_eq!(package_name(facade).as_deref(), Some("resil"));
        assert!(is_published(facade));
        let internal = "[package]\nname = \"xtask\"\npublish = false\n[dependencies]\n";
        assert!(!is_published(internal));
        assert!(is_published(
            "[package]\nname = \"x\"\n[features]\npublish = false\n"
        ));
    }
}
