//! tokio's own `tokio::time::sleep` as a `Sleeper`, through the blanket impl,
//! on tokio's paused clock: sleeps and timeouts take exactly the virtual
//! time they should, and huge durations do not panic.

mod support;

use std::future::pending;
use std::time::Duration;

use resil_core::{Sleeper, timeout};
use tokio::time::Instant;

use support::DropFlag;

/// About ten years: far beyond tokio's timer wheel, well within its clock.
const TEN_YEARS: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// Takes any sleeper; called with `&tokio::time::sleep`, this is the blanket
/// impl at work.
fn make_sleep<S: Sleeper>(sleeper: &S, d: Duration) -> S::Sleep {
    sleeper.sleep(d)
}

async fn sleep_via<S: Sleeper>(sleeper: &S, d: Duration) {
    sleeper.sleep(d).await;
}

#[tokio::test(start_paused = true)]
async fn tokio_sleep_is_a_sleeper_as_is() {
    // The future is tokio's own, untouched.
    let sleep: tokio::time::Sleep = make_sleep(&tokio::time::sleep, Duration::from_millis(1500));
    let start = Instant::now();
    sleep.await;
    assert_eq!(start.elapsed(), Duration::from_millis(1500));

    let start = Instant::now();
    sleep_via(&tokio::time::sleep, Duration::from_secs(3)).await;
    sleep_via(&tokio::time::sleep, Duration::from_millis(250)).await;
    assert_eq!(start.elapsed(), Duration::from_millis(3250));

    let start = Instant::now();
    sleep_via(&tokio::time::sleep, Duration::ZERO).await;
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_ready_operation_wins_at_once() {
    let start = Instant::now();
    let answer = timeout(&tokio::time::sleep, Duration::from_secs(1), async { 42 }).await;
    assert_eq!(answer, Ok(42));
    let answer = timeout(&tokio::time::sleep, Duration::ZERO, async { 43 }).await;
    assert_eq!(answer, Ok(43));
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn an_operation_that_finishes_first_wins_when_it_finishes() {
    let start = Instant::now();
    let operation = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        "done"
    };
    let answer = timeout(&tokio::time::sleep, Duration::from_secs(2), operation).await;
    assert_eq!(answer, Ok("done"));
    assert_eq!(start.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn a_pending_operation_times_out_after_exactly_the_limit() {
    let start = Instant::now();
    let limit = Duration::from_secs(2);
    let elapsed = timeout(&tokio::time::sleep, limit, pending::<()>())
        .await
        .unwrap_err();
    assert_eq!(elapsed.limit(), limit);
    assert_eq!(start.elapsed(), limit);
}

#[tokio::test(start_paused = true)]
async fn a_slow_operation_is_cancelled_at_the_limit() {
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let operation = async move {
        let _guard = guard;
        tokio::time::sleep(Duration::from_secs(5)).await;
    };
    let start = Instant::now();
    let result = timeout(&tokio::time::sleep, Duration::from_secs(3), operation).await;
    assert!(result.is_err());
    assert!(dropped.is_set());
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn huge_durations_do_not_panic() {
    let start = Instant::now();
    let elapsed = timeout(&tokio::time::sleep, TEN_YEARS, pending::<()>())
        .await
        .unwrap_err();
    assert_eq!(elapsed.limit(), TEN_YEARS);
    assert_eq!(start.elapsed(), TEN_YEARS);

    // `Duration::MAX`: a ready operation still wins at once.
    let start = Instant::now();
    let answer = timeout(&tokio::time::sleep, Duration::MAX, async { 1 }).await;
    assert_eq!(answer, Ok(1));
    assert_eq!(start.elapsed(), Duration::ZERO);

    // `Duration::MAX` around a pending operation neither panics nor elapses
    // within ten years.
    let start = Instant::now();
    let inner = timeout(&tokio::time::sleep, Duration::MAX, pending::<()>());
    let outer = timeout(&tokio::time::sleep, TEN_YEARS, inner).await;
    assert_eq!(outer.unwrap_err().limit(), TEN_YEARS);
    assert_eq!(start.elapsed(), TEN_YEARS);
}
