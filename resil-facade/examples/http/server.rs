//! The example server's service stack, shared by `examples/http_server.rs`
//! and `tests/http.rs` (included with `#[path]`), so the test drives the
//! very stack the example runs.
//!
//! - Every route sits behind a [`ShedLayer`]: a concurrency limit of
//!   [`LIMIT`] with half of it kept for critical work; the priority comes
//!   from the [`PRIORITY_HEADER`] request header; a shed request is
//!   answered `503 Service Unavailable` with `Retry-After`.
//! - `/flaky` also sits behind a [`BreakerLayer`] that counts 5xx answers as
//!   failures and, once open, answers `503` with the breaker's own
//!   `Retry-After` without calling the handler.
//! - `/work` runs the work function it is given (a sleep in the example; in
//!   the test, a gate the test opens); `/hello` answers at once.

use core::convert::Infallible;
use core::future::Future;
use core::time::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use resil::breaker::{CallError, CircuitBreaker};
use resil::core::{Clock, ConfigError, Outcome};
use resil::shed::{ConcurrencyLimit, Fixed, Priority};
use resil::tower::{BreakerLayer, ShedError, ShedLayer};
use tower::ServiceBuilder;

/// The request header that carries a request's priority: `critical-plus`,
/// `critical` (the default), `sheddable-plus` or `sheddable`.
pub(crate) const PRIORITY_HEADER: &str = "x-priority";

/// Requests in flight at once, all routes together.
pub(crate) const LIMIT: u32 = 8;

/// What a shed request is told to wait: `Retry-After: 1`.
pub(crate) const SHED_RETRY_AFTER: Duration = Duration::from_secs(1);

/// `/flaky`'s breaker opens after this many failures in a row…
pub(crate) const BREAKER_FAILURES: u32 = 3;

/// …for this long.
pub(crate) const BREAKER_WAIT: Duration = Duration::from_secs(5);

/// The flaky handler's switch and call count.
#[derive(Clone, Debug, Default)]
pub(crate) struct Flaky {
    /// While set, `/flaky` answers `500`.
    pub(crate) failing: Arc<AtomicBool>,
    /// Calls that reached the handler (the breaker let through).
    pub(crate) calls: Arc<AtomicU64>,
}

/// The server's stack, and handles on its limiter and breaker.
pub(crate) struct Server<C: Clock> {
    /// The routes behind their layers.
    pub(crate) router: Router,
    /// The concurrency limit in front of every route.
    pub(crate) limiter: ConcurrencyLimit<Fixed, C>,
    /// The breaker in front of `/flaky`.
    pub(crate) breaker: CircuitBreaker<C>,
}

/// Builds the stack on `clock` (the system clock in the example, a manual
/// one in the test), with `work` as `/work`'s handler.
pub(crate) fn build<C, W, F>(clock: C, flaky: Flaky, work: W) -> Result<Server<C>, ConfigError>
where
    C: Clock + Clone + 'static,
    W: Fn() -> F + Clone + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(LIMIT)?)
        .reserve(Priority::Critical, 0.5)
        .clock(clock.clone())
        .name("http")
        .build()?;
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(BREAKER_FAILURES)
        .wait(BREAKER_WAIT)
        .half_open_permits(1)
        .clock(clock)
        .name("flaky")
        .build()?;

    let work = tower::service_fn(move |_: Request| {
        let work = work.clone();
        async move {
            work().await;
            Ok::<_, Infallible>(StatusCode::OK)
        }
    });
    let hello = tower::service_fn(|_: Request| async { Ok::<_, Infallible>("hello") });
    let handler = flaky.clone();
    let flaky = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(breaker_refused))
        .layer(BreakerLayer::new(breaker.clone()).classify(server_errors))
        .service_fn(move |_: Request| {
            handler.calls.fetch_add(1, Ordering::SeqCst);
            let failing = handler.failing.load(Ordering::SeqCst);
            async move {
                Ok::<_, Infallible>(match failing {
                    true => (StatusCode::INTERNAL_SERVER_ERROR, "flaked").into_response(),
                    false => (StatusCode::OK, "fine").into_response(),
                })
            }
        });

    let router = Router::new()
        .route_service("/work", work)
        .route_service("/hello", hello)
        .route_service("/flaky", flaky)
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(shed))
                .layer(ShedLayer::new(limiter.clone(), priority)),
        );
    Ok(Server {
        router,
        limiter,
        breaker,
    })
}

/// The request's priority, from [`PRIORITY_HEADER`]; `Critical` if absent
/// or unknown.
fn priority(request: &Request) -> Priority {
    let header = request.headers().get(PRIORITY_HEADER);
    match header.and_then(|value| value.to_str().ok()) {
        Some("critical-plus") => Priority::CriticalPlus,
        Some("sheddable-plus") => Priority::SheddablePlus,
        Some("sheddable") => Priority::Sheddable,
        _ => Priority::Critical,
    }
}

/// What the breaker is told about an answer: a 5xx is the dependency
/// failing.
fn server_errors(result: &Result<Response, Infallible>) -> Outcome {
    match result {
        Ok(response) if response.status().is_server_error() => Outcome::Failure,
        _ => Outcome::Success,
    }
}

/// `503` with `Retry-After`, the wait in whole seconds, rounded up.
fn unavailable(wait: Duration, body: &'static str) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// A shed request: `503`, come back in [`SHED_RETRY_AFTER`].
async fn shed(error: ShedError<Infallible>) -> Response {
    match error {
        ShedError::Shed(_) => unavailable(SHED_RETRY_AFTER, "overloaded"),
        // Infallible inside, and ShedError may grow: any other refusal is
        // still an overload.
        _ => unavailable(SHED_RETRY_AFTER, "unavailable"),
    }
}

/// An open breaker: `503`, come back when it may admit again.
async fn breaker_refused(error: CallError<Infallible>) -> Response {
    match error {
        CallError::Rejected(rejected) => unavailable(
            rejected.retry_after().unwrap_or(BREAKER_WAIT),
            "circuit open",
        ),
        _ => unavailable(BREAKER_WAIT, "unavailable"),
    }
}
