//! The one switch between real and model-checked synchronisation.
//!
//! Everything in this crate that is shared between threads takes its atomics,
//! locks and `Arc` from here. Under `--cfg resil_loom` they become
//! [loom](https://docs.rs/loom)'s instrumented twins, so `cargo xtask loom`
//! explores every interleaving of the code that really ships. The cfg is
//! namespaced (`resil_loom`, not `loom`) so that turning it on does not also
//! switch tokio or other dependencies into loom mode.

// Only `ManualClock` shares state between threads, so only its build needs
// these (it needs 64-bit atomics; such targets have pointer-sized ones too).
#[cfg(resil_loom)]
pub(crate) use loom::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};
#[cfg(all(feature = "alloc", target_has_atomic = "64", not(resil_loom)))]
pub(crate) use {
    alloc::sync::Arc,
    core::sync::atomic::{AtomicU64, Ordering},
};

#[cfg(resil_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(all(feature = "std", not(resil_loom)))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning.
///
/// The state behind every lock in this crate is consistent at every point
/// where a panic could occur, so a panic elsewhere is no reason to panic again.
#[cfg(any(feature = "std", resil_loom))]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
