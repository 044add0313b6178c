//! The `scalesim` command end to end: outputs, determinism, JSON, and bad configuration.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scalesim"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scalesim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn summary_without_wall(path: &Path) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["wall_seconds"] = serde_json::Value::from(0.0);
    v.to_string()
}

const SHORT: [&str; 6] = [
    "--set",
    "duration=40s",
    "--set",
    "warmup=5s",
    "--set",
    "faults.0.at=20s",
];

#[test]
fn run_writes_every_output_and_the_table() {
    let out = tmp("outputs");
    let o = run(&[
        &[
            "run",
            "experiments/balancer_policies.ron",
            "--out",
            out.to_str().unwrap(),
        ][..],
        &SHORT[..],
    ]
    .concat());
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    for v in ["round-robin", "least-conn", "two-choices"] {
        assert!(t.contains(v), "table lacks {v}: {t}");
        for f in ["summary.json", "timeseries.csv", "config.json"] {
            assert!(out.join(v).join(f).is_file(), "missing {v}/{f}");
        }
    }
    let csv = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("experiment,variant,seed,config_hash,"));
    // One time-series row per simulated second.
    let ts = std::fs::read_to_string(out.join("round-robin/timeseries.csv")).unwrap();
    assert_eq!(ts.lines().count(), 41, "header + 40 one-second rows");
}

#[test]
fn same_seed_gives_byte_identical_outputs_and_other_seeds_differ() {
    let (a, b, c) = (tmp("det-a"), tmp("det-b"), tmp("det-c"));
    for (dir, seed) in [(&a, "3"), (&b, "3"), (&c, "4")] {
        let o = run(&[
            &[
                "run",
                "experiments/balancer_policies.ron",
                "--seed",
                seed,
                "--out",
                dir.to_str().unwrap(),
            ][..],
            &SHORT[..],
        ]
        .concat());
        assert!(o.status.success(), "{}", text(&o));
    }
    for v in ["round-robin", "least-conn", "two-choices"] {
        let sa = summary_without_wall(&a.join(v).join("summary.json"));
        assert_eq!(
            sa,
            summary_without_wall(&b.join(v).join("summary.json")),
            "{v}: same seed differs"
        );
        assert_ne!(
            sa,
            summary_without_wall(&c.join(v).join("summary.json")),
            "{v}: other seed identical"
        );
        for f in ["timeseries.csv", "config.json"] {
            assert_eq!(
                std::fs::read(a.join(v).join(f)).unwrap(),
                std::fs::read(b.join(v).join(f)).unwrap(),
                "{v}/{f}"
            );
        }
    }
    assert_eq!(
        std::fs::read(a.join("comparison.csv")).unwrap(),
        std::fs::read(b.join("comparison.csv")).unwrap()
    );
}

#[test]
fn json_prints_one_object_and_nothing_else() {
    let out = tmp("json");
    let o = run(&[&[
        "run",
        "experiments/mm10.ron",
        "--json",
        "--set",
        "duration=1h",
        "--out",
        out.to_str().unwrap(),
    ][..]]
    .concat());
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8(o.stdout).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(stdout.trim()).expect("stdout is one JSON object");
    assert_eq!(v["experiment"], "mm10");
    assert_eq!(v["seed"], 1);
    let s = &v["variants"]["baseline"];
    let r = &s["requests"];
    let issued = r["issued"].as_u64().unwrap();
    assert_eq!(
        issued,
        r["succeeded"].as_u64().unwrap()
            + r["failed"].as_u64().unwrap()
            + r["in_flight"].as_u64().unwrap()
    );
    for k in ["mean", "p50", "p95", "p99", "p999", "max"] {
        assert!(s["latency_ms"][k].as_f64().unwrap() > 0.0, "latency_ms.{k}");
    }
    for k in [
        "seed",
        "config_hash",
        "sim_seconds",
        "events",
        "wall_seconds",
        "throughput_rps",
    ] {
        assert!(!s[k].is_null(), "summary lacks {k}");
    }
    // 8.5 arrivals per second for an hour, give or take Poisson noise.
    assert!((issued as f64 - 30_600.0).abs() < 600.0, "issued {issued}");
}

