//! Priority load shedding as a tower layer.
//!
//! Why the permit is taken in `call` and not in `poll_ready`: tower's
//! `ConcurrencyLimit` takes its permit in `poll_ready` and keeps it in the
//! service until `call`, so a connection that was polled ready and then
//! sits idle holds capacity that no request is using, and a limit of 100
//! admits 100 *connections*, not 100 requests. Here `poll_ready` only asks
//! the inner service; the permit is taken per request, at the priority an
//! extractor reads from that request, and it lives in the response future:
//! returned when the response is ready or the future is dropped (a client
//! that hung up), with the response's outcome recorded for an adaptive
//! limit.
//!
//! Two modes, chosen on the layer:
//!
//! - [`Refuse`] (the default): a request that does not fit now fails at
//!   once with [`ShedError::Shed`]. Nothing is allocated per call.
//! - [`Wait`]: a request that does not fit waits in the limiter's bounded
//!   priority queue, inside the response future, on the given
//!   [`Sleeper`]; it is shed if the queue is full or it waits longer than
//!   the limiter's `max_wait`. The inner service must be `Clone`: the
//!   service that was polled ready moves into the response future (a clone
//!   stays behind for the next request), and is called once the permit is
//!   granted. Its readiness is held while it waits. A request that finds a
//!   permit free allocates nothing (`ConcurrencyLimit::acquire_now`, which
//!   refuses silently); one that has to queue allocates one box for the
//!   wait (`ConcurrencyLimit::acquire` is an `async fn`).

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use alloc::boxed::Box;

use ::tower::{Layer, Service};
use resil_core::{Classify, Clock, DefaultClassifier, Listener, Sleeper};
use resil_shed::{ConcurrencyLimit, Limit, Permit, Priority, Shed};

use super::ShedError;

/// One priority for every request; the default is
/// [`Priority::Critical`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AtPriority(pub Priority);

/// Chooses a request's priority, for [`ShedLayer`] and
/// [`PipelineLayer`](super::PipelineLayer): implemented for [`AtPriority`]
/// and for closures `Fn(&Req) -> Priority`.
pub trait PriorityOf<Req> {
    /// The priority `request` is admitted at.
    fn priority_of(&self, request: &Req) -> Priority;
}

impl<Req> PriorityOf<Req> for AtPriority {
    fn priority_of(&self, _request: &Req) -> Priority {
        self.0
    }
}

impl<Req, F: Fn(&Req) -> Priority> PriorityOf<Req> for F {
    fn priority_of(&self, request: &Req) -> Priority {
        self(request)
    }
}

/// The mode of a [`ShedLayer`] that refuses at once what does not fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Refuse;

/// The mode of a [`ShedLayer`] that waits in the limiter's queue, on the
/// sleeper `Z`; made by [`ShedLayer::wait`].
#[derive(Clone)]
pub struct Wait<Z> {
    sleeper: Z,
}

impl<Z> fmt::Debug for Wait<Z> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}

/// Puts a [`ConcurrencyLimit`] in front of a service, at a priority chosen
/// per request; see [`ShedService`].
///
/// Every service the layer makes shares the one limiter.
///
/// # Examples
///
/// Critical requests get in while sheddable ones are refused:
///
/// ```
/// use core::convert::Infallible;
/// use resil::core::ManualClock;
/// use resil::shed::{ConcurrencyLimit, Fixed, Priority};
/// use resil::tower::{ShedError, ShedLayer};
/// use tower::{Service, ServiceBuilder, ServiceExt};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = ManualClock::new();
/// let limiter = ConcurrencyLimit::builder(Fixed::try_from(2)?)
///     .reserve(Priority::Critical, 0.5) // one of the two kept for critical work
///     .clock(clock.clone())
///     .build()?;
/// // The priority comes from the request: here, a flag in it.
/// let layer = ShedLayer::new(limiter.clone(), |request: &(bool, u32)| {
///     if request.0 { Priority::Critical } else { Priority::Sheddable }
/// });
/// let mut service = ServiceBuilder::new()
///     .layer(layer)
///     .service_fn(|(_, n): (bool, u32)| async move { Ok::<_, Infallible>(n) });
///
/// clock.block_on(async {
///     // A sheddable request in flight takes the unreserved half.
///     let in_flight = service.ready().await.unwrap().call((false, 1));
///     assert_eq!(limiter.in_flight(), 1);
///     let shed = service.ready().await.unwrap().call((false, 2)).await;
///     assert!(matches!(shed, Err(ShedError::Shed(_))));
///     let critical = service.ready().await.unwrap().call((true, 3)).await;
///     assert_eq!(critical, Ok(3));
///     assert_eq!(in_flight.await, Ok(1));
/// });
/// assert_eq!(limiter.in_flight(), 0);
/// # Ok(())
/// # }
/// ```
pub struct ShedLayer<Lim, C, Li, P, K = DefaultClassifier, W = Refuse> {
    limiter: ConcurrencyLimit<Lim, C, Li>,
    priority: P,
    classify: K,
    mode: W,
}

