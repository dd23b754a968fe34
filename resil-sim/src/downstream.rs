//! The systems under the clients: a backend with finite capacity and a
//! fault timeline, and an optional mid-tier in front of it.
//!
//! Why model the backend's queue and keep serving requests whose client has
//! given up? Because that is what real servers do, and it is the mechanism
//! behind every retry storm: a timed-out request still costs the server its
//! full service time, so retries add load exactly when capacity is short,
//! and the backlog outlives the fault. A model that cancelled abandoned work
//! would make naive retries look harmless.

use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use std::collections::VecDeque;
use std::rc::Rc;

use resil_core::{Clock, ManualClock, Sleeper};
use resil_shed::Priority;

use crate::dist::{Latency, Rng};
use crate::executor::Spawner;
use crate::metrics::Recorder;
use crate::scenario::{self, Fault, FaultKind};
use crate::stack::{CallError, Failure, Service, Stack};

/// What the fault timeline does to the backend at one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Effect {
    /// Everything is refused.
    pub outage: bool,
    /// Share of served calls that fail.
    pub error_rate: f64,
    /// Service time multiplier.
    pub latency_factor: f64,
    /// Share of the workers available.
    pub capacity_factor: f64,
}

/// The fault timeline.
#[derive(Clone, Debug, Default)]
pub struct Faults(Vec<Fault>);

impl Faults {
    /// A timeline of `faults` (they may overlap: effects combine).
    pub fn new(faults: Vec<Fault>) -> Self {
        Faults(faults)
    }

    /// The combined effect of the faults active at `t` (start inclusive,
    /// end exclusive).
    pub fn at(&self, t: Duration) -> Effect {
        let mut effect = Effect {
            outage: false,
            error_rate: 0.0,
            latency_factor: 1.0,
            capacity_factor: 1.0,
        };
        for fault in self.0.iter().filter(|f| f.start <= t && t < f.end) {
            match fault.kind {
                FaultKind::Outage => effect.outage = true,
                FaultKind::Brownout { error_rate } => {
                    effect.error_rate = 1.0 - (1.0 - effect.error_rate) * (1.0 - error_rate);
                }
                FaultKind::Latency { factor } => effect.latency_factor *= factor,
                FaultKind::Capacity { factor } => effect.capacity_factor *= factor,
            }
        }
        effect
    }
}

/// A request the backend has taken: its answer, and who waits for it.
#[derive(Debug, Default)]
struct Job {
    result: Option<Result<(), CallError>>,
    waker: Option<Waker>,
}

type JobRef = Rc<RefCell<Job>>;

/// Waits for a job's answer. Dropping it abandons the job, not the work.
struct Answer(JobRef);

