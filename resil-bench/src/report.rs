//! The table: criterion's timings and callgrind's instruction counts, side
//! by side, resil against the best peer of each row.
//!
//! Inputs are what `cargo xtask bench` leaves behind: criterion's
//! `<dir>/<row>/<impl>/new/estimates.json` (read with `serde_json`, which is
//! why this crate depends on it) and a tab-separated file of instruction
//! counts, one `row/impl` per line.

use core::fmt::Write as _;
use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::{Role, TARGETS};

/// A criterion timing of one implementation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// The median time of one operation, in nanoseconds (for two-thread
    /// rows: of one operation on each thread, both running at once).
    pub ns: f64,
    /// The median absolute deviation across samples, as a share of `ns`.
    pub spread: f64,
}

/// One line of the instruction-count file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Count {
    /// Instructions per operation.
    pub per_op: f64,
    /// The two loop lengths that were differenced.
    pub loops: (u64, u64),
}

/// Everything measured, by `row/impl` id.
#[derive(Clone, Debug, Default)]
pub struct Measurements {
    /// criterion's timings.
    pub timings: HashMap<String, Timing>,
    /// callgrind's counts.
    pub counts: HashMap<String, Count>,
}

impl Measurements {
    /// Reads criterion's estimates under `criterion_dir` for every row of
    /// the table, and the instruction counts in `counts_file`. Missing
    /// measurements are left out (the report shows a dash, and
    /// [`Report::missing`] lists them).
    ///
    /// # Errors
    ///
    /// A file that exists but cannot be read or parsed.
    pub fn read(criterion_dir: &Path, counts_file: &Path) -> Result<Self, String> {
        let mut measurements = Measurements::default();
        for row in crate::ROWS {
            for imp in row.impls {
                let path = criterion_dir
                    .join(row.id)
                    .join(imp.name)
                    .join("new")
                    .join("estimates.json");
                if path.is_file() {
                    let timing = read_estimate(&path)?;
                    measurements.timings.insert(row.id_of(imp), timing);
                }
            }
        }
        if counts_file.is_file() {
            let text = fs::read_to_string(counts_file)
                .map_err(|err| format!("{}: {err}", counts_file.display()))?;
            measurements.counts =
                parse_counts(&text).map_err(|err| format!("{}: {err}", counts_file.display()))?;
        }
        Ok(measurements)
    }
}

/// Reads criterion's median and its median absolute deviation.
fn read_estimate(path: &Path) -> Result<Timing, String> {
    let text = fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|err| format!("{}: {err}", path.display()))?;
    let point = |key: &str| {
        json.get(key)
            .and_then(|estimate| estimate.get("point_estimate"))
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| format!("{}: no `{key}.point_estimate`", path.display()))
    };
    let ns = point("median")?;
    let mad = point("median_abs_dev")?;
    Ok(Timing {
        ns,
        spread: if ns > 0.0 { mad / ns } else { 0.0 },
    })
}

/// The instruction-count file: `id <TAB> per_op <TAB> n1 <TAB> n2`, `#`
/// comments.
///
/// # Errors
///
/// A line that does not parse.
pub fn parse_counts(text: &str) -> Result<HashMap<String, Count>, String> {
    let mut counts = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let parsed = match fields.as_slice() {
            [id, per_op, n1, n2, ..] => per_op
                .parse()
                .ok()
                .zip(n1.parse().ok().zip(n2.parse().ok()))
                .map(|(per_op, loops)| (id.to_string(), Count { per_op, loops })),
            _ => None,
        };
        let (id, count) = parsed.ok_or_else(|| format!("line {}: {line:?}", number + 1))?;
        counts.insert(id, count);
    }
    Ok(counts)
}

/// The rendered report.
#[derive(Clone, Debug)]
pub struct Report {
    /// The summary table, in Markdown, as printed.
    pub table: String,
    /// One line on the machine.
    pub machine: String,
    /// One line on the noise.
    pub noise: String,
    /// The whole report (`report.md`).
    pub markdown: String,
    /// `row/impl` ids with no timing, or no count where one was expected.
    pub missing: Vec<String>,
}

