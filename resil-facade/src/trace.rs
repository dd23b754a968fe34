//! Every resil event as a structured `tracing` event.
//!
//! Why one listener for everything? Every technique reports through the
//! one [`Listener`] trait with the one [`Event`] type, so a single adapter
//! turns retries, breaker transitions and shedding into `tracing` events
//! with the same field names, and one filter (`resil=debug`) shows them
//! all.
//!
//! (The module is `trace` because a module named `tracing` would shadow the
//! `tracing` crate inside this one.)

use resil_core::{CircuitState, Event, EventKind, Listener, ShedReason, StopReason};
use tracing::Level;
use tracing::metadata::Kind;

/// A [`Listener`] that emits each resil [`Event`] as a `tracing` event.
///
/// Events have the target `resil::trace` and these fields, where the event
/// has them:
///
/// | field | meaning |
/// |---|---|
/// | `technique` | `"retry"`, `"timeout"`, `"breaker"` or `"shed"` |
/// | `name` | the component's name (its builder's `name(…)`), `""` if none |
/// | `kind` | `"retry_scheduled"`, `"retry_succeeded"`, `"hedge_sent"`, `"timed_out"`, `"retry_gave_up"`, `"breaker_transition"`, `"call_rejected"`, `"shed"`, `"limit_changed"` |
/// | `at_ns` | when, in nanoseconds on the component's clock |
/// | `attempt`, `attempts` | the attempt that failed or was sent; attempts made |
/// | `delay`, `elapsed`, `limit` | durations, recorded with `Debug` (`100ms`) |
/// | `reason` | why retrying stopped (`"attempts_exhausted"`, `"deadline"`, `"budget_empty"`, `"not_retryable"`) or why a request was shed (`"limit_reached"`, `"queue_full"`, `"waited_too_long"`, `"throttled"`) |
/// | `from`, `to`, `state` | breaker states (`"closed"`, `"open"`, `"half_open"`, `"forced_open"`, `"disabled"`); for `limit_changed`, the old and new limits |
/// | `priority` | the shed request's level, 0 the most critical |
///
/// # Levels
///
/// - `WARN`: a retry loop gave up (attempts exhausted, deadline, budget
///   empty); a breaker opened (or was forced open); a call timed out.
/// - `INFO`: a breaker went half-open, closed or was disabled.
/// - `DEBUG`: each retry scheduled, a retry that succeeded, a hedge sent, a
///   call the breaker rejected, a request shed, a limit changed, and a give-up
///   on an error that was not retryable (the caller's error to handle, not a
///   resilience event).
///
/// Per-call events are `DEBUG` because there can be thousands a second
/// while a dependency is down; the transitions that explain them are `WARN`.
///
/// # Cost
///
/// [`is_enabled`](Listener::is_enabled) asks `tracing` whether any of those
/// levels is enabled for this target (a cached, per-callsite answer: a few
/// atomic loads). When it says no — no subscriber, or one filtering resil
/// out — components skip building events and reading the clock for them.
///
/// # Examples
///
/// Give it to every component as its listener (here a breaker's event, by
/// hand); with a subscriber installed (tracing-subscriber's `fmt()`, say)
/// this logs `WARN resil::trace: circuit breaker opened technique="breaker"
/// name="db" kind="breaker_transition" … from="closed" to="open"`.
///
/// ```
/// use resil::core::{CircuitState, Event, EventKind, Instant, Listener};
/// use resil::TracingListener;
///
/// let listener = TracingListener;
/// // No subscriber here: the components would not even build the event.
/// assert!(!listener.is_enabled());
/// listener.on_event(&Event::new(
///     "db",
///     Instant::ZERO,
///     EventKind::breaker_transition(CircuitState::Closed, CircuitState::Open),
/// ));
/// ```
///
/// With a retry policy (feature `retry`):
///
/// ```
/// # #[cfg(feature = "retry")] {
/// use core::time::Duration;
/// use resil::core::{Backoff, ManualClock};
/// use resil::retry::Retry;
/// use resil::TracingListener;
///
/// let clock = ManualClock::new();
/// let retry = Retry::builder()
///     .name("payments")
///     .backoff(Backoff::constant(Duration::from_millis(10)).build().unwrap())
///     .clock(clock.clone())
///     .listener(TracingListener)
///     .build()
///     .unwrap();
/// // Under a subscriber: two DEBUG "retry scheduled", one WARN "retry gave up".
/// assert!(retry.run_blocking(&clock, |_| Err::<(), _>("refused")).is_err());
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TracingListener;

