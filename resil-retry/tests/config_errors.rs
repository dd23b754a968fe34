//! Every `ConfigError` that `RetryBuilder::build()` returns, the edges it
//! accepts, and the documented defaults.

use std::time::Duration;

use resil_core::{Backoff, ConfigError, Jitter, ManualClock, NoopListener, Value};
use resil_retry::{NoBudget, Retry, RetryBuilder};

const NON_ZERO: &str = "a duration greater than zero";

fn rejected<C: resil_core::Clock + std::fmt::Debug>(builder: RetryBuilder<C>) -> ConfigError {
    match builder.build() {
        Ok(retry) => panic!("accepted as {retry:?}"),
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

fn builder() -> RetryBuilder<ManualClock> {
    Retry::builder().clock(ManualClock::new())
}

#[test]
fn zero_max_attempts_is_rejected() {
    let e = rejected(builder().max_attempts(0));
    assert_eq!(e.field(), "max_attempts");
    assert_eq!(
        e,
        ConfigError::Invalid {
            field: "max_attempts",
            value: Value::Count(0),
            expected: "at least 1 (the first attempt)",
        }
    );
    assert_eq!(
        e.to_string(),
        "invalid max_attempts: got 0, expected at least 1 (the first attempt)"
    );
    assert_styled(&e);
}

#[test]
fn a_zero_max_elapsed_is_rejected() {
    let e = rejected(builder().max_elapsed(Duration::ZERO));
    assert_eq!(
        e,
        ConfigError::Invalid {
            field: "max_elapsed",
            value: Value::Duration(Duration::ZERO),
            expected: NON_ZERO,
        }
    );
    assert_eq!(
        e.to_string(),
        "invalid max_elapsed: got 0ns, expected a duration greater than zero"
    );
    assert_styled(&e);
}

#[test]
fn a_zero_max_hint_is_rejected() {
    let e = rejected(builder().max_hint(Duration::ZERO));
    assert_eq!(
        e,
        ConfigError::Invalid {
            field: "max_hint",
            value: Value::Duration(Duration::ZERO),
            expected: NON_ZERO,
        }
    );
    assert_eq!(
        e.to_string(),
        "invalid max_hint: got 0ns, expected a duration greater than zero"
    );
    assert_styled(&e);
}

#[test]
fn the_first_invalid_field_is_reported() {
    let e = rejected(
        builder()
            .max_attempts(0)
            .max_elapsed(Duration::ZERO)
            .max_hint(Duration::ZERO),
    );
    assert_eq!(e.field(), "max_attempts");
    let e = rejected(
        builder()
            .max_elapsed(Duration::ZERO)
            .max_hint(Duration::ZERO),
    );
    assert_eq!(e.field(), "max_elapsed");
}

#[test]
fn a_later_valid_value_replaces_an_invalid_one() {
    let retry = builder()
        .max_attempts(0)
        .max_attempts(2)
        .max_hint(Duration::ZERO)
        .max_hint(Duration::from_secs(1))
        .build()
        .unwrap();
    assert_eq!(retry.max_attempts(), 2);
}

#[test]
fn the_edges_are_accepted() {
    let retry = builder()
        .max_attempts(1)
        .max_elapsed(Duration::from_nanos(1))
        .max_hint(Duration::from_nanos(1))
        .build()
        .unwrap();
    assert_eq!(retry.max_attempts(), 1);
    assert_eq!(retry.max_elapsed(), Some(Duration::from_nanos(1)));

    let retry = builder()
        .max_attempts(u32::MAX)
        .max_elapsed(Duration::MAX)
        .max_hint(Duration::MAX)
        .build()
        .unwrap();
    assert_eq!(retry.max_attempts(), u32::MAX);
    assert_eq!(retry.max_elapsed(), Some(Duration::MAX));

    // A zero constant backoff (retry at once) is a valid backoff.
    let retry = builder()
        .backoff(Backoff::constant(Duration::ZERO).build().unwrap())
        .build()
        .unwrap();
    assert_eq!(retry.backoff().delay(0), Duration::ZERO);
}

#[test]
fn the_defaults_are_as_documented() {
    let retry = Retry::builder().build().unwrap();
    assert_eq!(retry.max_attempts(), 3);
    assert_eq!(retry.max_elapsed(), None);
    let expected = Backoff::exponential(Duration::from_millis(100), 2.0)
        .max_delay(Duration::from_secs(10))
        .jitter(Jitter::Full)
        .build()
        .unwrap();
    assert_eq!(retry.backoff(), &expected);
    assert_eq!(retry.backoff(), &Backoff::default());
    assert_eq!(retry.budget(), &NoBudget);
    let _: &resil_core::SystemClock = retry.clock();
    let _: Retry<resil_core::SystemClock, NoBudget, NoopListener> = retry;
}

#[test]
fn the_getters_return_what_was_set() {
    let clock = ManualClock::new();
    let backoff = Backoff::fibonacci(Duration::from_millis(5))
        .build()
        .unwrap();
    let retry = Retry::builder()
        .clock(clock.clone())
        .backoff(backoff)
        .max_attempts(9)
        .max_elapsed(Duration::from_secs(42))
        .build()
        .unwrap();
    assert_eq!(retry.backoff(), &backoff);
    assert_eq!(retry.max_attempts(), 9);
    assert_eq!(retry.max_elapsed(), Some(Duration::from_secs(42)));
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        resil_core::Clock::now(retry.clock()),
        resil_core::Clock::now(&clock),
        "the policy holds a clone of the same clock"
    );
}

#[test]
fn options_set_before_the_clock_budget_or_listener_are_kept() {
    // `clock`, `budget` and `listener` change the builder's type; the knobs
    // set before them must survive the change.
    let clock = ManualClock::new();
    let retry = Retry::builder()
        .max_attempts(7)
        .max_elapsed(Duration::from_secs(50))
        .backoff(Backoff::constant(Duration::from_secs(2)).build().unwrap())
        .max_hint(Duration::from_secs(3))
        .budget(NoBudget)
        .listener(NoopListener)
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(retry.max_attempts(), 7);
    assert_eq!(retry.max_elapsed(), Some(Duration::from_secs(50)));
    assert_eq!(retry.backoff().delay(3), Duration::from_secs(2));
    // `max_hint` has no getter: an hour's hint is cut to the 3 s set above.
    let err = retry
        .call_blocking(|_| Err::<(), _>(()))
        .hint(|_| Some(Duration::from_secs(3600)))
        .run(&clock)
        .unwrap_err();
    assert_eq!(err.attempts(), 7);
    assert_eq!(err.elapsed(), Duration::from_secs(6 * 3));
}
