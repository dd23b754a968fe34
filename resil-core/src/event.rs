//! What happened, told once for every technique.
//!
//! Every resil component reports through one [`Listener`] with one
//! [`Event`] type, so a tracing or metrics adapter is written once and sees
//! retries, breaker transitions and shedding alike. A component that is given
//! no listener uses [`NoopListener`], whose empty, inlined method compiles to
//! nothing: unused events cost nothing.
//!
//! A closure becomes a listener through [`listener_fn`]. There is no blanket
//! impl for closures, so that `&L`, `Box<L>`, `Arc<L>` and pairs `(A, B)`
//! (fan-out) can be listeners too: one adapter, shared by every component.

use core::time::Duration;

use crate::Instant;

/// One thing a resil component did, with who did it and when.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Event, EventKind, Instant, Listener};
///
/// let log = resil_core::listener_fn(|event| {
///     if let EventKind::RetryScheduled { attempt, delay, .. } = event.kind {
///         println!("{}: attempt {attempt} failed, retrying in {delay:?}", event.source);
///     }
/// });
/// log.on_event(&Event::new(
///     "payments",
///     Instant::ZERO,
///     EventKind::retry_scheduled(1, Duration::from_millis(100), Duration::ZERO),
/// ));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event<'a> {
    /// The name the component was given (for example `"payments-db"`), or
    /// `""` if it has none.
    pub source: &'a str,
    /// When it happened, on the component's clock.
    pub at: Instant,
    /// What happened.
    pub kind: EventKind,
}

impl<'a> Event<'a> {
    /// An event from `source` at `at`.
    pub const fn new(source: &'a str, at: Instant, kind: EventKind) -> Self {
        Event { source, at, kind }
    }
}

/// The kinds of [`Event`].
///
/// Variants are `#[non_exhaustive]`: match them with `..`, and build them
/// with the constructor functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// An attempt failed and another is scheduled after `delay`.
    #[non_exhaustive]
    RetryScheduled {
        /// The attempt that failed, counting from 1.
        attempt: u32,
        /// The wait before the next attempt.
        delay: Duration,
        /// Time since the first attempt started.
        elapsed: Duration,
    },
    /// An attempt after the first succeeded.
    #[non_exhaustive]
    RetrySucceeded {
        /// Attempts made, the first included.
        attempts: u32,
        /// Time since the first attempt started.
        elapsed: Duration,
    },
    /// A hedged (extra, concurrent) attempt was started.
    #[non_exhaustive]
    HedgeSent {
        /// Attempts in flight or done, this one included.
        attempt: u32,
        /// Time since the first attempt started.
        elapsed: Duration,
    },
    /// An operation ran out of time.
    #[non_exhaustive]
    TimedOut {
        /// The limit that passed.
        limit: Duration,
    },
    /// Retrying stopped without a success.
    #[non_exhaustive]
    RetryGaveUp {
        /// Attempts made, the first included.
        attempts: u32,
        /// Why no further attempt was made.
        reason: StopReason,
        /// Time since the first attempt started.
        elapsed: Duration,
    },
    /// A circuit breaker changed state.
    #[non_exhaustive]
    BreakerTransition {
        /// The state it left.
        from: CircuitState,
        /// The state it entered.
        to: CircuitState,
    },
    /// A circuit breaker refused a call.
    #[non_exhaustive]
    CallRejected {
        /// The state that refused it.
        state: CircuitState,
    },
    /// A load shedder refused a request.
    #[non_exhaustive]
    Shed {
        /// The request's priority level; 0 is the most critical.
        priority: u8,
        /// Why it was refused.
        reason: ShedReason,
    },
    /// An adaptive concurrency limit changed.
    #[non_exhaustive]
    LimitChanged {
        /// The limit before.
        from: u32,
        /// The limit after.
        to: u32,
    },
}

impl EventKind {
    /// A [`RetryScheduled`](Self::RetryScheduled) event.
    pub const fn retry_scheduled(attempt: u32, delay: Duration, elapsed: Duration) -> Self {
        EventKind::RetryScheduled {
            attempt,
            delay,
            elapsed,
        }
    }

