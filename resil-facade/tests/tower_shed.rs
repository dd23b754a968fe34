//! The shed layer: per-request priorities, permits taken in `call` and held
//! by the response future, outcomes fed to an adaptive limit, the wait
//! mode on a virtual sleeper, and the error type.

#![cfg(all(feature = "tower", feature = "shed"))]

use core::convert::Infallible;
use core::future::{Future, Ready, ready};
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use std::error::Error as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use resil::core::{Clock, ManualClock, Outcome, ShedReason, Sleeper};
use resil::shed::{Aimd, ConcurrencyLimit, Fixed, Priority};
use resil::tower::{AtPriority, ShedError, ShedLayer};
use resil_testkit::{CountingAllocator, allocations_during};
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// A request: its priority header, and the status to answer with.
#[derive(Clone, Copy, Debug)]
struct Request {
    priority: Option<Priority>,
    status: u16,
}

fn critical(status: u16) -> Request {
    Request {
        priority: Some(Priority::Critical),
        status,
    }
}

fn sheddable(status: u16) -> Request {
    Request {
        priority: Some(Priority::Sheddable),
        status,
    }
}

/// The extractor: the request's priority, `Critical` by default.
fn priority(request: &Request) -> Priority {
    request.priority.unwrap_or_default()
}

/// A service answering with the request's status, recording every call.
#[derive(Clone, Default)]
struct Echo {
    calls: Arc<Mutex<Vec<u16>>>,
}

impl Service<Request> for Echo {
    type Response = u16;
    type Error = Infallible;
    type Future = Ready<Result<u16, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        self.calls.lock().unwrap().push(request.status);
        ready(Ok(request.status))
    }
}

