//! Printing that never panics: `println!` and `eprintln!` panic when the stream is closed
//! (`scalesim list | head`) or full (`2>/dev/full`), and a panic while the results are being
//! printed, or inside the panic hook, costs the user the exit code or even an abort.
//!
//! Standard output: a closed pipe means the reader has all it wants, so further output is
//! dropped quietly and the command carries on (results are written to files, never only
//! printed); any other failure (a full disk) is remembered and reported once at the end, as
//! an output failure (exit 1). Standard error carries diagnostics only: a failure to write
//! them is ignored, so that a full or closed stderr never costs a result.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Set once stdout's reader has gone away: nothing more is written there.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// The first failure to write stdout that was not a closed pipe.
static STDOUT_FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Writes `text` to standard output; see the module comment for what happens on failure.
pub fn out(text: &str) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(e) = written {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != ErrorKind::BrokenPipe {
            let mut failure = STDOUT_FAILURE.lock().unwrap_or_else(|p| p.into_inner());
            failure.get_or_insert_with(|| e.to_string());
        }
    }
}

/// Writes `text` to standard error, ignoring any failure to do so.
pub fn err(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// The failure to write standard output (other than a closed pipe), if there was one.
pub fn stdout_failure() -> Option<String> {
    STDOUT_FAILURE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// `println!` to standard output through [`out`].
#[macro_export]
macro_rules! outln {
    () => { $crate::cli::console::out("\n") };
    ($($t:tt)*) => { $crate::cli::console::out(&format!("{}\n", format_args!($($t)*))) };
}

/// `print!` to standard output through [`out`].
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::console::out(&format!($($t)*)) };
}

/// `eprintln!` to standard error through [`err`].
#[macro_export]
macro_rules! errln {
    () => { $crate::cli::console::err("\n") };
    ($($t:tt)*) => { $crate::cli::console::err(&format!("{}\n", format_args!($($t)*))) };
}
