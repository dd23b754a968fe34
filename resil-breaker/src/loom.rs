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
#[allow(dead_code, reason = "the breaker claims its cell with a flag instead")]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits a moment in a spin loop: a CPU hint for the first spins, then a
/// yield to the OS (with `std`), so a preempted claim holder gets to run.
/// Under loom it always yields, which is what makes a spinning model end.
pub(crate) fn spin(spins: u32) {
    #[cfg(resil_loom)]
    {
        let _ = spins;
        loom::thread::yield_now();
    }
    #[cfg(all(not(resil_loom), feature = "std"))]
    if spins > 64 {
        std::thread::yield_now();
        return;
    }
    #[cfg(not(resil_loom))]
    {
        let _ = spins;
        core::hint::spin_loop();
    }
}
