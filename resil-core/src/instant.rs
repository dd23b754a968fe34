//! A point in time as a clock sees it.
//!
//! `std::time::Instant` is opaque, needs `std`, and cannot be stored in an
//! atomic. resil's [`Instant`] is a plain count of nanoseconds since the
//! origin of the [`Clock`](crate::Clock) that produced it: `Copy`, eight
//! bytes, storable in an `AtomicU64`, and available without `std`.
//!
//! **All arithmetic saturates.** Adding [`Duration::MAX`] gives
//! [`Instant::MAX`]; subtracting a later instant from an earlier one gives
//! [`Duration::ZERO`]. A clock that steps backwards therefore reads as "no
//! time passed", never as a panic or a huge wrapped duration. `u64`
//! nanoseconds cover about 584 years from the clock's origin.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// A monotonic reading: nanoseconds since the origin of the clock that made it.
///
/// Two instants are comparable only when they come from the same clock.
/// **All arithmetic saturates**: adding [`Duration::MAX`] gives
/// [`Instant::MAX`], and an earlier instant minus a later one is
/// [`Duration::ZERO`], so a clock that steps backwards reads as "no time
/// passed", never as a panic or a wrapped value.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::Instant;
///
/// let start = Instant::from_nanos(1_000);
/// let later = start + Duration::from_micros(2);
/// assert_eq!(later.as_nanos(), 3_000);
/// assert_eq!(later - start, Duration::from_micros(2));
/// // Saturating: an earlier minus a later instant is zero, not a panic.
/// assert_eq!(start - later, Duration::ZERO);
/// assert_eq!(start + Duration::MAX, Instant::MAX);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The clock's origin.
    pub const ZERO: Instant = Instant(0);
    /// The latest representable instant, about 584 years after the origin.
    pub const MAX: Instant = Instant(u64::MAX);

    /// An instant `nanos` nanoseconds after the clock's origin.
    pub const fn from_nanos(nanos: u64) -> Self {
        Instant(nanos)
    }

    /// Nanoseconds since the clock's origin.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Time since the clock's origin.
    pub const fn since_origin(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    /// `self + d`, or [`Instant::MAX`] if that is not representable.
    pub const fn saturating_add(self, d: Duration) -> Self {
        Instant(self.0.saturating_add(duration_to_nanos(d)))
    }

    /// `self - d`, or [`Instant::ZERO`] if that would precede the origin.
    pub const fn saturating_sub(self, d: Duration) -> Self {
        Instant(self.0.saturating_sub(duration_to_nanos(d)))
    }

    /// Time from `earlier` to `self`, or zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, or `None` if that is not representable.
    pub const fn checked_add(self, d: Duration) -> Option<Self> {
        let nanos = d.as_nanos();
        if nanos > u64::MAX as u128 {
            return None;
        }
        match self.0.checked_add(nanos as u64) {
            Some(n) => Some(Instant(n)),
            None => None,
        }
    }
}

/// `d` in whole nanoseconds, saturating at `u64::MAX` (about 584 years).
pub(crate) const fn duration_to_nanos(d: Duration) -> u64 {
    let nanos = d.as_nanos();
    if nanos > u64::MAX as u128 {
        u64::MAX
    } else {
        nanos as u64
    }
}

/// Saturating: see [`Instant::saturating_add`].
impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

/// Saturating: see [`Instant::saturating_add`].
impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = self.saturating_add(d);
    }
}

/// Saturating: see [`Instant::saturating_sub`].
impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        self.saturating_sub(d)
    }
}

/// Saturating: see [`Instant::saturating_duration_since`].
impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Instant({:?})", self.since_origin())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_at_both_ends() {
        let t = Instant::from_nanos(10);
        assert_eq!(t + Duration::MAX, Instant::MAX);
        assert_eq!(Instant::MAX + Duration::from_nanos(1), Instant::MAX);
        assert_eq!(t - Duration::from_nanos(11), Instant::ZERO);
        assert_eq!(t - Instant::from_nanos(11), Duration::ZERO);
        assert_eq!(Instant::MAX - Instant::ZERO, Duration::from_nanos(u64::MAX));
        let mut u = t;
        u += Duration::from_nanos(5);
        assert_eq!(u.as_nanos(), 15);
    }

    /// One nanosecond past `u64::MAX` must not wrap to a small duration:
    /// `2^64 ns` saturates (or is `None`), `u64::MAX ns` is still exact.
    #[test]
    fn durations_at_the_edge_of_u64_nanoseconds() {
        let edge = Duration::from_nanos(u64::MAX);
        let past = edge + Duration::from_nanos(1);
        assert_eq!(Instant::ZERO.checked_add(edge), Some(Instant::MAX));
        assert_eq!(Instant::ZERO.checked_add(past), None);
        assert_eq!(Instant::ZERO + past, Instant::MAX);
        assert_eq!(Instant::MAX - past, Instant::ZERO);
        assert_eq!(
            Instant::from_nanos(10) - Duration::from_nanos(3),
            Instant::from_nanos(7)
        );
    }

    #[test]
    fn debug_shows_the_duration_since_the_origin() {
        let t = Instant::from_nanos(1_500_000_000);
        assert_eq!(alloc::format!("{t:?}"), "Instant(1.5s)");
    }

    #[test]
    fn checked_add_reports_overflow() {
        let t = Instant::from_nanos(10);
        assert_eq!(
            t.checked_add(Duration::from_nanos(5)),
            Some(Instant::from_nanos(15))
        );
        assert_eq!(Instant::MAX.checked_add(Duration::from_nanos(1)), None);
        assert_eq!(t.checked_add(Duration::MAX), None);
    }

    #[test]
    fn sub_nanosecond_precision_is_kept() {
        let t = Instant::ZERO + Duration::from_nanos(1_500);
        assert_eq!(t.since_origin(), Duration::from_nanos(1_500));
        assert_eq!(duration_to_nanos(Duration::MAX), u64::MAX);
    }
}
