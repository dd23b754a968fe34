//! Hedged requests: when an attempt is slow, start another beside it and
//! take whichever answers first.
//!
//! Retries help when an attempt *fails*; hedging helps when it is merely
//! *slow* — the tail latency that one overloaded replica or one lost packet
//! adds ("The Tail at Scale", Dean and Barroso). After a delay — fixed, or
//! the recent 95th percentile of latencies — a [`Hedge`] starts a second
//! attempt without cancelling the first, up to `max_hedges` extra attempts;
//! the first success wins and the others are dropped (cancelled). A failed
//! attempt starts the next hedge at once. Give the hedge a [`Budget`] (the
//! same one as your retries): every hedge is then paid for from it, so
//! hedging cannot multiply the load on a service that is slow because it is
//! overloaded. Without one (the default, [`NoBudget`]) nothing limits it but
//! `max_hedges`.
//!
//! The percentile delay learns from each call's latency measured from its
//! first attempt's start, so hedges that win do not teach it that the
//! service is faster than it is.
//!
//! Hedge only idempotent operations: two attempts may both reach the server.

mod latency;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::future::{Future, poll_fn};
use core::pin::{Pin, pin};
use core::task::Poll;
use core::time::Duration;

use resil_core::error::{check_count, check_rate};
use resil_core::{
    Classify, Clock, ConfigError, DefaultClassifier, EventKind, Instant, Listener, NoopListener,
    Outcome, Sleeper, StopReason,
};

use crate::RetryError;
use crate::budget::{Budget, NoBudget};
use crate::config::DefaultClock;
use latency::Latencies;

/// The most extra attempts a call may make: hedging multiplies load, and
/// more than a few hedges buy nothing a retry policy would not.
const MAX_HEDGES: u32 = 16;

/// When a hedge starts.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum HedgeDelay {
    /// A fixed delay after the previous attempt started. Zero starts every
    /// attempt at once.
    Fixed(Duration),
    /// The `quantile` (in `(0, 1]`, for example 0.95) of the latencies of
    /// recent successful attempts; `initial` until 16 have been seen.
    Percentile {
        /// Which quantile of recent latencies.
        quantile: f64,
        /// The delay used until enough latencies are known.
        initial: Duration,
    },
}

/// A hedging policy. Built with [`Hedge::builder`]; run with [`Hedge::run`].
///
/// # Default
///
/// - `delay`: [`HedgeDelay::Percentile`] at 0.95, starting at 100ms
/// - `max_hedges`: 1 (at most two attempts in flight)
/// - clock: `SystemClock`; budget: [`NoBudget`]; listener: [`NoopListener`]
///
/// # Examples
///
/// The first attempt hangs; the hedge sent after 50ms answers:
///
/// ```
/// use core::time::Duration;
/// use resil_core::{ManualClock, Sleeper};
/// use resil_retry::{Hedge, HedgeDelay};
///
/// let clock = ManualClock::new();
/// let hedge = Hedge::builder()
///     .delay(HedgeDelay::Fixed(Duration::from_millis(50)))
///     .clock(clock.clone())
///     .build()?;
/// let answer = clock.block_on(hedge.run(&clock, |attempt| {
///     let clock = clock.clone();
///     async move {
///         if attempt == 1 {
///             clock.sleep(Duration::from_secs(60)).await; // a lost packet
///         }
///         Ok::<_, ()>(attempt)
///     }
/// }));
/// assert_eq!(answer, Ok(2));
/// assert_eq!(clock.pending_sleeps(), 0, "the slow attempt was cancelled");
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Hedge<C = DefaultClock, B = NoBudget, L = NoopListener> {
    delay: HedgeDelay,
    max_hedges: u32,
    name: &'static str,
    clock: C,
    budget: B,
    listener: L,
    latencies: Latencies,
}

/// Configures a [`Hedge`]; made by [`Hedge::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct HedgeBuilder<C = DefaultClock, B = NoBudget, L = NoopListener> {
    delay: HedgeDelay,
    max_hedges: u32,
    name: &'static str,
    clock: C,
    budget: B,
    listener: L,
}

