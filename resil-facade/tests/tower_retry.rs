//! The retry layer: a request per attempt, classified responses, the
//! `Retry-After` floor measured in virtual time, readiness before each
//! attempt, requests that cannot be copied, and the error type.

#![cfg(all(feature = "tower", feature = "retry"))]

use core::convert::Infallible;
use core::future::{Future, Ready, ready};
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use std::sync::{Arc, Mutex};

use resil::core::{Backoff, Clock, Instant, ManualClock, Outcome, StopReason};
use resil::retry::{Retry, RetryError};
use resil::tower::{RetryLayer, RetryService};
use resil_testkit::{CountingAllocator, allocations_during};
use tower::{Layer, Service, ServiceExt};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// A response: a status and, perhaps, `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Response {
    status: u16,
    retry_after: Option<Duration>,
}

const OK: Response = Response {
    status: 200,
    retry_after: None,
};

/// A scripted service: answers each call with the next scripted result,
/// recording the request and the virtual time of each call, and counting
/// `poll_ready`.
#[derive(Clone)]
struct Script {
    clock: ManualClock,
    answers: Arc<Mutex<Vec<Result<Response, &'static str>>>>,
    seen: Arc<Mutex<Vec<(String, Instant)>>>,
    polls: Arc<Mutex<u32>>,
    ready: Arc<Mutex<Vec<Result<(), &'static str>>>>,
}

impl Script {
    fn new(clock: &ManualClock, answers: &[Result<Response, &'static str>]) -> Self {
        Script {
            clock: clock.clone(),
            answers: Arc::new(Mutex::new(answers.iter().rev().copied().collect())),
            seen: Arc::default(),
            polls: Arc::default(),
            ready: Arc::default(),
        }
    }

    fn calls(&self) -> Vec<(String, Duration)> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .map(|(r, at)| (r.clone(), at.since_origin()))
            .collect()
    }

    fn gaps(&self) -> Vec<Duration> {
        let calls = self.calls();
        calls.windows(2).map(|w| w[1].1 - w[0].1).collect()
    }
}

impl Service<String> for Script {
    type Response = Response;
    type Error = &'static str;
    type Future = Ready<Result<Response, &'static str>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), &'static str>> {
        *self.polls.lock().unwrap() += 1;
        Poll::Ready(self.ready.lock().unwrap().pop().unwrap_or(Ok(())))
    }

    fn call(&mut self, request: String) -> Self::Future {
        self.seen.lock().unwrap().push((request, self.clock.now()));
        ready(self.answers.lock().unwrap().pop().unwrap_or(Ok(OK)))
    }
}

fn policy(clock: &ManualClock, attempts: u32) -> Retry<ManualClock> {
    Retry::builder()
        .backoff(
            Backoff::constant(Duration::from_millis(100))
                .build()
                .unwrap(),
        )
        .max_attempts(attempts)
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn unavailable(retry_after: Option<Duration>) -> Result<Response, &'static str> {
    Ok(Response {
        status: 503,
        retry_after,
    })
}

fn by_status(r: &Result<Response, &'static str>) -> Outcome {
    match r {
        Ok(response) if response.status >= 500 => Outcome::Failure,
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure,
    }
}

fn retry_after(r: &Result<Response, &'static str>) -> Option<Duration> {
    r.as_ref().ok().and_then(|r| r.retry_after)
}

fn call<S>(clock: &ManualClock, service: &mut S, request: &str) -> Result<S::Response, S::Error>
where
    S: Service<String>,
{
    clock.block_on(async { service.ready().await?.call(request.to_owned()).await })
}

#[test]
fn each_attempt_gets_a_copy_of_the_request_after_the_backoff() {
    let clock = ManualClock::new();
    let script = Script::new(&clock, &[Err("reset"), Err("reset")]);
    let mut service = RetryLayer::new(policy(&clock, 3), clock.clone()).layer(script.clone());
    assert_eq!(call(&clock, &mut service, "GET /orders"), Ok(OK));
    assert_eq!(
        script.calls(),
        [
            ("GET /orders".to_owned(), Duration::ZERO),
            ("GET /orders".to_owned(), Duration::from_millis(100)),
            ("GET /orders".to_owned(), Duration::from_millis(200)),
        ]
    );
}

