//! The breaker's state machine as pure functions: no atomics, no clock.
//!
//! [`State`] is everything the hot paths need, packed into one `u64` so
//! that `cell.rs` can keep it in a single atomic: the state, its
//! generation, and the half-open trial counts. Every decision — admit or
//! reject, what a trial outcome does, whether the window's totals trip the
//! breaker, the verdict of the half-open trials — is a function here, unit-
//! and property-tested against a reference model.

use resil_core::CircuitState;

use crate::config::Config;
use crate::window::Totals;

/// The most half-open trial permits (the packing gives each count 10 bits).
pub(crate) const MAX_HALF_OPEN_PERMITS: u32 = 1_000;

/// Generations wrap at 2^21; a permit older than two million transitions
/// could be mistaken for a current one, which is far beyond any real stall.
const GENERATION_BITS: u32 = 21;
const GENERATION_MASK: u64 = (1 << GENERATION_BITS) - 1;
const COUNT_BITS: u32 = 10;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

/// The packed state: kind (3 bits), generation (21), and, in half-open, the
/// trial permits issued, and the trials that succeeded, failed and were slow
/// (10 bits each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) kind: CircuitState,
    pub(crate) generation: u32,
    pub(crate) issued: u16,
    pub(crate) succeeded: u16,
    pub(crate) failed: u16,
    pub(crate) slow: u16,
}

impl State {
    /// A fresh `kind` state at `generation`, with no trials.
    pub(crate) const fn new(kind: CircuitState, generation: u32) -> Self {
        State {
            kind,
            generation: generation & GENERATION_MASK as u32,
            issued: 0,
            succeeded: 0,
            failed: 0,
            slow: 0,
        }
    }

    /// The next state after a transition to `kind`: a new generation.
    pub(crate) const fn next(self, kind: CircuitState) -> Self {
        State::new(kind, self.generation.wrapping_add(1))
    }

    pub(crate) const fn pack(self) -> u64 {
        (self.kind as u64)
            | ((self.generation as u64 & GENERATION_MASK) << 3)
            | ((self.issued as u64 & COUNT_MASK) << 24)
            | ((self.succeeded as u64 & COUNT_MASK) << 34)
            | ((self.failed as u64 & COUNT_MASK) << 44)
            | ((self.slow as u64 & COUNT_MASK) << 54)
    }

    /// The generation of `word` if it is a closed state: the admission and
    /// record fast paths, without unpacking the rest.
    #[inline]
    pub(crate) const fn closed_generation(word: u64) -> Option<u32> {
        if word & 0b111 == CircuitState::Closed as u64 {
            Some(((word >> 3) & GENERATION_MASK) as u32)
        } else {
            None
        }
    }

    /// Whether `word` is an open state (not forced open): the rejection
    /// fast path, without unpacking.
    #[inline]
    pub(crate) const fn is_open(word: u64) -> bool {
        word & 0b111 == CircuitState::Open as u64
    }

    pub(crate) const fn unpack(word: u64) -> Self {
        let kind = match word & 0b111 {
            0 => CircuitState::Closed,
            1 => CircuitState::Open,
            2 => CircuitState::HalfOpen,
            3 => CircuitState::ForcedOpen,
            _ => CircuitState::Disabled,
        };
        State {
            kind,
            generation: ((word >> 3) & GENERATION_MASK) as u32,
            issued: ((word >> 24) & COUNT_MASK) as u16,
            succeeded: ((word >> 34) & COUNT_MASK) as u16,
            failed: ((word >> 44) & COUNT_MASK) as u16,
            slow: ((word >> 54) & COUNT_MASK) as u16,
        }
    }
}

/// What `acquire` decides from the state alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Admit a call; record its outcome against `generation`.
    Admit { generation: u32, trial: bool },
    /// Admit a trial call if this new state (one more permit issued) can be
    /// installed.
    Claim(State),
    /// Open: admit nothing until the wait is over.
    Open,
    /// Reject (forced open, or every half-open permit is out).
    Reject,
    /// Half-open with every trial recorded: the verdict is due.
    Verdict(Verdict),
}

