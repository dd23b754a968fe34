//! Client-side adaptive throttling, from Google's SRE book ("Handling
//! Overload").
//!
//! Why throttle on the client? When a backend is overloaded it must still
//! spend work rejecting each request it cannot serve; if clients keep
//! sending at full rate, rejecting alone can take all of its capacity. A
//! client that remembers how many of its requests the backend *accepted*
//! lately can refuse the excess itself, at no cost to the backend, and send
//! just enough to track the backend's recovery.
//!
//! Each client keeps, over a sliding window (2 minutes by default):
//!
//! - `requests`: the requests the application tried to send, including the
//!   ones this throttle refused;
//! - `accepts`: the requests the backend accepted.
//!
//! and refuses each new request locally with probability
//!
//! ```text
//! max(0, (requests − K × accepts) / (requests + 1))
//! ```
//!
//! While the backend accepts everything, `requests ≈ accepts` and nothing
//! is refused (for any K ≥ 1). When it accepts less, the client lets
//! through about `K × accepts` and refuses the rest: K = 2 (the default)
//! sends twice what the backend accepts, enough to notice quickly when it
//! accepts more again; a smaller K throttles harder, a larger one wastes
//! more backend work on rejections. An optional cap on the probability
//! (`max_rejection`) guarantees a minimum trickle of traffic.

mod cell;

use core::fmt;
use core::time::Duration;

use resil_core::error::{check_at_least, check_non_zero, check_rate};
use resil_core::{
    Clock, ConfigError, Event, EventKind, Instant, Listener, NoopListener, ShedReason, SplitMix64,
    SystemClock,
};

use self::cell::{ACCEPT, BUCKETS, Cell, Counts, REQUEST};
use crate::Throttled;
use crate::loom::{AtomicU64, Ordering};

const DEFAULT_K: f64 = 2.0;
const DEFAULT_WINDOW: Duration = Duration::from_secs(120);

