//! Policy configuration from TOML and JSON (feature `serde`): the example
//! file, every variant, the builders' defaults, and every error path.

#![cfg(all(
    feature = "serde",
    feature = "retry",
    feature = "breaker",
    feature = "shed"
))]

use core::time::Duration;

use resil::config::{
    AnyBudget, AnyLimit, BackoffConfig, BreakerConfig, BudgetConfig, CodelConfig, FailureRate,
    InvalidConfig, JitterConfig, LimitAlgorithm, LimitConfig, ReserveConfig, ResilConfig,
    RetryConfig, SlowCallsConfig, ThrottleConfig, WaitConfig, WindowConfig,
};
use resil::core::{
    Backoff, CircuitState, ConfigError, EventKind, Jitter, ManualClock, ShedReason, listener_fn,
};
use resil::shed::{Limit, Priority};
use resil_testkit::EventLog;

const EXAMPLE: &str = include_str!("../examples/resil.toml");

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn toml_config(text: &str) -> ResilConfig {
    toml::from_str(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The error `validate` reports for `text`.
fn invalid(text: &str) -> InvalidConfig {
    toml_config(text)
        .validate()
        .expect_err("the config should be refused")
}

/// The error the format reports while reading `text`.
fn unreadable(text: &str) -> String {
    toml::from_str::<ResilConfig>(text)
        .expect_err("the file should not parse")
        .to_string()
}

// ---------------------------------------------------------------------------
// The example file.

#[test]
fn the_example_file_reads_as_written() {
    let config = toml_config(EXAMPLE);
    assert_eq!(config.total_timeout, Some(secs(5)));
    assert_eq!(config.attempt_timeout, Some(ms(800)));
    assert_eq!(
        config.retry,
        Some(RetryConfig {
            max_attempts: Some(4),
            max_elapsed: Some(secs(4)),
            max_hint: Some(secs(30)),
            backoff: Some(BackoffConfig::Exponential {
                base: ms(100),
                factor: 2.0,
                max_delay: Some(secs(2)),
                jitter: Some(JitterConfig::Full),
            }),
            budget: Some(BudgetConfig::Ratio {
                ratio: Some(0.2),
                min_per_second: Some(10),
                window: Some(secs(10)),
            }),
        })
    );
    assert_eq!(
        config.breaker,
        Some(BreakerConfig {
            failure_rate: Some(FailureRate::Rate(0.5)),
            slow_calls: Some(SlowCallsConfig {
                rate: 0.8,
                duration: secs(2),
            }),
            consecutive_failures: Some(20),
            window: Some(WindowConfig::Time {
                length: secs(30),
                buckets: 10,
            }),
            minimum_calls: Some(20),
            wait: Some(WaitConfig::Backoff(BackoffConfig::Exponential {
                base: secs(5),
                factor: 2.0,
                max_delay: Some(secs(120)),
                jitter: None,
            })),
            half_open_permits: Some(5),
            half_open_timeout: Some(secs(10)),
        })
    );
    assert_eq!(
        config.limit,
        Some(LimitConfig {
            algorithm: LimitAlgorithm::Vegas {
                initial: Some(20),
                min: Some(5),
                max: Some(500),
                alpha: Some(3.0),
                beta: Some(6.0),
                backoff_ratio: Some(0.9),
                probe_multiplier: Some(60),
            },
            reserve: ReserveConfig {
                critical_plus: Some(0.1),
                critical: Some(0.4),
                sheddable_plus: None,
                sheddable: None,
            },
            max_queue: Some(64),
            max_wait: Some(ms(100)),
            codel: Some(CodelConfig {
                target: ms(5),
                interval: ms(100),
            }),
        })
    );
    assert_eq!(
        config.throttle,
        Some(ThrottleConfig {
            k: Some(2.0),
            window: Some(secs(120)),
            max_rejection: Some(0.9),
            seed: Some(42),
            priority: Some(Priority::Sheddable),
        })
    );
}

#[test]
fn the_example_file_builds_every_policy() {
    let config = toml_config(EXAMPLE);
    config.validate().expect("the example is valid");
    let clock = ManualClock::new();

    let retry = config.retry.unwrap().build(clock.clone()).unwrap();
    assert_eq!(retry.max_attempts(), 4);
    assert_eq!(retry.max_elapsed(), Some(secs(4)));
    assert_eq!(retry.backoff().delay(0), ms(100));
    assert_eq!(retry.backoff().delay(5), secs(2));
    assert_eq!(retry.backoff().jitter_mode(), Jitter::Full);
    let AnyBudget::Ratio(budget) = retry.budget() else {
        panic!("a ratio budget: {:?}", retry.budget());
    };
    // 10 a second over 10 seconds, with no traffic yet.
    assert_eq!(budget.available(), 100);

    let breaker = config.breaker.unwrap().build(clock.clone()).unwrap();
    assert_eq!(breaker.state(), CircuitState::Closed);
    // 20 failures in a row open it, below minimum_calls' worth of rate.
    for _ in 0..19 {
        let _ = breaker.call(|| Err::<(), _>("down"));
    }
    assert_eq!(breaker.state(), CircuitState::Closed);
    let _ = breaker.call(|| Err::<(), _>("down"));
    assert_eq!(breaker.state(), CircuitState::Open);
    // The wait backoff's first delay.
    clock.advance(secs(5) - Duration::from_nanos(1));
    assert!(breaker.try_acquire().is_err());
    clock.advance(Duration::from_nanos(1));
    assert!(breaker.try_acquire().is_ok());

    let limiter = config.limit.unwrap().build(clock.clone()).unwrap();
    assert_eq!(limiter.limit(), 20);
    // Half the limit is reserved for critical_plus and critical.
    let sheddable: Vec<_> = (0..20)
        .filter_map(|_| limiter.try_acquire(Priority::Sheddable).ok())
        .collect();
    assert_eq!(sheddable.len(), 10);

    let decisions = |config: &ThrottleConfig| {
        let throttle = config.build(ManualClock::new()).unwrap();
        (0..200)
            .map(|_| throttle.check().is_ok())
            .collect::<Vec<_>>()
    };
    let throttle = config.throttle.unwrap();
    let first = decisions(&throttle);
    assert_eq!(first, decisions(&throttle), "seeded: the same decisions");
    let accepted = first.iter().filter(|ok| **ok).count();
    assert!(
        accepted >= 20,
        "max_rejection 0.9 lets 10% through: {accepted}"
    );
}

#[test]
fn the_example_file_reads_as_json_too() {
    // The same configuration, converted by the toml crate into JSON text:
    // both formats make the same values.
    let value: toml::Value = toml::from_str(EXAMPLE).unwrap();
    let json = serde_json::to_string(&value).unwrap();
    let from_json: ResilConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(from_json, toml_config(EXAMPLE));
}

// ---------------------------------------------------------------------------
// JSON, and the variants the example only mentions.

#[test]
fn json_with_every_other_variant() {
    let config: ResilConfig = serde_json::from_str(
        r#"{
            "total_timeout": "1m",
            "retry": {
                "backoff": { "growth": "linear", "base": "10ms", "step": "5ms", "jitter": "none" },
                "budget": { "kind": "token_bucket", "max_tokens": 10, "token_ratio": 0.5 }
            },
            "breaker": {
                "failure_rate": "off",
                "consecutive_failures": 2,
                "window": { "kind": "count", "size": 10 },
                "wait": "1.5s"
            },
            "limit": { "algorithm": { "kind": "fixed", "limit": 3 } },
            "throttle": {}
        }"#,
    )
    .unwrap();
    config.validate().unwrap();
    let clock = ManualClock::new();

    let retry = config.retry.unwrap().build(clock.clone()).unwrap();
    let delays: Vec<_> = retry.backoff().iter().take(3).collect();
    assert_eq!(delays, [ms(10), ms(15), ms(20)]);
    assert!(matches!(retry.budget(), AnyBudget::TokenBucket(b) if b.tokens() == 10.0));

    let breaker = config.breaker.unwrap().build(clock.clone()).unwrap();
    let _ = breaker.call(|| Err::<(), _>("down"));
    let _ = breaker.call(|| Err::<(), _>("down"));
    assert_eq!(breaker.state(), CircuitState::Open);
    clock.advance(ms(1_500));
    assert!(breaker.try_acquire().is_ok(), "open for exactly 1.5s");

    let limiter = config.limit.unwrap().build(clock.clone()).unwrap();
    let permits: Vec<_> = (0..5)
        .filter_map(|_| limiter.try_acquire(Priority::Critical).ok())
        .collect();
    assert_eq!(permits.len(), 3);

    assert!(config.throttle.unwrap().build(clock).is_ok());
}

#[test]
fn json_null_is_an_unset_knob() {
    let config: ResilConfig = serde_json::from_str(
        r#"{
            "total_timeout": null,
            "retry": { "max_attempts": null, "max_elapsed": null },
            "breaker": { "half_open_timeout": null },
            "limit": { "algorithm": { "kind": "aimd", "timeout": null }, "max_wait": null }
        }"#,
    )
    .unwrap();
    assert_eq!(config.total_timeout, None);
    assert_eq!(config.retry, Some(RetryConfig::default()));
    assert_eq!(config.breaker, Some(BreakerConfig::default()));
    config.validate().unwrap();
}

