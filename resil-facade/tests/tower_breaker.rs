//! The breaker layer: rejection before readiness, permits held by the
//! response future, classification, and its error type.

#![cfg(all(feature = "tower", feature = "breaker"))]

use core::convert::Infallible;
use core::future::{Future as _, Ready, ready};
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use std::error::Error as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use resil::breaker::{CallError, CircuitBreaker};
use resil::core::{CircuitState, ManualClock, Outcome};
use resil::tower::BreakerLayer;
use resil_testkit::{CountingAllocator, allocations_during};
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// A service that counts `poll_ready` and `call`, and can be made never
/// ready, or failing to get ready.
#[derive(Clone, Default)]
struct Probe {
    polls: Arc<AtomicU32>,
    calls: Arc<AtomicU32>,
    readiness: Readiness,
}

#[derive(Clone, Copy, Default, PartialEq)]
enum Readiness {
    #[default]
    Ready,
    Never,
    Broken,
}

impl Service<Result<u16, &'static str>> for Probe {
    type Response = u16;
    type Error = &'static str;
    type Future = Ready<Result<u16, &'static str>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), &'static str>> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        match self.readiness {
            Readiness::Ready => Poll::Ready(Ok(())),
            Readiness::Never => Poll::Pending,
            Readiness::Broken => Poll::Ready(Err("not ready")),
        }
    }

    fn call(&mut self, response: Result<u16, &'static str>) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        ready(response)
    }
}

