//! The graph cache and counter have every power of the single-tier ones: the thundering
//! herd (thundering_herd.ron's phenomena) and the lock convoy (lock_convoy.ron's) on graph
//! models, per-instance caches that start cold after a restart, writes that invalidate,
//! batched counters that lose a crashed instance's sum. Several seeds, real numbers.

mod common;

use common::{column, figure, run_variant as run};
use scalesim::RunOutput;

const HERD: &str = "experiments/thundering_herd_graph.ron";
const COLD: &str = "experiments/cold_instance_cache.ron";
const CONVOY: &str = "experiments/lock_convoy_graph.ron";

fn cache(out: &RunOutput, name: &str) -> f64 {
    figure(out, "cache.products", name)
}

fn counter(out: &RunOutput, name: &str) -> f64 {
    figure(out, "counter.failed_logins", name)
}

#[test]
fn hot_keys_expiring_together_stampede_without_coalescing_and_fetch_once_with_it() {
    for seed in [21, 1, 2] {
        let herd = run(HERD, "no-coalescing", seed, &[]);
        let one = run(HERD, "coalescing", seed, &[]);
        let herd_peak = cache(&herd, "peak_misses_per_key");
        assert!(
            herd_peak > 10.0,
            "seed {seed}: no-coalescing peak {herd_peak}"
        );
        assert_eq!(cache(&one, "peak_misses_per_key"), 1.0, "seed {seed}");
        // The others waited for that one fetch instead (hundreds of lookups).
        let waited = cache(&one, "coalesced");
        assert!(waited > 500.0, "seed {seed}: {waited} coalesced");
        assert!(
            cache(&one, "misses") < 0.8 * cache(&herd, "misses"),
            "seed {seed}"
        );
        // The database's queue sees the herd, and so does latency (the legacy run: p99
        // 946 ms against 26 ms).
        let q = |o: &RunOutput| figure(o, "db.main", "peak_queue_len");
        assert!(
            q(&one) < 0.5 * q(&herd),
            "seed {seed}: db queue {} vs {}",
            q(&one),
            q(&herd)
        );
        let p99 = |o: &RunOutput| figure(o, "population.shoppers", "latency_ms_p99");
        let (hp, op) = (p99(&herd), p99(&one));
        assert!(
            hp > 500.0 && op < 0.05 * hp,
            "seed {seed}: p99 {hp} vs {op} ms"
        );
        // Every miss is one database read (no writes here).
        assert_eq!(
            cache(&herd, "db_queries"),
            cache(&herd, "misses"),
            "seed {seed}"
        );
    }
}

#[test]
fn leases_cap_the_fetches_of_a_key_at_one_and_poll_instead() {
    for seed in [21, 3] {
        let leased = run(HERD, "leases", seed, &[]);
        assert_eq!(cache(&leased, "peak_misses_per_key"), 1.0, "seed {seed}");
        let retries = cache(&leased, "lease_retries");
        assert!(retries > 1000.0, "seed {seed}: {retries} lease retries");
        assert_eq!(cache(&leased, "coalesced"), 0.0, "seed {seed}");
        // As few fetches as coalescing needs, within a few percent.
        let one = run(HERD, "coalescing", seed, &[]);
        let (l, c) = (cache(&leased, "misses"), cache(&one, "misses"));
        assert!((l - c).abs() <= 0.05 * c, "seed {seed}: {l} vs {c} fetches");
    }
}

#[test]
fn early_refresh_refreshes_hot_keys_before_they_expire() {
    // Without the flush, so that expiry is the only cause of misses.
    for seed in [21, 4] {
        let plain = run(HERD, "no-coalescing", seed, &["faults=[]"]);
        let xfetch = run(HERD, "early-refresh", seed, &["faults=[]"]);
        let early = cache(&xfetch, "early_refreshes");
        assert!(early > 100.0, "seed {seed}: {early} early refreshes");
        assert_eq!(cache(&plain, "early_refreshes"), 0.0);
        // The hot keys are refreshed before their expiry: their herds shrink.
        let (p, x) = (
            cache(&plain, "peak_misses_per_key"),
            cache(&xfetch, "peak_misses_per_key"),
        );
        assert!(
            p > 10.0 && x <= 0.6 * p,
            "seed {seed}: peak misses per key {p} vs {x}"
        );
        // With coalescing, one refresh at a time: the lookups that find a hot key expired
        // and wait for its fetch (coalesced) fall by half or more.
        let c = "model.caches.products.coalescing=true";
        let waits = cache(
            &run(HERD, "no-coalescing", seed, &["faults=[]", c]),
            "coalesced",
        );
        let refreshed = run(HERD, "early-refresh", seed, &["faults=[]", c]);
        let xwaits = cache(&refreshed, "coalesced");
        assert!(
            xwaits < 0.6 * waits,
            "seed {seed}: {xwaits} waits vs {waits}"
        );
        assert_eq!(cache(&refreshed, "peak_misses_per_key"), 1.0, "seed {seed}");
        assert!(cache(&refreshed, "early_refreshes") > 100.0, "seed {seed}");
    }
}

