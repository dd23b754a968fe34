//! The whole [`Pipeline`] as one tower layer.
//!
//! Why one layer rather than the stack of single ones: the pipeline's
//! stages share one classifier and one hint, its error says which stage
//! ended a call, and its order (shed → total timeout → retry → breaker →
//! attempt timeout) is fixed rather than left to the order of `.layer`
//! calls.
//!
//! Readiness: [`PipelineService::poll_ready`] is always ready. The inner
//! service's readiness is awaited inside each attempt, on a clone of the
//! service, after the shed permit and the breaker's admission — so no
//! permit is held for an idle connection, an open breaker refuses without
//! touching the inner service, and a service that never becomes ready runs
//! into the attempt timeout like a slow call. A readiness error is that
//! attempt's error: the classifier sees it like an error from `call`, so
//! by default the breaker counts it and the policy retries it, on a fresh
//! clone of the service (as tower's retry does; a service whose clones
//! share a broken connection fails again and the budget ends it). Classify
//! it as [`Outcome::Ignored`](resil_core::Outcome::Ignored) to end the call
//! on it instead.
//!
//! Costs: the response future is boxed (one allocation per call: the
//! pipeline's run is an `async fn`), and each attempt sends a clone of the
//! request (`Req: Clone`, as `http::Request<B>` is when its body is, e.g.
//! `Full<Bytes>`; for requests that are not, stack the single layers,
//! whose [`RetryLayer`](super::RetryLayer) takes a copier).

use core::fmt;
use core::future::{Future, poll_fn};
use core::pin::Pin;
use core::task::{Context, Poll};

use alloc::boxed::Box;
use alloc::sync::Arc;

use ::tower::{Layer, Service};
use resil_core::{Classify, DefaultClassifier, Sleeper};
use resil_retry::{Hint, NoHint};

use crate::pipeline::{BreakerStage, Pipeline, PipelineError, RetryStage, ShedStage};

pub use super::shed::{AtPriority, PriorityOf};

/// Runs each call of a service through a [`Pipeline`]; see the
/// [module docs](self).
///
/// # Examples
///
/// ```
/// use core::convert::Infallible;
/// use core::time::Duration;
/// use resil::Pipeline;
/// use resil::breaker::CircuitBreaker;
/// use resil::core::{Backoff, ManualClock};
/// use resil::retry::Retry;
/// use resil::shed::{ConcurrencyLimit, Fixed, Priority};
/// use resil::tower::PipelineLayer;
/// use tower::{Service, ServiceBuilder, ServiceExt};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = ManualClock::new();
/// let pipeline = Pipeline::builder()
///     .shed(ConcurrencyLimit::builder(Fixed::try_from(64)?).clock(clock.clone()).build()?)
///     .retry(
///         Retry::builder()
///             .backoff(Backoff::constant(Duration::from_millis(100)).build()?)
///             .clock(clock.clone())
///             .build()?,
///     )
///     .breaker(CircuitBreaker::builder().clock(clock.clone()).build()?)
///     .attempt_timeout(Duration::from_secs(1))
///     .build()?;
/// // The priority comes from the request: here, odd numbers are batch work.
/// let layer = PipelineLayer::new(pipeline, clock.clone()).priority(|n: &u32| {
///     if n % 2 == 1 { Priority::Sheddable } else { Priority::Critical }
/// });
/// let mut service = ServiceBuilder::new()
///     .layer(layer)
///     .service_fn(|n: u32| async move { Ok::<_, Infallible>(n * 2) });
///
/// let answer = clock.block_on(async {
///     service.ready().await?.call(21).await
/// })?;
/// assert_eq!(answer, 42);
/// # Ok(())
/// # }
/// ```
pub struct PipelineLayer<S, R, K, Z, P = AtPriority, Cl = DefaultClassifier, H = NoHint> {
    pipeline: Arc<Pipeline<S, R, K>>,
    sleeper: Z,
    priority: P,
    classify: Cl,
    hint: H,
}

