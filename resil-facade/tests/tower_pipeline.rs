//! The pipeline as a tower layer: the inner service's readiness is awaited
//! only after admission (an open breaker never touches it), each attempt
//! gets its own copy of the request, one classifier and hint serve every
//! stage, the shed permit lives exactly as long as the response future, and
//! the error is typed.
#![cfg(feature = "tower")]

use core::convert::Infallible;
use core::future::{Ready, ready};
use core::task::{Context, Poll};
use core::time::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use resil::Pipeline;
use resil::breaker::CircuitBreaker;
use resil::core::{Backoff, CircuitState, Clock, ManualClock, Outcome, Sleeper};
use resil::pipeline::{Cause, Stage};
use resil::retry::Retry;
use resil::shed::{ConcurrencyLimit, Fixed, Priority};
use resil::tower::PipelineLayer;
use tower::{Layer, Service, ServiceExt};

type Limiter = ConcurrencyLimit<Fixed, ManualClock>;
type Breaker = CircuitBreaker<ManualClock>;
type Stack = Pipeline<Limiter, Retry<ManualClock>, Breaker>;

fn stack(clock: &ManualClock, limit: u32) -> (Stack, Limiter, Breaker) {
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(limit).unwrap())
        .clock(clock.clone())
        .build()
        .unwrap();
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(5)
        .clock(clock.clone())
        .build()
        .unwrap();
    let retry = Retry::builder()
        .backoff(
            Backoff::constant(Duration::from_millis(100))
                .build()
                .unwrap(),
        )
        .max_attempts(3)
        .clock(clock.clone())
        .build()
        .unwrap();
    let pipeline = Pipeline::builder()
        .shed(limiter.clone())
        .retry(retry)
        .breaker(breaker.clone())
        .attempt_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    (pipeline, limiter, breaker)
}

/// A service that counts its readiness polls and calls, and answers each
/// request with `answer(call number, request)`.
#[derive(Clone)]
struct Counting<F> {
    polls: Arc<AtomicU32>,
    calls: Arc<AtomicU32>,
    answer: F,
}

impl<F> Counting<F> {
    fn new(answer: F) -> Self {
        Counting {
            polls: Arc::new(AtomicU32::new(0)),
            calls: Arc::new(AtomicU32::new(0)),
            answer,
        }
    }
}

impl<F: Fn(u32, String) -> Result<u16, &'static str>> Service<String> for Counting<F> {
    type Response = u16;
    type Error = &'static str;
    type Future = Ready<Result<u16, &'static str>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: String) -> Self::Future {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        ready((self.answer)(n, request))
    }
}

#[test]
fn an_open_breaker_refuses_without_touching_the_inner_service() {
    let clock = ManualClock::new();
    let (pipeline, limiter, breaker) = stack(&clock, 10);
    let inner = Counting::new(|_, _| Ok(200));
    let (polls, calls) = (Arc::clone(&inner.polls), Arc::clone(&inner.calls));
    let mut service = PipelineLayer::new(pipeline, clock.clone()).layer(inner);
    breaker.force_open();
    let err = clock
        .block_on(async { service.ready().await?.call("/".to_owned()).await })
        .unwrap_err();
    assert_eq!(err.stage(), Stage::Breaker);
    assert!(matches!(err.cause(), Cause::Rejected(r) if r.state() == CircuitState::ForcedOpen));
    assert_eq!(
        (polls.load(Ordering::SeqCst), calls.load(Ordering::SeqCst)),
        (0, 0)
    );
    assert_eq!(limiter.in_flight(), 0);
}

/// A service that is never ready.
#[derive(Clone)]
struct NeverReady;

impl Service<String> for NeverReady {
    type Response = u16;
    type Error = &'static str;
    type Future = Ready<Result<u16, &'static str>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Pending
    }

    fn call(&mut self, _request: String) -> Self::Future {
        panic!("called without being ready");
    }
}

