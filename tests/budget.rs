//! Sizes that multiply memory or time are refused before anything runs: each case used to
//! run out of memory, abort (exit 134) or run for hours. Each spawns the real binary
//! under `ulimit -v` (2 GiB of address space, so a case that did allocate would fail
//! fast instead of swapping the machine), and checks: exit 2, the file and line (or the
//! flag) and field, the estimate or count, the limit and how to raise it, and that the
//! refusal takes well under a few seconds.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const EXPERIMENT: &str = r#"Experiment(
    model: "m.ron",
    duration: "10s",
    seed: 3,
    workload: Open(rate_per_s: 50.0),
)
"#;

const MODEL: &str = r#"System(
    balancer: Balancer(policy: RoundRobin),
    nodes: Nodes(count: 2, workers: 4, queue_limit: 16,
                 service: Exp(mean: "10ms")),
)
"#;

const AUTOSCALED: &str = r#"System(
    balancer: Balancer(policy: RoundRobin),
    nodes: Nodes(count: 2, workers: 4, service: Exp(mean: "10ms")),
    autoscaler: Autoscaler(metric: Cpu, scale_out_above: 0.5, scale_in_below: 0.2,
        every: "1ns", window: "20s", cooldown: "0s", min_nodes: 2, max_nodes: 10,
        step: 1, provisioning: "10s"),
)
"#;

const CACHED: &str = r#"System(
    balancer: Balancer(policy: RoundRobin),
    nodes: Nodes(count: 1000, workers: 4, service: Exp(mean: "10ms")),
    dependency: Dependency(workers: 4, service: Exp(mean: "10ms")),
    cache: Cache(placement: PerNode, capacity_keys: 1000, ttl: "30s",
        hit: Const(value: "1ms"), keys: Keys(count: 10000000, popularity: Uniform)),
)
"#;

fn sweep(body: &str) -> String {
    format!("Sweep(\n    experiment: \"exp.ron\",\n{body})\n")
}

/// Runs `scalesim args` in a fresh folder holding `files`, under a 2 GiB address-space
/// limit; returns (exit code, stderr, wall time).
fn refuse(name: &str, files: &[(&str, String)], args: &[&str]) -> (Option<i32>, String, Duration) {
    let dir = std::env::temp_dir().join(format!("scalesim-budget-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    let started = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2097152 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_scalesim"))
        .args(args)
        .current_dir(&dir)
        .output()
        .expect("sh runs");
    let took = started.elapsed();
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if dir.join("out").join("baseline").exists() {
        stderr.push_str("\n(results were written)");
    }
    let _ = std::fs::remove_dir_all(&dir);
    (out.status.code(), stderr, took)
}

/// Asserts a refusal: exit 2, quick, and every one of `says` in the message.
fn assert_refused(name: &str, files: &[(&str, String)], args: &[&str], says: &[&str]) {
    let (code, stderr, took) = refuse(name, files, args);
    assert_eq!(code, Some(2), "{name}: exit {code:?}, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    assert!(
        !stderr.contains("(results were written)"),
        "{name}: {stderr}"
    );
    for s in says {
        assert!(stderr.contains(s), "{name}: does not say `{s}`:\n{stderr}");
    }
    assert!(took < Duration::from_secs(5), "{name}: took {took:?}");
}

fn files(exp: &str, model: &str) -> Vec<(&'static str, String)> {
    vec![("exp.ron", exp.to_string()), ("m.ron", model.to_string())]
}

const RUN: &[&str] = &["run", "exp.ron", "--no-plots", "--out", "out"];

fn run_with(sets: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = RUN.iter().map(|s| s.to_string()).collect();
    for s in sets {
        args.push("--set".into());
        args.push(s.to_string());
    }
    args
}

fn refused_run(name: &str, exp: &str, model: &str, sets: &[&str], says: &[&str]) {
    let args = run_with(sets);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_refused(name, &files(exp, model), &args, says);
}

const RAISE_MEMORY: &[&str] = &[
    "the limit is 8.0 GiB",
    "limits.max_memory_mb",
    "raise the limit",
];

#[test]
fn a_metrics_interval_of_1ns_is_refused_with_the_limit() {
    refused_run(
        "interval_1ns",
        EXPERIMENT,
        MODEL,
        &["metrics_interval=1ns"],
        &[
            "the flag --set metrics_interval=1ns",
            "field `metrics_interval`",
            "10,000,000,000 periodic events",
            "the limit is 100,000,000 (limits.max_periodic_events)",
            "--set limits.max_periodic_events=",
        ],
    );
}

#[test]
fn ten_million_time_series_rows_are_refused_with_the_estimate() {
    // The old row guard let exactly 10 M rows through (about 8 GB with their CSV text).
    let exp = EXPERIMENT
        .replace("\"10s\"", "\"10000s\"")
        .replace("seed: 3,", "seed: 3,\n    metrics_interval: \"1ms\",");
    let mut says = vec![
        "exp.ron:5:",
        "field `metrics_interval`",
        "time series: 10,000,000 rows × 51 columns",
        "GiB",
    ];
    says.extend(RAISE_MEMORY);
    refused_run("rows", &exp, MODEL, &[], &says);
}

