//! The concurrency limiter against a small single-threaded reference model:
//! random interleavings of `try_acquire`, `acquire` futures polled by hand,
//! recording or dropping permits, cancelling waiters and the passing of
//! time (so that waiters time out at `max_wait`), on one limiter with a
//! fixed limit, a bounded queue and optional reserves.
//!
//! After every step: the permits out match the model per level, never
//! exceed the limit, and equal the permits the test holds (its own, and
//! those granted to futures it has not polled since); the waiters counted
//! match the futures still queued; exactly the futures the step settled
//! (or whose sleep fell due) were woken; and no sleep is left behind. A
//! freed permit goes to the oldest waiter of the most critical level that
//! waits. At the end, with everything dropped, nothing is out, queued or
//! sleeping.
//!
//! Each future is polled with a waker of its own that records being woken,
//! so the test sees which waiter a release settled without polling it
//! (polling is a step of its own: a waiter past its deadline stays queued,
//! and can still be granted, until it is polled).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

use resil_core::{ManualClock, NoopListener, Outcome, ShedReason};
use resil_shed::{ConcurrencyLimit, Fixed, Permit, Priority, Shed};

type Limiter = ConcurrencyLimit<Fixed, ManualClock>;
type Held = Permit<Fixed, ManualClock, NoopListener>;
type Acquire<'a> = Pin<Box<dyn Future<Output = Result<Held, Shed>> + 'a>>;

const LEVELS: usize = 4;

/// How long a waiter may wait; clock steps are 1 to 12 ms.
const MAX_WAIT: Duration = Duration::from_millis(10);

/// The limiter's configuration, as the model reads it.
#[derive(Clone, Copy, Debug)]
struct Config {
    limit: u32,
    max_queue: usize,
    /// Shares of the limit, per level.
    reserves: Option<[f64; LEVELS]>,
}

impl Config {
    fn build(&self, clock: &ManualClock) -> Limiter {
        let mut builder = ConcurrencyLimit::builder(Fixed::try_from(self.limit).unwrap())
            .max_queue(self.max_queue)
            .max_wait(MAX_WAIT)
            .clock(clock.clone());
        for (level, &share) in self.reserves.iter().flatten().enumerate() {
            builder = builder.reserve(Priority::ALL[level], share);
        }
        builder.build().unwrap()
    }

    /// Level `level`'s reserve in permits: its share of the limit, rounded
    /// to thousandths, times the limit, rounded down.
    fn reserve(&self, level: usize) -> u32 {
        let share = self.reserves.map_or(0.0, |r| r[level]);
        let permille = (share * 1000.0).round() as u32;
        self.limit * permille / 1000
    }
}

#[derive(Clone, Copy, Debug)]
enum Release {
    Drop,
    Success,
    Failure,
    Ignored,
}

#[derive(Clone, Debug)]
enum Op {
    TryAcquire(Priority),
    /// Creates an `acquire` future and polls it once.
    Start(Priority),
    PollAll,
    Release(Index, Release),
    /// Drops a pending `acquire` future.
    Cancel(Index),
    Advance(Duration),
}

/// What the model says a pending future will see when next polled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Still in the queue (timed out if polled at or past its deadline).
    Queued,
    /// A permit was taken for it.
    Granted,
    /// Refused while queued.
    Shed(ShedReason),
}

/// Records that its waker was woken.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A pending `acquire` future and what the model expects of it.
struct Waiter<'a> {
    /// In order of creation: FIFO order within a level.
    id: u64,
    priority: Priority,
    future: Acquire<'a>,
    flag: Arc<Flag>,
    waker: Waker,
    /// When its sleep of `MAX_WAIT` falls due, since the clock's origin.
    deadline: Duration,
    expect: Expect,
}

impl Waiter<'_> {
    fn poll(&mut self) -> Poll<Result<Held, Shed>> {
        self.future
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    fn woken(&self) -> bool {
        self.flag.0.load(Ordering::SeqCst)
    }
}

/// The limiter under test, what the test holds, and the model.
struct Run<'a> {
    config: Config,
    limiter: &'a Limiter,
    clock: &'a ManualClock,
    held: Vec<Held>,
    waiters: Vec<Waiter<'a>>,
    next_id: u64,
    /// Since the clock's origin.
    now: Duration,
    /// The model: permits out per level...
    counts: [u32; LEVELS],
    /// ...and the ids of the queued waiters, per level, oldest first.
    queue: [VecDeque<u64>; LEVELS],
    /// Waiters the current step settled (granted or shed): they are woken.
    settled: Vec<u64>,
}

