//! The bounded, priority-ordered wait queue.
//!
//! One FIFO per priority level, behind one lock: waiting is the slow path,
//! and the lock is held only to move waiters in and out (wakers are woken
//! after it is released). A waiter is granted a permit *by the releasing
//! thread*, which takes the permit on the waiter's behalf before waking it,
//! so a freed permit goes to the most critical waiter and no newcomer can
//! steal it in between.
//!
//! Under sustained overload a FIFO serves the requests most likely to have
//! been given up on already. With CoDel enabled (Meta's "Fail at Scale"), a
//! level whose queue has not been empty for `interval` is overloaded: its
//! waiters are served newest first (adaptive LIFO), and those that have
//! waited longer than `target` are shed.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::task::Waker;
use core::time::Duration;

use resil_core::{Instant, ShedReason};

use super::state::LEVELS;
use crate::loom::{Mutex, lock};

/// One request waiting for a permit.
#[derive(Debug)]
pub(crate) struct Waiter {
    pub(crate) level: usize,
    pub(crate) enqueued: Instant,
    pub(crate) state: Mutex<WaitState>,
}

/// Where a waiter stands.
#[derive(Debug)]
pub(crate) enum WaitState {
    /// In the queue; woken with this waker when that changes.
    Waiting(Option<Waker>),
    /// A permit was taken for it.
    Granted,
    /// Refused while queued.
    Shed(ShedReason),
}

impl Waiter {
    pub(crate) fn new(level: usize, enqueued: Instant) -> Arc<Self> {
        Arc::new(Waiter {
            level,
            enqueued,
            state: Mutex::new(WaitState::Waiting(None)),
        })
    }

    /// Settles the waiter as `to` and returns its waker to wake.
    pub(crate) fn settle(&self, to: WaitState) -> Option<Waker> {
        let mut state = lock(&self.state);
        match core::mem::replace(&mut *state, to) {
            WaitState::Waiting(waker) => waker,
            // Settled twice: keep the first verdict.
            earlier => {
                *state = earlier;
                None
            }
        }
    }
}

/// CoDel's two knobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Codel {
    pub(crate) target: Duration,
    pub(crate) interval: Duration,
}

/// The waiters, per level.
#[derive(Debug)]
pub(crate) struct Queue {
    levels: [VecDeque<Arc<Waiter>>; LEVELS],
    /// When each level's queue was last seen empty (CoDel).
    last_empty: [Instant; LEVELS],
    len: usize,
}

impl Queue {
    pub(crate) fn new(now: Instant) -> Self {
        Queue {
            levels: Default::default(),
            last_empty: [now; LEVELS],
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The most critical level with a waiter.
    pub(crate) fn most_critical(&self) -> Option<usize> {
        (0..LEVELS).find(|&level| !self.levels[level].is_empty())
    }

    /// The least critical level with a waiter, if less critical than `level`.
    pub(crate) fn least_critical_below(&self, level: usize) -> Option<usize> {
        (level + 1..LEVELS)
            .rev()
            .find(|&l| !self.levels[l].is_empty())
    }

    pub(crate) fn push(&mut self, waiter: Arc<Waiter>) {
        let level = waiter.level;
        if self.levels[level].is_empty() {
            // Empty until this moment: CoDel's clock starts now.
            self.last_empty[level] = waiter.enqueued;
        }
        self.levels[level].push_back(waiter);
        self.len += 1;
    }

    /// The waiter to serve next at `level`: the oldest, or under CoDel
    /// overload the newest.
    pub(crate) fn next_at(&self, level: usize, lifo: bool) -> Option<&Arc<Waiter>> {
        let queue = &self.levels[level];
        if lifo { queue.back() } else { queue.front() }
    }

    /// Takes the waiter `next_at(level, lifo)` returned.
    pub(crate) fn pop_at(&mut self, level: usize, lifo: bool, now: Instant) -> Option<Arc<Waiter>> {
        let queue = &mut self.levels[level];
        let waiter = if lifo {
            queue.pop_back()
        } else {
            queue.pop_front()
        };
        self.after_removal(level, waiter.is_some(), now);
        waiter
    }

    /// Removes `waiter` if it is still queued.
    pub(crate) fn remove(&mut self, waiter: &Arc<Waiter>, now: Instant) -> bool {
        let queue = &mut self.levels[waiter.level];
        let found = queue.iter().position(|w| Arc::ptr_eq(w, waiter));
        if let Some(index) = found {
            queue.remove(index);
        }
        self.after_removal(waiter.level, found.is_some(), now);
        found.is_some()
    }

    fn after_removal(&mut self, level: usize, removed: bool, now: Instant) {
        if removed {
            self.len -= 1;
        }
        if self.levels[level].is_empty() {
            self.last_empty[level] = now;
        }
    }

    /// Whether `level` is overloaded in CoDel's sense.
    pub(crate) fn overloaded(&self, level: usize, codel: Option<Codel>, now: Instant) -> bool {
        match codel {
            Some(codel) => {
                !self.levels[level].is_empty() && now - self.last_empty[level] > codel.interval
            }
            None => false,
        }
    }

    /// Under CoDel overload, takes out every waiter that has waited longer
    /// than the target.
    pub(crate) fn expire(&mut self, codel: Option<Codel>, now: Instant) -> Vec<Arc<Waiter>> {
        let mut expired = Vec::new();
        let Some(codel) = codel else {
            return expired;
        };
        for level in 0..LEVELS {
            if !self.overloaded(level, Some(codel), now) {
                continue;
            }
            while let Some(oldest) = self.levels[level].front() {
                if now - oldest.enqueued <= codel.target {
                    break;
                }
                if let Some(waiter) = self.pop_at(level, false, now) {
                    expired.push(waiter);
                }
            }
        }
        expired
    }
}
