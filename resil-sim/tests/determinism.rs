//! The same seed gives byte-identical metrics; different seeds differ.

use core::time::Duration;

use resil_sim::{JitterExperiment, Scenario, builtin, run_scenario};

fn short() -> Scenario {
    let mut scenario = builtin("overload.toml").unwrap();
    scenario.duration = Duration::from_secs(20);
    scenario.workload.phases[0].1 = 200.0;
    scenario.downstream.concurrency = 10;
    scenario.faults[0].start = Duration::from_secs(5);
    scenario.faults[0].end = Duration::from_secs(12);
    scenario
}

#[test]
fn the_same_seed_gives_byte_identical_metrics() {
    let scenario = short();
    let a = run_scenario(&scenario, 7, |_| {}).fingerprint();
    let b = run_scenario(&scenario, 7, |_| {}).fingerprint();
    assert!(a.len() > 1000, "{a}");
    assert!(a == b, "two runs with seed 7 differ");
}

#[test]
fn different_seeds_give_different_metrics() {
    let scenario = short();
    let a = run_scenario(&scenario, 7, |_| {}).fingerprint();
    let b = run_scenario(&scenario, 8, |_| {}).fingerprint();
    assert_ne!(a, b);
}

#[test]
fn the_jitter_experiment_repeats_for_a_seed() {
    let experiment = JitterExperiment {
        clients: 30,
        runs: 2,
        ..JitterExperiment::default()
    };
    assert_eq!(experiment.run(3).unwrap(), experiment.run(3).unwrap());
    assert_ne!(experiment.run(3).unwrap(), experiment.run(4).unwrap());
}
