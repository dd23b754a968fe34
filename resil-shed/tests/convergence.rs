//! Each adaptive limit against a server of fixed capacity C, in a
//! deterministic closed loop (`support`): the client keeps `limit` calls in
//! flight, a call that starts with `n` in flight takes `base × max(1, n / C)`,
//! and calls beyond 2C fail. Virtual time only: nothing sleeps.
//!
//! Each test asserts the band the limit settles in (outside probe rounds;
//! at most half its top during them), the band stated in the limit's docs, and
//! that it gets there in time, from below (the default initial limit, 20)
//! and from above (4C).

mod support;

use std::time::Duration;

use resil_shed::{Aimd, Gradient2, Vegas};
use support::{Probing, Server, Trace, run};

const BASE: Duration = Duration::from_millis(10);

/// Asserts that `trace` is within `[lo, hi]` from sample `by` on.
fn assert_settled(name: &str, trace: &Trace, (lo, hi): (u32, u32), by: usize) {
    let settled = trace.settled(lo, hi);
    let tail = trace.limits.len() / 2;
    assert!(
        settled <= by,
        "{name}: still outside [{lo}, {hi}] at sample {settled} (after {by}); \
         the second half spans {:?}, probes {:?}",
        trace.band(tail),
        trace.probe_band(tail),
    );
}

fn scenarios(capacities: &[u32]) -> impl Iterator<Item = (u32, u32)> + '_ {
    capacities
        .iter()
        .flat_map(|&c| [(c, 20.min(4 * c)), (c, 4 * c)])
}

/// `log10(C)`, at least 1: Vegas's scale.
fn lg(c: u32) -> f64 {
    f64::from(c).log10().max(1.0)
}

#[test]
fn aimd_settles_just_under_the_timeout() {
    for (c, initial) in scenarios(&[10, 100, 400]) {
        let limit = Aimd::builder()
            .initial(initial)
            .max(4_000)
            .timeout(BASE * 6 / 5) // calls beyond T = 1.2 C are slow
            .build()
            .unwrap();
        let trace = run(limit, Server::new(BASE, c), 250_000, None);
        // Between backoff_ratio × T and T, give or take one.
        let t = 1.2 * f64::from(c);
        let band = ((0.9 * t - 1.0) as u32, (t + 1.0) as u32);
        assert_settled(&format!("C={c} from {initial}"), &trace, band, 120_000);
    }
}

#[test]
fn aimd_without_a_timeout_settles_just_under_the_failures() {
    for (c, initial) in scenarios(&[10, 100]).chain([(400, 1_600)]) {
        let limit = Aimd::builder().initial(initial).max(4_000).build().unwrap();
        let trace = run(limit, Server::new(BASE, c), 100_000, None);
        let t = 2.0 * f64::from(c);
        let band = ((0.9 * t - 1.0) as u32, (t + 1.0) as u32);
        assert_settled(&format!("C={c} from {initial}"), &trace, band, 30_000);
    }
}

#[test]
fn gradient2_settles_at_tolerance_times_capacity_plus_the_queue() {
    for (c, initial) in scenarios(&[3, 10, 100, 400]) {
        let limit = Gradient2::builder()
            .initial(initial)
            .max(4_000)
            .build()
            .unwrap();
        let trace = run(limit, Server::new(BASE, c), 300_000, None);
        let level = 1.5 * f64::from(c) + 4.0;
        let band = ((level - 2.0) as u32, (level + 2.0) as u32);
        assert_settled(&format!("C={c} from {initial}"), &trace, band, 200_000);
        // And never drifts: the last tenth is where the middle was.
        assert_eq!(
            trace.band(270_000),
            trace.band(200_000),
            "C={c} from {initial}"
        );
    }
}

