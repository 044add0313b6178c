//! The traffic-path scenarios behave as their comment blocks say, in numbers, on the
//! bundled seed and on other seeds. A change that breaks a phenomenon fails here.

use scalesim::RunOutput;
use std::path::Path;

mod common;

fn run(file: &str, seed: u64) -> Vec<(String, RunOutput)> {
    common::run_experiment(file, seed, &[])
}

fn variant<'a>(runs: &'a [(String, RunOutput)], name: &str) -> &'a RunOutput {
    common::variant(runs, name)
}

/// Successes ÷ requests offered over the intervals starting in [from_s, to_s).
fn goodput_share(out: &RunOutput, from_s: f64, to_s: f64) -> f64 {
    let rows = out
        .series
        .rows
        .iter()
        .filter(|r| r.t_s >= from_s && r.t_s < to_s);
    let (ok, offered) = rows.fold((0u64, 0u64), |(a, b), r| (a + r.succeeded, b + r.offered));
    ok as f64 / offered.max(1) as f64
}

/// Share of requests that failed with `reason` over the intervals in [from_s, to_s).
fn failure_share(out: &RunOutput, reason: &str, from_s: f64, to_s: f64) -> f64 {
    let i = out
        .series
        .reasons
        .iter()
        .position(|r| *r == reason)
        .unwrap();
    let rows = out
        .series
        .rows
        .iter()
        .filter(|r| r.t_s >= from_s && r.t_s < to_s);
    let (bad, offered) = rows.fold((0u64, 0u64), |(a, b), r| {
        (a + r.failed_by_reason[i], b + r.offered)
    });
    bad as f64 / offered.max(1) as f64
}

#[test]
fn retry_storm_outlives_its_trigger_unless_mitigated() {
    for seed in [11, 1, 2] {
        let runs = run("retry_storm.ron", seed);
        let ctx = format!(
            "(reproduce: cargo run --release -- run experiments/retry_storm.ron --seed {seed})"
        );
        let none = variant(&runs, "no-mitigation");
        // The stall ends at 65 s; two minutes later the storm is still raging.
        let g = goodput_share(none, 150.0, 240.0);
        assert!(
            g < 0.2,
            "no mitigation: goodput share {g:.3} after the trigger {ctx}"
        );
        assert!(
            none.summary.never_recovered && none.summary.recovery_seconds.is_none(),
            "{ctx}"
        );
        assert!(none.summary.retry_amplification_peak > 2.5, "{ctx}");
        // Before the trigger the system was healthy.
        assert!(goodput_share(none, 30.0, 60.0) > 0.99, "{ctx}");
        for fix in ["retry-budget", "load-shedding", "lifo"] {
            let out = variant(&runs, fix);
            let g = goodput_share(out, 150.0, 240.0);
            assert!(
                g > 0.9,
                "{fix}: goodput share {g:.3} after the trigger {ctx}"
            );
            let r = out.summary.recovery_seconds.unwrap_or(f64::INFINITY);
            assert!(r < 60.0, "{fix}: recovery {r} s {ctx}");
        }
        // Jitter spreads retries but does not remove them: still 3 attempts per request.
        let jitter = variant(&runs, "jittered-backoff");
        assert!(jitter.summary.retry_amplification > 2.0, "{ctx}");
        // The budget holds retries to about 10% of first attempts.
        let budget = variant(&runs, "retry-budget");
        assert!(budget.summary.retry_amplification < 1.15, "{ctx}");
        assert!(budget.summary.budget_denied > 0, "{ctx}");
    }
}

