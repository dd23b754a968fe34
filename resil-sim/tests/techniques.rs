//! The other settings a scenario may choose — a token-bucket budget, every
//! limit algorithm, a latency spike — each run through the simulator.

use core::time::Duration;

use resil_shed::Priority;
use resil_sim::{BudgetSpec, ClientRun, FaultKind, LimitSpec, Scenario, builtin, run_scenario};

const S: Duration = Duration::from_secs(1);

fn short(file: &str) -> Scenario {
    let mut scenario = builtin(file).unwrap();
    scenario.duration = 30 * S;
    scenario.workload.phases[0].1 /= 2.0;
    scenario.downstream.concurrency /= 2;
    for fault in &mut scenario.faults {
        fault.start = 10 * S;
        fault.end = 20 * S;
    }
    scenario
}

fn in_fault(run: &ClientRun, priority: Priority) -> f64 {
    let s = &run.series;
    let requests: u64 = (10..20)
        .map(|i| s.requests_by_priority[i][priority.index()])
        .sum();
    let successes: u64 = (10..20)
        .map(|i| s.successes_by_priority[i][priority.index()])
        .sum();
    successes as f64 / requests as f64
}

#[test]
fn a_token_bucket_stops_retries_once_failures_drain_it() {
    let mut scenario = short("outage.toml");
    // The budgeted client, with gRPC's throttle instead of a ratio.
    let mut client = scenario.clients[2].clone();
    let retry = client.retry.as_mut().unwrap();
    retry.budget = BudgetSpec::TokenBucket {
        max_tokens: 100,
        ratio: 0.1,
    };
    client.name = "token bucket".into();
    scenario.clients = vec![client];
    let run = run_scenario(&scenario, 1, |_| {});
    let fault = run.clients[0].summary.fault.unwrap();
    // About 50 failures drain half the bucket; after that no retry is
    // made until successes refill it.
    assert!(fault.amplification() < 1.05, "{}", fault.amplification());
    assert!(fault.attempts > fault.requests, "some retries were made");
}

#[test]
fn every_limit_algorithm_keeps_critical_requests_ahead() {
    let base = short("overload.toml");
    let shedding = base.clients[4].clone();
    let kinds = [
        LimitSpec::Fixed(5),
        LimitSpec::Aimd {
            bounds: [10, 2, 200],
            timeout: Some(Duration::from_millis(250)),
        },
        LimitSpec::Gradient2 {
            bounds: [10, 2, 200],
        },
        LimitSpec::Vegas {
            bounds: [10, 2, 200],
        },
    ];
    for kind in kinds {
        let mut client = shedding.clone();
        client.shed.as_mut().unwrap().limit = kind;
        let scenario = Scenario {
            clients: vec![client],
            ..base.clone()
        };
        let run = run_scenario(&scenario, 1, |_| {});
        let critical = in_fault(&run.clients[0], Priority::Critical);
        let sheddable = in_fault(&run.clients[0], Priority::Sheddable);
        assert!(
            critical > sheddable + 0.2,
            "{kind:?}: critical {critical}, sheddable {sheddable}"
        );
    }
}

#[test]
fn a_latency_spike_turns_into_timeouts() {
    let mut scenario = short("outage.toml");
    scenario.faults[0].kind = FaultKind::Latency { factor: 100.0 };
    scenario.clients.truncate(1);
    let run = run_scenario(&scenario, 1, |_| {});
    let summary = &run.clients[0].summary;
    // Service times of ~2s against a 1s timeout, and a queue behind them.
    assert!(summary.fault.unwrap().success_rate() < 0.2, "{summary:?}");
    assert!(
        summary.p999.unwrap() > Duration::from_millis(500),
        "{summary:?}"
    );
}
