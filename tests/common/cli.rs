//! Running the `scalesim` binary from a test: a scratch folder per test, the command run
//! from the project root, and its success checked with stderr in the message.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_scalesim");
/// The project root: bundled experiments are named relative to it.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A fresh, empty scratch folder for one test, named after the test file, the process and `name`.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "scalesim-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `scalesim args…` from the project root.
pub fn scalesim(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(ROOT)
        .output()
        .expect("the binary runs")
}

/// Runs `scalesim args…` and requires success.
pub fn ok(args: &[&str]) -> Output {
    let out = scalesim(args);
    assert!(
        out.status.success(),
        "scalesim {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A command's stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
