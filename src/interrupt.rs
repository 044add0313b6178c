//! Ctrl-C (SIGINT) and termination requests (SIGTERM, SIGHUP, as a cluster's job
//! scheduler sends at a time limit): the first one sets a flag that running simulations
//! check every [`CHECK_EVERY`] events; they stop with `stopped_reason: "interrupted"`, the
//! figures so far are written (each file whole, through a rename) and the command exits
//! with [`EXIT_CODE`]. A second request exits at once; files already written stay whole.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Events between two looks at the flag: a run stops within milliseconds of a request,
/// and the event loop pays one masked compare per event.
pub const CHECK_EVERY: u64 = 1 << 16;

/// The exit code of an interrupted command (128 + SIGINT, as shells report it).
pub const EXIT_CODE: i32 = 130;

/// The `stopped_reason` of an interrupted run.
pub const STOPPED_REASON: &str = "interrupted";

/// True once an interruption has been requested.
#[inline]
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Requests an interruption (what the signal handler does; tests may call it).
pub fn request() {
    REQUESTED.store(true, Ordering::Relaxed);
}

/// Clears a request (for tests and for library users running several commands).
pub fn reset() {
    REQUESTED.store(false, Ordering::Relaxed);
}

/// Installs the handler once per process; later calls do nothing. Failing to install
/// (another handler is already there) is not an error: the run just cannot be
/// interrupted gracefully.
pub fn install_handler() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if requested() {
                // A second request: the user wants out now. Renames are atomic, so every
                // file already in place is whole; only hidden temporary files may remain.
                std::process::exit(EXIT_CODE);
            }
            // The flag first: a closed or full stderr must not cost the interruption.
            request();
            crate::cli::console::err("\ninterrupted: stopping the runs and writing what they have (Ctrl-C again to quit at once)\n");
        });
    });
}
