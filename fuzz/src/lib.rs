//! The fuzz targets' logic, one module per target: each has an `Input`
//! built by `arbitrary` and a `check(input)` that drives a policy with it
//! and asserts the invariants listed in the module's docs.
//!
//! Why a library and not the bodies of the `fuzz_targets/` binaries:
//! libFuzzer needs a nightly compiler and a C++ build, so the binaries are
//! only built by `cargo xtask fuzz`, and an API change in the resil crates
//! could break them unnoticed. As a library, with `libfuzzer-sys` behind
//! the default `libfuzzer` feature, the same checks build on stable with
//! `--no-default-features`, and `tests/smoke.rs` runs each of them on a
//! fixed sample of inputs in the CI gate.

mod any;
pub mod backoff;
pub mod breaker;
pub mod limiter;
pub mod retry;
pub mod throttle;

pub use any::{AnyCount, AnyDuration, AnyFloat};
