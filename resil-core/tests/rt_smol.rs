//! smol's own `smol::Timer::after` as a `Sleeper`, through the blanket impl:
//! its future yields an `Instant` rather than `()`, which the blanket impl
//! must accept. smol has no paused clock, so nothing here waits: sleeps are
//! zero, and timeouts are decided at once.

mod support;

use std::future::pending;
use std::pin::pin;
use std::time::Duration;

use resil_core::{Sleeper, timeout};

use support::{DropFlag, never_finishing, poll_once};

/// Takes any sleeper; called with `&smol::Timer::after`, this is the blanket
/// impl at work.
fn make_sleep<S: Sleeper>(sleeper: &S, d: Duration) -> S::Sleep {
    sleeper.sleep(d)
}

async fn sleep_via<S: Sleeper>(sleeper: &S, d: Duration) {
    sleeper.sleep(d).await;
}

/// Runs `operation` under a timeout on any sleeper.
async fn bounded<S: Sleeper, T>(
    sleeper: &S,
    limit: Duration,
    operation: impl Future<Output = T>,
) -> Result<T, resil_core::Elapsed> {
    timeout(sleeper, limit, operation).await
}

#[test]
fn smol_timer_is_a_sleeper_as_is() {
    smol::block_on(async {
        // The future is smol's own timer, and its output is the instant it fired.
        let first: smol::Timer = make_sleep(&smol::Timer::after, Duration::ZERO);
        let first: std::time::Instant = first.await;
        let second = make_sleep(&smol::Timer::after, Duration::ZERO).await;
        assert!(second >= first);

        sleep_via(&smol::Timer::after, Duration::ZERO).await;
    });
}

#[test]
fn a_ready_operation_wins_at_once() {
    let answer = smol::block_on(bounded(
        &smol::Timer::after,
        Duration::from_secs(3600),
        async { 7 },
    ));
    assert_eq!(answer, Ok(7));
}

#[test]
fn a_pending_operation_times_out_at_once_with_a_zero_limit() {
    let dropped = DropFlag::new();
    let result = smol::block_on(bounded(
        &smol::Timer::after,
        Duration::ZERO,
        never_finishing(dropped.guard()),
    ));
    assert_eq!(result.unwrap_err().limit(), Duration::ZERO);
    assert!(dropped.is_set(), "the operation was not cancelled");

    let result = smol::block_on(bounded(
        &smol::Timer::after,
        Duration::ZERO,
        pending::<()>(),
    ));
    assert!(result.is_err());
}

#[test]
fn a_limit_of_duration_max_does_not_panic() {
    let answer = smol::block_on(bounded(&smol::Timer::after, Duration::MAX, async { 1 }));
    assert_eq!(answer, Ok(1));

    // Polled by hand once: the huge timer is armed without panicking.
    let mut call = pin!(bounded(&smol::Timer::after, Duration::MAX, pending::<()>()));
    assert!(poll_once(call.as_mut()).is_pending());

    // Inside a zero limit, the huge one neither panics nor wins the race.
    let inner = bounded(&smol::Timer::after, Duration::MAX, pending::<()>());
    let outer = smol::block_on(bounded(&smol::Timer::after, Duration::ZERO, inner));
    assert_eq!(outer.unwrap_err().limit(), Duration::ZERO);
}