#[test]
fn least_connections_sinks_into_a_fast_failing_node_and_health_checks_stop_it() {
    for seed in [5, 6] {
        let runs = run("sinkholing.ron", seed);
        let ctx = format!(
            "(reproduce: cargo run --release -- run experiments/sinkholing.ron --seed {seed})"
        );
        // The fault lasts from 30 s to 90 s on one node of four.
        let lc = failure_share(variant(&runs, "least-conn"), "error", 35.0, 90.0);
        let rr = failure_share(variant(&runs, "round-robin"), "error", 35.0, 90.0);
        let hc = failure_share(
            variant(&runs, "least-conn-health-check"),
            "error",
            35.0,
            90.0,
        );
        assert!(
            lc > 0.5,
            "least-conn sends most traffic to the broken node: {lc:.3} {ctx}"
        );
        assert!(
            (0.2..0.3).contains(&rr),
            "round-robin sends it a quarter: {rr:.3} {ctx}"
        );
        assert!(hc < 0.1, "a deep health check takes it out: {hc:.3} {ctx}");
        assert!(
            failure_share(variant(&runs, "least-conn"), "error", 95.0, 120.0) < 0.001,
            "{ctx}"
        );
    }
}

#[test]
fn aggressive_cpu_rule_runs_away_and_latency_rule_with_cooldown_does_not() {
    for seed in [3, 4] {
        let runs = run("autoscaler_runaway.ron", seed);
        let ctx = format!("(reproduce: cargo run --release -- run experiments/autoscaler_runaway.ron --seed {seed})");
        let cpu = &variant(&runs, "cpu-no-cooldown").summary;
        let lat = &variant(&runs, "latency-cooldown").summary;
        assert!(
            cpu.cost.peak_nodes >= 3 * lat.cost.peak_nodes,
            "peak {} vs {} {ctx}",
            cpu.cost.peak_nodes,
            lat.cost.peak_nodes
        );
        assert!(
            cpu.cost.total > 2.0 * lat.cost.total,
            "cost {} vs {} {ctx}",
            cpu.cost.total,
            lat.cost.total
        );
        assert!(cpu.cost.peak_nodes >= 20, "{ctx}");
        // The node count in the time series agrees with the summary.
        let series_peak = variant(&runs, "cpu-no-cooldown")
            .series
            .rows
            .iter()
            .map(|r| r.gauges.nodes_on)
            .max()
            .unwrap();
        assert_eq!(series_peak, cpu.cost.peak_nodes, "{ctx}");
    }
}

#[test]
fn load_dependent_slowdown_tips_into_a_death_spiral_that_shedding_prevents() {
    for seed in [21, 22] {
        let runs = run("death_spiral.ron", seed);
        let ctx = format!(
            "(reproduce: cargo run --release -- run experiments/death_spiral.ron --seed {seed})"
        );
        let fifo = variant(&runs, "unbounded-fifo");
        let shed = variant(&runs, "shed-deadline");
        // Fine before the surge at 300 s…
        assert!(goodput_share(fifo, 200.0, 290.0) > 0.98, "{ctx}");
        // …collapsed long after it, at the same load as before.
        let g = goodput_share(fifo, 420.0, 600.0);
        assert!(
            g < 0.3,
            "unbounded FIFO goodput share after the surge {g:.3} {ctx}"
        );
        let g = goodput_share(shed, 420.0, 600.0);
        assert!(
            g > 0.95,
            "shedding goodput share after the surge {g:.3} {ctx}"
        );
    }
}

#[test]
fn every_bundled_experiment_is_deterministic_and_conserves_requests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    for f in files {
        let a = run(&f, 99);
        let b = run(&f, 99);
        for ((name, x), (_, y)) in a.iter().zip(&b) {
            let ctx = format!("{f} variant {name} (reproduce: cargo run --release -- run experiments/{f} --seed 99)");
            assert_eq!(
                x.summary.deterministic_json(),
                y.summary.deterministic_json(),
                "{ctx}"
            );
            assert_eq!(x.series.to_csv(), y.series.to_csv(), "{ctx}");
            let r = &x.summary.requests;
            assert_eq!(r.issued, r.succeeded + r.failed + r.in_flight, "{ctx}");
            for (k, v) in x.summary.figures() {
                // NaN exactly for no recovery and for a component the model does not have.
                assert_eq!(
                    v.is_nan(),
                    x.summary.is_absent_figure(&k)
                        || (k == "recovery_seconds" && x.summary.recovery_seconds.is_none()),
                    "{ctx}: {k}"
                );
            }
        }
    }
}
