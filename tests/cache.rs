//! The thundering herd behaves as `experiments/thundering_herd.ron` says, on several seeds:
//! a flush without coalescing sends a burst of duplicate queries to the database; with
//! coalescing the database sees about one query per key per refresh; a jittered TTL
//! flattens the synchronized expiry wave; writes invalidate keys.

use scalesim::config::{load_experiment, Override};
use scalesim::{run_config, RunOutput};
use std::path::Path;

fn run(file: &str, seed: u64, sets: &[&str]) -> Vec<(String, RunOutput)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let mut overrides = vec![Override::parse_flag(&format!("seed={seed}")).unwrap()];
    overrides.extend(sets.iter().map(|s| Override::parse_flag(s).unwrap()));
    let exp = load_experiment(&path, &overrides).expect("bundled experiment loads");
    exp.runs
        .iter()
        .map(|cfg| (cfg.variant.clone(), run_config(cfg).expect("runs")))
        .collect()
}

fn get<'a>(runs: &'a [(String, RunOutput)], name: &str) -> &'a RunOutput {
    &runs.iter().find(|(n, _)| n == name).expect("variant").1
}

/// The most database queries per second in the intervals starting in [from, to).
fn peak_db_qps(out: &RunOutput, from: f64, to: f64) -> f64 {
    let s = &out.series;
    s.rows
        .iter()
        .filter(|r| r.t_s >= from && r.t_s < to)
        .map(|r| r.gauges.db_queries as f64 / s.interval_s)
        .fold(0.0, f64::max)
}

#[test]
fn coalescing_caps_a_flush_stampede_at_one_query_per_key() {
    for seed in [21, 22, 23] {
        let ctx = format!("(reproduce: cargo run --release -- run experiments/thundering_herd.ron --seed {seed} --set model.cache.keys.count=50)");
        let runs = run(
            "experiments/thundering_herd.ron",
            seed,
            &["duration=80s", "model.cache.keys.count=50"],
        );
        let plain = &get(&runs, "no-coalescing").summary;
        let coal = &get(&runs, "coalescing").summary;
        let (pdb, cdb) = (plain.db.clone().unwrap(), coal.db.clone().unwrap());
        let (pc, cc) = (plain.cache.clone().unwrap(), coal.cache.clone().unwrap());
        assert!(
            pdb.peak_qps >= 5.0 * cdb.peak_qps,
            "peak db qps {} vs {} {ctx}",
            pdb.peak_qps,
            cdb.peak_qps
        );
        // One shared cache, coalescing: each key is fetched once per refresh.
        assert_eq!(cc.peak_misses_per_key, 1, "{ctx}");
        assert!(
            pc.peak_misses_per_key >= 10,
            "{} {ctx}",
            pc.peak_misses_per_key
        );
        // 50 keys, flushed once: the flush costs at most about one query per key.
        assert!(cdb.peak_qps <= 50.0 + 5.0, "{} {ctx}", cdb.peak_qps);
        assert!(cc.coalesced > 0, "{ctx}");
        // The stampede shows in latency too.
        assert!(
            plain.latency_ms.p99 > coal.latency_ms.p99,
            "p99 {} vs {} {ctx}",
            plain.latency_ms.p99,
            coal.latency_ms.p99
        );
    }
}

#[test]
fn jittered_ttl_flattens_the_synchronized_expiry() {
    for seed in [21, 22, 23] {
        let ctx = format!(
            "(reproduce: cargo run --release -- run experiments/thundering_herd.ron --seed {seed})"
        );
        let runs = run("experiments/thundering_herd.ron", seed, &["duration=70s"]);
        // Keys filled at the cold start expire together 30 s later without jitter. They were
        // filled over its first seconds (the database lagged behind the misses: p99 over 1 s
        // in the first five), so the wave is in the seconds from 30 s to 37 s.
        let plain = peak_db_qps(get(&runs, "no-coalescing"), 20.0, 58.0);
        let jit = peak_db_qps(get(&runs, "jittered-ttl"), 20.0, 58.0);
        assert!(jit < 0.8 * plain, "expiry wave {jit} vs {plain} {ctx}");
        let wave = peak_db_qps(get(&runs, "no-coalescing"), 30.0, 37.0);
        assert_eq!(wave, plain, "the wave is at the TTL {ctx}");
        let before = peak_db_qps(get(&runs, "no-coalescing"), 20.0, 30.0);
        assert_eq!(before, 0.0, "no query before the TTL {ctx}");
    }
}