fn limiter(limit: u32, clock: &ManualClock) -> ConcurrencyLimit<Fixed, ManualClock> {
    ConcurrencyLimit::builder(Fixed::try_from(limit).unwrap())
        .reserve(Priority::Critical, 0.5)
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn poll_ready<S: Service<R>, R>(service: &mut S) -> Poll<Result<(), S::Error>> {
    service.poll_ready(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn the_extractor_chooses_each_requests_priority() {
    let clock = ManualClock::new();
    let limiter = limiter(4, &clock);
    let echo = Echo::default();
    let mut service = ShedLayer::new(limiter.clone(), priority).layer(echo.clone());

    // Sheddable work fills the unreserved half and holds it.
    let mut held = Vec::new();
    for _ in 0..2 {
        assert!(poll_ready(&mut service).is_ready());
        held.push(service.call(sheddable(200)));
    }
    assert_eq!(limiter.in_flight_at(Priority::Sheddable), 2);
    // More sheddable work is refused at once, without reaching the service.
    for _ in 0..3 {
        assert!(poll_ready(&mut service).is_ready());
        match clock.block_on(service.call(sheddable(200))) {
            Err(ShedError::Shed(shed)) => {
                assert_eq!(shed.priority(), Priority::Sheddable);
                assert_eq!(shed.reason(), ShedReason::LimitReached);
            }
            other => panic!("expected a shed, got {other:?}"),
        }
    }
    // Critical work (explicit, or by default) still gets in.
    for request in [
        critical(201),
        Request {
            priority: None,
            status: 202,
        },
    ] {
        let answer = clock.block_on(async { service.ready().await?.call(request).await });
        assert_eq!(answer, Ok(request.status));
    }
    for future in held {
        assert_eq!(clock.block_on(future), Ok(200));
    }
    assert_eq!(*echo.calls.lock().unwrap(), [200, 200, 201, 202]);
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn poll_ready_holds_no_permit() {
    let clock = ManualClock::new();
    let limiter = limiter(2, &clock);
    let mut service = ShedLayer::new(limiter.clone(), priority).layer(Echo::default());
    let mut clones: Vec<_> = (0..10).map(|_| service.clone()).collect();
    for clone in &mut clones {
        assert!(poll_ready(clone).is_ready()); // ten idle, ready connections
    }
    assert_eq!(limiter.in_flight(), 0);
    let answer = clock.block_on(async { service.ready().await?.call(sheddable(200)).await });
    assert_eq!(answer, Ok(200));
}

#[test]
fn the_permit_is_returned_when_the_response_completes_or_is_dropped() {
    let clock = ManualClock::new();
    let limiter = limiter(2, &clock);
    let mut service = ShedLayer::new(limiter.clone(), priority).layer(Echo::default());

    assert!(poll_ready(&mut service).is_ready());
    let first = service.call(critical(200));
    assert!(poll_ready(&mut service).is_ready());
    let second = service.call(critical(200));
    assert_eq!(limiter.in_flight(), 2);
    assert!(poll_ready(&mut service).is_ready());
    assert!(clock.block_on(service.call(critical(200))).is_err());

    assert_eq!(clock.block_on(first), Ok(200));
    assert_eq!(limiter.in_flight(), 1);
    drop(second); // a client that hung up
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn at_priority_admits_every_request_at_one_priority() {
    let clock = ManualClock::new();
    let limiter = limiter(2, &clock);
    let mut service =
        ShedLayer::new(limiter.clone(), AtPriority(Priority::Sheddable)).layer(Echo::default());

    // The request says critical; the layer does not read it.
    assert!(poll_ready(&mut service).is_ready());
    let held = service.call(critical(200));
    assert_eq!(limiter.in_flight_at(Priority::Sheddable), 1);
    assert!(poll_ready(&mut service).is_ready());
    match clock.block_on(service.call(critical(201))) {
        Err(ShedError::Shed(shed)) => assert_eq!(shed.priority(), Priority::Sheddable),
        other => panic!("expected a shed, got {other:?}"),
    }
    drop(held);
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn a_panicking_service_returns_its_permit_in_both_modes() {
    let clock = ManualClock::new();
    let limiter = limiter(2, &clock);
    let panicking = tower::service_fn(|request: Request| async move {
        if request.status >= 500 {
            panic!("a bug in the handler");
        }
        Ok::<_, Infallible>(request.status)
    });
    let mut refuse = ShedLayer::new(limiter.clone(), priority).layer(panicking);
    let mut wait = ShedLayer::new(limiter.clone(), priority)
        .wait(clock.clone())
        .layer(panicking);

    let panicked = catch_unwind(AssertUnwindSafe(|| {
        clock.block_on(async { refuse.ready().await?.call(critical(500)).await })
    }));
    assert!(panicked.is_err());
    assert_eq!(limiter.in_flight(), 0);
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        clock.block_on(async { wait.ready().await?.call(critical(500)).await })
    }));
    assert!(panicked.is_err());
    assert_eq!(limiter.in_flight(), 0);
    // Both still serve.
    let answer = clock.block_on(async { refuse.ready().await?.call(critical(200)).await });
    assert_eq!(answer, Ok(200));
    let answer = clock.block_on(async { wait.ready().await?.call(critical(201)).await });
    assert_eq!(answer, Ok(201));
}

#[test]
fn the_classified_outcome_reaches_an_adaptive_limit() {
    let clock = ManualClock::new();
    let aimd = Aimd::builder().initial(20).build().unwrap();
    let limiter = ConcurrencyLimit::builder(aimd)
        .clock(clock.clone())
        .build()
        .unwrap();
    let by_status = |r: &Result<u16, Infallible>| match r {
        Ok(status) if *status >= 500 => Outcome::Failure,
        _ => Outcome::Success,
    };
    let mut service = ServiceBuilder::new()
        .layer(ShedLayer::new(limiter.clone(), priority).classify(by_status))
        .service(Echo::default());
    assert_eq!(limiter.limit(), 20);
    let answer = clock.block_on(async { service.ready().await?.call(critical(200)).await });
    assert_eq!(answer, Ok(200));
    assert_eq!(limiter.limit(), 20);
    // A 503 is returned as it is, and tells the limit to back off.
    let answer = clock.block_on(async { service.ready().await?.call(critical(503)).await });
    assert_eq!(answer, Ok(503));
    assert_eq!(limiter.limit(), 18);

    // With the default classifier the same response is a success.
    let aimd = Aimd::builder().initial(20).build().unwrap();
    let limiter = ConcurrencyLimit::builder(aimd)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut service = ShedLayer::new(limiter.clone(), priority).layer(Echo::default());
    let answer = clock.block_on(async { service.ready().await?.call(critical(503)).await });
    assert_eq!(answer, Ok(503));
    assert_eq!(limiter.limit(), 20);
}

/// A service taking one virtual second per call.
fn slow_service(
    clock: &ManualClock,
) -> impl Service<
    u32,
    Response = (u32, Duration),
    Error = Infallible,
    Future = impl Future<Output = Result<(u32, Duration), Infallible>> + Send,
> + Clone
+ Send
+ 'static {
    let clock = clock.clone();
    tower::service_fn(move |n: u32| {
        let clock = clock.clone();
        async move {
            clock.sleep(Duration::from_secs(1)).await;
            Ok::<_, Infallible>((n, clock.now().since_origin()))
        }
    })
}

#[test]
fn the_wait_mode_queues_inside_the_response_future() {
    let clock = ManualClock::new();
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(1).unwrap())
        .max_queue(4)
        .max_wait(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut service = ShedLayer::new(limiter.clone(), |_: &u32| Priority::Critical)
        .wait(clock.clone())
        .layer(slow_service(&clock));

    let results = clock.block_on(async {
        let mut calls = Vec::new();
        for n in 1..=3 {
            calls.push(service.ready().await.unwrap().call(n));
        }
        // The first took the free permit in `call` (as in refuse mode); the
        // others queue when first polled.
        assert_eq!((limiter.in_flight(), limiter.waiting()), (1, 0));
        let (a, b, c) = {
            let mut calls = calls.into_iter();
            let (a, b, c) = (
                calls.next().unwrap(),
                calls.next().unwrap(),
                calls.next().unwrap(),
            );
            tokio::join!(a, b, c)
        };
        [a, b, c]
    });
    // One at a time, each waiting for the one before: done at 1s, 2s, 3s.
    let done: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        done,
        [
            (1, Duration::from_secs(1)),
            (2, Duration::from_secs(2)),
            (3, Duration::from_secs(3))
        ]
    );
    assert_eq!(limiter.in_flight(), 0);
    assert_eq!(limiter.waiting(), 0);
}

#[test]
fn the_wait_mode_sheds_after_max_wait_and_when_the_queue_is_full() {
    let clock = ManualClock::new();
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(1).unwrap())
        .max_queue(1)
        .max_wait(Duration::from_millis(500))
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut service = ShedLayer::new(limiter.clone(), |_: &u32| Priority::Critical)
        .wait(clock.clone())
        .layer(slow_service(&clock));

    let [a, b, c] = clock.block_on(async {
        let a = service.ready().await.unwrap().call(1);
        let b = service.ready().await.unwrap().call(2);
        let c = service.ready().await.unwrap().call(3);
        let (a, b, c) = tokio::join!(a, b, c);
        [a, b, c]
    });
    assert_eq!(a.unwrap(), (1, Duration::from_secs(1)));
    let reason = |r: Result<_, ShedError<Infallible>>| r.unwrap_err().as_shed().unwrap().reason();
    assert_eq!(reason(b), ShedReason::WaitedTooLong);
    assert_eq!(reason(c), ShedReason::QueueFull);
    assert_eq!(limiter.in_flight(), 0);
    assert_eq!(limiter.waiting(), 0);
}

