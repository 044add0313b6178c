//! The autoscaler decides on data only: it holds until a whole window has been measured
//! and while a window has no data (no node up, no success), it never takes the serving
//! nodes below `min_nodes`, and nodes up from the start are warm. Its two experiments show
//! the behaviour their comments describe.

use scalesim::config::{self, load_experiment, Override};
use scalesim::RunOutput;
use std::path::Path;

mod common;

const MODEL: &str = r#"System(
    balancer: Balancer(policy: RoundRobin),
    nodes: Nodes(count: 6, workers: 8, queue_limit: 100, service: Exp(mean: "10ms")),
    dependency: Dependency(workers: 64, service: Exp(mean: "20ms")),
    autoscaler: Autoscaler(
        metric: @METRIC@,
        scale_out_above: @OUT@,
        scale_in_below: @IN@,
        every: "10s",
        window: "20s",
        cooldown: "0s",
        min_nodes: @MIN@,
        max_nodes: 10,
        step: 1,
        provisioning: "10s",
    ),
)"#;

/// 300 requests/s for 5 min; the database stalls (from 60 s for 60 s unless told otherwise).
const EXPERIMENT: &str = r#"Experiment(
    duration: "5m",
    seed: @SEED@,
    workload: Open(rate_per_s: 300.0),
    clients: Clients(timeout: "2s"),
    faults: [StallDependency(at: "@STALL_AT@", lasting: "@STALL_FOR@")],
)"#;

fn stalled(seed: u64, metric: &str, out: f64, inn: f64, min: u32) -> RunOutput {
    stalled_at(seed, metric, out, inn, min, ("60s", "60s"))
}

fn stalled_at(
    seed: u64,
    metric: &str,
    out: f64,
    inn: f64,
    min: u32,
    (at, lasting): (&str, &str),
) -> RunOutput {
    let model = MODEL
        .replace("@METRIC@", metric)
        .replace("@OUT@", &format!("{out:?}"))
        .replace("@IN@", &format!("{inn:?}"))
        .replace("@MIN@", &min.to_string());
    let exp = EXPERIMENT
        .replace("@SEED@", &seed.to_string())
        .replace("@STALL_AT@", at)
        .replace("@STALL_FOR@", lasting);
    let cfg = config::single_run_from_texts(&exp, &model).expect("valid");
    scalesim::run_config(&cfg).expect("runs")
}

#[test]
fn a_stalled_dependency_does_not_drain_the_fleet() {
    // Before: no success in a window read as a p99 of 0 ms ("fast"), and draining nodes
    // (stuck on the stalled calls) counted towards min_nodes, so all six were drained and
    // none came back.
    for seed in [1, 2, 3] {
        let out = stalled(seed, "LatencyP99", 500.0, 20.0, 2);
        let ctx = format!("(seed {seed})");
        for r in &out.series.rows {
            assert!(
                r.gauges.nodes_up >= 2,
                "{} nodes up at {} s {ctx}",
                r.gauges.nodes_up,
                r.t_s
            );
        }
        // No success during the stall, so no data: the autoscaler holds at 6.
        let during: Vec<u32> = out
            .series
            .rows
            .iter()
            .filter(|r| r.t_s >= 60.0 && r.t_s < 120.0)
            .map(|r| r.gauges.nodes_up)
            .collect();
        assert!(during.iter().all(|&n| n == 6), "{during:?} {ctx}");
        // After the stall the shop serves again.
        let (ok, offered) = out
            .series
            .rows
            .iter()
            .filter(|r| r.t_s >= 180.0)
            .fold((0, 0), |(a, b), r| (a + r.succeeded, b + r.offered));
        assert!(ok as f64 > 0.95 * offered as f64, "{ok} of {offered} {ctx}");
    }
}