#[test]
fn vegas_settles_at_capacity_plus_alpha_to_beta() {
    for (c, initial) in scenarios(&[3, 10, 100, 400]) {
        let limit = Vegas::builder()
            .initial(initial)
            .max(4_000)
            .build()
            .unwrap();
        let trace = run(limit, Server::new(BASE, c), 120_000, None);
        let lg = lg(c);
        let band = (c + (3.0 * lg) as u32, c + (6.0 * lg + 1.0) as u32);
        assert_settled(&format!("C={c} from {initial}"), &trace, band, 60_000);
        assert_eq!(
            trace.band(108_000),
            trace.band(60_000),
            "C={c} from {initial}"
        );
    }
}

/// The band a latency-based limit holds at capacity `c` (outside probes).
fn latency_band<L: Probing>(c: u32) -> (u32, u32) {
    if std::any::type_name::<L>().ends_with("Vegas") {
        let lg = lg(c);
        (c + (3.0 * lg) as u32, c + (6.0 * lg + 1.0) as u32)
    } else {
        let level = 1.5 * f64::from(c) + 4.0;
        ((level - 2.0) as u32, (level + 2.0) as u32)
    }
}

/// A permanent tripling of the server's base latency at sample 60,000, with
/// its capacity unchanged: the limit must stay where it was once the next
/// probes have re-measured the baseline. Without probes (Netflix's first
/// Vegas, a baseline that never resets) it collapses.
fn shift<L: Probing + Clone>(limit: L, never_probes: L) {
    let before = Server::new(BASE, 100);
    let after = Server::new(BASE * 3, 100);
    let band = latency_band::<L>(100);
    let trace = run(limit, before, 200_000, Some((60_000, after)));
    assert_settled("after the shift", &trace, band, 120_000);
    let collapsed = run(never_probes, before, 200_000, Some((60_000, after)));
    let (_, hi) = collapsed.band(150_000);
    assert!(hi <= 20, "without probes the limit collapses: {hi}");
}

#[test]
fn a_permanent_latency_shift_does_not_collapse_vegas() {
    let vegas = |probes| {
        Vegas::builder()
            .initial(100)
            .probe_multiplier(probes)
            .build()
            .unwrap()
    };
    shift(vegas(60), vegas(u32::MAX));
}

#[test]
fn a_permanent_latency_shift_does_not_collapse_gradient2() {
    let gradient2 = |probes| {
        Gradient2::builder()
            .initial(100)
            .probe_multiplier(probes)
            .build()
            .unwrap()
    };
    shift(gradient2(60), gradient2(u32::MAX));
}

/// The capacity halves, then doubles: the limit follows.
fn follows_capacity<L: Probing>(limit: L) {
    let trace = run(
        limit,
        Server::new(BASE, 100),
        300_000,
        Some((60_000, Server::new(BASE, 50))),
    );
    assert_settled("at C=50", &trace, latency_band::<L>(50), 100_000);
}

#[test]
fn the_latency_limits_follow_a_smaller_capacity() {
    follows_capacity(Vegas::builder().initial(100).build().unwrap());
    follows_capacity(Gradient2::builder().initial(100).build().unwrap());
}

#[test]
fn the_latency_limits_follow_a_larger_capacity() {
    for trace in [
        run(
            Vegas::builder().initial(100).build().unwrap(),
            Server::new(BASE, 100),
            200_000,
            Some((60_000, Server::new(BASE, 200))),
        ),
        run(
            Gradient2::builder().initial(100).build().unwrap(),
            Server::new(BASE, 100),
            200_000,
            Some((60_000, Server::new(BASE, 200))),
        ),
    ] {
        let (lo, hi) = trace.band(150_000);
        assert!(lo >= 200 && hi <= 310, "[{lo}, {hi}]");
    }
}

