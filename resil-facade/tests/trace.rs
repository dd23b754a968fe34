//! `TracingListener` (feature `tracing`): every event kind becomes a
//! structured `tracing` event with the documented fields and level, seen by
//! a capturing subscriber written here; real components drive it; and
//! `is_enabled` is honest about what the current subscriber wants.

#![cfg(all(
    feature = "tracing",
    feature = "retry",
    feature = "breaker",
    feature = "shed"
))]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use resil::TracingListener;
use resil::breaker::CircuitBreaker;
use resil::core::{
    Backoff, CircuitState, Event, EventKind, Instant, Listener, ManualClock, ShedReason, StopReason,
};
use resil::retry::Retry;
use resil::shed::{ConcurrencyLimit, Fixed, Priority};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::{Interest, with_default};
use tracing::{Level, Metadata, Subscriber};

/// One event as the subscriber saw it.
#[derive(Clone, Debug, PartialEq)]
struct Captured {
    level: Level,
    target: String,
    /// Every field, `message` included, as text.
    fields: BTreeMap<String, String>,
}

impl Captured {
    fn field(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .unwrap_or_else(|| panic!("no field {name:?} in {self:?}"))
    }
}

/// A subscriber that records every event it is shown, and enables the
/// levels it is given.
#[derive(Clone)]
struct Capture {
    events: Arc<Mutex<Vec<Captured>>>,
    levels: Vec<Level>,
}

impl Capture {
    fn at(levels: &[Level]) -> Self {
        Capture {
            events: Arc::default(),
            levels: levels.to_vec(),
        }
    }

    fn everything() -> Self {
        Self::at(&[
            Level::ERROR,
            Level::WARN,
            Level::INFO,
            Level::DEBUG,
            Level::TRACE,
        ])
    }

    fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

struct Recorder<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Recorder<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
}