/// One implementation's figures.
#[derive(Clone, Copy, Debug)]
struct Figures {
    label: &'static str,
    timing: Option<Timing>,
    count: Option<f64>,
}

/// Builds the report from `measurements`, describing `machine`.
pub fn render(measurements: &Measurements, machine: &str) -> Report {
    let mut missing = Vec::new();
    let mut table = String::from(
        "| operation | resil ns/op | best peer | peer ns/op | ratio | resil instr/op | peer instr/op | ratio |\n\
         |---|--:|---|--:|--:|--:|--:|--:|\n",
    );
    let mut full = String::from(
        "| operation | implementation | ns/op | spread | instr/op |\n|---|---|--:|--:|--:|\n",
    );
    for row in crate::ROWS {
        let figures = |role: Role| -> Vec<Figures> {
            row.impls
                .iter()
                .filter(|imp| imp.role == role)
                .map(|imp| {
                    let id = row.id_of(imp);
                    Figures {
                        label: imp.label,
                        timing: measurements.timings.get(&id).copied(),
                        count: measurements.counts.get(&id).map(|c| c.per_op),
                    }
                })
                .collect()
        };
        for imp in row.impls {
            let id = row.id_of(imp);
            let timing = measurements.timings.get(&id);
            let count = measurements.counts.get(&id);
            if timing.is_none() {
                missing.push(format!("{id} (criterion)"));
            }
            if row.threads == 1 && count.is_none() {
                missing.push(format!("{id} (instructions)"));
            }
            let _ = writeln!(
                full,
                "| {} | {} | {} | {} | {} |",
                row.title,
                imp.label,
                ns(timing.map(|t| t.ns)),
                timing.map_or_else(dash, |t| format!("±{:.1}%", t.spread * 100.0)),
                instructions(count.map(|c| c.per_op), row.threads),
            );
        }
        let resil = figures(Role::Resil).into_iter().next();
        let peers = figures(Role::Peer);
        // Rows of baselines alone show the baseline where the peer would be.
        let candidates = if peers.is_empty() && resil.is_none() {
            figures(Role::Baseline)
        } else {
            peers
        };
        // The best peer per column: the fastest for the times, the one with
        // the fewest instructions for the counts. They differ when a peer
        // makes few but slow instructions (a clock read: 33 instructions,
        // ~20 ns), and resil is compared against the stronger of the two in
        // each column.
        let fastest = best_by(&candidates, |f| f.timing.map(|t| t.ns));
        let leanest = best_by(&candidates, |f| f.count);
        let name = match (fastest, leanest) {
            (Some(a), Some(b)) if a.label != b.label => {
                format!("{} (time), {} (instr)", a.label, b.label)
            }
            (Some(f), _) | (None, Some(f)) => f.label.to_owned(),
            (None, None) => candidates.first().map_or_else(dash, |f| f.label.to_owned()),
        };
        let resil_ns = resil.and_then(|f| f.timing.map(|t| t.ns));
        let peer_ns = fastest.and_then(|f| f.timing.map(|t| t.ns));
        let resil_count = resil.and_then(|f| f.count);
        let peer_count = leanest.and_then(|f| f.count);
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            row.title,
            ns(resil_ns),
            name,
            ns(peer_ns),
            ratio(resil_ns, peer_ns),
            instructions(resil_count, row.threads),
            instructions(peer_count, row.threads),
            ratio(resil_count, peer_count),
        );
    }
    let noise = noise(measurements);
    let targets = targets(measurements);
    let loops = measurements
        .counts
        .values()
        .next()
        .map_or_else(dash, |c| format!("{} and {}", c.loops.0, c.loops.1));
    let markdown = format!(
        "# resil benchmarks\n\n\
         Machine: {machine}\n\n\
         {table}\n\
         *ns/op*: criterion's median time per operation (two-thread rows: per \
         operation on each of two threads sharing one breaker). *instr/op*: \
         instructions per operation counted by callgrind (single-threaded rows \
         only). Both measure the same compiled loop, \
         `resil_bench::instr::<row>::<impl>::measure`. *ratio*: resil ÷ best \
         peer, so below 1 means resil is cheaper. The best peer is chosen per \
         column: the fastest for ns/op, the one with the fewest instructions \
         for instr/op (named twice when they differ). How each peer is \
         configured: the docs of \
         `resil-bench/src/{{breaker,retry,delay,shed,reference}}.rs`.\n\n\
         ## Noise\n\n{noise}\n\n\
         Instruction counts are exact for a given binary and repeat from run to \
         run: each is the difference between callgrind's counts at {loops} \
         iterations of the operation, inside one `#[inline(never)]` function \
         (`resil_bench::instr::<row>::<impl>::measure`), divided by the \
         difference in iterations. A clock read counts as the ~33 instructions \
         of its user-space wrapper: under valgrind `clock_gettime` is a system \
         call whose kernel side is not counted, while natively it runs in the \
         vDSO (see the `Instant::now` baseline's time). Counts therefore \
         understate operations that read the clock, whichever crate's; their \
         ns/op is the better guide. Two-thread rows have no counts: callgrind \
         runs one thread at a time.\n\n\
         ## Targets\n\n{targets}\n\
         ## Every implementation\n\n{full}\n\
         Reproduce with `cargo xtask bench` (needs valgrind); plain `cargo bench \
         -p resil-bench` runs the timings alone.\n"
    );
    Report {
        table,
        machine: machine.to_owned(),
        noise,
        markdown,
        missing,
    }
}