/// The SRE client-side throttle: refuses requests locally with probability
/// `max(0, (requests − K × accepts) / (requests + 1))` over a sliding
/// window (see the [module docs](self) for why).
///
/// Use it around every request to one backend:
///
/// 1. [`check`](Self::check) before sending: it counts the request and
///    decides, at random with the probability above, whether to refuse it
///    locally ([`Throttled`]).
/// 2. [`accepted`](Self::accepted) when the backend accepted the request
///    (answered it, even with an application-level error). A request the
///    backend rejected for overload (HTTP 429 or 503, gRPC
///    `RESOURCE_EXHAUSTED` or `UNAVAILABLE`) is not accepted.
///
/// Share one throttle per backend between every caller, by reference or in
/// an `Arc`: it is `Send + Sync` and every method takes `&self`.
///
/// # Behaviour
///
/// Measured in `tests/throttle.rs`, offering 1,000 requests a second to a
/// backend that accepts 100 a second: with K = 2 the throttle lets through
/// **198 a second** on average once the window is full (each second
/// between 167 and 228); with K = 1.5, 3 and 4, 154, 304 and 401. With
/// K = 1 every request let through is accepted, so any rate up to the
/// backend's is an equilibrium and the rate drifts below it: keep K above 1.
///
/// After a total outage the refused requests keep `requests` high, so the
/// share let through grows by about K per window rather than at once:
/// after two windows of outage it took **5.2 windows** to let everything
/// through again, and 1.8 windows with `max_rejection(0.9)`. A cap is the
/// way to trade wasted backend work for faster recovery.
///
/// # Guarantee
///
/// The window is divided into ten buckets of `window / 10` on the
/// throttle's clock. Think of each call as taking effect at one instant
/// during the call. Whatever the interleaving of threads:
///
/// - **Nothing is counted twice**, and no count outlives its window: a
///   request or accept counts from when it takes effect until the bucket it
///   was placed in leaves the window — for at least `window − window / 10`
///   from when its call began, at most one `window` from when it took
///   effect.
/// - **Nothing is lost**, except a call that races the expiry of its own
///   bucket, which takes a whole window to come round (the call stalled for
///   a window between reading the clock and counting, or the clock jumped
///   by one): it may then count for less, or not at all.
/// - The counts `check` decides on are those of one instant (requests and
///   accepts are read together, in one atomic operation), never torn
///   between two.
///
/// Each half counts at most 2^31 events per window; beyond, the window
/// holds a sample of the traffic.
///
/// # Randomness
///
/// The decisions draw from a SplitMix64 sequence seeded by
/// [`seed`](AdaptiveThrottleBuilder::seed) (by default, from the process's
/// random hash keys). Draws are counter-based — one atomic add each, no
/// lock — so with one thread a seed fixes every decision; with several, it
/// fixes the set of draws but not which thread gets which. No draw is made
/// while the probability is zero.
///
/// # Cost
///
/// `check` reads the clock and makes three atomic operations (the head of
/// the window, the totals, the bucket), plus a fourth for the draw when the
/// probability is not zero; `accepted` makes the first three. No lock and
/// no allocation, as long as the current bucket is current. The first call to notice that a new bucket has begun takes a
/// mutex to expire the old ones (at most once per bucket width; calls
/// racing it wait for it).
///
/// # Events
///
/// Each refusal is reported to the [`listener`](AdaptiveThrottleBuilder::listener)
/// as [`EventKind::Shed`] with [`ShedReason::Throttled`] and the throttle's
/// [`priority`](AdaptiveThrottleBuilder::priority) (0 unless set: the
/// throttle does not know what it guards).
///
/// # Examples
///
/// A backend that stops accepting: the throttle starts refusing, and
/// recovers once the failures have left the window.
///
/// ```
/// use core::time::Duration;
/// use resil_core::ManualClock;
/// use resil_shed::AdaptiveThrottle;
///
/// let clock = ManualClock::new();
/// let throttle = AdaptiveThrottle::builder()
///     .window(Duration::from_secs(60))
///     .clock(clock.clone())
///     .seed(42)
///     .build()?;
///
/// // Healthy: every request is accepted, none is refused.
/// for _ in 0..100 {
///     throttle.check().expect("nothing to throttle");
///     throttle.accepted();
/// }
/// // Down: nothing is accepted any more; the client keeps trying.
/// clock.advance(Duration::from_secs(1));
/// let refused = (0..1_000).filter(|_| throttle.check().is_err()).count();
/// assert!(refused > 500, "{refused}");
/// assert!(throttle.rejection_probability() > 0.8);
///
/// // A window later, the failed requests have expired.
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(throttle.rejection_probability(), 0.0);
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
pub struct AdaptiveThrottle<C = SystemClock, L = NoopListener> {
    cell: Cell,
    config: Config,
    /// SplitMix64's state: each draw adds `GAMMA` and mixes the sum.
    rng: AtomicU64,
    clock: C,
    listener: L,
}

/// The validated knobs.
#[derive(Clone, Copy, Debug)]
struct Config {
    k: f64,
    window: Duration,
    /// `window` in nanoseconds, saturating.
    window_nanos: u64,
    max_rejection: f64,
    name: &'static str,
    priority: u8,
}

impl Config {
    /// The bucket `now` falls in.
    fn bucket(&self, now: Instant) -> u64 {
        bucket_of(now.as_nanos(), self.window_nanos)
    }

    /// `min(max_rejection, max(0, (requests − K × accepts) / (requests + 1)))`.
    fn probability(&self, counts: Counts) -> f64 {
        // Both below 2^32: exact in an f64, and the result finite.
        let requests = counts.requests as f64;
        let accepts = counts.accepts as f64;
        let p = (requests - self.k * accepts) / (requests + 1.0);
        p.max(0.0).min(self.max_rejection)
    }
}

/// The bucket holding `nanos`: `floor(nanos × BUCKETS / window_nanos)`,
/// computed without overflow. Buckets need not be whole nanoseconds wide.
fn bucket_of(nanos: u64, window_nanos: u64) -> u64 {
    match nanos.checked_mul(BUCKETS) {
        Some(scaled) => scaled / window_nanos,
        // At most `u64::MAX × 10 / 1`: fits in a u128, and the quotient
        // exceeds u64 only for windows under ten nanoseconds.
        None => {
            let bucket = u128::from(nanos) * u128::from(BUCKETS) / u128::from(window_nanos);
            u64::try_from(bucket).unwrap_or(u64::MAX)
        }
    }
}

impl AdaptiveThrottle {
    /// A builder with the defaults listed on [`AdaptiveThrottleBuilder`].
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let throttle = AdaptiveThrottle::builder().k(1.5).build()?;
    /// assert_eq!(throttle.rejection_probability(), 0.0);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn builder() -> AdaptiveThrottleBuilder {
        AdaptiveThrottleBuilder::default()
    }
}

