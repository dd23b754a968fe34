//! Helpers shared by the integration tests: a tiny executor and wakers that
//! record who was woken, all without `unsafe` and without real waiting.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::future::{Future, IntoFuture};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes a parked thread.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on the current thread, parking it while the
/// future is pending.
///
/// Parking waits for a wake-up, never for a span of time: a future that is
/// never woken blocks forever, which is exactly the lost wake-up this would
/// expose.
pub(crate) fn block_on<F: IntoFuture>(future: F) -> F::Output {
    let mut future = pin!(future.into_future());
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // A spurious return from `park` only costs one extra poll.
        thread::park();
    }
}

/// Polls `future` once with a waker that does nothing.
pub(crate) fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls `future` once with `waker`.
pub(crate) fn poll_with<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// A log of wake-ups: hands out wakers that push their id into it when woken.
#[derive(Clone, Debug, Default)]
pub(crate) struct WakeLog {
    woken: Arc<Mutex<Vec<usize>>>,
}

impl WakeLog {
    /// An empty log.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A waker that records `id` in this log each time it is woken.
    pub(crate) fn waker(&self, id: usize) -> Waker {
        Waker::from(Arc::new(RecordingWaker {
            id,
            woken: Arc::clone(&self.woken),
        }))
    }

    /// Every id woken so far, in wake-up order, leaving the log empty.
    pub(crate) fn take(&self) -> Vec<usize> {
        core::mem::take(&mut *self.lock())
    }

    /// Every id woken so far, in wake-up order.
    pub(crate) fn snapshot(&self) -> Vec<usize> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<usize>> {
        self.woken.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A waker that records its id in a shared log.
struct RecordingWaker {
    id: usize,
    woken: Arc<Mutex<Vec<usize>>>,
}

impl Wake for RecordingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.id);
    }
}

/// Observes whether a [`DropGuard`] has been dropped: a way to see that an
/// operation holding one was cancelled.
#[derive(Clone, Debug, Default)]
pub(crate) struct DropFlag(Arc<AtomicBool>);

impl DropFlag {
    /// A flag that is not set.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A guard that sets this flag when dropped.
    pub(crate) fn guard(&self) -> DropGuard {
        DropGuard(Arc::clone(&self.0))
    }

    /// Whether a guard of this flag has been dropped.
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Sets its [`DropFlag`] when dropped.
#[derive(Debug)]
pub(crate) struct DropGuard(Arc<AtomicBool>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// An operation that never finishes and holds `guard` until it is dropped.
pub(crate) async fn never_finishing(guard: DropGuard) {
    let _guard = guard;
    std::future::pending::<()>().await;
}