/// The peer with the least of `key`, among those that have it.
fn best_by(peers: &[Figures], key: impl Fn(&Figures) -> Option<f64>) -> Option<Figures> {
    peers
        .iter()
        .filter_map(|f| key(f).map(|value| (value, *f)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, f)| f)
}

/// The noise line: how far criterion's samples spread, for single- and
/// two-thread rows apart (two threads on two shared cores are the noisy
/// ones).
fn noise(measurements: &Measurements) -> String {
    let group = |threads: u32| {
        let mut spreads: Vec<(f64, String)> = crate::ROWS
            .iter()
            .filter(|row| row.threads == threads)
            .flat_map(|row| row.impls.iter().map(move |imp| row.id_of(imp)))
            .filter_map(|id| measurements.timings.get(&id).map(|t| (t.spread, id)))
            .collect();
        spreads.sort_by(|a, b| a.0.total_cmp(&b.0));
        let median = spreads.get(spreads.len() / 2)?.0;
        let (worst, worst_id) = spreads.last()?.clone();
        Some(format!(
            "{} {}-thread benchmarks: median {:.1}%, worst {:.1}% ({worst_id})",
            spreads.len(),
            threads,
            median * 100.0,
            worst * 100.0,
        ))
    };
    let groups: Vec<String> = [1, 2].into_iter().filter_map(group).collect();
    if groups.is_empty() {
        return "no timings".to_owned();
    }
    format!(
        "criterion's spread (median absolute deviation of the samples ÷ their \
         median): {}; {}",
        groups.join("; "),
        load_average()
    )
}

/// Each target of the issue, measured.
fn targets(measurements: &Measurements) -> String {
    let mut out = String::new();
    for target in TARGETS {
        let row = crate::ROWS.iter().find(|row| row.id == target.row);
        let count = |role: Role| {
            row.and_then(|row| {
                row.impls
                    .iter()
                    .find(|imp| imp.role == role)
                    .and_then(|imp| measurements.counts.get(&row.id_of(imp)))
                    .map(|c| c.per_op)
            })
        };
        let measured = match (count(Role::Resil), target.over_baseline) {
            (Some(resil), true) => count(Role::Baseline).map(|base| resil - base),
            (resil, _) => resil,
        };
        let verdict = match measured {
            Some(m) if m <= target.max_instructions => format!("met: {m:.1}"),
            Some(m) => format!("**missed**: {m:.1}"),
            None => "not measured".to_owned(),
        };
        let _ = writeln!(out, "- {}: {verdict}", target.text);
    }
    for row in crate::ROWS.iter().filter(|row| row.threads > 1) {
        let time = |role: Role| -> Vec<f64> {
            row.impls
                .iter()
                .filter(|imp| imp.role == role)
                .filter_map(|imp| measurements.timings.get(&row.id_of(imp)).map(|t| t.ns))
                .collect()
        };
        let resil = time(Role::Resil).first().copied();
        let best = time(Role::Peer).into_iter().min_by(f64::total_cmp);
        let verdict = match (resil, best) {
            (Some(r), Some(p)) if r <= p => format!("met: {r:.1} ns vs {p:.1} ns"),
            (Some(r), Some(p)) => format!("**missed**: {r:.1} ns vs {p:.1} ns"),
            _ => "not measured".to_owned(),
        };
        let _ = writeln!(
            out,
            "- {}: resil at least as fast as the best peer: {verdict}",
            row.title
        );
    }
    out
}

