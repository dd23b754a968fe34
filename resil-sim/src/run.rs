//! Running a scenario: one fresh world per client configuration, the same
//! arrivals for each, and the event loop until every request has ended.
//!
//! Why the same arrivals? The configurations are compared on *common random
//! numbers*: the workload draws from its own stream of the seed, so each
//! configuration faces exactly the same requests at exactly the same
//! instants, and a difference in the results is the configuration's doing.

use core::cell::RefCell;
use core::time::Duration;
use std::rc::Rc;

use resil_core::{Clock, Instant, ManualClock, Sleeper};
use resil_shed::Priority;

use crate::dist::Rng;
use crate::downstream::{Backend, Faults, MidTier};
use crate::executor::{Executor, Spawner};
use crate::metrics::{ClientRun, Recorder};
use crate::scenario::{ClientSpec, Scenario, Workload};
use crate::stack::{Service, Stack};

/// Random streams of one seed.
mod stream {
    pub(super) const WORKLOAD: u64 = 1;
    pub(super) const BACKEND: u64 = 2;
    pub(super) const MID_TIER: u64 = 3;
    pub(super) const CLIENT: u64 = 4;
    pub(super) const MID_STACK: u64 = 5;
}

/// How long after the last arrival the run may go on for requests to end.
const DRAIN: Duration = Duration::from_secs(300);

/// Every client configuration's run of one scenario.
#[derive(Clone, Debug)]
pub struct ScenarioRun {
    /// The scenario run.
    pub scenario: Scenario,
    /// The seed used.
    pub seed: u64,
    /// One run per client configuration, in the scenario's order.
    pub clients: Vec<ClientRun>,
    /// Polls made by the event loop, all configurations together.
    pub polls: u64,
}

impl ScenarioRun {
    /// Every number of every configuration, as text (see
    /// [`ClientRun::fingerprint`]).
    pub fn fingerprint(&self) -> String {
        self.clients.iter().map(ClientRun::fingerprint).collect()
    }
}

/// Runs every client configuration of `scenario` with `seed`.
/// `progress` is told the share done, in `[0, 1]`, as simulated time passes.
pub fn run_scenario(scenario: &Scenario, seed: u64, mut progress: impl FnMut(f64)) -> ScenarioRun {
    let n = scenario.clients.len() as f64;
    let mut polls = 0;
    let clients = scenario
        .clients
        .iter()
        .enumerate()
        .map(|(i, client)| {
            let (run, p) = run_client(scenario, client, seed, &mut |done| {
                progress((i as f64 + done) / n);
            });
            polls += p;
            run
        })
        .collect();
    progress(1.0);
    ScenarioRun {
        scenario: scenario.clone(),
        seed,
        clients,
        polls,
    }
}

/// Runs one client configuration against `scenario`'s world; returns the
/// run and the polls it took.
///
/// # Panics
///
/// Never for a loaded scenario: its client settings were checked by the
/// same builders when it was parsed. A hand-made invalid [`ClientSpec`]
/// ends the run with no requests (a zero summary) instead.
pub fn run_client(
    scenario: &Scenario,
    client: &ClientSpec,
    seed: u64,
    progress: &mut dyn FnMut(f64),
) -> (ClientRun, u64) {
    let clock = ManualClock::new();
    let mut executor = Executor::new(clock.clone());
    let recorder = Rc::new(RefCell::new(Recorder::new(
        scenario.duration,
        scenario.bucket,
    )));
    let backend = Backend::new(
        scenario.downstream.clone(),
        Faults::new(scenario.faults.clone()),
        clock.clone(),
        executor.spawner(),
        Rc::clone(&recorder),
        Rng::new(seed, stream::BACKEND),
    );
    let stack = Stack::new(client, &clock, seed ^ stream::CLIENT);
    let started = match (stack, &scenario.mid_tier) {
        (Err(_), _) => false,
        (Ok(stack), None) => {
            spawn_workload(&executor, &clock, scenario, seed, stack, backend, &recorder);
            true
        }
        (Ok(stack), Some(mid)) => match Stack::new(client, &clock, seed ^ stream::MID_STACK) {
            Ok(mid_stack) => {
                let tier = MidTier::new(
                    mid.latency,
                    clock.clone(),
                    mid_stack,
                    backend,
                    Rng::new(seed, stream::MID_TIER),
                );
                spawn_workload(&executor, &clock, scenario, seed, stack, tier, &recorder);
                true
            }
            Err(_) => false,
        },
    };
    let horizon = scenario.duration.as_secs_f64();
    let stats = if started {
        executor.run_until(Instant::ZERO + scenario.duration + DRAIN, |now| {
            progress((now.since_origin().as_secs_f64() / horizon).min(1.0));
        })
    } else {
        executor.run_until(Instant::ZERO, |_| {})
    };
    let recorder = Rc::try_unwrap(recorder)
        .map(RefCell::into_inner)
        .unwrap_or_else(|shared| shared.borrow().clone());
    let run = recorder.finish(
        &client.name,
        scenario.duration,
        &scenario.fault_windows(),
        stats.unfinished,
    );
    (run, stats.polls)
}

