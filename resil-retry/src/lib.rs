//! Retries with backoff, deadlines, server hints and retry budgets, on any
//! runtime.
//!
//! A [`Retry`] policy says how to retry: a [`Backoff`](resil_core::Backoff)
//! between attempts, at most `max_attempts` attempts and `max_elapsed` of
//! time per call, a ceiling on server hints, and, shared between calls, a
//! clock, a [`Budget`] and an event [`Listener`](resil_core::Listener). A
//! call runs an operation under it, async ([`Retry::run`]) or blocking
//! ([`Retry::run_blocking`]), waiting on whatever sleeper the caller passes:
//! tokio's, smol's, async-std's, a [`ThreadSleeper`](resil_core::ThreadSleeper)
//! or a virtual-time [`ManualClock`](resil_core::ManualClock). The result
//! says, on failure, the last error, the number of attempts and why
//! retrying stopped ([`RetryError`]).
//!
//! What sets it apart from the peers: deadlines measured on a real clock
//! (time inside attempts counts; no wait is scheduled past the deadline),
//! server hints that actually set the wait, retry budgets that stay exact
//! under contention, and no runtime dependency at all.
//!
//! # Quick start
//!
//! The classic: retry a fixed 1s delay, three times, in virtual time (no
//! runtime, and the test takes microseconds):
//!
//! ```
//! use core::time::Duration;
//! use resil_core::{Backoff, Clock, ManualClock};
//! use resil_retry::Retry;
//!
//! let clock = ManualClock::new();
//! let policy = Retry::builder()
//!     .backoff(Backoff::constant(Duration::from_millis(1000)).build()?)
//!     .max_attempts(1 + 3) // the first attempt and three retries
//!     .clock(clock.clone())
//!     .build()?;
//!
//! let mut calls = 0;
//! let outcome = policy.run_blocking(&clock, |_attempt| {
//!     calls += 1;
//!     if calls < 3 { Err("connection refused") } else { Ok("hello") }
//! });
//! match outcome {
//!     Ok(greeting) => println!("Operation succeeded! {greeting}"),
//!     Err(error) => println!("All retries failed! {error}"),
//! }
//! assert_eq!(calls, 3);
//! assert_eq!(clock.now().since_origin(), Duration::from_secs(2));
//! # Ok::<(), resil_core::ConfigError>(())
//! ```
//!
//! Async, on tokio, retrying only some errors and honouring the server's
//! `Retry-After`:
//!
//! ```
//! use core::time::Duration;
//! use resil_retry::Retry;
//!
//! #[derive(Debug)]
//! enum Error {
//!     Unavailable { retry_after: Option<Duration> },
//!     NotFound,
//! }
//!
//! async fn fetch(attempt: u32) -> Result<&'static str, Error> {
//!     match attempt {
//!         1 => Err(Error::Unavailable { retry_after: Some(Duration::from_secs(2)) }),
//!         2 => Ok("body"),
//!         _ => Err(Error::NotFound),
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Retry::builder().max_elapsed(Duration::from_secs(30)).build()?;
//! let started = tokio::time::Instant::now();
//! let body = policy
//!     .call(async |attempt| fetch(attempt).await)
//!     .retry_if(|e| matches!(e, Error::Unavailable { .. }))
//!     .hint(|r| match r {
//!         Err(Error::Unavailable { retry_after }) => *retry_after,
//!         _ => None,
//!     })
//!     .run(&tokio::time::sleep)
//!     .await;
//! assert_eq!(body.map_err(|e| format!("{e:?}"))?, "body");
//! // The hint (2s) set the wait, with the default backoff's jitter on top.
//! assert!(started.elapsed() >= Duration::from_secs(2));
//! # Ok(())
//! # }
//! ```
//!
//! # Budgets
//!
//! A [`Budget`] bounds retries across all calls that share it, so that a
//! failing dependency sees a bounded increase in traffic rather than
//! `max_attempts` times its load. See the [`budget`] module.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | `SystemClock` as the default clock; [`RatioBudget`], [`TokenBucket`]; `Arc<B>` budgets |
//!
//! Without `std` the crate is `#![no_std]` and needs no allocator; give the
//! policy a clock with [`RetryBuilder::clock`].
//!
//! # Runtimes
//!
//! Pass the runtime's sleep function: `&tokio::time::sleep`,
//! `&async_std::task::sleep`, `&smol::Timer::after`. Examples for each are
//! in `examples/`.

#![no_std]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]
#![warn(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

#[cfg(feature = "std")]
extern crate alloc;
#[cfg(any(feature = "std", test, resil_loom))]
extern crate std;

mod attempts;
mod blocking;
pub mod budget;
mod call;
mod classify;
mod config;
mod error;
mod future;
#[cfg(feature = "std")]
mod hedge;
pub mod hint;
mod hook;
mod loom;
mod state;

#[cfg(test)]
mod tests;

pub use attempts::{Attempts, Decision};
#[cfg(feature = "std")]
pub use budget::{AnyBudget, RatioBudget, RatioBudgetBuilder, TokenBucket};
pub use budget::{Budget, NoBudget};
pub use call::{Async, Blocking, Call, Operation};
pub use classify::RetryIf;
pub use config::{DefaultClock, NoClock, Retry, RetryBuilder};
pub use error::RetryError;
#[cfg(feature = "std")]
pub use hedge::{Hedge, HedgeBuilder, HedgeDelay};
pub use hint::{Hint, NoHint};
pub use hook::{NoHook, OnRetry, RetryInfo};