#[test]
fn every_growth_and_jitter() {
    let backoff = |text: &str| -> Backoff {
        toml::from_str::<BackoffConfig>(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .build()
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    };
    let nominal = |b: Backoff| (0..5).map(|i| b.delay(i)).collect::<Vec<_>>();

    let constant = backoff("growth = \"constant\"\ndelay = \"7ms\"");
    assert_eq!(nominal(constant), [ms(7); 5]);
    let linear =
        backoff("growth = \"linear\"\nbase = \"1s\"\nstep = \"500ms\"\nmax_delay = \"2s\"");
    assert_eq!(
        nominal(linear),
        [ms(1_000), ms(1_500), ms(2_000), ms(2_000), ms(2_000)]
    );
    let exponential = backoff("growth = \"exponential\"\nbase = \"1ms\"\nfactor = 3.0");
    assert_eq!(nominal(exponential), [1, 3, 9, 27, 81].map(ms));
    let fibonacci = backoff("growth = \"fibonacci\"\nbase = \"10us\"");
    assert_eq!(
        nominal(fibonacci),
        [10, 10, 20, 30, 50].map(Duration::from_micros)
    );
    let decorrelated = backoff("growth = \"decorrelated\"\nbase = \"5ms\"\nmax_delay = \"1s\"");
    assert_eq!(decorrelated.jitter_mode(), Jitter::Decorrelated);
    assert_eq!(decorrelated.max_delay(), secs(1));

    for (name, jitter) in [
        ("none", Jitter::None),
        ("full", Jitter::Full),
        ("equal", Jitter::Equal),
        ("decorrelated", Jitter::Decorrelated),
    ] {
        let b = backoff(&format!(
            "growth = \"constant\"\ndelay = \"1s\"\njitter = \"{name}\""
        ));
        assert_eq!(b.jitter_mode(), jitter, "{name}");
    }
    // Unset: the builder's defaults, no cap and no jitter.
    let plain = backoff("growth = \"constant\"\ndelay = \"1s\"");
    assert_eq!(plain, Backoff::constant(secs(1)).build().unwrap());
}

#[test]
fn every_limit_algorithm() {
    let limit = |text: &str| -> AnyLimit {
        toml::from_str::<LimitAlgorithm>(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .build()
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    };
    assert!(matches!(limit("kind = \"fixed\"\nlimit = 8"), AnyLimit::Fixed(l) if l.limit() == 8));
    let aimd = limit(
        "kind = \"aimd\"\ninitial = 30\nmin = 2\nmax = 40\nbackoff_ratio = 0.5\ntimeout = \"250ms\"\nincrease = 2.0",
    );
    assert!(matches!(aimd, AnyLimit::Aimd(ref l) if l.limit() == 30));
    let gradient2 = limit(
        "kind = \"gradient2\"\ninitial = 25\nmin = 1\nmax = 100\ntolerance = 2.0\nsmoothing = 0.5\nqueue_size = 8\nlong_window = 100\nprobe_multiplier = 10",
    );
    assert!(matches!(gradient2, AnyLimit::Gradient2(ref l) if l.limit() == 25));
    let vegas = limit("kind = \"vegas\"");
    assert!(matches!(vegas, AnyLimit::Vegas(ref l) if l.limit() == 20));
    // An AIMD limit adapts through the enum: a failure backs it off.
    let mut aimd = aimd;
    let failed = resil::shed::Sample::new(
        ms(1),
        30,
        resil::core::Outcome::Failure,
        resil::core::Instant::from_nanos(1),
    );
    assert_eq!(aimd.update(&failed), 15);
}

// ---------------------------------------------------------------------------
// Defaults are the builders'.

#[test]
fn unset_knobs_are_the_builders_defaults() {
    let clock = ManualClock::new();
    let retry = toml_config("[retry]")
        .retry
        .unwrap()
        .build(clock.clone())
        .unwrap();
    assert_eq!(retry.max_attempts(), 3);
    assert_eq!(retry.max_elapsed(), None);
    assert_eq!(*retry.backoff(), Backoff::default());
    assert!(matches!(retry.budget(), AnyBudget::Unlimited));

    let budget = BudgetConfig::Ratio {
        ratio: None,
        min_per_second: None,
        window: None,
    }
    .build(clock.clone())
    .unwrap();
    let AnyBudget::Ratio(budget) = budget else {
        panic!("a ratio budget");
    };
    assert_eq!(budget.available(), 100, "10 a second over 10 seconds");

    // The breaker's defaults: a count window of 100 with minimum_calls 100,
    // so 99 failures do not open it and the 100th does.
    let breaker = BreakerConfig::default().build(clock.clone()).unwrap();
    for _ in 0..99 {
        let _ = breaker.call(|| Err::<(), _>("down"));
    }
    assert_eq!(breaker.state(), CircuitState::Closed);
    let _ = breaker.call(|| Err::<(), _>("down"));
    assert_eq!(breaker.state(), CircuitState::Open);
    clock.advance(secs(60));
    assert!(breaker.try_acquire().is_ok(), "the default wait is 60s");

    // The limiter's defaults: no queue, so acquiring past the limit sheds.
    let limiter = toml::from_str::<LimitConfig>("algorithm = { kind = \"aimd\" }")
        .unwrap()
        .build(clock.clone())
        .unwrap();
    assert_eq!(limiter.limit(), 20);

    let throttle = ThrottleConfig::default().build(clock.clone()).unwrap();
    assert!(throttle.check().is_ok());

    assert_eq!(toml_config(""), ResilConfig::default());
}

// ---------------------------------------------------------------------------
// Builders come back validated, ready for a name and a listener.

#[test]
fn builders_take_a_name_and_a_listener() {
    let clock = ManualClock::new();
    let log = EventLog::new();
    let config: BreakerConfig = toml::from_str("consecutive_failures = 1").unwrap();
    let breaker = config
        .builder(clock.clone())
        .unwrap()
        .name("db")
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    let _ = breaker.call(|| Err::<(), _>("down"));
    let seen = log.take();
    assert_eq!(seen[0].source, "db");
    assert_eq!(
        seen[0].kind,
        EventKind::breaker_transition(CircuitState::Closed, CircuitState::Open)
    );

    let limiter = toml::from_str::<LimitConfig>("algorithm = { kind = \"fixed\", limit = 1 }")
        .unwrap()
        .builder(clock.clone())
        .unwrap()
        .name("pool")
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    let _held = limiter.try_acquire(Priority::Critical).unwrap();
    assert!(limiter.try_acquire(Priority::Sheddable).is_err());
    let seen = log.take();
    assert_eq!(seen[0].source, "pool");
    assert_eq!(seen[0].kind, EventKind::shed(3, ShedReason::LimitReached));

    let retry = RetryConfig::default()
        .builder(clock.clone())
        .unwrap()
        .name("api")
        .build()
        .unwrap();
    assert_eq!(retry.max_attempts(), 3);

    let throttle = ThrottleConfig::default()
        .builder(clock)
        .unwrap()
        .name("search")
        .build();
    assert!(throttle.is_ok());
}

// ---------------------------------------------------------------------------
// Errors while reading: the format's, naming the key and saying why.

#[test]
fn unknown_fields_are_refused_everywhere() {
    for (text, field) in [
        ("retries = 3", "retries"),
        ("[retry]\nmax_attemps = 3", "max_attemps"),
        (
            "[retry.backoff]\ngrowth = \"linear\"\nbase = \"1s\"\nstep = \"1s\"\nfactor = 2.0",
            "factor",
        ),
        (
            "[retry.budget]\nkind = \"ratio\"\nmax_tokens = 3",
            "max_tokens",
        ),
        (
            "[breaker]\nslow_calls = { rate = 0.5, duration = \"1s\", x = 1 }",
            "x",
        ),
        (
            "[breaker]\nwindow = { kind = \"count\", size = 5, buckets = 2 }",
            "buckets",
        ),
        (
            "[breaker]\nwait = { growth = \"constant\", delay = \"1s\", base = \"1s\" }",
            "base",
        ),
        (
            "[limit]\nalpha = 3.0\nalgorithm = { kind = \"vegas\" }",
            "alpha",
        ),
        (
            "[limit]\nalgorithm = { kind = \"fixed\", limit = 3, min = 1 }",
            "min",
        ),
        (
            "[limit]\nalgorithm = { kind = \"fixed\", limit = 3 }\nreserve = { urgent = 0.5 }",
            "urgent",
        ),
        (
            "[limit]\nalgorithm = { kind = \"fixed\", limit = 3 }\ncodel = { target = \"1ms\", interval = \"1s\", x = 1 }",
            "x",
        ),
        ("[throttle]\nkay = 2.0", "kay"),
    ] {
        let message = unreadable(text);
        assert!(
            message.contains(&format!("unknown field `{field}`")),
            "{text:?}: {message}"
        );
    }
    // The same in JSON.
    let err = serde_json::from_str::<ResilConfig>(r#"{ "breaker": { "wiat": "1s" } }"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `wiat`"), "{err}");
}

#[test]
fn unknown_variants_are_refused() {
    for (text, variant) in [
        ("[retry.backoff]\ngrowth = \"expo\"\nbase = \"1s\"", "expo"),
        (
            "[retry.backoff]\ngrowth = \"constant\"\ndelay = \"1s\"\njitter = \"some\"",
            "some",
        ),
        ("[retry.budget]\nkind = \"leaky\"", "leaky"),
        (
            "[breaker]\nwindow = { kind = \"sliding\", size = 3 }",
            "sliding",
        ),
        ("[limit]\nalgorithm = { kind = \"bbr\" }", "bbr"),
        ("[throttle]\npriority = \"urgent\"", "urgent"),
    ] {
        let message = unreadable(text);
        assert!(
            message.contains(&format!("unknown variant `{variant}`")),
            "{text:?}: {message}"
        );
    }
    let message = unreadable("[breaker]\nfailure_rate = \"sometimes\"");
    assert!(message.contains("\"off\""), "{message}");
}

#[test]
fn missing_required_fields_are_named() {
    for (text, field) in [
        (
            "[retry.backoff]\ngrowth = \"exponential\"\nbase = \"1s\"",
            "factor",
        ),
        (
            "[retry.backoff]\ngrowth = \"linear\"\nbase = \"1s\"",
            "step",
        ),
        (
            "[retry.budget]\nkind = \"token_bucket\"\nmax_tokens = 3",
            "token_ratio",
        ),
        ("[breaker]\nslow_calls = { rate = 0.5 }", "duration"),
        ("[limit]\nmax_queue = 3", "algorithm"),
        ("[limit]\nalgorithm = { kind = \"fixed\" }", "limit"),
    ] {
        let message = unreadable(text);
        assert!(
            message.contains(&format!("missing field `{field}`")),
            "{text:?}: {message}"
        );
    }
}

#[test]
fn a_bad_duration_names_its_field_and_the_problem() {
    let message = unreadable("[retry]\nmax_elapsed = \"2x\"");
    assert!(
        message.contains(
            "invalid duration \"2x\" for `max_elapsed`: unknown unit \"x\" (expected ns, us, ms, s, m or h)"
        ),
        "{message}"
    );
    assert!(message.contains("line 2"), "TOML says where: {message}");

    for (text, field, why) in [
        ("total_timeout = \"5\"", "total_timeout", "it has no unit"),
        (
            "attempt_timeout = \"-1s\"",
            "attempt_timeout",
            "cannot be negative",
        ),
        (
            "[retry]\nmax_hint = \"1.5ns\"",
            "max_hint",
            "finer than a nanosecond",
        ),
        (
            "[retry.backoff]\ngrowth = \"fibonacci\"\nbase = \"\"",
            "base",
            "it is empty",
        ),
        (
            "[retry.backoff]\ngrowth = \"constant\"\ndelay = \"1 s\"",
            "delay",
            "unknown unit",
        ),
        (
            "[retry.backoff]\ngrowth = \"linear\"\nbase = \"1s\"\nstep = \"s\"",
            "step",
            "expected a number",
        ),
        (
            "[retry.backoff]\ngrowth = \"constant\"\ndelay = \"1s\"\nmax_delay = \"9999999999999999999999h\"",
            "max_delay",
            "longer than the longest duration",
        ),
        (
            "[retry.budget]\nkind = \"ratio\"\nwindow = \"10\"",
            "window",
            "no unit",
        ),
        (
            "[breaker]\nhalf_open_timeout = \"1d\"",
            "half_open_timeout",
            "unknown unit",
        ),
        ("[breaker]\nwait = \"forever\"", "wait", "expected a number"),
        (
            "[breaker]\nslow_calls = { rate = 0.5, duration = \"2\" }",
            "duration",
            "no unit",
        ),
        (
            "[breaker]\nwindow = { kind = \"time\", length = \"1x\", buckets = 2 }",
            "length",
            "unknown unit",
        ),
        (
            "[limit]\nalgorithm = { kind = \"fixed\", limit = 1 }\nmax_wait = \"1\"",
            "max_wait",
            "no unit",
        ),
        (
            "[limit]\nalgorithm = { kind = \"fixed\", limit = 1 }\ncodel = { target = \"1\", interval = \"1s\" }",
            "target",
            "no unit",
        ),
        (
            "[limit]\nalgorithm = { kind = \"fixed\", limit = 1 }\ncodel = { target = \"1ms\", interval = \"x\" }",
            "interval",
            "expected a number",
        ),
        (
            "[limit]\nalgorithm = { kind = \"aimd\", timeout = \"5\" }",
            "timeout",
            "no unit",
        ),
        (
            "[throttle]\nwindow = \"2 minutes\"",
            "window",
            "unknown unit",
        ),
    ] {
        let message = unreadable(text);
        assert!(
            message.contains(&format!("for `{field}`: ")) && message.contains(why),
            "{text:?}: {message}"
        );
    }

    // A number is not a duration: the message asks for a unit.
    let message = unreadable("[retry]\nmax_elapsed = 250");
    assert!(
        message.contains("a duration with a unit for `max_elapsed`, like \"250ms\""),
        "{message}"
    );

    // JSON names the field too, and its position.
    let err = serde_json::from_str::<ResilConfig>(
        "{\n  \"retry\": {\n    \"backoff\": { \"growth\": \"fibonacci\", \"base\": \"10 ms\" }\n  }\n}",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("invalid duration \"10 ms\" for `base`: unknown unit \" ms\""),
        "{err}"
    );
    // (A tagged table is read whole, so the position is its end.)
    assert!(err.contains(" at line 4 column 3"), "{err}");
    let err = serde_json::from_str::<ResilConfig>(r#"{ "total_timeout": 5000 }"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("for `total_timeout`"), "{err}");
}

// ---------------------------------------------------------------------------
// Errors while building: the builder's, with the field's path.

#[test]
fn a_value_a_builder_refuses_names_its_path() {
    let fixed = "algorithm = { kind = \"fixed\", limit = 4 }";
    for (text, path, field) in [
        // Retry, and its backoff and budget.
        (
            "[retry]\nmax_attempts = 0",
            "retry.max_attempts",
            "max_attempts",
        ),
        (
            "[retry]\nmax_elapsed = \"0s\"",
            "retry.max_elapsed",
            "max_elapsed",
        ),
        ("[retry]\nmax_hint = \"0ns\"", "retry.max_hint", "max_hint"),
        (
            "[retry.backoff]\ngrowth = \"exponential\"\nbase = \"1s\"\nfactor = nan",
            "retry.backoff.factor",
            "factor",
        ),
        (
            "[retry.backoff]\ngrowth = \"exponential\"\nbase = \"1s\"\nfactor = -2.0",
            "retry.backoff.factor",
            "factor",
        ),
        (
            "[retry.backoff]\ngrowth = \"exponential\"\nbase = \"0s\"\nfactor = 2.0",
            "retry.backoff.base",
            "base",
        ),
        (
            "[retry.backoff]\ngrowth = \"linear\"\nbase = \"1s\"\nstep = \"0s\"",
            "retry.backoff.step",
            "step",
        ),
        (
            "[retry.backoff]\ngrowth = \"constant\"\ndelay = \"2s\"\nmax_delay = \"1s\"",
            "retry.backoff.delay",
            "base",
        ),
        (
            "[retry.backoff]\ngrowth = \"decorrelated\"\nbase = \"0s\"",
            "retry.backoff.base",
            "base",
        ),
        (
            "[retry.budget]\nkind = \"ratio\"\nratio = -1.0",
            "retry.budget.ratio",
            "ratio",
        ),
        (
            "[retry.budget]\nkind = \"ratio\"\nwindow = \"2h\"",
            "retry.budget.window",
            "window",
        ),
        (
            "[retry.budget]\nkind = \"token_bucket\"\nmax_tokens = 0\ntoken_ratio = 0.1",
            "retry.budget.max_tokens",
            "max_tokens",
        ),
        (
            "[retry.budget]\nkind = \"token_bucket\"\nmax_tokens = 5\ntoken_ratio = 0.0",
            "retry.budget.token_ratio",
            "token_ratio",
        ),
        // Breaker.
        (
            "[breaker]\nfailure_rate = 0",
            "breaker.failure_rate",
            "failure_rate",
        ),
        (
            "[breaker]\nfailure_rate = 1.5",
            "breaker.failure_rate",
            "failure_rate",
        ),
        (
            "[breaker]\nslow_calls = { rate = 2.0, duration = \"1s\" }",
            "breaker.slow_calls.rate",
            "slow_call_rate",
        ),
        (
            "[breaker]\nslow_calls = { rate = 0.5, duration = \"0s\" }",
            "breaker.slow_calls.duration",
            "slow_call_duration",
        ),
        (
            "[breaker]\nconsecutive_failures = 0",
            "breaker.consecutive_failures",
            "consecutive_failures",
        ),
        (
            "[breaker]\nminimum_calls = 0",
            "breaker.minimum_calls",
            "minimum_calls",
        ),
        (
            "[breaker]\nminimum_calls = 11\nwindow = { kind = \"count\", size = 10 }",
            "breaker.minimum_calls",
            "minimum_calls",
        ),
        (
            "[breaker]\nminimum_calls = 1\nwindow = { kind = \"count\", size = 0 }",
            "breaker.window.size",
            "window size",
        ),
        (
            "[breaker]\nwindow = { kind = \"time\", length = \"0s\", buckets = 2 }",
            "breaker.window.length",
            "window length",
        ),
        (
            "[breaker]\nwindow = { kind = \"time\", length = \"1s\", buckets = 0 }",
            "breaker.window.buckets",
            "window buckets",
        ),
        (
            "[breaker]\nhalf_open_permits = 0",
            "breaker.half_open_permits",
            "half_open_permits",
        ),
        (
            "[breaker]\nhalf_open_timeout = \"0s\"",
            "breaker.half_open_timeout",
            "half_open_timeout",
        ),
        (
            "[breaker]\nwait = { growth = \"exponential\", base = \"1s\", factor = 0.5 }",
            "breaker.wait.factor",
            "factor",
        ),
        (
            "[breaker]\nwait = { growth = \"fibonacci\", base = \"0s\" }",
            "breaker.wait.base",
            "base",
        ),
        // Limiter and its algorithms.
        (
            "[limit]\nalgorithm = { kind = \"fixed\", limit = 0 }",
            "limit.algorithm.limit",
            "limit",
        ),
        (
            "[limit]\nalgorithm = { kind = \"fixed\", limit = 5000 }",
            "limit.algorithm.limit",
            "limit",
        ),
        (
            "[limit]\nalgorithm = { kind = \"aimd\", initial = 5000, max = 6000 }",
            "limit.algorithm.initial",
            "limit",
        ),
        (
            "[limit]\nalgorithm = { kind = \"aimd\", min = 0 }",
            "limit.algorithm.min",
            "min",
        ),
        (
            "[limit]\nalgorithm = { kind = \"aimd\", min = 30 }",
            "limit.algorithm.min",
            "min",
        ),
        (
            "[limit]\nalgorithm = { kind = \"aimd\", backoff_ratio = 1.0 }",
            "limit.algorithm.backoff_ratio",
            "backoff_ratio",
        ),
        (
            "[limit]\nalgorithm = { kind = \"aimd\", timeout = \"0s\" }",
            "limit.algorithm.timeout",
            "timeout",
        ),
        (
            "[limit]\nalgorithm = { kind = \"aimd\", increase = inf }",
            "limit.algorithm.increase",
            "increase",
        ),
        (
            "[limit]\nalgorithm = { kind = \"gradient2\", tolerance = 0.5 }",
            "limit.algorithm.tolerance",
            "tolerance",
        ),
        (
            "[limit]\nalgorithm = { kind = \"gradient2\", smoothing = 0.0 }",
            "limit.algorithm.smoothing",
            "smoothing",
        ),
        (
            "[limit]\nalgorithm = { kind = \"gradient2\", queue_size = 0 }",
            "limit.algorithm.queue_size",
            "queue_size",
        ),
        (
            "[limit]\nalgorithm = { kind = \"gradient2\", long_window = 0 }",
            "limit.algorithm.long_window",
            "long_window",
        ),
        (
            "[limit]\nalgorithm = { kind = \"vegas\", alpha = 0.0 }",
            "limit.algorithm.alpha",
            "alpha",
        ),
        (
            "[limit]\nalgorithm = { kind = \"vegas\", alpha = 7.0 }",
            "limit.algorithm.alpha",
            "alpha",
        ),
        (
            "[limit]\nalgorithm = { kind = \"vegas\", probe_multiplier = 0 }",
            "limit.algorithm.probe_multiplier",
            "probe_multiplier",
        ),
        (
            &format!("[limit]\n{fixed}\nreserve = {{ critical = 1.5 }}"),
            "limit.reserve.critical",
            "reserve",
        ),
        (
            &format!("[limit]\n{fixed}\nreserve = {{ sheddable = -0.5 }}"),
            "limit.reserve.sheddable",
            "reserve",
        ),
        (
            &format!("[limit]\n{fixed}\nreserve = {{ critical_plus = nan }}"),
            "limit.reserve.critical_plus",
            "reserve",
        ),
        (
            &format!("[limit]\n{fixed}\nreserve = {{ critical_plus = 0.6, sheddable_plus = 0.6 }}"),
            "limit.reserve",
            "reserves",
        ),
        (
            &format!("[limit]\n{fixed}\nmax_queue = 5000"),
            "limit.max_queue",
            "max_queue",
        ),
        (
            &format!("[limit]\n{fixed}\nmax_wait = \"0s\""),
            "limit.max_wait",
            "max_wait",
        ),
        (
            &format!("[limit]\n{fixed}\ncodel = {{ target = \"0s\", interval = \"1s\" }}"),
            "limit.codel.target",
            "codel target",
        ),
        (
            &format!("[limit]\n{fixed}\ncodel = {{ target = \"1ms\", interval = \"0s\" }}"),
            "limit.codel.interval",
            "codel interval",
        ),
        // Throttle.
        ("[throttle]\nk = 0.5", "throttle.k", "k"),
        ("[throttle]\nwindow = \"0s\"", "throttle.window", "window"),
        (
            "[throttle]\nmax_rejection = 0.0",
            "throttle.max_rejection",
            "max_rejection",
        ),
        // The pipeline's timeouts.
        ("total_timeout = \"0s\"", "total_timeout", "total_timeout"),
        (
            "attempt_timeout = \"0ms\"",
            "attempt_timeout",
            "attempt_timeout",
        ),
    ] {
        let err = invalid(text);
        assert_eq!(err.path(), path, "{text:?}: {err}");
        assert_eq!(err.error().field(), field, "{text:?}: {err}");
        assert_eq!(
            err.to_string(),
            format!("{path}: {}", err.error()),
            "{text:?}"
        );
    }
}

#[test]
fn messages_read_as_one_line() {
    let err = invalid("[retry.backoff]\ngrowth = \"exponential\"\nbase = \"100ms\"\nfactor = nan");
    assert_eq!(
        err.to_string(),
        "retry.backoff.factor: invalid factor: got NaN, expected a finite number"
    );
    assert!(matches!(
        err.error(),
        ConfigError::Invalid {
            field: "factor",
            expected: "a finite number",
            ..
        }
    ));
    let err = invalid("[breaker]\nminimum_calls = 11\nwindow = { kind = \"count\", size = 10 }");
    assert_eq!(
        err.to_string(),
        "breaker.minimum_calls: minimum_calls (11) must not exceed window size (10)"
    );
}

#[test]
fn each_section_reports_the_same_error_from_builder_and_build() {
    let clock = ManualClock::new();
    let retry: RetryConfig = toml::from_str("max_attempts = 0").unwrap();
    assert_eq!(
        retry.builder(clock.clone()).unwrap_err(),
        retry.build(clock.clone()).unwrap_err()
    );
    let breaker: BreakerConfig = toml::from_str("half_open_permits = 1001").unwrap();
    assert_eq!(
        breaker.builder(clock.clone()).unwrap_err(),
        breaker.build(clock.clone()).unwrap_err()
    );
    let limit: LimitConfig =
        toml::from_str("algorithm = { kind = \"fixed\", limit = 1 }\nmax_wait = \"0s\"").unwrap();
    assert_eq!(
        limit.builder(clock.clone()).unwrap_err(),
        limit.build(clock.clone()).unwrap_err()
    );
    let throttle: ThrottleConfig = toml::from_str("k = nan").unwrap();
    assert_eq!(
        throttle.builder(clock.clone()).unwrap_err().path(),
        throttle.build(clock).unwrap_err().path()
    );
}
