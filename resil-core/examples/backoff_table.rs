//! Prints resil's backoff schedules: for each growth and jitter mode, one
//! seeded sequence of the delays before retries 1–10, and the minimum, mean
//! and maximum of each delay over 10,000 seeded sequences.
//!
//! Run it with `cargo xtask demo` (or `cargo run -p resil-core --example
//! backoff_table`). Everything is computed, nothing waits: the numbers come
//! from the same `Backoff` a retry policy uses.

use core::time::Duration;

use resil_core::{Backoff, BackoffBuilder, Jitter};

const RETRIES: usize = 10;
const SEQUENCES: u64 = 10_000;
const BASE: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(10);

fn main() {
    let growths: [(&str, BackoffBuilder); 4] = [
        ("constant 100ms", Backoff::constant(BASE)),
        ("linear 100ms + 100ms·n", Backoff::linear(BASE, BASE)),
        ("exponential 100ms × 2ⁿ", Backoff::exponential(BASE, 2.0)),
        ("fibonacci 100ms", Backoff::fibonacci(BASE)),
    ];
    let jitters = [
        Jitter::None,
        Jitter::Full,
        Jitter::Equal,
        Jitter::Decorrelated,
    ];

    println!(
        "resil backoff schedules: delay before retry n, in milliseconds; max_delay {MAX_DELAY:?}"
    );
    println!("'seed 1' is one sequence; min/mean/max are over {SEQUENCES} seeded sequences\n");
    for (name, builder) in growths {
        for jitter in jitters {
            let backoff = match builder.max_delay(MAX_DELAY).jitter(jitter).build() {
                Ok(backoff) => backoff,
                Err(err) => {
                    eprintln!("{name}, jitter {jitter:?}: {err}");
                    std::process::exit(1);
                }
            };
            print_block(&format!("{name}, jitter {jitter:?}"), &backoff);
        }
    }
}

fn print_block(title: &str, backoff: &Backoff) {
    let stats = Stats::over(backoff);
    println!("{title}");
    print_row("retry", (1..=RETRIES).map(|n| format!("{n}")));
    print_row("seed 1", backoff.iter_seeded(1).take(RETRIES).map(millis));
    print_row("min", stats.min.iter().map(|&d| millis(d)));
    print_row("mean", stats.mean().map(millis));
    print_row("max", stats.max.iter().map(|&d| millis(d)));
    println!();
}

fn print_row(label: &str, cells: impl Iterator<Item = String>) {
    let cells: Vec<String> = cells.map(|c| format!("{c:>8}")).collect();
    println!("  {label:<7}{}", cells.join(""));
}

fn millis(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// Per-retry minimum, sum and maximum over many seeded sequences.
struct Stats {
    min: [Duration; RETRIES],
    sum: [Duration; RETRIES],
    max: [Duration; RETRIES],
}

impl Stats {
    fn over(backoff: &Backoff) -> Self {
        let mut stats = Stats {
            min: [Duration::MAX; RETRIES],
            sum: [Duration::ZERO; RETRIES],
            max: [Duration::ZERO; RETRIES],
        };
        for seed in 0..SEQUENCES {
            for (i, delay) in backoff.iter_seeded(seed).take(RETRIES).enumerate() {
                stats.min[i] = stats.min[i].min(delay);
                stats.sum[i] = stats.sum[i].saturating_add(delay);
                stats.max[i] = stats.max[i].max(delay);
            }
        }
        stats
    }

    fn mean(&self) -> impl Iterator<Item = Duration> + '_ {
        self.sum.iter().map(|&total| total / SEQUENCES as u32)
    }
}
