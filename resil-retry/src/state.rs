//! One call's progress through its attempts: every decision the async and
//! blocking loops share, so that the two loops are only "call, then wait".

use core::time::Duration;

use resil_core::{
    Backoff, Classify, Clock, Delays, Event, EventKind, Instant, Jitter, Listener, Outcome,
    StopReason,
};

use crate::budget::Budget;
use crate::hint::Hint;
use crate::hook::{OnRetry, RetryInfo};
use crate::{Retry, RetryError};

/// What a loop does with an attempt's result: wait and try again, or return.
#[derive(Debug)]
pub(crate) enum Step<T, E> {
    Wait(Duration),
    Done(Result<T, RetryError<E>>),
}

/// What a loop does after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Return the result: it succeeded.
    Succeeded,
    /// Return the result: no further attempt will be made.
    Stop(StopReason),
    /// Wait `delay`, then attempt again.
    Retry { delay: Duration, elapsed: Duration },
}

/// The state of one call.
#[derive(Debug)]
pub(crate) struct Progress {
    /// Attempts started so far.
    attempts: u32,
    /// When the first attempt started: read up front only if a deadline
    /// needs it, otherwise at the first failure (so a call that succeeds at
    /// once reads no clock).
    start: Option<Instant>,
    /// Drawn lazily at the first failure: a success costs no seeding.
    delays: Option<Delays>,
    /// The jitter seed the call fixed, if any.
    seed: Option<u64>,
}

impl Progress {
    /// A call begins: pays its deposit into the budget.
    pub(crate) fn begin<C: Clock, B: Budget, L>(retry: &Retry<C, B, L>) -> Self {
        retry.budget.deposit();
        Progress {
            attempts: 0,
            start: retry.max_elapsed.map(|_| retry.clock.now()),
            delays: None,
            seed: None,
        }
    }

    /// Seeds the delays' jitter with `seed` (if any) instead of a fresh one.
    pub(crate) fn seeded(mut self, seed: Option<u64>) -> Self {
        self.seed = seed;
        self
    }

    /// The next attempt's number, counting from 1.
    pub(crate) fn start_attempt(&mut self) -> u32 {
        self.attempts = self.attempts.saturating_add(1);
        self.attempts
    }

    /// Attempts made so far.
    fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Decides what follows an attempt that ended with `outcome` and,
    /// perhaps, a server `hint`.
    #[inline]
    pub(crate) fn next<C: Clock, B: Budget, L>(
        &mut self,
        retry: &Retry<C, B, L>,
        outcome: Outcome,
        hint: Option<Duration>,
    ) -> Next {
        retry.budget.record(outcome);
        match outcome {
            Outcome::Success => return Next::Succeeded,
            Outcome::Ignored => return Next::Stop(StopReason::NotRetryable),
            Outcome::Failure => {}
        }
        if self.attempts >= retry.max_attempts {
            return Next::Stop(StopReason::AttemptsExhausted);
        }
        let now = retry.clock.now();
        let elapsed = now - *self.start.get_or_insert(now);
        let delay = self.delay(retry, hint);
        if let Some(limit) = retry.max_elapsed {
            if elapsed.saturating_add(delay) > limit {
                return Next::Stop(StopReason::Deadline);
            }
        }
        // Last, so that a retry that will not happen is never paid for.
        if !retry.budget.withdraw() {
            return Next::Stop(StopReason::BudgetEmpty);
        }
        Next::Retry { delay, elapsed }
    }

    /// Everything that follows an attempt, short of waiting: classify the
    /// result, decide, and either announce the retry (hook, event) or end
    /// the call. The async and blocking loops differ only in how they wait.
    #[inline]
    pub(crate) fn settle<C, B, L, T, E, K, H, N>(
        &mut self,
        retry: &Retry<C, B, L>,
        (classify, hint, on_retry): (&K, &H, &mut N),
        attempt: u32,
        result: Result<T, E>,
    ) -> Step<T, E>
    where
        C: Clock,
        B: Budget,
        L: Listener,
        K: Classify<T, E>,
        H: Hint<T, E>,
        N: OnRetry<T, E>,
    {
        let outcome = classify.classify(&result);
        match self.next(retry, outcome, hint.hint(&result)) {
            Next::Retry { delay, elapsed } => {
                let result = &result;
                on_retry.on_retry(&RetryInfo {
                    attempt,
                    result,
                    delay,
                    elapsed,
                });
                report(retry, EventKind::retry_scheduled(attempt, delay, elapsed));
                Step::Wait(delay)
            }
            Next::Succeeded => Step::Done(self.finish(retry, result, None)),
            Next::Stop(reason) => Step::Done(self.finish(retry, result, Some(reason))),
        }
    }

    /// Ends a call: reports it, and wraps an error with its story.
    fn finish<C: Clock, B, L: Listener, T, E>(
        &mut self,
        retry: &Retry<C, B, L>,
        result: Result<T, E>,
        stopped: Option<StopReason>,
    ) -> Result<T, RetryError<E>> {
        let attempts = self.attempts();
        let result = match result {
            // The common case reports nothing, so it reads no clock.
            Ok(value) if stopped.is_none() && attempts == 1 => return Ok(value),
            other => other,
        };
        let elapsed = self.elapsed(&retry.clock);
        match stopped {
            None if attempts > 1 => report(retry, EventKind::retry_succeeded(attempts, elapsed)),
            None => {}
            Some(reason) => report(retry, EventKind::retry_gave_up(attempts, reason, elapsed)),
        }
        let reason = stopped.unwrap_or(StopReason::NotRetryable);
        result.map_err(|error| RetryError::new(error, attempts, reason, elapsed))
    }

