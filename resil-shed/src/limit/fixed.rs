//! A limit that never changes.

use core::num::NonZeroU32;

use resil_core::ConfigError;

use super::{Limit, Sample};

/// A constant limit: samples change nothing.
///
/// The right choice when the dependency's capacity is known and stable (a
/// connection pool of 32, a licence for 8 seats), and the cheapest: its
/// [`ADAPTIVE`](Limit::ADAPTIVE) is `false`, so a limiter neither measures
/// calls nor locks anything to update it.
///
/// A limit of zero is unrepresentable: build one from a [`NonZeroU32`] with
/// [`Fixed::new`], or from a `u32` with `try_from`, which reports zero as a
/// [`ConfigError`].
///
/// # Examples
///
/// ```
/// use core::num::NonZeroU32;
/// use core::time::Duration;
/// use resil_core::{Instant, Outcome};
/// use resil_shed::{Fixed, Limit, Sample};
///
/// let mut limit = Fixed::new(NonZeroU32::new(32).unwrap());
/// let failed = Sample::new(Duration::from_secs(9), 32, Outcome::Failure, Instant::ZERO);
/// assert_eq!(limit.update(&failed), 32);
/// assert!(!Fixed::ADAPTIVE);
///
/// assert_eq!(Fixed::try_from(8)?.limit(), 8);
/// assert_eq!(Fixed::try_from(0).unwrap_err().field(), "limit");
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fixed(NonZeroU32);

impl Fixed {
    /// A limit of `limit`.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::num::NonZeroU32;
    /// use resil_shed::{Fixed, Limit};
    ///
    /// const POOL: Fixed = Fixed::new(NonZeroU32::new(16).unwrap());
    /// assert_eq!(POOL.limit(), 16);
    /// ```
    pub const fn new(limit: NonZeroU32) -> Self {
        Fixed(limit)
    }
}

/// A limit of `limit`, which must not be zero.
///
/// ```
/// use resil_shed::Fixed;
///
/// let err = Fixed::try_from(0).unwrap_err();
/// assert_eq!(err.to_string(), "invalid limit: got 0, expected at least 1");
/// ```
impl TryFrom<u32> for Fixed {
    type Error = ConfigError;

    fn try_from(limit: u32) -> Result<Self, ConfigError> {
        NonZeroU32::new(limit)
            .map(Fixed)
            .ok_or_else(|| ConfigError::invalid("limit", limit, "at least 1"))
    }
}

impl Limit for Fixed {
    const ADAPTIVE: bool = false;

    fn limit(&self) -> u32 {
        self.0.get()
    }

    fn update(&mut self, _sample: &Sample) -> u32 {
        self.0.get()
    }
}
