//! Retries as a tower layer.
//!
//! Why clone the service per call: a retried request makes several calls,
//! each of which needs a service that has been polled ready, and the
//! response future must own that service to make them. So, as tower's own
//! retry does, `call` moves the service that was polled ready into the
//! response future (its first attempt uses that readiness) and leaves a
//! clone behind for the next request; before each later attempt the
//! future awaits the moved service's readiness again. The caveat, shared
//! with tower: the clone is a separate handle. For services whose clones
//! share their state (connection pools, channels, axum routers: nearly all
//! of them) this is invisible; a service whose readiness is per clone (a
//! `Buffer` slot, a per-handle concurrency limit) is polled ready once per
//! attempt, on the clone the future owns.
//!
//! The response future is a named state machine over
//! [`Attempts`], `resil-retry`'s retry loop driven
//! by hand: the same decisions, events and budget accounting as
//! [`Retry::run`](resil_retry::Retry::run), with nothing boxed. A call
//! allocates nothing here (what the inner service's `clone` costs is its
//! own).
//!
//! Each attempt sends its own request: the original for the first, and for
//! each retry a copy made just before the previous attempt sent its own
//! (with [`ByClone`] for `Req: Clone`, or a [`CloneRequest`] function for
//! requests whose body is not `Clone`). The last attempt the policy allows
//! sends its request without copying it first.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};

use alloc::sync::Arc;

use ::tower::{Layer, Service};
use resil_core::{Classify, Clock, DefaultClassifier, Listener, Outcome, Sleeper};
use resil_retry::{Attempts, Budget, Decision, Hint, NoHint, Retry, RetryError};

/// Makes the request of a retry from the request of the attempt before.
///
/// Implemented for [`ByClone`] (any `Req: Clone`, the default) and for
/// closures `Fn(&Req) -> Option<Req>`. `None` means the request cannot be
/// sent again (a streamed body, say): the attempt about to be made is then
/// the last, and its failure is returned without a retry.
pub trait CloneRequest<Req> {
    /// A copy of `request` to send on the next attempt, if there can be one.
    fn clone_request(&self, request: &Req) -> Option<Req>;
}

/// Copies requests with their [`Clone`] impl; the default [`CloneRequest`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ByClone;

impl<Req: Clone> CloneRequest<Req> for ByClone {
    fn clone_request(&self, request: &Req) -> Option<Req> {
        Some(request.clone())
    }
}

impl<Req, F> CloneRequest<Req> for F
where
    F: Fn(&Req) -> Option<Req>,
{
    fn clone_request(&self, request: &Req) -> Option<Req> {
        self(request)
    }
}

/// Retries a service's failed calls under a [`Retry`] policy, waiting on a
/// [`Sleeper`]; see [`RetryService`].
///
/// The policy is shared by every service the layer makes (its budget
/// too); the sleeper, classifier, hint and request copier are cloned into
/// each call.
///
/// # Examples
///
/// Retrying a `503` that says `Retry-After: 2`, in virtual time: the retry
/// waits the two seconds the server asked for, not the policy's 100ms.
///
/// ```
/// use core::convert::Infallible;
/// use core::time::Duration;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use resil::core::{Backoff, Clock, ManualClock, Outcome};
/// use resil::retry::Retry;
/// use resil::tower::RetryLayer;
/// use tower::{Service, ServiceBuilder, ServiceExt};
///
/// #[derive(Debug, PartialEq)]
/// struct Response {
///     status: u16,
///     retry_after: Option<Duration>,
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = ManualClock::new();
/// let policy = Retry::builder()
///     .backoff(Backoff::constant(Duration::from_millis(100)).build()?)
///     .clock(clock.clone())
///     .build()?;
/// let layer = RetryLayer::new(policy, clock.clone())
///     .classify(|r: &Result<Response, Infallible>| match r {
///         Ok(response) if response.status == 503 => Outcome::Failure,
///         Ok(_) => Outcome::Success,
///         Err(_) => Outcome::Failure,
///     })
///     .hint(|r: &Result<Response, Infallible>| r.as_ref().ok().and_then(|r| r.retry_after));
///
/// let calls = Arc::new(AtomicU32::new(0));
/// let seen = Arc::clone(&calls);
/// let mut service = ServiceBuilder::new().layer(layer).service_fn(move |path: &'static str| {
///     let call = seen.fetch_add(1, Ordering::SeqCst);
///     async move {
///         assert_eq!(path, "/orders"); // every attempt gets the request
///         Ok::<_, Infallible>(match call {
///             0 => Response { status: 503, retry_after: Some(Duration::from_secs(2)) },
///             _ => Response { status: 200, retry_after: None },
///         })
///     }
/// });
///
/// let response = clock.block_on(async {
///     service.ready().await?.call("/orders").await
/// })?;
/// assert_eq!(response.status, 200);
/// assert_eq!(calls.load(Ordering::SeqCst), 2);
/// assert_eq!(clock.now().since_origin(), Duration::from_secs(2));
/// # Ok(())
/// # }
/// ```
pub struct RetryLayer<C, B, L, Z, K = DefaultClassifier, H = NoHint, R = ByClone> {
    retry: Arc<Retry<C, B, L>>,
    sleeper: Z,
    classify: K,
    hint: H,
    clone: R,
}

