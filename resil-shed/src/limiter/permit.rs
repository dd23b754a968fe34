//! The permit: work in flight, returned exactly once.

use alloc::sync::Arc;

use resil_core::{Clock, Instant, Listener, Outcome};

use super::Shared;
use crate::Priority;
use crate::limit::Limit;

/// Permission to do one piece of work; returns its capacity when recorded
/// or dropped (also during a panic's unwinding).
///
/// With an adaptive limit, the permit measures its latency on the
/// limiter's clock and reports it with the outcome; dropped unrecorded, it
/// counts as ignored (not as a success).
#[derive(Debug)]
#[must_use = "a permit returns its capacity as soon as it is dropped"]
pub struct Permit<L: Limit, C: Clock, Li: Listener> {
    shared: Arc<Shared<L, C, Li>>,
    priority: Priority,
    started: Option<Instant>,
    returned: bool,
}

impl<L: Limit, C: Clock, Li: Listener> Permit<L, C, Li> {
    pub(super) fn new(
        shared: Arc<Shared<L, C, Li>>,
        priority: Priority,
        started: Option<Instant>,
    ) -> Self {
        Permit {
            shared,
            priority,
            started,
            returned: false,
        }
    }

    /// The priority it was granted at.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// Returns the permit, reporting how the work went.
    pub fn record(mut self, outcome: Outcome) {
        self.give_back(outcome);
    }

    /// Returns the permit after a success.
    pub fn success(self) {
        self.record(Outcome::Success);
    }

    /// Returns the permit after a failure (for an adaptive limit: a sign of
    /// overload).
    pub fn failure(self) {
        self.record(Outcome::Failure);
    }

    fn give_back(&mut self, outcome: Outcome) {
        if core::mem::replace(&mut self.returned, true) {
            return;
        }
        let in_flight = self.shared.counts().total();
        self.shared.release(self.priority.index());
        if let Some(started) = self.started {
            let latency = self.shared.clock().now() - started;
            self.shared.sample(latency, outcome, in_flight);
        }
    }
}

impl<L: Limit, C: Clock, Li: Listener> Drop for Permit<L, C, Li> {
    fn drop(&mut self) {
        self.give_back(Outcome::Ignored);
    }
}
