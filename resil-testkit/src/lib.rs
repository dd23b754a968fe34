//! Test support for the resil crates: an allocation counter, and a
//! virtual-time executor ([`run_virtual`]).
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

/// Runs `future` to completion in virtual time: polls it until it can make
/// no progress, then moves `clock` to its next pending sleep, and repeats.
///
/// An hour of retries takes microseconds, and nothing sleeps for real.
///
/// # Panics
///
/// If the future is pending with no sleep registered on `clock` and nothing
/// woke it: it could never finish.
pub fn run_virtual<F: core::future::Future>(
    clock: &resil_core::ManualClock,
    future: F,
) -> F::Output {
    use core::task::{Context, Poll};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::Wake;

    struct Flag(AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    let flag = Arc::new(Flag(AtomicBool::new(true)));
    let waker = Arc::clone(&flag).into();
    let mut cx = Context::from_waker(&waker);
    let mut future = core::pin::pin!(future);
    loop {
        if flag.0.swap(false, Ordering::SeqCst) {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
        } else if clock.advance_to_next().is_none() {
            panic!("run_virtual: the future is pending and no sleep is registered on the clock");
        }
    }
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
