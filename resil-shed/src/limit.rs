//! Concurrency limits: how many calls may be in flight at once.
//!
//! Why adapt the limit at all? The right number of concurrent calls to a
//! dependency is its capacity, which nobody knows: it changes with
//! deployments, noisy neighbours, cache hit rates and the mix of requests.
//! A fixed limit set too high lets a queue build up inside the dependency
//! (latency grows, then timeouts, then retries make it worse); set too low,
//! it refuses work the dependency could have done. An adaptive limit
//! *measures* its way there, the way TCP finds a network path's capacity:
//! it raises the limit while calls come back fast and lowers it when they
//! slow down or fail.
//!
//! # The contract
//!
//! A [`Limit`] is a **pure, deterministic state machine**: it owns no
//! atomics, reads no clock and draws no random numbers. It is told about
//! each finished call through a [`Sample`] (its latency, how many calls
//! were in flight when it started, its [`Outcome`] and when it ended) and
//! answers with the new limit. The same samples in the same order always
//! give the same limits, on every platform, which is what lets the
//! crate's tests pin each algorithm's behaviour in virtual time.
//!
//! Four implementations, from the simplest. The last column is where each
//! settles against a server of capacity C = 100 (it queues beyond 100 calls
//! and fails beyond 200) with the defaults; each type's docs give the
//! measurements (`tests/convergence.rs`):
//!
//! | limit | signal | settles at | at C = 100 |
//! |---|---|---|---|
//! | [`Fixed`] | none | where it is set | — |
//! | [`Aimd`] | failures and timeouts | just under the load where calls start failing or time out (T) | 109 to 121 (timeout at T = 120) |
//! | [`Gradient2`] | mean latency against a measured baseline | `tolerance` × C + `queue_size` | 154 |
//! | [`Vegas`] | estimated queue, from the minimum latency | C + 3 to 6 × log10(limit) | 111 to 112 |
//!
//! Which to choose: [`Vegas`] holds the smallest queue and reacts fastest,
//! but trusts a minimum latency (one unusually fast call lowers its
//! baseline until the next probe); [`Gradient2`] averages, so noise moves
//! it less, and trades latency for throughput through `tolerance`;
//! [`Aimd`] needs no latency model at all, only a timeout you choose.
//!
//! # How a concurrent limiter drives it
//!
//! A limiter shared by many threads (`ConcurrencyLimit`, still to come in
//! this crate) keeps the limit it enforces in an atomic, and the adaptive
//! `Limit` behind a mutex that it only ever **try-locks**: the permit that
//! finishes a call builds a `Sample`, and if the lock is free it calls
//! [`update`](Limit::update) and stores the answer in the atomic; if another
//! thread holds the lock, the sample is dropped. Adaptive limits are
//! statistical, so losing a sample under contention costs nothing, and no
//! caller ever waits on the lock. [`Limit::ADAPTIVE`] is `false` for
//! [`Fixed`], so the limiter skips the lock (and measuring latency)
//! altogether.
//!
//! The trait is not dyn-compatible (it has an associated constant): a
//! limiter is generic over its limit, and a limit chosen at run time is an
//! enum of the four.
//!
//! # Known pathologies, and how these implementations avoid them
//!
//! The algorithms follow Netflix's
//! [concurrency-limits](https://github.com/Netflix/concurrency-limits), whose
//! versions misbehave in ways a closed-loop simulation (`tests/convergence.rs`)
//! makes obvious. Each type's docs list what it does about them; the themes:
//!
//! - **Reacting many times to one event.** Netflix's limits update on every
//!   sample, but a change to the limit shows in latencies only one round trip
//!   later, by which time a whole round trip of samples has pushed the limit
//!   the same way. Ported into the closed-loop model of
//!   `tests/convergence.rs` (capacity 100), Netflix's AIMD swings between 1
//!   and 300 and its Vegas between 1 and 400. Here a decrease only follows a
//!   call that started at or after the previous decrease
//!   ([`Sample::started`]), and [`Gradient2`] and [`Vegas`] decide once per
//!   *round*: the calls that started after the previous decision.
//! - **Growing while app-limited.** A limit that is not being used says
//!   nothing about whether a larger one would be safe. Every adaptive limit
//!   here grows only when at least half of it was in use.
//! - **A baseline that never resets, or drifts with the load.** Latency-based
//!   limits compare against a no-load latency. Never re-measuring it makes a
//!   permanent latency shift look like endless queueing and collapses the
//!   limit (from 112 to 8 in the model, when the latency triples);
//!   averaging it over every sample lets it absorb the very queueing it
//!   should detect, and the limit creeps up until calls fail (Netflix's
//!   Gradient2 reaches its maximum in the model).
//!   [`Gradient2`] and [`Vegas`] re-measure it in periodic *probe rounds* at
//!   half the limit or less, below the capacity the limit implies (as BBR's
//!   ProbeRTT does), and let nothing else raise it.
//! - **Integer rounding.** Netflix computes some steps in integers, so
//!   `(int) (limit × 0.9)` of a small limit or `log10` of a limit under 10
//!   freezes or skips. Every estimate here is an `f64`, floored only when
//!   read; arithmetic saturates, and a NaN never reaches the limit.
//! - **Failures as fast samples.** A request rejected at once by an
//!   overloaded server has a tiny latency; counting it as a latency sample
//!   *raises* a latency-based limit (Netflix #176). Here a failure is a drop,
//!   and only successes are latency samples.

pub mod aimd;
mod any;
mod bounds;
pub mod fixed;
pub mod gradient2;
mod round;
pub mod vegas;