#[test]
fn an_autoscaler_every_1ns_is_refused() {
    // A period under 1 ms is refused by the autoscaler's own bound.
    refused_run(
        "autoscaler_every",
        EXPERIMENT,
        AUTOSCALED,
        &[],
        &[
            "m.ron:5:",
            "field `model.autoscaler.every`",
            "must be at least 1ms",
        ],
    );
    // At the smallest period allowed, a long run is refused by its number of evaluations.
    refused_run(
        "autoscaler_evaluations",
        EXPERIMENT,
        AUTOSCALED,
        &["model.autoscaler.every=1ms", "duration=200000s"],
        &[
            "field `model.autoscaler.every`",
            "autoscaler evaluations: 200,000,000",
            "limits.max_periodic_events",
        ],
    );
    // A window of 1000 h ÷ 1 ms snapshots is refused by its memory.
    let mut says = vec![
        "field `model.autoscaler.every`",
        "autoscaler window: 3,600,000,001 evaluations",
        "GiB",
    ];
    says.extend(RAISE_MEMORY);
    refused_run(
        "autoscaler_window",
        EXPERIMENT,
        AUTOSCALED,
        &[
            "model.autoscaler.every=1ms",
            "model.autoscaler.window=1000h",
        ],
        &says,
    );
}

#[test]
fn four_billion_users_are_refused() {
    let mut says = vec![
        "field `workload.count`",
        "users' wake-ups: 4,000,000,000 events × 48 B",
    ];
    says.extend(RAISE_MEMORY);
    refused_run(
        "users_4e9",
        &EXPERIMENT.replace(
            "Open(rate_per_s: 50.0)",
            "Users(count: 4000000000, think: Exp(mean: \"1s\"))",
        ),
        MODEL,
        &[],
        &says,
    );
}

#[test]
fn a_hundred_million_in_memory_sessions_are_refused() {
    let mut says = vec![
        "m.ron:3:",
        "field `model.sessions`",
        "sessions: 100,000,000 users × 96 B per service with sessions, and 4 B per user per instance",
    ];
    says.extend(RAISE_MEMORY);
    refused_run(
        "sessions_1e8",
        &EXPERIMENT.replace(
            "Open(rate_per_s: 50.0)",
            "Users(count: 100000000, think: Exp(mean: \"1s\"))",
        ),
        &MODEL.replace(
            "    nodes:",
            "    sessions: Sessions(design: InMemory),\n    nodes:",
        ),
        &[],
        &says,
    );
}

#[test]
fn a_per_node_cache_of_10m_keys_on_1000_nodes_is_refused() {
    let mut says = vec![
        "m.ron:6:",
        "field `model.cache.keys.count`",
        "caches: 10,000,000 keys in 1 cache(s), the largest in 1,000 instance(s) × 25 B",
    ];
    says.extend(RAISE_MEMORY);
    refused_run("cache_per_node", EXPERIMENT, CACHED, &[], &says);
}

#[test]
fn huge_counts_given_as_overrides_are_refused() {
    let mut says = vec![
        "the flag --set limits.max_in_flight=1000000000000",
        "requests in flight: up to 1,000,000,000,000",
    ];
    says.extend(RAISE_MEMORY);
    refused_run(
        "in_flight",
        EXPERIMENT,
        MODEL,
        &["limits.max_in_flight=1000000000000"],
        &says,
    );
    let mut says = vec!["the flag --set workload=", "users' wake-ups: 3,000,000,000"];
    says.extend(RAISE_MEMORY);
    refused_run(
        "users_flag",
        EXPERIMENT,
        MODEL,
        &["workload=Users(count: 3000000000, think: Exp(mean: \"1s\"))"],
        &says,
    );
}

#[test]
fn variants_that_fit_alone_but_not_together_are_refused() {
    // Each 40 M-user variant needs about 2 GiB; five side by side do not fit in 8 GiB.
    let exp = EXPERIMENT
        .replace(
            "Open(rate_per_s: 50.0)",
            "Users(count: 40000000, think: Exp(mean: \"1h\"))",
        )
        .replace(
            "seed: 3,",
            "seed: 3,\n    variants: {\"a\": Variant(), \"b\": Variant(), \"c\": Variant(), \"d\": Variant(), \"e\": Variant()},",
        );
    let mut says = vec!["field `variants`", "the 5 variants run side by side"];
    says.extend(RAISE_MEMORY);
    refused_run("together", &exp, MODEL, &[], &says);
}

