//! Runtime-free foundations for resil: time, waiting, backoff, outcome
//! classification and events.
//!
//! `resil-core` is the contract the technique crates (`resil-retry`,
//! `resil-breaker`, `resil-shed`) are written against, and the part a
//! runtime or embedded author plugs into. It has no runtime, no I/O and no
//! `std` requirement:
//!
//! - **Time**: [`Instant`] (`u64` nanoseconds, saturating arithmetic) read
//!   from a [`Clock`]: [`SystemClock`] in production, [`ManualClock`] in
//!   tests and simulations.
//! - **Waiting**: a [`Sleeper`] is any `Fn(Duration) -> impl Future` (tokio,
//!   async-std, smol, an embedded timer) or [`ManualClock`]'s virtual time;
//!   [`BlockingSleeper`] is its synchronous twin; [`timeout`] races a future
//!   against a sleep.
//! - **Backoff**: [`Backoff`] schedules (constant, linear, exponential,
//!   fibonacci, decorrelated) with [`Jitter`], as iterators of delays that
//!   saturate instead of overflowing.
//! - **Classification**: [`Outcome`] and [`Classify`]: was a result a
//!   success, a failure, or neither?
//! - **Events**: one [`Event`] type and one [`Listener`] trait for every
//!   technique.
//! - **Errors**: [`ConfigError`], returned by every builder's `build()`.
//!
//! # Quick start
//!
//! A retry schedule of an hour, run in virtual time with no runtime at all:
//!
//! ```
//! use core::time::Duration;
//! use resil_core::{Backoff, BlockingSleeper, Clock, Jitter, ManualClock};
//!
//! let backoff = Backoff::exponential(Duration::from_secs(1), 2.0)
//!     .max_delay(Duration::from_secs(600))
//!     .jitter(Jitter::Equal)
//!     .build()?;
//!
//! let clock = ManualClock::new();
//! let mut attempts = 0;
//! for delay in backoff.iter_seeded(42) {
//!     attempts += 1;
//!     if clock.now().since_origin() >= Duration::from_secs(3600) {
//!         break;
//!     }
//!     clock.sleep_blocking(delay); // advances virtual time; returns at once
//! }
//! assert!(attempts > 10);
//! # Ok::<(), resil_core::ConfigError>(())
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `alloc` | via `std` | [`ManualClock`]; `Clock` for `Arc<C>` and `Box<C>` |
//! | `std` | yes | [`SystemClock`], [`ThreadSleeper`], [`ManualClock`] as a virtual [`Sleeper`], OS-seeded jitter |
//!
//! Without `std` the crate is `#![no_std]`; without `alloc` it needs no
//! allocator either, nor any atomic read-modify-write: it builds for
//! `thumbv6m-none-eabi`. [`ManualClock`] stores its time in an `AtomicU64`, so
//! it exists only on targets with 64-bit atomics (not on `thumbv7em`), and
//! `Clock for Arc<C>` only where `Arc` exists.
//!
//! Without `std` there is no entropy for [`Backoff::iter`] to seed jitter
//! with; see [`Delays`] for what it does instead and how to seed it yourself.
//!
//! # Runtimes
//!
//! Pass a runtime's sleep function wherever a [`Sleeper`] is asked for:
//!
//! ```
//! # use core::time::Duration;
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! use resil_core::timeout;
//!
//! // tokio
//! let answer = timeout(&tokio::time::sleep, Duration::from_secs(1), async { 42 }).await;
//! assert_eq!(answer, Ok(42));
//! // smol: `&smol::Timer::after`; async-std: `&async_std::task::sleep`.
//! # }
//! ```
//!
//! A hand-written timer and time source, with no runtime crate at all, is in
//! `examples/custom_runtime.rs`.
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.85 (edition 2024). Raising it is
//! a minor-version change.
//!
//! # The workspace
//!
//! `resil-core` (this crate) sits under `resil-retry`, `resil-breaker` and
//! `resil-shed`, each of which depends on it alone; the `resil` facade
//! re-exports them all behind features.

#![no_std]
#![forbid(unsafe_code)]
// The no_std discipline, for the library only (tests and examples use std).
#![warn(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]
#![doc(test(attr(deny(warnings))))]

#[cfg(any(feature = "alloc", test))]
extern crate alloc;
#[cfg(any(feature = "std", test, resil_loom))]
extern crate std;

mod backoff;
mod classify;
mod clock;
pub mod error;
mod event;
mod instant;
mod loom;
mod sleep;
mod timeout;

#[cfg(test)]
mod tests;

pub use backoff::SplitMix64;
pub use backoff::{Backoff, BackoffBuilder, Delays, Jitter};
pub use classify::{Classify, DefaultClassifier, Outcome};
pub use clock::Clock;
#[cfg(all(feature = "alloc", target_has_atomic = "64"))]
pub use clock::ManualClock;
#[cfg(all(feature = "std", target_has_atomic = "64"))]
pub use clock::ManualSleep;
#[cfg(feature = "std")]
pub use clock::SystemClock;
pub use error::{ConfigError, Value};
pub use event::{
    CircuitState, Event, EventKind, FnListener, Listener, NoopListener, ShedReason, StopReason,
    listener_fn,
};
pub use instant::Instant;
#[cfg(feature = "std")]
pub use sleep::ThreadSleeper;
pub use sleep::{BlockingSleeper, Sleeper};
pub use timeout::{Elapsed, timeout};