/// Netflix's drift fix, kept: after a long overload (here a latency spike
/// long enough for probes to adopt it as the baseline) ends, the long RTT
/// comes back down at once, and the limit settles where it was.
#[test]
fn gradient2_recovers_when_a_long_latency_spike_ends() {
    let mut limit = Gradient2::builder().initial(154).build().unwrap();
    let spike = Server::new(BASE * 4, 100);
    let trace = run(
        &mut limit,
        spike,
        200_000,
        Some((100_000, Server::new(BASE, 100))),
    );
    let band = latency_band::<Gradient2>(100);
    // During the spike, once a probe has adopted its latency.
    let (lo, hi) = trace.band_between(50_000, 100_000);
    assert!(band.0 <= lo && hi <= band.1, "in the spike: [{lo}, {hi}]");
    // After it.
    assert_settled("after the spike", &trace, band, 110_000);
    assert_eq!(limit.long_rtt(), Some(BASE));
}

/// Latencies spread by up to +50% (a fixed pseudo-random sequence): the
/// bands widen a little, and nothing drifts.
#[test]
fn the_bands_hold_with_noisy_latencies() {
    let server = Server::new(BASE, 100).noisy(0.5);
    for initial in [20, 400] {
        // The timeout above the noise: 1.2 × base, plus the spread.
        let aimd = Aimd::builder()
            .initial(initial)
            .timeout(BASE * 17 / 10)
            .build()
            .unwrap();
        let trace = run(aimd, server, 100_000, None);
        assert_settled("aimd", &trace, (100, 125), 30_000);
        let gradient2 = Gradient2::builder().initial(initial).build().unwrap();
        let trace = run(gradient2, server, 100_000, None);
        assert_settled("gradient2", &trace, (140, 170), 40_000);
        let vegas = Vegas::builder().initial(initial).build().unwrap();
        let trace = run(vegas, server, 100_000, None);
        assert_settled("vegas", &trace, (104, 116), 30_000);
    }
}

/// Prints the bands, probe bands and throughput the docs quote: run with
/// `cargo test --release -p resil-shed --test convergence -- --ignored
/// --nocapture` after changing an algorithm.
#[test]
#[ignore = "prints the numbers quoted in the docs"]
fn bands_table() {
    for noise in [0.0, 0.5] {
        for c in [10u32, 100, 400] {
            for initial in [20.min(4 * c), 4 * c] {
                let n = 400_000;
                let server = Server::new(BASE, c).noisy(noise);
                let timeout = BASE * 6 / 5 + BASE.mul_f64(noise);
                let traces = [
                    (
                        "aimd, timeout 1.2 base",
                        run(
                            Aimd::builder()
                                .max(4_000)
                                .initial(initial)
                                .timeout(timeout)
                                .build()
                                .unwrap(),
                            server,
                            n,
                            None,
                        ),
                    ),
                    (
                        "aimd, no timeout",
                        run(
                            Aimd::builder().max(4_000).initial(initial).build().unwrap(),
                            server,
                            n,
                            None,
                        ),
                    ),
                    (
                        "gradient2",
                        run(
                            Gradient2::builder()
                                .max(4_000)
                                .initial(initial)
                                .build()
                                .unwrap(),
                            server,
                            n,
                            None,
                        ),
                    ),
                    (
                        "vegas",
                        run(
                            Vegas::builder()
                                .max(4_000)
                                .initial(initial)
                                .build()
                                .unwrap(),
                            server,
                            n,
                            None,
                        ),
                    ),
                ];
                for (name, trace) in traces {
                    let from = n / 2;
                    let (lo, hi) = trace.band(from);
                    let per_c = |x: u32| f64::from(x) / f64::from(c);
                    println!(
                        "noise {noise} C={c} from {initial} {name}: [{lo}, {hi}] = [{:.3} C, {:.3} C], \
                         probes {:?}, settled by {}, throughput {:.3} of the no-probe maximum",
                        per_c(lo),
                        per_c(hi),
                        trace.probe_band(from),
                        trace.settled(lo, hi),
                        trace.throughput(from) * (1.0 + noise / 2.0) / (f64::from(c) * 100.0),
                    );
                }
            }
        }
    }
}
