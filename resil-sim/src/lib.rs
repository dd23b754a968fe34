//! A deterministic, virtual-time simulator of clients, their resilience
//! stack, and a failing downstream — driving the real resil crates.
//!
//! Placeholder docs; completed below.

#![forbid(unsafe_code)]

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
pub use stack::{CallError, Failure, Service, SimBudget, SimLimit, Stack};
