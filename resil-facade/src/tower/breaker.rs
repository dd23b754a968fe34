//! The circuit breaker as a tower layer.
//!
//! Why the breaker decides in `poll_ready`, but takes its permit in `call`:
//! an open breaker exists to fail fast, and a dependency that is down is
//! often one whose client has stopped being ready (a full connection pool,
//! a reconnecting channel). Polling that readiness first would make callers
//! wait on exactly what the breaker protects them from. So `poll_ready`
//! asks the breaker first and, if it would refuse, returns `Ready` without
//! touching the inner service; `call` then returns the rejection at once.
//!
//! The permit itself is taken in `call`, not in `poll_ready`, for three
//! reasons: a service that is polled ready and then kept idle (a ready cache
//! in a balancer) must not sit on one of the few half-open trial slots; a
//! slow call is timed from the request, not from when readiness was first
//! asked; and a closed breaker costs `poll_ready` one atomic load. The price
//! is a race: a breaker that admits in `poll_ready` may open before `call`,
//! which then returns the rejection (the inner service, polled ready, is
//! simply not called, as tower allows). In the other direction, a rejection
//! decided in `poll_ready` is returned by the next `call` even if the
//! breaker admits again meanwhile, because the inner service was never
//! polled ready. For the same reason it stands until that `call`: polling
//! readiness again first neither asks the breaker again nor counts a
//! second rejection (a balancer's ready cache may poll a service many
//! times before it sends anything).
//!
//! While the breaker is closed (or disabled) `poll_ready` does not touch it
//! beyond reading its state. Otherwise it asks for a permit and gives it
//! straight back, which the breaker counts as an ignored call (freeing a
//! half-open slot) — the only way to ask "would you admit?" that also moves
//! an open breaker whose wait is over to half-open, as a call would.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use ::tower::{Layer, Service};
use resil_breaker::{CallError, CircuitBreaker, OwnedPermit, Rejected};
use resil_core::{CircuitState, Classify, Clock, DefaultClassifier, Listener};

/// Puts a [`CircuitBreaker`] in front of a service; see [`BreakerService`].
///
/// Every service the layer makes shares the one breaker (it is a cheap
/// handle), so a breaker opened by one connection's calls protects all.
///
/// # Examples
///
/// A breaker that opens after three failed calls in a row, over an inner
/// service whose readiness is never polled while it is open:
///
/// ```
/// use core::time::Duration;
/// use resil::breaker::{CallError, CircuitBreaker};
/// use resil::core::ManualClock;
/// use resil::tower::BreakerLayer;
/// use tower::{Service, ServiceBuilder, ServiceExt};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = ManualClock::new();
/// let breaker = CircuitBreaker::builder()
///     .consecutive_failures(3)
///     .wait(Duration::from_secs(10))
///     .clock(clock.clone())
///     .build()?;
/// let mut service = ServiceBuilder::new()
///     .layer(BreakerLayer::new(breaker))
///     .service_fn(|_: ()| async { Err::<(), _>("connection refused") });
///
/// clock.block_on(async {
///     for _ in 0..3 {
///         let failed = service.ready().await.unwrap().call(()).await;
///         assert!(matches!(failed, Err(CallError::Failed("connection refused"))));
///     }
///     match service.ready().await.unwrap().call(()).await {
///         Err(CallError::Rejected(rejected)) => {
///             assert_eq!(rejected.retry_after(), Some(Duration::from_secs(10)));
///         }
///         other => panic!("expected a rejection, got {other:?}"),
///     }
/// });
/// # Ok(())
/// # }
/// ```
pub struct BreakerLayer<C, L, K = DefaultClassifier> {
    breaker: CircuitBreaker<C, L>,
    classify: K,
}

impl<C: Clock, L: Listener> BreakerLayer<C, L> {
    /// A layer over `breaker`, counting `Ok` as a success and `Err` as a
    /// failure; see [`classify`](Self::classify) to judge responses too.
    pub fn new(breaker: CircuitBreaker<C, L>) -> Self {
        BreakerLayer {
            breaker,
            classify: DefaultClassifier,
        }
    }
}

