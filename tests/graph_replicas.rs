//! A graph database's read replicas: replication lag makes replica reads stale unless
//! reads follow the user's own writes; a failover loses the writes not yet replicated,
//! more of them after a lag spike; replicas add read capacity. Each case on 3 seeds,
//! with models written to a temporary folder.

use scalesim::{load_experiment, run_config, RunOutput};
use std::path::PathBuf;

const SEEDS: [u64; 3] = [1, 2, 3];

/// A folder of its own for one test's files.
fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "scalesim-graph-replicas-{}-{test}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes `model` and `experiment` (whose `model:` is "model.ron") into `test`'s folder
/// and runs `variant` on `seed`.
fn run(test: &str, model: &str, experiment: &str, variant: &str, seed: u64) -> RunOutput {
    let dir = folder(test);
    std::fs::write(dir.join("model.ron"), model).expect("write model");
    let path = dir.join("experiment.ron");
    std::fs::write(&path, experiment).expect("write experiment");
    let exp = load_experiment(&path, &[]).expect("loads");
    let cfg = exp
        .runs
        .iter()
        .find(|r| r.variant == variant)
        .unwrap_or_else(|| panic!("variant {variant}"))
        .with_seed(seed);
    run_config(&cfg).expect("runs")
}

fn db(out: &RunOutput, name: &str) -> f64 {
    out.summary.components["db.main"][name]
}

/// A database with `replicas` (RON), behind one web service; users log in (a write)
/// and read.
fn model(replicas: &str) -> String {
    format!(
        r#"System(
    services: {{ "web": Service(instances: 4, workers: 1024, service: Exp(mean: "1ms")) }},
    databases: {{
        "main": Database(workers: 16, read: Exp(mean: "3ms"), write: Exp(mean: "5ms"),
                         replicas: {replicas}),
    }},
    requests: {{
        "login": [Call("web"), Write("main")],
        "read": [Call("web"), Read("main")],
    }},
)"#
    )
}

/// 1,000 users, each about once a second: one request in ten a login (a write), the
/// others reads, so a user's read often comes soon after that user's write.
const USERS: &str = r#"populations: {
        "users": Population(
            workload: Users(count: 1000, think: Exp(mean: "1s")),
            mix: {"login": 0.1, "read": 0.9},
            timeout: "2s",
        ),
    },"#;

#[test]
fn replica_reads_are_stale_after_a_write_unless_reads_follow_the_users_writes() {
    let model = model(r#"Replicas(count: 2, workers: 16, lag: Exp(mean: "200ms"))"#);
    let experiment = format!(
        r#"Experiment(
    model: "model.ron", duration: "70s", warmup: "10s",
    {USERS}
    variants: {{
        "replicas": Variant(),
        "ryw": Variant(set: {{"model.databases.main.replicas.reads": "ReadYourWrites(window: \"1s\")"}}),
        "primary": Variant(set: {{"model.databases.main.replicas.reads": "Primary"}}),
    }},
)"#
    );
    for seed in SEEDS {
        let any = run("stale", &model, &experiment, "replicas", seed);
        let ryw = run("stale", &model, &experiment, "ryw", seed);
        let primary = run("stale", &model, &experiment, "primary", seed);
        let (stale, ryw_stale) = (db(&any, "stale_reads"), db(&ryw, "stale_reads"));
        eprintln!(
            "seed {seed}: stale reads {stale} (Replicas), {ryw_stale} (ReadYourWrites 1s, {} of {} reads on replicas), {} (Primary)",
            db(&ryw, "replica_reads"),
            db(&ryw, "reads"),
            db(&primary, "stale_reads")
        );
        // About 0.9 reads/s per user × 0.2 s of lag per write: ~1,000 stale reads a minute.
        assert!(stale > 500.0, "seed {seed}: {stale} stale reads");
        assert_eq!(db(&any, "replica_reads"), db(&any, "reads"), "seed {seed}");
        // Read-your-writes sends a read to a replica only 1 s after the user's write,
        // when a write of Exp(200 ms) lag is almost surely there (e^-5).
        assert!(
            ryw_stale * 50.0 < stale,
            "seed {seed}: {ryw_stale} stale reads with read-your-writes, {stale} without"
        );
        let share = db(&ryw, "replica_reads") / db(&ryw, "reads");
        assert!(share > 0.8, "seed {seed}: {share:.3} of reads on replicas");
        assert!(
            share < 0.97,
            "seed {seed}: {share:.3}: none went to the primary?"
        );
        assert_eq!(db(&primary, "stale_reads"), 0.0, "seed {seed}");
        assert_eq!(db(&primary, "replica_reads"), 0.0, "seed {seed}");
        assert!(db(&primary, "reads") > 40_000.0, "seed {seed}");
        for out in [&any, &ryw, &primary] {
            assert_eq!(db(out, "lost_writes"), 0.0, "seed {seed}: no failover");
        }
    }
}

