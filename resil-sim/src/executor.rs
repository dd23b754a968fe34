//! The discrete-event loop: run every ready task until none can progress,
//! jump the clock to the next timer, repeat.
//!
//! Why a hand-written executor and not a runtime? Determinism and speed.
//! A runtime's timer wheel runs on real time (or a paused clock that still
//! polls in an order we do not control); here there is one thread, one FIFO
//! of ready tasks, and one source of time, [`ManualClock`], whose timers
//! fire in `(deadline, registration)` order. The same tasks spawned in the
//! same order therefore run in the same order every time, and a simulated
//! hour costs only the polls it takes. Tasks are not `Send` (a simulation
//! shares its models through `Rc`), which saves every atomic and lock a
//! work-stealing runtime would need.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use resil_core::{Clock, Instant, ManualClock};

/// A task: a future run for its side effects.
type Task = Pin<Box<dyn Future<Output = ()>>>;

/// Task ids woken since the last look: wakers push, the loop pops.
///
/// A `Mutex` because a [`Waker`] must be `Send + Sync`; it is only ever
/// taken by the one simulation thread, so it is never contended.
#[derive(Debug, Default)]
struct ReadyQueue(Mutex<VecDeque<(u32, u32)>>);

impl ReadyQueue {
    fn push(&self, id: (u32, u32)) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(id);
    }

    fn pop(&self) -> Option<(u32, u32)> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }
}

/// A task's waker: its slot and generation, so a stale waker (of a task
/// that finished and whose slot was reused) wakes nothing.
struct TaskWaker {
    slot: u32,
    generation: u32,
    /// Set while the task sits in the ready queue: waking it twice queues
    /// it once.
    queued: AtomicBool,
    ready: Arc<ReadyQueue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::Relaxed) {
            self.ready.push((self.slot, self.generation));
        }
    }
}

/// One slot of the task table.
struct Slot {
    task: Option<Task>,
    generation: u32,
    waker: Arc<TaskWaker>,
}

/// A handle that spawns tasks into a running [`Executor`]; cheap to clone.
#[derive(Clone)]
pub struct Spawner {
    incoming: Rc<RefCell<Vec<Task>>>,
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner")
            .field("incoming", &self.incoming.borrow().len())
            .finish()
    }
}

impl Spawner {
    /// Runs `task` from the executor's next step on.
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        self.incoming.borrow_mut().push(Box::pin(task));
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStats {
    /// Polls made.
    pub polls: u64,
    /// Tasks spawned.
    pub spawned: u64,
    /// Tasks still unfinished when the run stopped (0 when it went idle).
    pub unfinished: u64,
    /// The clock when the run stopped.
    pub ended_at: Instant,
}

/// A single-threaded executor on a [`ManualClock`].
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Clock, Instant, ManualClock, Sleeper};
/// use resil_sim::Executor;
///
/// let clock = ManualClock::new();
/// let mut executor = Executor::new(clock.clone());
/// for i in 1..=1000u64 {
///     let clock = clock.clone();
///     executor.spawner().spawn(async move {
///         clock.sleep(Duration::from_secs(i)).await;
///     });
/// }
/// let stats = executor.run_until(Instant::MAX, |_| {});
/// assert_eq!(stats.unfinished, 0);
/// assert_eq!(clock.now().since_origin(), Duration::from_secs(1000));
/// ```
pub struct Executor {
    clock: ManualClock,
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: u64,
    ready: Arc<ReadyQueue>,
    spawner: Spawner,
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("now", &self.clock.now())
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// An executor whose time is `clock`.
    pub fn new(clock: ManualClock) -> Self {
        Executor {
            clock,
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            ready: Arc::new(ReadyQueue::default()),
            spawner: Spawner {
                incoming: Rc::new(RefCell::new(Vec::new())),
            },
        }
    }

    /// A handle for spawning tasks, before or during the run.
    pub fn spawner(&self) -> Spawner {
        self.spawner.clone()
    }

    /// Tasks spawned and not yet finished.
    pub fn live(&self) -> u64 {
        self.live
    }

    /// Runs until no task can progress and no timer is pending, or until
    /// the next timer lies beyond `stop` (tasks still waiting then are
    /// dropped, which cancels them). `on_advance` is called with the new
    /// time after every jump of the clock.
    pub fn run_until(&mut self, stop: Instant, mut on_advance: impl FnMut(Instant)) -> RunStats {
        let mut polls = 0u64;
        let mut spawned = 0u64;
        loop {
            spawned += self.admit_spawned();
            while let Some((slot, generation)) = self.ready.pop() {
                polls += 1;
                self.poll_slot(slot, generation);
                spawned += self.admit_spawned();
            }
            match self.clock.next_deadline() {
                Some(next) if next <= stop => {
                    let now = self.clock.advance_to(next);
                    on_advance(now);
                }
                _ => break,
            }
        }
        let unfinished = self.live;
        // Drop what is left inside the loop's lifetime, so the clock's timer
        // map is empty afterwards and nothing outlives the run.
        for slot in &mut self.slots {
            slot.task = None;
        }
        self.live = 0;
        RunStats {
            polls,
            spawned,
            unfinished,
            ended_at: self.clock.now(),
        }
    }

