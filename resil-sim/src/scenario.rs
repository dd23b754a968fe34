//! Scenarios as data: what a TOML file may say, and its validation.
//!
//! Why TOML and not code? A user should describe *their* system — rates,
//! capacity, latencies, the fault they fear, the client configurations
//! they are choosing between — without writing Rust, and the built-in
//! scenarios double as examples of the format. Every value is checked when
//! the file is loaded, and an error names the field (`clients[2].retry.
//! backoff.base: …`), so a typo never surfaces as a strange result.
//!
//! The file format, with every field, is documented on [`Scenario`]; the
//! built-in scenarios in `resil-sim/scenarios/` use most of it.

mod raw;

use core::time::Duration;
use std::fmt;

use resil_breaker::SlidingWindow;
use resil_core::Backoff;
use resil_shed::Priority;

use crate::dist::Latency;
use crate::error::ScenarioError;

/// A scenario: one system, its faults, and the client configurations to
/// compare on it.
///
/// # The file format
///
/// Durations are strings with a unit: `"250ms"`, `"1.5s"`, `"2m"`.
///
/// ```toml
/// name = "outage"                  # required
/// description = "..."              # optional, shown in the report
/// duration = "120s"                # how long clients send requests
/// seed = 1                         # default 1; `--seed` overrides
/// bucket = "1s"                    # time-series resolution (default 1s)
///
/// [workload]
/// rate = 200.0                     # requests per second (open loop, Poisson)
/// phases = [{ at = "60s", rate = 400.0 }]   # later rate changes
/// mix = { critical = 0.5, sheddable = 0.5 } # priority weights (default: all critical)
///
/// [downstream]
/// concurrency = 40                 # requests served at once
/// queue = 200                      # requests waiting for a slot; beyond: rejected
/// latency = { kind = "lognormal", median = "20ms", p99 = "80ms" }
///                                  # or { kind = "exponential", mean = "20ms" },
///                                  # or { kind = "constant", value = "20ms" }
/// error_latency = "2ms"            # how fast a refusal (outage, full queue) returns
///
/// [mid_tier]                       # optional: client -> mid-tier -> downstream,
/// latency = { kind = "constant", value = "1ms" } # the mid-tier runs the same client stack
///
/// [[faults]]
/// kind = "outage"                  # outage | brownout | latency | capacity
/// start = "30s"
/// end = "60s"
/// error_rate = 0.5                 # brownout: the share of calls that fail
/// factor = 10.0                    # latency: multiplier; capacity: share of concurrency left
///
/// [[clients]]
/// name = "budgeted retries"
/// timeout = "1s"                   # per attempt (default 1s)
/// retry = { attempts = 3, backoff = { kind = "exponential", base = "50ms", factor = 2.0, max = "1s", jitter = "full" },
///           deadline = "5s", budget = { kind = "ratio", ratio = 0.1, min_per_second = 5, window = "10s" } }
///                                  # budget kind = "token_bucket": max_tokens, ratio
/// breaker = { failure_rate = 0.5, window = 100, minimum_calls = 20, wait = "5s", half_open_permits = 5 }
///                                  # or window_time = "10s" (10 buckets) for a time window
/// shed = { limit = { kind = "aimd", initial = 40, min = 4, max = 200, timeout = "500ms" },
///          reserve = { critical = 0.5 }, max_queue = 100, max_wait = "200ms" }
///                                  # limit kinds: fixed (limit), aimd, gradient2, vegas (initial, min, max)
/// throttle = { k = 2.0, window = "60s" }   # the SRE client-side throttle
/// ```
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Its name (report section, file names).
    pub name: String,
    /// What it shows, for the report.
    pub description: String,
    /// How long clients send requests.
    pub duration: Duration,
    /// The seed of every random draw.
    pub seed: u64,
    /// The time series' resolution.
    pub bucket: Duration,
    /// The client workload.
    pub workload: Workload,
    /// The service at the bottom.
    pub downstream: Downstream,
    /// An optional tier between the clients and the downstream.
    pub mid_tier: Option<MidTier>,
    /// The fault timeline.
    pub faults: Vec<Fault>,
    /// The client configurations compared.
    pub clients: Vec<ClientSpec>,
}

