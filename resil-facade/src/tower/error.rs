//! The shed layer's error: refused by the limiter, or failed inside.
//!
//! The breaker and retry layers reuse their crates' errors
//! ([`CallError`](crate::breaker::CallError),
//! [`RetryError`](crate::retry::RetryError)); the limiter's own [`Shed`]
//! carries no inner error, so this enum pairs the two and keeps the inner
//! service's error type, where tower's `LoadShed` would box it.

use core::fmt;

use resil_shed::Shed;

/// The error of a [`ShedService`](crate::tower::ShedService): the request was
/// shed (the inner service never saw it), or the inner service failed.
///
/// # Examples
///
/// ```
/// use resil::shed::{ConcurrencyLimit, Fixed, Priority};
/// use resil::tower::ShedError;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let limiter = ConcurrencyLimit::builder(Fixed::try_from(1)?)
///     .clock(resil::core::ManualClock::new())
///     .build()?;
/// let _held = limiter.try_acquire(Priority::Critical)?;
/// let shed = limiter.try_acquire(Priority::Sheddable).unwrap_err();
///
/// let error: ShedError<std::io::Error> = ShedError::Shed(shed);
/// assert!(error.is_shed());
/// assert_eq!(error.as_shed().map(|s| s.priority()), Some(Priority::Sheddable));
/// assert_eq!(
///     error.to_string(),
///     "request shed at priority Sheddable: the concurrency limit is reached"
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShedError<E> {
    /// The limiter refused the request: the limit was reached, the queue was
    /// full, or it waited too long.
    Shed(Shed),
    /// The request was admitted and the inner service failed.
    Inner(E),
}

impl<E> ShedError<E> {
    /// The inner service's error, if it was admitted and failed.
    pub fn into_inner(self) -> Option<E> {
        match self {
            ShedError::Inner(error) => Some(error),
            ShedError::Shed(_) => None,
        }
    }

    /// Whether the limiter refused the request.
    pub fn is_shed(&self) -> bool {
        matches!(self, ShedError::Shed(_))
    }

    /// Why the limiter refused the request, if it did.
    pub fn as_shed(&self) -> Option<&Shed> {
        match self {
            ShedError::Shed(shed) => Some(shed),
            ShedError::Inner(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for ShedError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShedError::Shed(shed) => shed.fmt(f),
            ShedError::Inner(error) => error.fmt(f),
        }
    }
}

/// Transparent, like [`CallError`](crate::breaker::CallError): displayed as
/// the shed or the inner error, with that error's own source, so a reporter
/// prints nothing twice.
impl<E: core::error::Error + 'static> core::error::Error for ShedError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ShedError::Shed(shed) => shed.source(),
            ShedError::Inner(error) => error.source(),
        }
    }
}

impl<E> From<Shed> for ShedError<E> {
    fn from(shed: Shed) -> Self {
        ShedError::Shed(shed)
    }
}