impl<C, L, K> BreakerLayer<C, L, K> {
    /// Decides what each result says about the dependency: a
    /// [`Classify`] over `&Result<Response, Error>`, for example a closure
    /// `|r: &Result<Response, Error>| -> Outcome` that counts a 5xx
    /// response as a [`Failure`](resil_core::Outcome::Failure) and a 4xx as
    /// [`Ignored`](resil_core::Outcome::Ignored).
    ///
    /// # Examples
    ///
    /// ```
    /// use core::convert::Infallible;
    /// use resil::breaker::CircuitBreaker;
    /// use resil::core::{ManualClock, Outcome};
    /// use resil::tower::BreakerLayer;
    /// use tower::{Service, ServiceBuilder, ServiceExt};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::builder().consecutive_failures(1).clock(clock.clone()).build()?;
    /// let layer = BreakerLayer::new(breaker.clone()).classify(|r: &Result<u16, Infallible>| match r {
    ///     Ok(status) if *status >= 500 => Outcome::Failure,
    ///     Ok(_) => Outcome::Success,
    ///     Err(_) => Outcome::Failure,
    /// });
    /// let mut service = ServiceBuilder::new()
    ///     .layer(layer)
    ///     .service_fn(|_: ()| async { Ok::<u16, Infallible>(503) });
    ///
    /// let status = clock.block_on(async {
    ///     service.ready().await?.call(()).await
    /// })?;
    /// assert_eq!(status, 503); // returned as it is, but counted as a failure:
    /// assert!(breaker.try_acquire().is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn classify<K2>(self, classify: K2) -> BreakerLayer<C, L, K2> {
        BreakerLayer {
            breaker: self.breaker,
            classify,
        }
    }

    /// The breaker the layer's services share.
    pub fn breaker(&self) -> &CircuitBreaker<C, L> {
        &self.breaker
    }
}

impl<S, C, L, K: Clone> Layer<S> for BreakerLayer<C, L, K> {
    type Service = BreakerService<S, C, L, K>;

    fn layer(&self, inner: S) -> Self::Service {
        BreakerService {
            inner,
            breaker: self.breaker.clone(),
            classify: self.classify.clone(),
            rejected: None,
        }
    }
}

impl<C, L, K: Clone> Clone for BreakerLayer<C, L, K> {
    fn clone(&self) -> Self {
        BreakerLayer {
            breaker: self.breaker.clone(),
            classify: self.classify.clone(),
        }
    }
}

impl<C, L, K> fmt::Debug for BreakerLayer<C, L, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerLayer").finish_non_exhaustive()
    }
}

/// A service behind a [`CircuitBreaker`]: calls are admitted, counted and
/// judged by the breaker; while it is open they fail at once with
/// [`CallError::Rejected`], and the inner service is neither polled nor
/// called.
///
/// - `poll_ready` asks the breaker before the inner service: if the breaker
///   would refuse, it is `Ready` at once and the next `call` returns the
///   [`Rejected`] (with the breaker's `retry_after`). See the
///   [module docs](self) for why the permit is taken in `call`.
/// - `call` takes a permit and hands it to the response future, which
///   records the classified result when the inner future completes. A
///   response future dropped before that records nothing (the permit's drop
///   counts as ignored, freeing a half-open slot).
/// - An inner readiness error is returned as [`CallError::Failed`] and not
///   recorded: no call was made.
///
/// No allocation per call: the response future is [`BreakerFuture`].
pub struct BreakerService<S, C, L, K = DefaultClassifier> {
    inner: S,
    breaker: CircuitBreaker<C, L>,
    classify: K,
    /// Set by a `poll_ready` that found the breaker refusing; the next
    /// `call` returns it without touching `inner`.
    rejected: Option<Rejected>,
}