impl<C: Clock, L: Listener> AdaptiveThrottle<C, L> {
    /// Counts a request the application wants to send, and decides whether
    /// to refuse it locally.
    ///
    /// The decision uses the counts from before this request: the first
    /// request, and every request while the backend accepts enough, goes
    /// through.
    ///
    /// # Errors
    ///
    /// [`Throttled`] if the request is refused: do not send it. It still
    /// counts as a request.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_core::ManualClock;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let throttle = AdaptiveThrottle::builder().clock(ManualClock::new()).build()?;
    /// match throttle.check() {
    ///     Ok(()) => { /* send it; call `accepted()` if the backend takes it */ }
    ///     Err(throttled) => panic!("the first request always goes: {throttled}"),
    /// }
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn check(&self) -> Result<(), Throttled> {
        let now = self.clock.now();
        let before = self.cell.add(self.config.bucket(now), REQUEST);
        let p = self.config.probability(before);
        if p > 0.0 && self.draw() < p {
            let kind = EventKind::shed(self.config.priority, ShedReason::Throttled);
            self.listener
                .on_event(&Event::new(self.config.name, now, kind));
            return Err(Throttled::new(p));
        }
        Ok(())
    }

    /// Counts a request the backend accepted.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_core::ManualClock;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let throttle = AdaptiveThrottle::builder().clock(ManualClock::new()).build()?;
    /// for _ in 0..10 {
    ///     throttle.check().unwrap();
    ///     throttle.accepted();
    /// }
    /// assert_eq!((throttle.requests(), throttle.accepts()), (10, 10));
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn accepted(&self) {
        let now = self.clock.now();
        self.cell.add(self.config.bucket(now), ACCEPT);
    }

    /// The probability the next [`check`](Self::check) refuses, for
    /// metrics: `min(max_rejection, max(0, (requests − K × accepts) /
    /// (requests + 1)))` over the current window.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_core::ManualClock;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let throttle = AdaptiveThrottle::builder().clock(ManualClock::new()).build()?;
    /// for _ in 0..9 {
    ///     let _ = throttle.check();
    /// }
    /// throttle.accepted();
    /// // (9 − 2 × 1) / (9 + 1)
    /// assert_eq!(throttle.rejection_probability(), 0.7);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn rejection_probability(&self) -> f64 {
        self.config.probability(self.counts())
    }

    /// The requests counted in the current window, refused ones included.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::ManualClock;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let clock = ManualClock::new();
    /// let throttle = AdaptiveThrottle::builder()
    ///     .window(Duration::from_secs(10))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// let _ = throttle.check();
    /// assert_eq!(throttle.requests(), 1);
    /// clock.advance(Duration::from_secs(10));
    /// assert_eq!(throttle.requests(), 0);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn requests(&self) -> u64 {
        self.counts().requests
    }

    /// The accepts counted in the current window.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_core::ManualClock;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let throttle = AdaptiveThrottle::builder().clock(ManualClock::new()).build()?;
    /// throttle.accepted();
    /// assert_eq!(throttle.accepts(), 1);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn accepts(&self) -> u64 {
        self.counts().accepts
    }

    /// The raw counts, without expiring anything: for the loom models'
    /// exact checks.
    #[cfg(all(test, resil_loom))]
    pub(crate) fn totals(&self) -> (u64, u64) {
        let counts = self.cell.totals();
        (counts.requests, counts.accepts)
    }

    /// The counts of the window now, expiring old buckets if need be.
    fn counts(&self) -> Counts {
        self.cell.counts(self.config.bucket(self.clock.now()))
    }

    /// A uniform draw in `[0, 1)`: the next SplitMix64 output, lock-free.
    fn draw(&self) -> f64 {
        let state = self
            .rng
            .fetch_add(SplitMix64::GAMMA, Ordering::Relaxed)
            .wrapping_add(SplitMix64::GAMMA);
        // The top 53 bits as a fraction.
        (SplitMix64::mix(state) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The defaults listed on [`AdaptiveThrottleBuilder`].
///
/// ```
/// use resil_shed::AdaptiveThrottle;
///
/// assert_eq!(AdaptiveThrottle::default().requests(), 0);
/// ```
impl Default for AdaptiveThrottle {
    fn default() -> Self {
        AdaptiveThrottleBuilder::default().assemble(default_config(), random_seed())
    }
}

impl<C, L> fmt::Debug for AdaptiveThrottle<C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As of the last call: formatting does not read the clock.
        let counts = self.cell.totals();
        f.debug_struct("AdaptiveThrottle")
            .field("name", &self.config.name)
            .field("k", &self.config.k)
            .field("window", &self.config.window)
            .field("max_rejection", &self.config.max_rejection)
            .field("requests", &counts.requests)
            .field("accepts", &counts.accepts)
            .finish_non_exhaustive()
    }
}

