//! tower [`Layer`](::tower::Layer)s and [`Service`](::tower::Service)s for
//! each technique, so a circuit breaker, a priority load shedder and a retry
//! policy drop into the tower stack an axum, tonic or hyper service already
//! has.
//!
//! Why our own layers, when tower has `retry`, `limit` and `load_shed`?
//! Because of what users of those keep asking for:
//!
//! - **Typed errors.** tower's `LoadShed` and `Buffer` erase errors into
//!   `BoxError`, so a caller downcasts to tell "overloaded" from "the
//!   backend failed". Here every layer keeps the inner service's error
//!   type: [`BreakerService`] fails with
//!   [`CallError<S::Error>`](crate::breaker::CallError), [`ShedService`]
//!   with [`ShedError<S::Error>`], [`RetryService`] with
//!   [`RetryError<S::Error>`](crate::retry::RetryError).
//! - **Fail fast, not wait.** tower's concurrency limit waits for capacity
//!   in `poll_ready`, holding a permit for a connection that may never send
//!   another request. [`ShedService`] takes its permit in `call`, per
//!   request, at a priority an extractor chooses, and either refuses at once
//!   or waits in a bounded priority queue inside the response future.
//!   [`BreakerService`] decides before it polls the inner service's
//!   readiness, so an open breaker answers at once even when the dependency
//!   behind it has stopped being ready.
//! - **No runtime.** tower's retry names `tokio::time`; [`RetryService`]
//!   waits on whatever [`Sleeper`](crate::core::Sleeper) it is given, and
//!   honours a server's `Retry-After` as a floor for its delay.
//!
//! # Layer order
//!
//! Outermost first, the order [`Pipeline`](crate::Pipeline) uses:
//! shed → retry → breaker → the service. Shedding outside retrying means a
//! request that was shed is never retried by the same stack, and a request
//! admitted holds one permit for all its attempts; the breaker inside the
//! retry sees (and counts) every attempt, and its rejections are errors the
//! retry's classifier can choose not to retry. With the default classifier
//! a [`CallError::Rejected`](crate::breaker::CallError::Rejected) is an
//! `Err` like any other and is retried on the policy's backoff; classify it
//! as [`Ignored`](crate::core::Outcome::Ignored) to end the call, or give
//! the retry a [`hint`](RetryLayer::hint) returning the rejection's
//! `retry_after` to wait for the breaker. The [`Pipeline`](crate::Pipeline)
//! (and [`PipelineLayer`]) ends the call on a rejection, or with
//! `retry_rejected` waits for the breaker, without being told.

#![cfg_attr(
    all(feature = "retry", feature = "breaker", feature = "shed"),
    doc = r#"
# Examples

```
use core::convert::Infallible;
use core::time::Duration;
use resil::breaker::CircuitBreaker;
use resil::core::{Backoff, ManualClock};
use resil::retry::Retry;
use resil::shed::{ConcurrencyLimit, Fixed, Priority};
use resil::tower::{BreakerLayer, RetryLayer, ShedLayer};
use tower::{Service, ServiceBuilder, ServiceExt};

# fn main() -> Result<(), Box<dyn std::error::Error>> {
let clock = ManualClock::new();
let limiter = ConcurrencyLimit::builder(Fixed::try_from(100)?).clock(clock.clone()).build()?;
let breaker = CircuitBreaker::builder().clock(clock.clone()).build()?;
let retry = Retry::builder()
    .backoff(Backoff::constant(Duration::from_millis(100)).build()?)
    .clock(clock.clone())
    .build()?;

let mut service = ServiceBuilder::new()
    .layer(ShedLayer::new(limiter, |_: &u32| Priority::Critical))
    .layer(RetryLayer::new(retry, clock.clone()))
    .layer(BreakerLayer::new(breaker))
    .service_fn(|n: u32| async move { Ok::<_, Infallible>(n * 2) });

let answer = clock.block_on(async {
    service.ready().await?.call(21).await
})?;
assert_eq!(answer, 42);
# Ok(())
# }
```
"#
)]

#[cfg(feature = "breaker")]
pub mod breaker;
#[cfg(feature = "shed")]
mod error;
#[cfg(all(feature = "retry", feature = "breaker", feature = "shed"))]
pub mod pipeline;
#[cfg(feature = "retry")]
pub mod retry;
#[cfg(feature = "shed")]
pub mod shed;

#[cfg(feature = "breaker")]
pub use breaker::{BreakerFuture, BreakerLayer, BreakerService};
#[cfg(feature = "shed")]
pub use error::ShedError;
#[cfg(all(feature = "retry", feature = "breaker", feature = "shed"))]
pub use pipeline::{PipelineFuture, PipelineLayer, PipelineService};
#[cfg(feature = "retry")]
pub use retry::{ByClone, CloneRequest, RetryFuture, RetryLayer, RetryService};
#[cfg(feature = "shed")]
pub use shed::{
    AtPriority, PriorityOf, Refuse, ShedFuture, ShedLayer, ShedService, Wait, WaitFuture,
};