impl<Lim, C, Li, P> ShedLayer<Lim, C, Li, P> {
    /// A layer over `limiter` that reads each request's priority with
    /// `priority` (a closure `Fn(&Request) -> Priority`, or an [`AtPriority`]
    /// for one priority for all: any [`PriorityOf`]), refuses what does not fit
    /// now, and records `Ok` as a success and `Err` as a failure.
    pub fn new(limiter: ConcurrencyLimit<Lim, C, Li>, priority: P) -> Self {
        ShedLayer {
            limiter,
            priority,
            classify: DefaultClassifier,
            mode: Refuse,
        }
    }
}

impl<Lim, C, Li, P, K, W> ShedLayer<Lim, C, Li, P, K, W> {
    /// Decides what each result tells an adaptive limit: a [`Classify`]
    /// over `&Result<Response, Error>` (a 503 response as a failure, say).
    /// A fixed limit ignores outcomes.
    pub fn classify<K2>(self, classify: K2) -> ShedLayer<Lim, C, Li, P, K2, W> {
        ShedLayer {
            limiter: self.limiter,
            priority: self.priority,
            classify,
            mode: self.mode,
        }
    }

    /// Waits in the limiter's queue (bounded by its `max_queue` and
    /// `max_wait`) on `sleeper` instead of refusing at once. See the
    /// [module docs](self) for what it costs and requires.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::convert::Infallible;
    /// use core::time::Duration;
    /// use resil::core::{Clock, ManualClock, Sleeper};
    /// use resil::shed::{ConcurrencyLimit, Fixed, Priority};
    /// use resil::tower::ShedLayer;
    /// use tower::{Service, ServiceBuilder, ServiceExt};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let clock = ManualClock::new();
    /// let limiter = ConcurrencyLimit::builder(Fixed::try_from(1)?)
    ///     .max_queue(10)
    ///     .max_wait(Duration::from_secs(5))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// let sleeper = clock.clone();
    /// let mut service = ServiceBuilder::new()
    ///     .layer(ShedLayer::new(limiter, |_: &u32| Priority::Critical).wait(clock.clone()))
    ///     .service_fn(move |n: u32| {
    ///         let sleeper = sleeper.clone();
    ///         async move {
    ///             sleeper.sleep(Duration::from_secs(1)).await; // one second of work
    ///             Ok::<_, Infallible>(n)
    ///         }
    ///     });
    ///
    /// clock.block_on(async {
    ///     let first = service.ready().await.unwrap().call(1);
    ///     let second = service.ready().await.unwrap().call(2);
    ///     // The second waits for the first's permit instead of being shed.
    ///     let (a, b) = tokio::join!(first, second);
    ///     assert_eq!((a, b), (Ok(1), Ok(2)));
    /// });
    /// assert_eq!(clock.now().since_origin(), Duration::from_secs(2));
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait<Z>(self, sleeper: Z) -> ShedLayer<Lim, C, Li, P, K, Wait<Z>> {
        ShedLayer {
            limiter: self.limiter,
            priority: self.priority,
            classify: self.classify,
            mode: Wait { sleeper },
        }
    }

    /// The limiter the layer's services share.
    pub fn limiter(&self) -> &ConcurrencyLimit<Lim, C, Li> {
        &self.limiter
    }
}

impl<Lim, C, Li, P: Clone, K: Clone, W: Clone> Clone for ShedLayer<Lim, C, Li, P, K, W> {
    fn clone(&self) -> Self {
        ShedLayer {
            limiter: self.limiter.clone(),
            priority: self.priority.clone(),
            classify: self.classify.clone(),
            mode: self.mode.clone(),
        }
    }
}

