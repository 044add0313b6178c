//! Sweeps: identical files for any thread count and any sharding, resume after a kill,
//! and confidence intervals checked against known answers.

use std::path::Path;
use std::process::Command;

mod common;
use common::cli::{ok, scalesim, scratch, BIN, ROOT};

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.display().to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A small sweep of the balancer experiment: 2 rates × 3 variants × `reps` seeds.
fn balancer_sweep(dir: &Path, duration: &str, reps: u32, rates: &str) -> String {
    write(
        &dir.join("sweep.ron"),
        &format!(
            r#"Sweep(
    experiment: "experiments/balancer_policies.ron",
    seed: 11,
    replications: {reps},
    axes: [Axis(path: "workload.rate_per_s", values: List([{rates}]))],
    set: {{"duration": "{duration}", "warmup": "500ms", "faults": "[]"}},
)"#
        ),
    )
}

fn lines(text: &str) -> usize {
    text.lines().count()
}

#[test]
fn thread_counts_and_shards_give_byte_identical_files() {
    let d = scratch("identical");
    let sweep = balancer_sweep(&d, "2s", 3, "900, 1800");
    let dir = |n: &str| d.join(n).display().to_string();
    ok(&["sweep", &sweep, "--threads", "1", "--out", &dir("t1")]);
    ok(&["sweep", &sweep, "--threads", "2", "--out", &dir("t2")]);
    for i in 1..=3 {
        let out = ok(&[
            "sweep",
            &sweep,
            "--threads",
            "2",
            "--shard",
            &format!("{i}/3"),
            "--out",
            &dir(&format!("s{i}")),
        ]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("scalesim merge"));
        assert!(
            !d.join(format!("s{i}/runs.csv")).exists(),
            "a shard alone is not the sweep"
        );
    }
    ok(&[
        "merge",
        &dir("s1"),
        &dir("s2"),
        &dir("s3"),
        "--out",
        &dir("merged"),
    ]);

    let runs = read(&d.join("t1/runs.csv"));
    let points = read(&d.join("t1/points.csv"));
    assert_eq!(lines(&runs), 1 + 2 * 3 * 3, "{runs}");
    assert_eq!(lines(&points), 1 + 2 * 3, "{points}");
    for other in ["t2", "merged"] {
        assert_eq!(
            read(&d.join(other).join("runs.csv")),
            runs,
            "{other}/runs.csv"
        );
        assert_eq!(
            read(&d.join(other).join("points.csv")),
            points,
            "{other}/points.csv"
        );
    }
    // Common random numbers: the three variants of a point and replication share a seed.
    let seeds: Vec<Vec<String>> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(
        seeds[0][4], seeds[3][4],
        "variant 2 replication 0 shares variant 1's seed"
    );
    assert_ne!(seeds[0][4], seeds[1][4], "replications differ");

    // Merging an incomplete set of shards is refused and names what is missing.
    let out = scalesim(&["merge", &dir("s1"), &dir("s2"), "--out", &dir("partial")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("are in none of the folders"));
    let _ = std::fs::remove_dir_all(&d);
}

fn field(text: &str, after: &str) -> usize {
    let i = text
        .find(after)
        .unwrap_or_else(|| panic!("no `{after}` in {text}"));
    let digits: String = text[..i]
        .chars()
        .rev()
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}

#[test]
fn resume_after_a_kill_runs_only_the_missing_runs() {
    let d = scratch("resume");
    // 4 rates × 3 variants × 10 seeds = 120 runs of about 20 ms each on one thread.
    let sweep = balancer_sweep(&d, "15s", 10, "900, 1200, 1500, 1800");
    let out = d.join("killed");
    let out_s = out.display().to_string();
    let mut child = Command::new(BIN)
        .args(["sweep", &sweep, "--threads", "1", "--out", &out_s])
        .current_dir(ROOT)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let journal = out.join("journal.tsv");
    let started = std::time::Instant::now();
    loop {
        let n = std::fs::read_to_string(&journal)
            .map(|t| lines(&t))
            .unwrap_or(0);
        if n >= 5 {
            break;
        }
        assert!(started.elapsed().as_secs() < 60, "the sweep never started");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.join("runs.csv").exists(), "killed before it finished");
    // A write torn by the kill: the start of a line without its end.
    let mut text = read(&journal);
    let done = text.matches('\n').count();
    assert!(done < 120, "the sweep finished before it was killed");
    text.push_str("v1\t119\t3\ttwo-choices\t9\t123\tsim_seconds=1");
    std::fs::write(&journal, text).unwrap();

    // Without --resume the folder is refused rather than overwritten.
    let refused = scalesim(&["sweep", &sweep, "--out", &out_s]);
    assert_eq!(refused.status.code(), Some(2));

    let resumed = ok(&[
        "sweep",
        &sweep,
        "--threads",
        "2",
        "--resume",
        "--out",
        &out_s,
    ]);
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert_eq!(field(&err, "run(s) in"), 120 - done, "{err}");
    assert_eq!(field(&err, "already done"), done, "{err}");
    assert!(err.contains("1 torn journal line(s) dropped"), "{err}");
    assert_eq!(lines(&read(&journal)), 120);

    // The result is the uninterrupted sweep's, byte for byte.
    let whole = d.join("whole").display().to_string();
    ok(&["sweep", &sweep, "--threads", "2", "--out", &whole]);
    for f in ["runs.csv", "points.csv"] {
        assert_eq!(read(&out.join(f)), read(&d.join("whole").join(f)), "{f}");
    }
    // Resuming a finished sweep runs nothing.
    let again = ok(&["sweep", &sweep, "--resume", "--out", &out_s]);
    assert_eq!(
        field(&String::from_utf8_lossy(&again.stderr), "run(s) in"),
        0
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// The columns of a CSV text by name, for the row whose `variant` is `variant`.
fn row(csv: &str, variant: &str) -> std::collections::BTreeMap<String, String> {
    let mut it = csv.lines();
    let header: Vec<&str> = it.next().unwrap().split(',').collect();
    let vi = header.iter().position(|h| *h == "variant").unwrap();
    let line = it
        .find(|l| l.split(',').nth(vi) == Some(variant))
        .unwrap_or_else(|| panic!("no row for {variant}"));
    header
        .iter()
        .map(|h| h.to_string())
        .zip(line.split(',').map(String::from))
        .collect()
}

fn num(r: &std::collections::BTreeMap<String, String>, col: &str) -> f64 {
    r.get(col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .parse()
        .unwrap()
}

#[test]
fn intervals_match_erlang_c_and_identical_variants_differ_by_exactly_zero() {
    let d = scratch("ci");
    // Two identical variants of M/M/10 at utilisation 0.85: Erlang C gives a mean response
    // of 1353.2 ms; ten 2-hour replications must cover it with a narrow interval.
    let model = Path::new(ROOT).join("models/mm10.ron");
    let exp = write(
        &d.join("twins.ron"),
        &format!(
            r#"Experiment(
    model: {model:?},
    duration: "2h", warmup: "10m", metrics_interval: "10m",
    workload: Open(rate_per_s: 8.5),
    variants: {{
        "a": Variant(set: {{"model.nodes.workers": "10"}}),
        "b": Variant(set: {{"model.nodes.workers": "10"}}),
    }},
)"#
        ),
    );
    let sweep = write(
        &d.join("twins-sweep.ron"),
        &format!("Sweep(experiment: {exp:?}, seed: 5, replications: 10, baseline: \"a\")"),
    );
    let out = d.join("out");
    let s = scalesim::sweep::load_sweep(Path::new(&sweep), &[]).unwrap();
    let report = scalesim::sweep::run_sweep(
        &s,
        &scalesim::sweep::SweepOptions {
            threads: Some(2),
            out: out.clone(),
            shard: scalesim::sweep::Shard::ALL,
            resume: false,
            progress: false,
        },
    )
    .unwrap();
    assert!(report.complete);
    let points = read(&out.join("points.csv"));
    let a = row(&points, "a");
    let (lo, hi) = (
        num(&a, "latency_ms_mean_ci95_lo"),
        num(&a, "latency_ms_mean_ci95_hi"),
    );
    assert!(
        lo < 1353.2 && 1353.2 < hi,
        "Erlang C's 1353.2 ms outside [{lo}, {hi}]"
    );
    assert!(hi - lo < 0.06 * 1353.2, "interval too wide: [{lo}, {hi}]");
    assert_eq!(num(&a, "runs"), 10.0);
    // The same design on the same seeds: the paired difference is exactly 0 with a
    // 0-width interval, while the unpaired interval is as wide as the noise.
    let b = row(&points, "b");
    for col in [
        "latency_ms_mean_diff_mean",
        "latency_ms_mean_diff_ci95_lo",
        "latency_ms_mean_diff_ci95_hi",
        "throughput_rps_diff_ci95_lo",
        "throughput_rps_diff_ci95_hi",
    ] {
        assert_eq!(num(&b, col), 0.0, "{col}");
    }
    assert!(num(&b, "latency_ms_mean_unpaired_ci95_hi") > 1.0);

    // The interval of a known sample through the library's own function.
    let e = scalesim::sweep::stats::Estimate::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(e.mean, 3.0);
    assert!((e.half_width - 2.776 * 0.5f64.sqrt()).abs() < 1e-12);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_bad_axis_names_the_sweep_file_line_and_column() {
    let d = scratch("bad");
    let sweep = write(
        &d.join("bad.ron"),
        "Sweep(\n    experiment: \"experiments/mm10.ron\",\n    axes: [\n        Axis(path: \"model.nodes.worker\", values: List([1, 2])),\n    ],\n)",
    );
    let out = scalesim(&["sweep", &sweep, "--out", &d.join("o").display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.ron:4:"), "{err}");
    assert!(err.contains("Did you mean `workers`?"), "{err}");
    assert!(
        !d.join("o").exists(),
        "nothing runs before every point is valid"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn plan_finds_the_node_count_of_an_mmc_farm() {
    // Nodes of 10 workers with 1 s exponential service: 10 req/s each. At 30 req/s a mean
    // response under 2 s needs 4 nodes (3 would run at utilisation 1); the rule of thumb
    // 30 × 1.2 / 10 = 3.6 also gives 4.
    let out = ok(&[
        "plan",
        "experiments/mm10.ron",
        "--slo",
        "mean<2s",
        "--peak-rps",
        "30",
        "--set",
        "duration=20m",
        "--set",
        "warmup=2m",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("the smallest node count meeting mean<2s at 30 req/s is 4"),
        "{text}"
    );
    assert!(text.contains("→ 4"), "{text}");
    let cap: f64 = text
        .split("capacity per node: ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        (cap - 10.0).abs() < 0.5,
        "capacity per node {cap}, expected 10"
    );

    let bad = scalesim(&[
        "plan",
        "experiments/mm10.ron",
        "--slo",
        "p99<fast",
        "--peak-rps",
        "30",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn bundled_sweeps_are_valid() {
    let dir = Path::new(ROOT).join("experiments/sweeps");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "ron") {
            let rel = p.strip_prefix(ROOT).unwrap().display().to_string();
            let out = ok(&["check", &rel]);
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("sweep of"),
                "{rel}"
            );
            n += 1;
        }
    }
    assert!(n >= 3, "expected the bundled sweeps in {}", dir.display());
}

#[test]
fn plan_shows_where_a_shared_database_makes_the_formula_optimistic() {
    // Nodes call a database of 40 connections at 10 ms a call: 4000 calls/s at most, whatever
    // the number of nodes. At a peak of 5000 req/s no node count meets the objective, and
    // the measured efficiency falls once the database saturates.
    let d = scratch("plan-db");
    let model = write(
        &d.join("db_model.ron"),
        r#"System(
    balancer: Balancer(policy: LeastConnections),
    nodes: Nodes(count: 3, workers: 16, queue_limit: 64, service: LogNormal(median: "20ms", p99: "120ms")),
    dependency: Dependency(workers: 40, queue_limit: None, service: Exp(mean: "10ms")),
)"#,
    );
    let exp = write(
        &d.join("db.ron"),
        &format!(
            "Experiment(model: {model:?}, duration: \"8s\", warmup: \"2s\", workload: Open(rate_per_s: 1000.0), clients: Clients(timeout: \"1s\"))"
        ),
    );
    let out = ok(&[
        "plan",
        &exp,
        "--slo",
        "p99<300ms",
        "--peak-rps",
        "5000",
        "--replications",
        "2",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("a shared limit binds"), "{text}");
    assert!(text.contains("the formula is optimistic"), "{text}");
    let _ = std::fs::remove_dir_all(&d);
}
