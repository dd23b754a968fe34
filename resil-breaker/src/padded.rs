//! `Padded`: a value alone on its cache lines.
//!
//! Why: a breaker shared by many threads has words that every call writes
//! (the window's totals and cursor, the rejection counter, the failure run)
//! next to words that every call only reads (the state word, the open
//! deadline, the window's period). On one cache line, each write by one
//! core evicts the line from every other core, so their loads of the
//! read-only words miss too: two threads rejecting calls then run slower
//! than one. Padding the written words onto lines of their own leaves the
//! read-only ones shared by every core, and the written ones contended only
//! by the threads that write them.
//!
//! 128 bytes rather than 64: x86-64 fetches cache lines in adjacent pairs,
//! and some ARM cores have 128-byte lines (crossbeam's `CachePadded` makes
//! the same choice for the same reason).

use core::ops::Deref;

/// `T`, aligned (and so sized) to 128 bytes: nothing else shares its lines.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
