//! The summary says what it measured: the cache's database apart from the session store,
//! one post-warm-up window for every per-second figure, absent components as empty cells
//! (not zeros), and the latency of failures beside that of successes.

mod common;

use common::{run_experiment, variant};
use scalesim::config::single_run_from_texts;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_scalesim");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A shop with both a look-aside cache (in front of the database) and a session store.
const CACHE_AND_STORE: &str = r#"System(
    balancer: Balancer(policy: RoundRobin),
    nodes: Nodes(count: 4, workers: 64, queue_limit: 512, service: LogNormal(median: "4ms", p99: "20ms")),
    dependency: Dependency(workers: 16, service: Exp(mean: "100ms")),
    cache: Cache(placement: Shared, capacity_keys: 200, ttl: "30s", hit: Const(value: "1ms"),
                 keys: Keys(count: 200, popularity: Zipf(s: 1.1)), write_share: 0.05),
    sessions: Sessions(
        design: Externalized(
            store: Store(workers: 16, queue_limit: 1000, read: Exp(mean: "1ms"), write: Exp(mean: "2ms")),
            on_outage: FailClosed,
        ),
        login_service: Exp(mean: "30ms"),
    ),
)"#;

#[test]
fn the_caches_database_and_the_session_store_are_reported_apart() {
    for seed in [1, 2, 3] {
        let exp = format!(
            r#"Experiment(duration: "40s", warmup: "10s", seed: {seed},
                workload: Users(count: 2000, think: Exp(mean: "1s"), logout_share: 0.05))"#
        );
        let cfg = single_run_from_texts(&exp, CACHE_AND_STORE).unwrap();
        let s = scalesim::run_config(&cfg).unwrap().summary;
        let cache = s.cache.clone().unwrap();
        let db = s.db.clone().unwrap();
        let store = s.sessions.clone().unwrap().store.unwrap();
        // The database is what the cache sends it: its misses and its writes, no more. A
        // miss is counted at its lookup and its query leaves a lookup time (1 ms) later, so
        // misses in their lookup at the warm-up or at the end (a few, at 2,000 requests/s)
        // fall on one side only.
        let sent = cache.misses + cache.writes;
        assert!(
            db.queries.abs_diff(sent) <= 10,
            "seed {seed}: {} queries, {sent} misses and writes",
            db.queries
        );
        assert!(db.queries > 1000, "seed {seed}");
        // The store serves every authenticated request: more than the database, apart from it.
        assert!(
            store.reads + store.writes > 2 * db.queries,
            "seed {seed}: {store:?} {db:?}"
        );
        assert!(store.peak_connections > 0, "seed {seed}");
        // `db` has the cache's figures only (before, it carried the store's connections and
        // stale reads under the database's name).
        let json = serde_json::to_value(&s).unwrap();
        let keys: Vec<&String> = json["db"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["mean_qps", "peak_qps", "queries"], "seed {seed}");
        let store_json = &json["sessions"]["store"];
        assert!(store_json["peak_connections"].as_u64().unwrap() > 0);
        assert!(store_json["peak_ops_per_s"].as_f64().unwrap() >= store.ops_per_s);
    }
}

#[test]
fn every_per_second_figure_uses_the_post_warm_up_window() {
    for seed in [13, 14] {
        let runs = run_experiment(
            "lock_convoy.ron",
            seed,
            &[
                "duration=100s",
                "warmup=20s",
                "workload.shape=Constant",
                "workload.rate_per_s=800",
            ],
        );
        let out = variant(&runs, "sharded-16");
        let locks = out.summary.locks.clone().unwrap();
        // The counter at the end of the warm-up: the gauge at the end of the interval that
        // started at 19 s.
        let at_warmup = out
            .series
            .rows
            .iter()
            .find(|r| (r.t_s - 19.0).abs() < 1e-9)
            .unwrap()
            .gauges
            .counter_committed;
        let expected = (locks.committed - at_warmup) as f64 / 80.0;
        assert!(at_warmup > 0, "seed {seed}");
        assert!(
            (locks.committed_per_s - expected).abs() < 1e-9,
            "seed {seed}: committed_per_s {} over the whole run, not the 80 s after the \
             warm-up ({expected})",
            locks.committed_per_s
        );
        // The same window as goodput: a fifth of the requests increment the counter.
        let share = locks.committed_per_s / out.summary.goodput_rps;
        assert!((share - 0.2).abs() < 0.02, "seed {seed}: {share}");
    }
}

