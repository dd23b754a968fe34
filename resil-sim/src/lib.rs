//! A deterministic, virtual-time simulator of clients, their resilience
//! stack and a failing downstream — driving the real resil crates.
//!
//! Why simulate? Retries, jitter, budgets, breakers and load shedding are
//! easy to describe and hard to judge: what each one buys depends on load,
//! capacity and the shape of the fault. Because every resil crate reads time
//! through a `Clock` and waits through a `Sleeper`, the real code can run on
//! a [`ManualClock`](resil_core::ManualClock): a simulated hour takes
//! moments, and the same seed gives the same numbers, byte for byte.
//!
//! # What is in it
//!
//! - [`Executor`]: the discrete-event loop. It polls every ready task until
//!   none can progress, then jumps the clock to the next timer deadline
//!   (`ManualClock::next_deadline`), and repeats; single-threaded, tens of
//!   thousands of concurrent tasks.
//! - Models, described by a [`Scenario`] (a TOML file): an open-loop
//!   Poisson workload with a priority mix and rate phases; a [`Backend`]
//!   with workers, a FIFO queue, a latency distribution and a fault
//!   timeline (outage, brownout, latency spike, lost capacity); an optional
//!   [`MidTier`] that runs its own client stack, to show amplification
//!   across layers.
//! - [`Stack`]: the client's techniques composed in the facade's order —
//!   `resil_shed::ConcurrencyLimit` (priorities, adaptive limit) →
//!   `resil_retry::Retry` (backoff, jitter, `RatioBudget`/`TokenBucket`) →
//!   `resil_shed::AdaptiveThrottle` → `resil_breaker::CircuitBreaker` →
//!   per-attempt timeout. Nothing is re-implemented.
//! - Metrics ([`Summary`], [`Series`]): success rate overall and per
//!   priority, goodput, load amplification (attempts reaching the
//!   downstream ÷ requests), p50/p99/p99.9 latency, time to recover, and
//!   the same over time.
//! - [`report`]: terminal tables and a self-contained HTML report with
//!   `plotters` SVG charts; [`JitterExperiment`] and the `sre_throttle`
//!   scenario reproduce published results.
//!
//! # Quick start
//!
//! ```
//! use core::time::Duration;
//! use resil_sim::{builtin, run_scenario};
//!
//! let mut scenario = builtin("outage.toml")?;
//! scenario.duration = Duration::from_secs(20); // keep the example quick
//! scenario.workload.phases[0].1 = 100.0;
//! scenario.faults[0].start = Duration::from_secs(5);
//! scenario.faults[0].end = Duration::from_secs(10);
//! let run = run_scenario(&scenario, 1, |_done| {});
//! let naive = &run.clients[1].summary;
//! assert_eq!(naive.client, "naive retries");
//! // Against a dead service every request makes all four attempts.
//! assert!(naive.fault.unwrap().amplification() > 3.5);
//! println!("{}", resil_sim::report::table(&run));
//! # Ok::<(), resil_sim::ScenarioError>(())
//! ```
//!
//! From the command line: `cargo xtask demo` runs the built-in set;
//! `cargo run --release -p resil-sim -- run my.toml --seed 3 --out DIR`
//! runs a scenario of your own (the format is on [`Scenario`]).
//!
//! # Determinism
//!
//! One thread, one FIFO of ready tasks, one clock whose timers fire in
//! `(deadline, registration)` order, and every random draw from a
//! [`SplitMix64`](resil_core::SplitMix64) stream of the seed (retry jitter
//! through `resil_retry::Call::seed`). Each client configuration faces the
//! same arrivals (common random numbers), so differences are the
//! configuration's doing.
//!
//! # The workspace
//!
//! `resil-sim` sits on top of `resil-core`, `resil-retry`, `resil-breaker`
//! and `resil-shed`; it is not published. [`Stack`] composes them itself
//! rather than through the `resil` facade's `Pipeline`: the SRE throttle
//! has no place in the pipeline, and the adaptive limit here learns from a
//! different classification than the breaker and the retry policy (the
//! module docs of `stack.rs` say more).

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod builtin;
mod chart;
mod dist;
mod downstream;
mod error;
mod executor;
mod metrics;
pub mod report;
mod repro;
mod run;
mod scenario;
mod stack;

pub use builtin::{BUILTIN, builtin};
pub use chart::{Chart, Line};
pub use dist::{Latency, Rng};
pub use downstream::{Backend, Effect, Faults, MidTier};
pub use error::{ScenarioError, SimError};
pub use executor::{Executor, RunStats, Spawner};
pub use metrics::{
    ClientRun, FaultWindow, PriorityCount, RECOVERED, Recorder, Recovery, Series, Summary,
};
pub use repro::{JitterExperiment, JitterResult, STRATEGIES, strategy_backoff};
pub use run::{ScenarioRun, run_client, run_scenario};
pub use scenario::{
    BreakerSpec, BudgetSpec, ClientSpec, Downstream, Fault, FaultKind, Human, LimitSpec,
    MidTier as MidTierSpec, RetrySpec, Scenario, ShedSpec, ThrottleSpec, Workload,
};
pub use stack::{CallError, Failure, Service, Stack};
