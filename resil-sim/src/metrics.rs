//! What a run measured: counts per time bucket while it runs, and the
//! summary the tables and tests read afterwards.
//!
//! Why bucket by *arrival* time? A request belongs to the moment the user
//! made it: "what share of the requests made during the outage succeeded"
//! is the question, whatever time their retries finished. Attempts reaching
//! the downstream are bucketed by when they reach it, which is the load the
//! downstream feels.

use core::fmt::Write as _;
use core::time::Duration;

use resil_core::Instant;
use resil_shed::Priority;

use crate::stack::Failure;

/// A success rate counts as recovered at this share of the pre-fault rate.
pub const RECOVERED: f64 = 0.95;

/// Buckets in a row that must meet [`RECOVERED`].
const RECOVERED_BUCKETS: usize = 3;

/// Counts per bucket, filled while a run goes.
#[derive(Clone, Debug)]
pub struct Recorder {
    bucket: Duration,
    /// Requests per bucket and priority.
    requests: Vec<[u64; 4]>,
    /// Successes per bucket and priority.
    successes: Vec<[u64; 4]>,
    /// Requests refused by the client itself (shed, breaker, throttle).
    local: Vec<u64>,
    /// Attempts reaching the downstream per bucket.
    attempts: Vec<u64>,
    /// Attempts after the last bucket (the drain).
    late_attempts: u64,
    /// Latencies of successes (nanoseconds), per arrival bucket.
    latencies: Vec<Vec<u64>>,
}

impl Recorder {
    /// A recorder for a run of `duration` in buckets of `bucket`.
    pub fn new(duration: Duration, bucket: Duration) -> Self {
        let n = duration.as_nanos().div_ceil(bucket.as_nanos().max(1)) as usize;
        Recorder {
            bucket,
            requests: vec![[0; 4]; n],
            successes: vec![[0; 4]; n],
            local: vec![0; n],
            attempts: vec![0; n],
            late_attempts: 0,
            latencies: vec![Vec::new(); n],
        }
    }

    fn index(&self, at: Instant) -> usize {
        (at.as_nanos() / self.bucket.as_nanos().max(1) as u64) as usize
    }

    /// An attempt reached the downstream at `at`.
    pub fn attempt(&mut self, at: Instant) {
        let i = self.index(at);
        match self.attempts.get_mut(i) {
            Some(count) => *count += 1,
            None => self.late_attempts += 1,
        }
    }

    /// A request made at `arrived` ended at `ended` with `result`.
    pub fn request(
        &mut self,
        arrived: Instant,
        ended: Instant,
        priority: Priority,
        result: &Result<(), Failure>,
    ) {
        let i = self.index(arrived);
        let p = priority.index();
        let Some(requests) = self.requests.get_mut(i) else {
            return;
        };
        requests[p] += 1;
        match result {
            Ok(()) => {
                self.successes[i][p] += 1;
                self.latencies[i].push((ended - arrived).as_nanos() as u64);
            }
            Err(failure) if failure.is_local() => self.local[i] += 1,
            Err(_) => {}
        }
    }

