//! The one switch between real and model-checked synchronisation (see
//! `resil-core`'s shim): under `--cfg resil_loom` these are loom's types.

// Only the limiter and the throttle (`std`) share state between threads;
// the limits are plain state machines.
#[cfg(all(feature = "std", not(resil_loom)))]
pub(crate) use core::sync::atomic::{AtomicU64, Ordering};
#[cfg(resil_loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};

#[cfg(resil_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(all(feature = "std", not(resil_loom)))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning: the state behind every lock in this
/// crate is consistent at every point where a panic could occur.
#[cfg(any(feature = "std", resil_loom))]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