fn cell<'a>(csv: &'a str, row: usize, column: &str) -> &'a str {
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let i = header
        .iter()
        .position(|h| *h == column)
        .unwrap_or_else(|| panic!("no column {column} in {header:?}"));
    csv.lines().nth(row).unwrap().split(',').nth(i).unwrap()
}

#[test]
fn absent_components_are_empty_cells_in_comparison_csv() {
    let runs = run_experiment("lock_convoy.ron", 13, &["duration=100s"]);
    let mut summaries: Vec<_> = runs.iter().map(|(_, o)| o.summary.clone()).collect();
    let mm10 = run_experiment("mm10.ron", 1, &["duration=11m"]);
    summaries.insert(0, mm10[0].1.summary.clone());
    let csv = scalesim::output::comparison_csv(&summaries);
    // mm10 has no locks, cache, sessions or dependency: empty, not 0.
    for column in [
        "locks_lost_updates",
        "locks_committed_per_s",
        "cache_hit_ratio",
        "db_peak_qps",
        "sessions_spurious_logouts",
        "store_utilisation",
        "dependency_utilisation",
    ] {
        assert_eq!(cell(&csv, 1, column), "", "{column}");
    }
    // The lock convoy has locks: its figures are there, zeros included.
    assert_eq!(cell(&csv, 2, "locks_lost_updates"), "0");
    assert_ne!(cell(&csv, 2, "locks_committed"), "");
    assert_eq!(cell(&csv, 2, "cache_hit_ratio"), "");
}

#[test]
fn absent_components_are_empty_cells_in_a_sweeps_csv_files() {
    let dir = std::env::temp_dir().join(format!("scalesim-summary-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sweep = dir.join("sweep.ron");
    std::fs::write(
        &sweep,
        r#"Sweep(
    experiment: "experiments/balancer_policies.ron",
    seed: 11,
    replications: 2,
    axes: [Axis(path: "workload.rate_per_s", values: List([600, 900]))],
    set: {"duration": "5s", "warmup": "500ms", "faults": "[]"},
)"#,
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["sweep", sweep.to_str().unwrap(), "--out"])
        .arg(dir.join("out"))
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = std::fs::read_to_string(dir.join("out/runs.csv")).unwrap();
    let points = std::fs::read_to_string(dir.join("out/points.csv")).unwrap();
    for row in 1..runs.lines().count() {
        assert_eq!(
            cell(&runs, row, "locks_lost_updates"),
            "",
            "runs.csv row {row}"
        );
        assert_eq!(
            cell(&runs, row, "cache_hit_ratio"),
            "",
            "runs.csv row {row}"
        );
        assert_ne!(cell(&runs, row, "goodput_rps"), "", "runs.csv row {row}");
    }
    for row in 1..points.lines().count() {
        assert_eq!(cell(&points, row, "locks_lost_updates_mean"), "");
        assert_eq!(cell(&points, row, "sessions_spurious_logouts_ci95_lo"), "");
        assert_ne!(cell(&points, row, "goodput_rps_mean"), "");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failures_have_their_latency_and_the_success_share_splits_the_population() {
    for seed in [5, 6] {
        let runs = run_experiment("sinkholing.ron", seed, &["duration=40s"]);
        let s = &variant(&runs, "least-conn").summary;
        // Node 2 fails every request within a millisecond from 30 s on, all issued after
        // the 10 s warm-up: each failure is counted, at about 1 ms.
        assert_eq!(
            s.latency_failed_ms.count, s.failed_by_reason["error"],
            "seed {seed}"
        );
        assert!(s.latency_failed_ms.count > 1000, "seed {seed}");
        assert!(
            (s.latency_failed_ms.p50 - 1.0).abs() < 0.1,
            "seed {seed}: {:?}",
            s.latency_failed_ms
        );
        // Successes are slower than those failures: latency of successes alone would make
        // the failing design look fast.
        assert!(
            s.latency_ms.p50 > 10.0 * s.latency_failed_ms.p50,
            "seed {seed}"
        );
        let share = s.success_share();
        let expected =
            s.latency_ms.count as f64 / (s.latency_ms.count + s.latency_failed_ms.count) as f64;
        assert_eq!(share, expected);
        assert!(share < 0.9 && share > 0.5, "seed {seed}: {share}");
    }
}