impl Future for Answer {
    type Output = Result<(), CallError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut job = self.0.borrow_mut();
        match job.result {
            Some(result) => Poll::Ready(result),
            None => {
                job.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[derive(Debug)]
struct BackendState {
    busy: u32,
    queue: VecDeque<JobRef>,
    rng: Rng,
}

#[derive(Debug)]
struct BackendInner {
    spec: scenario::Downstream,
    faults: Faults,
    clock: ManualClock,
    spawner: Spawner,
    recorder: Rc<RefCell<Recorder>>,
    state: RefCell<BackendState>,
}

/// The backend: `concurrency` workers, a FIFO queue, a service-time
/// distribution and a fault timeline. Cheap to clone (clones share it).
#[derive(Clone, Debug)]
pub struct Backend(Rc<BackendInner>);

impl Backend {
    /// A backend as `spec` describes, under `faults`, counting every
    /// attempt that reaches it in `recorder`.
    pub fn new(
        spec: scenario::Downstream,
        faults: Faults,
        clock: ManualClock,
        spawner: Spawner,
        recorder: Rc<RefCell<Recorder>>,
        rng: Rng,
    ) -> Self {
        Backend(Rc::new(BackendInner {
            spec,
            faults,
            clock,
            spawner,
            recorder,
            state: RefCell::new(BackendState {
                busy: 0,
                queue: VecDeque::new(),
                rng,
            }),
        }))
    }

    fn capacity(&self, effect: &Effect) -> u32 {
        let workers = f64::from(self.0.spec.concurrency) * effect.capacity_factor;
        (workers.round() as u32).max(1)
    }

    /// Starts serving `job` on a worker (already counted in `busy`).
    fn start(&self, job: JobRef) {
        let inner = &self.0;
        let effect = inner.faults.at(inner.clock.now().since_origin());
        let service = {
            let mut state = inner.state.borrow_mut();
            inner
                .spec
                .latency
                .sample(&mut state.rng, effect.latency_factor)
        };
        let this = self.clone();
        inner.spawner.spawn(async move {
            this.0.clock.sleep(service).await;
            this.finish(job);
        });
    }

    /// A worker finished `job`: answer it, take the next one.
    fn finish(&self, job: JobRef) {
        let inner = &self.0;
        let effect = inner.faults.at(inner.clock.now().since_origin());
        let result = {
            let mut state = inner.state.borrow_mut();
            if effect.outage {
                Err(CallError::Refused)
            } else if effect.error_rate > 0.0 && state.rng.chance(effect.error_rate) {
                Err(CallError::Failed)
            } else {
                Ok(())
            }
        };
        let waker = {
            let mut job = job.borrow_mut();
            job.result = Some(result);
            job.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        let capacity = self.capacity(&effect);
        let mut next = Vec::new();
        {
            let mut state = inner.state.borrow_mut();
            state.busy -= 1;
            while state.busy < capacity {
                let Some(job) = state.queue.pop_front() else {
                    break;
                };
                state.busy += 1;
                next.push(job);
            }
        }
        for job in next {
            self.start(job);
        }
    }
}

impl Service for Backend {
    async fn call(&self, _priority: Priority) -> Result<(), CallError> {
        let inner = &self.0;
        let now = inner.clock.now();
        inner.recorder.borrow_mut().attempt(now);
        let effect = inner.faults.at(now.since_origin());
        let refusal = if effect.outage {
            Some(CallError::Refused)
        } else {
            let capacity = self.capacity(&effect);
            let job = Rc::new(RefCell::new(Job::default()));
            let admitted = {
                let mut state = inner.state.borrow_mut();
                if state.busy < capacity && state.queue.is_empty() {
                    state.busy += 1;
                    Some(true)
                } else if state.queue.len() < inner.spec.queue as usize {
                    state.queue.push_back(Rc::clone(&job));
                    Some(false)
                } else {
                    None
                }
            };
            match admitted {
                Some(start) => {
                    if start {
                        self.start(Rc::clone(&job));
                    }
                    return Answer(job).await;
                }
                None => Some(CallError::Overloaded),
            }
        };
        inner.clock.sleep(inner.spec.error_latency).await;
        Err(refusal.unwrap_or(CallError::Overloaded))
    }
}

/// A mid-tier: does some work of its own, then calls the backend through
/// its own client stack (the same configuration as the clients'), which is
/// how retries multiply across layers.
#[derive(Debug)]
pub struct MidTier {
    latency: Latency,
    clock: ManualClock,
    stack: Stack,
    backend: Backend,
    rng: RefCell<Rng>,
}

impl MidTier {
    /// A mid-tier in front of `backend`.
    pub fn new(
        latency: Latency,
        clock: ManualClock,
        stack: Stack,
        backend: Backend,
        rng: Rng,
    ) -> Self {
        MidTier {
            latency,
            clock,
            stack,
            backend,
            rng: RefCell::new(rng),
        }
    }
}

impl Service for MidTier {
    async fn call(&self, priority: Priority) -> Result<(), CallError> {
        let work = self.latency.sample(&mut self.rng.borrow_mut(), 1.0);
        self.clock.sleep(work).await;
        self.stack
            .call(priority, &self.backend)
            .await
            .map_err(|failure| match failure {
                // Refused for lack of room (shed, throttled, breaker open):
                // the caller sees an overloaded service.
                Failure::Shed | Failure::Throttled | Failure::Rejected => CallError::Overloaded,
                Failure::Downstream(CallError::Refused) => CallError::Refused,
                Failure::Timeout | Failure::Downstream(_) => CallError::Failed,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_faults_combine_and_end_exclusive() {
        let s = Duration::from_secs(1);
        let faults = Faults::new(vec![
            Fault {
                kind: FaultKind::Brownout { error_rate: 0.5 },
                start: s,
                end: 4 * s,
            },
            Fault {
                kind: FaultKind::Brownout { error_rate: 0.5 },
                start: 2 * s,
                end: 3 * s,
            },
            Fault {
                kind: FaultKind::Latency { factor: 3.0 },
                start: 2 * s,
                end: 3 * s,
            },
            Fault {
                kind: FaultKind::Capacity { factor: 0.5 },
                start: 3 * s,
                end: 5 * s,
            },
        ]);
        assert_eq!(faults.at(Duration::ZERO).error_rate, 0.0);
        let both = faults.at(2 * s);
        assert_eq!(both.error_rate, 0.75);
        assert_eq!(both.latency_factor, 3.0);
        assert_eq!(faults.at(3 * s).latency_factor, 1.0, "end is exclusive");
        assert_eq!(faults.at(3 * s).capacity_factor, 0.5);
        assert!(!faults.at(3 * s).outage);
    }
}