    /// The summary and series, for a client named `client`, over a run whose
    /// faults span `faults` (merged windows).
    pub fn finish(
        self,
        client: &str,
        duration: Duration,
        faults: &[(Duration, Duration)],
        unfinished: u64,
    ) -> ClientRun {
        let b = self.bucket;
        let n = self.requests.len();
        let total = |v: &[[u64; 4]], p: usize| v.iter().map(|c| c[p]).sum::<u64>();
        let requests: u64 = (0..4).map(|p| total(&self.requests, p)).sum();
        let successes: u64 = (0..4).map(|p| total(&self.successes, p)).sum();
        let attempts = self.attempts.iter().sum::<u64>() + self.late_attempts;
        let by_priority = Priority::ALL
            .into_iter()
            .filter(|p| total(&self.requests, p.index()) > 0)
            .map(|p| PriorityCount {
                priority: p,
                requests: total(&self.requests, p.index()),
                successes: total(&self.successes, p.index()),
            })
            .collect();
        let in_fault = |i: usize| {
            let start = b * i as u32;
            faults.iter().any(|&(s, e)| start >= s && start < e)
        };
        let (fault_requests, fault_successes, fault_attempts) =
            (0..n).filter(|&i| in_fault(i)).fold((0, 0, 0), |acc, i| {
                (
                    acc.0 + self.requests[i].iter().sum::<u64>(),
                    acc.1 + self.successes[i].iter().sum::<u64>(),
                    acc.2 + self.attempts[i],
                )
            });
        let mut all: Vec<u64> = self.latencies.iter().flatten().copied().collect();
        all.sort_unstable();
        let series_latency: Vec<(Option<Duration>, Option<Duration>)> = self
            .latencies
            .iter()
            .map(|l| {
                let mut l = l.clone();
                l.sort_unstable();
                (percentile(&l, 0.50), percentile(&l, 0.99))
            })
            .collect();
        let rate = |i: usize| {
            let r: u64 = self.requests[i].iter().sum();
            (r > 0).then(|| self.successes[i].iter().sum::<u64>() as f64 / r as f64)
        };
        let recovery = recovery(b, n, faults, &rate);
        let series = Series {
            bucket: b,
            requests: self.requests.iter().map(|c| c.iter().sum()).collect(),
            requests_by_priority: self.requests,
            successes_by_priority: self.successes,
            local: self.local,
            attempts: self.attempts,
            latency: series_latency,
        };
        ClientRun {
            summary: Summary {
                client: client.to_owned(),
                requests,
                successes,
                by_priority,
                goodput: successes as f64 / duration.as_secs_f64(),
                attempts,
                fault: (fault_requests > 0).then_some(FaultWindow {
                    requests: fault_requests,
                    successes: fault_successes,
                    attempts: fault_attempts,
                }),
                p50: percentile(&all, 0.50),
                p99: percentile(&all, 0.99),
                p999: percentile(&all, 0.999),
                recovery,
                unfinished,
            },
            series,
        }
    }
}

/// The `q` quantile of sorted nanoseconds (nearest rank).
fn percentile(sorted: &[u64], q: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(Duration::from_nanos(sorted[rank - 1]))
}

/// Time from the end of the last fault until the success rate is back to
/// [`RECOVERED`] of its pre-fault value for [`RECOVERED_BUCKETS`] buckets.
fn recovery(
    bucket: Duration,
    n: usize,
    faults: &[(Duration, Duration)],
    rate: &dyn Fn(usize) -> Option<f64>,
) -> Recovery {
    let (Some(first), Some(last)) = (faults.first(), faults.last()) else {
        return Recovery::NoFault;
    };
    let before = (first.0.as_nanos() / bucket.as_nanos().max(1)) as usize;
    let rates: Vec<f64> = (0..before.min(n)).filter_map(rate).collect();
    let baseline = if rates.is_empty() {
        1.0
    } else {
        rates.iter().sum::<f64>() / rates.len() as f64
    };
    let target = RECOVERED * baseline;
    let from = last.1.as_nanos().div_ceil(bucket.as_nanos().max(1)) as usize;
    for start in from..n {
        let end = (start + RECOVERED_BUCKETS).min(n);
        if (start..end).all(|i| rate(i).is_none_or(|r| r >= target)) {
            return Recovery::After(bucket * start as u32 - last.1);
        }
    }
    Recovery::Never
}

/// How long the success rate took to come back after the faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// The scenario has no fault.
    NoFault,
    /// Recovered this long after the last fault ended (bucket resolution).
    After(Duration),
    /// Not recovered by the end of the run.
    Never,
}

/// One priority's counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriorityCount {
    /// The priority.
    pub priority: Priority,
    /// Requests made.
    pub requests: u64,
    /// Requests that succeeded.
    pub successes: u64,
}

impl PriorityCount {
    /// Successes ÷ requests.
    pub fn success_rate(&self) -> f64 {
        ratio(self.successes, self.requests)
    }
}

/// Counts over the requests made while a fault was active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultWindow {
    /// Requests made during faults.
    pub requests: u64,
    /// Of which succeeded.
    pub successes: u64,
    /// Attempts reaching the downstream during faults.
    pub attempts: u64,
}

impl FaultWindow {
    /// Attempts ÷ requests during the faults.
    pub fn amplification(&self) -> f64 {
        ratio(self.attempts, self.requests)
    }

