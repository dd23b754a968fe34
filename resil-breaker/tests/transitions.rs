//! Every transition of the breaker's state diagram on a manual clock: each
//! trip condition (failure rate, slow-call rate, consecutive failures, the
//! minimum, count and time windows), the open wait and its growth, the
//! half-open trials and their verdict, and the manual controls.

mod support;

use std::time::Duration;

use resil_breaker::{BreakerBuilder, CircuitBreaker, SlidingWindow};
use resil_core::{CircuitState, ManualClock, Outcome};

use support::{call_taking, exponential, fail, ms, ns, on, rejection, secs, succeed};

/// Slow-call detection in the table: a call is slow when it takes longer.
const SLOW_LIMIT: Duration = Duration::from_secs(1);

/// How long the table's slow calls take.
const SLOW: Duration = Duration::from_secs(2);

type Builder = BreakerBuilder<ManualClock>;

/// One trip scenario: a configuration, the calls made in order, and the call
/// after which the breaker is open.
struct Case {
    name: &'static str,
    config: fn(Builder) -> Builder,
    /// `S` a success, `F` a failure, `s` and `f` the same taking [`SLOW`],
    /// `I` an ignored call; each is admitted and recorded before the next.
    calls: &'static str,
    /// The call (counting from 1) that opens the breaker, if any does.
    opens_at: Option<usize>,
}

/// Runs `case` and returns the call after which the breaker was open.
fn run(case: &Case) -> Option<usize> {
    let clock = ManualClock::new();
    let breaker = (case.config)(on(&clock)).build().unwrap();
    for (i, call) in case.calls.chars().enumerate() {
        let (took, outcome) = match call {
            'S' => (Duration::ZERO, Outcome::Success),
            'F' => (Duration::ZERO, Outcome::Failure),
            's' => (SLOW, Outcome::Success),
            'f' => (SLOW, Outcome::Failure),
            'I' => (Duration::ZERO, Outcome::Ignored),
            other => panic!("{}: unknown call {other:?}", case.name),
        };
        call_taking(&breaker, &clock, took, outcome);
        match breaker.state() {
            CircuitState::Closed => {}
            CircuitState::Open => return Some(i + 1),
            other => panic!("{}: {other:?} after call {}", case.name, i + 1),
        }
    }
    None
}

fn count(size: u32, minimum: u32, rate: f64) -> impl Fn(Builder) -> Builder {
    move |b| {
        b.window(SlidingWindow::count(size))
            .minimum_calls(minimum)
            .failure_rate(rate)
    }
}