#[test]
fn set_overrides_change_the_run_and_the_hash() {
    let out = tmp("set");
    let o = run(&[
        "run",
        "experiments/mm10.ron",
        "--json",
        "--set",
        "duration=30m",
        "--out",
        out.to_str().unwrap(),
    ]);
    let base: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let o = run(&[
        "run",
        "experiments/mm10.ron",
        "--json",
        "--set",
        "duration=30m",
        "--set",
        "model.nodes.workers=20",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let more: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (b, m) = (&base["variants"]["baseline"], &more["variants"]["baseline"]);
    assert_ne!(b["config_hash"], m["config_hash"]);
    // Twice the workers: almost nobody waits any more.
    assert!(m["wait_ms"]["mean"].as_f64().unwrap() < 0.05 * b["wait_ms"]["mean"].as_f64().unwrap());
    // Same seed, same arrivals: the source's stream does not depend on the node count.
    assert_eq!(b["requests"]["issued"], m["requests"]["issued"]);
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn expect_bad(args: &[&str], wanted: &[&str]) {
    let o = run(args);
    let code = o.status.code();
    assert_eq!(code, Some(2), "exit code for {args:?}: {}", text(&o));
    let t = text(&o);
    for w in wanted {
        assert!(t.contains(w), "message for {args:?} lacks {w:?}: {t}");
    }
}

#[test]
fn bad_configuration_is_a_clear_error_never_a_panic() {
    let d = tmp("bad");
    let model = write(
        &d,
        "m.ron",
        "System(nodes: Nodes(count: 2, workers: 4, service: Exp(mean: \"10ms\")))\n",
    );
    let m = model.to_str().unwrap();
    let exp =
        |body: &str| format!("Experiment(\n  model: {m:?},\n  duration: \"10s\",\n{body}\n)\n");

    let f = write(
        &d,
        "malformed.ron",
        &exp("  workload: Open(rate_per_s: 10.0,,"),
    );
    expect_bad(&["check", f.to_str().unwrap()], &["malformed.ron:4:"]);

    let f = write(
        &d,
        "unknown.ron",
        &exp("  workload: Open(rate_per_s: 10.0),\n  warmpu: \"1s\","),
    );
    expect_bad(
        &["run", f.to_str().unwrap()],
        &[
            "unknown.ron:5:",
            "unknown field `warmpu`",
            "Did you mean `warmup`?",
        ],
    );

    let f = write(
        &d,
        "negative.ron",
        &exp("  workload: Open(rate_per_s: -5.0),"),
    );
    expect_bad(
        &["run", f.to_str().unwrap()],
        &[
            "negative.ron:4:",
            "workload.rate_per_s",
            "greater than zero",
        ],
    );

    let f = write(&d, "nomodel.ron", "Experiment(\n  model: \"models/nope.ron\",\n  duration: \"10s\",\n  workload: Open(rate_per_s: 1.0),\n)\n");
    expect_bad(
        &["run", f.to_str().unwrap()],
        &["nomodel.ron:2:", "models/nope.ron", "no such file"],
    );

    let f = write(
        &d,
        "fault.ron",
        &exp("  workload: Open(rate_per_s: 1.0),\n  faults: [Crash(node: 5, at: \"1s\")],"),
    );
    expect_bad(
        &["run", f.to_str().unwrap()],
        &["fault.ron:5:", "faults.0.node", "node 5 does not exist"],
    );

    let good = write(&d, "good.ron", &exp("  workload: Open(rate_per_s: 1.0),"));
    expect_bad(
        &[
            "run",
            good.to_str().unwrap(),
            "--set",
            "model.nodes.count=0",
        ],
        &["--set model.nodes.count=0", "at least 1"],
    );
    expect_bad(
        &[
            "run",
            good.to_str().unwrap(),
            "--set",
            "model.nodes.wrokers=3",
        ],
        &["Did you mean `workers`?"],
    );
    expect_bad(
        &["run", good.to_str().unwrap(), "--set", "duration=10"],
        &["--set duration=10", "no unit"],
    );

    let bad_model = write(&d, "badmodel.ron", "System(\n  nodes: Nodes(count: 2, workers: 4,\n    service: Uniform(min: \"5ms\", max: \"1ms\")),\n)\n");
    expect_bad(
        &["check", bad_model.to_str().unwrap()],
        &["badmodel.ron:3:", "must not be greater than max"],
    );
    expect_bad(&["check", "/definitely/not/here.ron"], &["no such file"]);
    expect_bad(&["check", d.to_str().unwrap()], &["is a directory"]);
}

#[test]
fn check_and_list_accept_the_bundled_files() {
    let mut files: Vec<String> = Vec::new();
    for dir in ["models", "experiments"] {
        for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "ron") {
                files.push(p.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    let mut args = vec!["check"];
    args.extend(files.iter().map(String::as_str));
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["list"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("mm10.ron") && t.contains("M/M/10"), "{t}");
}

/// Runs `args` with stdout and stderr on a pipe whose reader is already closed (as
/// `scalesim … 2>&1 | head` after `head` has its lines), or on the given streams.
fn run_with(args: &[&str], stdout: std::process::Stdio, stderr: std::process::Stdio) -> Output {
    bin()
        .args(args)
        .stdout(stdout)
        .stderr(stderr)
        .output()
        .expect("binary runs")
}

fn closed_pipe() -> (std::process::Stdio, std::process::Stdio) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let other = writer.try_clone().unwrap();
    (writer.into(), other.into())
}

fn dev_full() -> std::process::Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
        .into()
}

fn short_run(out: &Path) -> Vec<String> {
    let mut a: Vec<String> = [
        "run",
        "experiments/balancer_policies.ron",
        "--no-plots",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.push(out.to_str().unwrap().to_string());
    a.extend(SHORT.iter().map(|s| s.to_string()));
    a
}

fn assert_results_written(out: &Path) {
    assert!(out.join("comparison.csv").is_file(), "no comparison.csv");
    for v in ["round-robin", "least-conn", "two-choices"] {
        assert!(
            out.join(v).join("summary.json").is_file(),
            "no {v}/summary.json"
        );
    }
}

#[test]
fn a_closed_output_pipe_ends_quietly_and_keeps_every_result() {
    for args in [
        vec!["list"],
        vec![
            "check",
            "experiments/retry_storm.ron",
            "models/three_nodes.ron",
        ],
        vec![
            "validate",
            "mm1",
            "--rate",
            "50",
            "--service-mean-ms",
            "10",
            "--customers",
            "2000",
        ],
    ] {
        let (o, e) = closed_pipe();
        let r = run_with(&args, o, e);
        assert_eq!(r.status.code(), Some(0), "{args:?}");
    }
    let out = tmp("closed-pipe");
    let args = short_run(&out);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (o, e) = closed_pipe();
    let r = run_with(&args, o, e);
    assert_eq!(r.status.code(), Some(0));
    assert_results_written(&out);
}

#[test]
fn a_full_stderr_never_costs_a_result_and_a_full_stdout_is_an_output_error() {
    let out = tmp("full-stderr");
    let args = short_run(&out);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_with(&args, std::process::Stdio::null(), dev_full());
    assert_eq!(r.status.code(), Some(0));
    assert_results_written(&out);

    let out = tmp("full-stdout");
    let args = short_run(&out);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.push("--json");
    let r = run_with(&args, dev_full(), std::process::Stdio::piped());
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("cannot write to standard output"),
        "{}",
        text(&r)
    );
    assert_results_written(&out);
}

/// 100 million customers at 0.95 utilisation (the default there) arrive over about 10^8
/// simulated seconds; the run's horizon, ten times that, overflowed the clock and the
/// command failed on a duration the user never wrote. Here: the same span, fewer customers.
#[test]
fn validate_runs_when_the_customers_span_a_long_simulated_time() {
    let o = run(&[
        "validate",
        "mm1",
        "--rate",
        "0.00001",
        "--service-mean-ms",
        "1000",
        "--customers",
        "2000",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["customers"], 2000);
    // At ρ = 10⁻⁵ nobody waits: the mean response is the mean service time.
    let r = v["sim"]["mean_response_ms"].as_f64().unwrap();
    assert!((r - 1000.0).abs() < 100.0, "mean response {r} ms");
}

/// Ctrl-C is honoured with stdout and stderr on a closed pipe (`scalesim run … 2>&1 | head`
/// after `head` has gone): the handler's message cannot be written, the interruption still
/// stops the runs, writes what they have and exits 130.
#[cfg(unix)]
#[test]
fn an_interrupt_is_honoured_with_a_closed_stderr() {
    let dir = tmp("interrupt-closed");
    std::fs::write(
        dir.join("m.ron"),
        "System(nodes: Nodes(count: 2, workers: 4, service: Exp(mean: \"10ms\")))",
    )
    .unwrap();
    std::fs::write(
        dir.join("exp.ron"),
        r#"Experiment(model: "m.ron", duration: "10s", seed: 5, workload: Open(rate_per_s: 300.0),
           variants: {"quick": Variant(), "slow": Variant(set: {"duration": "100000h", "metrics_interval": "1h"})})"#,
    )
    .unwrap();
    let (o, e) = closed_pipe();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(["run", "exp.ron", "--out", "out", "--no-plots"])
        .current_dir(&dir)
        .stdout(o)
        .stderr(e)
        .spawn()
        .unwrap();
    let quick = dir.join("out/quick/summary.json");
    let started = std::time::Instant::now();
    while !quick.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(started.elapsed().as_secs() < 60, "quick never finished");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed().as_secs() > 120 {
            let _ = child.kill();
            panic!("the interrupt was not honoured");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    let slow = std::fs::read_to_string(dir.join("out/slow/summary.json")).unwrap();
    assert!(
        slow.contains("\"stopped_reason\":\"interrupted\"")
            || slow.contains("\"stopped_reason\": \"interrupted\""),
        "{slow}"
    );
}
