//! The retry policy and its builder.
//!
//! A [`Retry`] holds what is decided once for many calls: the backoff, how
//! many attempts and how much time a call may take, the ceiling on server
//! hints, and the shared clock, budget and listener. What varies per call
//! (the operation, which results to retry, where a hint comes from) is
//! given to [`Retry::call`]. A policy is cheap to share by reference and
//! never changes after `build()`.

use core::time::Duration;

use resil_core::error::{check_count, check_non_zero};
use resil_core::{Backoff, Clock, ConfigError, NoopListener};

use crate::budget::{Budget, NoBudget};

/// The clock a policy uses when none is given: [`SystemClock`] with `std`.
///
/// [`SystemClock`]: resil_core::SystemClock
#[cfg(feature = "std")]
pub type DefaultClock = resil_core::SystemClock;

/// The clock a policy uses when none is given: without `std` there is none,
/// so [`RetryBuilder::clock`] must be called before `build()`.
#[cfg(not(feature = "std"))]
pub type DefaultClock = NoClock;

/// A placeholder for "no clock chosen yet"; it is not a [`Clock`], so a
/// builder still holding it does not build. Call [`RetryBuilder::clock`].
#[derive(Clone, Copy, Debug, Default)]
pub struct NoClock;

/// A retry policy: backoff, limits, and the shared clock, budget and listener.
///
/// Built with [`Retry::builder`]; run with [`Retry::run`],
/// [`Retry::run_blocking`] or, for per-call options, [`Retry::call`].
///
/// # Default
///
/// - `backoff`: [`Backoff::default()`] — exponential from 100ms, doubling,
///   capped at 10s, full jitter
/// - `max_attempts`: 3 (the first attempt included)
/// - `max_elapsed`: none
/// - `max_hint`: 60s — a server's `Retry-After` beyond this is cut to it
/// - clock: [`SystemClock`](resil_core::SystemClock) (with `std`); budget:
///   [`NoBudget`]; listener: [`NoopListener`]; name: `""`
///
/// # Elapsed time
///
/// A call that succeeds at once reads no clock unless the policy has a
/// deadline (`max_elapsed`), which needs the start time. So the elapsed
/// times a call reports (in [`RetryInfo`](crate::RetryInfo), events and
/// [`RetryError`](crate::RetryError)) count from the start of the first
/// attempt when there is a deadline, and from the end of the first attempt
/// when there is none.
///
/// # Sending retried calls to other threads
///
/// The operation is an `AsyncFnMut`, so it may borrow local state mutably
/// between attempts. Today's rustc cannot prove such a call `Send`
/// (rust-lang/rust#139475): to `tokio::spawn` a retried call, write the
/// operation as `async move |attempt| …` over owned (or `Arc`) state.
#[derive(Clone, Debug)]
pub struct Retry<C = DefaultClock, B = NoBudget, L = NoopListener> {
    pub(crate) backoff: Backoff,
    pub(crate) max_attempts: u32,
    pub(crate) max_elapsed: Option<Duration>,
    pub(crate) max_hint: Duration,
    pub(crate) name: &'static str,
    pub(crate) clock: C,
    pub(crate) budget: B,
    pub(crate) listener: L,
}

/// Configures a [`Retry`]; made by [`Retry::builder`].
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct RetryBuilder<C = DefaultClock, B = NoBudget, L = NoopListener> {
    backoff: Backoff,
    max_attempts: u32,
    max_elapsed: Option<Duration>,
    max_hint: Duration,
    name: &'static str,
    clock: C,
    budget: B,
    listener: L,
}

impl Retry {
    /// A builder with the defaults listed on [`Retry`].
    pub fn builder() -> RetryBuilder {
        RetryBuilder {
            backoff: Backoff::default(),
            max_attempts: 3,
            max_elapsed: None,
            max_hint: Duration::from_secs(60),
            name: "",
            clock: DefaultClock::default(),
            budget: NoBudget,
            listener: NoopListener,
        }
    }
}

impl<C, B, L> Retry<C, B, L> {
    /// The backoff between attempts.
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// The most attempts one call makes, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The longest a call may run, if limited.
    pub fn max_elapsed(&self) -> Option<Duration> {
        self.max_elapsed
    }

    /// The policy's clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The policy's budget.
    pub fn budget(&self) -> &B {
        &self.budget
    }
}

impl<C, B, L> RetryBuilder<C, B, L> {
    /// The delays between attempts.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The most attempts per call, the first included: 1 means no retry.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// A deadline for the whole call, measured on the policy's clock from the
    /// start of the first attempt and counting the time spent inside the
    /// operation. No retry is scheduled whose wait would end past it.
    pub fn max_elapsed(mut self, limit: Duration) -> Self {
        self.max_elapsed = Some(limit);
        self
    }

    /// The longest wait a server hint (`Retry-After`) may ask for; longer
    /// hints are cut to it.
    pub fn max_hint(mut self, ceiling: Duration) -> Self {
        self.max_hint = ceiling;
        self
    }

    /// The name events carry as their source.
    pub fn name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The clock deadlines and elapsed times are measured on.
    pub fn clock<C2: Clock>(self, clock: C2) -> RetryBuilder<C2, B, L> {
        RetryBuilder {
            backoff: self.backoff,
            max_attempts: self.max_attempts,
            max_elapsed: self.max_elapsed,
            max_hint: self.max_hint,
            name: self.name,
            clock,
            budget: self.budget,
            listener: self.listener,
        }
    }

    /// A retry budget shared with other calls (pass `&budget` or an `Arc` to
    /// share one budget between policies).
    pub fn budget<B2: Budget>(self, budget: B2) -> RetryBuilder<C, B2, L> {
        RetryBuilder {
            backoff: self.backoff,
            max_attempts: self.max_attempts,
            max_elapsed: self.max_elapsed,
            max_hint: self.max_hint,
            name: self.name,
            clock: self.clock,
            budget,
            listener: self.listener,
        }
    }

    /// Where events go.
    pub fn listener<L2: resil_core::Listener>(self, listener: L2) -> RetryBuilder<C, B, L2> {
        RetryBuilder {
            backoff: self.backoff,
            max_attempts: self.max_attempts,
            max_elapsed: self.max_elapsed,
            max_hint: self.max_hint,
            name: self.name,
            clock: self.clock,
            budget: self.budget,
            listener,
        }
    }
}

impl<C: Clock, B, L> RetryBuilder<C, B, L> {
    /// Validates the configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the field if `max_attempts` is 0, or
    /// `max_elapsed` or `max_hint` is zero.
    pub fn build(self) -> Result<Retry<C, B, L>, ConfigError> {
        check_count(
            "max_attempts",
            self.max_attempts.into(),
            1,
            "at least 1 (the first attempt)",
        )?;
        if let Some(limit) = self.max_elapsed {
            check_non_zero("max_elapsed", limit)?;
        }
        check_non_zero("max_hint", self.max_hint)?;
        Ok(Retry {
            backoff: self.backoff,
            max_attempts: self.max_attempts,
            max_elapsed: self.max_elapsed,
            max_hint: self.max_hint,
            name: self.name,
            clock: self.clock,
            budget: self.budget,
            listener: self.listener,
        })
    }
}
