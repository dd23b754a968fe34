//! Recent attempt latencies, for a hedge delay that follows the service:
//! hedge when an attempt is slower than, say, 95% of recent ones.

use core::time::Duration;

use crate::loom::{Mutex, lock};

/// How many recent latencies are kept.
const SAMPLES: usize = 128;

/// Fewer samples than this and the percentile is not trusted yet.
pub(crate) const MIN_SAMPLES: usize = 16;

/// The last [`SAMPLES`] latencies, in a ring.
#[derive(Debug)]
pub(crate) struct Latencies {
    ring: Mutex<Ring>,
}

#[derive(Debug)]
struct Ring {
    nanos: [u64; SAMPLES],
    next: usize,
    len: usize,
}

impl Latencies {
    pub(crate) fn new() -> Self {
        Latencies {
            ring: Mutex::new(Ring {
                nanos: [0; SAMPLES],
                next: 0,
                len: 0,
            }),
        }
    }

    /// Adds one latency, evicting the oldest when full.
    pub(crate) fn record(&self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        let mut ring = lock(&self.ring);
        let next = ring.next;
        ring.nanos[next] = nanos;
        ring.next = (next + 1) % SAMPLES;
        ring.len = (ring.len + 1).min(SAMPLES);
    }

    /// The `quantile` (in `[0, 1]`) of the recent latencies, or `None` with
    /// fewer than [`MIN_SAMPLES`] of them.
    pub(crate) fn quantile(&self, quantile: f64) -> Option<Duration> {
        let (mut copy, len) = {
            let ring = lock(&self.ring);
            (ring.nanos, ring.len)
        };
        if len < MIN_SAMPLES {
            return None;
        }
        let samples = &mut copy[..len];
        // Nearest rank: the smallest sample at or above the quantile.
        let rank = ((quantile * len as f64).ceil() as usize).clamp(1, len) - 1;
        let (_, nth, _) = samples.select_nth_unstable(rank);
        Some(Duration::from_nanos(*nth))
    }
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use super::*;

    #[test]
    fn quantiles_follow_the_recent_samples() {
        let latencies = Latencies::new();
        for ms in 1..=15 {
            latencies.record(Duration::from_millis(ms));
        }
        assert_eq!(latencies.quantile(0.5), None, "too few samples");
        for ms in 16..=100 {
            latencies.record(Duration::from_millis(ms));
        }
        assert_eq!(latencies.quantile(0.95), Some(Duration::from_millis(95)));
        assert_eq!(latencies.quantile(0.0), Some(Duration::from_millis(1)));
        assert_eq!(latencies.quantile(1.0), Some(Duration::from_millis(100)));
        // 200 slow samples push the fast ones out of the ring.
        for _ in 0..200 {
            latencies.record(Duration::from_secs(1));
        }
        assert_eq!(latencies.quantile(0.5), Some(Duration::from_secs(1)));
    }
}
