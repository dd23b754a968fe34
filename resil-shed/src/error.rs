//! Why a request was not let through.

#[cfg(feature = "std")]
use {crate::Priority, core::fmt, resil_core::ShedReason};

/// The error of [`AdaptiveThrottle::check`](crate::AdaptiveThrottle::check):
/// the throttle refused a request locally, without sending it.
///
/// The request still counts as one the client *wanted* to send: that is
/// what lets the throttle open up again as soon as the backend accepts more
/// (see [`AdaptiveThrottle`](crate::AdaptiveThrottle)).
///
/// # Examples
///
/// ```
/// use resil_core::ManualClock;
/// use resil_shed::AdaptiveThrottle;
///
/// let throttle = AdaptiveThrottle::builder().clock(ManualClock::new()).seed(1).build()?;
/// // Nothing accepted: refusals become almost certain.
/// let refused = (0..1_000).filter_map(|_| throttle.check().err()).last().unwrap();
/// assert!(refused.probability() > 0.99);
/// assert_eq!(refused.to_string(), "request throttled locally (rejection probability 1.00)");
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("request throttled locally (rejection probability {probability:.2})")]
pub struct Throttled {
    probability: f64,
}

#[cfg(feature = "std")]
impl Throttled {
    pub(crate) fn new(probability: f64) -> Self {
        Throttled { probability }
    }

    /// The probability of rejection the request was refused with, in
    /// `(0, 1)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_core::ManualClock;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let throttle = AdaptiveThrottle::builder()
    ///     .clock(ManualClock::new())
    ///     .max_rejection(0.5)
    ///     .seed(7)
    ///     .build()?;
    /// let refused = (0..100).find_map(|_| throttle.check().err()).unwrap();
    /// assert!(refused.probability() <= 0.5);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn probability(&self) -> f64 {
        self.probability
    }
}

/// The limiter refused (shed) a request.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("request shed at priority {priority:?}: {}", reason_text(*.reason))]
pub struct Shed {
    priority: Priority,
    reason: ShedReason,
}

#[cfg(feature = "std")]
impl Shed {
    pub(crate) fn new(priority: Priority, reason: ShedReason) -> Self {
        Shed { priority, reason }
    }

    /// The refused request's priority.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// Why it was refused.
    pub fn reason(&self) -> ShedReason {
        self.reason
    }
}

#[cfg(feature = "std")]
fn reason_text(reason: ShedReason) -> impl fmt::Display {
    match reason {
        ShedReason::LimitReached => "the concurrency limit is reached",
        ShedReason::QueueFull => "the wait queue is full",
        ShedReason::WaitedTooLong => "it waited too long",
        ShedReason::Throttled => "throttled",
        _ => "overloaded",
    }
}
