//! Concurrency limiter: any fixed limit, reserves, queue length, wait and
//! CoDel settings, and any sequence of try-acquires, queued acquires (polled
//! by hand, cancelled at any poll), releases and clock moves. Invariants:
//! no panic; permits out never exceed the limit, nor a level's share once
//! the reserves of more critical levels are kept; the limiter's counts match
//! the permits we hold; and once everything is dropped every permit is back
//! and nobody is queued.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use arbitrary::Arbitrary;
use resil_core::{ManualClock, NoopListener, Outcome};
use resil_shed::{ConcurrencyLimit, Fixed, Permit, Priority, Shed};

use crate::{AnyCount, AnyDuration, AnyFloat};

/// What one fuzz run decodes its bytes into: a configuration and the
/// operations to apply to it, in order.
#[derive(Debug, Arbitrary)]
pub struct Input {
    config: Config,
    ops: Vec<Op>,
}

#[derive(Debug, Arbitrary)]
struct Config {
    limit: AnyCount,
    reserves: Vec<(u8, AnyFloat)>,
    max_queue: Option<u16>,
    max_wait: Option<AnyDuration>,
    codel: Option<(AnyDuration, AnyDuration)>,
}

#[derive(Debug, Arbitrary)]
enum Op {
    TryAcquire(u8),
    Acquire(u8),
    Poll(u8),
    Cancel(u8),
    Release(u8, u8),
    Advance(AnyDuration),
}

type Held = Permit<Fixed, ManualClock, NoopListener>;
type Waiting<'a> = Pin<Box<dyn Future<Output = Result<Held, Shed>> + 'a>>;

fn priority(i: u8) -> Priority {
    Priority::ALL[usize::from(i) % Priority::ALL.len()]
}

/// Builds the policy `input` describes and drives it, asserting the
/// invariants above.
///
/// # Panics
///
/// When an invariant does not hold: that is the bug a fuzzer reports.
pub fn check(input: Input) {
    let Input { config, ops } = input;
    let Ok(fixed) = Fixed::try_from(config.limit.0) else {
        return;
    };
    let clock = ManualClock::new();
    let mut builder = ConcurrencyLimit::builder(fixed).clock(clock.clone());
    for (level, share) in config.reserves.iter().take(4) {
        builder = builder.reserve(priority(*level), share.0);
    }
    if let Some(queue) = config.max_queue {
        builder = builder.max_queue(usize::from(queue));
    }
    if let Some(wait) = config.max_wait {
        builder = builder.max_wait(wait.0);
    }
    if let Some((target, interval)) = config.codel {
        builder = builder.codel(target.0, interval.0);
    }
    let Ok(limiter) = builder.build() else {
        return;
    };
    let limit = limiter.limit();
    let mut cx = Context::from_waker(Waker::noop());
    let mut held: Vec<Held> = Vec::new();
    let mut waiting: Vec<Waiting<'_>> = Vec::new();

    for op in ops.into_iter().take(2_000) {
        match op {
            Op::TryAcquire(p) => {
                if let Ok(permit) = limiter.try_acquire(priority(p)) {
                    held.push(permit);
                }
            }
            Op::Acquire(p) => {
                let mut wait: Waiting<'_> = Box::pin(limiter.acquire(&clock, priority(p)));
                match wait.as_mut().poll(&mut cx) {
                    Poll::Ready(Ok(permit)) => held.push(permit),
                    Poll::Ready(Err(_)) => {}
                    Poll::Pending => waiting.push(wait),
                }
            }
            Op::Poll(i) => {
                if !waiting.is_empty() {
                    let i = usize::from(i) % waiting.len();
                    if let Poll::Ready(result) = waiting[i].as_mut().poll(&mut cx) {
                        drop(waiting.swap_remove(i));
                        if let Ok(permit) = result {
                            held.push(permit);
                        }
                    }
                }
            }
            Op::Cancel(i) => {
                if !waiting.is_empty() {
                    let i = usize::from(i) % waiting.len();
                    drop(waiting.swap_remove(i));
                }
            }
            Op::Release(i, how) => {
                if !held.is_empty() {
                    let permit = held.swap_remove(usize::from(i) % held.len());
                    match how % 4 {
                        0 => permit.success(),
                        1 => permit.failure(),
                        2 => permit.record(Outcome::Ignored),
                        _ => drop(permit),
                    }
                }
            }
            Op::Advance(d) => {
                clock.advance(d.0);
            }
        }
        // Permits granted to waiters not yet polled are out too, so the
        // limiter may count more than we hold, never fewer, and never more
        // than the limit.
        let out = limiter.in_flight();
        assert!(out <= limit, "{out} permits out, limit {limit}");
        assert!(
            held.len() as u32 <= out,
            "{} held, limiter counts {out}",
            held.len()
        );
        assert!(limiter.waiting() as usize <= waiting.len());
    }
    drop(waiting);
    assert_eq!(
        limiter.in_flight() as usize,
        held.len(),
        "cancelled waiters returned their grants"
    );
    drop(held);
    assert_eq!(limiter.in_flight(), 0, "every permit came back");
    assert_eq!(limiter.waiting(), 0, "nobody is left queued");
}
