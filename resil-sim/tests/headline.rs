//! The headline behaviours, asserted on simulated counts: what each
//! technique does to a downstream in an outage, an overload and across
//! layers. Scenarios are the built-in ones, shortened (40 simulated
//! seconds, half the load) so that the tests stay fast in debug builds.

use core::time::Duration;

use resil_shed::Priority;
use resil_sim::{ClientRun, Recovery, Scenario, ScenarioRun, builtin, run_scenario};

const S: Duration = Duration::from_secs(1);

/// A built-in scenario over 40s, at half the rate and half the workers
/// (the same load relative to capacity), its fault moved to 10s–25s.
fn short(file: &str) -> Scenario {
    let mut scenario = builtin(file).unwrap();
    scenario.duration = 40 * S;
    for phase in &mut scenario.workload.phases {
        phase.1 /= 2.0;
    }
    scenario.downstream.concurrency /= 2;
    for fault in &mut scenario.faults {
        fault.start = 10 * S;
        fault.end = 25 * S;
    }
    scenario
}

fn client<'a>(run: &'a ScenarioRun, name: &str) -> &'a ClientRun {
    run.clients
        .iter()
        .find(|c| c.summary.client == name)
        .unwrap_or_else(|| panic!("no client {name}"))
}

fn fault_amplification(run: &ScenarioRun, name: &str) -> f64 {
    client(run, name).summary.fault.unwrap().amplification()
}

#[test]
fn in_an_outage_a_budget_keeps_amplification_near_one_while_naive_retries_multiply_it() {
    let run = run_scenario(&short("outage.toml"), 1, |_| {});
    let naive = fault_amplification(&run, "naive retries");
    let budgeted = fault_amplification(&run, "backoff+jitter+budget");
    // The budget allows 0.1 retry per request plus 5 a second (at 200
    // requests a second, 0.025 per request): 1.125 at most, plus the
    // window's one-bucket slack.
    assert!(budgeted <= 1.2, "budgeted: {budgeted}");
    assert!(budgeted >= 1.0, "budgeted: {budgeted}");
    // Every request makes all 4 attempts against a dead service.
    assert!(naive >= 3.5, "naive: {naive}");
}

#[test]
fn the_breaker_cuts_attempts_in_an_outage_and_recovers_within_one_open_interval() {
    let run = run_scenario(&short("outage.toml"), 1, |_| {});
    let with = client(&run, "+ breaker").summary.fault.unwrap().attempts;
    let without = client(&run, "backoff+jitter+budget")
        .summary
        .fault
        .unwrap()
        .attempts;
    assert!(
        (with as f64) < 0.05 * without as f64,
        "breaker: {with} attempts, without: {without}"
    );
    let wait = run.scenario.clients[3].breaker.unwrap().wait;
    match client(&run, "+ breaker").summary.recovery {
        Recovery::After(d) => assert!(d <= wait, "recovered after {d:?}, open interval {wait:?}"),
        other => panic!("not recovered: {other:?}"),
    }
}

/// Success rate of `priority` over the requests made during the fault.
fn in_fault(run: &ClientRun, priority: Priority, scenario: &Scenario) -> f64 {
    let s = &run.series;
    let (from, to) = scenario.fault_windows()[0];
    let range = (from.as_secs() as usize)..(to.as_secs() as usize);
    let requests: u64 = range
        .clone()
        .map(|i| s.requests_by_priority[i][priority.index()])
        .sum();
    let successes: u64 = range
        .map(|i| s.successes_by_priority[i][priority.index()])
        .sum();
    successes as f64 / requests as f64
}

#[test]
fn under_twice_the_capacity_shedding_keeps_critical_requests_and_sheds_the_rest() {
    let scenario = short("overload.toml");
    let run = run_scenario(&scenario, 1, |_| {});
    let shedding = client(&run, "+ priority shedding");
    let critical = in_fault(shedding, Priority::Critical, &scenario);
    let sheddable = in_fault(shedding, Priority::Sheddable, &scenario);
    assert!(critical >= 0.98, "critical: {critical}");
    assert!(sheddable <= 0.5, "sheddable: {sheddable}");
    // Without shedding, critical requests fail as often as the others.
    let plain = client(&run, "no protection");
    let critical_plain = in_fault(plain, Priority::Critical, &scenario);
    assert!(
        critical_plain <= 0.5,
        "critical without shedding: {critical_plain}"
    );
}

#[test]
fn retries_multiply_across_layers_unless_budgeted() {
    let run = run_scenario(&short("layered.toml"), 1, |_| {});
    let naive = fault_amplification(&run, "naive retries");
    let budgeted = fault_amplification(&run, "backoff+jitter+budget");
    // 4 attempts at each of two layers: up to 16 at the backend.
    assert!(naive >= 10.0, "naive: {naive}");
    assert!(budgeted <= 1.5, "budgeted: {budgeted}");
}

#[test]
fn the_sre_throttle_sends_about_k_times_what_the_backend_accepts() {
    let mut scenario = builtin("sre_throttle.toml").unwrap();
    scenario.duration = 120 * S;
    scenario.workload.phases[0].1 /= 2.0;
    scenario.downstream.concurrency /= 2;
    let run = run_scenario(&scenario, 1, |_| {});
    for (spec, client) in scenario.clients.iter().zip(&run.clients) {
        let s = &client.series;
        let reaching: u64 = s.attempts[60..].iter().sum();
        let accepted: u64 = s.successes_by_priority[60..].iter().map(|c| c[1]).sum();
        let ratio = reaching as f64 / accepted as f64;
        match spec.throttle {
            Some(t) => assert!((ratio - t.k).abs() <= 0.15 * t.k, "K={}: {ratio}", t.k),
            None => assert!(ratio > 3.5, "unthrottled: {ratio}"),
        }
    }
}
