//! Criterion benchmarks of every operation in `resil_bench`'s list, named
//! `<row>/<impl>` (criterion writes `<row>/<impl>/new/estimates.json`).
//!
//! `cargo xtask bench` runs these with short warm-up and measurement times
//! and reads the estimates back; `cargo bench -p resil-bench` runs them
//! alone with the same defaults, set below.

use core::time::Duration;
use std::sync::Barrier;
use std::thread;

use criterion::{Bencher, Criterion};
use resil_bench::{Impl, Measure, Operation, Row, Visitor};

/// Registers each operation with criterion.
struct Register<'c>(&'c mut Criterion);

impl Visitor for Register<'_> {
    fn single<O: Operation>(&mut self, row: &'static Row, imp: &'static Impl, measure: Measure<O>) {
        let mut op = O::new();
        let mut group = self.0.benchmark_group(row.id);
        // The harness's own loop, timed: the same code callgrind counts.
        group.bench_function(imp.name, |b| {
            b.iter_custom(|iters| stopwatch(|| measure(&mut op, iters)));
        });
        group.finish();
    }

    fn two_threads<O: Operation + Clone + Send>(
        &mut self,
        row: &'static Row,
        imp: &'static Impl,
        measure: Measure<O>,
    ) {
        let op = O::new();
        let mut group = self.0.benchmark_group(row.id);
        group.bench_function(imp.name, |b| on_two_threads(b, &op, measure));
        group.finish();
    }
}

/// Times `iters` runs on each of two threads at once, each on its own
/// clone of `op` (the clones share one breaker). The time is the wall
/// time from both threads starting to both finishing, so it reads as the
/// time of one operation per thread under contention.
fn on_two_threads<O: Operation + Clone + Send>(b: &mut Bencher<'_>, op: &O, measure: Measure<O>) {
    b.iter_custom(|iters| {
        let barrier = Barrier::new(3);
        thread::scope(|scope| {
            for _ in 0..2 {
                let mut op = op.clone();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    measure(&mut op, iters);
                    barrier.wait();
                });
            }
            // The threads are spawned before the clock starts.
            barrier.wait();
            stopwatch(|| {
                barrier.wait();
            })
        })
    });
}

/// How long `f` takes on the wall clock.
#[allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures real time; nothing here is library code"
)]
fn stopwatch(f: impl FnOnce()) -> Duration {
    let start = std::time::Instant::now();
    f();
    start.elapsed()
}

/// Every operation, with short defaults so that the whole suite takes a few
/// minutes on two cores; the command line overrides them. (What
/// `criterion_group!` and `criterion_main!` would write, by hand: their
/// generated functions carry no docs, which the workspace lints require.)
fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10)
        .configure_from_args();
    resil_bench::visit(&mut Register(&mut criterion));
    criterion.final_summary();
}
