//! Every `ConfigError` the builders of this crate return, the edges they
//! accept, and the documented defaults.

use std::time::Duration;

use resil_core::{ConfigError, ManualClock, Value};
use resil_shed::{AdaptiveThrottle, Aimd, Fixed, Gradient2, Limit, Vegas};

/// Asserts the house style for messages: lowercase, no trailing period.
fn assert_styled(e: &ConfigError) {
    let text = e.to_string();
    assert!(
        text.starts_with(|c: char| c.is_lowercase()),
        "message starts in upper case: {text}"
    );
    assert!(!text.ends_with('.'), "message ends with a period: {text}");
}

/// `result` is an error naming `field`.
#[track_caller]
fn rejects<T: std::fmt::Debug>(result: Result<T, ConfigError>, field: &str) -> ConfigError {
    let e = result.expect_err("accepted");
    assert_eq!(e.field(), field, "{e}");
    assert_styled(&e);
    e
}

#[test]
fn bounds_must_be_ordered_and_at_least_one() {
    // The same checks, in the same order, for every adaptive limit.
    fn check(build: impl Fn(u32, u32, u32) -> Result<u32, ConfigError>) {
        let e = rejects(build(0, 0, 10), "min");
        assert_eq!(e.to_string(), "invalid min: got 0, expected at least 1");
        let e = rejects(build(5, 4, 10), "min");
        assert_eq!(
            e,
            ConfigError::MinAboveMax {
                min_field: "min",
                min: Value::Count(5),
                max_field: "initial",
                max: Value::Count(4),
            }
        );
        let e = rejects(build(1, 11, 10), "initial");
        assert_eq!(e.to_string(), "initial (11) must not exceed max (10)");
        assert_eq!(build(1, 1, 1), Ok(1));
        assert_eq!(build(7, 9, u32::MAX), Ok(9));
    }
    check(|min, initial, max| {
        let limit = Aimd::builder().min(min).initial(initial).max(max);
        limit.build().map(|l| l.limit())
    });
    check(|min, initial, max| {
        let limit = Gradient2::builder().min(min).initial(initial).max(max);
        limit.build().map(|l| l.limit())
    });
    check(|min, initial, max| {
        let limit = Vegas::builder().min(min).initial(initial).max(max);
        limit.build().map(|l| l.limit())
    });
}

#[test]
fn fixed_rejects_zero() {
    let e = rejects(Fixed::try_from(0), "limit");
    assert_eq!(e.to_string(), "invalid limit: got 0, expected at least 1");
    assert_eq!(Fixed::try_from(u32::MAX).unwrap().limit(), u32::MAX);
}

#[test]
fn backoff_ratios_must_be_in_half_to_one() {
    for bad in [0.0, 0.499, 1.0, 2.0, -0.9, f64::NAN, f64::INFINITY] {
        let e = rejects(Aimd::builder().backoff_ratio(bad).build(), "backoff_ratio");
        // Compared as text: a NaN is not equal to itself.
        let expected = ConfigError::invalid("backoff_ratio", bad, "a ratio in [0.5, 1)");
        assert_eq!(e.to_string(), expected.to_string());
        rejects(Vegas::builder().backoff_ratio(bad).build(), "backoff_ratio");
    }
    for ok in [0.5, 0.9, 0.999] {
        assert!(Aimd::builder().backoff_ratio(ok).build().is_ok());
        assert!(Vegas::builder().backoff_ratio(ok).build().is_ok());
    }
}

#[test]
fn aimd_rejects_a_zero_timeout_and_a_bad_increase() {
    let e = rejects(Aimd::builder().timeout(Duration::ZERO).build(), "timeout");
    assert_eq!(
        e.to_string(),
        "invalid timeout: got 0ns, expected a duration greater than zero"
    );
    assert!(Aimd::builder().timeout(Duration::MAX).build().is_ok());
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        rejects(Aimd::builder().increase(bad).build(), "increase");
    }
    assert!(Aimd::builder().increase(f64::MIN_POSITIVE).build().is_ok());
}