    /// A [`RetrySucceeded`](Self::RetrySucceeded) event.
    pub const fn retry_succeeded(attempts: u32, elapsed: Duration) -> Self {
        EventKind::RetrySucceeded { attempts, elapsed }
    }

    /// A [`HedgeSent`](Self::HedgeSent) event.
    pub const fn hedge_sent(attempt: u32, elapsed: Duration) -> Self {
        EventKind::HedgeSent { attempt, elapsed }
    }

    /// A [`TimedOut`](Self::TimedOut) event.
    pub const fn timed_out(limit: Duration) -> Self {
        EventKind::TimedOut { limit }
    }

    /// A [`RetryGaveUp`](Self::RetryGaveUp) event.
    pub const fn retry_gave_up(attempts: u32, reason: StopReason, elapsed: Duration) -> Self {
        EventKind::RetryGaveUp {
            attempts,
            reason,
            elapsed,
        }
    }

    /// A [`BreakerTransition`](Self::BreakerTransition) event.
    pub const fn breaker_transition(from: CircuitState, to: CircuitState) -> Self {
        EventKind::BreakerTransition { from, to }
    }

    /// A [`CallRejected`](Self::CallRejected) event.
    pub const fn call_rejected(state: CircuitState) -> Self {
        EventKind::CallRejected { state }
    }

    /// A [`Shed`](Self::Shed) event.
    pub const fn shed(priority: u8, reason: ShedReason) -> Self {
        EventKind::Shed { priority, reason }
    }

    /// A [`LimitChanged`](Self::LimitChanged) event.
    pub const fn limit_changed(from: u32, to: u32) -> Self {
        EventKind::LimitChanged { from, to }
    }
}

/// Why a retry loop stopped without a success.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The last outcome was classified as not worth retrying.
    NotRetryable,
    /// The maximum number of attempts was reached.
    AttemptsExhausted,
    /// The next attempt could not start before the deadline.
    Deadline,
    /// The retry budget had no token left.
    BudgetEmpty,
}

/// Lower-case phrases, for messages: "attempts exhausted".
impl core::fmt::Display for StopReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            StopReason::NotRetryable => "not retryable",
            StopReason::AttemptsExhausted => "attempts exhausted",
            StopReason::Deadline => "deadline reached",
            StopReason::BudgetEmpty => "retry budget empty",
        })
    }
}

/// The states of a circuit breaker.
///
/// The set is complete (matches need no wildcard arm), and `repr(u8)` so a
/// breaker can keep its state in an atomic: `state as u8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CircuitState {
    /// Calls flow; outcomes are recorded.
    Closed,
    /// Calls are rejected until the wait duration passes.
    Open,
    /// A limited number of trial calls decide between Closed and Open.
    HalfOpen,
    /// Held open by an operator: every call is rejected.
    ForcedOpen,
    /// Switched off by an operator: every call is admitted, nothing recorded.
    Disabled,
}

/// Why a load shedder refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ShedReason {
    /// The concurrency limit was reached and the caller would not wait.
    LimitReached,
    /// The wait queue was full.
    QueueFull,
    /// The request waited for its maximum time.
    WaitedTooLong,
    /// A client-side throttle refused it locally.
    Throttled,
}

