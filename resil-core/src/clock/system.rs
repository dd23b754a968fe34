//! The operating system's monotonic clock.
//!
//! This file and `sleep/thread.rs` are the only places in the workspace
//! allowed to call `std::time::Instant::now` and `std::thread::sleep`
//! (`clippy.toml` bans them everywhere else).

use std::sync::OnceLock;

use crate::instant::duration_to_nanos;
use crate::{Clock, Instant};

/// The process-wide origin every [`SystemClock`] reading is measured from.
static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();

/// The operating system's monotonic clock (`std::time::Instant`).
///
/// A zero-sized handle; every `SystemClock` in a process shares one origin
/// (the first reading taken), so readings from different handles compare.
///
/// # Examples
///
/// ```
/// use resil_core::{Clock, SystemClock};
///
/// let clock = SystemClock;
/// let a = clock.now();
/// let b = clock.now();
/// assert!(b >= a);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods, reason = "this is the one std clock")]
    fn now(&self) -> Instant {
        let origin = *ORIGIN.get_or_init(std::time::Instant::now);
        let since = std::time::Instant::now().saturating_duration_since(origin);
        Instant::from_nanos(duration_to_nanos(since))
    }
}

#[cfg(all(test, not(resil_loom)))]
mod tests {
    use super::*;

    #[test]
    fn handles_share_one_origin_and_never_go_back() {
        let first = SystemClock.now();
        let second = SystemClock.now();
        assert!(second >= first);
    }
}
