//! A circuit breaker with count- and time-based windows, slow-call
//! detection and exact half-open permits.
//!
//! A breaker sits in front of a dependency and watches its calls. When too
//! many fail (or are too slow), it *opens*: calls are rejected at once,
//! without waiting on a dependency that is down, which both fails fast and
//! gives the dependency room to recover. After a wait it lets a few *trial*
//! calls through; their outcomes decide whether it closes again or reopens
//! for a (possibly longer) wait.
//!
//! # States
//!
//! ```text
//!            failure rate ≥ threshold, or slow-call rate ≥ threshold
//!            (once minimum_calls are in the window), or N failures in a row
//!   ┌────────┐ ─────────────────────────────────────────▶ ┌──────┐
//!   │ Closed │                                            │ Open │ rejects every call
//!   └────────┘ ◀──────────┐                  ┌─────────── └──────┘
//!        ▲     trials pass │                  │ the wait is over  ▲
//!        │     (rates below│                  ▼ (next call)       │ trials fail
//!        │     thresholds) │            ┌──────────┐              │ (wait grows)
//!        │                 └─────────── │ HalfOpen │ ─────────────┘
//!        │                              └──────────┘ admits exactly half_open_permits trials
//!        │ reset()
//!   ForcedOpen (force_open(): rejects all)   Disabled (disable(): admits all, records nothing)
//! ```
//!
//! Every transition starts a new *generation*. A permit records its outcome
//! against the generation that issued it, so a call admitted while closed
//! that finishes after the breaker has opened changes nothing.
//!
//! # Quick start
//!
//! In virtual time, with no runtime:
//!
//! ```
//! use core::time::Duration;
//! use resil_breaker::{CallError, CircuitBreaker, SlidingWindow};
//! use resil_core::{CircuitState, ManualClock};
//!
//! let clock = ManualClock::new();
//! let breaker = CircuitBreaker::builder()
//!     .window(SlidingWindow::count(10))
//!     .minimum_calls(4)
//!     .failure_rate(0.5)
//!     .wait(Duration::from_secs(30))
//!     .half_open_permits(2)
//!     .clock(clock.clone())
//!     .build()?;
//!
//! // Two successes, two failures: 50% of 4 calls — it opens.
//! for ok in [true, true, false, false] {
//!     let _ = breaker.call(|| if ok { Ok(()) } else { Err("timeout") });
//! }
//! assert_eq!(breaker.state(), CircuitState::Open);
//! match breaker.call(|| Ok::<_, &str>("not called")) {
//!     Err(CallError::Rejected(rejected)) => {
//!         assert_eq!(rejected.retry_after(), Some(Duration::from_secs(30)))
//!     }
//!     other => panic!("expected a rejection, got {other:?}"),
//! }
//!
//! // After the wait, two successful trials close it.
//! clock.advance(Duration::from_secs(30));
//! assert_eq!(breaker.call(|| Ok::<_, &str>(1)), Ok(1));
//! assert_eq!(breaker.state(), CircuitState::HalfOpen);
//! assert_eq!(breaker.call(|| Ok::<_, &str>(2)), Ok(2));
//! assert_eq!(breaker.state(), CircuitState::Closed);
//! # Ok::<(), resil_core::ConfigError>(())
//! ```
//!
//! Three ways in, for three kinds of code:
//!
//! - [`CircuitBreaker::try_acquire`] gives a [`Permit`] to record on
//!   ([`Permit::record`], [`success`](Permit::success),
//!   [`failure`](Permit::failure)); a permit dropped unrecorded counts as
//!   ignored and frees its half-open slot.
//! - [`CircuitBreaker::call`] runs a closure.
//! - [`CircuitBreaker::call_async`] runs a future (any runtime).
//!
//! # Settings and defaults
//!
//! See [`BreakerBuilder`]: failure rate 0.5 over the last 100 calls, at
//! least 100 calls before a rate counts, 60s open, 10 half-open trials —
//! resilience4j's defaults. Slow-call detection and the consecutive-failure
//! trip are off until set. Invalid settings are a
//! [`ConfigError`](resil_core::ConfigError) from `build()`.
//!
//! # Cost
//!
//! A closed breaker admits a call with one atomic load, and records a
//! success with a few more (the window's cursor, slot and totals) — no lock,
//! no allocation, no clock read unless slow calls or a time window need one.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | `SystemClock` as the default clock; [`BreakerRegistry`] |
//!
//! Without `std` the crate is `#![no_std]` but needs an allocator.

#![no_std]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]
#![warn(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

extern crate alloc;
#[cfg(any(feature = "std", test, resil_loom))]
extern crate std;

mod breaker;
mod call;
mod cell;
mod config;
mod error;
mod loom;
mod metrics;
mod padded;
mod permit;
#[cfg(feature = "std")]
mod registry;
mod state;
mod striped;
mod window;

#[cfg(test)]
mod tests;

pub use breaker::CircuitBreaker;
pub use config::{BreakerBuilder, DefaultClock, NoClock, SlidingWindow};
pub use error::{CallError, Rejected};
pub use metrics::Metrics;
pub use permit::{OwnedPermit, Permit};
#[cfg(feature = "std")]
pub use registry::{BreakerRegistry, RegistryFull};
pub use resil_core::CircuitState;
