//! Turning runs into what people read: a terminal table per scenario, and
//! one self-contained HTML report with the tables and the charts.
//!
//! Why one table shape for every scenario? So that the eye learns where to
//! look once: success first (what users feel), then amplification (what
//! the downstream feels), then latency and recovery.

use core::fmt::Write as _;
use core::time::Duration;
use std::path::{Path, PathBuf};

use resil_shed::Priority;

use crate::chart::{Chart, Line};
use crate::metrics::{Recovery, Summary};
use crate::repro::{JitterExperiment, JitterResult};
use crate::run::ScenarioRun;
use crate::scenario::Human;

/// A priority's short name for tables.
pub fn priority_name(p: Priority) -> &'static str {
    match p {
        Priority::CriticalPlus => "critical+",
        Priority::Critical => "critical",
        Priority::SheddablePlus => "sheddable+",
        Priority::Sheddable => "sheddable",
    }
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn latency(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_owned(), |d| Human(round_ms(d)).to_string())
}

/// Rounds to 0.1 ms above a millisecond, for tables.
fn round_ms(d: Duration) -> Duration {
    if d < Duration::from_millis(1) {
        d
    } else {
        Duration::from_micros((d.as_micros() as u64).div_ceil(100) * 100)
    }
}

fn recovery(r: Recovery) -> String {
    match r {
        Recovery::NoFault => "-".to_owned(),
        Recovery::After(d) => Human(d).to_string(),
        Recovery::Never => "never".to_owned(),
    }
}

/// The columns of a scenario's table, and each row's cells.
fn rows(run: &ScenarioRun) -> (Vec<String>, Vec<Vec<String>>) {
    let priorities = run.scenario.workload.priorities();
    let has_fault = !run.scenario.faults.is_empty();
    let mut header = vec!["client".to_owned(), "success".to_owned()];
    if priorities.len() > 1 {
        header.extend(priorities.iter().map(|p| priority_name(*p).to_owned()));
    }
    if has_fault {
        header.push("success in fault".to_owned());
    }
    header.extend(["goodput/s", "amplification"].map(str::to_owned));
    if has_fault {
        header.push("ampl. in fault".to_owned());
    }
    header.extend(["p50", "p99", "p99.9"].map(str::to_owned));
    if has_fault {
        header.push("recovery".to_owned());
    }
    let body = run
        .clients
        .iter()
        .map(|c| {
            let s: &Summary = &c.summary;
            let mut row = vec![s.client.clone(), percent(s.success_rate())];
            if priorities.len() > 1 {
                row.extend(
                    priorities
                        .iter()
                        .map(|p| s.success_rate_of(*p).map_or("-".to_owned(), percent)),
                );
            }
            if has_fault {
                row.push(
                    s.fault
                        .map_or("-".to_owned(), |f| percent(f.success_rate())),
                );
            }
            row.push(format!("{:.1}", s.goodput));
            row.push(format!("{:.2}x", s.amplification()));
            if has_fault {
                row.push(
                    s.fault
                        .map_or("-".to_owned(), |f| format!("{:.2}x", f.amplification())),
                );
            }
            row.extend([latency(s.p50), latency(s.p99), latency(s.p999)]);
            if has_fault {
                row.push(recovery(s.recovery));
            }
            row
        })
        .collect();
    (header, body)
}

/// The scenario's headline: name, faults, load.
fn headline(run: &ScenarioRun) -> String {
    let s = &run.scenario;
    let faults: Vec<String> = s
        .faults
        .iter()
        .map(|f| format!("{} {}–{}", f.kind.label(), Human(f.start), Human(f.end)))
        .collect();
    format!(
        "{} (seed {}, {} simulated, {}{})",
        s.name,
        run.seed,
        Human(s.duration),
        if faults.is_empty() {
            "no fault".to_owned()
        } else {
            faults.join(", ")
        },
        if s.mid_tier.is_some() {
            ", client → mid-tier → backend"
        } else {
            ""
        }
    )
}

