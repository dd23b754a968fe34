//! What every benchmarked operation is, and the pieces they share.

use core::future::Future;
use core::hint::black_box;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

/// One benchmarked operation: built once, then run many times.
///
/// Criterion and the instruction-count harness both call [`run`](Self::run)
/// in a loop and black-box what it returns, so the work cannot be optimised
/// away on either side, and both measure exactly the same code.
pub trait Operation {
    /// What one run returns (black-boxed by the caller).
    type Output;

    /// Builds the operation's state: the breaker, the policy, the iterator.
    ///
    /// # Panics
    ///
    /// If the state is not what the operation measures (a breaker meant to
    /// reject that admits, a call meant to succeed that fails): a benchmark
    /// set up wrong must fail loudly, not report a figure.
    fn new() -> Self;

    /// Performs the operation once.
    fn run(&mut self) -> Self::Output;
}

/// The error every benchmarked call fails with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure;

/// The call every implementation wraps when it should succeed: returns a
/// value the compiler cannot see through.
#[inline]
pub fn ok() -> Result<u64, Failure> {
    Ok(black_box(1))
}

/// The call every implementation wraps when it should fail.
#[inline]
pub fn fail() -> Result<u64, Failure> {
    Err(black_box(Failure))
}

/// Polls `future` once on a waker that does nothing, and returns its output.
///
/// The async rows measure a call that succeeds at once, so one poll
/// finishes it; no executor, and no executor's cost, is involved. The
/// future is pinned where it is made (`poll_once(pin!(call))`), so it is
/// not moved on the way in: a large future pays no copy here that a small
/// one escapes.
///
/// # Panics
///
/// If the future is not ready after one poll.
#[inline]
pub fn poll_once<F: Future>(future: Pin<&mut F>) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match future.poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a benchmarked future was not ready after one poll"),
    }
}
