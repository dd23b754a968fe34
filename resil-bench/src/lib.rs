//! Benchmarks of resil against its peers, measured in one run on one
//! machine: wall-clock time with criterion, and instructions per operation
//! with callgrind.
//!
//! Why both: the machines here are shared and noisy, so nanoseconds drift
//! from run to run, while an instruction count of the same binary repeats
//! exactly. A ratio against a peer measured in the same run survives the
//! drift; an absolute figure on its own does not. `cargo xtask bench` runs
//! everything and prints one table (see `xtask/src/bench.rs`).
//!
//! # Layout
//!
//! - One list below (the `operations!` macro) names every row of the table: an
//!   operation, and the implementations that perform it — resil's, its
//!   peers', and baselines. From that list come the [`ROWS`] of the report,
//!   the criterion benchmarks ([`visit`], driven by `benches/ops.rs`) and
//!   the instruction-count functions ([`instr`]), so the three cannot
//!   drift apart.
//! - Each implementation is an [`Operation`]: built once (and checked: a
//!   breaker meant to reject must be rejecting), then run again and again.
//!   Criterion and the instruction harness time and count the very same
//!   loop over `run` (one `#[inline(never)]` function per operation), which
//!   black-boxes every result.
//! - [`breaker`], [`retry`], [`delay`], [`shed`], [`pipeline`] and [`reference`](mod@reference)
//!   hold the operations and, in their docs, how each peer is configured to
//!   do the same work as resil.
//! - [`report`] turns criterion's estimates and the instruction counts
//!   into the table.
//!
//! # Adding rows
//!
//! A new technique is a new module of [`Operation`]s and a new block in the
//! list (as [`shed`] was: resil-shed's limiter beside tower's
//! `ConcurrencyLimit` + `LoadShed` and tokio's `Semaphore`); nothing else
//! changes. The report picks the best peer of each row by itself; a row
//! with resil alone (no peer does the same work) shows a dash for the peer.

#![forbid(unsafe_code)]

pub mod breaker;
mod catalog;
pub mod delay;
mod op;
pub mod pipeline;
pub mod reference;
pub mod report;
pub mod retry;
pub mod shed;

use catalog::operations;

pub use catalog::{Impl, Measure, Measured, Role, Row, TARGETS, Target, Visitor};
pub use op::{Failure, Operation, fail, ok, poll_once};