impl<Lim, C, Li, P, K, W: fmt::Debug> fmt::Debug for ShedLayer<Lim, C, Li, P, K, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShedLayer")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl<S, Lim, C, Li, P: Clone, K: Clone, W: Clone> Layer<S> for ShedLayer<Lim, C, Li, P, K, W> {
    type Service = ShedService<S, Lim, C, Li, P, K, W>;

    fn layer(&self, inner: S) -> Self::Service {
        ShedService {
            inner,
            limiter: self.limiter.clone(),
            priority: self.priority.clone(),
            classify: self.classify.clone(),
            mode: self.mode.clone(),
        }
    }
}

/// A service behind a [`ConcurrencyLimit`]: each request takes a permit at
/// the priority its extractor chooses, and holds it until its response
/// future completes or is dropped.
///
/// - `poll_ready` polls only the inner service: no permit is held by a
///   service that is ready but idle.
/// - `call` asks for the permit. In [`Refuse`] mode a request that does
///   not fit gets [`ShedError::Shed`] at once, and the inner service is not
///   called; in [`Wait`] mode it queues inside the response future.
/// - When the inner future completes, its classified result is recorded on
///   the permit (an adaptive limit learns from it); a dropped response
///   future returns the permit unrecorded.
pub struct ShedService<S, Lim, C, Li, P, K = DefaultClassifier, W = Refuse> {
    inner: S,
    limiter: ConcurrencyLimit<Lim, C, Li>,
    priority: P,
    classify: K,
    mode: W,
}

impl<S, Lim, C, Li, P, K, W> ShedService<S, Lim, C, Li, P, K, W> {
    /// The limiter in front of the service.
    pub fn limiter(&self) -> &ConcurrencyLimit<Lim, C, Li> {
        &self.limiter
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

impl<S: Clone, Lim, C, Li, P: Clone, K: Clone, W: Clone> Clone
    for ShedService<S, Lim, C, Li, P, K, W>
{
    fn clone(&self) -> Self {
        ShedService {
            inner: self.inner.clone(),
            limiter: self.limiter.clone(),
            priority: self.priority.clone(),
            classify: self.classify.clone(),
            mode: self.mode.clone(),
        }
    }
}

impl<S: fmt::Debug, Lim, C, Li, P, K, W: fmt::Debug> fmt::Debug
    for ShedService<S, Lim, C, Li, P, K, W>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShedService")
            .field("inner", &self.inner)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl<S, Req, Lim, C, Li, P, K> Service<Req> for ShedService<S, Lim, C, Li, P, K, Refuse>
where
    S: Service<Req>,
    Lim: Limit,
    C: Clock,
    Li: Listener,
    P: PriorityOf<Req>,
    K: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = ShedError<S::Error>;
    type Future = ShedFuture<S::Future, Lim, C, Li, K>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(ShedError::Inner)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let priority = self.priority.priority_of(&request);
        match self.limiter.try_acquire(priority) {
            Ok(permit) => ShedFuture {
                kind: Kind::Running {
                    future: self.inner.call(request),
                    permit: Some(permit),
                    classify: self.classify.clone(),
                },
            },
            Err(shed) => ShedFuture {
                kind: Kind::Shed { shed: Some(shed) },
            },
        }
    }
}

