//! Every `ConfigError` that `BreakerBuilder::build()` returns, naming its
//! field; the edges it accepts; and the documented defaults, observed
//! through the breaker's behaviour.

mod support;

use std::time::Duration;

use resil_breaker::{BreakerBuilder, CircuitBreaker, SlidingWindow};
use resil_core::{CircuitState, ConfigError, ManualClock, Outcome, Value};

use support::{call_taking, fail, ms, ns, on, rejection, secs, succeed};

const RATE: &str = "a rate in (0, 1]";
const NON_ZERO: &str = "a duration greater than zero";

fn builder() -> BreakerBuilder<ManualClock> {
    on(&ManualClock::new())
}

fn rejected(builder: BreakerBuilder<ManualClock>) -> ConfigError {
    match builder.build() {
        Ok(breaker) => panic!("accepted as {breaker:?}"),
        Err(e) => e,
    }
}

/// Asserts the house style for messages: lowercase, no trailing period.
fn assert_styled(e: &ConfigError) {
    let text = e.to_string();
    assert!(
        text.starts_with(|c: char| c.is_lowercase()),
        "message starts in upper case: {text}"
    );
    assert!(!text.ends_with('.'), "message ends with a period: {text}");
}

fn invalid(field: &'static str, value: impl Into<Value>, expected: &'static str) -> ConfigError {
    ConfigError::invalid(field, value, expected)
}

#[test]
fn a_failure_rate_outside_zero_to_one_is_rejected() {
    for rate in [0.0, -0.5, 1.0 + f64::EPSILON, 2.0, f64::INFINITY] {
        let e = rejected(builder().failure_rate(rate));
        assert_eq!(e, invalid("failure_rate", rate, RATE), "{rate}");
        assert_styled(&e);
    }
    let e = rejected(builder().failure_rate(f64::NAN));
    assert_eq!(e.field(), "failure_rate");
    assert_eq!(
        e.to_string(),
        "invalid failure_rate: got NaN, expected a rate in (0, 1]"
    );
}

#[test]
fn a_slow_call_rate_outside_zero_to_one_is_rejected() {
    for rate in [0.0, -1.0, 1.5, f64::NAN] {
        let e = rejected(builder().slow_calls(rate, secs(1)));
        assert_eq!(e.field(), "slow_call_rate", "{rate}");
        assert!(e.to_string().ends_with(RATE));
        assert_styled(&e);
    }
}

#[test]
fn a_zero_slow_call_duration_is_rejected() {
    let e = rejected(builder().slow_calls(0.5, Duration::ZERO));
    assert_eq!(e, invalid("slow_call_duration", Duration::ZERO, NON_ZERO));
    assert_eq!(
        e.to_string(),
        "invalid slow_call_duration: got 0ns, expected a duration greater than zero"
    );
}

#[test]
fn zero_counts_are_rejected() {
    type Set = fn(BreakerBuilder<ManualClock>) -> BreakerBuilder<ManualClock>;
    let cases: [(&str, Set); 3] = [
        ("consecutive_failures", |b| b.consecutive_failures(0)),
        ("minimum_calls", |b| b.minimum_calls(0)),
        ("half_open_permits", |b| b.half_open_permits(0)),
    ];
    for (field, set) in cases {
        let e = rejected(set(builder()));
        assert_eq!(e, invalid(field, 0u32, "at least 1"));
        assert_eq!(
            e.to_string(),
            format!("invalid {field}: got 0, expected at least 1")
        );
    }
}

#[test]
fn more_than_a_thousand_half_open_permits_are_rejected() {
    let e = rejected(builder().half_open_permits(1001));
    assert_eq!(e, invalid("half_open_permits", 1001u32, "at most 1000"));
    assert_styled(&e);
}

#[test]
fn an_empty_count_window_is_rejected() {
    let e = rejected(builder().window(SlidingWindow::count(0)).minimum_calls(1));
    assert_eq!(e, invalid("window size", 0u32, "at least 1"));
}

#[test]
fn a_count_window_above_the_maximum_is_rejected() {
    let e = rejected(builder().window(SlidingWindow::count(100_001)));
    assert_eq!(e.field(), "window size");
    assert_eq!(
        e,
        invalid(
            "window size",
            100_001u32,
            "at most the largest count window (see SlidingWindow)"
        )
    );
    assert_styled(&e);
}

#[test]
fn a_count_window_smaller_than_minimum_calls_is_rejected() {
    let e = rejected(builder().window(SlidingWindow::count(10)).minimum_calls(11));
    assert_eq!(
        e,
        ConfigError::MinAboveMax {
            min_field: "minimum_calls",
            min: Value::Count(11),
            max_field: "window size",
            max: Value::Count(10),
        }
    );
    assert_eq!(e.field(), "minimum_calls");
    assert_eq!(
        e.to_string(),
        "minimum_calls (11) must not exceed window size (10)"
    );
    // Unset, the minimum is the smaller of 100 and the window's size.
    let breaker = builder().window(SlidingWindow::count(10)).build().unwrap();
    for _ in 0..9 {
        let _ = breaker.call(|| Err::<(), _>("down"));
    }
    assert_eq!(
        breaker.state(),
        resil_core::CircuitState::Closed,
        "9 calls < 10"
    );
    let _ = breaker.call(|| Err::<(), _>("down"));
    assert_eq!(breaker.state(), resil_core::CircuitState::Open);
}

