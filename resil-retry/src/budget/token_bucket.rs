//! gRPC's retry throttle: a bucket of tokens drained by failures and refilled
//! by successes.
//!
//! Why another budget? [`RatioBudget`](super::RatioBudget) bounds retries by
//! *traffic*: it allows its ratio whether the dependency is healthy or not.
//! The token bucket bounds them by *health*: every failure takes a token and
//! every success gives back a fraction of one, and retries stop altogether
//! while more than half the tokens are gone, that is, while failures have
//! recently outnumbered successes by the inverse of the ratio. It needs no
//! clock: it forgets old failures as successes come in, not as time passes.
//! This is the throttle of gRPC's client retry design
//! ([A6](https://github.com/grpc/proposal/blob/master/A6-client-retries.md#throttling-retry-attempts-and-hedged-rpcs)),
//! so a client configured from a gRPC service config behaves as gRPC's own
//! clients do.
//!
//! Tokens are kept in thousandths, as gRPC keeps `tokenRatio` to three
//! decimal places, in one `AtomicU64` updated by a compare-and-swap loop.

use core::fmt;

use resil_core::Outcome;
use resil_core::error::{ConfigError, check_at_least, check_count};

use crate::Budget;
use crate::loom::{AtomicU64, Ordering};

/// Thousandths per token.
const MILLI: u64 = 1_000;

/// The most tokens a bucket may hold (gRPC's limit).
const MAX_TOKENS: u32 = 1_000;

/// gRPC's retry throttle: `max_tokens` tokens; each failed attempt takes
/// one, each successful attempt gives back `token_ratio`, and retries are
/// allowed while more than half the tokens remain.
///
/// - Starts full, at `max_tokens`.
/// - [`record(Failure)`](Budget::record) takes one token (not below zero);
///   [`record(Success)`](Budget::record) adds `token_ratio` (not above
///   `max_tokens`); [`record(Ignored)`](Budget::record) does nothing.
/// - [`withdraw`](Budget::withdraw) returns whether tokens > `max_tokens / 2`.
///   **It does not take a token**: the failure that made the retry necessary
///   already did (gRPC's semantics). A retry is paid for by its failure, so
///   the throttle tightens exactly as fast as failures arrive.
/// - [`deposit`](Budget::deposit) does nothing: requests earn nothing by
///   being made, only by succeeding.
///
/// Every update is one atomic compare-and-swap on the token count, so
/// concurrent outcomes all land: the count after any interleaving equals the
/// count after the same outcomes in some sequential order. No lock, no
/// clock, no allocation.
///
/// # Examples
///
/// With 10 tokens, retries stop at the fifth failure in a row, and resume
/// once successes have refilled more than half the bucket:
///
/// ```
/// use resil_core::Outcome;
/// use resil_retry::{Budget, TokenBucket};
///
/// let bucket = TokenBucket::new(10, 0.5)?;
/// for _ in 0..4 {
///     bucket.record(Outcome::Failure);
/// }
/// assert!(bucket.withdraw(), "6 tokens > 5");
/// bucket.record(Outcome::Failure);
/// assert!(!bucket.withdraw(), "5 tokens is not more than half");
///
/// bucket.record(Outcome::Success);
/// assert_eq!(bucket.tokens(), 5.5);
/// assert!(bucket.withdraw());
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
pub struct TokenBucket {
    /// Thousandths of a token, in `0..=max`.
    tokens: AtomicU64,
    /// `max_tokens` in thousandths.
    max: u64,
    /// `token_ratio` in thousandths, at most `max`.
    ratio: u64,
}

