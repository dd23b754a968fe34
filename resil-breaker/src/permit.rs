//! Permits: the right to make one call, and the duty to say how it went.
//!
//! A permit remembers the state generation that issued it, so an outcome
//! recorded after the breaker has moved on is ignored: a slow call admitted
//! while closed cannot flip a breaker that has since opened and half-opened.
//! A permit dropped unrecorded — a cancelled future, a panic in the call —
//! counts as ignored, which in half-open frees its trial slot.

use resil_core::{Clock, Listener, Outcome};

use crate::CircuitBreaker;
use crate::breaker::Ticket;

/// Permission to make one call, borrowed from its [`CircuitBreaker`].
///
/// Record the call with [`record`](Self::record), [`success`](Self::success)
/// or [`failure`](Self::failure); dropping it unrecorded counts as ignored.
#[derive(Debug)]
#[must_use = "a permit dropped unused counts as an ignored call"]
pub struct Permit<'a, C: Clock, L: Listener> {
    breaker: &'a CircuitBreaker<C, L>,
    ticket: Option<Ticket>,
}

/// Like [`Permit`], owning a handle to its breaker.
#[derive(Debug)]
#[must_use = "a permit dropped unused counts as an ignored call"]
pub struct OwnedPermit<C: Clock, L: Listener> {
    breaker: CircuitBreaker<C, L>,
    ticket: Option<Ticket>,
}

macro_rules! permit_methods {
    () => {
        /// Records the call's result: `Ok` as a success, `Err` as a failure.
        pub fn record<T, E>(self, result: &Result<T, E>) {
            self.record_outcome(Outcome::of(result));
        }

        /// Records an outcome decided by the caller (for example with a
        /// [`Classify`](resil_core::Classify)).
        #[inline]
        pub fn record_outcome(mut self, outcome: Outcome) {
            if let Some(ticket) = self.ticket.take() {
                self.breaker.finish(ticket, outcome);
            }
        }

        /// Records a success.
        pub fn success(self) {
            self.record_outcome(Outcome::Success);
        }

        /// Records a failure.
        pub fn failure(self) {
            self.record_outcome(Outcome::Failure);
        }

        /// Records nothing, and frees a half-open trial slot: the same as
        /// dropping the permit.
        pub fn ignore(self) {
            self.record_outcome(Outcome::Ignored);
        }
    };
}

impl<'a, C: Clock, L: Listener> Permit<'a, C, L> {
    pub(crate) fn new(breaker: &'a CircuitBreaker<C, L>, ticket: Ticket) -> Self {
        Permit {
            breaker,
            ticket: Some(ticket),
        }
    }

    permit_methods!();
}

impl<C: Clock, L: Listener> OwnedPermit<C, L> {
    pub(crate) fn new(breaker: CircuitBreaker<C, L>, ticket: Ticket) -> Self {
        OwnedPermit {
            breaker,
            ticket: Some(ticket),
        }
    }

    permit_methods!();
}

impl<C: Clock, L: Listener> Drop for Permit<'_, C, L> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.breaker.finish(ticket, Outcome::Ignored);
        }
    }
}

impl<C: Clock, L: Listener> Drop for OwnedPermit<C, L> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.breaker.finish(ticket, Outcome::Ignored);
        }
    }
}
