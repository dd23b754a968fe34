//! What a caller learns when retrying did not succeed.

use core::fmt;
use core::time::Duration;

use resil_core::StopReason;

/// The last error of a call that retrying could not save, with how many
/// attempts were made and why no further one was.
///
/// [`into_inner`](Self::into_inner) gives back the plain error. Displayed,
/// it reads "attempts exhausted after 3 attempts: `the error`"; as an
/// `Error`, its `source()` is the operation's error's source, so a reporter
/// walking the chain prints each message once.
///
/// # Examples
///
/// ```
/// use resil_core::{ManualClock, StopReason};
/// use resil_retry::Retry;
///
/// let policy = Retry::builder().clock(ManualClock::new()).max_attempts(2).build()?;
/// let err = policy
///     .run_blocking(&policy.clock().clone(), |_attempt| Err::<(), _>("refused"))
///     .unwrap_err();
/// assert_eq!(err.attempts(), 2);
/// assert_eq!(err.reason(), StopReason::AttemptsExhausted);
/// assert_eq!(err.to_string(), "attempts exhausted after 2 attempts: refused");
/// assert_eq!(err.into_inner(), "refused");
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryError<E> {
    error: E,
    attempts: u32,
    reason: StopReason,
    elapsed: Duration,
}

impl<E> RetryError<E> {
    pub(crate) fn new(error: E, attempts: u32, reason: StopReason, elapsed: Duration) -> Self {
        RetryError {
            error,
            attempts,
            reason,
            elapsed,
        }
    }

    /// The last attempt's error.
    pub fn into_inner(self) -> E {
        self.error
    }

    /// The last attempt's error, by reference.
    pub fn error(&self) -> &E {
        &self.error
    }

    /// Attempts made, the first included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Why no further attempt was made.
    pub fn reason(&self) -> StopReason {
        self.reason
    }

    /// Time from the call's start (see [`Retry`](crate::Retry#elapsed-time)
    /// for when that is) to giving up.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.attempts == 1 { "" } else { "s" };
        write!(
            f,
            "{} after {} attempt{plural}: {}",
            self.reason, self.attempts, self.error
        )
    }
}

/// The message already includes the operation's error, so the chain goes on
/// from *its* source: error reporters (anyhow, eyre) print nothing twice.
impl<E: core::error::Error + 'static> core::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.error.source()
    }
}