/// Spawns the arrival process: Poisson arrivals at the workload's rate,
/// each a request task through `stack` to `target`.
fn spawn_workload<S: Service + 'static>(
    executor: &Executor,
    clock: &ManualClock,
    scenario: &Scenario,
    seed: u64,
    stack: Stack,
    target: S,
    recorder: &Rc<RefCell<Recorder>>,
) {
    let spawner = executor.spawner();
    let clock = clock.clone();
    let workload = scenario.workload.clone();
    let duration = scenario.duration;
    let shared = Rc::new((stack, target));
    let recorder = Rc::clone(recorder);
    executor.spawner().spawn(async move {
        let mut rng = Rng::new(seed, stream::WORKLOAD);
        loop {
            let now = clock.now().since_origin();
            let Some((gap, arrival)) = next_gap(&workload, now, &mut rng) else {
                break;
            };
            if now + gap >= duration {
                break;
            }
            clock.sleep(gap).await;
            if !arrival {
                continue;
            }
            if let Some(priority) = pick(&workload, &mut rng) {
                spawn_request(&spawner, &clock, &shared, &recorder, priority);
            }
        }
    });
}

/// The wait until the next event of the arrival process, and whether it
/// is an arrival: when the rate changes before the next draw would land,
/// the wait ends at the change and is redrawn at the new rate (Poisson
/// arrivals are memoryless, so that is exact). `None` when no request will
/// ever arrive again.
fn next_gap(workload: &Workload, now: Duration, rng: &mut Rng) -> Option<(Duration, bool)> {
    let rate = workload.rate_at(now);
    let next_phase = workload
        .phases
        .iter()
        .map(|&(at, _)| at)
        .find(|&at| at > now);
    let gap = (rate > 0.0).then(|| Duration::from_secs_f64(rng.exponential(1.0 / rate)));
    match (gap, next_phase) {
        (Some(gap), Some(at)) if now + gap > at => Some((at - now, false)),
        (Some(gap), _) => Some((gap.max(Duration::from_nanos(1)), true)),
        (None, Some(at)) => Some((at - now, false)),
        (None, None) => None,
    }
}

/// The priority of one arrival, drawn from the mix.
fn pick(workload: &Workload, rng: &mut Rng) -> Option<Priority> {
    let total: f64 = workload.mix.iter().sum();
    let mut x = rng.unit() * total;
    for p in Priority::ALL {
        let w = workload.mix[p.index()];
        if x < w {
            return Some(p);
        }
        x -= w;
    }
    Priority::ALL
        .into_iter()
        .rev()
        .find(|p| workload.mix[p.index()] > 0.0)
}

fn spawn_request<S: Service + 'static>(
    spawner: &Spawner,
    clock: &ManualClock,
    shared: &Rc<(Stack, S)>,
    recorder: &Rc<RefCell<Recorder>>,
    priority: Priority,
) {
    let (clock, shared, recorder) = (clock.clone(), Rc::clone(shared), Rc::clone(recorder));
    spawner.spawn(async move {
        let arrived = clock.now();
        let (stack, target) = &*shared;
        let result = stack.call(priority, target).await;
        recorder
            .borrow_mut()
            .request(arrived, clock.now(), priority, &result);
    });
}
