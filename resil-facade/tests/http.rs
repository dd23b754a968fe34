//! The tower layers over real HTTP, on loopback: the example server's stack
//! (`examples/http/server.rs`: shedding by a priority header, a breaker in
//! front of a flaky handler) on an ephemeral port, and the example client's
//! retry layer (`examples/http/client.rs`) honouring `Retry-After`.
//!
//! Time is virtual: the server's limiter and breaker and the client's retry
//! policy share one `ManualClock`, and the client's waits are sleeps on it
//! that [`drive`] completes by advancing it, so "waited at least the
//! server's `Retry-After`" is read off that clock. Every request loop is
//! bounded in count; a generous real-time timeout around each test is only a
//! safety net against a hang.

#![cfg(all(
    feature = "tower",
    feature = "retry",
    feature = "breaker",
    feature = "shed"
))]

#[path = "../examples/http/client.rs"]
mod client;
#[path = "../examples/http/server.rs"]
mod server;

use core::future::Future;
use core::time::Duration;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper::header::RETRY_AFTER;
use hyper::{Request, Response, StatusCode};
use resil::core::{Backoff, CircuitState, Clock, ManualClock};
use resil::retry::Retry;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tower::{Layer, Service, ServiceExt};

/// What the retrying client fails with.
type RetryError = resil::retry::RetryError<hyper_util::client::legacy::Error>;

/// Only against a hang: nothing here should take more than a second.
const SAFETY_NET: Duration = Duration::from_secs(60);

/// A server on an ephemeral loopback port.
struct Running {
    addr: SocketAddr,
    server: server::Server<ManualClock>,
    flaky: server::Flaky,
    /// `/work` requests wait on it until it is closed.
    gate: Arc<Semaphore>,
    /// One message per `/work` request that reached its handler.
    entered: UnboundedReceiver<()>,
}

async fn start(clock: &ManualClock) -> Running {
    let gate = Arc::new(Semaphore::new(0));
    let (tx, entered) = unbounded_channel();
    let held = Arc::clone(&gate);
    let work = move || {
        let (gate, tx) = (Arc::clone(&held), tx.clone());
        async move {
            let _ = tx.send(());
            // Returns once the gate is closed.
            let _ = gate.acquire().await;
        }
    };
    let flaky = server::Flaky::default();
    let server = server::build(clock.clone(), flaky.clone(), work).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = server.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Running {
        addr,
        server,
        flaky,
        gate,
        entered,
    }
}

fn request(addr: SocketAddr, path: &str, priority: &str) -> Request<client::Body> {
    Request::get(format!("http://{addr}{path}"))
        .header(server::PRIORITY_HEADER, priority)
        .body(client::Body::default())
        .unwrap()
}

/// One request, no retries.
async fn get(
    client: client::HttpClient,
    addr: SocketAddr,
    path: &str,
    priority: &str,
) -> Response<Incoming> {
    client.request(request(addr, path, priority)).await.unwrap()
}

fn retry_after(response: &Response<Incoming>) -> Option<&str> {
    response.headers().get(RETRY_AFTER)?.to_str().ok()
}

