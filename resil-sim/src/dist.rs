//! Seeded random draws: latencies, coin flips, choices.
//!
//! Why our own few lines over `rand_distr`? Every draw must be the same on
//! every platform for a seed (determinism is tested byte for byte), the
//! simulator needs three distributions, and `resil_core::SplitMix64` is
//! already the workspace's portable generator.

use core::time::Duration;

use resil_core::SplitMix64;

/// A seeded source of the draws a simulation makes.
#[derive(Clone, Debug)]
pub struct Rng(SplitMix64);

impl Rng {
    /// A generator for `seed`; `stream` separates independent users of one
    /// seed (the workload, each downstream, each client), so adding draws in
    /// one model never shifts another's.
    pub fn new(seed: u64, stream: u64) -> Self {
        Rng(SplitMix64::new(SplitMix64::mix(
            seed ^ SplitMix64::mix(stream.wrapping_add(1)),
        )))
    }

    /// The next raw 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Exponential with the given mean (seconds), by inversion.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// A standard normal draw (Box–Muller; one of the pair is discarded so
    /// that every call consumes exactly two draws).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (core::f64::consts::TAU * u2).cos()
    }
}

/// A latency distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    /// Always the same.
    Constant(Duration),
    /// Exponential with this mean (memoryless service: an M/M/c server).
    Exponential(Duration),
    /// Log-normal with this median and 99th percentile: the long right tail
    /// real services have.
    LogNormal {
        /// The median.
        median: Duration,
        /// The 99th percentile (at least the median).
        p99: Duration,
    },
}

/// z such that P(Z < z) = 0.99 for a standard normal Z.
const Z99: f64 = 2.326_347_874;

impl Latency {
    /// One draw, scaled by `factor` (a latency spike).
    pub fn sample(&self, rng: &mut Rng, factor: f64) -> Duration {
        let secs = match *self {
            Latency::Constant(d) => d.as_secs_f64(),
            Latency::Exponential(mean) => rng.exponential(mean.as_secs_f64()),
            Latency::LogNormal { median, p99 } => {
                let mu = median.as_secs_f64().max(1e-9).ln();
                let sigma = (p99.as_secs_f64().max(1e-9).ln() - mu).max(0.0) / Z99;
                (mu + sigma * rng.normal()).exp()
            }
        };
        Duration::from_secs_f64((secs * factor).clamp(0.0, 86_400.0))
    }

    /// The distribution's mean, for capacity arithmetic.
    pub fn mean(&self) -> Duration {
        match *self {
            Latency::Constant(d) | Latency::Exponential(d) => d,
            Latency::LogNormal { median, p99 } => {
                let sigma = (p99.as_secs_f64().max(1e-9) / median.as_secs_f64().max(1e-9))
                    .ln()
                    .max(0.0)
                    / Z99;
                Duration::from_secs_f64(median.as_secs_f64() * (sigma * sigma / 2.0).exp())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_of_one_seed_differ_and_repeat() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(1, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::new(1, 0).next_u64(), Rng::new(1, 1).next_u64());
    }

    #[test]
    fn lognormal_hits_its_median_and_p99() {
        let dist = Latency::LogNormal {
            median: Duration::from_millis(20),
            p99: Duration::from_millis(100),
        };
        let mut rng = Rng::new(7, 0);
        let mut draws: Vec<Duration> = (0..100_000).map(|_| dist.sample(&mut rng, 1.0)).collect();
        draws.sort();
        let median = draws[50_000].as_secs_f64();
        let p99 = draws[99_000].as_secs_f64();
        assert!((0.019..0.021).contains(&median), "{median}");
        assert!((0.09..0.11).contains(&p99), "{p99}");
    }

    #[test]
    fn exponential_has_its_mean() {
        let mut rng = Rng::new(3, 0);
        let mean = (0..100_000).map(|_| rng.exponential(0.5)).sum::<f64>() / 100_000.0;
        assert!((0.49..0.51).contains(&mean), "{mean}");
    }
}