impl<S, R, K, Z> PipelineLayer<S, R, K, Z> {
    /// A layer running calls through `pipeline`, waiting (backoff, queue,
    /// timeouts) on `sleeper`. By default every request is
    /// [`Priority::Critical`](resil_shed::Priority::Critical), `Ok` succeeds
    /// and `Err` fails, and there are no server hints.
    pub fn new(pipeline: Pipeline<S, R, K>, sleeper: Z) -> Self {
        PipelineLayer {
            pipeline: Arc::new(pipeline),
            sleeper,
            priority: AtPriority::default(),
            classify: DefaultClassifier,
            hint: NoHint,
        }
    }
}

impl<S, R, K, Z, P, Cl, H> PipelineLayer<S, R, K, Z, P, Cl, H> {
    /// How a request's priority is chosen: a closure `Fn(&Req) -> Priority`
    /// (reading a header, say) or an [`AtPriority`].
    pub fn priority<P2>(self, priority: P2) -> PipelineLayer<S, R, K, Z, P2, Cl, H> {
        let PipelineLayer {
            pipeline,
            sleeper,
            classify,
            hint,
            ..
        } = self;
        PipelineLayer {
            pipeline,
            sleeper,
            priority,
            classify,
            hint,
        }
    }

    /// Classifies each attempt's result for the breaker, the retry policy
    /// and the shed stage's adaptive limit at once (a `503` response can be
    /// a failure for all three).
    pub fn classify<Cl2>(self, classify: Cl2) -> PipelineLayer<S, R, K, Z, P, Cl2, H> {
        let PipelineLayer {
            pipeline,
            sleeper,
            priority,
            hint,
            ..
        } = self;
        PipelineLayer {
            pipeline,
            sleeper,
            priority,
            classify,
            hint,
        }
    }

    /// Where a server's "retry after" comes from (a `Retry-After` header):
    /// the floor of the next delay.
    pub fn hint<H2>(self, hint: H2) -> PipelineLayer<S, R, K, Z, P, Cl, H2> {
        let PipelineLayer {
            pipeline,
            sleeper,
            priority,
            classify,
            ..
        } = self;
        PipelineLayer {
            pipeline,
            sleeper,
            priority,
            classify,
            hint,
        }
    }

    /// The pipeline every service of this layer shares.
    pub fn pipeline(&self) -> &Pipeline<S, R, K> {
        &self.pipeline
    }
}

impl<S, R, K, Z: Clone, P: Clone, Cl: Clone, H: Clone> Clone
    for PipelineLayer<S, R, K, Z, P, Cl, H>
{
    fn clone(&self) -> Self {
        PipelineLayer {
            pipeline: Arc::clone(&self.pipeline),
            sleeper: self.sleeper.clone(),
            priority: self.priority.clone(),
            classify: self.classify.clone(),
            hint: self.hint.clone(),
        }
    }
}

impl<Svc, S, R, K, Z: Clone, P: Clone, Cl: Clone, H: Clone> Layer<Svc>
    for PipelineLayer<S, R, K, Z, P, Cl, H>
{
    type Service = PipelineService<Svc, S, R, K, Z, P, Cl, H>;

    fn layer(&self, inner: Svc) -> Self::Service {
        PipelineService {
            inner,
            layer: self.clone(),
        }
    }
}

impl<S: fmt::Debug, R: fmt::Debug, K: fmt::Debug, Z, P, Cl, H> fmt::Debug
    for PipelineLayer<S, R, K, Z, P, Cl, H>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineLayer")
            .field("pipeline", &self.pipeline)
            .finish_non_exhaustive()
    }
}

/// A service whose calls run through a [`Pipeline`]; made by
/// [`PipelineLayer`].
pub struct PipelineService<Svc, S, R, K, Z, P = AtPriority, Cl = DefaultClassifier, H = NoHint> {
    inner: Svc,
    layer: PipelineLayer<S, R, K, Z, P, Cl, H>,
}