const CASES: &[Case] = &[
    Case {
        name: "under minimum_calls, even 100% failures never open it",
        config: |b| count(10, 5, 0.5)(b),
        calls: "FFFF",
        opens_at: None,
    },
    Case {
        name: "the call that reaches minimum_calls can open it",
        config: |b| count(10, 5, 0.5)(b),
        calls: "FFFFF",
        opens_at: Some(5),
    },
    Case {
        name: "a failure rate exactly at the threshold opens it",
        config: |b| count(10, 4, 0.5)(b),
        calls: "SSFF",
        opens_at: Some(4),
    },
    Case {
        name: "failures first: the rate waits for the minimum, then opens at once",
        config: |b| count(10, 4, 0.5)(b),
        calls: "FFSS",
        opens_at: Some(4),
    },
    Case {
        name: "the rate just under the threshold does not open it",
        config: |b| count(10, 10, 0.5)(b),
        calls: "SSSSSSFFFF",
        opens_at: None,
    },
    Case {
        name: "one more failure reaches the threshold",
        config: |b| count(10, 10, 0.5)(b),
        calls: "SSSSSFFFFF",
        opens_at: Some(10),
    },
    Case {
        name: "a threshold that is no binary fraction: 3 of 10 at 0.3 opens it",
        config: |b| count(10, 10, 0.3)(b),
        calls: "SSSSSSSFFF",
        opens_at: Some(10),
    },
    Case {
        name: "2 of 10 at 0.3 does not",
        config: |b| count(10, 10, 0.3)(b),
        calls: "SSSSSSSSFF",
        opens_at: None,
    },
    Case {
        name: "1 of 3 at a third opens it",
        config: |b| count(3, 3, 1.0 / 3.0)(b),
        calls: "SSF",
        opens_at: Some(3),
    },
    Case {
        name: "a rate of 1.0 needs every call in the window to fail",
        config: |b| count(4, 4, 1.0)(b),
        calls: "FFFSFFFF",
        opens_at: Some(8),
    },
    Case {
        name: "a count window holds only the last N calls",
        config: |b| count(4, 4, 0.5)(b),
        calls: "FSSSSSFF",
        opens_at: Some(8),
    },
    Case {
        name: "a failure that slid out of the window no longer counts",
        config: |b| count(3, 3, 0.5)(b),
        calls: "FSSF",
        opens_at: None,
    },
    Case {
        name: "ignored calls are not in the window",
        config: |b| count(4, 4, 0.5)(b),
        calls: "IIFFIISS",
        opens_at: Some(8),
    },
    Case {
        name: "ignored calls do not count toward the minimum",
        config: |b| count(4, 4, 0.5)(b),
        calls: "FFIIIIII",
        opens_at: None,
    },
    Case {
        name: "N consecutive failures open it without the minimum",
        config: |b| count(100, 100, 0.5)(b).consecutive_failures(3),
        calls: "FFF",
        opens_at: Some(3),
    },
    Case {
        name: "a success breaks the run",
        config: |b| count(100, 100, 0.5)(b).consecutive_failures(3),
        calls: "FFSFFSFF",
        opens_at: None,
    },
    Case {
        name: "a run after a success opens it",
        config: |b| count(100, 100, 0.5)(b).consecutive_failures(3),
        calls: "FFSFFF",
        opens_at: Some(6),
    },
    Case {
        name: "an ignored call does not break the run",
        config: |b| count(100, 100, 0.5)(b).consecutive_failures(3),
        calls: "FFIF",
        opens_at: Some(4),
    },
    Case {
        name: "one consecutive failure opens it at the first failure",
        config: |b| count(100, 100, 0.5)(b).consecutive_failures(1),
        calls: "SSSSF",
        opens_at: Some(5),
    },
    Case {
        name: "slow calls alone open it",
        config: |b| count(4, 4, 1.0)(b).slow_calls(0.5, SLOW_LIMIT),
        calls: "ssSS",
        opens_at: Some(4),
    },
    Case {
        name: "slow calls just under the slow-call threshold do not",
        config: |b| count(4, 4, 1.0)(b).slow_calls(0.5, SLOW_LIMIT),
        calls: "sSSS",
        opens_at: None,
    },
    Case {
        name: "slow-call rate waits for the minimum too",
        config: |b| count(4, 4, 1.0)(b).slow_calls(0.5, SLOW_LIMIT),
        calls: "sss",
        opens_at: None,
    },
    Case {
        name: "a slow failure is slow as well as failed",
        config: |b| count(4, 4, 1.0)(b).slow_calls(0.5, SLOW_LIMIT),
        calls: "fSfS",
        opens_at: Some(4),
    },
    Case {
        name: "without slow-call detection slow calls are plain calls",
        config: |b| count(4, 4, 0.5)(b),
        calls: "ssss",
        opens_at: None,
    },
];

#[test]
fn the_trip_table() {
    let mut failed = Vec::new();
    for case in CASES {
        let opened = run(case);
        if opened != case.opens_at {
            failed.push(format!(
                "{}: {:?} opened at {opened:?}, expected {:?}",
                case.name, case.calls, case.opens_at
            ));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn a_call_exactly_as_long_as_the_slow_call_duration_is_not_slow() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(1))
        .minimum_calls(1)
        .failure_rate(1.0)
        .slow_calls(1.0, SLOW_LIMIT)
        .build()
        .unwrap();
    call_taking(&breaker, &clock, SLOW_LIMIT, Outcome::Success);
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.metrics().slow_calls, 0);
    call_taking(&breaker, &clock, SLOW_LIMIT + ns(1), Outcome::Success);
    assert_eq!(
        breaker.state(),
        CircuitState::Open,
        "one nanosecond longer is slow"
    );
}

