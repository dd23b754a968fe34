//! `Striped`: a counter that many threads add to at once, split over a few
//! cache lines.
//!
//! Why: a rejected call's one write is the count of rejections. In one
//! word, two threads rejecting calls on one open breaker pass that word's
//! cache line back and forth on every call, and each rejection costs a
//! cache miss. Split over [`STRIPES`] lines, each thread adds to its own
//! line (most of the time); reading the count sums the lines, which only
//! metrics do.

use crate::loom::{AtomicU64, Ordering};
use crate::padded::Padded;

/// How many lines (a power of two).
const STRIPES: usize = 4;

/// A sum of [`STRIPES`] counters, each on cache lines of its own.
#[derive(Debug, Default)]
pub(crate) struct Striped {
    stripes: [Padded<AtomicU64>; STRIPES],
}

impl Striped {
    /// Adds one, on the calling thread's stripe.
    #[inline]
    pub(crate) fn increment(&self) {
        self.stripes[stripe()].fetch_add(1, Ordering::Relaxed);
    }

    /// The total (a snapshot: additions racing the read may or may not be in
    /// it).
    pub(crate) fn sum(&self) -> u64 {
        self.stripes.iter().fold(0, |sum, stripe| {
            sum.wrapping_add(stripe.load(Ordering::Relaxed))
        })
    }
}

/// The calling thread's stripe: the address of its stack, hashed. Threads'
/// stacks lie far apart, and a multiplicative hash spreads their high bits
/// over the stripes; within one thread the address moves only by the depth
/// of the call, which the shift by 12 (4 KiB) mostly ignores. No
/// thread-local storage, so it works without `std`. A thread that lands on
/// another's stripe only shares its line, as every thread did before.
#[inline]
fn stripe() -> usize {
    let marker = 0u8;
    let address = core::ptr::addr_of!(marker).addr() as u64;
    let hashed = (address >> 12).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // The top bits of the product: the best mixed.
    (hashed >> (64 - STRIPES.trailing_zeros())) as usize
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_sum_counts_every_increment_from_every_thread() {
        let counter = Striped::default();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| (0..1_000).for_each(|_| counter.increment()));
            }
        });
        counter.increment();
        assert_eq!(counter.sum(), 4_001);
    }

    #[test]
    fn a_stripe_is_always_in_range() {
        for _ in 0..100 {
            assert!(stripe() < STRIPES);
        }
    }
}
