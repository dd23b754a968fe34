//! Test support for the resil crates: an allocation counter, an event log
//! and the other helpers the tests share. (The virtual-time executor is
//! public API: `ManualClock::block_on` in resil-core.)
//!
//! "No allocation on the hot path" is a claim a test can pin: install
//! [`CountingAllocator`] as a test binary's global allocator and measure a
//! closure with [`allocations_during`]. Counts are per thread, so tests
//! running in parallel do not disturb each other.
//!
//! ```
//! use resil_testkit::{CountingAllocator, allocations_during};
//!
//! #[global_allocator]
//! static ALLOCATOR: CountingAllocator = CountingAllocator;
//!
//! let (_, allocations) = allocations_during(|| std::hint::black_box(vec![1u8; 8]));
//! assert_eq!(allocations, 1);
//! let (_, allocations) = allocations_during(|| std::hint::black_box([1u8; 8]));
//! assert_eq!(allocations, 0);
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // `const`-initialised and without a destructor, so reading it never
    // allocates (which would recurse into the allocator).
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting allocations made by each thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

fn count_one() {
    // `try_with`: the thread-local may be gone while a thread shuts down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments,
// unchanged; counting touches only a thread-local `Cell`.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` and returns its result with the number of allocations (and
/// reallocations) it made on this thread.
///
/// Only meaningful in a binary whose global allocator is
/// [`CountingAllocator`]; elsewhere the count is always zero.
pub fn allocations_during<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    let after = ALLOCATIONS.with(Cell::get);
    (result, after - before)
}

/// One event as a listener saw it, with its source copied out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The component's name.
    pub source: String,
    /// When, on the component's clock.
    pub at: resil_core::Instant,
    /// What happened.
    pub kind: resil_core::EventKind,
}

/// A log of events, filled by a `listener_fn` that borrows it.
///
/// ```
/// use resil_core::{Event, EventKind, Instant, Listener, listener_fn};
/// use resil_testkit::EventLog;
///
/// let log = EventLog::new();
/// let listener = listener_fn(|event| log.push(event));
/// listener.on_event(&Event::new("db", Instant::ZERO, EventKind::limit_changed(1, 2)));
/// assert_eq!(log.take_kinds(), [EventKind::limit_changed(1, 2)]);
/// ```
#[derive(Debug, Default)]
pub struct EventLog(std::sync::Mutex<Vec<Seen>>);

impl EventLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one event.
    pub fn push(&self, event: &resil_core::Event<'_>) {
        self.lock().push(Seen {
            source: event.source.to_owned(),
            at: event.at,
            kind: event.kind,
        });
    }

    /// Every event so far, in order, leaving the log empty.
    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.lock())
    }

    /// The kinds of every event so far, in order, leaving the log empty.
    pub fn take_kinds(&self) -> Vec<resil_core::EventKind> {
        self.take().into_iter().map(|seen| seen.kind).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Seen>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A [`Clock`](resil_core::Clock) reading tokio's time (paused in tests),
/// from when it was made: for components that need a clock in step with
/// `tokio::time::sleep`.
#[derive(Clone, Copy, Debug)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock whose origin is tokio's now. Call it inside a runtime.
    pub fn new() -> Self {
        TokioClock {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl resil_core::Clock for TokioClock {
    fn now(&self) -> resil_core::Instant {
        let nanos = self.origin.elapsed().as_nanos();
        resil_core::Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// The seed of a seeded stress test: `RESIL_STRESS_SEED` if it is set to a
/// number, `default` otherwise. Printed, so that a failing run can be
/// replayed.
pub fn stress_seed(default: u64) -> u64 {
    let seed = std::env::var("RESIL_STRESS_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(default);
    eprintln!("stress seed: {seed} (rerun with RESIL_STRESS_SEED={seed})");
    seed
}

/// Silences panics whose message starts with `prefix` (a test's deliberate
/// ones) until the guard is dropped; every other panic is reported as
/// usual. Dropping the guard restores the default hook.
pub fn quiet_panics(prefix: &'static str) -> QuietPanics {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let deliberate = info
            .payload()
            .downcast_ref::<&str>()
            .is_some_and(|message| message.starts_with(prefix));
        if !deliberate {
            default_hook(info);
        }
    }));
    QuietPanics(())
}

/// The guard of [`quiet_panics`].
#[derive(Debug)]
#[must_use = "panics are quiet only while the guard lives"]
pub struct QuietPanics(());

impl Drop for QuietPanics {
    fn drop(&mut self) {
        let _ = std::panic::take_hook();
    }
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