#[test]
fn time_spent_outside_the_call_does_not_make_it_slow() {
    // Slowness is measured from `try_acquire` to the record, nothing else.
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(1))
        .minimum_calls(1)
        .failure_rate(1.0)
        .slow_calls(1.0, SLOW_LIMIT)
        .build()
        .unwrap();
    clock.advance(secs(3600));
    succeed(&breaker);
    clock.advance(secs(3600));
    succeed(&breaker);
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.metrics().slow_calls, 0);
}

/// A breaker that opens at its first failure and waits `wait`, with
/// `permits` half-open trials.
fn tripping(clock: &ManualClock, wait: Duration, permits: u32) -> CircuitBreaker<ManualClock> {
    on(clock)
        .consecutive_failures(1)
        .wait(wait)
        .half_open_permits(permits)
        .build()
        .unwrap()
}

#[test]
fn open_rejects_with_the_remaining_wait() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, secs(30), 1);
    fail(&breaker);
    assert_eq!(breaker.state(), CircuitState::Open);
    let r = rejection(&breaker);
    assert_eq!(r.state(), CircuitState::Open);
    assert_eq!(r.retry_after(), Some(secs(30)));
    clock.advance(secs(10));
    assert_eq!(rejection(&breaker).retry_after(), Some(secs(20)));
    clock.advance(secs(20) - ns(1));
    assert_eq!(rejection(&breaker).retry_after(), Some(ns(1)));
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn open_turns_half_open_on_the_first_call_after_the_wait_not_before() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, ms(1500), 1);
    fail(&breaker);
    clock.advance(ms(1500) - ns(1));
    let r = rejection(&breaker);
    assert_eq!(
        (r.state(), r.retry_after()),
        (CircuitState::Open, Some(ns(1)))
    );
    clock.advance(ns(1));
    assert_eq!(
        breaker.state(),
        CircuitState::Open,
        "the state changes when a call arrives, not when the clock moves"
    );
    let trial = breaker.try_acquire().expect("the wait is over");
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    trial.success();
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_call_long_after_the_wait_is_admitted_too() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, secs(1), 1);
    fail(&breaker);
    clock.advance(secs(86_400));
    assert!(breaker.try_acquire().is_ok());
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
}

