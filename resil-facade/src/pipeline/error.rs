//! What a caller learns when a pipeline call did not succeed: which stage
//! ended it, why, and the operation's own error without downcasting.

use core::fmt;
use core::time::Duration;

use resil_breaker::Rejected;
use resil_core::StopReason;
use resil_shed::Shed;

/// The stage of a [`Pipeline`](super::Pipeline) that ended a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// The load shedder refused the call at the door.
    Shed,
    /// The total timeout passed.
    TotalTimeout,
    /// The circuit breaker refused the last attempt.
    Breaker,
    /// The last attempt ran past the per-attempt timeout.
    AttemptTimeout,
    /// The operation itself failed.
    Operation,
}

/// Why the call failed: the refusing stage's own error, or the operation's.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause<E> {
    /// The load shedder refused the call; nothing ran, and a shed call is
    /// never retried by the same pipeline.
    Shed(Shed),
    /// The total timeout passed; the attempt in flight, if any, was dropped.
    TotalTimeout(Duration),
    /// The circuit breaker refused the last attempt; it did not run.
    Rejected(Rejected),
    /// The last attempt ran past the per-attempt timeout and was dropped.
    AttemptTimeout(Duration),
    /// The last attempt's own error.
    Failed(E),
}

/// The error of a [`Pipeline`](super::Pipeline) call.
///
/// [`cause`](Self::cause) says what ended the call (matching needs no
/// downcast), [`into_inner`](Self::into_inner) gives the operation's own
/// error when the operation failed, and [`attempts`](Self::attempts) and
/// [`stop_reason`](Self::stop_reason) tell the retry story.
///
/// Displayed, it reads "circuit breaker rejected the call: open (after 2
/// attempts, not retryable)"; as an `Error`, its `source()` is the source
/// of the operation's error (as [`RetryError`](resil_retry::RetryError)
/// does), so a reporter walking the chain prints each message once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineError<E> {
    cause: Cause<E>,
    attempts: u32,
    reason: Option<StopReason>,
}

impl<E> PipelineError<E> {
    pub(crate) fn new(cause: Cause<E>, attempts: u32, reason: Option<StopReason>) -> Self {
        PipelineError {
            cause,
            attempts,
            reason,
        }
    }

    /// What ended the call.
    pub fn cause(&self) -> &Cause<E> {
        &self.cause
    }

    /// What ended the call, by value.
    pub fn into_cause(self) -> Cause<E> {
        self.cause
    }

    /// The stage that ended the call.
    pub fn stage(&self) -> Stage {
        match self.cause {
            Cause::Shed(_) => Stage::Shed,
            Cause::TotalTimeout(_) => Stage::TotalTimeout,
            Cause::Rejected(_) => Stage::Breaker,
            Cause::AttemptTimeout(_) => Stage::AttemptTimeout,
            Cause::Failed(_) => Stage::Operation,
        }
    }

    /// The operation's own error, if the last attempt ran and failed.
    pub fn into_inner(self) -> Option<E> {
        match self.cause {
            Cause::Failed(error) => Some(error),
            _ => None,
        }
    }

    /// The operation's own error, by reference.
    pub fn inner(&self) -> Option<&E> {
        match &self.cause {
            Cause::Failed(error) => Some(error),
            _ => None,
        }
    }

    /// Attempts started, the first included (0 when the call was shed).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Why retrying stopped, when a retry policy decided it; `None` when
    /// the call was shed, timed out as a whole, or the pipeline does not
    /// retry.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.reason
    }
}

impl<E: fmt::Display> fmt::Display for PipelineError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Cause::Shed(shed) => return fmt::Display::fmt(shed, f),
            Cause::TotalTimeout(limit) => write!(f, "total timeout of {limit:?} passed")?,
            Cause::Rejected(rejected) => fmt::Display::fmt(rejected, f)?,
            Cause::AttemptTimeout(limit) => write!(f, "attempt timed out after {limit:?}")?,
            Cause::Failed(error) => fmt::Display::fmt(error, f)?,
        }
        let plural = if self.attempts == 1 { "" } else { "s" };
        match self.reason {
            Some(reason) => write!(f, " (after {} attempt{plural}, {reason})", self.attempts),
            None => write!(f, " (after {} attempt{plural})", self.attempts),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for PipelineError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match &self.cause {
            Cause::Failed(error) => error.source(),
            _ => None,
        }
    }
}