fn breaker(clock: &ManualClock) -> CircuitBreaker<ManualClock> {
    CircuitBreaker::builder()
        .consecutive_failures(2)
        .wait(Duration::from_secs(30))
        .half_open_permits(1)
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn poll_ready<S: Service<R>, R>(service: &mut S) -> Poll<Result<(), S::Error>> {
    service.poll_ready(&mut Context::from_waker(Waker::noop()))
}

/// Opens `breaker` with two failed calls.
fn trip(breaker: &CircuitBreaker<ManualClock>) {
    for _ in 0..2 {
        let _ = breaker.call(|| Err::<(), _>("down"));
    }
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn an_open_breaker_rejects_without_polling_the_inner_service() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let probe = Probe {
        readiness: Readiness::Never,
        ..Probe::default()
    };
    let mut service = BreakerLayer::new(breaker.clone()).layer(probe.clone());

    // Closed: readiness is the inner service's (never ready here).
    assert!(poll_ready(&mut service).is_pending());
    assert_eq!(probe.polls.load(Ordering::SeqCst), 1);

    trip(&breaker);
    // Open: ready at once, and the inner service is not asked.
    assert!(matches!(poll_ready(&mut service), Poll::Ready(Ok(()))));
    assert_eq!(probe.polls.load(Ordering::SeqCst), 1);
    let rejected = clock.block_on(service.call(Ok(200)));
    match rejected {
        Err(CallError::Rejected(rejected)) => {
            assert_eq!(rejected.state(), CircuitState::Open);
            assert_eq!(rejected.retry_after(), Some(Duration::from_secs(30)));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(probe.calls.load(Ordering::SeqCst), 0);
    assert_eq!(probe.polls.load(Ordering::SeqCst), 1);
    assert_eq!(breaker.metrics().rejected, 1);
}

#[test]
fn a_rejection_decided_in_poll_ready_is_what_call_returns() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let probe = Probe::default();
    let mut service = BreakerLayer::new(breaker.clone()).layer(probe.clone());
    trip(&breaker);
    assert!(poll_ready(&mut service).is_ready());
    // The wait ends before the call: the inner service was never polled
    // ready, so the call is still refused.
    clock.advance(Duration::from_secs(30));
    let result = clock.block_on(service.call(Ok(200)));
    assert!(matches!(result, Err(CallError::Rejected(_))));
    assert_eq!(probe.calls.load(Ordering::SeqCst), 0);
    // The next poll_ready asks again: half-open, a trial goes through.
    let result = clock.block_on(async { service.ready().await?.call(Ok(200)).await });
    assert_eq!(result, Ok(200));
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn polling_ready_again_before_the_call_counts_one_rejection() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let probe = Probe::default();
    let mut service = BreakerLayer::new(breaker.clone()).layer(probe.clone());
    trip(&breaker);
    for _ in 0..3 {
        assert!(matches!(poll_ready(&mut service), Poll::Ready(Ok(()))));
    }
    assert_eq!(breaker.metrics().rejected, 1);
    let result = clock.block_on(service.call(Ok(200)));
    assert!(matches!(result, Err(CallError::Rejected(_))));
    assert_eq!(breaker.metrics().rejected, 1);
    // After the call, readiness asks the breaker again.
    assert!(poll_ready(&mut service).is_ready());
    assert_eq!(breaker.metrics().rejected, 2);
    assert_eq!(probe.polls.load(Ordering::SeqCst), 0);
}

#[test]
fn the_response_future_holds_the_permit_until_it_completes() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let probe = Probe::default();
    let mut service = BreakerLayer::new(breaker.clone()).layer(probe.clone());
    trip(&breaker);
    clock.advance(Duration::from_secs(30));

    // Half-open with one trial permit: the first call's future holds it.
    assert!(poll_ready(&mut service).is_ready());
    let trial = service.call(Ok(200));
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    assert!(poll_ready(&mut service).is_ready());
    let second = clock.block_on(service.call(Ok(200)));
    assert!(matches!(second, Err(CallError::Rejected(r)) if r.state() == CircuitState::HalfOpen));

    // Completing the trial records its success: the breaker closes.
    assert_eq!(clock.block_on(trial), Ok(200));
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_dropped_response_future_records_nothing_and_frees_its_permit() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let probe = Probe::default();
    let mut service = BreakerLayer::new(breaker.clone()).layer(probe.clone());
    trip(&breaker);
    clock.advance(Duration::from_secs(30));

    assert!(poll_ready(&mut service).is_ready());
    let trial = service.call(Err("would fail"));
    drop(trial); // a client that hung up
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    // The slot is free again, and the failure was never recorded.
    let result = clock.block_on(async { service.ready().await?.call(Ok(204)).await });
    assert_eq!(result, Ok(204));
    assert_eq!(breaker.state(), CircuitState::Closed);

    // Closed: a dropped failing call does not count either.
    for _ in 0..5 {
        assert!(poll_ready(&mut service).is_ready());
        drop(service.call(Err("would fail")));
    }
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.metrics().consecutive_failures, 0);
}

#[test]
fn a_panicking_trial_call_frees_its_half_open_slot() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let mut service =
        BreakerLayer::new(breaker.clone()).layer(tower::service_fn(|status: u16| async move {
            if status >= 500 {
                panic!("a bug in the handler");
            }
            Ok::<_, &'static str>(status)
        }));
    trip(&breaker);
    clock.advance(Duration::from_secs(30));

    // The one trial slot: taken by a call that panics.
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        clock.block_on(async { service.ready().await?.call(500).await })
    }));
    assert!(panicked.is_err());
    // Nothing recorded, the slot free: the next trial closes the breaker.
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    let result = clock.block_on(async { service.ready().await?.call(200).await });
    assert_eq!(result, Ok(200));
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_classifier_counts_error_responses_as_failures() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let layer =
        BreakerLayer::new(breaker.clone()).classify(|r: &Result<u16, &'static str>| match r {
            Ok(status) if *status >= 500 => Outcome::Failure,
            Ok(status) if *status >= 400 => Outcome::Ignored,
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        });
    let mut service = ServiceBuilder::new().layer(layer).service(Probe::default());
    let mut status = |s: u16| -> Result<u16, CallError<&str>> {
        clock.block_on(async { service.ready().await?.call(Ok(s)).await })
    };
    // 404s say nothing about the dependency's health.
    for _ in 0..5 {
        assert_eq!(status(404), Ok(404));
    }
    assert_eq!(breaker.state(), CircuitState::Closed);
    // Two 503s in a row open it; the responses are still returned.
    assert_eq!(status(503), Ok(503));
    assert_eq!(status(503), Ok(503));
    assert_eq!(breaker.state(), CircuitState::Open);
    assert!(matches!(status(200), Err(CallError::Rejected(_))));
}

