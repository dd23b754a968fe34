//! The limiter's wait queue on smol, with `smol::Timer::after` as the sleeper: a
//! waiter granted when a spawned task drops its permit, the most critical
//! waiting task served first, a cancelled waiting task leaving the queue,
//! a wait of one nanosecond timing out, and a free limiter not waiting at
//! all. smol has no paused clock, so nothing here waits for real: tasks
//! yield until the queue holds what the test needs, grants come from
//! drops, and the one timer that fires is a nanosecond long. The
//! limiter's clock is a `ManualClock`.

use std::time::Duration;

use resil_core::{ManualClock, ShedReason};
use resil_shed::{ConcurrencyLimit, Fixed, Priority};

type Limiter = ConcurrencyLimit<Fixed, ManualClock>;

/// smol's sleep, as a sleeper.
fn sleep(d: Duration) -> smol::Timer {
    smol::Timer::after(d)
}

fn limiter(max_wait: Duration) -> Limiter {
    ConcurrencyLimit::builder(Fixed::try_from(1).unwrap())
        .max_queue(4)
        .max_wait(max_wait)
        .clock(ManualClock::new())
        .build()
        .unwrap()
}

/// Yields until `limiter` has `n` waiters.
async fn until_waiting(limiter: &Limiter, n: u32) {
    while limiter.waiting() != n {
        smol::future::yield_now().await;
    }
}

#[test]
fn a_waiter_is_granted_when_a_spawned_task_drops_its_permit() {
    // Granted long before the (hour-long) wait could end.
    let limiter = limiter(Duration::from_secs(3600));
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    let holder = {
        let limiter = limiter.clone();
        smol::spawn(async move {
            until_waiting(&limiter, 1).await;
            drop(held);
        })
    };
    smol::block_on(async {
        let permit = limiter.acquire(&sleep, Priority::Critical).await.unwrap();
        assert_eq!(permit.priority(), Priority::Critical);
        assert_eq!(limiter.in_flight(), 1);
        holder.await;
    });
    assert_eq!((limiter.in_flight(), limiter.waiting()), (0, 0));
}

#[test]
fn a_freed_permit_goes_to_the_most_critical_waiting_task() {
    let limiter = limiter(Duration::from_secs(3600));
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    let waiter = |priority| {
        let limiter = limiter.clone();
        smol::spawn(async move { limiter.acquire(&sleep, priority).await.unwrap() })
    };
    // The sheddable task queues first.
    let low = waiter(Priority::Sheddable);
    smol::block_on(until_waiting(&limiter, 1));
    let high = waiter(Priority::CriticalPlus);
    smol::block_on(async {
        until_waiting(&limiter, 2).await;
        drop(held);
        let first = high.await;
        assert_eq!(first.priority(), Priority::CriticalPlus);
        assert_eq!(limiter.waiting(), 1, "the sheddable task still waits");
        drop(first);
        assert_eq!(low.await.priority(), Priority::Sheddable);
    });
    assert_eq!((limiter.in_flight(), limiter.waiting()), (0, 0));
}

#[test]
fn a_cancelled_waiting_task_leaves_the_queue() {
    let limiter = limiter(Duration::from_secs(3600));
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    let waiter = {
        let limiter = limiter.clone();
        smol::spawn(async move {
            limiter
                .acquire(&sleep, Priority::Critical)
                .await
                .map(|p| p.priority())
        })
    };
    smol::block_on(async {
        until_waiting(&limiter, 1).await;
        assert_eq!(waiter.cancel().await, None, "cancelled while waiting");
    });
    assert_eq!(limiter.waiting(), 0);
    drop(held);
    assert_eq!(limiter.in_flight(), 0);
    assert!(limiter.try_acquire(Priority::Critical).is_ok());
}

#[test]
fn a_nanosecond_wait_times_out_and_a_free_limiter_does_not_wait() {
    let limiter = limiter(Duration::from_nanos(1));
    smol::block_on(async {
        let held = limiter.acquire(&sleep, Priority::Sheddable).await.unwrap();
        let Err(shed) = limiter.acquire(&sleep, Priority::Critical).await else {
            panic!("the only permit is held");
        };
        assert_eq!(shed.reason(), ShedReason::WaitedTooLong);
        assert_eq!(limiter.waiting(), 0);
        drop(held);
        assert!(limiter.acquire(&sleep, Priority::Critical).await.is_ok());
    });
    assert_eq!(limiter.in_flight(), 0);
}
