//! The AWS "Exponential Backoff And Jitter" experiment ranks the
//! strategies as the blog post does.

use resil_sim::{JitterExperiment, JitterResult};

fn results() -> Vec<JitterResult> {
    let experiment = JitterExperiment {
        runs: 5,
        ..JitterExperiment::default()
    };
    experiment.run(1).unwrap()
}

#[test]
fn the_strategies_rank_as_published() {
    let r = results();
    let [none, full, equal, decorrelated] = [&r[0], &r[1], &r[2], &r[3]];
    assert_eq!(none.strategy, "no jitter");
    // "No jitter is the clear loser": the most work and the most time.
    for other in [full, equal, decorrelated] {
        assert!(none.calls > 2.0 * other.calls, "{none:?} vs {other:?}");
        assert!(
            none.completion > 2 * other.completion,
            "{none:?} vs {other:?}"
        );
    }
    // Without jitter every round has exactly one winner: 100 + 99 + … + 1.
    assert_eq!(none.calls, 5050.0);
    // "Equal jitter does slightly more work than full jitter, and takes
    // much longer."
    assert!(equal.calls > full.calls, "{equal:?} vs {full:?}");
    assert!(equal.calls < 1.2 * full.calls, "{equal:?} vs {full:?}");
    assert!(equal.completion > full.completion, "{equal:?} vs {full:?}");
    // "Full jitter uses less work [than decorrelated], but slightly more
    // time."
    assert!(
        full.calls < decorrelated.calls,
        "{full:?} vs {decorrelated:?}"
    );
    assert!(
        full.completion > decorrelated.completion,
        "{full:?} vs {decorrelated:?}"
    );
}