impl<C, B, L, Z> RetryLayer<C, B, L, Z> {
    /// A layer retrying under `retry`, waiting between attempts on
    /// `sleeper` (`tokio::time::sleep`, a [`ManualClock`](crate::core::ManualClock),
    /// …). By default every `Err` is retried, no response is, there are no
    /// server hints, and requests are copied with `Clone`.
    pub fn new(retry: Retry<C, B, L>, sleeper: Z) -> Self {
        RetryLayer {
            retry: Arc::new(retry),
            sleeper,
            classify: DefaultClassifier,
            hint: NoHint,
            clone: ByClone,
        }
    }
}

impl<C, B, L, Z, K, H, R> RetryLayer<C, B, L, Z, K, H, R> {
    /// Which results to retry: a [`Classify`] over
    /// `&Result<Response, Error>`. [`Outcome::Failure`] is retried;
    /// [`Outcome::Success`] and [`Outcome::Ignored`] are returned. So a
    /// `503` response can be retried and a `404` error returned at once.
    pub fn classify<K2>(self, classify: K2) -> RetryLayer<C, B, L, Z, K2, H, R> {
        RetryLayer {
            retry: self.retry,
            sleeper: self.sleeper,
            classify,
            hint: self.hint,
            clone: self.clone,
        }
    }

    /// Where a server's "retry after" comes from: a [`Hint`] over
    /// `&Result<Response, Error>`, such as a closure reading the
    /// `Retry-After` header of a response. The hint is a floor for the next
    /// delay, cut to the policy's `max_hint` (see
    /// [`resil::retry::hint`](crate::retry::hint)).
    pub fn hint<H2>(self, hint: H2) -> RetryLayer<C, B, L, Z, K, H2, R> {
        RetryLayer {
            retry: self.retry,
            sleeper: self.sleeper,
            classify: self.classify,
            hint,
            clone: self.clone,
        }
    }

    /// How a request is copied for a retry, for requests that are not
    /// `Clone`: a [`CloneRequest`], such as `|request: &Req| -> Option<Req>`
    /// returning `None` when the request cannot be sent again.
    pub fn clone_requests<R2>(self, clone: R2) -> RetryLayer<C, B, L, Z, K, H, R2> {
        RetryLayer {
            retry: self.retry,
            sleeper: self.sleeper,
            classify: self.classify,
            hint: self.hint,
            clone,
        }
    }

    /// The policy the layer's services share.
    pub fn policy(&self) -> &Retry<C, B, L> {
        &self.retry
    }
}

impl<C, B, L, Z: Clone, K: Clone, H: Clone, R: Clone> Clone for RetryLayer<C, B, L, Z, K, H, R> {
    fn clone(&self) -> Self {
        RetryLayer {
            retry: Arc::clone(&self.retry),
            sleeper: self.sleeper.clone(),
            classify: self.classify.clone(),
            hint: self.hint.clone(),
            clone: self.clone.clone(),
        }
    }
}

