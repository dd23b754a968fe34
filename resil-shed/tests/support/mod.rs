//! A deterministic closed-loop server for the limits' convergence tests.
//!
//! The client keeps `limit` calls in flight (as many as the limit allows,
//! topping up after every completion); the server has a fixed capacity C:
//! a call that starts with `n` calls in flight (itself included) takes
//! `base × max(1, n / C)` (processor sharing beyond capacity), and fails if
//! `n > 2C` (the server sheds what it cannot queue). Time is virtual: plain
//! nanoseconds, advanced from one completion to the next.

#![allow(dead_code, reason = "each test binary uses a part")]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use resil_core::{Instant, Outcome, SplitMix64};
use resil_shed::{Aimd, Gradient2, Limit, Sample, Vegas};

/// A latency-based limit that may be halved for a probe round.
pub(crate) trait Probing: Limit {
    fn probing(&self) -> bool;
}

impl Probing for Aimd {
    fn probing(&self) -> bool {
        false
    }
}

impl Probing for Gradient2 {
    fn probing(&self) -> bool {
        self.is_probing()
    }
}

impl Probing for Vegas {
    fn probing(&self) -> bool {
        self.is_probing()
    }
}

/// A borrowed limit, so that its state can be inspected after a run.
impl<L: Probing> Probing for &mut L {
    fn probing(&self) -> bool {
        (**self).probing()
    }
}

/// The server's behaviour from some sample on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Server {
    /// Latency at or below capacity, in nanoseconds.
    pub(crate) base: u64,
    /// Calls served at once without queueing.
    pub(crate) capacity: u32,
    /// Each latency is multiplied by `1 + noise × u`, `u` uniform in
    /// `[0, 1)` from a fixed SplitMix64 sequence: 0 for none.
    pub(crate) noise: f64,
}

impl Server {
    pub(crate) const fn new(base: Duration, capacity: u32) -> Self {
        Server {
            base: base.as_nanos() as u64,
            capacity,
            noise: 0.0,
        }
    }

    /// The same server, with latencies spread by up to `noise` × themselves.
    pub(crate) const fn noisy(self, noise: f64) -> Self {
        Server { noise, ..self }
    }

    fn serve(&self, n: u32, rng: &mut SplitMix64) -> (u64, Outcome) {
        let mut latency = self.base * u64::from(n.max(self.capacity)) / u64::from(self.capacity);
        if self.noise > 0.0 {
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            latency = (latency as f64 * (1.0 + self.noise * u)) as u64;
        }
        let outcome = if n > 2 * self.capacity {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        (latency, outcome)
    }
}

/// The limit after each sample, and whether it was probing.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    pub(crate) limits: Vec<u32>,
    pub(crate) probing: Vec<bool>,
    /// When each sample ended, in nanoseconds.
    pub(crate) ends: Vec<u64>,
}

impl Trace {
    /// Calls completed per second of virtual time from sample `from` on.
    pub(crate) fn throughput(&self, from: usize) -> f64 {
        let elapsed = self.ends[self.ends.len() - 1] - self.ends[from];
        (self.ends.len() - 1 - from) as f64 / (elapsed as f64 / 1e9)
    }

    /// The lowest and highest limit from sample `from` on, outside probes.
    pub(crate) fn band(&self, from: usize) -> (u32, u32) {
        self.band_between(from, self.limits.len())
    }

    /// The lowest and highest limit of samples `from..to`, outside probes.
    pub(crate) fn band_between(&self, from: usize, to: usize) -> (u32, u32) {
        let outside = self.limits[from..to]
            .iter()
            .zip(&self.probing[from..to])
            .filter(|(_, probing)| !**probing)
            .map(|(limit, _)| *limit);
        let lo = outside.clone().min().unwrap();
        let hi = outside.max().unwrap();
        (lo, hi)
    }

    /// The lowest and highest limit from sample `from` on, during probes.
    pub(crate) fn probe_band(&self, from: usize) -> Option<(u32, u32)> {
        let during = self.limits[from..]
            .iter()
            .zip(&self.probing[from..])
            .filter(|(_, probing)| **probing)
            .map(|(limit, _)| *limit);
        Some((during.clone().min()?, during.max()?))
    }

    /// The share of samples from `from` on taken during probes.
    pub(crate) fn probe_share(&self, from: usize) -> f64 {
        let n = self.probing[from..].iter().filter(|p| **p).count();
        n as f64 / (self.probing.len() - from) as f64
    }

    /// The first sample after which the limit stays in `[lo, hi]` outside
    /// probes, and at most half of `hi` during them (a probe may go lower
    /// than half: see `Gradient2::is_probing`).
    pub(crate) fn settled(&self, lo: u32, hi: u32) -> usize {
        let inside = |i: usize| {
            let limit = self.limits[i];
            if self.probing[i] {
                2 * limit <= hi
            } else {
                (lo..=hi).contains(&limit)
            }
        };
        (0..self.limits.len())
            .rev()
            .find(|&i| !inside(i))
            .map_or(0, |i| i + 1)
    }
}

/// Runs `limit` against `server` for `samples` completions; from sample
/// `at`, if given, the server becomes `then`.
pub(crate) fn run<L: Probing>(
    mut limit: L,
    server: Server,
    samples: usize,
    change: Option<(usize, Server)>,
) -> Trace {
    let mut server = server;
    let mut now = 0u64;
    let mut in_flight = 0u32;
    let mut seq = 0u64;
    // (end, seq, start, in flight at start, outcome as u8)
    let mut calls = BinaryHeap::new();
    let mut trace = Trace {
        limits: Vec::with_capacity(samples),
        probing: Vec::with_capacity(samples),
        ends: Vec::with_capacity(samples),
    };
    let mut rng = SplitMix64::new(7);
    let mut launch = |now: u64, in_flight: &mut u32, server: &Server, calls: &mut BinaryHeap<_>| {
        *in_flight += 1;
        let (latency, outcome) = server.serve(*in_flight, &mut rng);
        calls.push(Reverse((
            now + latency,
            seq,
            now,
            *in_flight,
            outcome == Outcome::Failure,
        )));
        seq += 1;
    };
    while in_flight < limit.limit() {
        launch(now, &mut in_flight, &server, &mut calls);
    }
    for i in 0..samples {
        if let Some((from, then)) = change {
            if i == from {
                server = then;
            }
        }
        let Reverse((end, _, start, n, failed)) = calls.pop().expect("calls in flight");
        now = end;
        in_flight -= 1;
        let outcome = if failed {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        let sample = Sample::new(
            Duration::from_nanos(end - start),
            n,
            outcome,
            Instant::from_nanos(end),
        );
        let current = limit.update(&sample);
        trace.limits.push(current);
        trace.probing.push(limit.probing());
        trace.ends.push(end);
        while in_flight < current {
            launch(now, &mut in_flight, &server, &mut calls);
        }
    }
    trace
}
