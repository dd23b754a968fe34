//! The iterator a retry loop draws its delays from.

use core::time::Duration;

use rand::RngCore;
use rand::rngs::SmallRng;

use super::{Backoff, growth};

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
pub struct Delays<R = SmallRng> {
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
pub(super) fn fresh_rng() -> SmallRng {
    use core::hash::BuildHasher;
    use std::hash::RandomState;
    // Each `RandomState` carries fresh keys: random per process, stepped per
    // call, so this is an unpredictable, distinct seed at no syscall's cost.
    rand::SeedableRng::seed_from_u64(RandomState::new().hash_one(0x5EED_u64))
}

/// A new generator with a seed that differs per call (but not per boot: see
/// [`Delays`]).
#[cfg(not(feature = "std"))]
pub(super) fn fresh_rng() -> SmallRng {
    use core::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) as u64;
    rand::SeedableRng::seed_from_u64(n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}