impl<C: fmt::Debug, B: fmt::Debug, L: fmt::Debug, Z, K, H, R> fmt::Debug
    for RetryLayer<C, B, L, Z, K, H, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer")
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl<S, C, B, L, Z: Clone, K: Clone, H: Clone, R: Clone> Layer<S>
    for RetryLayer<C, B, L, Z, K, H, R>
{
    type Service = RetryService<S, C, B, L, Z, K, H, R>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryService {
            inner,
            ready: false,
            retry: Arc::clone(&self.retry),
            sleeper: self.sleeper.clone(),
            classify: self.classify.clone(),
            hint: self.hint.clone(),
            clone: self.clone.clone(),
        }
    }
}

/// A service whose failed calls are retried under a [`Retry`] policy.
///
/// - `poll_ready` polls the inner service, so its backpressure reaches the
///   caller; `call` moves that ready service into the response future,
///   which makes the first attempt with it, and awaits its readiness again
///   before each retry (see the [module docs](self) for the caveat).
/// - A readiness error is an attempt's error, not retried (a service that
///   failed to get ready is not called again). One seen by `poll_ready` is
///   not returned there — [`RetryError`] is what this service fails with,
///   and it describes a call — but left to the call: its first attempt
///   polls readiness again, and fails with the error if the service still
///   reports it (a service that recovers, like tower's `Reconnect`, is
///   called).
/// - Each attempt's result is classified; a failure is retried after the
///   policy's backoff, raised to the server's hint if there is one, within
///   the policy's attempts, deadline and budget.
/// - The error is [`RetryError<S::Error>`]: the last attempt's error, the
///   attempts made and why retrying stopped. A response that is still a
///   failure when retrying stops (a `503` after the last attempt) is
///   returned as `Ok`, as the service gave it.
/// - Dropping the response future cancels the call between or during
///   attempts.
///
/// No allocation per call: the response future is [`RetryFuture`].
pub struct RetryService<S, C, B, L, Z, K = DefaultClassifier, H = NoHint, R = ByClone> {
    inner: S,
    /// Whether `inner` has been polled ready since the last `call`.
    ready: bool,
    retry: Arc<Retry<C, B, L>>,
    sleeper: Z,
    classify: K,
    hint: H,
    clone: R,
}

