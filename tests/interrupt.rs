//! Nothing lost: a run stopped part-way leaves every finished file whole, and no partial
//! file where a real output would be.
//!
//! Ctrl-C (SIGINT) stops the runs at once, writes what they have with
//! `stopped_reason: "interrupted"` and exits 130; a hard kill (SIGKILL) keeps every variant
//! that had finished. A sweep interrupted by Ctrl-C keeps its finished runs and resumes
//! with the rest (killing a sweep with SIGKILL is tested in tests/sweep.rs).

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MODEL: &str = r#"System(
    nodes: Nodes(count: 2, workers: 4, service: Exp(mean: "10ms")),
)
"#;

/// "quick" ends in milliseconds; "slow" would take hours of wall time.
const EXPERIMENT: &str = r#"Experiment(
    model: "m.ron",
    duration: "10s",
    seed: 5,
    workload: Open(rate_per_s: 300.0),
    variants: {
        "quick": Variant(),
        "slow": Variant(set: {"duration": "100000h", "metrics_interval": "1h"}),
    },
)
"#;

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("scalesim-interrupt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("m.ron"), MODEL).unwrap();
    std::fs::write(dir.join("exp.ron"), EXPERIMENT).unwrap();
    dir
}

fn start(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(["run", "exp.ron", "--out", "out"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill {sig} failed");
}

/// Waits until `path` exists (the quick variant finished), at most a minute.
fn wait_for(child: &mut Child, path: &Path) {
    let t = Instant::now();
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("the run ended early ({status}): {err}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every file under `dir`: no visible name may be a temporary file, and every JSON parses.
fn check_whole(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            for n in check_whole(&path) {
                names.push(format!("{name}/{n}"));
            }
            continue;
        }
        if name.starts_with('.') {
            continue; // a hidden temporary file of a write that was cut off
        }
        assert!(
            !name.contains(".tmp"),
            "a temporary file is visible: {}",
            path.display()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        if name.ends_with(".json") {
            serde_json_check(&text, &path);
        }
        if name.ends_with(".csv") {
            assert!(text.ends_with('\n'), "{} is cut off", path.display());
        }
        names.push(name);
    }
    names.sort();
    names
}

fn serde_json_check(text: &str, path: &Path) {
    // No JSON dependency in the tests: a whole file from `write_atomic` ends with `}` and
    // a newline or `}`; a cut-off one does not.
    let t = text.trim_end();
    assert!(
        t.starts_with('{') && t.ends_with('}'),
        "{} is not whole: {t}",
        path.display()
    );
}

#[test]
fn ctrl_c_writes_what_the_runs_have_and_exits_130() {
    let dir = scratch("sigint");
    let mut child = start(&dir);
    wait_for(&mut child, &dir.join("out/quick/summary.json"));
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let files = check_whole(&dir.join("out"));
    assert_eq!(
        files,
        [
            "comparison.csv",
            "quick/config.json",
            "quick/summary.json",
            "quick/timeseries.csv",
            "slow/config.json",
            "slow/summary.json",
            "slow/timeseries.csv",
        ]
    );
    let slow = std::fs::read_to_string(dir.join("out/slow/summary.json")).unwrap();
    assert!(
        slow.contains("\"stopped_reason\": \"interrupted\""),
        "{slow}"
    );
    let quick = std::fs::read_to_string(dir.join("out/quick/summary.json")).unwrap();
    assert!(quick.contains("\"stopped_reason\": null"), "{quick}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_hard_kill_keeps_every_finished_variant_whole() {
    let dir = scratch("sigkill");
    let mut child = start(&dir);
    wait_for(&mut child, &dir.join("out/quick/summary.json"));
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    let _ = child.wait();
    let files = check_whole(&dir.join("out"));
    // The finished variant is complete; the unfinished one has no summary (its presence
    // is what says a variant's outputs are complete), and nothing is half-written.
    assert_eq!(
        files,
        [
            "quick/config.json",
            "quick/summary.json",
            "quick/timeseries.csv"
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sweep whose first runs end in milliseconds and whose last run would take hours.
const SWEEP: &str = r#"Sweep(
    experiment: "exp.ron",
    seed: 2,
    replications: 1,
    variants: ["quick"],
    axes: [Axis(path: "duration", values: List(["1s", "2s", "3s", "4s", "100000h"]))],
    set: {"metrics_interval": "1h"},
)
"#;

/// Ctrl-C during a sweep: exit 130, the finished runs are in the journal, the interrupted
/// one is not (it stays missing), and `--resume` runs only that one. (Killing a sweep with
/// SIGKILL and resuming it is tested in tests/sweep.rs.)
#[test]
fn ctrl_c_during_a_sweep_keeps_finished_runs_and_resume_redoes_only_the_interrupted_one() {
    let dir = scratch("sweep");
    std::fs::write(dir.join("sweep.ron"), SWEEP).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(["sweep", "sweep.ron", "--out", "out", "--threads", "1"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let journal = dir.join("out/journal.tsv");
    let lines = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let started = Instant::now();
    // The four short runs finish first (one thread, runs in order); then the long one runs.
    while lines(&journal) < 4 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    assert_eq!(lines(&journal), 4, "only the finished runs are recorded");
    assert!(
        !dir.join("out/runs.csv").exists(),
        "no results file for an unfinished sweep"
    );
    // Resume with the long run shortened would change the sweep: instead check that resume
    // sees exactly one run missing, then interrupt it again straight away.
    let child = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args([
            "sweep",
            "sweep.ron",
            "--out",
            "out",
            "--threads",
            "1",
            "--resume",
        ])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("4 of 5 run(s)"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
