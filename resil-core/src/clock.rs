//! Where time comes from.
//!
//! Every resil component reads time through a [`Clock`] it is given, never
//! from the operating system directly. In production that is
//! [`SystemClock`]; in tests and simulations it is [`ManualClock`], whose
//! time moves only when the test says so. The same code runs under both,
//! which is what makes a retry schedule of hours testable in microseconds.

#[cfg(all(feature = "alloc", target_has_atomic = "64"))]
mod manual;
#[cfg(feature = "std")]
mod system;

#[cfg(all(feature = "alloc", target_has_atomic = "64"))]
pub use manual::ManualClock;
#[cfg(all(feature = "std", target_has_atomic = "64"))]
pub use manual::ManualSleep;
#[cfg(feature = "std")]
pub use system::SystemClock;

use crate::Instant;

/// A source of monotonic time.
///
/// # Contract
///
/// - Readings never decrease in production clocks. Consumers must still
///   tolerate a reading earlier than a previous one (a test may
///   [`set`](ManualClock::set) a [`ManualClock`] backwards): every resil crate
///   uses [`Instant`]'s saturating arithmetic, so a backwards step reads as
///   zero elapsed time.
/// - `now` is cheap and never blocks; it is called on hot paths.
///
/// Implemented for `&C`, and with the `alloc` feature for `Box<C>` and
/// (on targets with atomics) `Arc<C>`, so a clock can be shared by
/// reference or by handle.
///
/// # Examples
///
/// A clock of one's own, here a fixed reading:
///
/// ```
/// use resil_core::{Clock, Instant};
///
/// struct Frozen(Instant);
///
/// impl Clock for Frozen {
///     fn now(&self) -> Instant {
///         self.0
///     }
/// }
///
/// let clock = Frozen(Instant::from_nanos(42));
/// assert_eq!((&clock).now().as_nanos(), 42);
/// ```
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Instant;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl<C: Clock + ?Sized> Clock for alloc::sync::Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

#[cfg(feature = "alloc")]
impl<C: Clock + ?Sized> Clock for alloc::boxed::Box<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}