#[test]
fn a_failover_loses_the_writes_not_yet_replicated_and_more_after_a_lag_spike() {
    let model = model(
        r#"Replicas(count: 2, workers: 16, lag: Exp(mean: "200ms"), reads: ReadYourWrites(window: "1s"))"#,
    );
    let experiment = format!(
        r#"Experiment(
    model: "model.ron", duration: "60s", warmup: "10s",
    {USERS}
    faults: [
        LagSpike(database: "main", at: "28s", lasting: "10s", extra: "2s"),
        Failover(database: "main", at: "30s", lasting: "5s"),
    ],
    variants: {{
        "lag-spike": Variant(),
        "normal-lag": Variant(set: {{"faults.0.extra": "1ns"}}),
    }},
)"#
    );
    for seed in SEEDS {
        let spike = run("failover", &model, &experiment, "lag-spike", seed);
        let normal = run("failover", &model, &experiment, "normal-lag", seed);
        let (lost, lost_spike) = (db(&normal, "lost_writes"), db(&spike, "lost_writes"));
        eprintln!(
            "seed {seed}: lost writes {lost} (normal lag), {lost_spike} (after a +2 s spike); refused {}",
            normal.summary.failed_by_reason["refused"]
        );
        // ~100 writes/s: ~20 in flight with 200 ms of lag, ~220 two seconds later.
        assert!(lost >= 5.0, "seed {seed}: {lost} lost writes");
        assert!(
            lost_spike > 5.0 * lost,
            "seed {seed}: {lost_spike} lost after the spike, {lost} without"
        );
        for out in [&spike, &normal] {
            // The primary refuses for 5 s: the logins then (~500) and the reads routed
            // to it fail fast; reads on the replicas go on.
            let refused = out.summary.failed_by_reason["refused"];
            assert!(refused > 400, "seed {seed}: {refused} refused");
            assert!(db(out, "replica_reads") > 30_000.0, "seed {seed}");
        }
    }
}

#[test]
fn replicas_add_read_capacity() {
    // The primary serves 4 × 100 reads/s; 800 reads/s are offered; three replicas
    // serve 1,200/s between them.
    let model = r#"System(
    services: { "web": Service(instances: 4, workers: 1024, service: Exp(mean: "1ms")) },
    databases: {
        "main": Database(workers: 4, queue: Queue(limit: 200), read: Exp(mean: "10ms"), write: Exp(mean: "10ms"),
                         replicas: Replicas(count: 3, workers: 4, lag: Exp(mean: "100ms"), reads: Replicas)),
    },
    requests: { "read": [Call("web"), Read("main")] },
)"#;
    let experiment = r#"Experiment(
    model: "model.ron", duration: "40s", warmup: "10s",
    populations: {
        "readers": Population(workload: Open(rate_per_s: 800.0), mix: {"read": 1.0}, timeout: "1s"),
    },
    variants: {
        "replicas": Variant(),
        "primary": Variant(set: {"model.databases.main.replicas.reads": "Primary"}),
    },
)"#;
    for seed in SEEDS {
        let spread = run("capacity", model, experiment, "replicas", seed);
        let primary = run("capacity", model, experiment, "primary", seed);
        let (g, gp) = (spread.summary.goodput_rps, primary.summary.goodput_rps);
        eprintln!("seed {seed}: goodput {g:.1}/s (Replicas), {gp:.1}/s (Primary) of 800/s");
        assert!(
            g > 0.97 * 800.0,
            "seed {seed}: goodput {g:.0}/s over replicas"
        );
        assert!(
            gp < 0.55 * 800.0,
            "seed {seed}: goodput {gp:.0}/s on the primary"
        );
        assert!(db(&spread, "replica_reads") > 0.99 * db(&spread, "reads"));
    }
}

/// Loads `model` with `experiment` from `test`'s folder, expecting an error.
fn load_error(test: &str, model: &str, experiment: &str) -> String {
    let dir = folder(test);
    std::fs::write(dir.join("model.ron"), model).expect("write model");
    let path = dir.join("experiment.ron");
    std::fs::write(&path, experiment).expect("write experiment");
    match load_experiment(&path, &[]) {
        Ok(_) => panic!("{test}: loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_replicas_and_replication_faults_name_their_field() {
    let experiment = |faults: &str| {
        format!(r#"Experiment(model: "model.ron", duration: "10s", {USERS} faults: [{faults}])"#)
    };
    let no_replicas = model("None");
    let e = load_error(
        "bad-failover",
        &no_replicas,
        &experiment(r#"Failover(database: "main", at: "1s", lasting: "1s")"#),
    );
    assert!(
        e.contains("faults.0.database") && e.contains("has no replicas"),
        "{e}"
    );
    let e = load_error(
        "bad-spike",
        &no_replicas,
        &experiment(r#"LagSpike(database: "mian", at: "1s", lasting: "1s", extra: "1s")"#),
    );
    assert!(
        e.contains("faults.0.database") && e.contains("`main`"),
        "{e}"
    );
    let many = model(r#"Replicas(count: 65, workers: 1, lag: Exp(mean: "1ms"))"#);
    let e = load_error("bad-count", &many, &experiment(""));
    assert!(
        e.contains("model.databases.main.replicas.count") && e.contains("MAX_REPLICAS"),
        "{e}"
    );
    let window = model(
        r#"Replicas(count: 1, workers: 1, lag: Exp(mean: "1ms"), reads: ReadYourWrites(window: "0s"))"#,
    );
    let e = load_error("bad-window", &window, &experiment(""));
    assert!(e.contains("replicas.reads.window"), "{e}");
}