/// An open-loop workload: Poisson arrivals at a rate that may change.
#[derive(Clone, Debug)]
pub struct Workload {
    /// `(from, requests per second)`, sorted, the first at zero.
    pub phases: Vec<(Duration, f64)>,
    /// Relative weight of each [`Priority`], most critical first.
    pub mix: [f64; 4],
}

impl Workload {
    /// The arrival rate at `t`.
    pub fn rate_at(&self, t: Duration) -> f64 {
        self.phases
            .iter()
            .rev()
            .find(|(from, _)| *from <= t)
            .map_or(0.0, |&(_, rate)| rate)
    }

    /// The priorities that occur, most critical first.
    pub fn priorities(&self) -> Vec<Priority> {
        Priority::ALL
            .into_iter()
            .filter(|p| self.mix[p.index()] > 0.0)
            .collect()
    }
}

/// The downstream service: a pool of workers and a bounded queue.
#[derive(Clone, Debug)]
pub struct Downstream {
    /// Requests served at once.
    pub concurrency: u32,
    /// Requests that may wait for a worker.
    pub queue: u32,
    /// Service time.
    pub latency: Latency,
    /// How long a refusal takes to come back.
    pub error_latency: Duration,
}

/// A mid-tier between client and downstream, running the same client stack
/// towards the downstream as the client runs towards it.
#[derive(Clone, Debug)]
pub struct MidTier {
    /// Its own processing time per request.
    pub latency: Latency,
}

/// One fault on the timeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fault {
    /// What goes wrong.
    pub kind: FaultKind,
    /// When it starts.
    pub start: Duration,
    /// When it ends (the recovery).
    pub end: Duration,
}

/// What goes wrong during a fault.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultKind {
    /// Every call is refused at once.
    Outage,
    /// This share of calls fail (after their service time).
    Brownout {
        /// In `[0, 1]`.
        error_rate: f64,
    },
    /// Service times are multiplied.
    Latency {
        /// At least 1.
        factor: f64,
    },
    /// Only this share of the workers is left (overload).
    Capacity {
        /// In `(0, 1]`.
        factor: f64,
    },
}

impl FaultKind {
    /// A short label for tables.
    pub fn label(&self) -> String {
        match *self {
            FaultKind::Outage => "outage".to_owned(),
            FaultKind::Brownout { error_rate } => {
                format!("brownout ({:.0}% errors)", error_rate * 100.0)
            }
            FaultKind::Latency { factor } => format!("latency ×{factor}"),
            FaultKind::Capacity { factor } => {
                format!("capacity {:.0}%", factor * 100.0)
            }
        }
    }
}

/// One client configuration: which techniques, configured how.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    /// Its name in tables and charts.
    pub name: String,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Retries, if any.
    pub retry: Option<RetrySpec>,
    /// A circuit breaker, if any.
    pub breaker: Option<BreakerSpec>,
    /// A priority concurrency limit, if any.
    pub shed: Option<ShedSpec>,
    /// The SRE client-side throttle, if any.
    pub throttle: Option<ThrottleSpec>,
}

/// Retry settings.
#[derive(Clone, Debug)]
pub struct RetrySpec {
    /// Attempts in total, the first included.
    pub attempts: u32,
    /// The delays between attempts.
    pub backoff: Backoff,
    /// A deadline for the whole call.
    pub deadline: Option<Duration>,
    /// A retry budget shared by all calls of the client.
    pub budget: BudgetSpec,
}

/// A retry budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BudgetSpec {
    /// Every retry the policy allows.
    None,
    /// `resil_retry::RatioBudget`.
    Ratio {
        /// Retries per request.
        ratio: f64,
        /// Retries per second always allowed.
        min_per_second: u32,
        /// The window.
        window: Duration,
    },
    /// `resil_retry::TokenBucket`.
    TokenBucket {
        /// Tokens.
        max_tokens: u32,
        /// Refill per success.
        ratio: f64,
    },
}