impl<S, C, B, L, Z, K, H, R> RetryService<S, C, B, L, Z, K, H, R> {
    /// The policy the service retries under.
    pub fn policy(&self) -> &Retry<C, B, L> {
        &self.retry
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

impl<S: Clone, C, B, L, Z: Clone, K: Clone, H: Clone, R: Clone> Clone
    for RetryService<S, C, B, L, Z, K, H, R>
{
    fn clone(&self) -> Self {
        RetryService {
            inner: self.inner.clone(),
            ready: false,
            retry: Arc::clone(&self.retry),
            sleeper: self.sleeper.clone(),
            classify: self.classify.clone(),
            hint: self.hint.clone(),
            clone: self.clone.clone(),
        }
    }
}

impl<S: fmt::Debug, C: fmt::Debug, B: fmt::Debug, L: fmt::Debug, Z, K, H, R> fmt::Debug
    for RetryService<S, C, B, L, Z, K, H, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryService")
            .field("inner", &self.inner)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl<S, Req, C, B, L, Z, K, H, R> Service<Req> for RetryService<S, C, B, L, Z, K, H, R>
where
    S: Service<Req> + Clone,
    C: Clock,
    B: Budget,
    L: Listener,
    Z: Sleeper + Clone,
    K: Classify<S::Response, S::Error> + Clone,
    H: Hint<S::Response, S::Error> + Clone,
    R: CloneRequest<Req> + Clone,
{
    type Response = S::Response;
    type Error = RetryError<S::Error>;
    type Future = RetryFuture<S, Req, C, B, L, Z, K, H, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self.inner.poll_ready(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                // A readiness error is left to the call: its first attempt
                // polls readiness again, and an error there is that
                // attempt's error (see the type's docs).
                self.ready = result.is_ok();
                Poll::Ready(Ok(()))
            }
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        // The service polled ready goes with the request; its clone stays.
        let clone = self.inner.clone();
        let inner = core::mem::replace(&mut self.inner, clone);
        let state = if core::mem::replace(&mut self.ready, false) {
            State::Call
        } else {
            State::Ready
        };
        RetryFuture {
            attempts: self.retry.attempts(),
            retry: Arc::clone(&self.retry),
            inner,
            next: Some(request),
            sleeper: self.sleeper.clone(),
            classify: self.classify.clone(),
            hint: self.hint.clone(),
            clone: self.clone.clone(),
            state,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of a [`RetryService`]: one call's attempts, the
    /// waits between them, and the service and request copy they need.
    #[must_use = "futures do nothing unless polled"]
    pub struct RetryFuture<S, Req, C, B, L, Z, K, H, R>
    where
        S: Service<Req>,
        Z: Sleeper,
    {
        retry: Arc<Retry<C, B, L>>,
        attempts: Attempts,
        inner: S,
        // The request of the next attempt.
        next: Option<Req>,
        sleeper: Z,
        classify: K,
        hint: H,
        clone: R,
        #[pin]
        state: State<S::Future, Z::Sleep>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, W> {
        // Await the service's readiness, then call.
        Ready,
        // Start an attempt: the service is ready.
        Call,
        // An attempt in flight. `last` when no further attempt can be made
        // whatever the policy says (the request could not be copied).
        Calling {
            #[pin]
            future: F,
            last: bool,
        },
        // The wait before the next attempt.
        Sleeping {
            #[pin]
            sleep: W,
        },
        Done,
    }
}

impl<S, Req, C, B, L, Z, K, H, R> Future for RetryFuture<S, Req, C, B, L, Z, K, H, R>
where
    S: Service<Req>,
    C: Clock,
    B: Budget,
    L: Listener,
    Z: Sleeper,
    K: Classify<S::Response, S::Error>,
    H: Hint<S::Response, S::Error>,
    R: CloneRequest<Req>,
{
    type Output = Result<S::Response, RetryError<S::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let decision = match this.state.as_mut().project() {
                StateProj::Ready => match ready!(this.inner.poll_ready(cx)) {
                    Ok(()) => {
                        this.state.set(State::Call);
                        continue;
                    }
                    // The service cannot take the attempt: its error ends
                    // the call (a failed service is not called again).
                    Err(error) => {
                        this.attempts.start();
                        let result = Err(error);
                        let outcome = final_outcome(this.classify.classify(&result));
                        this.attempts.settle(this.retry, result, outcome, None)
                    }
                },
                StateProj::Call => {
                    let Some(request) = this.next.take() else {
                        // Not reached: a retry is decided only after a
                        // failure that left a copy for it (a failure
                        // without one is settled as final). Never
                        // completing is the answer that breaks nothing.
                        this.state.set(State::Done);
                        return Poll::Pending;
                    };
                    let attempt = this.attempts.start();
                    let mut last = false;
                    if attempt < this.retry.max_attempts() {
                        *this.next = this.clone.clone_request(&request);
                        last = this.next.is_none();
                    }
                    let future = this.inner.call(request);
                    this.state.set(State::Calling { future, last });
                    continue;
                }
                StateProj::Calling { future, last } => {
                    let result = ready!(future.poll(cx));
                    let mut outcome = this.classify.classify(&result);
                    if *last {
                        outcome = final_outcome(outcome);
                    }
                    let hint = this.hint.hint(&result);
                    this.attempts.settle(this.retry, result, outcome, hint)
                }
                StateProj::Sleeping { sleep } => {
                    ready!(sleep.poll(cx));
                    this.state.set(State::Ready);
                    continue;
                }
                StateProj::Done => return Poll::Pending,
            };
            match decision {
                Decision::Retry(delay) => {
                    let sleep = this.sleeper.sleep(delay);
                    this.state.set(State::Sleeping { sleep });
                }
                Decision::Done(result) => {
                    this.state.set(State::Done);
                    return Poll::Ready(result);
                }
            }
        }
    }
}

/// The outcome of an attempt after which no other can be made: a failure
/// is settled as not retryable; a success stays one.
fn final_outcome(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Failure => Outcome::Ignored,
        other => other,
    }
}

impl<S, Req, C, B, L, Z, K, H, R> fmt::Debug for RetryFuture<S, Req, C, B, L, Z, K, H, R>
where
    S: Service<Req>,
    Z: Sleeper,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Ready => "awaiting readiness",
            State::Call | State::Calling { .. } => "attempting",
            State::Sleeping { .. } => "waiting to retry",
            State::Done => "done",
        };
        f.debug_struct("RetryFuture")
            .field("attempts", &self.attempts)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