impl TokenBucket {
    /// A full bucket of `max_tokens` tokens, refilled by `token_ratio` per
    /// success.
    ///
    /// `token_ratio` is kept to thousandths, as gRPC does: it is rounded to
    /// the nearest thousandth (0.1234 acts as 0.123). A ratio above
    /// `max_tokens` acts as `max_tokens`: one success refills the bucket
    /// either way.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] naming `max_tokens` unless it is in
    /// `1..=1000` (gRPC's range), or naming `token_ratio` if it is NaN,
    /// infinite, or rounds to zero thousandths (below 0.0005): a bucket that
    /// successes never refill would stop retries for good.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_retry::TokenBucket;
    ///
    /// let bucket = TokenBucket::new(100, 0.1)?;
    /// assert_eq!(bucket.tokens(), 100.0);
    ///
    /// assert_eq!(TokenBucket::new(0, 0.1).unwrap_err().field(), "max_tokens");
    /// assert_eq!(TokenBucket::new(10, 0.0).unwrap_err().field(), "token_ratio");
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn new(max_tokens: u32, token_ratio: f64) -> Result<Self, ConfigError> {
        const TOKENS_RANGE: &str = "a count in 1..=1000";
        const RATIO_RANGE: &str = "at least 0.0005 (kept to thousandths, it must not round to 0)";
        check_count("max_tokens", max_tokens.into(), 1, TOKENS_RANGE)?;
        if max_tokens > MAX_TOKENS {
            return Err(ConfigError::invalid("max_tokens", max_tokens, TOKENS_RANGE));
        }
        let token_ratio = check_at_least("token_ratio", token_ratio, 0.0, RATIO_RANGE)?;
        let ratio = (token_ratio * MILLI as f64).round();
        if ratio < 1.0 {
            return Err(ConfigError::invalid(
                "token_ratio",
                token_ratio,
                RATIO_RANGE,
            ));
        }
        let max = u64::from(max_tokens) * MILLI;
        Ok(TokenBucket {
            tokens: AtomicU64::new(max),
            max,
            // Finite and at least 1 here; beyond `max` it would only ever be
            // capped back to `max`.
            ratio: if ratio >= max as f64 {
                max
            } else {
                ratio as u64
            },
        })
    }

    /// The tokens in the bucket now, to the thousandth: for metrics and
    /// tests.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_core::Outcome;
    /// use resil_retry::{Budget, TokenBucket};
    ///
    /// let bucket = TokenBucket::new(3, 0.25)?;
    /// bucket.record(Outcome::Failure);
    /// bucket.record(Outcome::Success);
    /// assert_eq!(bucket.tokens(), 2.25);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn tokens(&self) -> f64 {
        self.load() as f64 / MILLI as f64
    }

    /// The token count in thousandths.
    fn load(&self) -> u64 {
        // `Relaxed` throughout: the count guards no other memory, and a
        // compare-and-swap on one location needs no ordering to be exact.
        self.tokens.load(Ordering::Relaxed)
    }
}

/// The count after `outcome`, in thousandths: the pure step the CAS loop
/// applies.
fn next(tokens: u64, outcome: Outcome, max: u64, ratio: u64) -> u64 {
    match outcome {
        Outcome::Failure => tokens.saturating_sub(MILLI),
        Outcome::Success => tokens.saturating_add(ratio).min(max),
        Outcome::Ignored => tokens,
    }
}

impl Budget for TokenBucket {
    /// Does nothing: only outcomes move the tokens.
    fn deposit(&self) {}

    /// Whether tokens > `max_tokens / 2`. Takes nothing: the failure that
    /// led to this retry already took its token.
    fn withdraw(&self) -> bool {
        self.load() > self.max / 2
    }

    /// A failure takes a token, a success adds `token_ratio`, in one atomic
    /// step.
    fn record(&self, outcome: Outcome) {
        if outcome.is_ignored() {
            return;
        }
        let (max, ratio) = (self.max, self.ratio);
        // `None` when nothing changes (empty or full): no write, no contention.
        let _ = self
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |tokens| {
                let after = next(tokens, outcome, max, ratio);
                (after != tokens).then_some(after)
            });
    }
}

impl fmt::Debug for TokenBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBucket")
            .field("tokens", &self.tokens())
            .field("max_tokens", &(self.max / MILLI))
            .field("token_ratio", &(self.ratio as f64 / MILLI as f64))
            .finish()
    }
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use super::*;

    #[test]
    fn steps_floor_at_zero_and_cap_at_max() {
        assert_eq!(next(500, Outcome::Failure, 10_000, 100), 0);
        assert_eq!(next(0, Outcome::Failure, 10_000, 100), 0);
        assert_eq!(next(9_950, Outcome::Success, 10_000, 100), 10_000);
        assert_eq!(
            next(u64::MAX, Outcome::Success, u64::MAX, u64::MAX),
            u64::MAX
        );
        assert_eq!(next(1_234, Outcome::Ignored, 10_000, 100), 1_234);
    }

    #[test]
    fn ratio_is_kept_to_thousandths_and_capped_at_max() {
        assert_eq!(TokenBucket::new(10, 0.1234).unwrap().ratio, 123);
        assert_eq!(TokenBucket::new(10, 0.0005).unwrap().ratio, 1);
        assert_eq!(TokenBucket::new(10, 1e300).unwrap().ratio, 10_000);
        assert_eq!(TokenBucket::new(1_000, 1_000.0).unwrap().ratio, 1_000_000);
    }
}
