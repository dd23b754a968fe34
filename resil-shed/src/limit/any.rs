//! One type for a limit chosen at run time.
//!
//! Why an enum: [`Limit`] has an associated constant
//! ([`ADAPTIVE`](Limit::ADAPTIVE)), so it is not dyn-compatible, and a
//! service that reads its algorithm from a configuration file needs one
//! concrete type for its [`ConcurrencyLimit`](crate::ConcurrencyLimit).

use super::{Aimd, Fixed, Gradient2, Limit, Sample, Vegas};

/// Any of the crate's limits, as one type.
///
/// [`ADAPTIVE`](Limit::ADAPTIVE) is a constant of the type, so it is `true`
/// here even when the choice is [`Fixed`]: the limiter then measures each
/// call's latency for a limit that ignores it. Where that matters, use
/// `Fixed` itself.
///
/// # Examples
///
/// ```
/// use resil_shed::{AnyLimit, Fixed, Limit, Vegas};
///
/// let from_config = |adaptive: bool| -> Result<AnyLimit, resil_core::ConfigError> {
///     Ok(if adaptive { Vegas::default().into() } else { Fixed::try_from(50)?.into() })
/// };
/// assert_eq!(from_config(false)?.limit(), 50);
/// assert_eq!(from_config(true)?.limit(), Vegas::default().limit());
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AnyLimit {
    /// A [`Fixed`] limit.
    Fixed(Fixed),
    /// An [`Aimd`] limit.
    Aimd(Aimd),
    /// A [`Gradient2`] limit.
    Gradient2(Gradient2),
    /// A [`Vegas`] limit.
    Vegas(Vegas),
}

impl Limit for AnyLimit {
    fn limit(&self) -> u32 {
        match self {
            AnyLimit::Fixed(limit) => limit.limit(),
            AnyLimit::Aimd(limit) => limit.limit(),
            AnyLimit::Gradient2(limit) => limit.limit(),
            AnyLimit::Vegas(limit) => limit.limit(),
        }
    }

    fn update(&mut self, sample: &Sample) -> u32 {
        match self {
            AnyLimit::Fixed(limit) => limit.update(sample),
            AnyLimit::Aimd(limit) => limit.update(sample),
            AnyLimit::Gradient2(limit) => limit.update(sample),
            AnyLimit::Vegas(limit) => limit.update(sample),
        }
    }
}

impl From<Fixed> for AnyLimit {
    fn from(limit: Fixed) -> Self {
        AnyLimit::Fixed(limit)
    }
}

impl From<Aimd> for AnyLimit {
    fn from(limit: Aimd) -> Self {
        AnyLimit::Aimd(limit)
    }
}

impl From<Gradient2> for AnyLimit {
    fn from(limit: Gradient2) -> Self {
        AnyLimit::Gradient2(limit)
    }
}

impl From<Vegas> for AnyLimit {
    fn from(limit: Vegas) -> Self {
        AnyLimit::Vegas(limit)
    }
}
