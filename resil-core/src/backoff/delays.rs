//! The iterator a retry loop draws its delays from.

use core::time::Duration;

use super::cursor::Cursor;
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
    /// The next nominal delay, stepped rather than recomputed.
    cursor: Cursor,
    /// The previous delay in nanoseconds (the base before the first), kept
    /// for decorrelated jitter, the one mode that reads it.
    previous: u128,
    rng: R,
}

impl<R: RngCore> Delays<R> {
    pub(super) fn new(backoff: Backoff, rng: R) -> Self {
        Delays {
            backoff,
            cursor: Cursor::start(&backoff),
            previous: backoff.base,
            rng,
        }
    }

    /// How many delays have been drawn.
    pub const fn drawn(&self) -> u32 {
        self.cursor.index()
    }

    /// Tells the iterator the delay actually waited before the last retry,
    /// when it was not the one drawn (a server's `Retry-After` hint replaced
    /// it). Decorrelated jitter grows from this value.
    pub fn set_previous(&mut self, waited: Duration) {
        self.previous = waited.as_nanos();
    }

    /// The next delay when [`Iterator::next`]'s `u64` path does not apply:
    /// decorrelated jitter, or a nominal delay of 2^64 ns or more. Out of
    /// line, so that the common path needs few registers.
    #[inline(never)]
    fn next_wide(&mut self) -> Duration {
        let Backoff {
            base, max, jitter, ..
        } = self.backoff;
        let nominal = self.cursor.delay(&self.backoff);
        let delay = jitter.apply(nominal, self.previous, base, max, &mut self.rng);
        self.previous = delay;
        self.cursor.advance(&self.backoff);
        growth::to_duration(delay)
    }
}

impl<R: RngCore> Iterator for Delays<R> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        // What `Backoff::jittered_delay` computes, with the nominal delay
        // taken from the cursor instead of recomputed from the index, and in
        // `u64` where it fits.
        let jitter = self.backoff.jitter;
        let narrow = self
            .cursor
            .narrow()
            .and_then(|nominal| jitter.apply_narrow(nominal, &mut self.rng));
        let Some(delay) = narrow else {
            return Some(self.next_wide());
        };
        // `previous` is left alone: only decorrelated jitter reads it, and
        // it never takes this path.
        self.cursor.advance(&self.backoff);
        Some(Duration::from_nanos(delay))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl<R: RngCore> core::iter::FusedIterator for Delays<R> {}

/// A new generator with a seed that differs per call.
#[cfg(feature = "std")]
pub(super) fn fresh_rng() -> SplitMix64 {
    use core::cell::Cell;
    use core::hash::BuildHasher;
    use std::hash::RandomState;
    std::thread_local! {
        /// This thread's stream of seeds: SplitMix64's state, 0 until keyed.
        static SEEDS: Cell<u64> = const { Cell::new(0) };
    }
    // A `RandomState` carries keys that are random per process and stepped
    // per call, but hashing with them (SipHash) costs ~130 instructions,
    // more than the eight delays of a typical retry loop after it. So each
    // thread keys its own SplitMix64 stream from one `RandomState`, and
    // every iterator is seeded with the stream's next output: distinct for
    // 2^64 calls, ~15 instructions. (Neither scheme is cryptographic:
    // jittered delays expose the generator behind them anyway.)
    SEEDS.with(|seeds| {
        let mut state = seeds.get();
        if state == 0 {
            state = RandomState::new().hash_one(0x5EED_u64);
        }
        // SplitMix64's step and output; a state that steps onto 0 merely
        // re-keys the stream.
        state = state.wrapping_add(SplitMix64::GAMMA);
        seeds.set(state);
        SplitMix64::new(SplitMix64::mix(state))
    })
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