#[test]
fn a_restarted_instance_has_a_cold_cache_and_prewarming_fills_it() {
    for seed in [5, 6, 7] {
        let cold = run(COLD, "cold", seed, &[]);
        let warm = run(COLD, "prewarm", seed, &[]);
        assert_eq!(cache(&cold, "instance_restarts"), 1.0, "seed {seed}");
        assert_eq!(cache(&warm, "instance_restarts"), 1.0, "seed {seed}");
        // The TTL outlasts the run: after the warm-up only the restarted instance misses,
        // about once per key it sees (coalescing), in the seconds after its restart at 65 s.
        let misses = cache(&cold, "misses");
        assert!(
            (150.0..=230.0).contains(&misses),
            "seed {seed}: {misses} misses"
        );
        let per_s = column(&cold, "cache.products", "misses_per_s");
        let after: f64 = per_s[65..70].iter().sum();
        assert!(
            after > 0.8 * misses,
            "seed {seed}: {after} of {misses} after the restart"
        );
        assert_eq!(cache(&warm, "misses"), 0.0, "seed {seed}");
        assert_eq!(figure(&warm, "db.main", "peak_qps"), 0.0, "seed {seed}");
        // Four caches of 200 keys each, pre-warmed full.
        assert_eq!(
            *column(&warm, "cache.products", "keys_held").last().unwrap(),
            800.0
        );
    }
}

#[test]
fn writes_invalidate_the_key_in_every_instance_and_revoke_its_lease() {
    for seed in [1, 2] {
        let sets = [
            "model.caches.products.placement=PerInstance(\"web\")",
            "model.caches.products.write_share=0.05",
            "model.caches.products.lease_retry=Some(\"20ms\")",
            "faults=[]",
        ];
        let out = run(HERD, "no-coalescing", seed, &sets);
        let (writes, reads) = (cache(&out, "writes"), cache(&out, "misses"));
        let lookups = cache(&out, "hits") + reads + cache(&out, "coalesced");
        let share = writes / (writes + lookups);
        assert!(
            (0.045..0.055).contains(&share),
            "seed {seed}: write share {share}"
        );
        // A write of a hot key drops it from up to four instances' caches.
        let inv = cache(&out, "invalidations");
        assert!(
            inv > 1.5 * writes && inv <= 4.0 * writes,
            "seed {seed}: {inv} for {writes}"
        );
        assert!(cache(&out, "stale_fills_prevented") > 0.0, "seed {seed}");
        let sent = cache(&out, "db_queries");
        assert!(
            (sent - writes - reads).abs() <= 5.0,
            "seed {seed}: {sent} sent"
        );
        // The database served those writes (those finished by the end of the run).
        let db_writes = figure(&out, "db.main", "writes");
        assert!(
            (db_writes - writes).abs() <= 0.01 * writes,
            "seed {seed}: {db_writes}"
        );
    }
}

#[test]
fn a_miss_takes_the_miss_time_before_its_database_read() {
    // Every lookup misses (a million uniform keys, 200 held); the database is fast.
    let base = [
        "model.caches.products.keys=Keys(count: 1000000)",
        "model.databases.main.read=Const(value: \"1ms\")",
        "model.databases.main.workers=2000",
        "faults=[]",
    ];
    for seed in [1, 2] {
        let fast = run(HERD, "no-coalescing", seed, &base);
        let mut slow_sets = base.to_vec();
        slow_sets.push("model.caches.products.miss=Some(Const(value: \"40ms\"))");
        let slow = run(HERD, "no-coalescing", seed, &slow_sets);
        let p50 = |o: &RunOutput| figure(o, "population.shoppers", "latency_ms_p50");
        let d = p50(&slow) - p50(&fast);
        assert!(
            (38.0..42.0).contains(&d),
            "seed {seed}: the miss time added {d} ms"
        );
    }
}