impl Hedge {
    /// A builder with the defaults listed on [`Hedge`].
    pub fn builder() -> HedgeBuilder {
        HedgeBuilder {
            delay: HedgeDelay::Percentile {
                quantile: 0.95,
                initial: Duration::from_millis(100),
            },
            max_hedges: 1,
            name: "",
            clock: DefaultClock::default(),
            budget: NoBudget,
            listener: NoopListener,
        }
    }
}

impl<C, B, L> HedgeBuilder<C, B, L> {
    /// When hedges start.
    pub fn delay(mut self, delay: HedgeDelay) -> Self {
        self.delay = delay;
        self
    }

    /// The most extra attempts per call.
    pub fn max_hedges(mut self, hedges: u32) -> Self {
        self.max_hedges = hedges;
        self
    }

    /// The name events carry as their source.
    pub fn name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The clock latencies are measured on.
    pub fn clock<C2: Clock>(self, clock: C2) -> HedgeBuilder<C2, B, L> {
        HedgeBuilder {
            delay: self.delay,
            max_hedges: self.max_hedges,
            name: self.name,
            clock,
            budget: self.budget,
            listener: self.listener,
        }
    }

    /// The budget every hedge is paid from.
    pub fn budget<B2: Budget>(self, budget: B2) -> HedgeBuilder<C, B2, L> {
        HedgeBuilder {
            delay: self.delay,
            max_hedges: self.max_hedges,
            name: self.name,
            clock: self.clock,
            budget,
            listener: self.listener,
        }
    }

    /// Where events go.
    pub fn listener<L2: Listener>(self, listener: L2) -> HedgeBuilder<C, B, L2> {
        HedgeBuilder {
            delay: self.delay,
            max_hedges: self.max_hedges,
            name: self.name,
            clock: self.clock,
            budget: self.budget,
            listener,
        }
    }
}

impl<C: Clock, B, L> HedgeBuilder<C, B, L> {
    /// Validates the configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if `max_hedges` is 0 or above 16, or a percentile's
    /// `quantile` is not in `(0, 1]`.
    pub fn build(self) -> Result<Hedge<C, B, L>, ConfigError> {
        check_count("max_hedges", self.max_hedges.into(), 1, "at least 1")?;
        if self.max_hedges > MAX_HEDGES {
            return Err(ConfigError::invalid(
                "max_hedges",
                self.max_hedges,
                "at most 16",
            ));
        }
        if let HedgeDelay::Percentile { quantile, .. } = self.delay {
            check_rate("quantile", quantile)?;
        }
        Ok(Hedge {
            delay: self.delay,
            max_hedges: self.max_hedges,
            name: self.name,
            clock: self.clock,
            budget: self.budget,
            listener: self.listener,
            latencies: Latencies::new(),
        })
    }
}

