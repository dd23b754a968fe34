//! `cargo xtask msrv`: the published crates build with the oldest Rust we
//! promise (`rust-version` in the root `Cargo.toml`).
//!
//! Why build with that toolchain rather than trust the field: `rust-version`
//! is a promise cargo only enforces against the toolchain a user happens to
//! have; a newer standard library function, a new lint attribute or a
//! dependency that raised its own minimum breaks the promise silently on
//! every CI run with a current compiler. rustup installs the toolchain
//! (minimal profile) if missing; the build gets its own target directory so
//! it never invalidates the main build's cache.
//!
//! It builds the libraries with all their features (what users compile),
//! not the tests: dev-dependencies (proptest, tokio, criterion) follow
//! their own, newer minimums, and no user compiles our tests.

use crate::step::{self, Failed};
use crate::tool;
use crate::workspace;

/// Reads the promised version, installs that toolchain if needed and
/// builds every published crate with it.
///
/// # Errors
///
/// Fails if the version cannot be read, the toolchain cannot be installed
/// or a crate does not build; the failure has been printed.
pub(crate) fn run() -> Result<(), Failed> {
    let root = step::workspace_root();
    let mut found = None;
    step::run_named("msrv: read rust-version and members", || {
        let manifest = workspace::read(&root.join("Cargo.toml"))?;
        let version = rust_version(&manifest)
            .ok_or("Cargo.toml: no `rust-version = \"…\"` in [workspace.package]")?;
        let packages = workspace::published_packages(&root)?;
        eprintln!("    rust {version}: {}", packages.join(", "));
        found = Some((version, packages));
        Ok(())
    })?;
    let (version, packages) = found.ok_or(Failed)?;
    tool::ensure_toolchain(&version, &[])?;
    let mut args: Vec<String> = ["build", "--target-dir", "target/msrv", "--all-features"]
        .map(str::to_owned)
        .to_vec();
    for package in &packages {
        args.extend(["-p".to_owned(), package.clone()]);
    }
    tool::cargo_with(
        &format!("msrv: build with rust {version}"),
        &version,
        &args,
        &[],
    )?;
    Ok(())
}

/// The `rust-version` of `[workspace.package]`.
fn rust_version(manifest: &str) -> Option<String> {
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[workspace.package]";
        } else if in_table {
            if let Some((key, value)) = line.split_once('=') {
                if key.trim() == "rust-version" {
                    return Some(value.trim().trim_matches('"').to_owned());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_version_comes_from_the_workspace_package_table() {
        let manifest = "[workspace]\nmembers = []\n\n[workspace.package]\nedition = \"2024\"\nrust-version = \"1.85\"\n\n[dependencies]\nrust-version = \"9\"\n";
        assert_eq!(rust_version(manifest).as_deref(), Some("1.85"));
        assert_eq!(rust_version("[package]\nrust-version = \"1.85\"\n"), None);
    }
}
