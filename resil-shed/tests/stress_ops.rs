//! A seeded storm on one limiter: 100,000 acquire / wait / cancel / panic /
//! release operations from sixteen tasks on a multi-threaded tokio runtime,
//! checked by counts, never by times.
//!
//! Why on top of the loom models and the property tests: loom proves the
//! permit hand-off for two or three threads and a handful of operations;
//! the model test drives one thread. Neither sees a waiter cancelled while
//! a permit is being handed to it by a third thread, a holder panicking
//! mid-hand-off, or CoDel shedding under a moving clock, all at once. This
//! does, on real threads, and then checks that nothing leaked: every permit
//! came back, nobody was left queued, the full capacity is free again, and
//! no level ever held more than the limit and the reserves allow.
//!
//! Time is virtual: a driver task moves the `ManualClock` (which is also the
//! sleeper waits run on), so waits time out and CoDel sheds, while nothing
//! sleeps for real. The seed is printed; rerun one with
//! `RESIL_STRESS_SEED=<seed> cargo test -p resil-shed --test stress_ops`.

use core::future::poll_fn;
use core::pin::pin;
use core::task::Poll;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use resil_core::{ManualClock, NoopListener, SplitMix64};
use resil_shed::{ConcurrencyLimit, Fixed, Permit, Priority};

/// Operations in all, shared out between the tasks.
const OPS: u64 = 100_000;
/// Tasks racing on the limiter.
const TASKS: u64 = 16;
/// The fixed limit.
const LIMIT: u32 = 8;
/// CriticalPlus keeps a quarter of the limit from the other levels.
const RESERVED: u32 = LIMIT / 4;

type Limiter = ConcurrencyLimit<Fixed, ManualClock>;

/// What the tasks saw, counted as they went.
#[derive(Debug, Default)]
struct Tally {
    /// Permits held right now by the tasks, all levels / levels below
    /// CriticalPlus. Raised after admission, lowered before release, so
    /// they never count more than the limiter has handed out.
    held: AtomicU32,
    held_unreserved: AtomicU32,
    /// The largest values `held` and `held_unreserved` ever reached.
    max_held: AtomicU32,
    max_held_unreserved: AtomicU32,
    admitted: AtomicU64,
    successes: AtomicU64,
    failures: AtomicU64,
    /// Permits dropped without an outcome.
    abandoned: AtomicU64,
    /// Permits dropped by a panicking task.
    panicked: AtomicU64,
    shed: AtomicU64,
    /// Waits dropped before they finished.
    cancelled: AtomicU64,
}

/// Holds `permit` across `yields` scheduling points, counting it as held,
/// then releases it one of three ways (`how`).
async fn hold(
    tally: &Tally,
    permit: Permit<Fixed, ManualClock, NoopListener>,
    yields: u64,
    how: u64,
) {
    tally.admitted.fetch_add(1, Ordering::Relaxed);
    let unreserved = permit.priority() != Priority::CriticalPlus;
    let held = tally.held.fetch_add(1, Ordering::SeqCst) + 1;
    tally.max_held.fetch_max(held, Ordering::SeqCst);
    if unreserved {
        let held = tally.held_unreserved.fetch_add(1, Ordering::SeqCst) + 1;
        tally.max_held_unreserved.fetch_max(held, Ordering::SeqCst);
    }
    for _ in 0..yields {
        tokio::task::yield_now().await;
    }
    if unreserved {
        tally.held_unreserved.fetch_sub(1, Ordering::SeqCst);
    }
    tally.held.fetch_sub(1, Ordering::SeqCst);
    match how {
        0 => {
            tally.successes.fetch_add(1, Ordering::Relaxed);
            permit.success();
        }
        1 => {
            tally.failures.fetch_add(1, Ordering::Relaxed);
            permit.failure();
        }
        _ => {
            tally.abandoned.fetch_add(1, Ordering::Relaxed);
            drop(permit);
        }
    }
}

