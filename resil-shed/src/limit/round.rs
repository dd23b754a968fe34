//! Rounds: the tempo of the latency-based limits ([`Gradient2`] and
//! [`Vegas`]), and their probe rounds.
//!
//! # Why rounds
//!
//! A change to the limit shows in latencies one round trip later: the calls
//! that finish in the meantime were started under the old limit. A limit
//! that moves on every sample (as Netflix's do) therefore keeps pushing in
//! the same direction for a whole round trip after it has gone far enough,
//! overshooting by up to the number of calls in a round trip, and then
//! swings back as far. TCP's answer is to adjust once per window of data;
//! this is the same idea for calls:
//!
//! - A **round** begins at a decision (time `start`). Only calls that
//!   *started after* `start` belong to it; calls already in flight at the
//!   decision are old news and are skipped.
//! - The round ends at the first of its calls that started after the
//!   round's *first* call ended: by then one full round trip of calls
//!   started under the new limit has come back. Its calls are summarised
//!   (count, mean and minimum latency, most calls in flight) and the limit
//!   decides once. The next round begins at that instant.
//!
//! So a limit decides about once per two round trips, on samples that all
//! reflect its current value, and never reacts twice to the same queue.
//!
//! # Drops
//!
//! A failure is the overload signal, and is acted on at once rather than at
//! the end of the round, but only if its call started at or after the last
//! decrease: the other calls that were in flight then are the same overload
//! event, already answered. A drop also restarts the round (its calls were
//! started under the limit just lowered).
//!
//! # Probe rounds
//!
//! Latency-based limits compare against a no-load latency, which must be
//! re-measured from time to time (a permanent latency shift would otherwise
//! look like endless queueing and collapse the limit) and must not be
//! learnt from loaded samples (a baseline that absorbs queueing lets the
//! limit creep up forever). After `probe_multiplier × limit` successful
//! samples, scaled by a jitter in `[0.5, 1)`, the limit is lowered for one
//! round — BBR's ProbeRTT, in the units of a concurrency limit — to half,
//! or lower if the algorithm's own equilibrium sits further above capacity
//! (each limit says how far). Near the right limit, that queues nowhere,
//! so the round's latencies are the no-load latency of the moment, which
//! becomes the new baseline. The round
//! after a probe refills the limit and is not judged (its first calls start
//! with the pipeline half empty). A drop during a probe ends it without
//! re-measuring.
//!
//! The jitter is a hash of the instant the probe is scheduled, so limits
//! started together drift apart, while the same samples still give the same
//! limits.
//!
//! # Ties, and a clock that never moves
//!
//! A success that started at the very instant its round began is left out
//! (it may have been started just before the decision, under the previous
//! limit); a failure at the instant of the last decrease counts. So a
//! limiter whose clock never moves still backs off on failures, but never
//! completes a round: with no time passing there is no latency to learn
//! from, and the limit otherwise holds.
//!
//! [`Gradient2`]: super::Gradient2
//! [`Vegas`]: super::Vegas

use resil_core::{Instant, Outcome, SplitMix64};

use super::Sample;
use super::bounds::Bounds;

/// What a round's calls looked like.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Summary {
    /// Mean latency, in nanoseconds.
    pub(crate) mean: f64,
    /// Minimum latency, in nanoseconds.
    pub(crate) min: u64,
    /// The most calls in flight when one of the round's calls started.
    pub(crate) max_in_flight: u32,
}

/// The successful calls of the current round.
#[derive(Clone, Debug)]
struct Round {
    /// Calls that started at or before this instant are not the round's.
    start: Instant,
    /// When the round's first call ended.
    first_end: Option<Instant>,
    count: u64,
    /// Sum of latencies in nanoseconds: `count` × `u64::MAX` fits.
    sum: u128,
    min: u64,
    max_in_flight: u32,
}

impl Round {
    fn new(start: Instant) -> Self {
        Round {
            start,
            first_end: None,
            count: 0,
            sum: 0,
            min: u64::MAX,
            max_in_flight: 0,
        }
    }

    /// Adds a successful call; returns the summary if it closes the round
    /// (the closing call itself belongs to no round).
    fn push(&mut self, sample: &Sample) -> Option<Summary> {
        let started = sample.started();
        if started <= self.start {
            return None;
        }
        if let Some(first_end) = self.first_end {
            if started > first_end {
                let summary = Summary {
                    // Both exact enough: a mean needs no more than 53 bits.
                    mean: self.sum as f64 / self.count as f64,
                    min: self.min,
                    max_in_flight: self.max_in_flight,
                };
                *self = Round::new(sample.at);
                return Some(summary);
            }
        }
        let latency = sample.latency_nanos();
        self.count += 1;
        self.sum += u128::from(latency);
        self.min = self.min.min(latency);
        self.max_in_flight = self.max_in_flight.max(sample.in_flight);
        if self.first_end.is_none() {
            self.first_end = Some(sample.at);
        }
        None
    }
}

/// Where a latency-based limit is in its cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Rounds are judged.
    Run,
    /// The limit is lowered for one round, to re-measure the baseline.
    Probe,
    /// The round after a probe: the limit refills, and is not judged.
    Refill,
}

