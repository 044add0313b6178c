//! Configurations that used to spin for ever (ignoring Ctrl-C and SIGTERM, because the spin
//! was inside one event) now end: they advance simulated time, stop with a
//! `stopped_reason`, or are refused at validation with the limit and why. Each runs the
//! binary under a wall-clock guard: still running after [`GUARD`] is a failure.

#![cfg(unix)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Far more than any of these needs now (milliseconds), far less than they took before (hours).
const GUARD: Duration = Duration::from_secs(60);

const MODEL: &str = r#"System(nodes: Nodes(count: 2, workers: 4, service: Exp(mean: "10ms")))"#;

/// Writes `m.ron` and `e.ron` in a fresh directory and runs `scalesim run e.ron` there,
/// killing it after [`GUARD`].
fn run(name: &str, model: &str, experiment: &str) -> (Output, PathBuf) {
    let dir = std::env::temp_dir().join(format!("scalesim-hangs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("m.ron"), model).unwrap();
    std::fs::write(dir.join("e.ron"), experiment).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(["run", "e.ron", "--no-plots", "--out", "out"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name}: still running after {GUARD:?} (a hang); files in {dir:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().unwrap(), dir)
}

/// The summary of the single variant.
fn summary(dir: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("out/baseline/summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn open(shape: &str, rate: f64) -> String {
    format!(
        r#"Experiment(model: "m.ron", duration: "1h", metrics_interval: "10s", seed: 1,
             workload: Open(rate_per_s: {rate}, shape: {shape}))"#
    )
}

fn ended_ok(name: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{name}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn traffic_that_stops_ends_the_arrivals_instead_of_spinning() {
    // 100/s for 5 s, then nothing for the rest of the hour.
    let (out, dir) = run(
        "step0",
        MODEL,
        &open(r#"Step(at: "5s", factor: 0.0)"#, 100.0),
    );
    ended_ok("step0", &out);
    let s = summary(&dir);
    assert_eq!(s["sim_seconds"], 3600.0);
    assert!(s["stopped_reason"].is_null());
    let issued = s["requests"]["issued"].as_u64().unwrap();
    assert!((400..=600).contains(&issued), "issued {issued}, about 500");
    // A ramp down to 0 at 10 s: on average 100/s × 10 s / 2 = 500 requests.
    let shape = r#"Piecewise(points: [("0s", 1.0), ("10s", 0.0)])"#;
    let (out, dir) = run("piecewise0", MODEL, &open(shape, 100.0));
    ended_ok("piecewise0", &out);
    let s = summary(&dir);
    assert_eq!(s["sim_seconds"], 3600.0);
    let issued = s["requests"]["issued"].as_u64().unwrap();
    assert!((400..=600).contains(&issued), "issued {issued}, about 500");
}

#[test]
fn a_tall_spike_costs_nothing_before_it_and_overload_stops_the_run() {
    // 10/s, then × 1e7 from 60 s: thinning against the spike's rate everywhere took 1e7
    // draws per arrival before it. Now the 60 s before cost 600 arrivals, and the spike
    // (1e8/s on 8 workers) stops the run as overloaded.
    let shape = r#"Spike(at: "60s", lasting: "10s", factor: 1e7)"#;
    let (out, dir) = run("spike", MODEL, &open(shape, 10.0));
    ended_ok("spike", &out);
    let s = summary(&dir);
    let reason = s["stopped_reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("overload"), "{reason}");
    let t = s["sim_seconds"].as_f64().unwrap();
    assert!(
        (60.0..61.0).contains(&t),
        "stopped at {t} s, just after the spike began"
    );
}

#[test]
fn a_rate_faster_than_the_clock_is_refused() {
    let shape = r#"Spike(at: "60s", lasting: "10s", factor: 1e8)"#;
    let (out, _) = run("too-fast", MODEL, &open(shape, 100.0));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("e.ron:") && err.contains("rate_per_s"),
        "{err}"
    );
    assert!(err.contains("1e9"), "the message says the limit: {err}");
}

#[test]
fn zero_think_users_against_a_crashed_node_stop_with_a_reason() {
    // Least connections sends everyone to the crashed node (it holds no connections): each
    // request is refused at once and its user, thinking 0 s, asks again at the same instant.
    let model = r#"System(balancer: Balancer(policy: LeastConnections),
        nodes: Nodes(count: 2, workers: 4, service: Exp(mean: "10ms")))"#;
    let exp = r#"Experiment(model: "m.ron", duration: "1m", seed: 1,
        workload: Users(count: 20, think: Const(value: "0ms")),
        faults: [Crash(node: 0, at: "5s")])"#;
    let (out, dir) = run("zero-think-crash", model, exp);
    ended_ok("zero-think-crash", &out);
    let s = summary(&dir);
    let reason = s["stopped_reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("no progress"), "{reason}");
    let t = s["sim_seconds"].as_f64().unwrap();
    assert!((5.0..5.001).contains(&t), "stopped at the crash, {t} s");
    assert!(s["failed_by_reason"]["refused"].as_u64().unwrap() > 1_000_000);
}

#[test]
fn inactive_zero_think_users_sleep_until_the_shape_wakes_them() {
    // Half the population is active for the first 30 s, all of it after.
    let exp = r#"Experiment(model: "m.ron", duration: "1m", seed: 1,
        workload: Users(count: 4, think: Const(value: "0ms"),
                        shape: Piecewise(points: [("0s", 0.5), ("30s", 0.5), ("30s", 1.0)])))"#;
    let (out, dir) = run("inactive", MODEL, exp);
    ended_ok("inactive", &out);
    let s = summary(&dir);
    assert!(s["stopped_reason"].is_null(), "{}", s["stopped_reason"]);
    assert_eq!(s["sim_seconds"], 60.0);
    // 2 users for 30 s, then 4, on 8 workers (no queueing): 100/s per user (10 ms each).
    let issued = s["requests"]["issued"].as_u64().unwrap() as f64;
    let expected = 2.0 * 100.0 * 30.0 + 4.0 * 100.0 * 30.0;
    assert!(
        (issued / expected - 1.0).abs() < 0.05,
        "issued {issued}, about {expected}"
    );
}

#[test]
fn sizes_that_multiply_time_are_refused_with_their_limit() {
    let erlang = r#"System(nodes: Nodes(count: 2, workers: 4,
        service: Erlang(k: 4000000000, mean: "10ms")))"#;
    let exp = open("Constant", 10.0);
    let (out, _) = run("erlang", erlang, &exp);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("m.ron:") && err.contains("service.k"), "{err}");
    assert!(err.contains("at most 1000"), "{err}");

    let probes = r#"System(balancer: Balancer(health_check: HealthCheck(every: "1ns")),
        nodes: Nodes(count: 2, workers: 4, service: Exp(mean: "10ms")))"#;
    let (out, _) = run("probes", probes, &exp);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("health_check.every"), "{err}");
    assert!(err.contains("at least 1ms"), "{err}");
}
