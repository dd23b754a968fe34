//! The example client's retry layer over a hyper client, shared by
//! `examples/http_client.rs` and `tests/http.rs` (included with `#[path]`).
//!
//! 5xx answers and connection errors are retried; a `Retry-After` (in
//! seconds) is the floor of the next wait. `http::Request` is not `Clone`
//! (its extensions are not), so requests are copied by a function: method,
//! URI, headers and the buffered body.

use core::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::RETRY_AFTER;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use resil::core::{NoopListener, Outcome};
use resil::retry::{NoBudget, Retry};
use resil::tower::RetryLayer;

/// A request with a buffered body, so that it can be sent again.
pub(crate) type Body = Full<Bytes>;

/// A hyper client (HTTP/1, plain TCP): a `tower::Service`.
pub(crate) type HttpClient = Client<HttpConnector, Body>;

/// What one attempt returns.
pub(crate) type Attempt = Result<Response<Incoming>, hyper_util::client::legacy::Error>;

/// The retry layer of [`retry_layer`], its functions named so that the
/// type can be written down.
pub(crate) type ClientRetryLayer<C, Z> = RetryLayer<
    C,
    NoBudget,
    NoopListener,
    Z,
    fn(&Attempt) -> Outcome,
    fn(&Attempt) -> Option<Duration>,
    fn(&Request<Body>) -> Option<Request<Body>>,
>;

/// A hyper client on tokio.
pub(crate) fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Retries under `policy`, waiting on `sleeper`, honouring `Retry-After`.
pub(crate) fn retry_layer<C, Z>(policy: Retry<C>, sleeper: Z) -> ClientRetryLayer<C, Z> {
    RetryLayer::new(policy, sleeper)
        .classify(server_errors as fn(&Attempt) -> Outcome)
        .hint(retry_after as fn(&Attempt) -> Option<Duration>)
        .clone_requests(copy as fn(&Request<Body>) -> Option<Request<Body>>)
}

/// 5xx answers and transport errors are worth another attempt.
fn server_errors(attempt: &Attempt) -> Outcome {
    match attempt {
        Ok(response) if response.status().is_server_error() => Outcome::Failure,
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure,
    }
}

/// `Retry-After: <seconds>` (the HTTP-date form is not used here).
pub(crate) fn retry_after(attempt: &Attempt) -> Option<Duration> {
    let value = attempt.as_ref().ok()?.headers().get(RETRY_AFTER)?;
    let seconds = value.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds))
}

/// A copy of `request` for another attempt.
fn copy(request: &Request<Body>) -> Option<Request<Body>> {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    Some(copy)
}
