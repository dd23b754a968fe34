//! `resil_core::timeout` in virtual time, polled by hand: who wins the race,
//! exactly when the limit passes, cancellation of the operation, clean-up of
//! the timer, extreme limits and the `Elapsed` error.

mod support;

use std::error::Error as _;
use std::future::{Future, pending, ready};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use resil_core::{Clock, Elapsed, Instant, ManualClock, ManualSleep, Sleeper, timeout};

use support::{DropFlag, WakeLog, never_finishing, poll_once, poll_with};

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn at(d: Duration) -> Instant {
    Instant::ZERO + d
}

/// Pending on its first poll, ready on its second: an operation that needs
/// no time, only another turn.
#[derive(Default)]
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        if self.0 {
            Poll::Ready("done")
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Runs a timeout of `limit` over a never-finishing operation to its end.
fn elapsed_after(limit: Duration) -> Elapsed {
    let clock = ManualClock::new();
    let mut call = pin!(timeout(&clock, limit, pending::<()>()));
    assert!(poll_once(call.as_mut()).is_pending());
    clock.advance(limit);
    match poll_once(call.as_mut()) {
        Poll::Ready(Err(elapsed)) => elapsed,
        other => panic!("expected the limit to pass, got {other:?}"),
    }
}

#[test]
fn a_ready_operation_wins_even_with_a_zero_limit() {
    let clock = ManualClock::new();

    let mut call = pin!(timeout(&clock, Duration::ZERO, async { 7 }));
    assert_eq!(poll_once(call.as_mut()), Poll::Ready(Ok(7)));

    // Anything `IntoFuture` is accepted, not only futures.
    let mut call = pin!(timeout(&clock, Duration::ZERO, ready("now")));
    assert_eq!(poll_once(call.as_mut()), Poll::Ready(Ok("now")));

    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(clock.now(), Instant::ZERO);
}

#[test]
fn a_pending_operation_times_out_at_once_with_a_zero_limit() {
    let clock = ManualClock::new();
    let mut call = pin!(timeout(&clock, Duration::ZERO, pending::<()>()));
    match poll_once(call.as_mut()) {
        Poll::Ready(Err(elapsed)) => assert_eq!(elapsed.limit(), Duration::ZERO),
        other => panic!("expected an immediate timeout, got {other:?}"),
    }
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn a_pending_operation_times_out_exactly_at_the_limit() {
    let clock = ManualClock::new();
    let log = WakeLog::new();
    let limit = secs(2);
    let mut call = pin!(timeout(&clock, limit, pending::<u8>()));

    assert!(poll_with(call.as_mut(), &log.waker(0)).is_pending());
    assert_eq!(clock.pending_sleeps(), 1);
    assert_eq!(clock.next_deadline(), Some(at(limit)));

    // One nanosecond before the limit: not woken, still pending.
    clock.advance(limit - Duration::from_nanos(1));
    assert!(log.snapshot().is_empty());
    assert!(poll_with(call.as_mut(), &log.waker(0)).is_pending());

    // At the limit the caller is woken, and the next poll reports the timeout.
    clock.advance(Duration::from_nanos(1));
    assert_eq!(log.take(), [0]);
    match poll_once(call.as_mut()) {
        Poll::Ready(Err(elapsed)) => assert_eq!(elapsed.limit(), limit),
        other => panic!("expected the limit to pass, got {other:?}"),
    }
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn the_timer_starts_at_the_first_poll() {
    let clock = ManualClock::new();
    let mut call = pin!(timeout(&clock, secs(2), pending::<()>()));
    // Time that passes before the first poll does not count against the limit.
    clock.advance(secs(5));
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!(clock.next_deadline(), Some(at(secs(7))));
    clock.advance(secs(1));
    assert!(poll_once(call.as_mut()).is_pending());
    clock.advance(secs(1));
    assert!(matches!(poll_once(call.as_mut()), Poll::Ready(Err(_))));
}

#[test]
fn an_operation_ready_when_the_limit_passes_still_wins() {
    let clock = ManualClock::new();
    let op_clock = clock.clone();
    let operation = async move {
        op_clock.sleep(secs(2)).await;
        "made it"
    };
    let mut call = pin!(timeout(&clock, secs(2), operation));
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!(clock.pending_sleeps(), 2);

    // Both the operation and the limit fall due at the same instant.
    clock.advance(secs(2));
    assert_eq!(poll_once(call.as_mut()), Poll::Ready(Ok("made it")));
}

#[test]
fn the_operation_is_dropped_before_the_timeout_is_reported() {
    let clock = ManualClock::new();
    let dropped = DropFlag::new();
    let mut call = pin!(timeout(&clock, secs(1), never_finishing(dropped.guard())));

    assert!(poll_once(call.as_mut()).is_pending());
    clock.advance(secs(1) - Duration::from_nanos(1));
    assert!(poll_once(call.as_mut()).is_pending());
    assert!(!dropped.is_set(), "cancelled before the limit");

    clock.advance(Duration::from_nanos(1));
    assert!(matches!(poll_once(call.as_mut()), Poll::Ready(Err(_))));
    // The timeout future itself is still alive: the result alone cancelled the operation.
    assert!(dropped.is_set(), "not cancelled at the limit");
}

#[test]
fn the_timer_is_removed_when_the_operation_finishes_first() {
    let clock = ManualClock::new();

    // An operation that needs another turn but no time.
    let mut call = pin!(timeout(&clock, secs(10), YieldOnce::default()));
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!(clock.pending_sleeps(), 1);
    assert_eq!(poll_once(call.as_mut()), Poll::Ready(Ok("done")));
    // The timeout future is still alive: finishing alone removed the timer.
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(clock.next_deadline(), None);

    // An operation that itself sleeps for part of the limit.
    let op_clock = clock.clone();
    let operation = async move {
        op_clock.sleep(secs(1)).await;
        op_clock.now()
    };
    let mut call = pin!(timeout(&clock, secs(10), operation));
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!(clock.pending_sleeps(), 2);
    assert_eq!(clock.advance_to_next(), Some(at(secs(1))));
    assert_eq!(poll_once(call.as_mut()), Poll::Ready(Ok(at(secs(1)))));
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(clock.advance_to_next(), None);
}

#[test]
fn dropping_the_timeout_mid_flight_leaves_no_timer_and_cancels_the_operation() {
    let clock = ManualClock::new();
    let dropped = DropFlag::new();
    let mut call = Box::pin(timeout(&clock, secs(30), never_finishing(dropped.guard())));
    assert!(poll_once(call.as_mut()).is_pending());
    clock.advance(secs(10));
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!(clock.pending_sleeps(), 1);

    drop(call);
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(clock.next_deadline(), None);
    assert!(dropped.is_set());
}

#[test]
fn a_limit_of_duration_max_does_not_panic() {
    let clock = ManualClock::new();

    let mut call = pin!(timeout(&clock, Duration::MAX, async { 1 }));
    assert_eq!(poll_once(call.as_mut()), Poll::Ready(Ok(1)));

    // From a late start, the limit saturates at the end of time.
    let late = ManualClock::starting_at(Instant::MAX - secs(1));
    let mut call = pin!(timeout(&late, Duration::MAX, pending::<()>()));
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!(late.next_deadline(), Some(Instant::MAX));
    late.advance(secs(1) - Duration::from_nanos(1));
    assert!(poll_once(call.as_mut()).is_pending());
    late.advance(Duration::MAX);
    match poll_once(call.as_mut()) {
        Poll::Ready(Err(elapsed)) => assert_eq!(elapsed.limit(), Duration::MAX),
        other => panic!("expected the limit to pass, got {other:?}"),
    }
}

#[test]
fn any_sleeper_works_whatever_its_output() {
    let clock = ManualClock::new();

    // The blanket impl: a closure whose sleep yields a value that is ignored.
    let sleep_clock = clock.clone();
    let sleeper = move |d: Duration| {
        let sleep = sleep_clock.sleep(d);
        async move {
            sleep.await;
            "ignored"
        }
    };
    let mut call = pin!(timeout(&sleeper, secs(3), pending::<()>()));
    assert!(poll_once(call.as_mut()).is_pending());
    clock.advance(secs(3));
    assert!(matches!(poll_once(call.as_mut()), Poll::Ready(Err(_))));

    // An unsized sleeper behind a trait object.
    let dynamic: &dyn Sleeper<Sleep = ManualSleep> = &clock;
    let mut call = pin!(timeout(dynamic, secs(3), pending::<()>()));
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!(clock.next_deadline(), Some(at(secs(6))));
    clock.advance(secs(3));
    assert!(matches!(poll_once(call.as_mut()), Poll::Ready(Err(_))));
}

#[test]
fn elapsed_reads_as_a_short_lowercase_message() {
    let elapsed = elapsed_after(secs(2));
    assert_eq!(elapsed.to_string(), "operation timed out after 2s");
    assert_eq!(
        elapsed_after(Duration::from_millis(1_500)).to_string(),
        "operation timed out after 1.5s"
    );
    assert!(elapsed.source().is_none());

    // A small `Copy` value compared by its limit.
    let copy = elapsed;
    assert_eq!(copy, elapsed);
    assert_ne!(elapsed, elapsed_after(secs(3)));
}
