//! The `min ≤ limit ≤ max` every adaptive limit keeps, and the floating-point
//! estimate behind it.
//!
//! Each adaptive limit keeps its estimate as an `f64` inside `[min, max]`
//! and floors it only when read. Integer state would freeze small limits:
//! an increase of `1 / limit` per call, or a decrease to `0.9 × 3`, rounds
//! to no change at all.

use resil_core::ConfigError;
use resil_core::error::{check_count, check_ordered};

/// The initial limit of every adaptive limit unless set.
pub(crate) const DEFAULT_INITIAL: u32 = 20;

/// A validated `[min, max]` range of limits, `1 ≤ min ≤ max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
    min: u32,
    max: u32,
}

impl Bounds {
    /// The lowest limit unless set.
    pub(crate) const DEFAULT_MIN: u32 = 1;
    /// The highest limit unless set.
    pub(crate) const DEFAULT_MAX: u32 = 1_000;
    /// `[1, 1000]`: the bounds of every adaptive limit unless set.
    pub(crate) const DEFAULT: Bounds = Bounds {
        min: Self::DEFAULT_MIN,
        max: Self::DEFAULT_MAX,
    };

    /// Checks `1 ≤ min ≤ initial ≤ max`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] for `min` if it is zero;
    /// [`ConfigError::MinAboveMax`] if `min > initial` or `initial > max`.
    pub(crate) fn new(min: u32, initial: u32, max: u32) -> Result<Self, ConfigError> {
        check_count("min", min.into(), 1, "at least 1")?;
        check_ordered("min", min, "initial", initial)?;
        check_ordered("initial", initial, "max", max)?;
        Ok(Bounds { min, max })
    }

    /// The smallest limit, as an estimate.
    pub(crate) fn min(self) -> f64 {
        f64::from(self.min)
    }

    /// `estimate` moved into `[min, max]`; `fallback` if it is NaN (which no
    /// caller should produce, but which must never reach a limit).
    pub(crate) fn clamp(self, estimate: f64, fallback: f64) -> f64 {
        if estimate.is_nan() {
            fallback
        } else {
            estimate.max(f64::from(self.min)).min(f64::from(self.max))
        }
    }

    /// The limit an estimate stands for: floored, and within `[min, max]`.
    pub(crate) fn limit(self, estimate: f64) -> u32 {
        // A float-to-int cast truncates towards zero and saturates (NaN
        // gives 0), so the clamp below is all the checking needed.
        (estimate as u32).clamp(self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_the_order_of_min_initial_and_max() {
        assert!(Bounds::new(1, 1, 1).is_ok());
        assert_eq!(Bounds::new(0, 1, 2).unwrap_err().field(), "min");
        assert_eq!(Bounds::new(3, 2, 4).unwrap_err().field(), "min");
        assert_eq!(Bounds::new(1, 5, 4).unwrap_err().field(), "initial");
    }

    #[test]
    fn clamps_and_floors_every_float() {
        let bounds = Bounds::new(2, 5, 10).unwrap();
        assert_eq!(bounds.clamp(f64::NAN, 7.0), 7.0);
        assert_eq!(bounds.clamp(f64::INFINITY, 7.0), 10.0);
        assert_eq!(bounds.clamp(f64::NEG_INFINITY, 7.0), 2.0);
        assert_eq!(bounds.clamp(3.5, 7.0), 3.5);
        assert_eq!(bounds.limit(3.99), 3);
        assert_eq!(bounds.limit(f64::NAN), 2);
        assert_eq!(bounds.limit(1e300), 10);
        assert_eq!(bounds.limit(-1.0), 2);
        assert_eq!(bounds.min(), 2.0);
    }
}
