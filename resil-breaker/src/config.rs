//! The breaker's knobs, their defaults and their validation.

use core::time::Duration;

use resil_core::error::{check_count, check_non_zero, check_rate};
use resil_core::{Backoff, Clock, ConfigError, Listener, NoopListener};

use crate::CircuitBreaker;
use crate::state::MAX_HALF_OPEN_PERMITS;
use crate::window::{MAX_BUCKETS, MAX_COUNT_WINDOW};

/// The clock a breaker uses when none is given: [`SystemClock`] with `std`.
///
/// [`SystemClock`]: resil_core::SystemClock
#[cfg(feature = "std")]
pub type DefaultClock = resil_core::SystemClock;

/// Without `std` there is no default clock: call [`BreakerBuilder::clock`].
#[cfg(not(feature = "std"))]
pub type DefaultClock = NoClock;

/// A placeholder for "no clock chosen yet"; it is not a [`Clock`], so a
/// builder still holding it does not build.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoClock;

/// Which recent calls the trip conditions look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlidingWindow {
    /// The last `size` calls, whenever they happened.
    Count {
        /// How many calls.
        size: u32,
    },
    /// The calls of the last `length`, counted in `buckets` buckets (the
    /// window moves one bucket at a time).
    Time {
        /// How far back.
        length: Duration,
        /// How finely: more buckets, smoother expiry.
        buckets: u32,
    },
}

impl SlidingWindow {
    /// The last `size` calls.
    pub const fn count(size: u32) -> Self {
        SlidingWindow::Count { size }
    }

    /// The calls of the last `length`, in `buckets` buckets.
    pub const fn time(length: Duration, buckets: u32) -> Self {
        SlidingWindow::Time { length, buckets }
    }
}

/// `minimum_calls` when none is set (capped at a count window's size).
const DEFAULT_MINIMUM_CALLS: u32 = 100;

/// The validated, non-generic configuration the state machine reads.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// `None` when failure-rate tripping is off.
    pub(crate) failure_rate: Option<f64>,
    pub(crate) slow_call_rate: Option<f64>,
    pub(crate) slow_call_duration: Duration,
    pub(crate) consecutive_failures: Option<u32>,
    pub(crate) window: SlidingWindow,
    /// `None` until set: then the smaller of 100 and a count window's size.
    pub(crate) minimum_calls: Option<u32>,
    pub(crate) wait: Backoff,
    pub(crate) half_open_permits: u32,
    pub(crate) half_open_timeout: Option<Duration>,
}

/// Configures a [`CircuitBreaker`]; made by [`CircuitBreaker::builder`].
///
/// # Default
///
/// The defaults are resilience4j's, whose reasoning holds here too:
///
/// - `failure_rate`: 0.5 — open when half the calls in the window fail
/// - slow-call detection: off; [`slow_calls`](Self::slow_calls) turns it on
/// - `consecutive_failures`: off
/// - `window`: the last 100 calls, and `minimum_calls`: 100 (or a smaller
///   count window's size) — a rate over fewer calls is noise
/// - `wait`: 60s in the open state, the same after every trip;
///   [`wait_backoff`](Self::wait_backoff) makes it grow
/// - `half_open_permits`: 10 trial calls decide between closing and reopening
/// - `half_open_timeout`: none — trials may take as long as they take
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct BreakerBuilder<C = DefaultClock, L = NoopListener> {
    config: Config,
    name: &'static str,
    clock: C,
    listener: L,
}

impl CircuitBreaker {
    /// A builder with the defaults listed on [`BreakerBuilder`].
    pub fn builder() -> BreakerBuilder {
        BreakerBuilder {
            config: Config {
                failure_rate: Some(0.5),
                slow_call_rate: None,
                slow_call_duration: Duration::from_secs(60),
                consecutive_failures: None,
                window: SlidingWindow::count(100),
                minimum_calls: None,
                wait: Backoff::constant(Duration::from_secs(60))
                    .build()
                    .unwrap_or_default(),
                half_open_permits: 10,
                half_open_timeout: None,
            },
            name: "",
            clock: DefaultClock::default(),
            listener: NoopListener,
        }
    }
}

impl<C, L> BreakerBuilder<C, L> {
    /// Opens when at least this share of the window's calls failed, in `(0, 1]`.
    pub fn failure_rate(mut self, rate: f64) -> Self {
        self.config.failure_rate = Some(rate);
        self
    }

    /// Turns failure-rate tripping off, for a breaker that trips only on
    /// slow calls or on failures in a row. (Half-open trials are then judged
    /// by the slow-call rate alone.)
    pub fn without_failure_rate(mut self) -> Self {
        self.config.failure_rate = None;
        self
    }

    /// Counts a call as slow when it takes longer than `duration`, and opens
    /// when at least `rate` (in `(0, 1]`) of the window's calls were slow.
    pub fn slow_calls(mut self, rate: f64, duration: Duration) -> Self {
        self.config.slow_call_rate = Some(rate);
        self.config.slow_call_duration = duration;
        self
    }

    /// Opens after `failures` failures in a row, without waiting for
    /// `minimum_calls`.
    pub fn consecutive_failures(mut self, failures: u32) -> Self {
        self.config.consecutive_failures = Some(failures);
        self
    }

