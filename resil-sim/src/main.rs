//! The `resil-sim` command.
//!
//! ```text
//! resil-sim demo [--seed N] [--out DIR]             the built-in scenarios and reproductions
//! resil-sim run <scenario.toml> [--seed N] [--out DIR]
//! ```
//!
//! Prints a table per scenario and writes `DIR/index.html` (default
//! `target/resil-report`). Arguments are parsed by hand: there are four.

use std::path::PathBuf;
use std::process::ExitCode;

use resil_sim::{BUILTIN, JitterExperiment, Scenario, ScenarioRun, SimError, report, run_scenario};

const USAGE: &str = "usage:
  resil-sim demo [--seed N] [--out DIR]               run the built-in scenarios and reproductions
  resil-sim run <scenario.toml> [--seed N] [--out DIR]  run one scenario file
The report goes to DIR/index.html (default: target/resil-report).";

/// The parsed command line.
#[derive(Debug)]
struct Args {
    command: String,
    file: Option<String>,
    seed: Option<u64>,
    out: PathBuf,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Args, SimError> {
    let mut args = args.peekable();
    let command = args
        .next()
        .ok_or_else(|| SimError::Usage(USAGE.to_owned()))?;
    let mut parsed = Args {
        command,
        file: None,
        seed: None,
        out: PathBuf::from("target/resil-report"),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => {
                let value = args.next().unwrap_or_default();
                parsed.seed = Some(value.parse().map_err(|_| {
                    SimError::Usage(format!("--seed: got {value:?}, expected a number"))
                })?);
            }
            "--out" => {
                parsed.out = args
                    .next()
                    .map(PathBuf::from)
                    .ok_or_else(|| SimError::Usage("--out needs a directory".to_owned()))?;
            }
            "-h" | "--help" => return Err(SimError::Usage(USAGE.to_owned())),
            other if parsed.file.is_none() && !other.starts_with("--") => {
                parsed.file = Some(other.to_owned());
            }
            other => {
                return Err(SimError::Usage(format!(
                    "unexpected argument {other:?}\n{USAGE}"
                )));
            }
        }
    }
    Ok(parsed)
}

/// Shows a progress line on stderr once a run has taken over a second of
/// wall-clock time (virtual time is what the run measures; this is only
/// for the person waiting).
struct Progress {
    started: std::time::Instant,
    shown: bool,
    /// The percentage last printed: the line is rewritten only when it
    /// changes (the callback comes at every jump of the clock).
    last: Option<u32>,
    label: String,
}

impl Progress {
    #[allow(clippy::disallowed_methods)] // reason: a wall-clock progress line, not a measurement
    fn new(label: &str) -> Self {
        Progress {
            started: std::time::Instant::now(),
            shown: false,
            last: None,
            label: label.to_owned(),
        }
    }

    fn update(&mut self, done: f64) {
        let percent = (done * 100.0) as u32;
        if self.last == Some(percent) {
            return;
        }
        self.last = Some(percent);
        if self.started.elapsed().as_secs_f64() > 1.0 {
            self.shown = true;
            eprint!("\r{}: {percent:3}%", self.label);
        }
    }

    fn finish(self) {
        if self.shown {
            eprintln!(
                "\r{}: done in {:.1}s",
                self.label,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

fn run_one(scenario: &Scenario, seed: Option<u64>) -> ScenarioRun {
    let mut progress = Progress::new(&scenario.name);
    let run = run_scenario(scenario, seed.unwrap_or(scenario.seed), |d| {
        progress.update(d);
    });
    progress.finish();
    print!("{}", report::table(&run));
    println!();
    run
}

fn main_inner() -> Result<(), SimError> {
    let args = parse(std::env::args().skip(1))?;
    let (runs, jitter) = match args.command.as_str() {
        "run" => {
            let path = args
                .file
                .ok_or_else(|| SimError::Usage(format!("run needs a scenario file\n{USAGE}")))?;
            let text = std::fs::read_to_string(&path).map_err(|error| SimError::Io {
                path: path.clone(),
                error,
            })?;
            let scenario =
                Scenario::from_toml(&text).map_err(|error| SimError::Scenario { path, error })?;
            (vec![run_one(&scenario, args.seed)], None)
        }
        "demo" => {
            let mut runs = Vec::new();
            for (file, text) in BUILTIN {
                let scenario = Scenario::from_toml(text).map_err(|error| SimError::Scenario {
                    path: format!("resil-sim/scenarios/{file}"),
                    error,
                })?;
                runs.push(run_one(&scenario, args.seed));
            }
            let experiment = JitterExperiment::default();
            let results = experiment
                .run(args.seed.unwrap_or(1))
                .map_err(|e| SimError::Usage(e.to_string()))?;
            print!("{}", report::jitter_table(&experiment, &results));
            println!();
            (runs, Some((experiment, results)))
        }
        _ => return Err(SimError::Usage(USAGE.to_owned())),
    };
    let jitter = jitter.as_ref().map(|(e, r)| (e, r.as_slice()));
    let path = report::write_html(&args.out, &runs, jitter).map_err(|error| SimError::Io {
        path: args.out.display().to_string(),
        error,
    })?;
    report::write_markdown(&args.out, &runs, jitter).map_err(|error| SimError::Io {
        path: args.out.display().to_string(),
        error,
    })?;
    let shown = std::fs::canonicalize(&path).unwrap_or(path);
    println!("report: {}", shown.display());
    Ok(())
}

fn main() -> ExitCode {
    match main_inner() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("resil-sim: {error}");
            ExitCode::FAILURE
        }
    }
}
