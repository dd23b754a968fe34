//! A hand-written time source and timer plugged into resil-core, end to end,
//! with no runtime crate at all: what an embedded or custom-runtime author
//! writes.
//!
//! - `Ticks` is the time source (here the OS monotonic clock stands in for
//!   a hardware cycle counter).
//! - `Timers` is the timer queue: a sleep registers its deadline and waker;
//!   when nothing can run, the executor "waits for the interrupt" until the
//!   earliest deadline, then wakes what is due.
//! - `block_on` is the whole executor.
//!
//! The operation fails twice, then succeeds; each attempt is bounded by
//! `resil_core::timeout` and retries wait out a jittered exponential backoff.

use std::cell::RefCell;
use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use resil_core::{Backoff, Clock, Instant, Jitter, timeout};

/// The time source: nanoseconds since the program started.
#[derive(Clone, Copy)]
struct Ticks {
    origin: std::time::Instant,
}

impl Clock for Ticks {
    #[allow(clippy::disallowed_methods, reason = "this example is the time source")]
    fn now(&self) -> Instant {
        let nanos = self.origin.elapsed().as_nanos();
        Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// The timer queue shared by every sleep and the executor: one entry per
/// pending sleep, keyed by a registration number.
#[derive(Clone, Default)]
struct Timers(Rc<RefCell<TimerQueue>>);

#[derive(Default)]
struct TimerQueue {
    next_key: u64,
    pending: Vec<(u64, Instant, Waker)>,
}

/// One sleep: done once the clock reaches `deadline`.
struct Delay {
    timers: Timers,
    clock: Ticks,
    deadline: Instant,
    /// Set once registered, so each sleep has one queue entry however often
    /// it is polled.
    key: Option<u64>,
}

impl Future for Delay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.now() >= self.deadline {
            return Poll::Ready(());
        }
        let mut queue = self.timers.0.borrow_mut();
        match self.key {
            Some(key) => {
                for entry in queue.pending.iter_mut().filter(|entry| entry.0 == key) {
                    entry.2.clone_from(cx.waker());
                }
            }
            None => {
                let key = queue.next_key;
                queue.next_key += 1;
                queue.pending.push((key, self.deadline, cx.waker().clone()));
                drop(queue);
                self.key = Some(key);
            }
        }
        Poll::Pending
    }
}

/// A sleep dropped early (a timeout won the race) leaves the queue.
impl Drop for Delay {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.timers
                .0
                .borrow_mut()
                .pending
                .retain(|entry| entry.0 != key);
        }
    }
}

/// Wakes the executor's one task by raising a flag.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs `future` to completion on this thread.
fn block_on<F: Future>(future: F, clock: Ticks, timers: &Timers) -> F::Output {
    let mut future = pin!(future);
    let flag = Arc::new(Flag(AtomicBool::new(true)));
    let waker = Waker::from(Arc::clone(&flag));
    let mut cx = Context::from_waker(&waker);
    loop {
        if flag.0.swap(false, Ordering::SeqCst) {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            continue;
        }
        // Nothing can run: wait for the earliest timer, then fire what is due.
        let earliest = timers.0.borrow().pending.iter().map(|entry| entry.1).min();
        let Some(earliest) = earliest else {
            panic!("deadlock: the task is waiting and no timer is set");
        };
        wait_for_interrupt(earliest - clock.now());
        let now = clock.now();
        let mut due = Vec::new();
        timers
            .0
            .borrow_mut()
            .pending
            .retain(|(_, deadline, waker)| {
                let is_due = *deadline <= now;
                if is_due {
                    due.push(waker.clone());
                }
                !is_due
            });
        due.into_iter().for_each(Waker::wake);
    }
}

#[allow(clippy::disallowed_methods, reason = "this example is the runtime")]
fn wait_for_interrupt(d: Duration) {
    std::thread::sleep(d);
}

fn main() -> Result<(), resil_core::ConfigError> {
    #[allow(clippy::disallowed_methods, reason = "this example is the time source")]
    let clock = Ticks {
        origin: std::time::Instant::now(),
    };
    let timers = Timers::default();
    // Any `Fn(Duration) -> impl Future` is a `Sleeper`.
    let sleeper = |d: Duration| Delay {
        timers: timers.clone(),
        clock,
        deadline: clock.now() + d,
        key: None,
    };

    let backoff = Backoff::exponential(Duration::from_millis(2), 2.0)
        .max_delay(Duration::from_millis(50))
        .jitter(Jitter::Full)
        .build()?;

    let mut calls = 0;
    let mut flaky = || {
        calls += 1;
        let attempt = calls;
        async move {
            if attempt < 3 {
                Err("connection reset")
            } else {
                Ok("pong")
            }
        }
    };

    let start = clock.now();
    let answer = block_on(
        async {
            let mut delays = backoff.iter();
            loop {
                match timeout(&sleeper, Duration::from_millis(100), flaky()).await {
                    Ok(Ok(answer)) => break answer,
                    failed => {
                        let delay = delays.next().unwrap_or_default();
                        println!("attempt failed ({failed:?}); retrying in {delay:?}");
                        sleeper(delay).await;
                    }
                }
            }
        },
        clock,
        &timers,
    );
    println!("answer {answer:?} after {:?}", clock.now() - start);
    Ok(())
}