#[test]
fn half_open_admits_exactly_its_permits() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, secs(1), 3);
    fail(&breaker);
    clock.advance(secs(1));
    let trials: Vec<_> = (0..3)
        .map(|i| {
            breaker
                .try_acquire()
                .unwrap_or_else(|r| panic!("trial {i}: {r}"))
        })
        .collect();
    for _ in 0..5 {
        let r = rejection(&breaker);
        assert_eq!(r.state(), CircuitState::HalfOpen);
        assert_eq!(r.retry_after(), None, "when a trial ends is not known");
    }
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    for trial in trials {
        trial.success();
    }
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn successful_trials_close_it_with_a_fresh_window() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(10))
        .minimum_calls(4)
        .failure_rate(0.5)
        .wait(secs(5))
        .half_open_permits(2)
        .build()
        .unwrap();
    for ok in [true, true, false, false] {
        let _ = breaker.call(|| if ok { Ok(()) } else { Err(()) });
    }
    assert_eq!(breaker.state(), CircuitState::Open);
    clock.advance(secs(5));
    succeed(&breaker);
    assert_eq!(breaker.state(), CircuitState::HalfOpen, "one trial of two");
    succeed(&breaker);
    assert_eq!(breaker.state(), CircuitState::Closed);
    let m = breaker.metrics();
    assert_eq!((m.calls, m.failures, m.consecutive_failures), (0, 0, 0));
    // The minimum counts again from zero: three failures do not open it.
    for _ in 0..3 {
        fail(&breaker);
    }
    assert_eq!(breaker.state(), CircuitState::Closed);
    fail(&breaker);
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn the_trials_failure_rate_decides_the_verdict() {
    // Four trials at a 50% threshold; the verdict waits for all four.
    let table: &[(&str, CircuitState)] = &[
        ("SSSS", CircuitState::Closed),
        ("SSSF", CircuitState::Closed),
        ("FSSS", CircuitState::Closed),
        ("SSFF", CircuitState::Open),
        ("FFSS", CircuitState::Open),
        ("FFFF", CircuitState::Open),
        ("SISSF", CircuitState::Closed),
        ("IIIIFFSS", CircuitState::Open),
    ];
    for &(trials, expected) in table {
        let clock = ManualClock::new();
        let breaker = on(&clock)
            .consecutive_failures(1)
            .failure_rate(0.5)
            .wait(secs(1))
            .half_open_permits(4)
            .build()
            .unwrap();
        fail(&breaker);
        clock.advance(secs(1));
        let mut recorded = 0;
        for (i, trial) in trials.chars().enumerate() {
            assert_eq!(
                breaker.state(),
                if i == 0 {
                    CircuitState::Open
                } else {
                    CircuitState::HalfOpen
                },
                "{trials}: before trial {i}"
            );
            let permit = breaker
                .try_acquire()
                .unwrap_or_else(|r| panic!("{trials}: trial {i}: {r}"));
            match trial {
                'S' => permit.success(),
                'F' => permit.failure(),
                _ => permit.ignore(),
            }
            recorded += usize::from(trial != 'I');
            if recorded < 4 {
                assert_eq!(
                    breaker.state(),
                    CircuitState::HalfOpen,
                    "{trials}: after trial {i}"
                );
            }
        }
        assert_eq!(breaker.state(), expected, "{trials}");
    }
}

#[test]
fn slow_trials_reopen_it() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .consecutive_failures(1)
        .failure_rate(1.0)
        .slow_calls(0.5, SLOW_LIMIT)
        .wait(secs(1))
        .half_open_permits(2)
        .build()
        .unwrap();
    fail(&breaker);
    clock.advance(secs(1));
    call_taking(&breaker, &clock, SLOW, Outcome::Success);
    call_taking(&breaker, &clock, Duration::ZERO, Outcome::Success);
    assert_eq!(
        breaker.state(),
        CircuitState::Open,
        "one slow trial of two is 50%"
    );
}

#[test]
fn failed_trials_reopen_it_for_the_backoffs_next_wait_and_a_close_starts_it_over() {
    let clock = ManualClock::new();
    let backoff = exponential(secs(10), 2.0);
    let breaker = on(&clock)
        .consecutive_failures(1)
        .wait_backoff(backoff)
        .half_open_permits(1)
        .build()
        .unwrap();
    fail(&breaker);
    assert_eq!(rejection(&breaker).retry_after(), Some(backoff.delay(0)));
    assert_eq!(backoff.delay(0), secs(10));
    for n in 1..=3 {
        clock.advance(backoff.delay(n - 1));
        fail(&breaker); // The trial.
        assert_eq!(breaker.state(), CircuitState::Open, "trip {n}");
        assert_eq!(
            rejection(&breaker).retry_after(),
            Some(backoff.delay(n)),
            "trip {n}"
        );
        clock.advance(backoff.delay(n) - ns(1));
        assert_eq!(rejection(&breaker).retry_after(), Some(ns(1)), "trip {n}");
        clock.advance(ns(1));
        if n < 3 {
            continue;
        }
        // The last wait is 80 s; a successful trial closes the breaker.
        assert_eq!(backoff.delay(3), secs(80));
        succeed(&breaker);
        assert_eq!(breaker.state(), CircuitState::Closed);
    }
    fail(&breaker);
    assert_eq!(
        rejection(&breaker).retry_after(),
        Some(secs(10)),
        "the growth starts again after a close"
    );
}

