//! Overload is a result, not a crash: an offered load far above capacity ends the run early
//! with a `stopped_reason` in the summary, quickly and in bounded memory, and the figures up
//! to that point are written.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scalesim-overload-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs the bundled M/M/10 experiment with `sets`; returns its summary text.
fn run_mm10(name: &str, sets: &[&str]) -> String {
    let dir = out_dir(name);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scalesim"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "experiments/mm10.ron", "--out"])
        .arg(&dir);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let command = format!(
        "scalesim run experiments/mm10.ron --set {}",
        sets.join(" --set ")
    );
    let t = Instant::now();
    let out = cmd.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "`{command}` failed ({:?}): {stderr}",
        out.status.code()
    );
    assert!(
        t.elapsed() < Duration::from_secs(60),
        "`{command}` took {:?}",
        t.elapsed()
    );
    for f in ["summary.json", "timeseries.csv", "config.json"] {
        assert!(
            dir.join("baseline").join(f).is_file(),
            "`{command}`: no {f}"
        );
    }
    assert!(dir.join("comparison.csv").is_file());
    let summary = std::fs::read_to_string(dir.join("baseline/summary.json")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    summary
}

#[test]
fn unbounded_queues_far_over_capacity_stop_at_the_in_flight_limit() {
    // 10 million requests per second into ten 1-second workers with unbounded queues.
    let s = run_mm10("in-flight", &["workload.rate_per_s=1e7"]);
    assert!(s.contains("(limits.max_in_flight)"), "{s}");
    assert!(s.contains("\"in_flight\": 2000001"), "{s}");
}

#[test]
fn pending_timeouts_of_rejected_requests_stop_at_the_pending_event_limit() {
    // Every request is rejected at once by a small queue, but its client's (very long)
    // timeout stays scheduled: the pending events, not the requests, would fill memory.
    let s = run_mm10(
        "pending",
        &[
            "workload.rate_per_s=1e6",
            "model.nodes.queue_limit=10",
            "clients.timeout=1000h",
            "limits.max_pending_events=300000",
        ],
    );
    assert!(s.contains("(limits.max_pending_events)"), "{s}");
}

#[test]
fn the_event_limit_stops_a_run_at_exactly_that_many_events() {
    let s = run_mm10("events", &["limits.max_events=12345"]);
    assert!(s.contains("\"events\": 12345,"), "{s}");
    assert!(s.contains("limits.max_events"), "{s}");
    // Deterministic: the same limit stops at the same state.
    let again = run_mm10("events-again", &["limits.max_events=12345"]);
    let strip = |t: &str| {
        t.lines()
            .filter(|l| !l.contains("wall_seconds"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&s), strip(&again));
}
