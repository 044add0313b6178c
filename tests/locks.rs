//! The lock convoy, in numbers, on several seeds: one hot row serves about 1/(write time)
//! increments a second and, past that, throughput for everyone collapses while lock waits
//! explode; sharding the counter raises its throughput with the number of rows until another
//! limit binds; batching writes removes the convoy; without locks, updates are lost.

use scalesim::RunOutput;

mod common;

fn run(seed: u64, sets: &[String]) -> Vec<(String, RunOutput)> {
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    common::run_experiment("lock_convoy.ron", seed, &sets)
}

fn get<'a>(runs: &'a [(String, RunOutput)], name: &str) -> &'a RunOutput {
    common::variant(runs, name)
}

fn goodput_share(out: &RunOutput, from_s: f64) -> f64 {
    let (ok, offered) = out
        .series
        .rows
        .iter()
        .filter(|r| r.t_s >= from_s)
        .fold((0, 0), |(a, b), r| (a + r.succeeded, b + r.offered));
    ok as f64 / offered.max(1) as f64
}

/// Increments committed per second over the intervals from `from_s` on.
fn commit_rate(out: &RunOutput, from_s: f64) -> f64 {
    let rows: Vec<_> = out.series.rows.iter().filter(|r| r.t_s >= from_s).collect();
    let (first, last) = (rows.first().unwrap(), rows.last().unwrap());
    (last.gauges.counter_committed - first.gauges.counter_committed) as f64 / (last.t_s - first.t_s)
}

#[test]
fn one_hot_row_collapses_and_sharding_batching_restore_throughput() {
    for seed in [13, 14, 15] {
        let ctx = format!(
            "(reproduce: cargo run --release -- run experiments/lock_convoy.ron --seed {seed})"
        );
        let runs = run(seed, &[]);
        let global = get(&runs, "global");
        // One row, 4 ms a write: at most ~250 increments a second, whatever the offer (500/s at the peak).
        let rate = commit_rate(global, 240.0);
        assert!(
            (200.0..=265.0).contains(&rate),
            "global commits {rate:.0}/s {ctx}"
        );
        let lk = global.summary.locks.clone().unwrap();
        assert!(
            lk.wait_ms_p99 > 300.0,
            "lock waits explode: p99 {} ms {ctx}",
            lk.wait_ms_p99
        );
        assert!(
            lk.max_waiters >= 100,
            "waiters hold the node workers: {} {ctx}",
            lk.max_waiters
        );
        // The time series shows the waits interval by interval: their p99 reaches the run's
        // order of magnitude, and is 0 before the convoy (the first seconds, no waits yet).
        let iv_p99: Vec<f64> = global
            .series
            .rows
            .iter()
            .map(|r| r.gauges.lock_wait_ms_p99)
            .collect();
        let peak = iv_p99.iter().copied().fold(0.0, f64::max);
        assert!(
            peak >= 0.5 * lk.wait_ms_p99,
            "interval lock-wait p99 peaks at {peak} ms, the run's is {} {ctx}",
            lk.wait_ms_p99
        );
        assert!(iv_p99.iter().all(|p| p.is_finite() && *p >= 0.0), "{ctx}");
        // Everyone's throughput collapses, not only the counter's.
        let g = goodput_share(global, 240.0);
        assert!(g < 0.6, "global goodput share at the peak {g:.3} {ctx}");
        for fix in ["sharded-16", "batched"] {
            let out = get(&runs, fix);
            let g = goodput_share(out, 240.0);
            assert!(g > 0.99, "{fix} goodput share at the peak {g:.3} {ctx}");
            assert_eq!(
                out.summary.locks.clone().unwrap().lost_updates,
                0,
                "{fix} {ctx}"
            );
        }
        assert!(
            get(&runs, "sharded-16")
                .summary
                .locks
                .clone()
                .unwrap()
                .wait_ms_p99
                < 50.0,
            "{ctx}"
        );
        // Without locks nothing waits, but racing read-modify-writes lose increments.
        let unlocked = get(&runs, "unlocked").summary.locks.clone().unwrap();
        assert!(
            unlocked.lost_updates > unlocked.committed / 10,
            "lost {} of {} {ctx}",
            unlocked.lost_updates,
            unlocked.committed
        );
        // A stalled holder: its lease expires and the waiters behind it time out.
        let slow = get(&runs, "global-slow-holder")
            .summary
            .locks
            .clone()
            .unwrap();
        assert!(
            slow.leases_expired >= 1 && slow.timeouts > 0,
            "{slow:?} {ctx}"
        );
    }
}

#[test]
fn sharded_throughput_grows_with_the_buckets_until_the_offered_load_binds() {
    let mut rates = Vec::new();
    for buckets in [1u32, 2, 4, 8] {
        let sets = vec![
            format!("model.locks.counter=Sharded(buckets: {buckets})"),
            "workload.shape=Constant".to_string(),
            "duration=100s".to_string(),
        ];
        let runs = run(21, &sets);
        rates.push(commit_rate(get(&runs, "global"), 30.0));
    }
    // 500 increments/s are offered; one row commits ~250/s.
    assert!((200.0..=265.0).contains(&rates[0]), "{rates:?}");
    assert!(
        rates[1] > 1.6 * rates[0],
        "two rows nearly double it: {rates:?}"
    );
    for w in rates.windows(2) {
        assert!(w[1] >= w[0] * 0.97, "never worse with more rows: {rates:?}");
    }
    assert!(
        (rates[3] - 500.0).abs() < 25.0,
        "8 rows: the offered 500/s binds: {rates:?}"
    );
}