#[test]
fn a_constant_wait_is_the_same_after_every_trip() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, ms(250), 1);
    fail(&breaker);
    for _ in 0..5 {
        assert_eq!(rejection(&breaker).retry_after(), Some(ms(250)));
        clock.advance(ms(250));
        fail(&breaker);
    }
    assert_eq!(breaker.state(), CircuitState::Open);
}

/// A time window of 10 s in 10 buckets, opening at half of at least 3 calls.
fn timed(clock: &ManualClock) -> CircuitBreaker<ManualClock> {
    on(clock)
        .window(SlidingWindow::time(secs(10), 10))
        .minimum_calls(3)
        .failure_rate(0.5)
        .build()
        .unwrap()
}

#[test]
fn a_time_window_trips_on_failures_inside_it() {
    let clock = ManualClock::new();
    let breaker = timed(&clock);
    fail(&breaker);
    fail(&breaker);
    clock.advance(secs(10) - ns(1));
    succeed(&breaker);
    assert_eq!(
        breaker.state(),
        CircuitState::Open,
        "2 of 3 calls in the last 10 s failed"
    );
}

#[test]
fn failures_older_than_the_time_window_stop_counting() {
    let clock = ManualClock::new();
    let breaker = timed(&clock);
    fail(&breaker);
    fail(&breaker);
    clock.advance(secs(10));
    assert_eq!(breaker.metrics().calls, 0, "both failures expired");
    succeed(&breaker);
    fail(&breaker);
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "2 calls, under the minimum"
    );
    succeed(&breaker);
    assert_eq!(breaker.state(), CircuitState::Closed, "1 failure of 3");
}

#[test]
fn time_window_buckets_expire_one_at_a_time() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::time(secs(10), 10))
        .minimum_calls(100)
        .build()
        .unwrap();
    // A failure half-way through the first bucket, and two calls at 5 s.
    clock.advance(ms(500));
    fail(&breaker);
    clock.advance(ms(4500));
    fail(&breaker);
    succeed(&breaker);
    let calls = |t: Duration| {
        clock.advance_to(support::at(t));
        let m = breaker.metrics();
        (m.calls, m.failures)
    };
    assert_eq!(calls(secs(10) - ns(1)), (3, 2));
    // The window moves a whole bucket at a time: the failure at 0.5 s leaves
    // with its bucket at 10 s.
    assert_eq!(calls(secs(10)), (2, 1));
    assert_eq!(calls(secs(15) - ns(1)), (2, 1));
    assert_eq!(calls(secs(15)), (0, 0));
}

#[test]
fn a_time_window_forgets_everything_after_a_quiet_period() {
    let clock = ManualClock::new();
    let breaker = timed(&clock);
    for _ in 0..2 {
        fail(&breaker);
        clock.advance(secs(1));
    }
    clock.advance(secs(3600));
    assert_eq!(breaker.metrics().calls, 0);
    succeed(&breaker);
    succeed(&breaker);
    fail(&breaker);
    assert_eq!(breaker.state(), CircuitState::Closed);
    fail(&breaker);
    assert_eq!(breaker.state(), CircuitState::Open, "2 of 4 fresh calls");
}

#[test]
fn force_open_rejects_every_call_with_no_retry_after() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, secs(1), 1);
    breaker.force_open();
    assert_eq!(breaker.state(), CircuitState::ForcedOpen);
    for _ in 0..3 {
        let r = rejection(&breaker);
        assert_eq!(
            (r.state(), r.retry_after()),
            (CircuitState::ForcedOpen, None)
        );
        clock.advance(secs(3600));
    }
    assert_eq!(
        breaker.state(),
        CircuitState::ForcedOpen,
        "time does not release it"
    );
    breaker.reset();
    assert_eq!(breaker.state(), CircuitState::Closed);
    succeed(&breaker);
}

#[test]
fn force_open_holds_an_open_breaker_past_its_wait() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, secs(1), 1);
    fail(&breaker);
    breaker.force_open();
    clock.advance(secs(2));
    assert_eq!(rejection(&breaker).state(), CircuitState::ForcedOpen);
}

