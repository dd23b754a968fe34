//! Resilience for Rust services: retries with backoff and budgets, circuit
//! breakers and load shedding — one technique at a time, composed in a
//! [`Pipeline`](crate::Pipeline), or as tower layers.
//!
//! `resil` is the facade of a workspace of small crates, re-exported here
//! behind features of the same names:
//!
//! - [`core`]: clocks (real and virtual), sleepers, backoff and jitter,
//!   outcome classification and events ([`resil-core`](resil_core)).
//! - `retry`: retry policies, budgets and hedging (`resil-retry`).
//! - `breaker`: the circuit breaker (`resil-breaker`).
//! - `shed`: concurrency limits and client-side throttling (`resil-shed`).
//!
//! Nothing here depends on a runtime: time comes from a
//! [`Clock`](crate::core::Clock) and waiting from a
//! [`Sleeper`](crate::core::Sleeper) you give it (`tokio::time::sleep`
//! plugs in as it is), so everything runs — and is tested — in virtual
//! time on a [`ManualClock`](crate::core::ManualClock).

#![no_std]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]
#![warn(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// Clocks, sleepers, backoff, classification, events and errors: the
/// foundation every technique shares (`resil-core`).
pub mod core {
    pub use resil_core::*;
}

/// Retry policies with backoff, budgets and hedging (`resil-retry`).
#[cfg(feature = "retry")]
pub mod retry {
    pub use resil_retry::*;
}

/// The circuit breaker (`resil-breaker`).
#[cfg(feature = "breaker")]
pub mod breaker {
    pub use resil_breaker::*;
}

/// Concurrency limits, priorities and client-side throttling (`resil-shed`).
#[cfg(feature = "shed")]
pub mod shed {
    pub use resil_shed::*;
}

#[cfg(all(
    feature = "std",
    feature = "retry",
    feature = "breaker",
    feature = "shed"
))]
pub mod pipeline;
#[cfg(all(
    feature = "std",
    feature = "retry",
    feature = "breaker",
    feature = "shed"
))]
pub use pipeline::{Pipeline, PipelineBuilder, PipelineError};