/// Receives a component's [`Event`]s.
///
/// Implemented for [`NoopListener`] (the default), for closures through
/// [`listener_fn`], and for `&L`, `Box<L>`, `Arc<L>`, `Option<L>` and
/// `(A, B)` (both hear every event). Components call it synchronously on the
/// path that caused the event, so it should be quick: hand the event to a
/// channel or a counter, not to the network.
///
/// # Examples
///
/// One counter shared by two components, through an `Arc`:
///
/// ```
/// use core::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use resil_core::{CircuitState, Event, EventKind, Instant, Listener};
///
/// #[derive(Default)]
/// struct Rejections(AtomicU32);
///
/// impl Listener for Rejections {
///     fn on_event(&self, event: &Event<'_>) {
///         if let EventKind::CallRejected { .. } = event.kind {
///             self.0.fetch_add(1, Ordering::Relaxed);
///         }
///     }
/// }
///
/// let counter = Arc::new(Rejections::default());
/// let (a, b) = (Arc::clone(&counter), Arc::clone(&counter));
/// let rejected = Event::new("db", Instant::ZERO, EventKind::call_rejected(CircuitState::Open));
/// a.on_event(&rejected);
/// b.on_event(&rejected);
/// assert_eq!(counter.0.load(Ordering::Relaxed), 2);
/// ```
pub trait Listener: Send + Sync {
    /// Called once for every event.
    fn on_event(&self, event: &Event<'_>);

    /// Whether this listener wants events at all. Components skip building
    /// an event — and reading the clock to stamp it — when it does not:
    /// [`NoopListener`] says `false`, so a component without a listener pays
    /// nothing for events. Defaults to `true`.
    #[inline(always)]
    fn is_enabled(&self) -> bool {
        true
    }
}

/// A listener that ignores every event: the default, and free.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoopListener;

impl Listener for NoopListener {
    #[inline(always)]
    fn on_event(&self, _event: &Event<'_>) {}

    #[inline(always)]
    fn is_enabled(&self) -> bool {
        false
    }
}

/// A closure as a [`Listener`]; made by [`listener_fn`].
#[derive(Clone, Copy, Debug, Default)]
pub struct FnListener<F>(F);

/// Makes a [`Listener`] of a closure (its argument's type is inferred).
///
/// ```
/// use std::sync::Mutex;
/// use resil_core::{Event, EventKind, Instant, Listener, listener_fn};
///
/// let seen = Mutex::new(Vec::new());
/// let listener = listener_fn(|event| seen.lock().unwrap().push(event.kind));
/// listener.on_event(&Event::new("", Instant::ZERO, EventKind::limit_changed(10, 12)));
/// assert_eq!(seen.lock().unwrap()[..], [EventKind::limit_changed(10, 12)]);
/// ```
pub const fn listener_fn<F>(f: F) -> FnListener<F>
where
    F: Fn(&Event<'_>) + Send + Sync,
{
    FnListener(f)
}

impl<F> Listener for FnListener<F>
where
    F: Fn(&Event<'_>) + Send + Sync,
{
    fn on_event(&self, event: &Event<'_>) {
        (self.0)(event)
    }
}

impl<L: Listener + ?Sized> Listener for &L {
    fn on_event(&self, event: &Event<'_>) {
        (**self).on_event(event)
    }

    fn is_enabled(&self) -> bool {
        (**self).is_enabled()
    }
}

#[cfg(feature = "alloc")]
impl<L: Listener + ?Sized> Listener for alloc::boxed::Box<L> {
    fn on_event(&self, event: &Event<'_>) {
        (**self).on_event(event)
    }

    fn is_enabled(&self) -> bool {
        (**self).is_enabled()
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl<L: Listener + ?Sized> Listener for alloc::sync::Arc<L> {
    fn on_event(&self, event: &Event<'_>) {
        (**self).on_event(event)
    }

    fn is_enabled(&self) -> bool {
        (**self).is_enabled()
    }
}

/// `None` ignores events, `Some(l)` passes them on.
impl<L: Listener> Listener for Option<L> {
    fn on_event(&self, event: &Event<'_>) {
        if let Some(listener) = self {
            listener.on_event(event)
        }
    }

    fn is_enabled(&self) -> bool {
        self.as_ref().is_some_and(L::is_enabled)
    }
}

/// Fan-out: both listeners hear every event, `A` first.
impl<A: Listener, B: Listener> Listener for (A, B) {
    fn on_event(&self, event: &Event<'_>) {
        self.0.on_event(event);
        self.1.on_event(event);
    }

    fn is_enabled(&self) -> bool {
        self.0.is_enabled() || self.1.is_enabled()
    }
}