operations! {
    single {
        breaker_success_count
            "breaker: closed, call succeeds (count window)" {
            resil "resil (count window 100)" Resil
                => crate::breaker::Success<crate::breaker::ResilCount>,
            recloser "recloser (ring buffer 100)" Peer
                => crate::breaker::Success<crate::breaker::RecloserCount>,
            failsafe "failsafe (consecutive failures)" Peer
                => crate::breaker::Success<crate::breaker::FailsafeConsecutive>,
        }
        breaker_success_time
            "breaker: closed, call succeeds (time window)" {
            resil "resil (time window 30s/5)" Resil
                => crate::breaker::Success<crate::breaker::ResilTime>,
            failsafe "failsafe (default policy)" Peer
                => crate::breaker::Success<crate::breaker::FailsafeDefault>,
        }
        breaker_failure_count
            "breaker: closed, a failure + a success (stays closed)" {
            resil "resil (count window 100)" Resil
                => crate::breaker::FailureThenSuccess<crate::breaker::ResilCount>,
            recloser "recloser (ring buffer 100)" Peer
                => crate::breaker::FailureThenSuccess<crate::breaker::RecloserCount>,
            failsafe "failsafe (consecutive failures)" Peer
                => crate::breaker::FailureThenSuccess<crate::breaker::FailsafeConsecutive>,
        }
        breaker_rejected
            "breaker: open, call rejected" {
            resil "resil (count window 100)" Resil
                => crate::breaker::Rejection<crate::breaker::ResilCount>,
            recloser "recloser (ring buffer 100)" Peer
                => crate::breaker::Rejection<crate::breaker::RecloserCount>,
            failsafe "failsafe (consecutive failures)" Peer
                => crate::breaker::Rejection<crate::breaker::FailsafeConsecutive>,
        }
        retry_blocking
            "retry: first attempt succeeds, blocking" {
            resil "resil" Resil => crate::retry::BlockingResil,
            backon "backon" Peer => crate::retry::BlockingBackon,
            backoff "backoff" Peer => crate::retry::BlockingBackoff,
            bare "the bare call" Baseline => crate::retry::BlockingBare,
        }
        retry_async
            "retry: first attempt succeeds, async (one poll)" {
            resil "resil" Resil => crate::retry::AsyncResil,
            backon "backon" Peer => crate::retry::AsyncBackon,
            backoff "backoff" Peer => crate::retry::AsyncBackoff,
            bare "the bare call" Baseline => crate::retry::AsyncBare,
        }
        delay_plain
            "backoff: next delay, exponential, no jitter" {
            resil "resil" Resil => crate::delay::Resil<false>,
            backon "backon" Peer => crate::delay::Backon<false>,
            backoff "backoff" Peer => crate::delay::BackoffCrate<false>,
        }
        delay_jitter
            "backoff: next delay, exponential, jittered" {
            resil "resil (full jitter)" Resil => crate::delay::Resil<true>,
            backon "backon (jitter)" Peer => crate::delay::Backon<true>,
            backoff "backoff (randomization 0.5)" Peer => crate::delay::BackoffCrate<true>,
        }
        limiter_fixed
            "limiter: try_acquire + release, fixed limit (uncongested)" {
            resil "resil (Fixed 100, try_acquire + drop)" Resil
                => crate::shed::ResilFixed,
            tokio "tokio Semaphore (100, try_acquire + drop)" Peer
                => crate::shed::TokioSemaphore,
            tower "tower ConcurrencyLimit (100, poll_ready + call, future dropped unpolled)" Peer
                => crate::shed::TowerLimit,
            tower_load_shed
                "tower LoadShed(ConcurrencyLimit) (100, poll_ready + call, future dropped unpolled)"
                Peer => crate::shed::TowerLoadShed,
        }
        limiter_aimd
            "limiter: try_acquire + success, adaptive limit (AIMD)" {
            resil "resil (Aimd defaults, permit.success())" Resil
                => crate::shed::ResilAimd,
        }
        throttle
            "throttle: check + accepted (SRE adaptive throttle)" {
            resil "resil (K 2, window 120s)" Resil => crate::shed::ResilThrottle,
        }
        pipeline
            "pipeline: shed + retry + breaker, first attempt succeeds (one poll)" {
            resil "resil Pipeline (Fixed 100, retry 3, count window 100)" Resil
                => crate::pipeline::ResilPipeline,
            peers "tokio Semaphore + backon + failsafe, by hand" Peer
                => crate::pipeline::PeersByHand,
            bare "the bare call" Baseline => crate::retry::AsyncBare,
        }
        governor_check
            "reference: governor `check()`, allowed" {
            governor "governor" Peer => crate::reference::GovernorCheck,
        }
        baseline_empty
            "baseline: an empty closure" {
            closure "empty closure" Baseline => crate::reference::EmptyClosure,
        }
        baseline_fetch_add
            "baseline: one uncontended `fetch_add`" {
            fetch_add "AtomicU64::fetch_add" Baseline => crate::reference::FetchAdd,
        }
        baseline_now
            "baseline: `std::time::Instant::now`" {
            now "Instant::now" Baseline => crate::reference::Now,
        }
    }
    two_threads {
        breaker_success_count_2t
            "breaker: closed, call succeeds (count window), 2 threads" {
            resil "resil (count window 100)" Resil
                => crate::breaker::Success<crate::breaker::ResilCount>,
            recloser "recloser (ring buffer 100)" Peer
                => crate::breaker::Success<crate::breaker::RecloserCount>,
            failsafe "failsafe (consecutive failures)" Peer
                => crate::breaker::Success<crate::breaker::FailsafeConsecutive>,
        }
        breaker_failure_count_2t
            "breaker: closed, a failure + a success, 2 threads" {
            resil "resil (count window 100)" Resil
                => crate::breaker::FailureThenSuccess<crate::breaker::ResilCount>,
            recloser "recloser (ring buffer 100)" Peer
                => crate::breaker::FailureThenSuccess<crate::breaker::RecloserCount>,
            failsafe "failsafe (consecutive failures)" Peer
                => crate::breaker::FailureThenSuccess<crate::breaker::FailsafeConsecutive>,
        }
        breaker_rejected_2t
            "breaker: open, call rejected, 2 threads" {
            resil "resil (count window 100)" Resil
                => crate::breaker::Rejection<crate::breaker::ResilCount>,
            recloser "recloser (ring buffer 100)" Peer
                => crate::breaker::Rejection<crate::breaker::RecloserCount>,
            failsafe "failsafe (consecutive failures)" Peer
                => crate::breaker::Rejection<crate::breaker::FailsafeConsecutive>,
        }
    }
}
