//! Circuit breaker: any window, thresholds, wait and half-open permits, and
//! any sequence of acquires, outcomes, abandoned permits, manual state
//! changes and clock moves. Invariants: no panic; a half-open episode never
//! has more trial permits out than `half_open_permits`; every admitted call
//! settles exactly once (admitted = successes + failures + ignored +
//! abandoned); the breaker's rejection count is ours.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arbitrary::Arbitrary;
use resil_breaker::{CircuitBreaker, OwnedPermit, SlidingWindow};
use resil_core::{CircuitState, Event, EventKind, Listener, ManualClock};

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
    time_window: Option<(AnyDuration, AnyCount)>,
    count_window: AnyCount,
    minimum_calls: Option<AnyCount>,
    failure_rate: Option<AnyFloat>,
    slow: Option<(AnyFloat, AnyDuration)>,
    consecutive: Option<AnyCount>,
    wait: Option<AnyDuration>,
    permits: Option<AnyCount>,
    half_open_timeout: Option<AnyDuration>,
}

#[derive(Debug, Arbitrary)]
enum Op {
    Acquire,
    Success(u8),
    Failure(u8),
    Ignore(u8),
    Abandon(u8),
    Call(bool),
    Advance(AnyDuration),
    ForceOpen,
    Disable,
    Reset,
    OpenFor(AnyDuration),
}

/// Counts half-open episodes (entries into HalfOpen).
#[derive(Debug, Default)]
struct Episodes(AtomicU64);

impl Listener for Episodes {
    fn on_event(&self, event: &Event<'_>) {
        if let EventKind::BreakerTransition {
            to: CircuitState::HalfOpen,
            ..
        } = event.kind
        {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

type Permit = OwnedPermit<ManualClock, Arc<Episodes>>;

/// Builds the policy `input` describes and drives it, asserting the
/// invariants above.
///
/// # Panics
///
/// When an invariant does not hold: that is the bug a fuzzer reports.
pub fn check(input: Input) {
    let Input { config, ops } = input;
    let clock = ManualClock::new();
    let episodes = Arc::new(Episodes::default());
    let mut builder = CircuitBreaker::builder()
        .clock(clock.clone())
        .listener(Arc::clone(&episodes));
    builder = match config.time_window {
        Some((length, buckets)) => builder.window(SlidingWindow::time(length.0, buckets.0)),
        None => builder.window(SlidingWindow::count(config.count_window.0)),
    };
    if let Some(calls) = config.minimum_calls {
        builder = builder.minimum_calls(calls.0);
    }
    if let Some(rate) = config.failure_rate {
        builder = builder.failure_rate(rate.0);
    }
    if let Some((rate, duration)) = config.slow {
        builder = builder.slow_calls(rate.0, duration.0);
    }
    if let Some(failures) = config.consecutive {
        builder = builder.consecutive_failures(failures.0);
    }
    if let Some(wait) = config.wait {
        builder = builder.wait(wait.0);
    }
    if let Some(permits) = config.permits {
        builder = builder.half_open_permits(permits.0);
    }
    if let Some(timeout) = config.half_open_timeout {
        builder = builder.half_open_timeout(timeout.0);
    }
    // The documented default is 10 trial calls.
    let permits_allowed = config.permits.map_or(10, |p| p.0);
    let Ok(breaker) = builder.build() else {
        return;
    };

    // Permits out, each with the half-open episode it was a trial of.
    let mut held: Vec<(Permit, Option<u64>)> = Vec::new();
    let (mut admitted, mut settled, mut rejected) = (0u64, 0u64, 0u64);
    let trials_out = |held: &Vec<(Permit, Option<u64>)>, episode: u64| {
        held.iter().filter(|(_, e)| *e == Some(episode)).count()
    };
    let pick = |held: &mut Vec<(Permit, Option<u64>)>, i: u8| {
        (!held.is_empty()).then(|| held.swap_remove(usize::from(i) % held.len()).0)
    };
    for op in ops.into_iter().take(2_000) {
        match op {
            Op::Acquire => match breaker.try_acquire_owned() {
                Ok(permit) => {
                    admitted += 1;
                    let trial = (breaker.state() == CircuitState::HalfOpen)
                        .then(|| episodes.0.load(Ordering::SeqCst));
                    held.push((permit, trial));
                    if let Some(episode) = trial {
                        let out = trials_out(&held, episode);
                        assert!(
                            out <= permits_allowed as usize,
                            "{out} trial permits out, {permits_allowed} allowed"
                        );
                    }
                }
                Err(_) => rejected += 1,
            },
            Op::Success(i) => {
                if let Some(p) = pick(&mut held, i) {
                    p.success();
                    settled += 1;
                }
            }
            Op::Failure(i) => {
                if let Some(p) = pick(&mut held, i) {
                    p.failure();
                    settled += 1;
                }
            }
            Op::Ignore(i) => {
                if let Some(p) = pick(&mut held, i) {
                    p.ignore();
                    settled += 1;
                }
            }
            Op::Abandon(i) => {
                if pick(&mut held, i).is_some() {
                    settled += 1;
                }
            }
            Op::Call(ok) => match breaker.call(|| if ok { Ok(()) } else { Err(()) }) {
                Err(err) if err.is_rejected() => rejected += 1,
                _ => {
                    admitted += 1;
                    settled += 1;
                }
            },
            Op::Advance(d) => {
                clock.advance(d.0);
            }
            Op::ForceOpen => breaker.force_open(),
            Op::Disable => breaker.disable(),
            Op::Reset => breaker.reset(),
            Op::OpenFor(d) => breaker.open_for(d.0),
        }
        let _ = breaker.metrics();
    }
    let out = held.len() as u64;
    drop(held);
    assert_eq!(admitted, settled + out, "every admitted call settles once");
    assert_eq!(breaker.metrics().rejected, rejected);
}
