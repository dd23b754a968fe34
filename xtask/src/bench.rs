//! `cargo xtask bench`: resil against its peers, in one run, in one table.
//!
//! Why both criterion and callgrind: the machines are shared and noisy, so
//! wall-clock figures drift from run to run, while an instruction count of
//! the same binary repeats exactly. Ratios against peers measured in the
//! same run survive the drift. Not part of `cargo xtask ci`: it takes
//! minutes, and timings belong in benchmarks, never in a gate.
//!
//! The steps:
//!
//! 1. criterion runs every operation (`resil-bench/benches/ops.rs`) with a
//!    short warm-up and measurement, into a fresh
//!    `target/resil-bench/criterion/`, so no stale estimate can leak in;
//! 2. the harness binary (`resil-bench`) is built in release;
//! 3. for each operation it lists, callgrind counts the instructions inside
//!    that operation's one measuring function at two loop lengths; the
//!    difference over the difference in iterations is the cost of one
//!    operation, set-up and one-off work cancelled out
//!    (`target/resil-bench/instructions.tsv`, and the callgrind files
//!    beside it for `callgrind_annotate`);
//! 4. the harness reads both and prints the table, and writes it with the
//!    machine and the noise to `target/resil-bench/report.md`.

use core::fmt::Write as _;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::step::{self, Failed, Step};

/// criterion, briefly: 1 s warm-up, 2 s measurement and 10 samples per
/// benchmark keep the ~40 benchmarks to about three minutes on two cores.
const CRITERION: &str = "bench -p resil-bench --bench ops -- \
     --warm-up-time 1 --measurement-time 2 --sample-size 10 --noplot";

/// The instruction-count harness and report.
const HARNESS: &str = "build --release -p resil-bench --bin resil-bench";

/// The two loop lengths whose counts are differenced. Multiples of the
/// backoff rows' schedule length (8 draws), so each covers whole schedules.
const LOOPS: [u64; 2] = [10_000, 110_000];

/// Runs the benchmarks and prints the table.
///
/// # Errors
///
/// Fails at the first step that fails; the failure has been printed.
pub(crate) fn run() -> Result<(), Failed> {
    let root = step::workspace_root();
    let target = target_dir(&root);
    let out = target.join("resil-bench");
    let criterion = out.join("criterion");
    let binary = target.join("release").join("resil-bench");

    step::run_named("bench: valgrind", check_valgrind)?;
    step::run_named("bench: clean", || {
        match fs::remove_dir_all(&criterion) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(format!("{}: {err}", criterion.display())),
        }
        fs::create_dir_all(&criterion).map_err(|err| format!("{}: {err}", criterion.display()))
    })?;
    Step::cargo("bench: criterion", CRITERION)
        .env("CRITERION_HOME", &criterion.to_string_lossy())
        .run()?;
    Step::cargo("bench: harness", HARNESS).run()?;
    let counts = out.join("instructions.tsv");
    step::run_named("bench: instruction counts", || {
        count_instructions(&binary, &out, &counts)
    })?;
    step::run_named("bench: report", || {
        let report = out.join("report.md");
        let status = Command::new(&binary)
            .arg("report")
            .arg("--criterion")
            .arg(&criterion)
            .arg("--instr")
            .arg(&counts)
            .arg("--out")
            .arg(&report)
            .status()
            .map_err(|err| format!("could not start {}: {err}", binary.display()))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("the report exited with {status}"))
        }
    })?;
    Ok(())
}

/// cargo's target directory: `$CARGO_TARGET_DIR` (relative to the
/// workspace root, where every step runs) or `target/`.
fn target_dir(root: &Path) -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// valgrind must be installed; say how if it is not.
fn check_valgrind() -> Result<(), String> {
    let output = Command::new("valgrind")
        .arg("--version")
        .output()
        .map_err(|err| format!("valgrind is needed for instruction counts ({err}); on Debian: apt-get install valgrind"))?;
    if output.status.success() {
        eprintln!("    {}", String::from_utf8_lossy(&output.stdout).trim());
        Ok(())
    } else {
        Err(format!(
            "`valgrind --version` exited with {}",
            output.status
        ))
    }
}

/// Counts instructions per operation for everything `binary list` names,
/// writing `id <TAB> per-op <TAB> n1 <TAB> n2 <TAB> total1 <TAB> total2`
/// lines to `counts`.
fn count_instructions(binary: &Path, out: &Path, counts: &Path) -> Result<(), String> {
    let listing = Command::new(binary)
        .arg("list")
        .output()
        .map_err(|err| format!("could not start {}: {err}", binary.display()))?;
    if !listing.status.success() {
        return Err(format!("`resil-bench list` exited with {}", listing.status));
    }
    let listing = String::from_utf8_lossy(&listing.stdout);
    let dir = out.join("callgrind");
    fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let mut tsv = String::from(
        "# instructions per operation: (total at n2 - total at n1) / (n2 - n1)\n\
         # id\tper_op\tn1\tn2\ttotal_n1\ttotal_n2\n",
    );
    for line in listing.lines() {
        let (id, function) = line
            .split_once('\t')
            .ok_or_else(|| format!("`resil-bench list` printed {line:?}"))?;
        let mut totals = [0u64; 2];
        for (total, n) in totals.iter_mut().zip(LOOPS) {
            let file = dir.join(format!("{}.{n}.out", id.replace('/', ".")));
            *total = callgrind(binary, id, function, n, &file)?;
        }
        let [first, second] = totals;
        if first == 0 || second <= first {
            return Err(format!(
                "{id}: callgrind counted {first} and {second} instructions inside `{function}` \
                 at {} and {} iterations; was the function renamed or inlined?",
                LOOPS[0], LOOPS[1]
            ));
        }
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let per_op = (second - first) as f64 / (LOOPS[1] - LOOPS[0]) as f64;
        eprintln!("    {id}: {per_op:.1} instructions");
        let _ = writeln!(
            tsv,
            "{id}\t{per_op:.2}\t{}\t{}\t{first}\t{second}",
            LOOPS[0], LOOPS[1]
        );
    }
    fs::write(counts, tsv).map_err(|err| format!("{}: {err}", counts.display()))
}

/// Runs `binary run <id> <n>` under callgrind, counting only inside
/// `function`, and returns the total it counted.
fn callgrind(binary: &Path, id: &str, function: &str, n: u64, file: &Path) -> Result<u64, String> {
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg(format!("--toggle-collect={function}"))
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(binary)
        .args(["run", id, &n.to_string()])
        .output()
        .map_err(|err| format!("could not start valgrind: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "valgrind on `{id}` exited with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = fs::read_to_string(file).map_err(|err| format!("{}: {err}", file.display()))?;
    totals(&text).ok_or_else(|| format!("{}: no `totals:` line", file.display()))
}

/// The `totals:` (or, failing that, `summary:`) line of a callgrind file.
fn totals(text: &str) -> Option<u64> {
    let find = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|count| count.parse().ok())
    };
    find("totals:").or_else(|| find("summary:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callgrind_totals_are_read() {
        let file = "events: Ir\nfn=(1) main\n0 5\nsummary: 1234\ntotals: 1234\n";
        assert_eq!(totals(file), Some(1234));
        assert_eq!(totals("summary: 99\n"), Some(99));
        assert_eq!(totals("events: Ir\n"), None);
    }

    #[test]
    fn loops_cover_whole_backoff_schedules() {
        assert!(LOOPS.iter().all(|n| n % 8 == 0));
        assert!(LOOPS[0] < LOOPS[1]);
    }
}