/// Circuit breaker settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerSpec {
    /// Failure rate that trips it.
    pub failure_rate: f64,
    /// The sliding window.
    pub window: SlidingWindow,
    /// Calls needed before the rate counts.
    pub minimum_calls: u32,
    /// Time spent open.
    pub wait: Duration,
    /// Trial calls when half open.
    pub half_open_permits: u32,
}

/// Concurrency limit settings.
#[derive(Clone, Debug)]
pub struct ShedSpec {
    /// The limit algorithm.
    pub limit: LimitSpec,
    /// Reserved shares per priority.
    pub reserves: Vec<(Priority, f64)>,
    /// Waiters allowed.
    pub max_queue: u32,
    /// Longest wait.
    pub max_wait: Duration,
}

/// A limit algorithm and its bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LimitSpec {
    /// `resil_shed::Fixed`.
    Fixed(u32),
    /// `resil_shed::Aimd`.
    Aimd {
        /// Start, floor, ceiling.
        bounds: [u32; 3],
        /// Latency that counts as a drop.
        timeout: Option<Duration>,
    },
    /// `resil_shed::Gradient2`.
    Gradient2 {
        /// Start, floor, ceiling.
        bounds: [u32; 3],
    },
    /// `resil_shed::Vegas`.
    Vegas {
        /// Start, floor, ceiling.
        bounds: [u32; 3],
    },
}

/// The SRE client-side throttle's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThrottleSpec {
    /// Requests allowed per accept.
    pub k: f64,
    /// The window.
    pub window: Duration,
}

impl Scenario {
    /// Parses and validates a scenario from TOML text.
    ///
    /// # Errors
    ///
    /// [`ScenarioError`] naming the field that is missing, unknown, of the
    /// wrong type or out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_sim::Scenario;
    ///
    /// let err = Scenario::from_toml(r#"
    ///     name = "x"
    ///     duration = "10s"
    ///     [workload]
    ///     rate = -5.0
    ///     [downstream]
    ///     concurrency = 10
    ///     latency = { kind = "constant", value = "10ms" }
    ///     [[clients]]
    ///     name = "plain"
    /// "#).unwrap_err();
    /// assert!(err.to_string().starts_with("workload.rate:"), "{err}");
    /// ```
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let file: raw::File =
            toml::from_str(text).map_err(|e| ScenarioError::parse(e.to_string()))?;
        file.validate()
    }

    /// The time from which the last fault is over (zero without faults).
    pub fn recovery_start(&self) -> Option<Duration> {
        self.faults.iter().map(|f| f.end).max()
    }

    /// The fault windows, merged: `(start, end)` in order.
    pub fn fault_windows(&self) -> Vec<(Duration, Duration)> {
        let mut windows: Vec<(Duration, Duration)> =
            self.faults.iter().map(|f| (f.start, f.end)).collect();
        windows.sort();
        let mut merged: Vec<(Duration, Duration)> = Vec::new();
        for (start, end) in windows {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }
}

/// Formats a duration the way scenario files write them.
#[derive(Clone, Copy, Debug)]
pub struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.is_zero() {
            write!(f, "0s")
        } else if d >= Duration::from_secs(1) {
            let secs = d.as_secs_f64();
            if (secs - secs.round()).abs() < 1e-9 {
                write!(f, "{}s", secs.round())
            } else {
                write!(f, "{secs:.2}s")
            }
        } else if d >= Duration::from_millis(1) {
            let ms = d.as_secs_f64() * 1e3;
            if (ms - ms.round()).abs() < 1e-6 {
                write!(f, "{}ms", ms.round())
            } else {
                write!(f, "{ms:.1}ms")
            }
        } else {
            write!(f, "{}µs", d.as_micros())
        }
    }
}