    /// Successes ÷ requests during the faults.
    pub fn success_rate(&self) -> f64 {
        ratio(self.successes, self.requests)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The headline numbers of one client configuration in one scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The configuration's name.
    pub client: String,
    /// Requests made.
    pub requests: u64,
    /// Requests that succeeded.
    pub successes: u64,
    /// Per priority, most critical first (only those that occur).
    pub by_priority: Vec<PriorityCount>,
    /// Successes per second of the run.
    pub goodput: f64,
    /// Attempts that reached the downstream.
    pub attempts: u64,
    /// Counts while faults were active, if there were any.
    pub fault: Option<FaultWindow>,
    /// Latency of successful requests (arrival to answer, retries
    /// included): median.
    pub p50: Option<Duration>,
    /// 99th percentile.
    pub p99: Option<Duration>,
    /// 99.9th percentile.
    pub p999: Option<Duration>,
    /// Time to recover after the last fault.
    pub recovery: Recovery,
    /// Tasks still running when the run was cut off (0 normally).
    pub unfinished: u64,
}

impl Summary {
    /// Successes ÷ requests.
    pub fn success_rate(&self) -> f64 {
        ratio(self.successes, self.requests)
    }

    /// Attempts reaching the downstream ÷ requests, over the whole run.
    pub fn amplification(&self) -> f64 {
        ratio(self.attempts, self.requests)
    }

    /// The success rate of `priority`'s requests, if there were any.
    pub fn success_rate_of(&self, priority: Priority) -> Option<f64> {
        self.by_priority
            .iter()
            .find(|c| c.priority == priority)
            .map(PriorityCount::success_rate)
    }
}

/// Time series, one value per bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The bucket width.
    pub bucket: Duration,
    /// Requests made.
    pub requests: Vec<u64>,
    /// Requests made, per priority.
    pub requests_by_priority: Vec<[u64; 4]>,
    /// Successes, per priority.
    pub successes_by_priority: Vec<[u64; 4]>,
    /// Requests refused locally.
    pub local: Vec<u64>,
    /// Attempts reaching the downstream.
    pub attempts: Vec<u64>,
    /// Median and 99th percentile latency of the bucket's successes.
    pub latency: Vec<(Option<Duration>, Option<Duration>)>,
}

impl Series {
    /// The success rate of bucket `i` for `priority` (all when `None`).
    pub fn success_rate(&self, i: usize, priority: Option<Priority>) -> Option<f64> {
        let (r, s) = match priority {
            Some(p) => (
                self.requests_by_priority[i][p.index()],
                self.successes_by_priority[i][p.index()],
            ),
            None => (
                self.requests_by_priority[i].iter().sum(),
                self.successes_by_priority[i].iter().sum(),
            ),
        };
        (r > 0).then(|| s as f64 / r as f64)
    }
}

/// One client configuration's run.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientRun {
    /// The headline numbers.
    pub summary: Summary,
    /// Over time.
    pub series: Series,
}

impl ClientRun {
    /// Every number of the run as text, in a fixed order: what determinism
    /// is checked on, byte for byte.
    pub fn fingerprint(&self) -> String {
        let mut out = format!("{:?}\n", self.summary);
        let s = &self.series;
        for i in 0..s.requests.len() {
            let _ = writeln!(
                out,
                "{i} {:?} {:?} {} {} {:?}",
                s.requests_by_priority[i],
                s.successes_by_priority[i],
                s.local[i],
                s.attempts[i],
                s.latency[i]
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&v, 0.5), Some(Duration::from_nanos(500)));
        assert_eq!(percentile(&v, 0.99), Some(Duration::from_nanos(990)));
        assert_eq!(percentile(&v, 0.999), Some(Duration::from_nanos(999)));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn recovery_waits_for_three_good_buckets() {
        let rates = [1.0, 1.0, 0.0, 0.0, 0.5, 1.0, 0.2, 1.0, 1.0, 1.0, 1.0];
        let rate = |i: usize| rates.get(i).copied();
        let s = Duration::from_secs(1);
        let r = recovery(s, rates.len(), &[(2 * s, 4 * s)], &rate);
        assert_eq!(r, Recovery::After(3 * s));
        let never = |i: usize| Some(if i < 2 { 1.0 } else { 0.0 });
        assert_eq!(recovery(s, 10, &[(2 * s, 4 * s)], &never), Recovery::Never);
        assert_eq!(recovery(s, 10, &[], &never), Recovery::NoFault);
    }
}
