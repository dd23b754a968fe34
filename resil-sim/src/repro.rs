//! Reproductions of published results, run on the real crates.
//!
//! Why reproduce? A simulator that disagrees with well-known measurements
//! is wrong somewhere; one that agrees earns some trust for its other
//! numbers. Two are here:
//!
//! - **AWS Architecture Blog, "Exponential Backoff And Jitter"** (Marc
//!   Brooker, 2015): clients contending on one optimistic-concurrency
//!   resource, retrying conflicts with exponential backoff without jitter,
//!   with full, equal and decorrelated jitter. The post's findings: no
//!   jitter is the clear loser, taking both more work (calls) and more
//!   time; of the jittered ones, equal jitter does slightly more work than
//!   full jitter and takes much longer; full jitter does less work than
//!   decorrelated jitter but takes slightly more time.
//! - **Google SRE book, "Handling Overload", client-side throttling**: a
//!   client may send until `requests = K × accepts`, so a backend refusing
//!   most of a large load sees about K times what it accepts. That one is a
//!   regular scenario (`scenarios/sre_throttle.toml`); the report sets its
//!   ratio beside K.

use core::cell::Cell;
use core::time::Duration;
use std::rc::Rc;

use resil_core::{Backoff, Clock, Instant, Jitter, ManualClock, Sleeper, SplitMix64};
use resil_retry::Retry;

use crate::executor::Executor;

/// The four strategies of the blog post, in its order.
pub const STRATEGIES: [(&str, Jitter); 4] = [
    ("no jitter", Jitter::None),
    ("full jitter", Jitter::Full),
    ("equal jitter", Jitter::Equal),
    ("decorrelated jitter", Jitter::Decorrelated),
];

/// The contention experiment's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JitterExperiment {
    /// Clients, all starting at once, each making one successful write.
    pub clients: u32,
    /// How long one call (read, then conditional write) takes.
    pub call: Duration,
    /// The backoff's base.
    pub base: Duration,
    /// The backoff's cap.
    pub cap: Duration,
    /// Runs averaged per strategy (each with its own seeds).
    pub runs: u32,
}

impl Default for JitterExperiment {
    /// 100 clients, 10ms calls, base 10ms, cap 10s, 20 runs.
    fn default() -> Self {
        JitterExperiment {
            clients: 100,
            call: Duration::from_millis(10),
            base: Duration::from_millis(10),
            cap: Duration::from_secs(10),
            runs: 20,
        }
    }
}

/// One strategy's result, averaged over the runs.
#[derive(Clone, Debug, PartialEq)]
pub struct JitterResult {
    /// The strategy's name.
    pub strategy: &'static str,
    /// Calls made until every client had written: the work.
    pub calls: f64,
    /// Time until the last client had written.
    pub completion: Duration,
}

/// The backoff the experiment gives a strategy: exponential doubling from
/// `base` up to `cap`, or AWS's decorrelated schedule.
///
/// # Errors
///
/// The backoff's [`ConfigError`](resil_core::ConfigError) for a zero base.
pub fn strategy_backoff(
    jitter: Jitter,
    base: Duration,
    cap: Duration,
) -> Result<Backoff, resil_core::ConfigError> {
    match jitter {
        Jitter::Decorrelated => Backoff::decorrelated(base).max_delay(cap).build(),
        other => Backoff::exponential(base, 2.0)
            .max_delay(cap)
            .jitter(other)
            .build(),
    }
}

impl JitterExperiment {
    /// Runs every strategy; results in [`STRATEGIES`] order.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`](resil_core::ConfigError) for a zero base or cap.
    pub fn run(&self, seed: u64) -> Result<Vec<JitterResult>, resil_core::ConfigError> {
        STRATEGIES
            .iter()
            .map(|&(name, jitter)| {
                let backoff = strategy_backoff(jitter, self.base, self.cap)?;
                let (mut calls, mut nanos) = (0u64, 0u128);
                for run in 0..self.runs {
                    let (c, t) = self.once(backoff, SplitMix64::mix(seed ^ u64::from(run)))?;
                    calls += c;
                    nanos += t.as_nanos();
                }
                let runs = u128::from(self.runs.max(1));
                Ok(JitterResult {
                    strategy: name,
                    calls: calls as f64 / runs as f64,
                    completion: Duration::from_nanos((nanos / runs) as u64),
                })
            })
            .collect()
    }

    /// One run: every client reads the resource's version, spends a call's
    /// time, and writes only if the version is unchanged (else: a conflict,
    /// retried by the real `Retry` with `backoff`).
    fn once(
        &self,
        backoff: Backoff,
        seed: u64,
    ) -> Result<(u64, Duration), resil_core::ConfigError> {
        let clock = ManualClock::new();
        let mut executor = Executor::new(clock.clone());
        let policy = Rc::new(
            Retry::builder()
                .backoff(backoff)
                .max_attempts(u32::MAX)
                .clock(clock.clone())
                .build()?,
        );
        let version = Rc::new(Cell::new(0u64));
        let calls = Rc::new(Cell::new(0u64));
        let last = Rc::new(Cell::new(Instant::ZERO));
        for client in 0..self.clients {
            let (clock, policy, version, calls, last) = (
                clock.clone(),
                Rc::clone(&policy),
                Rc::clone(&version),
                Rc::clone(&calls),
                Rc::clone(&last),
            );
            let call = self.call;
            executor.spawner().spawn(async move {
                let written = policy
                    .call(async |_attempt| {
                        calls.set(calls.get() + 1);
                        let seen = version.get();
                        clock.sleep(call).await;
                        if version.get() == seen {
                            version.set(seen + 1);
                            Ok(())
                        } else {
                            Err("conflict")
                        }
                    })
                    .seed(SplitMix64::mix(seed ^ u64::from(client)))
                    .run(&clock)
                    .await;
                if written.is_ok() {
                    last.set(last.get().max(clock.now()));
                }
            });
        }
        executor.run_until(Instant::MAX, |_| {});
        Ok((calls.get(), last.get().since_origin()))
    }
}