    /// Moves newly spawned tasks into slots and queues them; returns how many.
    fn admit_spawned(&mut self) -> u64 {
        let incoming = std::mem::take(&mut *self.spawner.incoming.borrow_mut());
        let count = incoming.len() as u64;
        for task in incoming {
            let slot = match self.free.pop() {
                Some(slot) => {
                    let entry = &mut self.slots[slot as usize];
                    entry.generation = entry.generation.wrapping_add(1);
                    entry.waker = Arc::new(TaskWaker {
                        slot,
                        generation: entry.generation,
                        queued: AtomicBool::new(false),
                        ready: Arc::clone(&self.ready),
                    });
                    entry.task = Some(task);
                    slot
                }
                None => {
                    let slot = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                    self.slots.push(Slot {
                        task: Some(task),
                        generation: 0,
                        waker: Arc::new(TaskWaker {
                            slot,
                            generation: 0,
                            queued: AtomicBool::new(false),
                            ready: Arc::clone(&self.ready),
                        }),
                    });
                    slot
                }
            };
            self.live += 1;
            Arc::clone(&self.slots[slot as usize].waker).wake();
        }
        count
    }

    fn poll_slot(&mut self, slot: u32, generation: u32) {
        let Some(entry) = self.slots.get_mut(slot as usize) else {
            return;
        };
        if entry.generation != generation {
            return;
        }
        let Some(mut task) = entry.task.take() else {
            return;
        };
        let waker_arc = Arc::clone(&entry.waker);
        waker_arc.queued.store(false, Ordering::Relaxed);
        let waker = Waker::from(Arc::clone(&waker_arc));
        let mut cx = Context::from_waker(&waker);
        // The slot is empty while its task runs, so a task that spawns
        // others cannot be handed its own slot.
        match task.as_mut().poll(&mut cx) {
            Poll::Ready(()) => {
                self.live -= 1;
                self.free.push(slot);
                drop(task);
            }
            Poll::Pending => {
                if let Some(entry) = self.slots.get_mut(slot as usize) {
                    entry.task = Some(task);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;
    use resil_core::Sleeper;
    use std::cell::Cell;

    #[test]
    fn tasks_run_in_deadline_then_spawn_order() {
        let clock = ManualClock::new();
        let mut executor = Executor::new(clock.clone());
        let order = Rc::new(RefCell::new(Vec::new()));
        for (i, secs) in [(0, 3), (1, 1), (2, 3), (3, 2)] {
            let clock = clock.clone();
            let order = Rc::clone(&order);
            executor.spawner().spawn(async move {
                clock.sleep(Duration::from_secs(secs)).await;
                order.borrow_mut().push(i);
            });
        }
        let stats = executor.run_until(Instant::MAX, |_| {});
        assert_eq!(*order.borrow(), [1, 3, 0, 2]);
        assert_eq!(stats.spawned, 4);
        assert_eq!(stats.unfinished, 0);
    }

    #[test]
    fn tasks_spawn_tasks_and_slots_are_reused() {
        let clock = ManualClock::new();
        let mut executor = Executor::new(clock.clone());
        let done = Rc::new(Cell::new(0));
        let spawner = executor.spawner();
        let (c, d) = (clock.clone(), Rc::clone(&done));
        executor.spawner().spawn(async move {
            for _ in 0..100 {
                c.sleep(Duration::from_millis(10)).await;
                let (c2, d2) = (c.clone(), Rc::clone(&d));
                spawner.spawn(async move {
                    c2.sleep(Duration::from_millis(5)).await;
                    d2.set(d2.get() + 1);
                });
            }
        });
        let stats = executor.run_until(Instant::MAX, |_| {});
        assert_eq!(done.get(), 100);
        assert_eq!(stats.spawned, 101);
        assert_eq!(executor.live(), 0);
        assert!(executor.slots.len() <= 3, "{}", executor.slots.len());
    }

    #[test]
    fn fifty_thousand_tasks_wait_at_once() {
        let clock = ManualClock::new();
        let mut executor = Executor::new(clock.clone());
        let done = Rc::new(Cell::new(0u32));
        for i in 0..50_000u64 {
            let (c, d) = (clock.clone(), Rc::clone(&done));
            executor.spawner().spawn(async move {
                c.sleep(Duration::from_millis(1 + i % 997)).await;
                c.sleep(Duration::from_millis(1 + i % 13)).await;
                d.set(d.get() + 1);
            });
        }
        let stats = executor.run_until(Instant::MAX, |_| {});
        assert_eq!(done.get(), 50_000);
        assert_eq!(stats.unfinished, 0);
        // Each task: a first poll, and one per sleep's wake-up.
        assert_eq!(stats.polls, 150_000);
    }

    #[test]
    fn the_stop_time_cancels_what_is_left() {
        let clock = ManualClock::new();
        let mut executor = Executor::new(clock.clone());
        let c = clock.clone();
        executor.spawner().spawn(async move {
            c.sleep(Duration::from_secs(60)).await;
        });
        let stats = executor.run_until(Instant::ZERO + Duration::from_secs(10), |_| {});
        assert_eq!(stats.unfinished, 1);
        assert_eq!(
            clock.pending_sleeps(),
            0,
            "the cancelled sleep left no timer"
        );
    }
}
