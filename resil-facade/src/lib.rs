//! Resilience for Rust services: retries with backoff and budgets, circuit
//! breakers and load shedding — one technique at a time, composed in a
//! [`Pipeline`](crate::Pipeline), or as tower layers.
//!
//! `resil` is the facade of a workspace of small crates, re-exported here
//! behind features of the same names, so one dependency gives the whole
//! set and each technique can still be used on its own:
//!
//! - [`core`]: clocks (real and virtual), sleepers, backoff and jitter,
//!   outcome classification and events (`resil-core`).
//! - `retry`: retry policies, retry budgets and hedging (`resil-retry`).
//! - `breaker`: the circuit breaker (`resil-breaker`).
//! - `shed`: concurrency limits (fixed and adaptive) with priorities, and
//!   the SRE client-side throttle (`resil-shed`).
//!
//! Nothing here depends on a runtime: time comes from a
//! [`Clock`](crate::core::Clock) and waiting from a
//! [`Sleeper`](crate::core::Sleeper) you give it — `tokio::time::sleep`,
//! `async_std::task::sleep` or `smol::Timer::after` plug in as they are —
//! so everything runs, and is tested, in virtual time on a
//! [`ManualClock`](crate::core::ManualClock).
//!
//! # Quick start
//!
//! Every example below runs on a virtual clock: no runtime, no real sleep.
//!
#![cfg_attr(
    feature = "retry",
    doc = r#"
Retry with exponential backoff and full jitter (the default backoff):

```
use resil::core::ManualClock;
use resil::retry::Retry;

let clock = ManualClock::new();
let policy = Retry::builder().max_attempts(4).clock(clock.clone()).build()?;
let mut failures = 2;
let answer = policy.run_blocking(&clock, |_attempt| {
    if failures > 0 { failures -= 1; Err("busy") } else { Ok(42) }
});
assert_eq!(answer, Ok(42));
# Ok::<(), resil::core::ConfigError>(())
```
"#
)]
#![cfg_attr(
    all(feature = "breaker", feature = "std"),
    doc = r#"
A circuit breaker that opens after 3 failures in a row:

```
use resil::breaker::{CallError, CircuitBreaker};
use resil::core::{CircuitState, ManualClock};

let breaker = CircuitBreaker::builder()
    .consecutive_failures(3)
    .clock(ManualClock::new())
    .build()?;
for _ in 0..3 {
    let _ = breaker.call(|| Err::<(), _>("down"));
}
assert_eq!(breaker.state(), CircuitState::Open);
assert!(matches!(breaker.call(|| Ok::<_, ()>(1)), Err(CallError::Rejected(_))));
# Ok::<(), resil::core::ConfigError>(())
```
"#
)]
#![cfg_attr(
    all(feature = "shed", feature = "std"),
    doc = r#"
A concurrency limit that keeps room for critical work:

```
use resil::core::ManualClock;
use resil::shed::{ConcurrencyLimit, Fixed, Priority};

let limiter = ConcurrencyLimit::builder(Fixed::try_from(10)?)
    .reserve(Priority::Critical, 0.5) // half the limit only critical work may use
    .clock(ManualClock::new())
    .build()?;
let batch: Vec<_> = (0..10).filter_map(|_| limiter.try_acquire(Priority::Sheddable).ok()).collect();
assert_eq!(batch.len(), 5);
assert!(limiter.try_acquire(Priority::Critical).is_ok());
# Ok::<(), Box<dyn std::error::Error>>(())
```
"#
)]
//!
//! The [`Pipeline`](crate::Pipeline) composes them around one async
//! operation in a documented order — shed → total timeout → retry →
//! breaker → attempt timeout — and says which stage ended a call; its docs
//! have the example. The `tower` module (feature `tower`)
//! has a layer for each technique and for the pipeline.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | `SystemClock` and the thread sleeper, the concurrency limiter and throttle, the breaker registry, [`Pipeline`](crate::Pipeline) |
//! | `alloc` | with `std` | shared handles (`ManualClock`, `Arc<C>: Clock`) |
//! | `retry` | yes | the [`retry`] module (`resil-retry`) |
//! | `breaker` | yes | the [`breaker`] module (`resil-breaker`) |
//! | `shed` | yes | the [`shed`] module (`resil-shed`) |
//! | `tower` | no | the `tower` module: a `Layer` per technique and for the pipeline |
//! | `tracing` | no | `TracingListener`: every event as a `tracing` event |
//! | `serde` | no | the `config` module: policies from TOML, JSON or any serde format |
//! | `full` | no | all of the above |
//!
//! The [`Pipeline`](crate::Pipeline) needs `std`, `retry`, `breaker` and
//! `shed` (the defaults). Without `std` the crate is `#![no_std]`: `retry`
//! and `shed`'s limits need neither an allocator nor an OS; `breaker`
//! needs `alloc` and 64-bit atomics.
//!
//! # Runtimes
//!
//! Pass the runtime's sleep as the sleeper: `&tokio::time::sleep`,
//! `&async_std::task::sleep`, or `&|d| smol::Timer::after(d)`. Give the
//! techniques a clock in step with it (the default `SystemClock` is; in
//! tests with tokio's paused time, a clock reading `tokio::time::Instant`).
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.85 (edition 2024).

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

#[cfg(feature = "serde")]
pub mod config;

#[cfg(feature = "tracing")]
pub mod trace;
#[cfg(feature = "tracing")]
pub use trace::TracingListener;

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

#[cfg(feature = "tower")]
pub mod tower;
