//! The iterator a retry loop draws its delays from.

use core::time::Duration;

use super::{Backoff, SplitMix64, growth};
use rand::RngCore;

/// An infinite iterator over a [`Backoff`]'s delays, made by
/// [`Backoff::iter`], [`Backoff::iter_seeded`] or
/// [`Backoff::iter_with_rng`]. Bound it with [`Iterator::take`] or a retry
/// policy's attempt limit.
///
/// # Seeding without `std`
///
/// Without the `std` feature there is no entropy to draw on, so
/// [`Backoff::iter`] seeds each iterator from a process-wide counter: the
/// sequences differ from one iterator to the next but repeat from one boot to
/// the next, and two devices running the same firmware jitter alike. On such
/// targets, seed from a hardware RNG or a device id with
/// [`Backoff::iter_seeded`] or [`Backoff::iter_with_rng`].
#[derive(Clone, Debug)]
pub struct Delays<R = SplitMix64> {
    backoff: Backoff,
    index: u32,
    /// The previous delay in nanoseconds (the base before the first).
    previous: u128,
    rng: R,
}

impl<R: RngCore> Delays<R> {
    pub(super) fn new(backoff: Backoff, rng: R) -> Self {
        Delays {
            backoff,
            index: 0,
            previous: backoff.base,
            rng,
        }
    }

    /// How many delays have been drawn.
    pub const fn drawn(&self) -> u32 {
        self.index
    }

    /// Tells the iterator the delay actually waited before the last retry,
    /// when it was not the one drawn (a server's `Retry-After` hint replaced
    /// it). Decorrelated jitter grows from this value.
    pub fn set_previous(&mut self, waited: Duration) {
        self.previous = waited.as_nanos();
    }
}

impl<R: RngCore> Iterator for Delays<R> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self
            .backoff
            .jittered(self.index, self.previous, &mut self.rng);
        self.previous = delay;
        self.index = self.index.saturating_add(1);
        Some(growth::to_duration(delay))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl<R: RngCore> core::iter::FusedIterator for Delays<R> {}

/// A new generator with a seed that differs per call.
#[cfg(feature = "std")]
pub(super) fn fresh_rng() -> SplitMix64 {
    use core::hash::BuildHasher;
    use std::hash::RandomState;
    // Each `RandomState` carries fresh keys: random per process, stepped per
    // call, so this is an unpredictable, distinct seed at no syscall's cost.
    SplitMix64::new(RandomState::new().hash_one(0x5EED_u64))
}

/// A new generator with a seed that differs per call (but not per boot: see
/// [`Delays`]).
#[cfg(not(feature = "std"))]
pub(super) fn fresh_rng() -> SplitMix64 {
    use core::sync::atomic::{AtomicU32, Ordering};
    // Load and store, not `fetch_add`: targets without compare-and-swap
    // (thumbv6m) have them. A race merely repeats a seed.
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let n = CALLS.load(Ordering::Relaxed);
    CALLS.store(n.wrapping_add(1), Ordering::Relaxed);
    SplitMix64::new(u64::from(n))
}