#[test]
fn a_503_is_retried_no_sooner_than_its_retry_after() {
    let clock = ManualClock::new();
    let script = Script::new(
        &clock,
        &[
            unavailable(Some(Duration::from_secs(2))),
            unavailable(None),
            unavailable(Some(Duration::from_secs(5))),
        ],
    );
    let mut service = RetryLayer::new(policy(&clock, 4), clock.clone())
        .classify(by_status)
        .hint(retry_after)
        .layer(script.clone());
    assert_eq!(call(&clock, &mut service, "GET /"), Ok(OK));
    // The hint is a floor over the 100ms backoff; without one, the backoff.
    assert_eq!(
        script.gaps(),
        [
            Duration::from_secs(2),
            Duration::from_millis(100),
            Duration::from_secs(5)
        ]
    );
}

#[test]
fn a_failing_response_is_returned_as_it_is_when_retrying_stops() {
    let clock = ManualClock::new();
    let script = Script::new(&clock, &[unavailable(None); 5]);
    let mut service = RetryLayer::new(policy(&clock, 3), clock.clone())
        .classify(by_status)
        .layer(script.clone());
    let last = call(&clock, &mut service, "GET /").unwrap();
    assert_eq!(last.status, 503);
    assert_eq!(script.calls().len(), 3);
}

#[test]
fn the_error_says_how_many_attempts_and_why_retrying_stopped() {
    let clock = ManualClock::new();
    let script = Script::new(&clock, &[Err("reset"); 5]);
    let mut service = RetryLayer::new(policy(&clock, 3), clock.clone()).layer(script.clone());
    let error: RetryError<&str> = call(&clock, &mut service, "GET /").unwrap_err();
    assert_eq!(error.attempts(), 3);
    assert_eq!(error.reason(), StopReason::AttemptsExhausted);
    assert_eq!(
        error.to_string(),
        "attempts exhausted after 3 attempts: reset"
    );
    assert_eq!(*error.error(), "reset");
    assert_eq!(error.into_inner(), "reset");
}

#[test]
fn errors_the_classifier_ignores_are_not_retried() {
    let clock = ManualClock::new();
    let script = Script::new(&clock, &[Err("not found"), Err("reset")]);
    let mut service = RetryLayer::new(policy(&clock, 3), clock.clone())
        .classify(|r: &Result<Response, &'static str>| match r {
            Err("not found") => Outcome::Ignored,
            other => Outcome::of(other),
        })
        .layer(script.clone());
    let error = call(&clock, &mut service, "GET /").unwrap_err();
    assert_eq!(error.reason(), StopReason::NotRetryable);
    assert_eq!(error.attempts(), 1);
}

#[test]
fn readiness_is_awaited_before_every_attempt() {
    let clock = ManualClock::new();
    let script = Script::new(&clock, &[Err("reset"), Err("reset")]);
    let mut service = RetryLayer::new(policy(&clock, 3), clock.clone()).layer(script.clone());
    assert_eq!(call(&clock, &mut service, "GET /"), Ok(OK));
    // Once by the caller for the first attempt, once before each retry.
    assert_eq!(*script.polls.lock().unwrap(), 3);
}

#[test]
fn a_readiness_error_ends_the_call_unretried() {
    let clock = ManualClock::new();
    let script = Script::new(&clock, &[Err("reset")]);
    // Ready for the first attempt; the retry finds the service broken.
    script.ready.lock().unwrap().extend([Err("closed"), Ok(())]);
    let mut service = RetryLayer::new(policy(&clock, 5), clock.clone()).layer(script.clone());
    let error = call(&clock, &mut service, "GET /").unwrap_err();
    assert_eq!(*error.error(), "closed");
    assert_eq!(error.attempts(), 2);
    assert_eq!(error.reason(), StopReason::NotRetryable);
    assert_eq!(script.calls().len(), 1);
}

#[test]
fn a_readiness_error_seen_by_poll_ready_is_the_calls_error() {
    let clock = ManualClock::new();
    let script = Script::new(&clock, &[]);
    // Broken when the caller polls, and still broken when the call does.
    script
        .ready
        .lock()
        .unwrap()
        .extend([Err("closed"), Err("closed")]);
    let mut service = RetryLayer::new(policy(&clock, 5), clock.clone()).layer(script.clone());
    let error = call(&clock, &mut service, "GET /").unwrap_err();
    assert_eq!(*error.error(), "closed");
    assert_eq!(error.attempts(), 1);
    assert!(script.calls().is_empty());
}