impl Listener for TracingListener {
    fn on_event(&self, event: &Event<'_>) {
        let name = event.source;
        let at_ns = event.at.as_nanos();
        match event.kind {
            EventKind::RetryScheduled {
                attempt,
                delay,
                elapsed,
                ..
            } => tracing::debug!(
                technique = "retry",
                name,
                kind = "retry_scheduled",
                at_ns,
                attempt,
                delay = ?delay,
                elapsed = ?elapsed,
                "retry scheduled",
            ),
            EventKind::RetrySucceeded {
                attempts, elapsed, ..
            } => tracing::debug!(
                technique = "retry",
                name,
                kind = "retry_succeeded",
                at_ns,
                attempts,
                elapsed = ?elapsed,
                "retry succeeded",
            ),
            EventKind::HedgeSent {
                attempt, elapsed, ..
            } => tracing::debug!(
                technique = "retry",
                name,
                kind = "hedge_sent",
                at_ns,
                attempt,
                elapsed = ?elapsed,
                "hedged attempt sent",
            ),
            EventKind::TimedOut { limit, .. } => tracing::warn!(
                technique = "timeout",
                name,
                kind = "timed_out",
                at_ns,
                limit = ?limit,
                "timed out",
            ),
            EventKind::RetryGaveUp {
                attempts,
                reason: StopReason::NotRetryable,
                elapsed,
                ..
            } => tracing::debug!(
                technique = "retry",
                name,
                kind = "retry_gave_up",
                at_ns,
                attempts,
                reason = "not_retryable",
                elapsed = ?elapsed,
                "retry gave up",
            ),
            EventKind::RetryGaveUp {
                attempts,
                reason,
                elapsed,
                ..
            } => tracing::warn!(
                technique = "retry",
                name,
                kind = "retry_gave_up",
                at_ns,
                attempts,
                reason = stop_reason(reason),
                elapsed = ?elapsed,
                "retry gave up",
            ),
            EventKind::BreakerTransition { from, to, .. } => match to {
                CircuitState::Open | CircuitState::ForcedOpen => tracing::warn!(
                    technique = "breaker",
                    name,
                    kind = "breaker_transition",
                    at_ns,
                    from = state(from),
                    to = state(to),
                    "circuit breaker opened",
                ),
                CircuitState::Closed | CircuitState::HalfOpen | CircuitState::Disabled => {
                    tracing::info!(
                        technique = "breaker",
                        name,
                        kind = "breaker_transition",
                        at_ns,
                        from = state(from),
                        to = state(to),
                        "circuit breaker state changed",
                    )
                }
            },
            EventKind::CallRejected { state: refused, .. } => tracing::debug!(
                technique = "breaker",
                name,
                kind = "call_rejected",
                at_ns,
                state = state(refused),
                "call rejected by circuit breaker",
            ),
            EventKind::Shed {
                priority, reason, ..
            } => tracing::debug!(
                technique = "shed",
                name,
                kind = "shed",
                at_ns,
                priority,
                reason = shed_reason(reason),
                "request shed",
            ),
            EventKind::LimitChanged { from, to, .. } => tracing::debug!(
                technique = "shed",
                name,
                kind = "limit_changed",
                at_ns,
                from,
                to,
                "concurrency limit changed",
            ),
            // A kind added to resil-core after this listener was written:
            // still reported, in its Debug form.
            other => tracing::debug!(
                name,
                kind = "other",
                at_ns,
                event = ?other,
                "resil event",
            ),
        }
    }

    fn is_enabled(&self) -> bool {
        // Most subscribers enable WARN when they enable anything, so the
        // first check usually decides.
        tracing::enabled!(kind: Kind::EVENT, target: module_path!(), Level::WARN)
            || tracing::enabled!(kind: Kind::EVENT, target: module_path!(), Level::INFO)
            || tracing::enabled!(kind: Kind::EVENT, target: module_path!(), Level::DEBUG)
    }
}

/// A breaker state as a field value.
fn state(state: CircuitState) -> &'static str {
    match state {
        CircuitState::Closed => "closed",
        CircuitState::Open => "open",
        CircuitState::HalfOpen => "half_open",
        CircuitState::ForcedOpen => "forced_open",
        CircuitState::Disabled => "disabled",
    }
}

/// Why retrying stopped, as a field value.
fn stop_reason(reason: StopReason) -> &'static str {
    match reason {
        StopReason::NotRetryable => "not_retryable",
        StopReason::AttemptsExhausted => "attempts_exhausted",
        StopReason::Deadline => "deadline",
        StopReason::BudgetEmpty => "budget_empty",
        _ => "other",
    }
}

/// Why a request was shed, as a field value.
fn shed_reason(reason: ShedReason) -> &'static str {
    match reason {
        ShedReason::LimitReached => "limit_reached",
        ShedReason::QueueFull => "queue_full",
        ShedReason::WaitedTooLong => "waited_too_long",
        ShedReason::Throttled => "throttled",
        _ => "other",
    }
}
