//! Every `ConfigError` that `BackoffBuilder::build()` returns, the accepted edges, and the public validators.

use core::time::Duration;

use resil_core::error::{check_at_least, check_non_zero, check_ordered, check_rate};
use resil_core::{Backoff, BackoffBuilder, ConfigError, Jitter, Value};

const AT_LEAST_ONE: &str = "a finite number of at least 1";
const FINITE: &str = "a finite number";
const NON_ZERO: &str = "a duration greater than zero";
const RATE: &str = "a rate in (0, 1]";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn rejected(builder: BackoffBuilder) -> ConfigError {
    match builder.build() {
        Ok(backoff) => panic!("{builder:?} was accepted as {backoff:?}"),
        Err(e) => e,
    }
}

fn invalid(field: &'static str, value: impl Into<Value>, expected: &'static str) -> ConfigError {
    ConfigError::Invalid {
        field,
        value: value.into(),
        expected,
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

// The exponential factor.

#[test]
fn nan_factor_is_rejected_as_not_finite() {
    let e = rejected(Backoff::exponential(ms(10), f64::NAN));
    assert_eq!(e.field(), "factor");
    match e {
        ConfigError::Invalid {
            field: "factor",
            value: Value::Float(x),
            expected: FINITE,
        } => assert!(x.is_nan(), "carried {x}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "invalid factor: got NaN, expected a finite number"
    );
    assert_styled(&e);
}

#[test]
fn infinite_factors_are_rejected_as_not_finite() {
    let e = rejected(Backoff::exponential(ms(10), f64::INFINITY));
    assert_eq!(e, invalid("factor", f64::INFINITY, FINITE));
    assert_eq!(
        e.to_string(),
        "invalid factor: got inf, expected a finite number"
    );
    let e = rejected(Backoff::exponential(ms(10), f64::NEG_INFINITY));
    assert_eq!(e, invalid("factor", f64::NEG_INFINITY, FINITE));
    assert_eq!(
        e.to_string(),
        "invalid factor: got -inf, expected a finite number"
    );
    assert_styled(&e);
}

#[test]
fn factors_below_one_are_rejected() {
    for (factor, text) in [
        (
            0.0,
            "invalid factor: got 0.0, expected a finite number of at least 1",
        ),
        (
            -0.0,
            "invalid factor: got -0.0, expected a finite number of at least 1",
        ),
        (
            -1.0,
            "invalid factor: got -1.0, expected a finite number of at least 1",
        ),
        (
            0.999,
            "invalid factor: got 0.999, expected a finite number of at least 1",
        ),
        (
            1.0 - f64::EPSILON / 2.0,
            "invalid factor: got 0.9999999999999999, expected a finite number of at least 1",
        ),
    ] {
        let e = rejected(Backoff::exponential(ms(10), factor));
        assert_eq!(e, invalid("factor", factor, AT_LEAST_ONE));
        assert_eq!(e.field(), "factor");
        assert_eq!(e.to_string(), text);
        assert_styled(&e);
    }
    let e = rejected(Backoff::exponential(ms(10), f64::MIN));
    assert_eq!(e, invalid("factor", f64::MIN, AT_LEAST_ONE));
}

#[test]
fn factors_of_one_and_above_are_accepted() {
    for factor in [1.0, 1.0 + f64::EPSILON, 1.5, 2.0, 1e300, f64::MAX] {
        let backoff = Backoff::exponential(ms(10), factor).build();
        assert!(backoff.is_ok(), "factor {factor:e}: {backoff:?}");
    }
    // Exactly 1 is a constant schedule, not an error.
    let backoff = Backoff::exponential(ms(10), 1.0).build().unwrap();
    assert_eq!(backoff.delay(1_000), ms(10));
}

// Zero durations.

#[test]
fn exponential_base_zero_is_rejected() {
    let e = rejected(Backoff::exponential(Duration::ZERO, 2.0));
    assert_eq!(e, invalid("base", Duration::ZERO, NON_ZERO));
    assert_eq!(e.field(), "base");
    assert_eq!(
        e.to_string(),
        "invalid base: got 0ns, expected a duration greater than zero"
    );
    assert_styled(&e);
}

#[test]
fn exponential_base_is_checked_before_the_factor() {
    let e = rejected(Backoff::exponential(Duration::ZERO, f64::NAN));
    assert_eq!(e.field(), "base");
}

#[test]
fn fibonacci_base_zero_is_rejected() {
    let e = rejected(Backoff::fibonacci(Duration::ZERO));
    assert_eq!(e, invalid("base", Duration::ZERO, NON_ZERO));
    assert_eq!(e.field(), "base");
}

#[test]
fn decorrelated_base_zero_is_rejected() {
    let expected = invalid("base", Duration::ZERO, NON_ZERO);
    assert_eq!(rejected(Backoff::decorrelated(Duration::ZERO)), expected);
    assert_eq!(
        rejected(Backoff::constant(Duration::ZERO).jitter(Jitter::Decorrelated)),
        expected
    );
    // A zero linear base is fine on its own, but not with decorrelated
    // jitter, which grows from the base.
    assert_eq!(
        rejected(Backoff::linear(Duration::ZERO, ms(1)).jitter(Jitter::Decorrelated)),
        expected
    );
    assert_eq!(
        rejected(Backoff::decorrelated(Duration::ZERO).max_delay(ms(1))),
        expected
    );
}

#[test]
fn linear_step_zero_is_rejected() {
    let e = rejected(Backoff::linear(ms(10), Duration::ZERO));
    assert_eq!(e, invalid("step", Duration::ZERO, NON_ZERO));
    assert_eq!(e.field(), "step");
    assert_eq!(
        e.to_string(),
        "invalid step: got 0ns, expected a duration greater than zero"
    );
    assert_styled(&e);
}

#[test]
fn zero_delays_are_accepted_where_they_make_sense() {
    let backoff = Backoff::constant(Duration::ZERO).build().unwrap();
    assert_eq!(backoff.delay(0), Duration::ZERO);
    for mode in [Jitter::None, Jitter::Full, Jitter::Equal] {
        let backoff = Backoff::constant(Duration::ZERO)
            .max_delay(Duration::ZERO)
            .jitter(mode)
            .build()
            .unwrap();
        assert!(backoff.iter_seeded(1).take(5).all(|d| d.is_zero()));
    }
    // A linear schedule may start at zero: only its step must be non-zero.
    let backoff = Backoff::linear(Duration::ZERO, ms(5)).build().unwrap();
    assert_eq!(backoff.delay(0), Duration::ZERO);
    assert_eq!(backoff.delay(2), ms(10));
}

// The cap.

#[test]
fn max_delay_below_base_is_rejected_for_every_kind() {
    let builders = [
        Backoff::constant(ms(2_000)),
        Backoff::linear(ms(2_000), ms(1)),
        Backoff::exponential(ms(2_000), 2.0),
        Backoff::fibonacci(ms(2_000)),
        Backoff::decorrelated(ms(2_000)),
    ];
    for builder in builders {
        let e = rejected(builder.max_delay(ms(1_000)));
        assert_eq!(
            e,
            ConfigError::MinAboveMax {
                min_field: "base",
                min: Value::Duration(ms(2_000)),
                max_field: "max_delay",
                max: Value::Duration(ms(1_000)),
            },
            "{builder:?}"
        );
        assert_eq!(e.field(), "base");
        assert_eq!(e.to_string(), "base (2s) must not exceed max_delay (1s)");
        assert_styled(&e);
    }
}

#[test]
fn max_delay_one_nanosecond_below_base_is_rejected() {
    let base = Duration::from_micros(150);
    let e = rejected(Backoff::constant(base).max_delay(base - Duration::from_nanos(1)));
    assert_eq!(
        e.to_string(),
        "base (150µs) must not exceed max_delay (149.999µs)"
    );
    let e = rejected(Backoff::constant(Duration::MAX).max_delay(Duration::ZERO));
    assert_eq!(
        e.to_string(),
        "base (18446744073709551615.999999999s) must not exceed max_delay (0ns)"
    );
}

#[test]
fn max_delay_equal_to_base_is_accepted() {
    for base in [Duration::from_nanos(1), ms(10), Duration::MAX] {
        let backoff = Backoff::exponential(base, 2.0)
            .max_delay(base)
            .build()
            .unwrap();
        assert_eq!(backoff.max_delay(), base);
        assert_eq!(backoff.delay(u32::MAX), base);
    }
}

#[test]
fn factor_is_checked_before_the_cap() {
    let e = rejected(Backoff::exponential(ms(10), 0.5).max_delay(ms(1)));
    assert_eq!(e.field(), "factor");
    let e = rejected(Backoff::linear(ms(10), Duration::ZERO).max_delay(ms(1)));
    assert_eq!(e.field(), "step");
}

// The public validators.

#[test]
fn check_at_least_accepts_its_minimum_and_above() {
    assert_eq!(check_at_least("factor", 1.0, 1.0, AT_LEAST_ONE), Ok(1.0));
    assert_eq!(check_at_least("factor", 7.5, 1.0, AT_LEAST_ONE), Ok(7.5));
    assert_eq!(
        check_at_least("factor", f64::MAX, 1.0, AT_LEAST_ONE),
        Ok(f64::MAX)
    );
    // Zero's two signs compare equal.
    assert_eq!(check_at_least("offset", -0.0, 0.0, "at least 0"), Ok(-0.0));
}

#[test]
fn check_at_least_rejects_just_below_its_minimum() {
    let below = 1.0 - f64::EPSILON / 2.0;
    let e = check_at_least("factor", below, 1.0, "at least 1").unwrap_err();
    assert_eq!(e, invalid("factor", below, "at least 1"));
    assert_eq!(
        e.to_string(),
        "invalid factor: got 0.9999999999999999, expected at least 1"
    );
}

#[test]
fn check_at_least_reports_non_finite_values_whatever_it_expects() {
    for x in [f64::INFINITY, f64::NEG_INFINITY] {
        let e = check_at_least("weight", x, 1.0, "at least 1").unwrap_err();
        assert_eq!(e, invalid("weight", x, FINITE));
    }
    let e = check_at_least("weight", f64::NAN, 1.0, "at least 1").unwrap_err();
    assert!(matches!(
        e,
        ConfigError::Invalid { field: "weight", value: Value::Float(x), expected: FINITE } if x.is_nan()
    ));
    // Infinity is refused even when the minimum is itself infinite.
    assert!(check_at_least("weight", f64::INFINITY, f64::INFINITY, "∞").is_err());
}

#[test]
fn check_rate_accepts_exactly_the_half_open_unit_interval() {
    let smallest = f64::from_bits(1);
    for rate in [
        smallest,
        f64::MIN_POSITIVE,
        0.5,
        1.0 - f64::EPSILON / 2.0,
        1.0,
    ] {
        assert_eq!(check_rate("failure_rate", rate), Ok(rate));
    }
    for rate in [
        0.0,
        -0.0,
        -smallest,
        1.0 + f64::EPSILON,
        2.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        let e = check_rate("failure_rate", rate).unwrap_err();
        assert_eq!(e, invalid("failure_rate", rate, RATE), "rate {rate}");
    }
    let e = check_rate("failure_rate", f64::NAN).unwrap_err();
    assert!(matches!(
        e,
        ConfigError::Invalid { field: "failure_rate", value: Value::Float(x), expected: RATE } if x.is_nan()
    ));
    assert_eq!(
        check_rate("failure_rate", 0.0).unwrap_err().to_string(),
        "invalid failure_rate: got 0.0, expected a rate in (0, 1]"
    );
}

#[test]
fn check_non_zero_rejects_only_zero() {
    for d in [Duration::from_nanos(1), ms(1), Duration::MAX] {
        assert_eq!(check_non_zero("window", d), Ok(d));
    }
    let e = check_non_zero("window", Duration::ZERO).unwrap_err();
    assert_eq!(e, invalid("window", Duration::ZERO, NON_ZERO));
    assert_eq!(
        e.to_string(),
        "invalid window: got 0ns, expected a duration greater than zero"
    );
}

#[test]
fn check_ordered_accepts_equal_bounds_and_rejects_inverted_ones() {
    assert_eq!(check_ordered("min", ms(5), "max", ms(5)), Ok(()));
    assert_eq!(check_ordered("min", ms(4), "max", ms(5)), Ok(()));
    assert_eq!(check_ordered("lo", 3u32, "hi", 3u32), Ok(()));
    assert_eq!(check_ordered("lo", 0.25, "hi", 0.25), Ok(()));

    let e = check_ordered("min", ms(5) + Duration::from_nanos(1), "max", ms(5)).unwrap_err();
    assert_eq!(e.field(), "min");
    assert_eq!(e.to_string(), "min (5.000001ms) must not exceed max (5ms)");

    let e = check_ordered("min_permits", 3u32, "max_permits", 2u32).unwrap_err();
    assert_eq!(
        e,
        ConfigError::MinAboveMax {
            min_field: "min_permits",
            min: Value::Count(3),
            max_field: "max_permits",
            max: Value::Count(2),
        }
    );
    assert_eq!(
        e.to_string(),
        "min_permits (3) must not exceed max_permits (2)"
    );

    let e = check_ordered("lo", u64::MAX, "hi", 0u64).unwrap_err();
    assert_eq!(
        e.to_string(),
        "lo (18446744073709551615) must not exceed hi (0)"
    );
    let e = check_ordered("lo", 2usize, "hi", 1usize).unwrap_err();
    assert_eq!(e.field(), "lo");
    let e = check_ordered("min_rate", 0.5, "max_rate", 0.25).unwrap_err();
    assert_eq!(
        e.to_string(),
        "min_rate (0.5) must not exceed max_rate (0.25)"
    );
    assert_styled(&e);
}

// The error type itself.

#[test]
fn config_error_is_a_thread_safe_static_error() {
    fn assert_error<E: core::error::Error + Send + Sync + 'static>() {}
    assert_error::<ConfigError>();

    let e = rejected(Backoff::linear(ms(1), Duration::ZERO));
    let boxed: Box<dyn core::error::Error + Send + Sync> = Box::new(e);
    assert!(boxed.source().is_none());
    assert_eq!(boxed.to_string(), e.to_string());
    assert_eq!(boxed.downcast_ref::<ConfigError>(), Some(&e));
}

#[test]
fn invalid_builds_the_invalid_variant() {
    assert_eq!(
        ConfigError::invalid("attempts", 0u32, "at least 1"),
        invalid("attempts", Value::Count(0), "at least 1")
    );
    let e = ConfigError::invalid("attempts", 0u32, "at least 1");
    assert_eq!(e.field(), "attempts");
    assert_eq!(
        e.to_string(),
        "invalid attempts: got 0, expected at least 1"
    );
}