/// A request whose body cannot be cloned.
#[derive(Debug)]
struct Streamed {
    path: &'static str,
    replayable: bool,
}

#[test]
fn requests_that_are_not_clone_are_copied_by_a_function_or_sent_once() {
    let clock = ManualClock::new();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    let inner = tower::service_fn(move |request: Streamed| {
        seen.lock().unwrap().push(request.path);
        ready(Err::<(), _>("reset"))
    });
    let mut service = RetryLayer::new(policy(&clock, 3), clock.clone())
        .clone_requests(|r: &Streamed| {
            r.replayable.then_some(Streamed {
                path: r.path,
                replayable: true,
            })
        })
        .layer(inner);

    let replayable = Streamed {
        path: "/a",
        replayable: true,
    };
    let error = clock.block_on(async { service.ready().await?.call(replayable).await });
    assert_eq!(error.unwrap_err().reason(), StopReason::AttemptsExhausted);
    assert_eq!(*calls.lock().unwrap(), ["/a", "/a", "/a"]);

    calls.lock().unwrap().clear();
    let streamed = Streamed {
        path: "/b",
        replayable: false,
    };
    let error = clock.block_on(async { service.ready().await?.call(streamed).await });
    let error = error.unwrap_err();
    assert_eq!(error.reason(), StopReason::NotRetryable);
    assert_eq!(error.attempts(), 1);
    assert_eq!(*calls.lock().unwrap(), ["/b"]);
}

#[test]
fn no_copy_is_made_for_the_last_attempt() {
    let clock = ManualClock::new();
    let copies = Arc::new(Mutex::new(0));
    let counted = Arc::clone(&copies);
    let inner = tower::service_fn(|_: u32| ready(Err::<(), _>("reset")));
    let mut service = RetryLayer::new(policy(&clock, 3), clock.clone())
        .clone_requests(move |r: &u32| {
            *counted.lock().unwrap() += 1;
            Some(*r)
        })
        .layer(inner);
    let _ = clock.block_on(async { service.ready().await?.call(7).await });
    assert_eq!(*copies.lock().unwrap(), 2);
}

#[test]
fn dropping_the_response_future_cancels_the_retries() {
    let clock = ManualClock::new();
    let script = Script::new(&clock, &[Err("reset"), Err("reset")]);
    let mut service = RetryLayer::new(policy(&clock, 3), clock.clone()).layer(script.clone());
    let mut cx = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_ready());
    let mut future = Box::pin(service.call("GET /".to_owned()));
    assert!(future.as_mut().poll(&mut cx).is_pending()); // waiting to retry
    assert_eq!(clock.pending_sleeps(), 1);
    drop(future);
    assert_eq!(clock.pending_sleeps(), 0);
    clock.advance(Duration::from_secs(10));
    assert_eq!(script.calls().len(), 1);
}

#[test]
fn the_response_future_is_send_for_a_send_service() {
    fn assert_send<T: Send>(_: &T) {}
    let clock = ManualClock::new();
    let mut service: RetryService<_, _, _, _, _> =
        RetryLayer::new(policy(&clock, 3), clock.clone()).layer(Script::new(&clock, &[]));
    let future = service.call(String::new());
    assert_send(&future);
    assert!(format!("{future:?}").contains("RetryFuture"));
}

#[test]
fn a_call_that_succeeds_at_once_allocates_nothing() {
    let clock = ManualClock::new();
    let inner = tower::service_fn(|n: u32| ready(Ok::<_, Infallible>(n)));
    let mut service = RetryLayer::new(policy(&clock, 3), clock.clone()).layer(inner);
    let mut cx = Context::from_waker(Waker::noop());
    let _ = service.poll_ready(&mut cx);
    let _ = core::pin::pin!(service.call(1)).poll(&mut cx);
    let (result, allocations) = allocations_during(|| {
        assert!(service.poll_ready(&mut cx).is_ready());
        core::pin::pin!(service.call(2)).poll(&mut cx)
    });
    assert!(matches!(result, Poll::Ready(Ok(2))));
    assert_eq!(allocations, 0);
}
