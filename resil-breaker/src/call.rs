//! Running a call through the breaker in one step: acquire, call, record.

use core::future::Future;

use resil_core::{Classify, Clock, DefaultClassifier, Listener};

use crate::{CallError, CircuitBreaker};

impl<C: Clock, L: Listener> CircuitBreaker<C, L> {
    /// Runs `f` if the breaker admits it, recording `Ok` as a success and
    /// `Err` as a failure. A panic in `f` propagates and counts as ignored.
    ///
    /// # Errors
    ///
    /// [`CallError::Rejected`] if the breaker refused (`f` did not run);
    /// [`CallError::Failed`] with `f`'s error.
    pub fn call<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, CallError<E>> {
        self.call_with(&DefaultClassifier, f)
    }

    /// Like [`call`](Self::call), with `classify` deciding what the result
    /// says about the dependency (a 503 returned as `Ok` can be a failure).
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub fn call_with<T, E, K: Classify<T, E>>(
        &self,
        classify: &K,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, CallError<E>> {
        let permit = self.try_acquire().map_err(CallError::Rejected)?;
        let result = f();
        permit.record_outcome(classify.classify(&result));
        result.map_err(CallError::Failed)
    }

    /// Runs the future `f` makes if the breaker admits it, recording `Ok` as
    /// a success and `Err` as a failure. Dropping the returned future
    /// mid-call counts as ignored.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub async fn call_async<F, Fut, T, E>(&self, f: F) -> Result<T, CallError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.call_async_with(&DefaultClassifier, f).await
    }

    /// Like [`call_async`](Self::call_async), with `classify`.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub async fn call_async_with<F, Fut, T, E, K>(
        &self,
        classify: &K,
        f: F,
    ) -> Result<T, CallError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        K: Classify<T, E>,
    {
        let permit = self.try_acquire().map_err(CallError::Rejected)?;
        let result = f().await;
        permit.record_outcome(classify.classify(&result));
        result.map_err(CallError::Failed)
    }
}
