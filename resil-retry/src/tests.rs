//! Loom models of this crate's concurrent state (run by `cargo xtask loom`).

#[cfg(resil_loom)]
mod loom_ratio_budget;
#[cfg(resil_loom)]
mod loom_token_bucket;
