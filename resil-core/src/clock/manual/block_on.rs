//! Running a future to completion in virtual time.
//!
//! Why on the clock: code that sleeps on a [`ManualClock`] needs an
//! executor that knows the clock, one that, when the future can make no
//! progress, moves time to the next sleep instead of blocking the thread.
//! tokio's paused time does this for tokio's timer; [`ManualClock::block_on`]
//! does it for the manual clock, with no runtime. Every resil test and doc
//! example runs its async code this way.

use alloc::sync::Arc;
use alloc::task::Wake;
use core::future::Future;
use core::pin::pin;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll};

use super::ManualClock;

/// Whether the future was woken since it was last polled.
struct Woken(AtomicBool);

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl ManualClock {
    /// Runs `future` to completion on this thread, in virtual time: polls
    /// it while it makes progress, and when it waits with nothing to wake
    /// it, moves the clock to the earliest pending sleep (see
    /// [`advance_to_next`](Self::advance_to_next)). An hour of backoff
    /// takes microseconds, and nothing sleeps for real.
    ///
    /// It is meant for futures that wait on this clock's sleeps and on
    /// what they wake themselves (channels between their own parts, a
    /// limiter's queue). A future waiting on another thread or on I/O would
    /// see the clock jump ahead while it waits: use a real runtime for
    /// those.
    ///
    /// # Panics
    ///
    /// If the future is waiting, nothing has woken it and no sleep is
    /// pending on the clock: nothing could ever wake it, so this panics
    /// rather than hang.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Clock, ManualClock, Sleeper};
    ///
    /// let clock = ManualClock::new();
    /// let woke_at = clock.block_on(async {
    ///     clock.sleep(Duration::from_secs(3600)).await;
    ///     clock.now()
    /// });
    /// assert_eq!(woke_at.since_origin(), Duration::from_secs(3600));
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let woken = Arc::new(Woken(AtomicBool::new(true)));
        let waker = Arc::clone(&woken).into();
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if woken.0.swap(false, Ordering::SeqCst) {
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    return output;
                }
            } else if self.advance_to_next().is_none() {
                panic!(
                    "ManualClock::block_on: the future waits, nothing woke it and no sleep \
                     is pending on the clock, so it could never finish"
                );
            }
        }
    }
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use core::time::Duration;

    use alloc::vec::Vec;

    use crate::{Clock, ManualClock, Sleeper};

    #[test]
    fn sleeps_complete_in_deadline_order_without_real_time() {
        let clock = ManualClock::new();
        let order = clock.block_on(async {
            let mut order = Vec::new();
            for secs in [5, 1, 3] {
                clock.sleep(Duration::from_secs(secs)).await;
                order.push(clock.now().since_origin().as_secs());
            }
            order
        });
        assert_eq!(order, [5, 6, 9]);
        assert_eq!(clock.pending_sleeps(), 0);
    }

    #[test]
    fn a_ready_future_leaves_the_clock_alone() {
        let clock = ManualClock::new();
        assert_eq!(clock.block_on(async { 7 }), 7);
        assert_eq!(clock.now().since_origin(), Duration::ZERO);
    }

    #[test]
    #[should_panic(expected = "could never finish")]
    fn a_future_nothing_can_wake_panics_instead_of_hanging() {
        let clock = ManualClock::new();
        clock.block_on(core::future::pending::<()>());
    }
}