/// What a sample asks of the limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Step {
    /// Nothing to do yet.
    Hold,
    /// A fresh failure: decrease now.
    Drop,
    /// A round ended: adjust from its summary.
    Decide(Summary),
    /// A probe round ended: its latencies are the new baseline.
    Rebase(Summary),
}

/// The rounds of a latency-based limit and its probe schedule (see the
/// module docs).
#[derive(Clone, Debug)]
pub(crate) struct Rounds {
    round: Round,
    phase: Phase,
    /// Successful samples until the next probe.
    countdown: u64,
    probe_multiplier: u32,
    last_decrease: Option<Instant>,
}

impl Rounds {
    /// Rounds starting at the clock's origin, the first probe scheduled for
    /// a limit of `estimate`.
    pub(crate) fn new(probe_multiplier: u32, estimate: f64) -> Self {
        Rounds {
            round: Round::new(Instant::ZERO),
            phase: Phase::Run,
            countdown: probe_countdown(probe_multiplier, estimate, Instant::ZERO),
            probe_multiplier,
            last_decrease: None,
        }
    }

    /// Whether a probe round is under way (the limit is lowered).
    pub(crate) fn is_probing(&self) -> bool {
        self.phase == Phase::Probe
    }

    /// Takes a sample; `estimate` is the limit's current estimate (to
    /// schedule the next probe).
    pub(crate) fn step(&mut self, sample: &Sample, estimate: f64) -> Step {
        match sample.outcome {
            Outcome::Ignored => Step::Hold,
            Outcome::Failure => {
                if self.last_decrease.is_some_and(|t| sample.started() < t) {
                    return Step::Hold;
                }
                if self.phase != Phase::Run {
                    // A drop ends a probe (or refill) without re-measuring.
                    self.phase = Phase::Run;
                    self.countdown = probe_countdown(self.probe_multiplier, estimate, sample.at);
                }
                self.round = Round::new(sample.at);
                Step::Drop
            }
            Outcome::Success => {
                if self.phase == Phase::Run {
                    self.countdown = self.countdown.saturating_sub(1);
                    if self.countdown == 0 {
                        self.phase = Phase::Probe;
                        self.round = Round::new(sample.at);
                        return Step::Hold;
                    }
                }
                let Some(summary) = self.round.push(sample) else {
                    return Step::Hold;
                };
                match self.phase {
                    Phase::Run => Step::Decide(summary),
                    Phase::Probe => {
                        self.phase = Phase::Refill;
                        self.countdown =
                            probe_countdown(self.probe_multiplier, estimate, sample.at);
                        Step::Rebase(summary)
                    }
                    Phase::Refill => {
                        self.phase = Phase::Run;
                        Step::Hold
                    }
                }
            }
        }
    }

    /// The estimate moved from `estimate` towards `next` at `at`: `next`
    /// within `bounds` (a NaN holds the estimate). A decrease is
    /// remembered: failures of calls started before it are the same event.
    pub(crate) fn set(&mut self, bounds: Bounds, estimate: f64, next: f64, at: Instant) -> f64 {
        let next = bounds.clamp(next, estimate);
        if next < estimate {
            self.last_decrease = Some(at);
        }
        next
    }
}

/// Successful samples until the probe after one scheduled at `at`:
/// `multiplier × estimate × jitter`, jitter in `[0.5, 1)`, at least 1.
fn probe_countdown(multiplier: u32, estimate: f64, at: Instant) -> u64 {
    // The top 53 bits as a fraction in [0, 1).
    let unit = (SplitMix64::mix(at.as_nanos() ^ PROBE_SALT) >> 11) as f64 / (1u64 << 53) as f64;
    let samples = f64::from(multiplier) * estimate * (0.5 + 0.5 * unit);
    // A float-to-int cast saturates (and NaN gives 0).
    (samples as u64).max(1)
}