use core::time::Duration;

use resil_core::{Instant, Outcome};

pub use aimd::{Aimd, AimdBuilder};
pub use any::AnyLimit;
pub use fixed::Fixed;
pub use gradient2::{Gradient2, Gradient2Builder};
pub use vegas::{Vegas, VegasBuilder};

/// A concurrency limit: the number of calls that may be in flight, updated
/// from the calls that finish.
///
/// Implementations are pure state machines (see the [module
/// docs](self#the-contract)): no atomics, no clock, no randomness, and
/// `update` never panics, whatever the samples say.
///
/// # Examples
///
/// A limit of one's own: halve on a failure, add one on a success.
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Instant, Outcome};
/// use resil_shed::{Limit, Sample};
///
/// #[derive(Debug)]
/// struct Halving(u32);
///
/// impl Limit for Halving {
///     fn limit(&self) -> u32 {
///         self.0
///     }
///
///     fn update(&mut self, sample: &Sample) -> u32 {
///         self.0 = match sample.outcome {
///             Outcome::Failure => (self.0 / 2).max(1),
///             Outcome::Success => self.0.saturating_add(1).min(100),
///             _ => self.0,
///         };
///         self.0
///     }
/// }
///
/// let mut limit = Halving(10);
/// let at = Instant::from_nanos(1_000_000);
/// let failed = Sample::new(Duration::from_millis(1), 10, Outcome::Failure, at);
/// assert_eq!(limit.update(&failed), 5);
/// assert!(Halving::ADAPTIVE); // the default: the limiter feeds it samples
/// ```
pub trait Limit: Send {
    /// Whether [`update`](Self::update) can change the limit. `false` lets a
    /// limiter skip measuring calls and locking the limit altogether (see
    /// [`Fixed`]). Default `true`.
    const ADAPTIVE: bool = true;

    /// The current limit: at least 1.
    fn limit(&self) -> u32;

    /// One call ended: learns from it and returns the new limit (the same as
    /// [`limit`](Self::limit) would now).
    ///
    /// [`Outcome::Ignored`] samples change nothing. [`Outcome::Failure`]
    /// counts as a *drop*: the overload signal.
    fn update(&mut self, sample: &Sample) -> u32;
}

/// A borrowed limit, so that its owner can inspect it between updates.
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Instant, Outcome};
/// use resil_shed::{Limit, Sample, Vegas};
///
/// fn feed(mut limit: impl Limit, sample: &Sample) -> u32 {
///     limit.update(sample)
/// }
///
/// let mut vegas = Vegas::default();
/// let at = Instant::from_nanos(1_000_000);
/// feed(&mut vegas, &Sample::new(Duration::from_micros(300), 1, Outcome::Success, at));
/// assert_eq!(vegas.rtt_noload(), Some(Duration::from_micros(300)));
/// ```
impl<L: Limit + ?Sized> Limit for &mut L {
    const ADAPTIVE: bool = L::ADAPTIVE;

    fn limit(&self) -> u32 {
        (**self).limit()
    }

    fn update(&mut self, sample: &Sample) -> u32 {
        (**self).update(sample)
    }
}

/// One finished call, as a [`Limit`] learns from it.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::{Instant, Outcome};
/// use resil_shed::Sample;
///
/// // A call that started at 90ms with 3 calls in flight (itself included)
/// // and succeeded at 100ms.
/// let sample = Sample::new(
///     Duration::from_millis(10),
///     3,
///     Outcome::Success,
///     Instant::from_nanos(100_000_000),
/// );
/// assert_eq!(sample.started(), Instant::from_nanos(90_000_000));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Sample {
    /// How long the call took.
    pub latency: Duration,
    /// How many calls were in flight when this one started, itself
    /// included. Limits use it to tell a saturated limit from an idle one.
    pub in_flight: u32,
    /// What the call's result said about the dependency.
    pub outcome: Outcome,
    /// When the call ended, on the limiter's clock. Every adaptive limit
    /// uses [`started`](Self::started) to ignore news older than its last
    /// decision, and [`Gradient2`] and [`Vegas`] tell rounds apart by it.
    /// From a clock that never moves (every `at` the same, every latency
    /// zero), the limits still back off on every failure, but [`Gradient2`]
    /// and [`Vegas`] never complete a round, and otherwise hold.
    pub at: Instant,
}

impl Sample {
    /// A sample of a call that took `latency`, started with `in_flight`
    /// calls in flight (itself included), ended at `at` and had `outcome`.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::Sample;
    ///
    /// let sample = Sample::new(Duration::from_millis(5), 1, Outcome::Ignored, Instant::ZERO);
    /// assert!(sample.outcome.is_ignored());
    /// ```
    pub const fn new(latency: Duration, in_flight: u32, outcome: Outcome, at: Instant) -> Self {
        Sample {
            latency,
            in_flight,
            outcome,
            at,
        }
    }

    /// When the call started: `at − latency`, saturating at the clock's
    /// origin.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::{Instant, Outcome};
    /// use resil_shed::Sample;
    ///
    /// let early = Sample::new(Duration::from_secs(5), 1, Outcome::Success, Instant::from_nanos(7));
    /// assert_eq!(early.started(), Instant::ZERO);
    /// ```
    pub const fn started(&self) -> Instant {
        self.at.saturating_sub(self.latency)
    }

    /// The latency in whole nanoseconds, saturating at `u64::MAX`.
    pub(crate) fn latency_nanos(&self) -> u64 {
        u64::try_from(self.latency.as_nanos()).unwrap_or(u64::MAX)
    }
}
