//! Cancellation and panics: dropping a call's future while it waits between
//! attempts or while an attempt is pending leaves no timer behind and the
//! budget's counts consistent, and a panic inside the operation propagates
//! and leaves the policy and its budget usable.

mod support;

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use resil_core::{Clock, ManualClock, Sleeper};
use resil_retry::Retry;

use support::{CountingBudget, Counts, constant, poll_once, secs};

/// A policy on `clock` with 10 s waits, five attempts and `budget`.
fn policy<'b>(
    clock: &ManualClock,
    budget: &'b CountingBudget,
) -> Retry<ManualClock, &'b CountingBudget> {
    Retry::builder()
        .clock(clock.clone())
        .backoff(constant(secs(10)))
        .max_attempts(5)
        .budget(budget)
        .build()
        .unwrap()
}

/// Sets a flag when dropped: shows that an attempt's future was dropped.
struct DropFlag<'a>(&'a Cell<bool>);

impl Drop for DropFlag<'_> {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn dropping_the_call_while_it_waits_leaves_no_timer_and_consistent_counts() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget);
    let calls = Cell::new(0);
    let mut call = Box::pin(retry.run(&clock, async |_| {
        calls.set(calls.get() + 1);
        Err::<(), _>("refused")
    }));
    // The first attempt fails at once; the call now waits 10 s.
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!(clock.pending_sleeps(), 1);
    assert_eq!(clock.next_deadline(), Some(clock.now() + secs(10)));
    let paid = Counts {
        deposits: 1,
        withdrawals: 1,
        granted: 1,
        failures: 1,
        ..Counts::default()
    };
    assert_eq!(
        budget.counts(),
        paid,
        "the retry was paid for when it was decided"
    );

    drop(call);
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(clock.next_deadline(), None);
    assert_eq!(
        budget.counts(),
        paid,
        "nothing refunded, nothing more taken"
    );

    // Time passing afterwards starts no attempt.
    clock.advance(secs(60));
    assert_eq!(calls.get(), 1);
    assert_eq!(budget.counts(), paid);
}

#[test]
fn dropping_the_call_during_its_first_attempt_leaves_no_timer_and_consistent_counts() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget);
    let dropped = Cell::new(false);
    let mut call = Box::pin(retry.run(&clock, async |_| {
        let _flag = DropFlag(&dropped);
        clock.sleep(secs(5)).await;
        Err::<(), _>("too late")
    }));
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!(clock.pending_sleeps(), 1, "the attempt's own sleep");
    let started = Counts {
        deposits: 1,
        ..Counts::default()
    };
    assert_eq!(budget.counts(), started);

    drop(call);
    assert!(dropped.get(), "the attempt was dropped with the call");
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(
        budget.counts(),
        started,
        "an attempt that never ended is not recorded"
    );
}

#[test]
fn dropping_the_call_during_a_later_attempt_leaves_no_timer_and_consistent_counts() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget);
    let mut call = Box::pin(retry.run(&clock, async |attempt| {
        if attempt >= 2 {
            clock.sleep(secs(3600)).await;
        }
        Err::<(), _>(attempt)
    }));
    assert!(poll_once(call.as_mut()).is_pending());
    // The wait ends; the second attempt starts and blocks on its own sleep.
    clock.advance(secs(10));
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!(clock.pending_sleeps(), 1);
    assert_eq!(clock.next_deadline(), Some(clock.now() + secs(3600)));
    let counts = Counts {
        deposits: 1,
        withdrawals: 1,
        granted: 1,
        failures: 1,
        ..Counts::default()
    };
    assert_eq!(budget.counts(), counts);

    drop(call);
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(budget.counts(), counts);
}

#[test]
fn a_policy_keeps_working_after_a_call_is_dropped() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget);
    {
        let mut call = Box::pin(retry.run(&clock, async |_| Err::<(), _>(())));
        assert!(poll_once(call.as_mut()).is_pending());
    }
    let start = clock.now();
    let answer = clock.block_on(retry.run(
        &clock,
        async |attempt| if attempt < 2 { Err(()) } else { Ok(attempt) },
    ));
    assert_eq!(answer, Ok(2));
    assert_eq!(clock.now() - start, secs(10));
    assert_eq!(
        budget.counts(),
        Counts {
            deposits: 2,
            withdrawals: 2,
            granted: 2,
            successes: 1,
            failures: 2,
            ignored: 0,
        }
    );
}

