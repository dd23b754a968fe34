//! A snapshot of what the breaker has seen.

use resil_core::CircuitState;

use crate::window::Totals;

/// The breaker's state and the contents of its window, at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Metrics {
    /// The current state.
    pub state: CircuitState,
    /// Calls in the window.
    pub calls: u32,
    /// Failed calls in the window.
    pub failures: u32,
    /// Slow calls in the window.
    pub slow_calls: u32,
    /// `failures / calls`, or 0 with no calls.
    pub failure_rate: f64,
    /// `slow_calls / calls`, or 0 with no calls.
    pub slow_call_rate: f64,
    /// Calls rejected since the breaker was built.
    pub rejected: u64,
    /// Failures in a row, while closed.
    pub consecutive_failures: u32,
}

impl Metrics {
    pub(crate) fn new(
        state: CircuitState,
        totals: Totals,
        rejected: u64,
        consecutive_failures: u32,
    ) -> Self {
        let rate = |n: u32| {
            if totals.calls == 0 {
                0.0
            } else {
                (f64::from(n) / f64::from(totals.calls)).min(1.0)
            }
        };
        Metrics {
            state,
            calls: totals.calls,
            failures: totals.failures,
            slow_calls: totals.slow,
            failure_rate: rate(totals.failures),
            slow_call_rate: rate(totals.slow),
            rejected,
            consecutive_failures,
        }
    }
}
