//! Which results to retry. By default every `Err` is retried and every `Ok`
//! returned; [`Call::retry_if`](crate::Call::retry_if) narrows that to some
//! errors, and [`Call::classify`](crate::Call::classify) decides over the
//! whole result, so an `Ok` value (a 503 response) can be retried too.

use resil_core::{Classify, Outcome};

/// Retries the errors `predicate` accepts; other errors are returned at once.
#[derive(Clone, Copy, Debug)]
pub struct RetryIf<P>(pub(crate) P);

impl<T, E, P> Classify<T, E> for RetryIf<P>
where
    P: Fn(&E) -> bool,
{
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(e) if (self.0)(e) => Outcome::Failure,
            Err(_) => Outcome::Ignored,
        }
    }
}