/// Keeps probe jitter apart from other hashes of the same instant.
const PROBE_SALT: u64 = 0x5052_4F42_4550_524F;

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::*;

    const MS: u64 = 1_000_000;

    fn ok(start_ms: u64, end_ms: u64, in_flight: u32) -> Sample {
        Sample::new(
            Duration::from_millis(end_ms - start_ms),
            in_flight,
            Outcome::Success,
            Instant::from_nanos(end_ms * MS),
        )
    }

    fn failed(start_ms: u64, end_ms: u64) -> Sample {
        Sample {
            outcome: Outcome::Failure,
            ..ok(start_ms, end_ms, 1)
        }
    }

    #[test]
    fn a_round_takes_calls_started_after_it_and_closes_one_round_trip_later() {
        let mut round = Round::new(Instant::from_nanos(10 * MS));
        // Started before the round: skipped.
        assert_eq!(round.push(&ok(5, 12, 9)), None);
        // Started exactly at its start: skipped too (a tie).
        assert_eq!(round.push(&ok(10, 13, 9)), None);
        assert_eq!(round.push(&ok(11, 20, 3)), None); // the first: ends at 20
        assert_eq!(round.push(&ok(15, 24, 4)), None);
        assert_eq!(round.push(&ok(20, 25, 8)), None); // started at 20: not after
        // Started after the first ended: closes the round.
        let summary = round.push(&ok(21, 26, 1)).unwrap();
        assert_eq!(summary.min, 5 * MS);
        assert_eq!(summary.mean, 23.0 / 3.0 * MS as f64);
        assert_eq!(summary.max_in_flight, 8);
        // The next round starts at that call's end.
        assert_eq!(round.start, Instant::from_nanos(26 * MS));
        assert_eq!(round.count, 0);
    }

    #[test]
    fn sums_do_not_overflow() {
        let mut round = Round::new(Instant::ZERO);
        let latency = Duration::from_nanos(u64::MAX - 1); // started at 1ns
        let huge = Sample::new(latency, u32::MAX, Outcome::Success, Instant::MAX);
        for _ in 0..3 {
            round.push(&huge);
        }
        assert_eq!(round.count, 3);
        assert_eq!(round.sum, 3 * u128::from(u64::MAX - 1));
        assert_eq!(round.min, u64::MAX - 1);
        // `Duration::MAX` saturates: it started at the origin, not after it.
        let longest = Sample::new(Duration::MAX, 1, Outcome::Success, Instant::MAX);
        assert_eq!(longest.started(), Instant::ZERO);
    }

    #[test]
    fn drops_before_the_last_decrease_are_old_news() {
        let mut rounds = Rounds::new(1_000, 10.0);
        assert_eq!(rounds.step(&failed(1, 5), 10.0), Step::Drop);
        let bounds = Bounds::new(1, 10, 10).unwrap();
        assert_eq!(
            rounds.set(bounds, 10.0, 9.0, Instant::from_nanos(5 * MS)),
            9.0
        );
        assert_eq!(rounds.step(&failed(2, 6), 10.0), Step::Hold);
        assert_eq!(rounds.step(&failed(5, 7), 10.0), Step::Drop); // a tie counts
        assert_eq!(rounds.step(&ok(1, 8, 1), 10.0), Step::Hold);
        let ignored = Sample {
            outcome: Outcome::Ignored,
            ..failed(9, 10)
        };
        assert_eq!(rounds.step(&ignored, 10.0), Step::Hold);
    }

    #[test]
    fn a_probe_round_is_followed_by_an_unjudged_refill_round() {
        let mut rounds = Rounds::new(1, 2.0);
        rounds.countdown = 1;
        // The next success starts the probe round.
        assert_eq!(rounds.step(&ok(0, 10, 2), 2.0), Step::Hold);
        assert!(rounds.is_probing());
        assert_eq!(rounds.step(&ok(11, 20, 1), 2.0), Step::Hold);
        match rounds.step(&ok(21, 30, 1), 2.0) {
            Step::Rebase(summary) => assert_eq!(summary.min, 9 * MS),
            other => panic!("{other:?}"),
        }
        assert!(!rounds.is_probing());
        // The refill round is not judged...
        assert_eq!(rounds.step(&ok(31, 40, 2), 2.0), Step::Hold);
        assert_eq!(rounds.step(&ok(41, 50, 2), 2.0), Step::Hold);
        assert_eq!(rounds.phase, Phase::Run);
        // ...the one after it is.
        rounds.countdown = u64::MAX;
        assert_eq!(rounds.step(&ok(51, 60, 2), 2.0), Step::Hold);
        assert!(matches!(rounds.step(&ok(61, 70, 2), 2.0), Step::Decide(_)));
    }

    #[test]
    fn a_drop_ends_a_probe_without_rebasing() {
        let mut rounds = Rounds::new(1, 2.0);
        rounds.countdown = 1;
        rounds.step(&ok(0, 10, 2), 2.0);
        assert!(rounds.is_probing());
        assert_eq!(rounds.step(&failed(11, 12), 2.0), Step::Drop);
        assert!(!rounds.is_probing());
        assert!(rounds.countdown >= 1);
    }

    #[test]
    fn probes_come_every_half_to_whole_multiplier_times_the_limit() {
        for nanos in [0, 1, 42, u64::MAX] {
            let n = probe_countdown(30, 100.0, Instant::from_nanos(nanos));
            assert!((1_500..3_000).contains(&n), "{n}");
        }
        assert_eq!(probe_countdown(1, 0.0, Instant::ZERO), 1);
        assert_eq!(probe_countdown(u32::MAX, f64::MAX, Instant::ZERO), u64::MAX);
        assert_eq!(probe_countdown(1, f64::NAN, Instant::ZERO), 1);
        // Different instants, different jitter.
        assert_ne!(
            probe_countdown(30, 100.0, Instant::from_nanos(1)),
            probe_countdown(30, 100.0, Instant::from_nanos(2))
        );
    }

    #[test]
    fn every_bit_of_the_instant_moves_the_jitter() {
        // A range of 5 × 10^11 countdowns: a chance collision is negligible.
        let countdown = |nanos| probe_countdown(1_000_000, 1e6, Instant::from_nanos(nanos));
        let origin = countdown(0);
        for bit in 0..64 {
            assert_ne!(countdown(1 << bit), origin, "bit {bit}");
        }
    }
}