#[test]
fn a_service_that_never_gets_ready_runs_into_the_attempt_timeout() {
    let clock = ManualClock::new();
    let (pipeline, limiter, breaker) = stack(&clock, 10);
    let mut service = PipelineLayer::new(pipeline, clock.clone()).layer(NeverReady);
    let err = clock
        .block_on(async { service.ready().await?.call("/".to_owned()).await })
        .unwrap_err();
    // Like a slow call: each of the three attempts times out after 1s, is
    // a failure for the breaker, and is retried after the 100ms backoff.
    assert_eq!(*err.cause(), Cause::AttemptTimeout(Duration::from_secs(1)));
    assert_eq!(err.attempts(), 3);
    assert_eq!(clock.now().since_origin(), Duration::from_millis(3200));
    assert_eq!(breaker.metrics().failures, 3);
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn each_attempt_gets_the_request_and_one_classifier_and_hint_serve_all() {
    let clock = ManualClock::new();
    let (pipeline, limiter, breaker) = stack(&clock, 10);
    let inner = Counting::new(|n, request: String| {
        assert_eq!(request, "/orders");
        Ok(if n == 0 { 503 } else { 200 })
    });
    let (polls, calls) = (Arc::clone(&inner.polls), Arc::clone(&inner.calls));
    let layer = PipelineLayer::new(pipeline, clock.clone())
        .classify(|r: &Result<u16, &str>| match r {
            Ok(503) | Err(_) => Outcome::Failure,
            Ok(_) => Outcome::Success,
        })
        .hint(|r: &Result<u16, &str>| (*r == Ok(503)).then_some(Duration::from_secs(2)));
    let mut service = layer.layer(inner);
    let status = clock.block_on(async { service.ready().await?.call("/orders".to_owned()).await });
    assert_eq!(status, Ok(200));
    assert_eq!(
        (polls.load(Ordering::SeqCst), calls.load(Ordering::SeqCst)),
        (2, 2)
    );
    assert_eq!(clock.now().since_origin(), Duration::from_secs(2)); // the hint, not 100ms
    let metrics = breaker.metrics();
    assert_eq!((metrics.calls, metrics.failures), (2, 1));
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn the_priority_comes_from_the_request_and_a_shed_call_never_reaches_the_service() {
    let clock = ManualClock::new();
    let (pipeline, limiter, _breaker) = stack(&clock, 1);
    let inner = Counting::new(|_, _| Ok(200));
    let calls = Arc::clone(&inner.calls);
    let layer = PipelineLayer::new(pipeline, clock.clone()).priority(|request: &String| {
        if request.starts_with("/batch") {
            Priority::Sheddable
        } else {
            Priority::Critical
        }
    });
    let mut service = layer.layer(inner);
    let held = limiter.try_acquire(Priority::Critical).unwrap();
    let err = clock
        .block_on(async { service.ready().await?.call("/batch/1".to_owned()).await })
        .unwrap_err();
    assert!(matches!(err.cause(), Cause::Shed(shed) if shed.priority() == Priority::Sheddable));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    drop(held);
    let ok = clock.block_on(async { service.ready().await?.call("/checkout".to_owned()).await });
    assert_eq!(ok, Ok(200));
}

#[test]
fn the_shed_permit_lives_as_long_as_the_response_future() {
    let clock = ManualClock::new();
    let (pipeline, limiter, _breaker) = stack(&clock, 4);
    let sleeper = clock.clone();
    let slow = tower::service_fn(move |_: String| {
        let sleeper = sleeper.clone();
        async move {
            sleeper.sleep(Duration::from_millis(500)).await;
            Ok::<_, Infallible>(200u16)
        }
    });
    let mut service = PipelineLayer::new(pipeline, clock.clone()).layer(slow);
    // Ready, but no call yet: no permit is held for an idle connection.
    clock.block_on(service.ready()).unwrap();
    assert_eq!(limiter.in_flight(), 0);

    let mut pending = Box::pin(service.call("/a".to_owned()));
    let waker = std::task::Waker::noop();
    assert!(
        pending
            .as_mut()
            .poll(&mut Context::from_waker(waker))
            .is_pending()
    );
    assert_eq!(limiter.in_flight(), 1);
    drop(pending); // cancelled: the permit comes back
    assert_eq!(limiter.in_flight(), 0);

    let done = clock.block_on(service.call("/b".to_owned()));
    assert_eq!(done, Ok(200));
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn the_inner_services_error_is_reachable_and_spawnable_on_tokio() {
    let clock = ManualClock::new();
    let (pipeline, _limiter, _breaker) = stack(&clock, 4);
    let inner = Counting::new(|_, _| Err("connection reset"));
    let mut service = PipelineLayer::new(pipeline, clock.clone()).layer(inner);
    let future = service.call("/".to_owned());
    fn assert_send<T: Send + 'static>(_: &T) {}
    assert_send(&future);
    let err = clock.block_on(future).unwrap_err();
    assert_eq!(err.inner(), Some(&"connection reset"));
    assert_eq!(err.attempts(), 3);
    assert_eq!(
        err.to_string(),
        "connection reset (after 3 attempts, attempts exhausted)"
    );
}
