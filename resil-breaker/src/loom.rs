//! The one switch between real and model-checked synchronisation (see
//! `resil-core`'s shim): under `--cfg resil_loom` these are loom's types.

#[cfg(resil_loom)]
pub(crate) use loom::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
};
#[cfg(not(resil_loom))]
pub(crate) use {
    alloc::sync::Arc,
    core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
};

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