impl<'a> Run<'a> {
    fn new(config: Config, limiter: &'a Limiter, clock: &'a ManualClock) -> Self {
        Run {
            config,
            limiter,
            clock,
            held: Vec::new(),
            waiters: Vec::new(),
            next_id: 0,
            now: Duration::ZERO,
            counts: [0; LEVELS],
            queue: Default::default(),
            settled: Vec::new(),
        }
    }

    fn total(&self) -> u32 {
        self.counts.iter().sum()
    }

    fn queued(&self) -> usize {
        self.queue.iter().map(VecDeque::len).sum()
    }

    /// The admission rule: below the limit, and leaving the unused reserves
    /// of more critical levels alone.
    fn admits(&self, level: usize) -> bool {
        let total = self.total();
        let held_back: u32 = (0..level)
            .map(|l| self.config.reserve(l).saturating_sub(self.counts[l]))
            .sum();
        total < self.config.limit && total + held_back < self.config.limit
    }

    /// Whether a waiter at `level` or more critical is queued (a newcomer
    /// does not overtake it).
    fn blocked(&self, level: usize) -> bool {
        self.queue[..=level].iter().any(|q| !q.is_empty())
    }

    fn waiter(&mut self, id: u64) -> &mut Waiter<'a> {
        self.waiters.iter_mut().find(|w| w.id == id).unwrap()
    }

    fn settle(&mut self, id: u64, to: Expect) {
        self.waiter(id).expect = to;
        self.settled.push(id);
    }

    /// Hands free capacity to the queued waiters, most critical level
    /// first, oldest first within a level.
    fn dispatch(&mut self) {
        while let Some(level) = (0..LEVELS).find(|&l| !self.queue[l].is_empty()) {
            if !self.admits(level) {
                break;
            }
            self.counts[level] += 1;
            let id = self.queue[level].pop_front().unwrap();
            self.settle(id, Expect::Granted);
        }
    }

    /// The model's side of a permit coming back.
    fn returned(&mut self, level: usize) {
        self.counts[level] -= 1;
        self.dispatch();
    }

    fn try_acquire(&mut self, priority: Priority) {
        let level = priority.index();
        let admitted = !self.blocked(level) && self.admits(level);
        match self.limiter.try_acquire(priority) {
            Ok(permit) => {
                assert!(
                    admitted,
                    "try_acquire({priority:?}) admitted; the model refuses"
                );
                assert_eq!(permit.priority(), priority);
                self.counts[level] += 1;
                self.held.push(permit);
            }
            Err(shed) => {
                assert!(
                    !admitted,
                    "try_acquire({priority:?}) refused; the model admits"
                );
                assert_eq!(shed.reason(), ShedReason::LimitReached);
                assert_eq!(shed.priority(), priority);
            }
        }
    }

    fn start(&mut self, priority: Priority) {
        let level = priority.index();
        let id = self.next_id;
        self.next_id += 1;
        let flag = Arc::new(Flag::default());
        let mut waiter = Waiter {
            id,
            priority,
            future: Box::pin(self.limiter.acquire(self.clock, priority)),
            waker: Waker::from(Arc::clone(&flag)),
            flag,
            deadline: self.now + MAX_WAIT,
            expect: Expect::Queued,
        };
        // What the first poll gives, by the model.
        let expected: Poll<Result<(), ShedReason>> = if !self.blocked(level) && self.admits(level) {
            self.counts[level] += 1;
            Poll::Ready(Ok(()))
        } else if self.config.max_queue == 0 {
            Poll::Ready(Err(ShedReason::LimitReached))
        } else {
            let mut room = self.queued() < self.config.max_queue;
            if !room {
                // Evict the newest waiter of the least critical level below.
                if let Some(victim) = (level + 1..LEVELS)
                    .rev()
                    .find(|&l| !self.queue[l].is_empty())
                {
                    let evicted = self.queue[victim].pop_back().unwrap();
                    self.settle(evicted, Expect::Shed(ShedReason::QueueFull));
                    room = true;
                }
            }
            if room {
                self.queue[level].push_back(id);
                self.waiters.push(waiter);
                self.dispatch();
                waiter = self.waiters.pop().unwrap();
                self.settled.retain(|&s| s != id);
                match waiter.expect {
                    Expect::Granted => Poll::Ready(Ok(())),
                    _ => Poll::Pending,
                }
            } else {
                Poll::Ready(Err(ShedReason::QueueFull))
            }
        };
        match (waiter.poll(), expected) {
            (Poll::Ready(Ok(permit)), Poll::Ready(Ok(()))) => {
                assert_eq!(permit.priority(), priority);
                self.held.push(permit);
            }
            (Poll::Ready(Err(shed)), Poll::Ready(Err(reason))) => {
                assert_eq!(shed.reason(), reason, "acquire({priority:?})");
                assert_eq!(shed.priority(), priority);
            }
            (Poll::Pending, Poll::Pending) => self.waiters.push(waiter),
            (real, model) => panic!(
                "acquire({priority:?}) first poll: {:?}, the model expects {model:?}",
                real.map(|r| r.map(drop))
            ),
        }
    }

    fn poll_all(&mut self) {
        let mut i = 0;
        while i < self.waiters.len() {
            let now = self.now;
            let waiter = &mut self.waiters[i];
            let (id, priority) = (waiter.id, waiter.priority);
            let expected = match waiter.expect {
                Expect::Granted => Poll::Ready(Ok(())),
                Expect::Shed(reason) => Poll::Ready(Err(reason)),
                Expect::Queued if now >= waiter.deadline => {
                    Poll::Ready(Err(ShedReason::WaitedTooLong))
                }
                Expect::Queued => Poll::Pending,
            };
            match (waiter.poll(), expected) {
                (Poll::Pending, Poll::Pending) => {
                    i += 1;
                    continue;
                }
                (Poll::Ready(Ok(permit)), Poll::Ready(Ok(()))) => {
                    assert_eq!(permit.priority(), priority);
                    self.held.push(permit);
                }
                (Poll::Ready(Err(shed)), Poll::Ready(Err(reason))) => {
                    assert_eq!(shed.reason(), reason, "waiter {id} ({priority:?})");
                    assert_eq!(shed.priority(), priority);
                    if reason == ShedReason::WaitedTooLong {
                        // It leaves the queue (nothing is dispatched).
                        self.queue[priority.index()].retain(|&q| q != id);
                    }
                }
                (real, model) => panic!(
                    "waiter {id} ({priority:?}) polled: {:?}, the model expects {model:?}",
                    real.map(|r| r.map(drop))
                ),
            }
            self.waiters.remove(i);
        }
    }

    fn release(&mut self, index: usize, how: Release) {
        let permit = self.held.swap_remove(index);
        let level = permit.priority().index();
        let before = self.waiting_front();
        match how {
            Release::Drop => drop(permit),
            Release::Success => permit.success(),
            Release::Failure => permit.failure(),
            Release::Ignored => permit.record(Outcome::Ignored),
        }
        self.returned(level);
        self.assert_freed_permit_went_to(before);
    }

    fn cancel(&mut self, index: usize) {
        let waiter = self.waiters.remove(index);
        let level = waiter.priority.index();
        let before = self.waiting_front();
        drop(waiter.future);
        match waiter.expect {
            // Leaves the queue; nothing is dispatched.
            Expect::Queued => self.queue[level].retain(|&q| q != waiter.id),
            // Returns the permit granted meanwhile.
            Expect::Granted => {
                self.returned(level);
                self.assert_freed_permit_went_to(before);
            }
            Expect::Shed(_) => {}
        }
    }

    fn advance(&mut self, d: Duration) {
        self.clock.advance(d);
        self.now += d;
    }

    /// The most critical level waiting and its oldest waiter, if any.
    fn waiting_front(&self) -> Option<(usize, u64)> {
        (0..LEVELS).find_map(|l| self.queue[l].front().map(|&id| (l, id)))
    }

    /// After a permit came back: a waiter it woke is the oldest of the most
    /// critical level that was waiting. (Checked on the real wakers,
    /// beside the model's own choice.)
    fn assert_freed_permit_went_to(&self, front: Option<(usize, u64)>) {
        let woken: Vec<_> = self.waiters.iter().filter(|w| w.woken()).collect();
        assert!(woken.len() <= 1, "one permit freed, {} woken", woken.len());
        if let Some(w) = woken.first() {
            let Some((level, id)) = front else {
                panic!("waiter {} woken, none was queued", w.id);
            };
            assert_eq!(
                (w.priority.index(), w.id),
                (level, id),
                "the freed permit went to waiter {} ({:?}), not the most critical",
                w.id,
                w.priority
            );
        }
    }

    fn step(&mut self, op: &Op) {
        self.checked(|run| match *op {
            Op::TryAcquire(priority) => run.try_acquire(priority),
            Op::Start(priority) => run.start(priority),
            Op::PollAll => run.poll_all(),
            Op::Release(index, how) if !run.held.is_empty() => {
                run.release(index.index(run.held.len()), how);
            }
            Op::Cancel(index) if !run.waiters.is_empty() => {
                run.cancel(index.index(run.waiters.len()));
            }
            Op::Release(..) | Op::Cancel(_) => {}
            Op::Advance(d) => run.advance(d),
        });
    }

    /// Runs one step and checks the limiter against the model after it.
    fn checked(&mut self, step: impl FnOnce(&mut Self)) {
        for w in &self.waiters {
            w.flag.0.store(false, Ordering::SeqCst);
        }
        self.settled.clear();
        let before = self.now;
        step(self);
        // Woken: what the step settled, and what its clock step made due.
        for w in &self.waiters {
            let due = before < w.deadline && w.deadline <= self.now;
            assert_eq!(
                w.woken(),
                self.settled.contains(&w.id) || due,
                "waiter {} ({:?}, {:?}) woken?",
                w.id,
                w.priority,
                w.expect
            );
        }
        self.check();
    }

    fn check(&self) {
        let limiter = self.limiter;
        let granted = self
            .waiters
            .iter()
            .filter(|w| w.expect == Expect::Granted)
            .count();
        let queued = self
            .waiters
            .iter()
            .filter(|w| w.expect == Expect::Queued)
            .count();
        assert!(limiter.in_flight() <= self.config.limit, "over the limit");
        assert_eq!(limiter.in_flight(), self.total(), "permits out");
        assert_eq!(
            limiter.in_flight() as usize,
            self.held.len() + granted,
            "permits out, against those held and granted to pending futures"
        );
        for p in Priority::ALL {
            assert_eq!(limiter.in_flight_at(p), self.counts[p.index()], "{p:?}");
        }
        assert_eq!(limiter.waiting() as usize, queued, "waiting");
        assert_eq!(self.queued(), queued);
        // Every pending future registered its sleep; due ones were removed.
        let sleeping = self.waiters.iter().filter(|w| w.deadline > self.now);
        assert_eq!(self.clock.pending_sleeps(), sleeping.count(), "sleeps");
    }

    /// Drops every permit, then every pending future, checking as it goes.
    fn finish(mut self) {
        while !self.held.is_empty() {
            self.checked(|run| run.release(0, Release::Drop));
        }
        while !self.waiters.is_empty() {
            self.checked(|run| run.cancel(0));
        }
        assert_eq!(self.limiter.in_flight(), 0);
        assert_eq!(self.limiter.waiting(), 0);
        assert_eq!(self.clock.pending_sleeps(), 0);
    }
}

