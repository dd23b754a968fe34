//! Loom models of this crate's concurrent state (run by `cargo xtask loom`).

#[cfg(resil_loom)]
mod loom_breaker;
#[cfg(resil_loom)]
mod loom_window_count;
#[cfg(resil_loom)]
mod loom_window_time;