impl<S, C, L, K> BreakerService<S, C, L, K> {
    /// The breaker in front of the service.
    pub fn breaker(&self) -> &CircuitBreaker<C, L> {
        &self.breaker
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// A clone is a service not yet polled ready: a rejection the original
/// holds for its next `call` stays with it.
impl<S: Clone, C, L, K: Clone> Clone for BreakerService<S, C, L, K> {
    fn clone(&self) -> Self {
        BreakerService {
            inner: self.inner.clone(),
            breaker: self.breaker.clone(),
            classify: self.classify.clone(),
            rejected: None,
        }
    }
}

impl<S, C, L, K> fmt::Debug for BreakerService<S, C, L, K>
where
    S: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerService")
            .field("inner", &self.inner)
            .field("rejected", &self.rejected)
            .finish_non_exhaustive()
    }
}

impl<S, Req, C, L, K> Service<Req> for BreakerService<S, C, L, K>
where
    S: Service<Req>,
    C: Clock,
    L: Listener,
    K: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = CallError<S::Error>;
    type Future = BreakerFuture<S::Future, C, L, K>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.rejected.is_some() {
            // Asked again before `call`: the refusal stands, counted once.
            return Poll::Ready(Ok(()));
        }
        match self.breaker.state() {
            CircuitState::Closed | CircuitState::Disabled => {}
            _ => match self.breaker.try_acquire() {
                // Given straight back: counted as ignored, see the module docs.
                Ok(permit) => permit.ignore(),
                Err(rejected) => {
                    self.rejected = Some(rejected);
                    return Poll::Ready(Ok(()));
                }
            },
        }
        self.inner.poll_ready(cx).map_err(CallError::Failed)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        if let Some(rejected) = self.rejected.take() {
            return BreakerFuture::rejected(rejected);
        }
        match self.breaker.try_acquire_owned() {
            Ok(permit) => BreakerFuture {
                kind: Kind::Running {
                    future: self.inner.call(request),
                    permit: Some(permit),
                    classify: self.classify.clone(),
                },
            },
            Err(rejected) => BreakerFuture::rejected(rejected),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`BreakerService`]: the inner call holding its
    /// breaker permit, or a rejection ready at once.
    #[must_use = "futures do nothing unless polled"]
    pub struct BreakerFuture<F, C: Clock, L: Listener, K> {
        #[pin]
        kind: Kind<F, C, L, K>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F, C: Clock, L: Listener, K> {
        Rejected { rejected: Option<Rejected> },
        Running {
            #[pin]
            future: F,
            permit: Option<OwnedPermit<C, L>>,
            classify: K,
        },
    }
}

impl<F, C: Clock, L: Listener, K> BreakerFuture<F, C, L, K> {
    fn rejected(rejected: Rejected) -> Self {
        BreakerFuture {
            kind: Kind::Rejected {
                rejected: Some(rejected),
            },
        }
    }
}

impl<F, T, E, C, L, K> Future for BreakerFuture<F, C, L, K>
where
    F: Future<Output = Result<T, E>>,
    C: Clock,
    L: Listener,
    K: Classify<T, E>,
{
    type Output = Result<T, CallError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Rejected { rejected } => match rejected.take() {
                Some(rejected) => Poll::Ready(Err(CallError::Rejected(rejected))),
                // Polled again after it completed: it never will again.
                None => Poll::Pending,
            },
            KindProj::Running {
                future,
                permit,
                classify,
            } => {
                let result = core::task::ready!(future.poll(cx));
                if let Some(permit) = permit.take() {
                    permit.record_outcome(classify.classify(&result));
                }
                Poll::Ready(result.map_err(CallError::Failed))
            }
        }
    }
}

impl<F, C: Clock, L: Listener, K> fmt::Debug for BreakerFuture<F, C, L, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Rejected { .. } => "rejected",
            Kind::Running { .. } => "running",
        };
        f.debug_struct("BreakerFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