#[test]
fn one_locked_row_is_a_convoy_bounded_by_its_write_time() {
    for seed in [13, 1, 2] {
        let global = run(CONVOY, "global", seed, &[]);
        let rate = counter(&global, "committed_per_s");
        // 4 ms writes one at a time: at most 250 a second.
        assert!(
            (180.0..250.0).contains(&rate),
            "seed {seed}: {rate} commits/s"
        );
        assert!(counter(&global, "max_waiters") > 100.0, "seed {seed}");
        assert!(counter(&global, "wait_ms_p99") > 300.0, "seed {seed}");
        assert!(counter(&global, "wait_ms_mean") > 100.0, "seed {seed}");
        // The waiters hold web workers: requests that never touch the counter are turned
        // away too.
        let failed = figure(&global, "population.users", "failed");
        let issued = figure(&global, "population.users", "issued");
        assert!(
            failed > 0.2 * issued,
            "seed {seed}: {failed} of {issued} failed"
        );
        assert_eq!(counter(&global, "lost_updates"), 0.0, "seed {seed}");
        let sharded = run(CONVOY, "sharded-16", seed, &[]);
        let (s, g) = (
            counter(&sharded, "committed"),
            counter(&global, "committed"),
        );
        assert!(s > 1.4 * g, "seed {seed}: sharded {s} vs global {g}");
        assert_eq!(counter(&sharded, "lost_updates"), 0.0, "seed {seed}");
        assert_eq!(counter(&sharded, "timeouts"), 0.0, "seed {seed}");
    }
}

#[test]
fn batched_increments_lose_nothing_until_an_instance_crashes() {
    for seed in [13, 3] {
        let batched = run(CONVOY, "batched", seed, &[]);
        assert_eq!(counter(&batched, "lost_updates"), 0.0, "seed {seed}");
        // Only the instances' batch writes ever wait (for each other, at the same tick).
        assert!(counter(&batched, "max_waiters") <= 3.0, "seed {seed}");
        assert_eq!(
            figure(&batched, "population.users", "failed"),
            0.0,
            "seed {seed}"
        );
        let issued = figure(&batched, "population.users", "issued");
        let committed = counter(&batched, "committed");
        // A fifth of the requests increment (less the warm-up's and the last batch).
        let share = committed / issued;
        assert!(
            (0.18..0.2).contains(&share),
            "seed {seed}: {share} of requests committed"
        );
        // Batch writes go through the database: one per instance per 100 ms at most.
        let writes = figure(&batched, "db.main", "writes");
        assert!(
            writes <= 4.0 * 10.0 * 280.0 && writes > 1000.0,
            "seed {seed}: {writes}"
        );
        // A crash loses the sum the instance had not written (at most about one period's).
        let crash =
            "faults=[Crash(service: \"web\", instance: 0, at: \"60s\", restart_after: \"5s\")]";
        let crashed = run(CONVOY, "batched", seed, &[crash]);
        let lost = counter(&crashed, "lost_updates");
        assert!(
            (1.0..=60.0).contains(&lost),
            "seed {seed}: {lost} lost in the crash"
        );
    }
}

#[test]
fn unlocked_increments_race_and_a_slow_holder_loses_its_lease() {
    for seed in [13, 2] {
        let unlocked = run(CONVOY, "unlocked", seed, &[]);
        let (lost, committed) = (
            counter(&unlocked, "lost_updates"),
            counter(&unlocked, "committed"),
        );
        assert!(lost > committed, "seed {seed}: {lost} lost vs {committed}");
        assert_eq!(counter(&unlocked, "max_waiters"), 0.0, "seed {seed}");
        let slow = run(CONVOY, "global-slow-holder", seed, &[]);
        assert_eq!(counter(&slow, "leases_expired"), 1.0, "seed {seed}");
        // The holder's late write is lost; the global variant loses none.
        assert_eq!(counter(&slow, "lost_updates"), 1.0, "seed {seed}");
        assert_eq!(
            counter(&run(CONVOY, "global", seed, &[]), "leases_expired"),
            0.0
        );
    }
}