#[test]
fn a_zero_length_time_window_is_rejected() {
    let e = rejected(builder().window(SlidingWindow::time(Duration::ZERO, 10)));
    assert_eq!(e, invalid("window length", Duration::ZERO, NON_ZERO));
}

#[test]
fn a_time_window_without_buckets_is_rejected() {
    let e = rejected(builder().window(SlidingWindow::time(secs(10), 0)));
    assert_eq!(e, invalid("window buckets", 0u32, "at least 1"));
}

#[test]
fn a_time_window_with_more_than_a_thousand_buckets_is_rejected() {
    let e = rejected(builder().window(SlidingWindow::time(secs(10), 1001)));
    assert_eq!(e, invalid("window buckets", 1001u32, "at most 1000"));
}

#[test]
fn a_time_window_with_buckets_shorter_than_a_nanosecond_is_rejected() {
    let e = rejected(builder().window(SlidingWindow::time(ns(999), 1000)));
    assert_eq!(
        e,
        invalid(
            "window length",
            ns(999),
            "at least one nanosecond per bucket"
        )
    );
    assert_eq!(
        e.to_string(),
        "invalid window length: got 999ns, expected at least one nanosecond per bucket"
    );
}

#[test]
fn the_edges_are_accepted() {
    let edges: [(&str, BreakerBuilder<ManualClock>); 12] = [
        ("failure rate 1.0", builder().failure_rate(1.0)),
        ("slow-call rate 1.0", builder().slow_calls(1.0, ns(1))),
        (
            "a tiny failure rate",
            builder().failure_rate(f64::MIN_POSITIVE),
        ),
        ("one consecutive failure", builder().consecutive_failures(1)),
        (
            "minimum_calls equal to the window",
            builder().window(SlidingWindow::count(7)).minimum_calls(7),
        ),
        (
            "a window of one call",
            builder().window(SlidingWindow::count(1)).minimum_calls(1),
        ),
        (
            "the largest count window",
            builder()
                .window(SlidingWindow::count(100_000))
                .minimum_calls(100_000),
        ),
        ("a thousand permits", builder().half_open_permits(1000)),
        (
            "a thousand buckets of a nanosecond",
            builder().window(SlidingWindow::time(ns(1000), 1000)),
        ),
        (
            "a time window with any minimum",
            builder()
                .window(SlidingWindow::time(secs(1), 1))
                .minimum_calls(u32::MAX),
        ),
        ("no wait", builder().wait(Duration::ZERO)),
        (
            "the longest time window",
            builder().window(SlidingWindow::time(Duration::MAX, 1000)),
        ),
    ];
    for (name, builder) in edges {
        if let Err(e) = builder.build() {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn the_default_clock_is_the_system_clock() {
    let breaker: CircuitBreaker<resil_core::SystemClock> =
        CircuitBreaker::builder().build().unwrap();
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.name(), "");
}

#[test]
fn by_default_the_rate_waits_for_100_calls() {
    let clock = ManualClock::new();
    let breaker = on(&clock).build().unwrap();
    for _ in 0..99 {
        fail(&breaker);
    }
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "99 failures in a row: no consecutive trip, under the minimum"
    );
    fail(&breaker);
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn by_default_half_the_last_100_calls_must_fail() {
    let clock = ManualClock::new();
    let breaker = on(&clock).build().unwrap();
    for _ in 0..51 {
        succeed(&breaker);
    }
    for _ in 0..49 {
        fail(&breaker);
    }
    assert_eq!(breaker.state(), CircuitState::Closed, "49 of 100");
    fail(&breaker);
    assert_eq!(breaker.state(), CircuitState::Open, "50 of the last 100");
}

#[test]
fn by_default_it_waits_60s_and_admits_10_trials() {
    let clock = ManualClock::new();
    let breaker = on(&clock).build().unwrap();
    for _ in 0..100 {
        fail(&breaker);
    }
    assert_eq!(rejection(&breaker).retry_after(), Some(secs(60)));
    clock.advance(secs(60));
    let trials: Vec<_> = (0..10).map(|_| breaker.try_acquire().unwrap()).collect();
    assert_eq!(rejection(&breaker).state(), CircuitState::HalfOpen);
    for trial in trials {
        trial.failure();
    }
    assert_eq!(
        rejection(&breaker).retry_after(),
        Some(secs(60)),
        "the same wait after every trip"
    );
}

#[test]
fn by_default_slow_calls_are_not_detected() {
    let clock = ManualClock::new();
    let breaker = on(&clock).build().unwrap();
    for _ in 0..100 {
        call_taking(&breaker, &clock, secs(3600), Outcome::Success);
    }
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.metrics().slow_calls, 0);
}

#[test]
fn slow_calls_alone_keep_the_default_failure_rate() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(2))
        .minimum_calls(2)
        .slow_calls(1.0, ms(10))
        .build()
        .unwrap();
    succeed(&breaker);
    fail(&breaker);
    assert_eq!(
        breaker.state(),
        CircuitState::Open,
        "1 of 2 is the default 50%"
    );
}

#[test]
fn a_zero_half_open_timeout_is_rejected() {
    let e = rejected(builder().half_open_timeout(Duration::ZERO));
    assert_eq!(e.field(), "half_open_timeout");
}
