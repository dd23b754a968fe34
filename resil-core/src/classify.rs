//! Deciding whether a call succeeded.
//!
//! Retry, breaker and adaptive limits all ask the same question of a result:
//! did the dependency do its job? [`Classify`] answers it once for all of
//! them. The answer can differ from `Ok`/`Err`: an HTTP 503 that arrives as
//! `Ok(response)` is a [`Failure`](Outcome::Failure), and a request the
//! caller cancelled or rejected as invalid is best
//! [`Ignored`](Outcome::Ignored), saying nothing about the dependency's health.

/// What a call's result says about the dependency that served it.
///
/// ```
/// use resil_core::Outcome;
///
/// let outcome = Outcome::of(&Err::<(), _>("timeout"));
/// assert!(outcome.is_failure());
/// assert!(Outcome::of(&Ok::<_, ()>(1)).is_success());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The dependency did its job.
    Success,
    /// The dependency failed: count it against its health, and retry if the
    /// policy allows.
    Failure,
    /// The result says nothing about the dependency's health (a caller error,
    /// a cancellation): neither counted nor retried.
    Ignored,
}

impl Outcome {
    /// `Ok → Success`, `Err → Failure`: the default classification.
    pub const fn of<T, E>(result: &Result<T, E>) -> Self {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }

    /// Whether this is [`Outcome::Success`].
    pub const fn is_success(self) -> bool {
        matches!(self, Outcome::Success)
    }

    /// Whether this is [`Outcome::Failure`].
    pub const fn is_failure(self) -> bool {
        matches!(self, Outcome::Failure)
    }

    /// Whether this is [`Outcome::Ignored`].
    pub const fn is_ignored(self) -> bool {
        matches!(self, Outcome::Ignored)
    }
}

/// Classifies a call's `Result` into an [`Outcome`].
///
/// Implemented for [`DefaultClassifier`] (`Ok → Success`, `Err → Failure`)
/// and for every closure `Fn(&Result<T, E>) -> Outcome`. A closure passed
/// where a generic `C: Classify<T, E>` is expected needs its argument's type
/// written out (`|r: &Result<T, E>| …`); builders that take closures
/// directly infer it.
///
/// # Examples
///
/// An HTTP status returned as `Ok` can still be a failure:
///
/// ```
/// use resil_core::{Classify, Outcome};
///
/// struct Response {
///     status: u16,
/// }
///
/// let by_status = |result: &Result<Response, std::io::Error>| match result {
///     Ok(r) if r.status >= 500 => Outcome::Failure,
///     Ok(r) if r.status >= 400 => Outcome::Ignored, // the caller's fault
///     Ok(_) => Outcome::Success,
///     Err(_) => Outcome::Failure,
/// };
///
/// assert_eq!(by_status.classify(&Ok(Response { status: 503 })), Outcome::Failure);
/// assert_eq!(by_status.classify(&Ok(Response { status: 404 })), Outcome::Ignored);
/// assert_eq!(by_status.classify(&Ok(Response { status: 200 })), Outcome::Success);
/// ```
pub trait Classify<T, E> {
    /// The outcome `result` stands for.
    fn classify(&self, result: &Result<T, E>) -> Outcome;
}

/// The default classification: `Ok → Success`, `Err → Failure`.
///
/// ```
/// use resil_core::{Classify, DefaultClassifier, Outcome};
///
/// let ok: Result<u8, ()> = Ok(1);
/// assert_eq!(DefaultClassifier.classify(&ok), Outcome::Success);
/// assert_eq!(DefaultClassifier.classify(&Err::<u8, ()>(())), Outcome::Failure);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefaultClassifier;

impl<T, E> Classify<T, E> for DefaultClassifier {
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        Outcome::of(result)
    }
}

impl<T, E, F> Classify<T, E> for F
where
    F: Fn(&Result<T, E>) -> Outcome,
{
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}