#[test]
fn disable_admits_every_call_and_records_nothing() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .consecutive_failures(1)
        .window(SlidingWindow::count(10))
        .minimum_calls(1)
        .slow_calls(0.1, SLOW_LIMIT)
        .build()
        .unwrap();
    breaker.disable();
    for i in 0..100 {
        let permit = breaker
            .try_acquire()
            .unwrap_or_else(|r| panic!("call {i}: {r}"));
        clock.advance(SLOW);
        permit.failure();
    }
    assert_eq!(breaker.state(), CircuitState::Disabled);
    let m = breaker.metrics();
    assert_eq!(
        (m.calls, m.failures, m.slow_calls, m.consecutive_failures),
        (0, 0, 0, 0)
    );
    breaker.reset();
    fail(&breaker);
    assert_eq!(
        breaker.state(),
        CircuitState::Open,
        "live again after reset"
    );
}

#[test]
fn disable_lets_calls_through_an_open_breaker() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, secs(60), 1);
    fail(&breaker);
    breaker.disable();
    assert_eq!(breaker.call(|| Ok::<_, ()>(7)), Ok(7));
    assert_eq!(breaker.state(), CircuitState::Disabled);
    breaker.force_open();
    assert_eq!(rejection(&breaker).state(), CircuitState::ForcedOpen);
    breaker.disable();
    succeed(&breaker);
}

#[test]
fn reset_closes_an_open_breaker_with_an_empty_window() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::count(4))
        .minimum_calls(4)
        .wait(secs(60))
        .build()
        .unwrap();
    for _ in 0..4 {
        fail(&breaker);
    }
    assert_eq!(breaker.state(), CircuitState::Open);
    breaker.reset();
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.metrics().calls, 0);
    for _ in 0..3 {
        fail(&breaker);
    }
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "under the minimum again"
    );
}

#[test]
fn reset_closes_a_half_open_breaker_and_clears_a_closed_window() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, secs(1), 2);
    fail(&breaker);
    clock.advance(secs(1));
    let trial = breaker.try_acquire().unwrap();
    breaker.reset();
    assert_eq!(breaker.state(), CircuitState::Closed);
    trial.failure(); // A stale trial: changes nothing.
    assert_eq!(breaker.state(), CircuitState::Closed);

    let counting = on(&clock)
        .window(SlidingWindow::count(10))
        .minimum_calls(10)
        .build()
        .unwrap();
    for _ in 0..5 {
        fail(&counting);
    }
    counting.reset();
    assert_eq!(counting.metrics().calls, 0);
}

#[test]
fn reset_forgets_the_trip_history() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .consecutive_failures(1)
        .wait_backoff(exponential(secs(10), 3.0))
        .half_open_permits(1)
        .build()
        .unwrap();
    fail(&breaker);
    clock.advance(secs(10));
    fail(&breaker);
    assert_eq!(rejection(&breaker).retry_after(), Some(secs(30)));
    breaker.reset();
    fail(&breaker);
    assert_eq!(rejection(&breaker).retry_after(), Some(secs(10)));
}

#[test]
fn open_for_opens_it_for_exactly_that_long() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, secs(60), 1);
    breaker.open_for(ms(700));
    assert_eq!(breaker.state(), CircuitState::Open);
    assert_eq!(rejection(&breaker).retry_after(), Some(ms(700)));
    clock.advance(ms(700) - ns(1));
    assert_eq!(rejection(&breaker).retry_after(), Some(ns(1)));
    clock.advance(ns(1));
    succeed(&breaker);
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "then half-open as usual"
    );
}

#[test]
fn open_for_zero_goes_half_open_on_the_next_call() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, secs(60), 2);
    breaker.open_for(Duration::ZERO);
    assert_eq!(breaker.state(), CircuitState::Open);
    let _trial = breaker.try_acquire().unwrap();
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
}