#[test]
fn per_node_caches_coalesce_per_node_and_writes_invalidate() {
    let runs = run(
        "experiments/thundering_herd.ron",
        21,
        &[
            "duration=80s",
            "model.cache.placement=PerNode",
            "model.cache.coalescing=true",
        ],
    );
    let c = get(&runs, "coalescing").summary.cache.clone().unwrap();
    // Four nodes, four caches: a hot key is fetched once by each.
    assert!(
        (2..=4).contains(&c.peak_misses_per_key),
        "{}",
        c.peak_misses_per_key
    );
    let base = run("experiments/thundering_herd.ron", 21, &["duration=80s"]);
    let writes = run(
        "experiments/thundering_herd.ron",
        21,
        &["duration=80s", "model.cache.write_share=0.05"],
    );
    let (b, w) = (
        get(&base, "coalescing").summary.clone(),
        get(&writes, "coalescing").summary.clone(),
    );
    let (bc, wc) = (b.cache.unwrap(), w.cache.unwrap());
    assert!(wc.writes > 0);
    assert!(
        wc.hit_ratio < bc.hit_ratio - 0.02,
        "{} vs {}",
        wc.hit_ratio,
        bc.hit_ratio
    );
    assert!(w.db.unwrap().queries > b.db.unwrap().queries + wc.writes / 2);
}

#[test]
fn leases_cap_fetches_and_stop_stale_fills() {
    for seed in [21, 22] {
        let ctx = format!("(seed {seed})");
        let runs = run(
            "experiments/thundering_herd.ron",
            seed,
            &["duration=80s", "model.cache.keys.count=50"],
        );
        let l = get(&runs, "leases").summary.clone();
        let plain = get(&runs, "no-coalescing").summary.clone();
        let lc = l.cache.unwrap();
        assert_eq!(lc.peak_misses_per_key, 1, "{ctx}");
        assert!(lc.lease_retries > 0, "{ctx}");
        assert!(
            plain.db.unwrap().peak_qps >= 5.0 * l.db.unwrap().peak_qps,
            "{ctx}"
        );
    }
    // A write revokes the lease of a fetch in flight: its answer is not cached.
    let runs = run(
        "experiments/thundering_herd.ron",
        21,
        &["duration=80s", "model.cache.write_share=0.02"],
    );
    let l = get(&runs, "leases").summary.cache.clone().unwrap();
    let plain = get(&runs, "no-coalescing").summary.cache.clone().unwrap();
    assert!(l.stale_fills_prevented > 0);
    assert_eq!(plain.stale_fills_prevented, 0);
}

#[test]
fn prewarming_and_slow_start_spare_the_database_when_cold_nodes_join() {
    for seed in [5, 6] {
        let ctx = format!(
            "(reproduce: cargo run --release -- run experiments/cold_nodes.ron --seed {seed})"
        );
        let runs = run("experiments/cold_nodes.ron", seed, &[]);
        let peak = |v: &str| get(&runs, v).summary.db.clone().unwrap().peak_qps;
        let nodes = |v: &str| get(&runs, v).summary.cost.peak_nodes;
        assert!(nodes("cold") >= 6, "the autoscaler adds nodes {ctx}");
        assert!(
            peak("prewarm") < 0.75 * peak("cold"),
            "prewarm {} vs cold {} {ctx}",
            peak("prewarm"),
            peak("cold")
        );
        assert!(
            peak("slow-start") < 0.7 * peak("cold"),
            "slow start {} vs cold {} {ctx}",
            peak("slow-start"),
            peak("cold")
        );
        let p99 = |v: &str| get(&runs, v).summary.latency_ms.p99;
        assert!(p99("prewarm") < p99("cold"), "{ctx}");
    }
}

#[test]
fn a_cache_needs_a_database() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/thundering_herd.ron");
    let sets = [Override::parse_flag("model.dependency=None").unwrap()];
    let Err(err) = load_experiment(&path, &sets) else {
        panic!("a cache without a dependency was accepted");
    };
    assert!(err.to_string().contains("needs a `dependency`"), "{err}");
}