/// The terminal table of one scenario's run.
pub fn table(run: &ScenarioRun) -> String {
    let (header, body) = rows(run);
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &body {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w - cell.chars().count();
            if i == 0 {
                let _ = write!(out, "{cell}{}", " ".repeat(pad));
            } else {
                let _ = write!(out, "  {}{cell}", " ".repeat(pad));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = format!("== {}\n", headline(run));
    out.push_str(&line(&header));
    out.push('\n');
    for row in &body {
        out.push_str(&line(row));
        out.push('\n');
    }
    if let Some(extra) = throttle_table(run) {
        out.push_str(&extra);
    }
    out
}

/// The same table in Markdown (for the README and the report).
pub fn markdown_table(run: &ScenarioRun) -> String {
    let (header, body) = rows(run);
    let mut out = format!("| {} |\n|", header.join(" | "));
    for i in 0..header.len() {
        out.push_str(if i == 0 { "---|" } else { "--:|" });
    }
    out.push('\n');
    for row in body {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out
}

/// For a scenario with throttled clients: what reached the backend per
/// what it accepted, beside the SRE book's K, over the run's second half
/// (after the throttle's window has filled).
fn throttle_table(run: &ScenarioRun) -> Option<String> {
    if run.scenario.clients.iter().all(|c| c.throttle.is_none()) {
        return None;
    }
    let mut out = String::from(
        "SRE client-side throttling (second half of the run): requests reaching the backend per request it accepted\n",
    );
    for (spec, client) in run.scenario.clients.iter().zip(&run.clients) {
        let s = &client.series;
        let half = s.attempts.len() / 2;
        let secs = (s.attempts.len() - half) as f64 * s.bucket.as_secs_f64();
        let reaching: u64 = s.attempts[half..].iter().sum();
        let accepted: u64 = s.successes_by_priority[half..]
            .iter()
            .map(|c| c.iter().sum::<u64>())
            .sum();
        let ratio = if accepted > 0 {
            reaching as f64 / accepted as f64
        } else {
            f64::INFINITY
        };
        let published = spec.throttle.map_or_else(
            || "no throttle: every request reaches it".to_owned(),
            |t| format!("published: about K = {}", t.k),
        );
        let _ = writeln!(
            out,
            "  {:16} reaching {:6.1}/s  accepted {:6.1}/s  ratio {:4.2}  ({published})",
            client.summary.client,
            reaching as f64 / secs,
            accepted as f64 / secs,
            ratio
        );
    }
    Some(out)
}

/// The jitter experiment's table, beside the blog post's findings.
pub fn jitter_table(experiment: &JitterExperiment, results: &[JitterResult]) -> String {
    let mut out = format!(
        "== AWS \"Exponential Backoff And Jitter\": {} clients on one OCC resource, {} calls, base {}, cap {}, mean of {} runs\n",
        experiment.clients,
        Human(experiment.call),
        Human(experiment.base),
        Human(experiment.cap),
        experiment.runs
    );
    let _ = writeln!(
        out,
        "{:20}  {:>10}  {:>12}",
        "strategy", "calls", "completion"
    );
    for r in results {
        let _ = writeln!(
            out,
            "{:20}  {:>10.1}  {:>12}",
            r.strategy,
            r.calls,
            Human(round_ms(r.completion)).to_string()
        );
    }
    out.push_str("published: no jitter does the most work and takes the longest; equal jitter does slightly more work than full and takes much longer; full does less work than decorrelated but takes slightly more time\n");
    out
}

/// The SVG charts of one scenario run: `(caption, svg)`.
fn charts(run: &ScenarioRun) -> Vec<(String, String)> {
    let s = &run.scenario;
    let shade = s.fault_windows();
    let x_max = s.duration.as_secs_f64();
    let bucket = s.bucket.as_secs_f64();
    let x = |i: usize| (i as f64 + 0.5) * bucket;
    let mut out = Vec::new();
    let mut push = |title: String, y_label: &str, y_max: Option<f64>, lines: Vec<Line>| {
        let chart = Chart {
            title: &title,
            y_label,
            x_max,
            y_max,
            shade: &shade,
            lines: &lines,
        };
        let svg = chart
            .svg()
            .unwrap_or_else(|e| format!("<p>chart failed: {e}</p>"));
        out.push((title.clone(), svg));
    };
    let lines = |f: &dyn Fn(&crate::metrics::Series, usize) -> Option<f64>| {
        run.clients
            .iter()
            .map(|c| Line {
                name: c.summary.client.clone(),
                points: (0..c.series.attempts.len())
                    .map(|i| (x(i), f(&c.series, i)))
                    .collect(),
            })
            .collect::<Vec<_>>()
    };
    push(
        format!("{}: requests reaching the downstream", s.name),
        "attempts / s",
        None,
        lines(&|series, i| Some(series.attempts[i] as f64 / bucket)),
    );
    let priorities = s.workload.priorities();
    if priorities.len() > 1 {
        for p in priorities {
            push(
                format!("{}: success rate, {} requests", s.name, priority_name(p)),
                "success rate",
                Some(1.05),
                lines(&|series, i| series.success_rate(i, Some(p))),
            );
        }
    } else {
        push(
            format!("{}: success rate", s.name),
            "success rate",
            Some(1.05),
            lines(&|series, i| series.success_rate(i, None)),
        );
    }
    push(
        format!("{}: p99 latency of successful requests", s.name),
        "seconds",
        None,
        lines(&|series, i| series.latency[i].1.map(|d| d.as_secs_f64())),
    );
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes `index.html` under `dir` (created if need be): every scenario's
/// table and charts, and the jitter reproduction if given. Returns the
/// file's path.
///
/// # Errors
///
/// An I/O error creating the directory or writing the file.
pub fn write_html(
    dir: &Path,
    runs: &[ScenarioRun],
    jitter: Option<(&JitterExperiment, &[JitterResult])>,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>resil-sim report</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}pre{background:#f6f6f6;padding:1em;overflow:auto}figure{margin:1em 0}</style></head><body>\n<h1>resil-sim report</h1>\n<p>Every number below comes from a deterministic virtual-time run of the real resil crates (same seed, same numbers). Shaded: the fault. <em>Amplification</em>: attempts reaching the downstream ÷ client requests. Latency: arrival to answer of successful requests, retries included. <em>Recovery</em>: time after the fault until the success rate is back to 95% of its pre-fault value for 3 buckets in a row.</p>\n",
    );
    for run in runs {
        let _ = writeln!(html, "<h2>{}</h2>", escape(&headline(run)));
        let _ = writeln!(html, "<p>{}</p>", escape(&run.scenario.description));
        let (header, body) = rows(run);
        html.push_str("<table><tr>");
        for h in &header {
            let _ = write!(html, "<th>{}</th>", escape(h));
        }
        html.push_str("</tr>\n");
        for row in &body {
            html.push_str("<tr>");
            for cell in row {
                let _ = write!(html, "<td>{}</td>", escape(cell));
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</table>\n");
        if let Some(extra) = throttle_table(run) {
            let _ = writeln!(html, "<pre>{}</pre>", escape(&extra));
        }
        for (caption, svg) in charts(run) {
            let _ = writeln!(
                html,
                "<figure>{svg}<figcaption>{}</figcaption></figure>",
                escape(&caption)
            );
        }
    }
    if let Some((experiment, results)) = jitter {
        html.push_str("<h2>Reproduction: AWS \"Exponential Backoff And Jitter\"</h2>\n");
        let _ = writeln!(
            html,
            "<pre>{}</pre>",
            escape(&jitter_table(experiment, results))
        );
    }
    html.push_str("</body></html>\n");
    let path = dir.join("index.html");
    std::fs::write(&path, html)?;
    Ok(path)
}

/// Writes `report.md` under `dir`: every scenario's table in Markdown (the
/// charts are in the HTML report), and the jitter reproduction. Returns
/// the file's path.
///
/// # Errors
///
/// An I/O error creating the directory or writing the file.
pub fn write_markdown(
    dir: &Path,
    runs: &[ScenarioRun],
    jitter: Option<(&JitterExperiment, &[JitterResult])>,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut md = String::from("# resil-sim report\n\nCharts: `index.html` beside this file.\n");
    for run in runs {
        let _ = write!(
            md,
            "\n## {}\n\n{}\n\n{}",
            headline(run),
            run.scenario.description,
            markdown_table(run)
        );
        if let Some(extra) = throttle_table(run) {
            let _ = write!(md, "\n```text\n{extra}```\n");
        }
    }
    if let Some((experiment, results)) = jitter {
        let _ = write!(
            md,
            "\n## Reproduction\n\n```text\n{}```\n",
            jitter_table(experiment, results)
        );
    }
    let path = dir.join("report.md");
    std::fs::write(&path, md)?;
    Ok(path)
}