    /// Time since the first attempt started, reading the clock if need be.
    fn elapsed<C: Clock>(&mut self, clock: &C) -> Duration {
        let now = clock.now();
        now - *self.start.get_or_insert(now)
    }

    /// The wait before the next attempt: the backoff's draw, with its floor
    /// raised to the server's hint (cut to `max_hint`) if there is one.
    fn delay<C, B, L>(&mut self, retry: &Retry<C, B, L>, hint: Option<Duration>) -> Duration {
        let seed = self.seed;
        let delays = self.delays.get_or_insert_with(|| match seed {
            Some(seed) => retry.backoff.iter_seeded(seed),
            None => retry.backoff.iter(),
        });
        let index = delays.drawn();
        let drawn = delays.next().unwrap_or(Duration::MAX);
        match hint.filter(|h| !h.is_zero()) {
            None => drawn,
            Some(hint) => {
                // The hint raises the floor of the backoff's jitter range: the
                // server's wait is honoured, our own backoff still applies if
                // longer, and the jitter's random part goes on top.
                let floor = jitter_floor(&retry.backoff, index);
                let spread = drawn.saturating_sub(floor);
                // Never longer than the ceiling, unless the backoff alone
                // would wait longer than that anyway.
                let ceiling = retry.max_hint.max(drawn);
                let delay = hint
                    .min(retry.max_hint)
                    .max(floor)
                    .saturating_add(spread)
                    .min(ceiling);
                delays.set_previous(delay);
                delay
            }
        }
    }
}

/// The least delay `index` can be under the backoff's jitter mode: a hint
/// raises this floor, and what is drawn above it goes on top.
fn jitter_floor(backoff: &Backoff, index: u32) -> Duration {
    let nominal = backoff.delay(index);
    match backoff.jitter_mode() {
        Jitter::Full => Duration::ZERO,
        Jitter::Equal => nominal / 2,
        Jitter::Decorrelated => backoff.base(),
        _ => nominal,
    }
}

/// Reports `kind` to the policy's listener.
pub(crate) fn report<C: Clock, B, L: Listener>(retry: &Retry<C, B, L>, kind: EventKind) {
    if !retry.listener.is_enabled() {
        return;
    }
    retry
        .listener
        .on_event(&Event::new(retry.name, retry.clock.now(), kind));
}

#[cfg(test)]
mod tests {
    use super::*;
    use resil_core::ManualClock;

    fn policy(attempts: u32) -> Retry<ManualClock> {
        let backoff = Backoff::constant(Duration::from_secs(1)).build().unwrap();
        Retry::builder()
            .clock(ManualClock::new())
            .backoff(backoff)
            .max_attempts(attempts)
            .build()
            .unwrap()
    }

    #[test]
    fn successes_and_ignored_results_end_the_call() {
        let retry = policy(3);
        let mut p = Progress::begin(&retry);
        p.start_attempt();
        assert_eq!(p.next(&retry, Outcome::Success, None), Next::Succeeded);
        assert_eq!(
            p.next(&retry, Outcome::Ignored, None),
            Next::Stop(StopReason::NotRetryable)
        );
    }

    #[test]
    fn failures_retry_until_the_attempts_run_out() {
        let retry = policy(2);
        let mut p = Progress::begin(&retry);
        p.start_attempt();
        assert!(matches!(
            p.next(&retry, Outcome::Failure, None),
            Next::Retry { .. }
        ));
        p.start_attempt();
        assert_eq!(
            p.next(&retry, Outcome::Failure, None),
            Next::Stop(StopReason::AttemptsExhausted)
        );
    }

    #[test]
    fn a_hint_sets_the_delay_and_is_cut_to_the_ceiling() {
        let retry = policy(5);
        let mut p = Progress::begin(&retry);
        p.start_attempt();
        let hinted = p.next(&retry, Outcome::Failure, Some(Duration::from_secs(7)));
        assert!(matches!(hinted, Next::Retry { delay, .. } if delay == Duration::from_secs(7)));
        let huge = p.next(&retry, Outcome::Failure, Some(Duration::from_secs(3600)));
        assert!(matches!(huge, Next::Retry { delay, .. } if delay == Duration::from_secs(60)));
        let zero = p.next(&retry, Outcome::Failure, Some(Duration::ZERO));
        assert!(matches!(zero, Next::Retry { delay, .. } if delay == Duration::from_secs(1)));
    }

    #[test]
    fn jitter_floors_match_each_mode() {
        let base = Duration::from_millis(100);
        let build = |j| Backoff::exponential(base, 2.0).jitter(j).build().unwrap();
        assert_eq!(jitter_floor(&build(Jitter::None), 2), base * 4);
        assert_eq!(jitter_floor(&build(Jitter::Full), 2), Duration::ZERO);
        assert_eq!(jitter_floor(&build(Jitter::Equal), 2), base * 2);
        assert_eq!(jitter_floor(&build(Jitter::Decorrelated), 2), base);
    }
}