#[test]
fn serving_nodes_never_fall_below_min_nodes() {
    // Thresholds that always want fewer nodes, for every metric, several seeds and floors,
    // through a stall from before the first evaluation that keeps draining nodes on (stuck
    // on their calls) for two minutes. Before: they counted towards min_nodes, so every
    // serving node was drained.
    let rules = [
        ("Cpu", 0.99, 0.98),
        ("LatencyP99", 100000.0, 50000.0),
        ("QueueLength", 10000.0, 5000.0),
    ];
    for (metric, out, inn) in rules {
        for min in [1, 2, 4] {
            for seed in [1, 2] {
                let run = stalled_at(seed, metric, out, inn, min, ("5s", "120s"));
                let low = run
                    .series
                    .rows
                    .iter()
                    .map(|r| (r.gauges.nodes_up, r.t_s))
                    .min_by_key(|&(n, _)| n)
                    .unwrap();
                assert!(
                    low.0 >= min,
                    "{metric} min_nodes {min} seed {seed}: {} serving at {} s",
                    low.0,
                    low.1
                );
                // It did scale in as far as it may.
                let last = run.series.rows.last().unwrap().gauges.nodes_up;
                assert_eq!(last, min, "{metric} min_nodes {min} seed {seed}");
            }
        }
    }
}

#[test]
fn a_window_shorter_than_the_period_is_refused() {
    let dir = std::env::temp_dir().join(format!("scalesim-autoscaler-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = MODEL
        .replace("@METRIC@", "Cpu")
        .replace("@OUT@", "0.8")
        .replace("@IN@", "0.2")
        .replace("@MIN@", "2")
        .replace("window: \"20s\"", "window: \"5s\"");
    std::fs::write(dir.join("m.ron"), &model).unwrap();
    let exp = EXPERIMENT
        .replace("@SEED@", "1")
        .replace("@STALL_AT@", "60s")
        .replace("@STALL_FOR@", "60s")
        .replace("Experiment(", "Experiment(model: \"m.ron\",");
    std::fs::write(dir.join("e.ron"), exp).unwrap();
    let Err(err) = load_experiment(&dir.join("e.ron"), &[]) else {
        panic!("a window shorter than `every` was accepted");
    };
    let text = err.to_string();
    let line = model.lines().position(|l| l.contains("window")).unwrap() + 1;
    assert!(text.contains(&format!("m.ron:{line}")), "{text}");
    assert!(text.contains("model.autoscaler.window"), "{text}");
    assert!(text.contains("at least the evaluation period"), "{text}");
}

/// Nodes on at each interval start before `before_s`.
fn nodes_on_before(out: &RunOutput, before_s: f64) -> Vec<u32> {
    out.series
        .rows
        .iter()
        .filter(|r| r.t_s < before_s)
        .map(|r| r.gauges.nodes_on)
        .collect()
}

#[test]
fn busy_nodes_are_not_scaled_in_at_the_first_evaluation() {
    // Before: the first evaluation (10 s) read a CPU of 0 and took a node away from a shop
    // whose workers were all busy.
    for seed in [5, 6] {
        let runs = common::run_experiment("cold_nodes.ron", seed, &[]);
        for (name, out) in &runs {
            let early = nodes_on_before(out, 60.0);
            assert!(
                early.iter().all(|&n| n == 4),
                "{name} seed {seed}: {early:?}"
            );
        }
    }
}

#[test]
fn nodes_up_from_the_start_are_warm() {
    // The runaway's model has a 3× cold start: before, the four nodes up at t=0 served
    // three times slower for the first minute too.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/autoscaler_runaway.ron");
    let sets = [Override::parse_flag("duration=2m").unwrap()];
    let exp = load_experiment(&path, &sets).unwrap();
    let out = scalesim::run_config(&exp.runs[0]).unwrap();
    // 600/s × 40 ms = 24 busy workers of 64 (0.375), from the first second.
    let first_minute: Vec<f64> = out
        .series
        .rows
        .iter()
        .filter(|r| r.t_s < 60.0)
        .map(|r| r.gauges.busy_workers.iter().sum::<u64>() as f64)
        .collect();
    let mean = first_minute.iter().sum::<f64>() / first_minute.len() as f64;
    assert!(
        (18.0..30.0).contains(&mean),
        "{mean} busy workers in the first minute"
    );
    // The time series carries the metric the autoscaler last saw (its CPU rule: the busy
    // share of the serving workers, about 0.375 before the load grows).
    let metric: Vec<f64> = out
        .series
        .rows
        .iter()
        .filter(|r| (30.0..60.0).contains(&r.t_s))
        .map(|r| r.gauges.autoscaler_metric)
        .collect();
    assert!(
        metric.iter().all(|m| (0.25..0.5).contains(m)),
        "autoscaler metric {metric:?}"
    );
}