impl<Svc: Clone, S, R, K, Z: Clone, P: Clone, Cl: Clone, H: Clone> Clone
    for PipelineService<Svc, S, R, K, Z, P, Cl, H>
{
    fn clone(&self) -> Self {
        PipelineService {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<Svc, S, R, K, Z, P, Cl, H> PipelineService<Svc, S, R, K, Z, P, Cl, H> {
    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline<S, R, K> {
        &self.layer.pipeline
    }

    /// The inner service.
    pub fn get_ref(&self) -> &Svc {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut Svc {
        &mut self.inner
    }

    /// The inner service.
    pub fn into_inner(self) -> Svc {
        self.inner
    }
}

impl<Svc: fmt::Debug, S: fmt::Debug, R: fmt::Debug, K: fmt::Debug, Z, P, Cl, H> fmt::Debug
    for PipelineService<Svc, S, R, K, Z, P, Cl, H>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineService")
            .field("inner", &self.inner)
            .field("pipeline", &self.layer.pipeline)
            .finish_non_exhaustive()
    }
}

/// The response future of a [`PipelineService`]: one call through the
/// pipeline, boxed (see the [module docs](self)).
#[must_use = "futures do nothing unless polled"]
pub struct PipelineFuture<T, E> {
    future: Pin<Box<dyn Future<Output = Result<T, PipelineError<E>>> + Send>>,
}

impl<T, E> Future for PipelineFuture<T, E> {
    type Output = Result<T, PipelineError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.future.as_mut().poll(cx)
    }
}

impl<T, E> fmt::Debug for PipelineFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineFuture").finish_non_exhaustive()
    }
}

impl<Svc, Req, S, R, K, Z, P, Cl, H> Service<Req> for PipelineService<Svc, S, R, K, Z, P, Cl, H>
where
    Svc: Service<Req> + Clone + Send + 'static,
    Svc::Future: Send,
    Svc::Response: Send,
    Svc::Error: Send,
    Req: Clone + Send + 'static,
    S: ShedStage + Send + Sync + 'static,
    S::Permit: Send,
    R: RetryStage + Send + Sync + 'static,
    R::Progress: Send,
    K: BreakerStage + Send + Sync + 'static,
    for<'a> K::Permit<'a>: Send,
    Z: Sleeper + Clone + Send + Sync + 'static,
    Z::Sleep: Send,
    P: PriorityOf<Req>,
    Cl: Classify<Svc::Response, Svc::Error> + Clone + Send + Sync + 'static,
    H: Hint<Svc::Response, Svc::Error> + Clone + Send + Sync + 'static,
{
    type Response = Svc::Response;
    type Error = PipelineError<Svc::Error>;
    type Future = PipelineFuture<Svc::Response, Svc::Error>;

    /// Always ready: the inner service's readiness is awaited inside each
    /// attempt (see the [module docs](self)).
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let layer = &self.layer;
        let priority = layer.priority.priority_of(&request);
        let pipeline = Arc::clone(&layer.pipeline);
        let sleeper = layer.sleeper.clone();
        let (classify, hint) = (layer.classify.clone(), layer.hint.clone());
        let inner = self.inner.clone();
        let future = Box::pin(async move {
            pipeline
                .call(move |_attempt| {
                    // Each attempt owns its service clone and its request,
                    // so the future needs `Send` of them, not `Sync`.
                    let (mut inner, request) = (inner.clone(), request.clone());
                    async move {
                        poll_fn(|cx| inner.poll_ready(cx)).await?;
                        inner.call(request).await
                    }
                })
                .priority(priority)
                .classify(move |result: &Result<_, _>| classify.classify(result))
                .hint(move |result: &Result<_, _>| hint.hint(result))
                .run(&sleeper)
                .await
        });
        PipelineFuture { future }
    }
}
