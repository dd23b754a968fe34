//! The limiter on tokio in paused time, with `tokio::time::sleep` as the
//! sleeper: a waiter granted when another task drops its permit, a timeout
//! after exactly `max_wait`, a waiter cancelled by `tokio::time::timeout`
//! leaving the queue, and an adaptive limit moved by permits measured on a
//! clock that reads tokio's time.

use std::time::Duration;

use resil_core::{EventKind, ShedReason, listener_fn};
use resil_shed::{Aimd, ConcurrencyLimit, Fixed, Priority};
use resil_testkit::{EventLog, TokioClock};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A limit of one, with a queue of four and a second's wait, on tokio's time.
fn one_at_a_time() -> ConcurrencyLimit<Fixed, TokioClock> {
    ConcurrencyLimit::builder(Fixed::try_from(1).unwrap())
        .max_queue(4)
        .max_wait(Duration::from_secs(1))
        .clock(TokioClock::new())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_waiter_is_granted_when_another_task_drops_its_permit() {
    let limiter = one_at_a_time();
    let start = tokio::time::Instant::now();
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    let holder = tokio::spawn(async move {
        tokio::time::sleep(ms(250)).await;
        drop(held);
    });
    let waiter = {
        let limiter = limiter.clone();
        tokio::spawn(async move {
            let permit = limiter
                .acquire(&tokio::time::sleep, Priority::Critical)
                .await
                .unwrap();
            (permit.priority(), limiter.in_flight())
        })
    };
    tokio::task::yield_now().await;
    assert_eq!(limiter.waiting(), 1);
    assert!(
        limiter.try_acquire(Priority::Critical).is_err(),
        "no overtaking the waiter"
    );
    let (granted, in_flight) = waiter.await.unwrap();
    assert_eq!(granted, Priority::Critical);
    assert_eq!(in_flight, 1, "handed over, not freed and taken again");
    assert_eq!(start.elapsed(), ms(250));
    holder.await.unwrap();
    assert_eq!((limiter.in_flight(), limiter.waiting()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_waiter_times_out_after_exactly_max_wait() {
    let limiter = one_at_a_time();
    let _held = limiter.try_acquire(Priority::Critical).unwrap();
    let start = tokio::time::Instant::now();
    let Err(shed) = limiter
        .acquire(&tokio::time::sleep, Priority::CriticalPlus)
        .await
    else {
        panic!("nothing was freed");
    };
    assert_eq!(shed.reason(), ShedReason::WaitedTooLong);
    assert_eq!(shed.priority(), Priority::CriticalPlus);
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert_eq!(limiter.waiting(), 0);
    assert_eq!(limiter.in_flight(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_waiter_cancelled_by_a_timeout_leaves_the_queue() {
    let limiter = one_at_a_time();
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    let start = tokio::time::Instant::now();
    let outcome = tokio::time::timeout(
        ms(50),
        limiter.acquire(&tokio::time::sleep, Priority::Critical),
    )
    .await;
    assert!(outcome.is_err(), "the timeout won");
    assert_eq!(start.elapsed(), ms(50));
    assert_eq!(limiter.waiting(), 0);
    drop(held);
    assert_eq!(
        limiter.in_flight(),
        0,
        "nothing was handed to the cancelled waiter"
    );
    assert!(limiter.try_acquire(Priority::Sheddable).is_ok());
}

#[tokio::test(start_paused = true)]
async fn an_adaptive_limit_moves_with_recorded_permits() {
    let log = EventLog::new();
    let limit = Aimd::builder().initial(4).timeout(ms(100)).build().unwrap();
    let limiter = ConcurrencyLimit::builder(limit)
        .clock(TokioClock::new())
        .name("db")
        .listener(listener_fn(|event| log.push(event)))
        .build()
        .unwrap();
    assert_eq!(limiter.limit(), 4);

    // Rounds of fast successes with the whole limit in use: +1 a round trip or so.
    for _ in 0..3 {
        let permits: Vec<_> = (0..limiter.limit())
            .map(|_| limiter.try_acquire(Priority::Critical).unwrap())
            .collect();
        tokio::time::sleep(ms(10)).await;
        permits.into_iter().for_each(|p| p.success());
    }
    let grown = limiter.limit();
    assert!(grown > 4, "{grown}");
    assert_eq!(log.take_kinds(), [EventKind::limit_changed(4, grown)]);

    // A failure backs off.
    let permit = limiter.try_acquire(Priority::Critical).unwrap();
    tokio::time::sleep(ms(10)).await;
    permit.failure();
    let backed_off = limiter.limit();
    assert!(backed_off < grown);
    assert_eq!(
        log.take_kinds(),
        [EventKind::limit_changed(grown, backed_off)]
    );

    // A success slower than the timeout, measured on tokio's time, too.
    let permit = limiter.try_acquire(Priority::Critical).unwrap();
    tokio::time::sleep(ms(150)).await;
    permit.success();
    let slowed = limiter.limit();
    assert!(slowed < backed_off);
    let seen = log.take();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].kind, EventKind::limit_changed(backed_off, slowed));
    assert_eq!(seen[0].source, "db");
    assert_eq!(
        seen[0].at,
        resil_core::Instant::ZERO + ms(10 * 3 + 10 + 150)
    );

    // Dropped unrecorded: ignored, the limit holds.
    let permit = limiter.try_acquire(Priority::Critical).unwrap();
    tokio::time::sleep(ms(500)).await;
    drop(permit);
    assert_eq!(limiter.limit(), slowed);
    assert!(log.take().is_empty());
}