fn config() -> impl Strategy<Value = Config> {
    let share = select(vec![0.0, 0.1, 0.2, 0.25, 0.5]);
    let reserves = proptest::option::of(proptest::array::uniform4(share))
        .prop_filter("reserves add up to at most 1", |r| {
            r.is_none_or(|r| r.iter().sum::<f64>() <= 1.0)
        });
    (1u32..=5, 0usize..=4, reserves).prop_map(|(limit, max_queue, reserves)| Config {
        limit,
        max_queue,
        reserves,
    })
}

fn op() -> impl Strategy<Value = Op> {
    let priority = || select(Priority::ALL.to_vec());
    let how = select(vec![
        Release::Drop,
        Release::Success,
        Release::Failure,
        Release::Ignored,
    ]);
    prop_oneof![
        3 => priority().prop_map(Op::TryAcquire),
        4 => priority().prop_map(Op::Start),
        3 => Just(Op::PollAll),
        3 => (any::<Index>(), how).prop_map(|(i, how)| Op::Release(i, how)),
        1 => any::<Index>().prop_map(Op::Cancel),
        2 => (1u64..=12).prop_map(|ms| Op::Advance(Duration::from_millis(ms))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn random_interleavings_match_the_model_and_every_permit_comes_back(
        config in config(),
        ops in vec(op(), 1..100),
    ) {
        let clock = ManualClock::new();
        let limiter = config.build(&clock);
        let mut run = Run::new(config, &limiter, &clock);
        for op in &ops {
            run.step(op);
        }
        run.finish();
    }
}