fn default_config() -> Config {
    Config {
        k: DEFAULT_K,
        window: DEFAULT_WINDOW,
        window_nanos: duration_nanos(DEFAULT_WINDOW),
        max_rejection: 1.0,
        name: "",
        priority: 0,
    }
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A seed that differs per call: `RandomState` carries fresh keys, random
/// per process and stepped per call, at no syscall's cost.
fn random_seed() -> u64 {
    use core::hash::BuildHasher;
    std::hash::RandomState::new().hash_one(0x7448_524F_5454_4C45_u64)
}

/// Configures an [`AdaptiveThrottle`]; made by [`AdaptiveThrottle::builder`].
///
/// # Default
///
/// - `k`: 2 — let through twice what the backend accepts (the SRE book's)
/// - `window`: 2 minutes (the SRE book's), in 10 buckets of 12 s
/// - `max_rejection`: none — the probability may approach 1
/// - `seed`: random per throttle
/// - `name`: `""`, `priority`: 0 (as reported in events)
/// - `clock`: [`SystemClock`]; `listener`: [`NoopListener`]
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use resil_core::{ManualClock, listener_fn};
/// use resil_shed::AdaptiveThrottle;
///
/// let throttle = AdaptiveThrottle::builder()
///     .k(1.5)
///     .window(Duration::from_secs(30))
///     .max_rejection(0.9)
///     .seed(7)
///     .name("search-backend")
///     .priority(3)
///     .clock(ManualClock::new())
///     .listener(listener_fn(|event| println!("{event:?}")))
///     .build()?;
/// assert!(throttle.check().is_ok());
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct AdaptiveThrottleBuilder<C = SystemClock, L = NoopListener> {
    k: f64,
    window: Duration,
    max_rejection: Option<f64>,
    seed: Option<u64>,
    name: &'static str,
    priority: u8,
    clock: C,
    listener: L,
}

impl Default for AdaptiveThrottleBuilder {
    fn default() -> Self {
        AdaptiveThrottleBuilder {
            k: DEFAULT_K,
            window: DEFAULT_WINDOW,
            max_rejection: None,
            seed: None,
            name: "",
            priority: 0,
            clock: SystemClock,
            listener: NoopListener,
        }
    }
}

impl<C, L> AdaptiveThrottleBuilder<C, L> {
    /// How many times what the backend accepts the client lets through,
    /// at least 1: the SRE book's K. Default 2.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails unless `k` is finite and at least 1.
    ///
    /// # Examples
    ///
    /// With K = 1 the client sends no more than the backend accepted:
    ///
    /// ```
    /// use resil_core::ManualClock;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let throttle = AdaptiveThrottle::builder().k(1.0).clock(ManualClock::new()).build()?;
    /// for _ in 0..3 {
    ///     let _ = throttle.check();
    /// }
    /// throttle.accepted();
    /// assert_eq!(throttle.rejection_probability(), 0.5); // (3 − 1) / (3 + 1)
    /// assert!(AdaptiveThrottle::builder().k(0.5).build().is_err());
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn k(mut self, k: f64) -> Self {
        self.k = k;
        self
    }

    /// How far back requests and accepts count, in ten buckets. Default
    /// 2 minutes.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails if `window` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::ManualClock;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let clock = ManualClock::new();
    /// let throttle = AdaptiveThrottle::builder()
    ///     .window(Duration::from_secs(10))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// throttle.accepted();
    /// clock.advance(Duration::from_secs(9)); // still in the window
    /// assert_eq!(throttle.accepts(), 1);
    /// clock.advance(Duration::from_secs(1)); // its bucket has left it
    /// assert_eq!(throttle.accepts(), 0);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The highest probability of refusal, in `(0, 1]`: at least
    /// `1 − max_rejection` of the requests go through, however few the
    /// backend accepts. Default none (1).
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails unless `max_rejection` is in `(0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_core::ManualClock;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let throttle = AdaptiveThrottle::builder()
    ///     .max_rejection(0.25)
    ///     .clock(ManualClock::new())
    ///     .build()?;
    /// for _ in 0..100 {
    ///     let _ = throttle.check();
    /// }
    /// assert_eq!(throttle.rejection_probability(), 0.25);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn max_rejection(mut self, max_rejection: f64) -> Self {
        self.max_rejection = Some(max_rejection);
        self
    }

    /// Seeds the random decisions, for reproducible tests and simulations.
    /// Default: a random seed per throttle.
    ///
    /// # Examples
    ///
    /// ```
    /// use resil_core::ManualClock;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let decisions = |seed| {
    ///     let throttle = AdaptiveThrottle::builder()
    ///         .seed(seed)
    ///         .clock(ManualClock::new())
    ///         .build()
    ///         .unwrap();
    ///     (0..64).map(|_| throttle.check().is_ok()).collect::<Vec<_>>()
    /// };
    /// assert_eq!(decisions(9), decisions(9));
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The name events carry as their source. Default `""`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use resil_core::{ManualClock, listener_fn};
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let sources = Mutex::new(Vec::new());
    /// let throttle = AdaptiveThrottle::builder()
    ///     .name("payments")
    ///     .seed(3)
    ///     .clock(ManualClock::new())
    ///     .listener(listener_fn(|event| sources.lock().unwrap().push(event.source.to_owned())))
    ///     .build()?;
    /// while throttle.check().is_ok() {}
    /// assert_eq!(sources.lock().unwrap()[..], ["payments"]);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The priority level refusals are reported with, in
    /// [`EventKind::Shed`]: 0 (the most critical) unless set. The throttle
    /// itself treats every request alike; a client that throttles each
    /// criticality separately says which one this is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use resil_core::{EventKind, ManualClock, ShedReason, listener_fn};
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let seen = Mutex::new(None);
    /// let throttle = AdaptiveThrottle::builder()
    ///     .priority(3)
    ///     .seed(3)
    ///     .clock(ManualClock::new())
    ///     .listener(listener_fn(|event| *seen.lock().unwrap() = Some(event.kind)))
    ///     .build()?;
    /// while throttle.check().is_ok() {}
    /// assert_eq!(*seen.lock().unwrap(), Some(EventKind::shed(3, ShedReason::Throttled)));
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    /// The clock the window moves on. Default [`SystemClock`]; tests use
    /// [`ManualClock`](resil_core::ManualClock).
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_core::ManualClock;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let clock = ManualClock::new();
    /// let throttle = AdaptiveThrottle::builder().clock(clock.clone()).build()?;
    /// let _ = throttle.check();
    /// clock.advance(Duration::from_secs(120));
    /// assert_eq!(throttle.requests(), 0);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn clock<C2: Clock>(self, clock: C2) -> AdaptiveThrottleBuilder<C2, L> {
        AdaptiveThrottleBuilder {
            k: self.k,
            window: self.window,
            max_rejection: self.max_rejection,
            seed: self.seed,
            name: self.name,
            priority: self.priority,
            clock,
            listener: self.listener,
        }
    }

    /// Where refusals are reported. Default [`NoopListener`].
    ///
    /// # Examples
    ///
    /// ```
    /// use core::sync::atomic::{AtomicU32, Ordering};
    /// use resil_core::{ManualClock, listener_fn};
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let refusals = AtomicU32::new(0);
    /// let throttle = AdaptiveThrottle::builder()
    ///     .seed(5)
    ///     .clock(ManualClock::new())
    ///     .listener(listener_fn(|_| {
    ///         refusals.fetch_add(1, Ordering::Relaxed);
    ///     }))
    ///     .build()?;
    /// let refused = (0..100).filter(|_| throttle.check().is_err()).count();
    /// assert_eq!(refusals.load(Ordering::Relaxed) as usize, refused);
    /// # Ok::<(), resil_core::ConfigError>(())
    /// ```
    pub fn listener<L2: Listener>(self, listener: L2) -> AdaptiveThrottleBuilder<C, L2> {
        AdaptiveThrottleBuilder {
            k: self.k,
            window: self.window,
            max_rejection: self.max_rejection,
            seed: self.seed,
            name: self.name,
            priority: self.priority,
            clock: self.clock,
            listener,
        }
    }

    fn assemble(self, config: Config, seed: u64) -> AdaptiveThrottle<C, L>
    where
        C: Clock,
    {
        let head = config.bucket(self.clock.now());
        AdaptiveThrottle {
            cell: Cell::new(head),
            config,
            rng: AtomicU64::new(seed),
            clock: self.clock,
            listener: self.listener,
        }
    }
}