#[test]
fn the_default_classifier_counts_errors_as_failures() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let mut service = BreakerLayer::new(breaker.clone()).layer(Probe::default());
    for _ in 0..2 {
        let result = clock.block_on(async { service.ready().await?.call(Err("refused")).await });
        assert_eq!(result, Err(CallError::Failed("refused")));
    }
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn a_readiness_error_is_returned_and_not_recorded() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let probe = Probe {
        readiness: Readiness::Broken,
        ..Probe::default()
    };
    let mut service = BreakerLayer::new(breaker.clone()).layer(probe);
    for _ in 0..3 {
        assert!(matches!(
            poll_ready(&mut service),
            Poll::Ready(Err(CallError::Failed("not ready")))
        ));
    }
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.metrics().consecutive_failures, 0);
}

#[test]
fn the_error_keeps_the_inner_type_and_its_source() {
    #[derive(Debug, thiserror::Error)]
    #[error("upstream failed")]
    struct Upstream(#[source] std::io::Error);

    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let mut service = ServiceBuilder::new()
        .layer(BreakerLayer::new(breaker.clone()))
        .service_fn(|_: ()| async {
            Err::<(), _>(Upstream(std::io::Error::other("connection reset")))
        });
    let error = clock
        .block_on(async { service.ready().await?.call(()).await })
        .unwrap_err();
    assert_eq!(error.to_string(), "upstream failed");
    assert_eq!(error.source().unwrap().to_string(), "connection reset");
    let inner: Upstream = error.into_inner().unwrap();
    assert_eq!(inner.0.kind(), std::io::ErrorKind::Other);

    let _ = clock.block_on(async { service.ready().await?.call(()).await });
    let rejected = clock
        .block_on(async { service.ready().await?.call(()).await })
        .unwrap_err();
    assert!(rejected.is_rejected());
    assert_eq!(
        rejected.to_string(),
        "circuit breaker rejected the call: open"
    );
    assert!(rejected.source().is_none());
}

#[test]
fn a_closed_breaker_call_allocates_nothing() {
    let clock = ManualClock::new();
    let breaker = breaker(&clock);
    let mut service = BreakerLayer::new(breaker.clone()).layer(Probe::default());
    let mut cx = Context::from_waker(Waker::noop());
    // Warm up (thread-locals, lazy statics) before counting.
    let _ = poll_ready(&mut service);
    let _ = core::pin::pin!(service.call(Ok(200))).poll(&mut cx);
    let (result, allocations) = allocations_during(|| {
        assert!(service.poll_ready(&mut cx).is_ready());
        let future = core::pin::pin!(service.call(Ok(200)));
        future.poll(&mut cx)
    });
    assert!(matches!(result, Poll::Ready(Ok(200))));
    assert_eq!(allocations, 0);
}

#[test]
fn layers_and_services_are_debug_and_clone() {
    let clock = ManualClock::new();
    let layer = BreakerLayer::new(breaker(&clock));
    let service = layer
        .clone()
        .layer(tower::service_fn(|()| ready(Ok::<_, Infallible>(()))));
    let _ = service.clone();
    assert!(format!("{layer:?}").starts_with("BreakerLayer"));
    let mut service = BreakerLayer::new(breaker(&clock)).layer(Probe::default());
    let future = service.call(Ok(1));
    assert!(format!("{future:?}").contains("running"));
}