#[test]
fn many_calls_dropped_at_different_points_leave_no_timers() {
    // Each call is dropped after a different number of polls, some while
    // waiting and some while attempting.
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget);
    let mut finished = 0;
    for polls in 1..=8 {
        let mut call = Box::pin(retry.run(&clock, async |attempt| {
            if attempt % 2 == 0 {
                clock.sleep(secs(1)).await;
            }
            Err::<(), _>(())
        }));
        for _ in 0..polls {
            if poll_once(call.as_mut()).is_ready() {
                finished += 1;
                break;
            }
            clock.advance_to_next();
        }
        drop(call);
        assert_eq!(clock.pending_sleeps(), 0, "after {polls} polls");
    }
    let counts = budget.counts();
    assert_eq!(counts.deposits, 8);
    assert_eq!(counts.withdrawals, counts.granted);
    // Every recorded failure was followed by a paid retry, except the last
    // failure of a call whose attempts ran out.
    assert!(
        finished > 0 && finished < 8,
        "the calls stopped at different points"
    );
    assert_eq!(counts.failures - counts.granted, finished);
}

#[test]
fn a_panic_in_a_blocking_operation_propagates_and_leaves_the_policy_usable() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget);
    let panic = catch_unwind(AssertUnwindSafe(|| {
        retry.run_blocking(&clock, |attempt| {
            if attempt == 2 {
                panic!("the operation panicked on attempt {attempt}");
            }
            Err::<(), _>(())
        })
    }))
    .unwrap_err();
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some("the operation panicked on attempt 2")
    );
    let after_panic = Counts {
        deposits: 1,
        withdrawals: 1,
        granted: 1,
        failures: 1,
        ..Counts::default()
    };
    assert_eq!(
        budget.counts(),
        after_panic,
        "the panicking attempt is not recorded"
    );
    assert_eq!(clock.now().since_origin(), secs(10));

    // The next call works as if nothing had happened.
    assert_eq!(
        retry.run_blocking(&clock, |attempt| if attempt < 3 {
            Err(())
        } else {
            Ok(attempt)
        }),
        Ok(3)
    );
    assert_eq!(clock.now().since_origin(), secs(30));
    assert_eq!(
        budget.counts(),
        Counts {
            deposits: 2,
            withdrawals: 3,
            granted: 3,
            successes: 1,
            failures: 3,
            ignored: 0,
        }
    );
}

#[test]
fn a_panic_in_an_async_operation_propagates_and_leaves_the_policy_usable() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget);
    let panic = catch_unwind(AssertUnwindSafe(|| {
        clock.block_on(retry.run(&clock, async |attempt| {
            clock.sleep(secs(1)).await;
            if attempt == 3 {
                panic!("boom");
            }
            Err::<(), _>(())
        }))
    }))
    .unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!(clock.pending_sleeps(), 0, "the unwound call left no timer");
    // Attempts at 0–1 s and 11–12 s, then the third at 22 s panicked after its sleep.
    assert_eq!(clock.now().since_origin(), secs(23));
    let after_panic = Counts {
        deposits: 1,
        withdrawals: 2,
        granted: 2,
        failures: 2,
        ..Counts::default()
    };
    assert_eq!(budget.counts(), after_panic);

    let answer = clock.block_on(retry.run(&clock, async |attempt| Ok::<_, ()>(attempt)));
    assert_eq!(answer, Ok(1));
    assert_eq!(
        budget.counts(),
        Counts {
            deposits: 2,
            successes: 1,
            ..after_panic
        }
    );
}

#[test]
fn a_panic_in_the_on_retry_hook_propagates_before_the_wait() {
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget);
    let panic = catch_unwind(AssertUnwindSafe(|| {
        retry
            .call_blocking(|_| Err::<(), _>(()))
            .on_retry(|_| panic!("hook"))
            .run(&clock)
    }));
    assert!(panic.is_err());
    assert_eq!(clock.now().since_origin(), Duration::ZERO, "no wait began");
    assert_eq!(retry.run_blocking(&clock, |_| Ok::<_, ()>(5)), Ok(5));
}

#[test]
fn a_call_dropped_before_its_first_poll_touches_nothing() {
    // A call is lazy: the deposit is made when it starts, not when it is made.
    let clock = ManualClock::new();
    let budget = CountingBudget::unlimited();
    let retry = policy(&clock, &budget);
    let calls = Cell::new(0);
    let call = retry.run(&clock, async |_| {
        calls.set(calls.get() + 1);
        Ok::<_, ()>(())
    });
    drop(call);
    assert_eq!(calls.get(), 0);
    assert_eq!(budget.counts(), Counts::default());
    assert_eq!(clock.pending_sleeps(), 0);
}