#[test]
fn gradient2_rejects_each_bad_knob() {
    let e = rejects(Gradient2::builder().tolerance(0.99).build(), "tolerance");
    assert_eq!(
        e.to_string(),
        "invalid tolerance: got 0.99, expected at least 1"
    );
    let e = rejects(
        Gradient2::builder().tolerance(f64::NAN).build(),
        "tolerance",
    );
    assert_eq!(
        e.to_string(),
        "invalid tolerance: got NaN, expected a finite number"
    );
    rejects(
        Gradient2::builder().tolerance(f64::INFINITY).build(),
        "tolerance",
    );
    for bad in [0.0, 1.01, -0.2, f64::NAN] {
        rejects(Gradient2::builder().smoothing(bad).build(), "smoothing");
    }
    let e = rejects(Gradient2::builder().queue_size(0).build(), "queue_size");
    assert_eq!(
        e.to_string(),
        "invalid queue_size: got 0, expected at least 1"
    );
    rejects(Gradient2::builder().long_window(0).build(), "long_window");
    rejects(
        Gradient2::builder().probe_multiplier(0).build(),
        "probe_multiplier",
    );
    let edges = Gradient2::builder()
        .tolerance(1.0)
        .smoothing(1.0)
        .queue_size(1)
        .long_window(1)
        .probe_multiplier(1)
        .build();
    assert!(edges.is_ok());
}

#[test]
fn vegas_rejects_each_bad_knob() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        rejects(Vegas::builder().alpha(bad).build(), "alpha");
    }
    for bad in [f64::NAN, f64::INFINITY] {
        rejects(Vegas::builder().beta(bad).build(), "beta");
    }
    let e = rejects(Vegas::builder().alpha(4.0).beta(3.0).build(), "alpha");
    assert_eq!(e.to_string(), "alpha (4.0) must not exceed beta (3.0)");
    rejects(
        Vegas::builder().probe_multiplier(0).build(),
        "probe_multiplier",
    );
    assert!(Vegas::builder().alpha(2.0).beta(2.0).build().is_ok());
    assert!(Vegas::builder().alpha(f64::MIN_POSITIVE).build().is_ok());
}

#[test]
fn the_throttle_rejects_each_bad_knob() {
    let builder = || AdaptiveThrottle::builder().clock(ManualClock::new());
    for bad in [0.0, 0.999, -2.0] {
        let e = rejects(builder().k(bad).build(), "k");
        assert_eq!(e, ConfigError::invalid("k", bad, "at least 1"));
    }
    for bad in [f64::NAN, f64::INFINITY] {
        let e = rejects(builder().k(bad).build(), "k");
        let expected = ConfigError::invalid("k", bad, "a finite number");
        assert_eq!(e.to_string(), expected.to_string());
    }
    let e = rejects(builder().window(Duration::ZERO).build(), "window");
    assert_eq!(
        e.to_string(),
        "invalid window: got 0ns, expected a duration greater than zero"
    );
    for bad in [0.0, -0.5, 1.000_001, f64::NAN] {
        let e = rejects(builder().max_rejection(bad).build(), "max_rejection");
        let expected = ConfigError::invalid("max_rejection", bad, "a rate in (0, 1]");
        assert_eq!(e.to_string(), expected.to_string());
    }
    // The edges.
    let edges = builder()
        .k(1.0)
        .window(Duration::from_nanos(1))
        .max_rejection(1.0)
        .build();
    assert!(edges.is_ok());
    assert!(
        builder()
            .k(1e300)
            .window(Duration::MAX)
            .max_rejection(f64::MIN_POSITIVE)
            .build()
            .is_ok()
    );
}

#[test]
fn the_defaults_are_the_documented_ones() {
    assert_eq!(Aimd::default().limit(), 20);
    assert_eq!(Gradient2::default().limit(), 20);
    assert_eq!(Vegas::default().limit(), 20);
    // Builders and `Default` agree.
    assert_eq!(
        format!("{:?}", Aimd::builder().build().unwrap()),
        format!("{:?}", Aimd::default())
    );
    assert_eq!(
        format!("{:?}", Gradient2::builder().build().unwrap()),
        format!("{:?}", Gradient2::default())
    );
    assert_eq!(
        format!("{:?}", Vegas::builder().build().unwrap()),
        format!("{:?}", Vegas::default())
    );
    let debug = format!("{:?}", Aimd::default());
    for field in [
        "min: 1",
        "max: 1000",
        "backoff_ratio: 0.9",
        "timeout: 5s",
        "increase: 1.0",
    ] {
        assert!(debug.contains(field), "{field} in {debug}");
    }
    let debug = format!("{:?}", Gradient2::default());
    for field in [
        "tolerance: 1.5",
        "smoothing: 0.2",
        "queue_size: 4.0",
        "long_window: 600.0",
    ] {
        assert!(debug.contains(field), "{field} in {debug}");
    }
    let debug = format!("{:?}", Vegas::default());
    for field in ["alpha: 3.0", "beta: 6.0", "backoff_ratio: 0.9"] {
        assert!(debug.contains(field), "{field} in {debug}");
    }
    let throttle = AdaptiveThrottle::builder()
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let debug = format!("{throttle:?}");
    for field in ["k: 2.0", "window: 120s", "max_rejection: 1.0"] {
        assert!(debug.contains(field), "{field} in {debug}");
    }
}
