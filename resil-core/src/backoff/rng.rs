//! The default jitter source: SplitMix64, in a dozen lines.
//!
//! Why not rand's `SmallRng`: its algorithm differs between 32- and 64-bit
//! targets and may change in any rand release, so a seeded schedule (and
//! the simulator's runs) would not repeat across machines. SplitMix64 is
//! tiny, fast, passes BigCrush, and is specified here once and for all.

use rand::RngCore;

/// A small, fast, portable pseudo-random generator (SplitMix64).
///
/// The same seed gives the same sequence on every platform and every
/// version of resil. Not cryptographic: it is for spreading retry times.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Backoff, Jitter, SplitMix64};
///
/// let backoff = Backoff::constant(Duration::from_secs(1)).jitter(Jitter::Full).build()?;
/// // One draw, without keeping an iterator: what a lock-free component does.
/// let delay = backoff.jittered_delay(0, backoff.base(), &mut SplitMix64::new(7));
/// assert!(delay <= Duration::from_secs(1));
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The step between successive states (the golden ratio in 64 bits).
    pub const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

    /// The next 64 random bits (also available through `rand::RngCore`).
    pub const fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(Self::GAMMA);
        Self::mix(self.state)
    }

    /// SplitMix64's output function: the random bits for state `z`.
    ///
    /// The generator is counter-based (the state just steps by
    /// [`GAMMA`](Self::GAMMA)), so a component shared between threads can
    /// draw without a lock: `mix(state.fetch_add(GAMMA) + GAMMA)`.
    ///
    /// ```
    /// use resil_core::SplitMix64;
    ///
    /// let mut rng = SplitMix64::new(7);
    /// assert_eq!(rng.next_u64(), SplitMix64::mix(7 + SplitMix64::GAMMA));
    /// ```
    pub const fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl RngCore for SplitMix64 {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        SplitMix64::next_u64(self)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_sequence() {
        // The first outputs for seed 1234567 of the reference C implementation
        // (Vigna, splitmix64.c).
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(rng.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn next_u32_is_the_high_half_of_next_u64() {
        let mut a = SplitMix64::new(1_234_567);
        let mut b = SplitMix64::new(1_234_567);
        for _ in 0..4 {
            let wide = SplitMix64::next_u64(&mut a);
            assert_eq!(RngCore::next_u32(&mut b), (wide >> 32) as u32);
        }
    }

    #[test]
    fn fill_bytes_handles_partial_chunks() {
        let mut a = SplitMix64::new(9);
        let mut bytes = [0u8; 11];
        a.fill_bytes(&mut bytes);
        let mut b = SplitMix64::new(9);
        assert_eq!(bytes[..8], b.next_u64().to_le_bytes());
        assert_eq!(bytes[8..], b.next_u64().to_le_bytes()[..3]);
    }
}
