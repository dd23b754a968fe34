//! The `resil-sim` command: run the built-in scenarios or your own.

use std::process::ExitCode;

fn main() -> ExitCode {
    let which = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "outage.toml".into());
    let scenario = match resil_sim::builtin(&which) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let run = resil_sim::run_scenario(&scenario, scenario.seed, |_| {});
    for c in &run.clients {
        let s = &c.summary;
        println!(
            "{:24} ok {:6.3} crit {:?} shed {:?} amp {:5.2} famp {:?} fsucc {:?} p50 {:?} p99 {:?} p999 {:?} rec {:?} unf {}",
            s.client,
            s.success_rate(),
            s.success_rate_of(resil_shed::Priority::Critical),
            s.success_rate_of(resil_shed::Priority::Sheddable),
            s.amplification(),
            s.fault.map(|f| f.amplification()),
            s.fault.map(|f| f.success_rate()),
            s.p50,
            s.p99,
            s.p999,
            s.recovery,
            s.unfinished
        );
    }
    println!("polls {}", run.polls);
    ExitCode::SUCCESS
}