#[test]
fn a_dropped_waiting_future_leaves_the_queue() {
    let clock = ManualClock::new();
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(1).unwrap())
        .max_queue(4)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut service = ShedLayer::new(limiter.clone(), |_: &u32| Priority::Critical)
        .wait(clock.clone())
        .layer(slow_service(&clock));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_ready());
    let mut first = Box::pin(service.call(1));
    assert!(first.as_mut().poll(&mut cx).is_pending()); // holds the permit
    assert!(service.poll_ready(&mut cx).is_ready());
    let mut second = Box::pin(service.call(2));
    assert!(second.as_mut().poll(&mut cx).is_pending()); // queued
    assert_eq!((limiter.in_flight(), limiter.waiting()), (1, 1));
    drop(second);
    assert_eq!(limiter.waiting(), 0);
    drop(first);
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn the_error_keeps_the_inner_type_and_its_source() {
    #[derive(Debug, thiserror::Error)]
    #[error("upstream failed")]
    struct Upstream(#[source] std::io::Error);

    let clock = ManualClock::new();
    let limiter = limiter(2, &clock);
    let mut service = ServiceBuilder::new()
        .layer(ShedLayer::new(limiter.clone(), |_: &()| {
            Priority::Sheddable
        }))
        .service_fn(|()| async { Err::<(), _>(Upstream(std::io::Error::other("reset"))) });
    let error = clock
        .block_on(async { service.ready().await?.call(()).await })
        .unwrap_err();
    assert!(!error.is_shed());
    assert_eq!(error.to_string(), "upstream failed");
    assert_eq!(error.source().unwrap().to_string(), "reset");
    assert_eq!(error.into_inner().unwrap().0.to_string(), "reset");

    let _held = limiter.try_acquire(Priority::Sheddable).unwrap();
    let error = clock
        .block_on(async { service.ready().await?.call(()).await })
        .unwrap_err();
    assert!(error.is_shed());
    assert_eq!(
        error.to_string(),
        "request shed at priority Sheddable: the concurrency limit is reached"
    );
    assert!(error.source().is_none());
    assert!(error.into_inner().is_none());
}

#[test]
fn the_refuse_mode_allocates_nothing_per_call() {
    let clock = ManualClock::new();
    let limiter = limiter(4, &clock);
    let echo = Echo {
        calls: Arc::new(Mutex::new(Vec::with_capacity(16))),
    };
    let mut service = ShedLayer::new(limiter, priority).layer(echo);
    let mut cx = Context::from_waker(Waker::noop());
    // Warm up before counting.
    for _ in 0..4 {
        let _ = service.poll_ready(&mut cx);
        let _ = core::pin::pin!(service.call(critical(200))).poll(&mut cx);
    }
    let (results, allocations) = allocations_during(|| {
        assert!(service.poll_ready(&mut cx).is_ready());
        let admitted = core::pin::pin!(service.call(critical(200))).poll(&mut cx);
        (admitted,)
    });
    assert!(matches!(results.0, Poll::Ready(Ok(200))));
    assert_eq!(allocations, 0);
}

#[test]
fn the_wait_mode_allocates_only_to_queue() {
    let clock = ManualClock::new();
    let limiter = ConcurrencyLimit::builder(Fixed::try_from(1).unwrap())
        .max_queue(4)
        .clock(clock.clone())
        .build()
        .unwrap();
    let echo = Echo {
        calls: Arc::new(Mutex::new(Vec::with_capacity(16))),
    };
    let mut service = ShedLayer::new(limiter.clone(), priority)
        .wait(clock.clone())
        .layer(echo);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..4 {
        let _ = service.poll_ready(&mut cx);
        let _ = core::pin::pin!(service.call(critical(200))).poll(&mut cx);
    }
    // A free permit: called at once, nothing allocated.
    let (admitted, allocations) = allocations_during(|| {
        assert!(service.poll_ready(&mut cx).is_ready());
        core::pin::pin!(service.call(critical(200))).poll(&mut cx)
    });
    assert!(matches!(admitted, Poll::Ready(Ok(200))));
    assert_eq!(allocations, 0);
    // No free permit: this request queues, and that allocates.
    let held = limiter.try_acquire(Priority::CriticalPlus).unwrap();
    let (queued, allocations) = allocations_during(|| {
        let mut future = Box::pin(service.call(critical(200)));
        let pending = future.as_mut().poll(&mut cx).is_pending();
        (pending, future)
    });
    assert!(queued.0);
    assert!(allocations >= 1);
    drop(held);
    let mut future = queued.1;
    assert!(matches!(
        future.as_mut().poll(&mut cx),
        Poll::Ready(Ok(200))
    ));
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn layers_services_and_futures_are_debug() {
    let clock = ManualClock::new();
    let layer = ShedLayer::new(limiter(2, &clock), priority);
    assert!(format!("{layer:?}").contains("Refuse"));
    let waiting = layer.clone().wait(clock.clone());
    assert!(format!("{waiting:?}").contains("Wait"));
    let mut service = layer.layer(Echo::default());
    let future = service.call(critical(200));
    assert!(format!("{future:?}").contains("running"));
}