#[test]
fn open_for_works_from_every_state() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, secs(60), 1);
    let states: [fn(&CircuitBreaker<ManualClock>); 4] = [
        |_| {},
        CircuitBreaker::force_open,
        CircuitBreaker::disable,
        |b| b.open_for(Duration::ZERO),
    ];
    for (i, enter) in states.into_iter().enumerate() {
        breaker.reset();
        enter(&breaker);
        breaker.open_for(secs(3));
        assert_eq!(rejection(&breaker).retry_after(), Some(secs(3)), "case {i}");
    }
    // And from half-open, with a trial out.
    breaker.reset();
    breaker.open_for(Duration::ZERO);
    let trial = breaker.try_acquire().unwrap();
    breaker.open_for(secs(3));
    trial.success(); // Stale: does not close it.
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn a_thousand_trials_are_admitted_and_decide() {
    let clock = ManualClock::new();
    let breaker = tripping(&clock, secs(1), 1000);
    for fail_them in [false, true, false] {
        breaker.open_for(Duration::ZERO);
        let trials: Vec<_> = (0..1000).map(|_| breaker.try_acquire().unwrap()).collect();
        assert_eq!(rejection(&breaker).state(), CircuitState::HalfOpen);
        for trial in trials {
            if fail_them {
                trial.failure();
            } else {
                trial.success();
            }
        }
        let expected = if fail_them {
            CircuitState::Open
        } else {
            CircuitState::Closed
        };
        assert_eq!(breaker.state(), expected);
    }
}

#[test]
fn a_time_window_starts_empty_after_the_trials_close_the_breaker() {
    let clock = ManualClock::new();
    let breaker = on(&clock)
        .window(SlidingWindow::time(secs(10), 10))
        .minimum_calls(2)
        .wait(secs(5))
        .half_open_permits(1)
        .build()
        .unwrap();
    fail(&breaker);
    fail(&breaker);
    assert_eq!(breaker.state(), CircuitState::Open);
    clock.advance(secs(5));
    succeed(&breaker);
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.metrics().calls, 0, "the failures 5 s ago are gone");
    fail(&breaker);
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "one call, under the minimum"
    );
    fail(&breaker);
    assert_eq!(breaker.state(), CircuitState::Open);
}

/// Regression (review finding): a trial permit that never reports kept the
/// breaker half-open, rejecting everything, for ever.
#[test]
fn a_half_open_timeout_reopens_a_breaker_whose_trial_never_reports() {
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(1)
        .half_open_permits(1)
        .wait(Duration::from_secs(10))
        .half_open_timeout(Duration::from_secs(30))
        .clock(clock.clone())
        .build()
        .unwrap();
    let _ = breaker.call(|| Err::<(), _>("down"));
    clock.advance(Duration::from_secs(10));
    let hung = breaker.try_acquire().unwrap();
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    clock.advance(Duration::from_secs(29));
    assert!(
        breaker.try_acquire().is_err(),
        "still waiting for the trial"
    );
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    clock.advance(Duration::from_secs(1));
    let rejected = breaker.try_acquire().unwrap_err();
    assert_eq!(
        breaker.state(),
        CircuitState::Open,
        "the hung trial timed out"
    );
    assert_eq!(rejected.retry_after(), Some(Duration::from_secs(10)));
    // The late trial's outcome is stale and changes nothing.
    hung.success();
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn without_failure_rate_only_the_chosen_conditions_trip() {
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::builder()
        .without_failure_rate()
        .consecutive_failures(3)
        .window(SlidingWindow::count(4))
        .clock(clock.clone())
        .build()
        .unwrap();
    // 50% failures over a full window, never three in a row: stays closed.
    for i in 0..8 {
        let _ = breaker.call(|| if i % 2 == 0 { Err("down") } else { Ok(()) });
    }
    assert_eq!(breaker.state(), CircuitState::Closed);
    for _ in 0..3 {
        let _ = breaker.call(|| Err::<(), _>("down"));
    }
    assert_eq!(breaker.state(), CircuitState::Open);
}
