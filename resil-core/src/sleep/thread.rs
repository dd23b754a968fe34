//! The operating system's blocking sleep: the one place allowed to call
//! `std::thread::sleep` (see `clippy.toml`).

use core::time::Duration;

use crate::BlockingSleeper;

/// Blocks the thread with `std::thread::sleep`: the default
/// [`BlockingSleeper`] for synchronous code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadSleeper;

impl BlockingSleeper for ThreadSleeper {
    #[allow(clippy::disallowed_methods, reason = "this is the one std sleeper")]
    fn sleep_blocking(&self, d: Duration) {
        std::thread::sleep(d);
    }
}