/// Runs `future`, completing the client's virtual sleeps: whenever one is
/// pending, the clock jumps to its deadline. Between steps it yields, so
/// the runtime serves the sockets (and the server) in between.
async fn drive<F: Future>(clock: &ManualClock, future: F) -> F::Output {
    let driver = async {
        for _ in 0..1_000_000 {
            if clock.pending_sleeps() > 0 {
                clock.advance_to_next();
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::select! {
        output = future => output,
        () = driver => panic!("the driven future made no progress in a million steps"),
    }
}

/// When each attempt was made, on the virtual clock.
type AttemptLog = Arc<Mutex<Vec<Duration>>>;

/// The retrying client, on `clock`, recording the clock at each attempt.
fn retrying_client(
    clock: &ManualClock,
    attempts: u32,
) -> (
    impl Service<Request<client::Body>, Response = Response<Incoming>, Error = RetryError>,
    AttemptLog,
) {
    let policy = Retry::builder()
        .backoff(
            Backoff::constant(Duration::from_millis(100))
                .build()
                .unwrap(),
        )
        .max_attempts(attempts)
        .clock(clock.clone())
        .build()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (seen, at) = (Arc::clone(&log), clock.clone());
    let recorded = client::http_client().map_request(move |request| {
        seen.lock().unwrap().push(at.now().since_origin());
        request
    });
    (
        client::retry_layer(policy, clock.clone()).layer(recorded),
        log,
    )
}

fn gaps(log: &Mutex<Vec<Duration>>) -> Vec<Duration> {
    let log = log.lock().unwrap();
    log.windows(2).map(|w| w[1] - w[0]).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn critical_requests_succeed_while_sheddable_ones_get_503() {
    tokio::time::timeout(SAFETY_NET, async {
        let clock = ManualClock::new();
        let mut running = start(&clock).await;
        let addr = running.addr;
        let http = client::http_client();

        // Sheddable work takes the unreserved half of the limit and holds it.
        let half = server::LIMIT / 2;
        let holders: Vec<_> = (0..half)
            .map(|_| tokio::spawn(get(http.clone(), addr, "/work", "sheddable")))
            .collect();
        for _ in 0..half {
            running.entered.recv().await.unwrap();
        }
        assert_eq!(running.server.limiter.in_flight(), half);

        // Four critical and four sheddable clients at once, five requests
        // each: critical ones fit in the reserved half, sheddable ones are
        // refused with 503 and Retry-After.
        let clients = |priority: &'static str| -> Vec<_> {
            (0..4)
                .map(|_| {
                    let http = http.clone();
                    tokio::spawn(async move {
                        let mut answers = Vec::new();
                        for _ in 0..5 {
                            let response = get(http.clone(), addr, "/hello", priority).await;
                            answers.push((
                                response.status(),
                                retry_after(&response).map(str::to_owned),
                            ));
                        }
                        answers
                    })
                })
                .collect()
        };
        let (critical, sheddable) = (clients("critical"), clients("sheddable"));
        for client in critical {
            for (status, _) in client.await.unwrap() {
                assert_eq!(status, StatusCode::OK);
            }
        }
        for client in sheddable {
            for answer in client.await.unwrap() {
                assert_eq!(
                    answer,
                    (StatusCode::SERVICE_UNAVAILABLE, Some("1".to_owned()))
                );
            }
        }

        // A retrying sheddable client waits out each Retry-After (virtual
        // time), then gets the last 503 as it is.
        let (mut retrying, log) = retrying_client(&clock, 3);
        let response = drive(&clock, async {
            let request = request(addr, "/hello", "sheddable");
            retrying.ready().await?.call(request).await
        })
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let gaps = gaps(&log);
        assert_eq!(gaps.len(), 2);
        for gap in gaps {
            assert!(gap >= server::SHED_RETRY_AFTER, "retried after {gap:?}");
        }

        // The held work finishes; its permits come back.
        running.gate.close();
        for holder in holders {
            assert_eq!(holder.await.unwrap().status(), StatusCode::OK);
        }
        assert_eq!(running.server.limiter.in_flight(), 0);
        let response = get(http.clone(), addr, "/hello", "sheddable").await;
        assert_eq!(response.status(), StatusCode::OK);
    })
    .await
    .expect("the test hung");
}

#[tokio::test(flavor = "current_thread")]
async fn the_breaker_opens_and_the_clients_retry_waits_out_its_retry_after() {
    tokio::time::timeout(SAFETY_NET, async {
        let clock = ManualClock::new();
        let running = start(&clock).await;
        let addr = running.addr;
        let http = client::http_client();

        running.flaky.failing.store(true, Ordering::SeqCst);
        for _ in 0..server::BREAKER_FAILURES {
            let response = get(http.clone(), addr, "/flaky", "critical").await;
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        }
        assert_eq!(running.server.breaker.state(), CircuitState::Open);

        // Open: refused with the breaker's wait, the handler not called.
        let refused = get(http.clone(), addr, "/flaky", "critical").await;
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry_after(&refused), Some("5"));
        assert_eq!(running.flaky.calls.load(Ordering::SeqCst), 3);

        // The handler recovers. A retrying client is refused once, waits
        // the five seconds it was told (not the policy's 100ms), and its
        // second attempt is the breaker's half-open trial, which passes.
        running.flaky.failing.store(false, Ordering::SeqCst);
        clock.advance(Duration::from_secs(1)); // the refusal above was a second ago
        let (mut retrying, log) = retrying_client(&clock, 4);
        let response = drive(&clock, async {
            let request = request(addr, "/flaky", "critical");
            retrying.ready().await?.call(request).await
        })
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(gaps(&log), [server::BREAKER_WAIT - Duration::from_secs(1)]);
        assert_eq!(running.flaky.calls.load(Ordering::SeqCst), 4);
        assert_eq!(running.server.breaker.state(), CircuitState::Closed);
    })
    .await
    .expect("the test hung");
}