impl Subscriber for Capture {
    // Ask every time: the callsite cache is shared by the tests' threads.
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.levels.contains(metadata.level())
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Recorder(&mut fields));
        self.events.lock().unwrap().push(Captured {
            level: *event.metadata().level(),
            target: event.metadata().target().into(),
            fields,
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// What `TracingListener` emits for one event.
fn emitted(kind: EventKind) -> Captured {
    let capture = Capture::everything();
    with_default(capture.clone(), || {
        TracingListener.on_event(&Event::new("db", Instant::from_nanos(1_500), kind));
    });
    let mut events = capture.take();
    assert_eq!(events.len(), 1, "one tracing event per resil event");
    events.remove(0)
}

fn fields(captured: &Captured) -> Vec<(&str, &str)> {
    captured
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// An event's fields, by name, as text.
type Fields = Vec<(&'static str, &'static str)>;

#[test]
fn every_kind_has_its_fields_and_level() {
    let ms = Duration::from_millis;
    let cases: Vec<(EventKind, Level, Fields)> = vec![
        (
            EventKind::retry_scheduled(2, ms(100), ms(250)),
            Level::DEBUG,
            vec![
                ("at_ns", "1500"),
                ("attempt", "2"),
                ("delay", "100ms"),
                ("elapsed", "250ms"),
                ("kind", "retry_scheduled"),
                ("message", "retry scheduled"),
                ("name", "db"),
                ("technique", "retry"),
            ],
        ),
        (
            EventKind::retry_succeeded(3, ms(40)),
            Level::DEBUG,
            vec![
                ("at_ns", "1500"),
                ("attempts", "3"),
                ("elapsed", "40ms"),
                ("kind", "retry_succeeded"),
                ("message", "retry succeeded"),
                ("name", "db"),
                ("technique", "retry"),
            ],
        ),
        (
            EventKind::hedge_sent(2, ms(5)),
            Level::DEBUG,
            vec![
                ("at_ns", "1500"),
                ("attempt", "2"),
                ("elapsed", "5ms"),
                ("kind", "hedge_sent"),
                ("message", "hedged attempt sent"),
                ("name", "db"),
                ("technique", "retry"),
            ],
        ),
        (
            EventKind::timed_out(ms(800)),
            Level::WARN,
            vec![
                ("at_ns", "1500"),
                ("kind", "timed_out"),
                ("limit", "800ms"),
                ("message", "timed out"),
                ("name", "db"),
                ("technique", "timeout"),
            ],
        ),
        (
            EventKind::retry_gave_up(4, StopReason::AttemptsExhausted, ms(900)),
            Level::WARN,
            vec![
                ("at_ns", "1500"),
                ("attempts", "4"),
                ("elapsed", "900ms"),
                ("kind", "retry_gave_up"),
                ("message", "retry gave up"),
                ("name", "db"),
                ("reason", "attempts_exhausted"),
                ("technique", "retry"),
            ],
        ),
        (
            EventKind::breaker_transition(CircuitState::Closed, CircuitState::Open),
            Level::WARN,
            vec![
                ("at_ns", "1500"),
                ("from", "closed"),
                ("kind", "breaker_transition"),
                ("message", "circuit breaker opened"),
                ("name", "db"),
                ("technique", "breaker"),
                ("to", "open"),
            ],
        ),
        (
            EventKind::breaker_transition(CircuitState::Open, CircuitState::HalfOpen),
            Level::INFO,
            vec![
                ("at_ns", "1500"),
                ("from", "open"),
                ("kind", "breaker_transition"),
                ("message", "circuit breaker state changed"),
                ("name", "db"),
                ("technique", "breaker"),
                ("to", "half_open"),
            ],
        ),
        (
            EventKind::call_rejected(CircuitState::ForcedOpen),
            Level::DEBUG,
            vec![
                ("at_ns", "1500"),
                ("kind", "call_rejected"),
                ("message", "call rejected by circuit breaker"),
                ("name", "db"),
                ("state", "forced_open"),
                ("technique", "breaker"),
            ],
        ),
        (
            EventKind::shed(3, ShedReason::QueueFull),
            Level::DEBUG,
            vec![
                ("at_ns", "1500"),
                ("kind", "shed"),
                ("message", "request shed"),
                ("name", "db"),
                ("priority", "3"),
                ("reason", "queue_full"),
                ("technique", "shed"),
            ],
        ),
        (
            EventKind::limit_changed(20, 18),
            Level::DEBUG,
            vec![
                ("at_ns", "1500"),
                ("from", "20"),
                ("kind", "limit_changed"),
                ("message", "concurrency limit changed"),
                ("name", "db"),
                ("technique", "shed"),
                ("to", "18"),
            ],
        ),
    ];
    for (kind, level, expected) in cases {
        let captured = emitted(kind);
        assert_eq!(captured.level, level, "{kind:?}");
        assert_eq!(captured.target, "resil::trace", "{kind:?}");
        assert_eq!(fields(&captured), expected, "{kind:?}");
    }
}

#[test]
fn levels_follow_what_the_event_means() {
    use CircuitState::*;
    for (from, to, level) in [
        (Closed, Open, Level::WARN),
        (HalfOpen, Open, Level::WARN),
        (Closed, ForcedOpen, Level::WARN),
        (Open, HalfOpen, Level::INFO),
        (HalfOpen, Closed, Level::INFO),
        (Closed, Disabled, Level::INFO),
    ] {
        let captured = emitted(EventKind::breaker_transition(from, to));
        assert_eq!(captured.level, level, "{from:?} -> {to:?}");
    }
    for (reason, name, level) in [
        (
            StopReason::AttemptsExhausted,
            "attempts_exhausted",
            Level::WARN,
        ),
        (StopReason::Deadline, "deadline", Level::WARN),
        (StopReason::BudgetEmpty, "budget_empty", Level::WARN),
        (StopReason::NotRetryable, "not_retryable", Level::DEBUG),
    ] {
        let captured = emitted(EventKind::retry_gave_up(1, reason, Duration::ZERO));
        assert_eq!(captured.level, level, "{reason:?}");
        assert_eq!(captured.field("reason"), name);
    }
    for (reason, name) in [
        (ShedReason::LimitReached, "limit_reached"),
        (ShedReason::QueueFull, "queue_full"),
        (ShedReason::WaitedTooLong, "waited_too_long"),
        (ShedReason::Throttled, "throttled"),
    ] {
        assert_eq!(emitted(EventKind::shed(0, reason)).field("reason"), name);
    }
    for (state, name) in [
        (Closed, "closed"),
        (Open, "open"),
        (HalfOpen, "half_open"),
        (ForcedOpen, "forced_open"),
        (Disabled, "disabled"),
    ] {
        assert_eq!(
            emitted(EventKind::call_rejected(state)).field("state"),
            name
        );
    }
}

#[test]
fn real_components_report_through_it() {
    let capture = Capture::everything();
    let clock = ManualClock::new();
    with_default(capture.clone(), || {
        // A retry that fails three times: two retries scheduled, one give-up.
        let retry = Retry::builder()
            .name("payments")
            .backoff(
                Backoff::constant(Duration::from_millis(10))
                    .build()
                    .unwrap(),
            )
            .clock(clock.clone())
            .listener(TracingListener)
            .build()
            .unwrap();
        assert!(
            retry
                .run_blocking(&clock, |_| Err::<(), _>("refused"))
                .is_err()
        );

        // A breaker that trips on the first failure, then rejects a call.
        let breaker = CircuitBreaker::builder()
            .name("db")
            .consecutive_failures(1)
            .clock(clock.clone())
            .listener(TracingListener)
            .build()
            .unwrap();
        let _ = breaker.call(|| Err::<(), _>("down"));
        assert!(breaker.call(|| Ok::<_, ()>(())).is_err());

        // A limiter of one, refusing a second, sheddable request.
        let limiter = ConcurrencyLimit::builder(Fixed::try_from(1).unwrap())
            .name("pool")
            .clock(clock.clone())
            .listener(TracingListener)
            .build()
            .unwrap();
        let _held = limiter.try_acquire(Priority::Critical).unwrap();
        assert!(limiter.try_acquire(Priority::Sheddable).is_err());
    });

    let seen: Vec<_> = capture
        .take()
        .into_iter()
        .map(|e| {
            (
                e.level,
                e.field("name").to_owned(),
                e.field("kind").to_owned(),
            )
        })
        .collect();
    let expected = [
        (Level::DEBUG, "payments", "retry_scheduled"),
        (Level::DEBUG, "payments", "retry_scheduled"),
        (Level::WARN, "payments", "retry_gave_up"),
        (Level::WARN, "db", "breaker_transition"),
        (Level::DEBUG, "db", "call_rejected"),
        (Level::DEBUG, "pool", "shed"),
    ]
    .map(|(level, name, kind)| (level, name.to_owned(), kind.to_owned()));
    assert_eq!(seen, expected);
}

#[test]
fn the_retry_events_carry_the_policys_numbers() {
    let capture = Capture::everything();
    let clock = ManualClock::new();
    with_default(capture.clone(), || {
        let retry = Retry::builder()
            .max_attempts(2)
            .backoff(
                Backoff::constant(Duration::from_millis(30))
                    .build()
                    .unwrap(),
            )
            .clock(clock.clone())
            .listener(TracingListener)
            .build()
            .unwrap();
        let _ = retry.run_blocking(&clock, |_| Err::<(), _>("refused"));
    });
    let events = capture.take();
    assert_eq!(events[0].field("attempt"), "1");
    assert_eq!(events[0].field("delay"), "30ms");
    assert_eq!(events[1].field("attempts"), "2");
    assert_eq!(events[1].field("reason"), "attempts_exhausted");
    assert_eq!(events[1].field("name"), "");
}

#[test]
fn is_enabled_says_what_the_subscriber_wants() {
    // No subscriber on this thread: nothing would be recorded.
    with_default(tracing::subscriber::NoSubscriber::default(), || {
        assert!(!TracingListener.is_enabled());
    });
    // Errors only: resil emits nothing at ERROR.
    with_default(Capture::at(&[Level::ERROR]), || {
        assert!(!TracingListener.is_enabled());
    });
    // Any level resil uses is enough, however odd the filter.
    for level in [Level::WARN, Level::INFO, Level::DEBUG] {
        with_default(Capture::at(&[level]), || {
            assert!(TracingListener.is_enabled(), "{level}");
        });
    }
    with_default(Capture::everything(), || {
        assert!(TracingListener.is_enabled());
    });
}

/// Counts the events a component hands to `TracingListener`, and asks it
/// whether to.
struct Counted(std::sync::atomic::AtomicU32);

impl Listener for Counted {
    fn on_event(&self, event: &Event<'_>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        TracingListener.on_event(event);
    }

    fn is_enabled(&self) -> bool {
        TracingListener.is_enabled()
    }
}

#[test]
fn a_disabled_listener_lets_components_skip_events() {
    let handed = |levels: &[Level]| {
        let counted = Arc::new(Counted(Default::default()));
        with_default(Capture::at(levels), || {
            let breaker = CircuitBreaker::builder()
                .consecutive_failures(1)
                .clock(ManualClock::new())
                .listener(Arc::clone(&counted))
                .build()
                .unwrap();
            let _ = breaker.call(|| Err::<(), _>("down"));
            assert!(breaker.call(|| Ok::<_, ()>(())).is_err());
            assert_eq!(breaker.state(), CircuitState::Open);
        });
        counted.0.load(std::sync::atomic::Ordering::Relaxed)
    };
    // Under a subscriber that wants only errors, the breaker trips and
    // rejects without building a single event.
    assert_eq!(handed(&[Level::ERROR]), 0);
    // Under one that wants warnings, it hands over the transition and the
    // rejection.
    assert_eq!(handed(&[Level::WARN]), 2);
}