impl<C: Clock, B: Budget, L: Listener> Hedge<C, B, L> {
    /// Runs `op` with hedging: every `Err` is a failure (the next hedge
    /// starts at once), the first `Ok` wins.
    ///
    /// `op` is called with the attempt number (from 1) and must return an
    /// owned future: several are in flight at once.
    ///
    /// # Errors
    ///
    /// The last error once every attempt has failed, in a [`RetryError`]
    /// (stop reason: attempts exhausted, or budget empty if the budget
    /// refused a hedge).
    pub async fn run<S, F, Fut, T, E>(&self, sleeper: &S, op: F) -> Result<T, RetryError<E>>
    where
        S: Sleeper + ?Sized,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.run_classified(sleeper, DefaultClassifier, op).await
    }

    /// Like [`run`](Self::run), with `classify` deciding which results win
    /// ([`Outcome::Success`]), which start the next hedge
    /// ([`Outcome::Failure`]) and which end the call at once
    /// ([`Outcome::Ignored`]: not retryable).
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run), and stop reason "not retryable" for an ignored
    /// error.
    pub async fn run_classified<S, K, F, Fut, T, E>(
        &self,
        sleeper: &S,
        classify: K,
        mut op: F,
    ) -> Result<T, RetryError<E>>
    where
        S: Sleeper + ?Sized,
        K: Classify<T, E>,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.budget.deposit();
        let start = self.clock.now();
        let delay = self.current_delay();
        let mut launched: u32 = 1;
        // The first attempt lives here, unboxed; hedges are boxed, because
        // how many there will be is known only at run time.
        let mut first = pin!(Some(op(1)));
        let mut hedges: Vec<Pin<Box<Fut>>> = Vec::new();
        let mut timer = pin!(Some(sleeper.sleep(delay)));
        let mut open = true;
        let mut reason = StopReason::AttemptsExhausted;
        let mut last: Option<Result<T, E>> = None;

        let (result, stopped) = poll_fn(|cx| {
            loop {
                // A finished attempt either ends the call or asks for the
                // next hedge at once.
                let mut launch_now = false;
                if let Some(attempt) = first.as_mut().as_pin_mut() {
                    if let Poll::Ready(result) = attempt.poll(cx) {
                        first.set(None);
                        match self.settle(&classify, result, start, &mut last) {
                            Some(end) => return Poll::Ready(end),
                            None => launch_now = true,
                        }
                    }
                }
                let mut i = 0;
                while i < hedges.len() {
                    match hedges[i].as_mut().poll(cx) {
                        Poll::Pending => i += 1,
                        Poll::Ready(result) => {
                            drop(hedges.swap_remove(i));
                            match self.settle(&classify, result, start, &mut last) {
                                Some(end) => return Poll::Ready(end),
                                None => launch_now = true,
                            }
                        }
                    }
                }
                let due = open
                    && (launch_now
                        || timer
                            .as_mut()
                            .as_pin_mut()
                            .is_some_and(|sleep| sleep.poll(cx).is_ready()));
                if due {
                    if launched > self.max_hedges {
                        open = false;
                    } else if !self.budget.withdraw() {
                        open = false;
                        reason = StopReason::BudgetEmpty;
                    } else {
                        launched += 1;
                        let now = self.clock.now();
                        hedges.push(Box::pin(op(launched)));
                        self.report(EventKind::hedge_sent(launched, now - start));
                        timer.set(Some(sleeper.sleep(delay)));
                        continue; // Poll the new attempt at once.
                    }
                    timer.set(None);
                }
                if first.is_none() && hedges.is_empty() {
                    if let Some(result) = last.take() {
                        return Poll::Ready((result, Some(reason)));
                    }
                }
                return Poll::Pending;
            }
        })
        .await;

        let elapsed = self.clock.now() - start;
        match stopped {
            None if launched > 1 => self.report(EventKind::retry_succeeded(launched, elapsed)),
            None => {}
            Some(reason) => self.report(EventKind::retry_gave_up(launched, reason, elapsed)),
        }
        let reason = stopped.unwrap_or(StopReason::NotRetryable);
        result.map_err(|error| RetryError::new(error, launched, reason, elapsed))
    }

    /// Classifies a finished attempt: `Some` ends the call with this result
    /// (a win, or not retryable); `None` keeps it as the last failure.
    fn settle<K: Classify<T, E>, T, E>(
        &self,
        classify: &K,
        result: Result<T, E>,
        call_start: Instant,
        last: &mut Option<Result<T, E>>,
    ) -> Option<(Result<T, E>, Option<StopReason>)> {
        let outcome = classify.classify(&result);
        self.budget.record(outcome);
        match outcome {
            Outcome::Success => {
                // Record the latency the *call* saw from its first attempt's
                // start: when a hedge wins, that is a lower bound on the slow
                // first attempt. Recording the winner's own, shorter latency
                // would pull the percentile down, hedge more, and so on.
                self.latencies.record(self.clock.now() - call_start);
                Some((result, None))
            }
            Outcome::Ignored => Some((result, Some(StopReason::NotRetryable))),
            Outcome::Failure => {
                *last = Some(result);
                None
            }
        }
    }

    /// The delay before the next hedge, from the configuration and, for a
    /// percentile, the recent latencies.
    fn current_delay(&self) -> Duration {
        match self.delay {
            HedgeDelay::Fixed(delay) => delay,
            HedgeDelay::Percentile { quantile, initial } => {
                self.latencies.quantile(quantile).unwrap_or(initial)
            }
        }
    }

    fn report(&self, kind: EventKind) {
        if !self.listener.is_enabled() {
            return;
        }
        self.listener
            .on_event(&resil_core::Event::new(self.name, self.clock.now(), kind));
    }
}