/// Decides a call's admission in `state`.
pub(crate) fn admit(state: State, config: &Config) -> Admission {
    match state.kind {
        CircuitState::Closed | CircuitState::Disabled => Admission::Admit {
            generation: state.generation,
            trial: false,
        },
        CircuitState::Open => Admission::Open,
        CircuitState::ForcedOpen => Admission::Reject,
        CircuitState::HalfOpen => {
            if u32::from(state.issued) < config.half_open_permits {
                Admission::Claim(State {
                    issued: state.issued + 1,
                    ..state
                })
            } else {
                match verdict(state, config) {
                    Some(verdict) => Admission::Verdict(verdict),
                    None => Admission::Reject,
                }
            }
        }
    }
}

/// A trial call's outcome, as the state machine counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trial {
    Success {
        slow: bool,
    },
    Failure {
        slow: bool,
    },
    /// Recorded as ignored, or dropped unrecorded: frees the permit.
    Ignored,
}

/// Applies a trial outcome from a permit of `generation`. `None` if the
/// permit is stale (the breaker has moved on): the outcome is ignored.
pub(crate) fn record_trial(state: State, generation: u32, trial: Trial) -> Option<State> {
    if state.kind != CircuitState::HalfOpen || state.generation != generation {
        return None;
    }
    let mut next = state;
    match trial {
        Trial::Ignored => next.issued = next.issued.saturating_sub(1),
        Trial::Success { slow } => {
            next.succeeded += 1;
            next.slow += u16::from(slow);
        }
        Trial::Failure { slow } => {
            next.failed += 1;
            next.slow += u16::from(slow);
        }
    }
    Some(next)
}

/// What the half-open trials decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Close,
    Reopen(Cause),
}

/// The verdict, once every permit's trial has been recorded.
pub(crate) fn verdict(state: State, config: &Config) -> Option<Verdict> {
    let recorded = u32::from(state.succeeded) + u32::from(state.failed);
    if state.kind != CircuitState::HalfOpen || recorded < config.half_open_permits {
        return None;
    }
    let totals = Totals {
        calls: recorded,
        failures: state.failed.into(),
        slow: state.slow.into(),
    };
    Some(match rate_exceeded(totals, config) {
        Some(cause) => Verdict::Reopen(cause),
        None => Verdict::Close,
    })
}

/// Why the breaker opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    FailureRate,
    SlowCallRate,
    ConsecutiveFailures,
}

/// Whether a closed breaker with these window totals and this run of
/// consecutive failures should open.
///
/// The rate conditions wait for `minimum_calls`, so that two failures out
/// of three calls at start-up do not open a breaker; the consecutive-failure
/// condition does not, because it exists to react before the window fills.
pub(crate) fn should_trip(
    totals: Totals,
    consecutive_failures: u32,
    config: &Config,
) -> Option<Cause> {
    if config
        .consecutive_failures
        .is_some_and(|limit| consecutive_failures >= limit)
    {
        return Some(Cause::ConsecutiveFailures);
    }
    if totals.calls < config.minimum_calls.unwrap_or(1) {
        return None;
    }
    rate_exceeded(totals, config)
}

