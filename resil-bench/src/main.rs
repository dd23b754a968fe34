//! `resil-bench`: the instruction-count harness and the report.
//!
//! ```text
//! resil-bench list                 every counted operation: id <TAB> function
//! resil-bench run <id> <n>         build the operation, then run it n times
//!                                  inside its measuring function
//! resil-bench report --criterion <dir> --instr <file> --out <file>
//!                                  print the table, write the full report
//! ```
//!
//! `cargo xtask bench` runs `run` under
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=<function>`
//! at two values of `n`; see `xtask/src/bench.rs`.

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use resil_bench::instr::MEASURED;
use resil_bench::report::{self, Measurements};

/// What `resil-bench` prints when used wrongly.
const USAGE: &str = "\
usage: resil-bench list
       resil-bench run <id> <n>
       resil-bench report --criterion <dir> --instr <file> --out <file>
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["list"] => {
            for measured in MEASURED {
                println!("{}\t{}", measured.id, measured.function);
            }
            Ok(())
        }
        ["run", id, n] => run(id, n),
        ["report", rest @ ..] => report(rest),
        _ => Err(format!("unexpected arguments {args:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("resil-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs operation `id` `n` times in its measuring function.
fn run(id: &str, n: &str) -> Result<(), String> {
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{n}` is not an iteration count"))?;
    let measured = MEASURED
        .iter()
        .find(|m| m.id == id)
        .ok_or_else(|| format!("no operation `{id}` (see `resil-bench list`)"))?;
    (measured.run)(n);
    Ok(())
}

/// Prints the table and writes the report.
fn report(args: &[&str]) -> Result<(), String> {
    let mut criterion = None;
    let mut instr = None;
    let mut out = None;
    let mut args = args.iter();
    while let Some(&flag) = args.next() {
        let slot = match flag {
            "--criterion" => &mut criterion,
            "--instr" => &mut instr,
            "--out" => &mut out,
            _ => return Err(format!("unknown flag `{flag}`\n{USAGE}")),
        };
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        *slot = Some(PathBuf::from(value));
    }
    let missing_flag = |name: &str| format!("`--{name}` is required\n{USAGE}");
    let criterion = criterion.ok_or_else(|| missing_flag("criterion"))?;
    let instr = instr.ok_or_else(|| missing_flag("instr"))?;
    let out = out.ok_or_else(|| missing_flag("out"))?;

    let measurements = Measurements::read(&criterion, &instr)?;
    let report = report::render(&measurements, &report::machine());
    print!("{}", report.table);
    println!();
    println!("Machine: {}", report.machine);
    println!("Noise: {}", report.noise);
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    }
    fs::write(&out, &report.markdown).map_err(|err| format!("{}: {err}", out.display()))?;
    println!("Full report: {}", out.display());
    if report.missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} measurements missing: {}",
            report.missing.len(),
            report.missing.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counted_operation_runs() {
        for measured in MEASURED {
            (measured.run)(3);
        }
    }

    #[test]
    fn ids_and_functions_are_unique() {
        let mut ids: Vec<&str> = MEASURED.iter().map(|m| m.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), MEASURED.len());
        for m in MEASURED {
            let matching = MEASURED
                .iter()
                .filter(|other| other.function.contains(m.function))
                .count();
            assert_eq!(
                matching, 1,
                "{} is part of another function's name",
                m.function
            );
        }
    }
}
