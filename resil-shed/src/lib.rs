//! Priority-aware load shedding: concurrency limits (fixed and adaptive) and
//! client-side adaptive throttling.
//!
//! Load shedding means refusing work early and cheaply, before a struggling
//! dependency drowns in it. This crate provides the parts that decide *how
//! much* work to let through:
//!
//! - **Concurrency limits** ([`Limit`]): how many calls may be in flight at
//!   once. [`Fixed`] is a constant; [`Aimd`], [`Gradient2`] and [`Vegas`]
//!   adapt to the dependency, after Netflix's
//!   [concurrency-limits](https://github.com/Netflix/concurrency-limits),
//!   learning from each finished call's latency and outcome (a [`Sample`]).
//!   They are pure, deterministic state machines — no atomics, no clock, no
//!   randomness — and the [`limit`] module says which of Netflix's known
//!   pathologies each avoids, and where each settles against a server of
//!   known capacity.
//! - **Client-side throttling** ([`AdaptiveThrottle`]): the throttle from
//!   Google's SRE book, which refuses requests locally with probability
//!   `max(0, (requests − K × accepts) / (requests + 1))` over a sliding
//!   window, so that a client of an overloaded backend sends about K times
//!   what the backend accepts and no more. Lock-free on the hot path.
//!
//! Like every resil crate it depends on no runtime: time comes from a
//! [`Clock`](resil_core::Clock) it is given, so everything here runs, and is
//! tested, in virtual time.
//!
//! # Quick start
//!
//! A client offering 100 requests a second to a backend that accepts 10:
//! the throttle settles at letting through about K × 10 = 20 a second.
//!
//! ```
//! use core::time::Duration;
//! use resil_core::ManualClock;
//! use resil_shed::AdaptiveThrottle;
//!
//! let clock = ManualClock::new();
//! let throttle = AdaptiveThrottle::builder()
//!     .k(2.0)
//!     .window(Duration::from_secs(60))
//!     .clock(clock.clone())
//!     .seed(1)
//!     .build()?;
//!
//! // The backend's capacity, in ticks of 10ms: a request costs 10 of them.
//! let mut credit = 0;
//! let mut sent_in_last_minute = 0;
//! for tick in 0..30_000 {
//!     clock.advance(Duration::from_millis(10)); // 100 requests a second
//!     credit = (credit + 1).min(100);
//!     if throttle.check().is_err() {
//!         continue; // refused locally: the backend never sees it
//!     }
//!     if tick >= 24_000 {
//!         sent_in_last_minute += 1;
//!     }
//!     if credit >= 10 {
//!         credit -= 10;
//!         throttle.accepted();
//!     }
//! }
//! let per_second = sent_in_last_minute / 60;
//! assert!((18..=22).contains(&per_second), "{per_second}");
//! # Ok::<(), resil_core::ConfigError>(())
//! ```
//!
//! An adaptive limit finding the capacity of a dependency that serves 50
//! calls at once in 10ms and queues the rest:
//!
//! ```
//! use core::time::Duration;
//! use resil_core::{Instant, Outcome};
//! use resil_shed::{Limit, Sample, Vegas};
//!
//! let mut limit = Vegas::default(); // starts at 20
//! let mut now = Instant::ZERO;
//! for _ in 0..300 {
//!     // One round trip with `limit` calls in flight.
//!     let in_flight = limit.limit();
//!     let latency = Duration::from_millis(10) * in_flight.max(50) / 50;
//!     for _ in 0..in_flight {
//!         now += latency / in_flight;
//!         limit.update(&Sample::new(latency, in_flight, Outcome::Success, now));
//!     }
//! }
//! // 50, plus a queue of 3 to 6 × log10(limit) calls (or half during a probe).
//! assert!((25..=61).contains(&limit.limit()), "{}", limit.limit());
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | [`ConcurrencyLimit`] and [`AdaptiveThrottle`] (their slow paths take a `std` mutex), with `SystemClock` as their default clock |
//!
//! Without `std` the crate is `#![no_std]`, and the limits need neither an
//! allocator nor a floating-point library: the one logarithm is computed in
//! plain arithmetic, so a limit gives the same values on every platform.
//!
//! # The concurrency limiter
//!
//! [`ConcurrencyLimit`] hands out RAII [`Permit`]s under a [`Limit`]
//! (measuring each permit's latency and outcome to feed an adaptive one),
//! with four [`Priority`] levels after Google SRE's criticalities: a level
//! can reserve a share of the limit against less critical levels, a freed
//! permit goes to the most critical waiter, and a full queue evicts a less
//! critical waiter before it refuses a more critical request. Waiting is
//! bounded in length and time, optionally with CoDel and adaptive LIFO
//! under overload. See its docs for the example of critical traffic
//! surviving while sheddable traffic is refused.
//!
//! Admission and limit changes are compare-and-swaps on one word, so the
//! permits out never exceed the limit, even while an adaptive limit shrinks
//! below the number in flight (loom-checked, with hand-off, cancellation and
//! the shrinking limit; property-tested against a reference model).
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.85 (edition 2024).
//!
//! # The workspace
//!
//! `resil-shed` depends on `resil-core` alone; the `resil` facade re-exports
//! it beside `resil-retry` and `resil-breaker`.

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

mod error;
pub mod limit;
#[cfg(feature = "std")]
mod limiter;
mod loom;
mod priority;
#[cfg(feature = "std")]
pub mod throttle;

#[cfg(test)]
mod tests;

#[cfg(feature = "std")]
pub use error::{Shed, Throttled};
pub use limit::{
    Aimd, AimdBuilder, AnyLimit, Fixed, Gradient2, Gradient2Builder, Limit, Sample, Vegas,
    VegasBuilder,
};
#[cfg(feature = "std")]
pub use limiter::{ConcurrencyLimit, ConcurrencyLimitBuilder, Permit};
pub use priority::Priority;
#[cfg(feature = "std")]
pub use throttle::{AdaptiveThrottle, AdaptiveThrottleBuilder};