impl<C: Clock, L: Listener> AdaptiveThrottleBuilder<C, L> {
    /// Validates the knobs and makes the throttle, its window starting now.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] naming the field if `k` is NaN, infinite or
    /// below 1, `window` is zero, or `max_rejection` is not in `(0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use resil_shed::AdaptiveThrottle;
    ///
    /// let err = AdaptiveThrottle::builder().k(f64::NAN).build().unwrap_err();
    /// assert_eq!(err.to_string(), "invalid k: got NaN, expected a finite number");
    /// let err = AdaptiveThrottle::builder().window(Duration::ZERO).build().unwrap_err();
    /// assert_eq!(err.field(), "window");
    /// let err = AdaptiveThrottle::builder().max_rejection(0.0).build().unwrap_err();
    /// assert_eq!(err.field(), "max_rejection");
    /// ```
    pub fn build(self) -> Result<AdaptiveThrottle<C, L>, ConfigError> {
        let k = check_at_least("k", self.k, 1.0, "at least 1")?;
        let window = check_non_zero("window", self.window)?;
        let max_rejection = match self.max_rejection {
            Some(max) => check_rate("max_rejection", max)?,
            None => 1.0,
        };
        let config = Config {
            k,
            window,
            window_nanos: duration_nanos(window),
            max_rejection,
            name: self.name,
            priority: self.priority,
        };
        let seed = self.seed.unwrap_or_else(random_seed);
        Ok(self.assemble(config, seed))
    }
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use super::*;

