//! Why a call did not go through.

use core::fmt;
use core::time::Duration;

use resil_core::CircuitState;

/// The breaker refused a call.
///
/// `retry_after` says when an open breaker's wait ends (the earliest a call
/// may be admitted); it is `None` when that is not known (forced open, or
/// half-open with every trial permit out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker rejected the call: {}", state_name(*.state))]
pub struct Rejected {
    state: CircuitState,
    retry_after: Option<Duration>,
}

impl Rejected {
    pub(crate) fn new(state: CircuitState, retry_after: Option<Duration>) -> Self {
        Rejected { state, retry_after }
    }

    /// The state that refused the call.
    pub fn state(&self) -> CircuitState {
        self.state
    }

    /// How long until the breaker may admit a call, if known.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

fn state_name(state: CircuitState) -> &'static str {
    match state {
        CircuitState::Closed => "closed",
        CircuitState::Open => "open",
        CircuitState::HalfOpen => "half-open, every trial permit taken",
        CircuitState::ForcedOpen => "forced open",
        CircuitState::Disabled => "disabled",
    }
}

/// The error of [`CircuitBreaker::call`](crate::CircuitBreaker::call) and
/// friends: the breaker refused, or the call ran and failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError<E> {
    /// The breaker refused the call; it did not run.
    Rejected(Rejected),
    /// The call ran and returned this error.
    Failed(E),
}

impl<E> CallError<E> {
    /// The call's own error, if it ran.
    pub fn into_inner(self) -> Option<E> {
        match self {
            CallError::Failed(error) => Some(error),
            CallError::Rejected(_) => None,
        }
    }

    /// Whether the breaker refused the call.
    pub fn is_rejected(&self) -> bool {
        matches!(self, CallError::Rejected(_))
    }
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Rejected(rejected) => rejected.fmt(f),
            CallError::Failed(error) => error.fmt(f),
        }
    }
}

/// Transparent: displayed as the rejection or the call's error, with that
/// error's own source, so a reporter prints nothing twice.
impl<E: core::error::Error + 'static> core::error::Error for CallError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            CallError::Rejected(rejected) => rejected.source(),
            CallError::Failed(error) => error.source(),
        }
    }
}

impl<E> From<Rejected> for CallError<E> {
    fn from(rejected: Rejected) -> Self {
        CallError::Rejected(rejected)
    }
}