#[test]
fn sweep_axes_with_1e8_or_1e9_steps_are_refused_before_they_are_made() {
    for steps in ["100000000", "1000000000"] {
        let s = sweep(&format!(
            "    replications: 2,\n    axes: [Axis(path: \"workload.rate_per_s\", values: Linear(from: 10.0, to: 100.0, steps: {steps}))],\n"
        ));
        let mut f = files(EXPERIMENT, MODEL);
        f.push(("s.ron", s));
        let count = if steps.len() == 9 {
            "100,000,000"
        } else {
            "1,000,000,000"
        };
        assert_refused(
            &format!("steps_{steps}"),
            &f,
            &["check", "s.ron"],
            &[
                "s.ron:4:",
                "field `axes.0.values`",
                &format!("the axis has {count} values"),
                "more than the 50,000",
                "raise `max_runs` in the sweep file",
            ],
        );
    }
}

#[test]
fn a_sweep_with_1e9_replications_is_refused() {
    let mut f = files(EXPERIMENT, MODEL);
    f.push(("s.ron", sweep("    replications: 1000000000,\n")));
    assert_refused(
        "replications",
        &f,
        &["sweep", "s.ron", "--out", "out"],
        &[
            "s.ron:3:",
            "field `replications`",
            "1,000,000,000 replications alone exceed the sweep's limit of 100,000 runs",
            "max_runs: 1000000000",
        ],
    );
    // A grid of 400 × 400 points at 1 replication: over the limit as a grid, before any
    // point is loaded.
    f.pop();
    f.push((
        "s.ron",
        sweep(
            "    axes: [Axis(path: \"workload.rate_per_s\", values: Linear(from: 10.0, to: 100.0, steps: 400)),\n           Axis(path: \"seed\", values: Linear(from: 1.0, to: 400.0, steps: 400))],\n",
        ),
    ));
    assert_refused(
        "grid",
        &f,
        &["check", "s.ron"],
        &["field `axes`", "the grid has 160,000 points", "max_runs"],
    );
}

#[test]
fn raised_limits_are_honoured() {
    // A shared cache of 10 M keys (about 1.1 GiB with the overload ceilings): refused under
    // a 512 MiB limit, and run once the limit is raised as the message says.
    let cached = CACHED
        .replace("count: 1000,", "count: 2,")
        .replace("PerNode", "Shared");
    let exp = EXPERIMENT.replace("\"10s\"", "\"1s\"").replace(
        "seed: 3,",
        "seed: 3,\n    limits: Limits(max_memory_mb: 512),",
    );
    let (code, stderr, _) = refuse("raised_refused", &files(&exp, &cached), RUN);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("the limit is 512.0 MiB"), "{stderr}");
    let flag = stderr
        .split('`')
        .find(|s| s.starts_with("--set limits.max_memory_mb="))
        .unwrap_or_else(|| panic!("no flag to raise the limit in: {stderr}"))
        .to_string();
    let mb: u64 = flag.rsplit('=').next().unwrap().parse().unwrap();
    assert!((900..=1300).contains(&mb), "{flag}");
    let args = run_with(&[flag.trim_start_matches("--set ")]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stderr, _) = refuse("raised_ok", &files(&exp, &cached), &args);
    // Under the 2 GiB address-space limit: it fits as estimated.
    assert_eq!(code, Some(0), "{stderr}");

    // A sweep's run limit, raised in the file.
    let mut f = files(EXPERIMENT, MODEL);
    f.push(("s.ron", sweep("    replications: 200000,\n")));
    let (code, stderr, _) = refuse("sweep_refused", &f, &["check", "s.ron"]);
    assert_eq!(code, Some(2), "{stderr}");
    f.pop();
    f.push((
        "s.ron",
        sweep("    replications: 200000,\n    max_runs: 200000,\n"),
    ));
    let (code, stderr, _) = refuse("sweep_raised", &f, &["check", "s.ron"]);
    assert_eq!(code, Some(0), "{stderr}");
}

fn bundled(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    out.sort();
    out
}

#[test]
fn every_bundled_experiment_and_sweep_is_within_the_limits() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = bundled(&root.join("experiments"));
    all.extend(bundled(&root.join("experiments/sweeps")));
    assert!(all.len() > 10);
    let out = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .arg("check")
        .args(&all)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_plan_with_1e9_replications_is_refused() {
    assert_refused(
        "plan",
        &files(EXPERIMENT, MODEL),
        &[
            "plan",
            "exp.ron",
            "--slo",
            "p99<200ms",
            "--peak-rps",
            "100",
            "--replications",
            "1000000000",
        ],
        &["--replications 1000000000", "between 1 and 1000"],
    );
}

#[test]
fn validate_at_its_largest_default_customer_count_is_not_refused() {
    // At ρ ≥ 0.98 `validate` simulates 100 M customers: a stable queue that never has many
    // in flight, so its in-flight ceiling must not count 100 M requests (13.9 GiB) against
    // the memory limit. It runs (for minutes): still running after 2 s means not refused.
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args([
            "validate",
            "mm1",
            "--rate",
            "900",
            "--service-mean-ms",
            "1",
            "--customers",
            "100000000",
        ])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("validate ended at once with {status}: {err}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