    fn config(k: f64, max_rejection: f64) -> Config {
        Config {
            k,
            max_rejection,
            ..default_config()
        }
    }

    fn counts(requests: u64, accepts: u64) -> Counts {
        Counts { requests, accepts }
    }

    #[test]
    fn the_probability_is_the_sre_formula() {
        let c = config(2.0, 1.0);
        assert_eq!(c.probability(counts(0, 0)), 0.0);
        assert_eq!(c.probability(counts(1, 0)), 0.5);
        assert_eq!(c.probability(counts(9, 1)), 0.7);
        assert_eq!(c.probability(counts(10, 5)), 0.0);
        assert_eq!(c.probability(counts(3, 100)), 0.0);
        assert_eq!(c.probability(counts(99, 0)), 0.99);
        let capped = config(2.0, 0.5);
        assert_eq!(capped.probability(counts(99, 0)), 0.5);
        let strict = config(1.0, 1.0);
        assert_eq!(strict.probability(counts(19, 9)), 0.5);
        let huge = config(1e300, 1.0);
        assert_eq!(huge.probability(counts(u64::from(u32::MAX), 1)), 0.0);
        assert_eq!(
            c.probability(counts(u64::from(u32::MAX), 0)),
            4_294_967_295.0 / 4_294_967_296.0
        );
    }

    #[test]
    fn buckets_split_the_window_exactly() {
        let second = 1_000_000_000;
        assert_eq!(bucket_of(0, 10 * second), 0);
        assert_eq!(bucket_of(second - 1, 10 * second), 0);
        assert_eq!(bucket_of(second, 10 * second), 1);
        assert_eq!(bucket_of(6, 7), 8);
        assert_eq!(bucket_of(u64::MAX, 10 * second), u64::MAX / second);
        assert_eq!(bucket_of(u64::MAX, 1), u64::MAX);
        assert_eq!(bucket_of(u64::MAX, u64::MAX), 10);
    }

    #[test]
    fn draws_follow_the_seeded_splitmix_sequence() {
        let throttle = AdaptiveThrottle::builder()
            .seed(1_234_567)
            .clock(resil_core::ManualClock::new())
            .build()
            .unwrap();
        let mut reference = SplitMix64::new(1_234_567);
        for _ in 0..4 {
            let expected = (reference.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            assert_eq!(throttle.draw(), expected);
        }
    }
}
