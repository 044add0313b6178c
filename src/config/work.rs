//! A count of the configuration text the loader writes and reads, on the current thread:
//! the work a load does, so that a test can check that it grows linearly with the size of
//! the input (loading used to copy every variant into each variant: quadratic). A count,
//! not a wall-clock time, so the check does not depend on the machine or its load.

use std::cell::Cell;

thread_local! {
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

/// Adds `bytes` of text written or read.
pub fn add(bytes: usize) {
    BYTES.with(|b| b.set(b.get().saturating_add(bytes as u64)));
}

/// The bytes counted on this thread so far.
pub fn bytes() -> u64 {
    BYTES.with(Cell::get)
}