/// One task's share of the storm.
async fn worker(limiter: Limiter, clock: ManualClock, tally: Arc<Tally>, seed: u64, ops: u64) {
    let mut rng = SplitMix64::new(seed);
    for _ in 0..ops {
        let roll = rng.next_u64();
        let priority = Priority::ALL[(roll % 4) as usize];
        let yields = (roll >> 8) % 4;
        let how = (roll >> 16) % 3;
        match (roll >> 24) % 5 {
            // Fail fast.
            0 => match limiter.try_acquire(priority) {
                Ok(permit) => hold(&tally, permit, yields, how).await,
                Err(_) => {
                    tally.shed.fetch_add(1, Ordering::Relaxed);
                }
            },
            // Wait in the queue, for as long as it takes or max_wait.
            1 => match limiter.acquire(&clock, priority).await {
                Ok(permit) => hold(&tally, permit, yields, how).await,
                Err(_) => {
                    tally.shed.fetch_add(1, Ordering::Relaxed);
                }
            },
            // Wait, but give up after a few polls: the future is dropped
            // while queued, or just as a permit is handed to it.
            2 | 3 => {
                let mut wait = pin!(limiter.acquire(&clock, priority));
                let mut outcome = None;
                for _ in 0..=yields {
                    let polled = poll_fn(|cx| Poll::Ready(wait.as_mut().poll(cx))).await;
                    if let Poll::Ready(result) = polled {
                        outcome = Some(result);
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                match outcome {
                    Some(Ok(permit)) => hold(&tally, permit, yields, how).await,
                    Some(Err(_)) => {
                        tally.shed.fetch_add(1, Ordering::Relaxed);
                    }
                    None => {
                        tally.cancelled.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            // Take a permit in a task that panics while holding it.
            _ => {
                let limiter = limiter.clone();
                let tally_in = Arc::clone(&tally);
                let task = tokio::spawn(async move {
                    if let Ok(permit) = limiter.try_acquire(priority) {
                        tally_in.admitted.fetch_add(1, Ordering::Relaxed);
                        tally_in.panicked.fetch_add(1, Ordering::Relaxed);
                        let _held = permit;
                        tokio::task::yield_now().await;
                        panic!("stress: deliberate panic while holding a permit");
                    }
                    tally_in.shed.fetch_add(1, Ordering::Relaxed);
                });
                if let Err(err) = task.await {
                    assert!(err.is_panic(), "the task was not cancelled: {err}");
                }
            }
        }
    }
}

/// Keeps virtual time moving until told to stop, so waits end.
async fn drive(clock: ManualClock, stop: Arc<AtomicBool>, seed: u64) {
    let mut rng = SplitMix64::new(seed);
    while !stop.load(Ordering::SeqCst) {
        clock.advance(Duration::from_millis(rng.next_u64() % 7));
        tokio::task::yield_now().await;
    }
}

#[test]
fn a_storm_of_acquires_cancellations_and_panics_leaks_no_permit() {
    let seed = resil_testkit::stress_seed(0x5EED_5EED);
    // The deliberate panics are expected; keep the output readable.
    let quiet = resil_testkit::quiet_panics("stress: deliberate");

    let clock = ManualClock::new();
    let limiter: Limiter = ConcurrencyLimit::builder(Fixed::try_from(LIMIT).unwrap())
        .reserve(
            Priority::CriticalPlus,
            f64::from(RESERVED) / f64::from(LIMIT),
        )
        .max_queue(24)
        .max_wait(Duration::from_millis(40))
        .codel(Duration::from_millis(5), Duration::from_millis(20))
        .clock(clock.clone())
        .build()
        .unwrap();
    let tally = Arc::new(Tally::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    runtime.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let driver = tokio::spawn(drive(clock.clone(), Arc::clone(&stop), seed ^ 1));
        let workers: Vec<_> = (0..TASKS)
            .map(|task| {
                tokio::spawn(worker(
                    limiter.clone(),
                    clock.clone(),
                    Arc::clone(&tally),
                    seed.wrapping_add(task.wrapping_mul(SplitMix64::GAMMA)),
                    OPS / TASKS,
                ))
            })
            .collect();
        for worker in workers {
            worker.await.expect("a worker failed");
        }
        stop.store(true, Ordering::SeqCst);
        driver.await.unwrap();
    });
    drop(runtime);
    drop(quiet);

    let count = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
    let admitted = count(&tally.admitted);
    let settled = count(&tally.successes)
        + count(&tally.failures)
        + count(&tally.abandoned)
        + count(&tally.panicked);
    eprintln!(
        "admitted {admitted}, shed {}, cancelled {}, panicked {}, max held {}",
        count(&tally.shed),
        count(&tally.cancelled),
        count(&tally.panicked),
        tally.max_held.load(Ordering::SeqCst)
    );
    assert_eq!(
        admitted + count(&tally.shed) + count(&tally.cancelled),
        OPS,
        "every operation ended one way"
    );
    assert_eq!(
        admitted, settled,
        "admitted = successes + failures + abandoned + panicked"
    );
    // The storm was a storm: every path ran many times.
    for (what, counter) in [
        ("admitted", &tally.admitted),
        ("shed", &tally.shed),
        ("cancelled", &tally.cancelled),
        ("panicked", &tally.panicked),
    ] {
        assert!(count(counter) > 1_000, "only {} {what}", count(counter));
    }

    // No level ever held more than it may.
    assert!(tally.max_held.load(Ordering::SeqCst) <= LIMIT);
    assert!(tally.max_held_unreserved.load(Ordering::SeqCst) <= LIMIT - RESERVED);
    assert_eq!(
        tally.max_held.load(Ordering::SeqCst),
        LIMIT,
        "the limit was reached"
    );

    // Every permit came back and nobody is left waiting ...
    assert_eq!(limiter.in_flight(), 0);
    assert_eq!(limiter.waiting(), 0);
    for priority in Priority::ALL {
        assert_eq!(limiter.in_flight_at(priority), 0, "{priority:?}");
    }
    // ... so the whole capacity is there to take, and no more.
    let all: Vec<_> = (0..LIMIT)
        .map(|_| limiter.try_acquire(Priority::CriticalPlus))
        .collect::<Result<_, _>>()
        .expect("the full limit is free again");
    assert!(limiter.try_acquire(Priority::CriticalPlus).is_err());
    drop(all);
    assert_eq!(limiter.in_flight(), 0);
}