/// The failure or slow-call rate reaching its threshold (at least one call).
fn rate_exceeded(totals: Totals, config: &Config) -> Option<Cause> {
    if totals.calls == 0 {
        return None;
    }
    // `failures / calls >= threshold`, without a division on the hot path.
    // `min` guards a transiently inconsistent snapshot from a racing window.
    let calls = f64::from(totals.calls);
    let reaches =
        |count: u32, threshold: f64| f64::from(count.min(totals.calls)) >= threshold * calls;
    if config
        .failure_rate
        .is_some_and(|threshold| reaches(totals.failures, threshold))
    {
        return Some(Cause::FailureRate);
    }
    match config.slow_call_rate {
        Some(threshold) if reaches(totals.slow, threshold) => Some(Cause::SlowCallRate),
        _ => None,
    }
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use core::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::config::SlidingWindow;

    fn config(permits: u32) -> Config {
        Config {
            failure_rate: Some(0.5),
            slow_call_rate: Some(0.8),
            slow_call_duration: Duration::from_secs(1),
            consecutive_failures: Some(5),
            window: SlidingWindow::count(10),
            minimum_calls: Some(4),
            wait: resil_core::Backoff::default(),
            half_open_permits: permits,
            half_open_timeout: None,
        }
    }

    fn totals(calls: u32, failures: u32, slow: u32) -> Totals {
        Totals {
            calls,
            failures,
            slow,
        }
    }

    const KINDS: [CircuitState; 5] = [
        CircuitState::Closed,
        CircuitState::Open,
        CircuitState::HalfOpen,
        CircuitState::ForcedOpen,
        CircuitState::Disabled,
    ];

    proptest! {
        #[test]
        fn packing_round_trips(
            kind in 0usize..5,
            generation in 0u32..(1 << 21),
            issued in 0u16..1024,
            succeeded in 0u16..1024,
            failed in 0u16..1024,
            slow in 0u16..1024,
        ) {
            let state = State { kind: KINDS[kind], generation, issued, succeeded, failed, slow };
            prop_assert_eq!(State::unpack(state.pack()), state);
        }
    }

    /// The fast paths read the packed word without unpacking: they must
    /// agree with `unpack` for every kind, with trial counts set (a
    /// half-open word has bits above the generation).
    #[test]
    fn fast_path_reads_agree_with_unpacking() {
        for kind in KINDS {
            for generation in [0, 1, 0b1010_1010, (1 << 21) - 1] {
                let state = State {
                    kind,
                    generation,
                    issued: 1023,
                    succeeded: 5,
                    failed: 1,
                    slow: 1023,
                };
                let word = state.pack();
                let closed = (kind == CircuitState::Closed).then_some(generation);
                assert_eq!(State::closed_generation(word), closed, "{state:?}");
                assert_eq!(
                    State::is_open(word),
                    kind == CircuitState::Open,
                    "{state:?}"
                );
            }
        }
    }

    #[test]
    fn generations_wrap_instead_of_overflowing() {
        let last = State::new(CircuitState::Closed, (1 << 21) - 1);
        assert_eq!(last.next(CircuitState::Open).generation, 0);
    }

    #[test]
    fn closed_and_disabled_admit_open_and_forced_open_do_not() {
        let c = config(2);
        let closed = State::new(CircuitState::Closed, 7);
        assert_eq!(
            admit(closed, &c),
            Admission::Admit {
                generation: 7,
                trial: false
            }
        );
        assert_eq!(
            admit(State::new(CircuitState::Disabled, 7), &c),
            Admission::Admit {
                generation: 7,
                trial: false
            }
        );
        assert_eq!(
            admit(State::new(CircuitState::Open, 7), &c),
            Admission::Open
        );
        assert_eq!(
            admit(State::new(CircuitState::ForcedOpen, 7), &c),
            Admission::Reject
        );
    }

    #[test]
    fn half_open_issues_exactly_its_permits() {
        let c = config(2);
        let mut state = State::new(CircuitState::HalfOpen, 3);
        for _ in 0..2 {
            match admit(state, &c) {
                Admission::Claim(next) => state = next,
                other => panic!("expected a claim, got {other:?}"),
            }
        }
        assert_eq!(state.issued, 2);
        assert_eq!(admit(state, &c), Admission::Reject);
        // A dropped permit frees its slot.
        state = record_trial(state, 3, Trial::Ignored).unwrap();
        assert!(matches!(admit(state, &c), Admission::Claim(_)));
    }

    #[test]
    fn stale_trials_are_ignored() {
        let state = State::new(CircuitState::HalfOpen, 3);
        assert_eq!(record_trial(state, 2, Trial::Failure { slow: false }), None);
        assert_eq!(
            record_trial(State::new(CircuitState::Closed, 3), 3, Trial::Ignored),
            None
        );
    }

    #[test]
    fn the_verdict_waits_for_every_trial() {
        let c = config(2);
        let mut state = State {
            issued: 2,
            ..State::new(CircuitState::HalfOpen, 1)
        };
        state = record_trial(state, 1, Trial::Success { slow: false }).unwrap();
        assert_eq!(verdict(state, &c), None);
        let closed = record_trial(state, 1, Trial::Success { slow: false }).unwrap();
        assert_eq!(verdict(closed, &c), Some(Verdict::Close));
        let reopened = record_trial(state, 1, Trial::Failure { slow: false }).unwrap();
        assert_eq!(
            verdict(reopened, &c),
            Some(Verdict::Reopen(Cause::FailureRate))
        );
        assert_eq!(
            admit(reopened, &c),
            Admission::Verdict(Verdict::Reopen(Cause::FailureRate))
        );
    }

    #[test]
    fn slow_trials_can_reopen() {
        let c = config(2);
        let mut state = State {
            issued: 2,
            ..State::new(CircuitState::HalfOpen, 1)
        };
        state = record_trial(state, 1, Trial::Success { slow: true }).unwrap();
        state = record_trial(state, 1, Trial::Success { slow: true }).unwrap();
        assert_eq!(
            verdict(state, &c),
            Some(Verdict::Reopen(Cause::SlowCallRate))
        );
    }

    /// A slow failure counts as slow too: with only the slow-call rate
    /// configured, one slow failure in two trials reopens at 50%.
    #[test]
    fn slow_failed_trials_count_as_slow() {
        let c = Config {
            failure_rate: None,
            slow_call_rate: Some(0.5),
            ..config(2)
        };
        let mut state = State {
            issued: 2,
            ..State::new(CircuitState::HalfOpen, 1)
        };
        state = record_trial(state, 1, Trial::Failure { slow: true }).unwrap();
        assert_eq!((state.failed, state.slow), (1, 1));
        state = record_trial(state, 1, Trial::Success { slow: false }).unwrap();
        assert_eq!(
            verdict(state, &c),
            Some(Verdict::Reopen(Cause::SlowCallRate))
        );
    }

    #[test]
    fn rates_wait_for_minimum_calls_and_trip_exactly_at_the_threshold() {
        let c = config(2);
        assert_eq!(
            should_trip(totals(3, 3, 0), 0, &c),
            None,
            "under the minimum"
        );
        assert_eq!(should_trip(totals(4, 1, 0), 0, &c), None, "25% < 50%");
        assert_eq!(
            should_trip(totals(4, 2, 0), 0, &c),
            Some(Cause::FailureRate),
            "exactly 50%"
        );
        assert_eq!(should_trip(totals(10, 0, 7), 0, &c), None, "70% slow < 80%");
        assert_eq!(
            should_trip(totals(10, 0, 8), 0, &c),
            Some(Cause::SlowCallRate)
        );
    }

    #[test]
    fn consecutive_failures_trip_without_the_minimum() {
        let c = config(2);
        assert_eq!(should_trip(totals(1, 1, 0), 4, &c), None);
        assert_eq!(
            should_trip(totals(1, 1, 0), 5, &c),
            Some(Cause::ConsecutiveFailures)
        );
    }

    #[test]
    fn inconsistent_snapshots_never_exceed_a_rate_of_one() {
        let mut c = config(2);
        c.failure_rate = Some(1.0);
        assert_eq!(
            should_trip(totals(4, 9, 0), 0, &c),
            Some(Cause::FailureRate)
        );
        c.failure_rate = Some(0.5);
        assert_eq!(
            should_trip(
                totals(0, 0, 0),
                0,
                &Config {
                    minimum_calls: Some(1),
                    ..c
                }
            ),
            None
        );
    }
}