    /// The calls the rates are computed over.
    pub fn window(mut self, window: SlidingWindow) -> Self {
        self.config.window = window;
        self
    }

    /// How many calls the window must hold before a rate can open the breaker.
    pub fn minimum_calls(mut self, calls: u32) -> Self {
        self.config.minimum_calls = Some(calls);
        self
    }

    /// How long to stay open before trying half-open: the same after every trip.
    pub fn wait(mut self, wait: Duration) -> Self {
        self.config.wait = match Backoff::constant(wait).build() {
            Ok(backoff) => backoff,
            // A constant backoff accepts every duration.
            Err(_) => self.config.wait,
        };
        self
    }

    /// How long to stay open, growing with each trip that follows a failed
    /// half-open trial (the n-th consecutive trip waits `backoff.delay(n)`,
    /// jitter included); it starts again after the breaker closes.
    pub fn wait_backoff(mut self, backoff: Backoff) -> Self {
        self.config.wait = backoff;
        self
    }

    /// How many trial calls half-open admits, however many threads race.
    pub fn half_open_permits(mut self, permits: u32) -> Self {
        self.config.half_open_permits = permits;
        self
    }

    /// Reopens a half-open breaker whose trials have not all reported within
    /// `timeout` of the open wait's end, so that a hung trial call (or a
    /// leaked permit) cannot hold it half-open, rejecting everything, for
    /// ever. Off by default: set it above your slowest legitimate call.
    pub fn half_open_timeout(mut self, timeout: Duration) -> Self {
        self.config.half_open_timeout = Some(timeout);
        self
    }

    /// The name events carry as their source.
    pub fn name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The clock waits, slow calls and time windows are measured on.
    pub fn clock<C2: Clock>(self, clock: C2) -> BreakerBuilder<C2, L> {
        BreakerBuilder {
            config: self.config,
            name: self.name,
            clock,
            listener: self.listener,
        }
    }

    /// Where transition and rejection events go.
    pub fn listener<L2: Listener>(self, listener: L2) -> BreakerBuilder<C, L2> {
        BreakerBuilder {
            config: self.config,
            name: self.name,
            clock: self.clock,
            listener,
        }
    }
}

impl<C: Clock, L: Listener> BreakerBuilder<C, L> {
    /// Validates the configuration and builds the breaker, closed.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the field if: a rate is not in `(0, 1]`; the
    /// slow-call duration is zero; `consecutive_failures`, `minimum_calls` or
    /// `half_open_permits` is zero, or the permits exceed 1,000; a count
    /// window is empty, larger than the maximum, or smaller than
    /// `minimum_calls`; a time window is zero long, has no buckets, more than
    /// the maximum, or buckets shorter than a nanosecond.
    pub fn build(self) -> Result<CircuitBreaker<C, L>, ConfigError> {
        let config = &self.config;
        if let Some(rate) = config.failure_rate {
            check_rate("failure_rate", rate)?;
        }
        if let Some(rate) = config.slow_call_rate {
            check_rate("slow_call_rate", rate)?;
            check_non_zero("slow_call_duration", config.slow_call_duration)?;
        }
        if let Some(failures) = config.consecutive_failures {
            check_count("consecutive_failures", failures.into(), 1, "at least 1")?;
        }
        let minimum_calls = match (config.minimum_calls, config.window) {
            (Some(calls), _) => calls,
            (None, SlidingWindow::Count { size }) => size.min(DEFAULT_MINIMUM_CALLS),
            (None, _) => DEFAULT_MINIMUM_CALLS,
        };
        check_count("minimum_calls", minimum_calls.into(), 1, "at least 1")?;
        if let Some(timeout) = config.half_open_timeout {
            check_non_zero("half_open_timeout", timeout)?;
        }
        check_count(
            "half_open_permits",
            config.half_open_permits.into(),
            1,
            "at least 1",
        )?;
        if config.half_open_permits > MAX_HALF_OPEN_PERMITS {
            return Err(ConfigError::invalid(
                "half_open_permits",
                config.half_open_permits,
                "at most 1000",
            ));
        }
        match config.window {
            SlidingWindow::Count { size } => {
                check_count("window size", size.into(), 1, "at least 1")?;
                if size > MAX_COUNT_WINDOW {
                    return Err(ConfigError::invalid(
                        "window size",
                        size,
                        "at most the largest count window (see SlidingWindow)",
                    ));
                }
                resil_core::error::check_ordered(
                    "minimum_calls",
                    minimum_calls,
                    "window size",
                    size,
                )?;
            }
            SlidingWindow::Time { length, buckets } => {
                check_non_zero("window length", length)?;
                check_count("window buckets", buckets.into(), 1, "at least 1")?;
                if buckets > MAX_BUCKETS {
                    return Err(ConfigError::invalid(
                        "window buckets",
                        buckets,
                        "at most 1000",
                    ));
                }
                if length.as_nanos() < u128::from(buckets) {
                    return Err(ConfigError::invalid(
                        "window length",
                        length,
                        "at least one nanosecond per bucket",
                    ));
                }
            }
        }
        let config = Config {
            minimum_calls: Some(minimum_calls),
            ..self.config
        };
        Ok(CircuitBreaker::new(
            config,
            self.name,
            self.clock,
            self.listener,
        ))
    }
}