impl<S, Req, Lim, C, Li, P, K, Z> Service<Req> for ShedService<S, Lim, C, Li, P, K, Wait<Z>>
where
    S: Service<Req> + Clone,
    Lim: Limit + Send + 'static,
    C: Clock + 'static,
    Li: Listener + 'static,
    P: PriorityOf<Req>,
    K: Classify<S::Response, S::Error> + Clone,
    Z: Sleeper + Clone + Send + Sync + 'static,
    Z::Sleep: Send,
{
    type Response = S::Response;
    type Error = ShedError<S::Error>;
    type Future = WaitFuture<S, Req, Lim, C, Li, K>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(ShedError::Inner)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let priority = self.priority.priority_of(&request);
        let classify = self.classify.clone();
        // A permit free now: call at once, nothing allocated.
        if let Some(permit) = self.limiter.acquire_now(priority) {
            return WaitFuture {
                state: WaitState::Running {
                    future: ShedFuture {
                        kind: Kind::Running {
                            future: self.inner.call(request),
                            permit: Some(permit),
                            classify,
                        },
                    },
                },
            };
        }
        // Queue: the service polled ready goes with the request (its clone
        // stays for the next one) and is called once a permit is granted.
        let clone = self.inner.clone();
        let inner = core::mem::replace(&mut self.inner, clone);
        let limiter = self.limiter.clone();
        let sleeper = self.mode.sleeper.clone();
        WaitFuture {
            state: WaitState::Queued {
                acquire: Box::pin(async move { limiter.acquire(&sleeper, priority).await }),
                call: Some((inner, request, classify)),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of a [`ShedService`] in [`Refuse`] mode: the
    /// inner call holding its permit, or a shed ready at once.
    #[must_use = "futures do nothing unless polled"]
    pub struct ShedFuture<F, Lim: Limit, C: Clock, Li: Listener, K> {
        #[pin]
        kind: Kind<F, Lim, C, Li, K>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F, Lim: Limit, C: Clock, Li: Listener, K> {
        Shed { shed: Option<Shed> },
        Running {
            #[pin]
            future: F,
            permit: Option<Permit<Lim, C, Li>>,
            classify: K,
        },
    }
}

impl<F, T, E, Lim, C, Li, K> Future for ShedFuture<F, Lim, C, Li, K>
where
    F: Future<Output = Result<T, E>>,
    Lim: Limit,
    C: Clock,
    Li: Listener,
    K: Classify<T, E>,
{
    type Output = Result<T, ShedError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Shed { shed } => match shed.take() {
                Some(shed) => Poll::Ready(Err(ShedError::Shed(shed))),
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
                    permit.record(classify.classify(&result));
                }
                Poll::Ready(result.map_err(ShedError::Inner))
            }
        }
    }
}

impl<F, Lim: Limit, C: Clock, Li: Listener, K> fmt::Debug for ShedFuture<F, Lim, C, Li, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Shed { .. } => "shed",
            Kind::Running { .. } => "running",
        };
        f.debug_struct("ShedFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

/// A permit being waited for, boxed (`ConcurrencyLimit::acquire` is an
/// `async fn`).
type Acquire<Lim, C, Li> = Pin<Box<dyn Future<Output = Result<Permit<Lim, C, Li>, Shed>> + Send>>;

pin_project_lite::pin_project! {
    /// The response future of a [`ShedService`] in [`Wait`] mode: the inner
    /// call holding its permit, after waiting for the permit in the
    /// limiter's queue if none was free (the wait is boxed: one allocation,
    /// only for a request that has to queue).
    #[must_use = "futures do nothing unless polled"]
    pub struct WaitFuture<S, Req, Lim, C, Li, K>
    where
        S: Service<Req>,
        Lim: Limit,
        C: Clock,
        Li: Listener,
    {
        #[pin]
        state: WaitState<S, Req, Lim, C, Li, K>,
    }
}

pin_project_lite::pin_project! {
    #[project = WaitProj]
    enum WaitState<S, Req, Lim, C, Li, K>
    where
        S: Service<Req>,
        Lim: Limit,
        C: Clock,
        Li: Listener,
    {
        Queued {
            acquire: Acquire<Lim, C, Li>,
            // What to call once the permit comes: taken exactly once.
            call: Option<(S, Req, K)>,
        },
        Running {
            #[pin]
            future: ShedFuture<S::Future, Lim, C, Li, K>,
        },
    }
}

impl<S, Req, Lim, C, Li, K> Future for WaitFuture<S, Req, Lim, C, Li, K>
where
    S: Service<Req>,
    Lim: Limit,
    C: Clock,
    Li: Listener,
    K: Classify<S::Response, S::Error>,
{
    type Output = Result<S::Response, ShedError<S::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                WaitProj::Running { future } => return future.poll(cx),
                WaitProj::Queued { acquire, call } => {
                    let granted = core::task::ready!(acquire.as_mut().poll(cx));
                    let kind = match (granted, call.take()) {
                        (Ok(permit), Some((mut inner, request, classify))) => Kind::Running {
                            future: inner.call(request),
                            permit: Some(permit),
                            classify,
                        },
                        (Err(shed), _) => Kind::Shed { shed: Some(shed) },
                        // Polled again after it completed: it never will again.
                        (Ok(_), None) => return Poll::Pending,
                    };
                    state.set(WaitState::Running {
                        future: ShedFuture { kind },
                    });
                }
            }
        }
    }
}

impl<S, Req, Lim, C, Li, K> fmt::Debug for WaitFuture<S, Req, Lim, C, Li, K>
where
    S: Service<Req>,
    Lim: Limit,
    C: Clock,
    Li: Listener,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            WaitState::Queued { .. } => "queued",
            WaitState::Running { .. } => "running",
        };
        f.debug_struct("WaitFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
