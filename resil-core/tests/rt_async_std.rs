//! async-std's own `async_std::task::sleep` as a `Sleeper`, through the
//! blanket impl. async-std has no paused clock, so nothing here waits: sleeps
//! are zero, and timeouts are decided at once.

mod support;

use std::future::pending;
use std::pin::pin;
use std::time::Duration;

use resil_core::{Sleeper, timeout};

use support::{DropFlag, never_finishing, poll_once};

/// Takes any sleeper; called with `&async_std::task::sleep`, this is the
/// blanket impl at work.
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
fn async_std_sleep_is_a_sleeper_as_is() {
    async_std::task::block_on(async {
        sleep_via(&async_std::task::sleep, Duration::ZERO).await;
    });
}

#[test]
fn a_ready_operation_wins_at_once() {
    let answer = async_std::task::block_on(bounded(
        &async_std::task::sleep,
        Duration::from_secs(3600),
        async { 7 },
    ));
    assert_eq!(answer, Ok(7));
}

#[test]
fn a_pending_operation_times_out_at_once_with_a_zero_limit() {
    let dropped = DropFlag::new();
    let result = async_std::task::block_on(bounded(
        &async_std::task::sleep,
        Duration::ZERO,
        never_finishing(dropped.guard()),
    ));
    assert_eq!(result.unwrap_err().limit(), Duration::ZERO);
    assert!(dropped.is_set(), "the operation was not cancelled");

    let result = async_std::task::block_on(bounded(
        &async_std::task::sleep,
        Duration::ZERO,
        pending::<()>(),
    ));
    assert!(result.is_err());
}

#[test]
fn a_limit_of_duration_max_does_not_panic() {
    let answer =
        async_std::task::block_on(bounded(&async_std::task::sleep, Duration::MAX, async { 1 }));
    assert_eq!(answer, Ok(1));

    // Polled by hand once: the huge timer is armed without panicking.
    let mut call = pin!(bounded(
        &async_std::task::sleep,
        Duration::MAX,
        pending::<()>()
    ));
    assert!(poll_once(call.as_mut()).is_pending());

    // Inside a zero limit, the huge one neither panics nor wins the race.
    let inner = bounded(&async_std::task::sleep, Duration::MAX, pending::<()>());
    let outer = async_std::task::block_on(bounded(&async_std::task::sleep, Duration::ZERO, inner));
    assert_eq!(outer.unwrap_err().limit(), Duration::ZERO);
}
