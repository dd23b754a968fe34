//! Loom models of this crate's concurrent state (run by `cargo xtask loom`).

#[cfg(resil_loom)]
mod loom_limiter;
#[cfg(resil_loom)]
mod loom_throttle;