/// A time for the table.
fn ns(value: Option<f64>) -> String {
    match value {
        None => dash(),
        Some(v) if v < 10.0 => format!("{v:.2}"),
        Some(v) if v < 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
    }
}

/// An instruction count for the table.
fn instructions(value: Option<f64>, threads: u32) -> String {
    match value {
        None if threads > 1 => "n/a".to_owned(),
        None => dash(),
        Some(v) if (v - v.round()).abs() < 0.05 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
    }
}

/// resil ÷ peer.
fn ratio(resil: Option<f64>, peer: Option<f64>) -> String {
    match (resil, peer) {
        (Some(r), Some(p)) if p > 0.0 => format!("{:.2}", r / p),
        _ => dash(),
    }
}

/// What the table shows for nothing.
fn dash() -> String {
    "—".to_owned()
}

/// The machine: CPU model and cores, kernel, compiler.
pub fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == "model name").then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!("Linux {}", k.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_owned());
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()))
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(
            || "rustc (unknown version)".to_owned(),
            |v| v.trim().to_owned(),
        );
    format!("{model}, {cores} cores, {kernel}, {rustc}")
}

/// The load average, a hint of how busy the machine was.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| {
            let fields: Vec<&str> = text.split_whitespace().take(3).collect();
            (fields.len() == 3).then(|| {
                format!(
                    "load average at the end of the run: {} (1, 5, 15 min)",
                    fields.join(" ")
                )
            })
        })
        .unwrap_or_else(|| "load average unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_parse_and_reject_garbage() {
        let counts = parse_counts("# comment\nrow/a\t12.5\t10\t20\t1\t2\n\n").unwrap();
        assert_eq!(
            counts["row/a"],
            Count {
                per_op: 12.5,
                loops: (10, 20)
            }
        );
        assert!(parse_counts("row/a\tmany\t10\t20\n").is_err());
    }

    #[test]
    fn the_best_peer_is_chosen_per_column() {
        let timing = |ns| Some(Timing { ns, spread: 0.01 });
        let peers = [
            Figures {
                label: "a",
                timing: timing(5.0),
                count: Some(90.0),
            },
            Figures {
                label: "b",
                timing: timing(9.0),
                count: Some(40.0),
            },
            Figures {
                label: "c",
                timing: None,
                count: None,
            },
        ];
        let fastest = best_by(&peers, |f| f.timing.map(|t| t.ns));
        assert_eq!(fastest.unwrap().label, "a");
        assert_eq!(best_by(&peers, |f| f.count).unwrap().label, "b");
        assert!(best_by(&peers[2..], |f| f.count).is_none());
    }

    #[test]
    fn a_full_report_renders_with_every_figure() {
        let mut measurements = Measurements::default();
        for row in crate::ROWS {
            for imp in row.impls {
                let id = row.id_of(imp);
                let timing = Timing {
                    ns: 10.0,
                    spread: 0.02,
                };
                measurements.timings.insert(id.clone(), timing);
                if row.threads == 1 {
                    let count = Count {
                        per_op: 30.0,
                        loops: (1, 2),
                    };
                    measurements.counts.insert(id, count);
                }
            }
        }
        let report = render(&measurements, "a test machine");
        assert!(report.missing.is_empty(), "{:?}", report.missing);
        // A header, a separator and one line per row.
        assert_eq!(report.table.lines().count(), crate::ROWS.len() + 2);
        assert!(report.markdown.contains("a test machine"));
        assert!(report.markdown.contains("met: 30.0"));
    }
}
