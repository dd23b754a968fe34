//! The one switch between real and model-checked synchronisation (see
//! `resil-core`'s shim): under `--cfg resil_loom` these are loom's types.

#[cfg(resil_loom)]
#[allow(unused_imports, reason = "each module uses a subset")]
pub(crate) use loom::sync::{
    Arc,
    atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering},
};
#[cfg(not(resil_loom))]
#[allow(unused_imports, reason = "each module uses a subset")]
pub(crate) use {
    alloc::sync::Arc,
    core::sync::atomic::{
        AtomicBool, AtomicI64, AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering,
    },
};

#[cfg(resil_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(all(feature = "std", not(resil_loom)))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning: the state behind every lock in this
/// crate is consistent at every point where a panic could occur.
#[cfg(any(feature = "std", resil_loom))]
#[allow(dead_code, reason = "used once the breaker's transition lock lands")]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits a moment in a spin loop (under loom: lets another thread run, which
/// is what makes a spinning model terminate).
pub(crate) fn spin() {
    #[cfg(not(resil_loom))]
    core::hint::spin_loop();
    #[cfg(resil_loom)]
    loom::thread::yield_now();
}
