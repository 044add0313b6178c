//! Graph populations say what the single-tier workload and clients say, with the same
//! meaning: a closed population whose active share follows a shape, an open one that stops
//! after `max_requests`, and clients whose retries carry idempotency keys. Each is checked
//! on the graph of a single-tier file (which is how a single-tier file runs) on several
//! seeds, against the figures the former single-tier engine gave, and on a graph model file.

mod common;

use common::column;
use scalesim::config::shorthand::as_graph;
use scalesim::config::{single_run_from_texts, single_run_with_overrides, Override};
use scalesim::{run_config, RunOutput};

/// One node with more workers than there are users: a request takes 10 ms and never queues.
const WIDE_NODE: &str =
    r#"System(nodes: Nodes(count: 1, workers: 2000, service: Exp(mean: "10ms")))"#;

/// The single-tier experiment `exp` on `model`, run as its graph (which must be able to
/// say it).
fn on_graph(exp: &str, model: &str) -> RunOutput {
    let cfg = single_run_from_texts(exp, model).expect("a valid experiment");
    let graph = as_graph(&cfg).unwrap_or_else(|e| panic!("the graph cannot say it: {e}"));
    scalesim::graph::run_single_tier(&cfg, &graph, None).expect("runs on the graph")
}

fn ramp_experiment(seed: u64) -> String {
    format!(
        r#"Experiment(
    duration: "90s",
    seed: {seed},
    metrics_interval: "5s",
    workload: Users(
        count: 1000,
        think: Exp(mean: "1s"),
        shape: Piecewise(points: [("0s", 0.2), ("60s", 1.0)]),
    ),
)"#
    )
}

/// The share of users active `t_s` seconds into the ramp above.
fn ramp_share(t_s: f64) -> f64 {
    0.2 + 0.8 * (t_s / 60.0).min(1.0)
}

#[test]
fn a_ramping_user_population_issues_as_the_single_tier_one_does() {
    // Users active by the ramp for 90 s, each sending every 1.01 s while active:
    // 1000 × (60 × 0.6 + 30 × 1.0) / 1.01 ≈ 65,300 requests (90,000 without the shape).
    let expected = 1000.0 * (60.0 * 0.6 + 30.0) / 1.01;
    for seed in [1, 2, 3] {
        let graph = on_graph(&ramp_experiment(seed), WIDE_NODE);
        let g = graph.summary.requests.issued as f64;
        eprintln!("seed {seed}: issued {g}, expected {expected:.0}");
        assert!((g / expected - 1.0).abs() < 0.02, "seed {seed}: graph {g}");
    }
}

#[test]
fn the_active_users_of_a_graph_population_follow_its_shape() {
    let model = r#"System(
    services: {"web": Service(instances: 1, workers: 2000, service: Exp(mean: "10ms"))},
    requests: {"get": [Call("web")]},
)"#;
    for seed in [1, 2, 3] {
        let exp = format!(
            r#"Experiment(model: "m.ron", duration: "90s", seed: {seed}, metrics_interval: "10s",
    populations: {{
        "shoppers": Population(
            workload: Users(
                count: 1000,
                think: Exp(mean: "1s"),
                shape: Piecewise(points: [("0s", 0.2), ("60s", 1.0)]),
            ),
            mix: {{"get": 1.0}},
        ),
    }},
)"#
        );
        let out = run_config(&single_run_from_texts(&exp, model).expect("valid")).expect("runs");
        let offered = column(&out, "population.shoppers", "offered_per_s");
        assert_eq!(offered.len(), 9);
        eprintln!("seed {seed}: {offered:.0?}");
        // Each 10 s interval: the users active at its middle (the mean over a linear
        // piece), each sending every 1.01 s; a count of some 3,000 to 10,000 requests, so
        // a few percent of noise. The first interval lags: users woken by the ramp start
        // with a think time.
        for (i, rate) in offered.iter().enumerate().skip(1) {
            let want = 1000.0 * ramp_share(i as f64 * 10.0 + 5.0) / 1.01;
            assert!(
                (rate / want - 1.0).abs() < 0.05,
                "seed {seed}: interval {i}: {rate:.0}/s, want {want:.0}/s"
            );
        }
    }
}

#[test]
fn users_the_shape_puts_to_sleep_for_good_stop_and_the_run_ends_cleanly() {
    // Everyone active for 20 s, nobody after: traffic stops, which is no stuck user.
    for seed in [1, 2, 3] {
        let exp = format!(
            r#"Experiment(duration: "40s", seed: {seed}, metrics_interval: "5s",
    workload: Users(count: 500, think: Exp(mean: "1s"), shape: Step(at: "20s", factor: 0.0)))"#
        );
        let graph = on_graph(&exp, WIDE_NODE);
        let g = graph.summary.requests.issued;
        // 500 users × 20 s / 1.01 s ≈ 9,900.
        assert!((g as f64 / 9_900.0 - 1.0).abs() < 0.03, "seed {seed}: {g}");
        assert_eq!(graph.summary.requests.failed, 0);
        let offered = column(&graph, "population.clients", "offered_per_s");
        assert!(offered[3] > 400.0, "seed {seed}: {offered:?}");
        assert!(
            offered[4..].iter().all(|&x| x == 0.0),
            "seed {seed}: {offered:?}"
        );
    }
}

#[test]
fn max_requests_caps_an_open_population_exactly_and_the_run_then_ends() {
    for seed in [1, 2, 3] {
        let exp = format!(
            r#"Experiment(duration: "60s", seed: {seed},
    workload: Open(rate_per_s: 200.0, max_requests: Some(1234)))"#
        );
        let out = on_graph(&exp, WIDE_NODE);
        let r = &out.summary.requests;
        assert_eq!(r.issued, 1234, "seed {seed}");
        assert_eq!(r.succeeded, 1234, "seed {seed}");
        // 1234 arrivals at 200/s take about 6.2 s: the run stops once they have ended, not
        // at 60 s (1 s intervals).
        let rows = out.series.rows.len();
        assert!((6..=8).contains(&rows), "seed {seed}: {rows} intervals");
    }
    // On a graph model file too.
    let model = r#"System(
    services: {"web": Service(instances: 1, workers: 64, service: Exp(mean: "10ms"))},
    requests: {"get": [Call("web")]},
)"#;
    let exp = r#"Experiment(model: "m.ron", duration: "60s", seed: 4, populations: {
    "c": Population(workload: Open(rate_per_s: 200.0, max_requests: Some(777)), mix: {"get": 1.0}),
})"#;
    let out = run_config(&single_run_from_texts(exp, model).expect("valid")).expect("runs");
    assert_eq!(out.summary.requests.issued, 777);
    assert_eq!(out.summary.components["population.c"]["issued"], 777.0);
    // And through `--set`.
    let set = Override::parse_flag("populations.c.workload.max_requests=Some(50)").unwrap();
    let cfg = single_run_with_overrides(exp, model, &[set]).expect("valid");
    assert_eq!(run_config(&cfg).expect("runs").summary.requests.issued, 50);
}

/// Attempts time out after 300 ms and are retried 2 s later; the node takes Exp(100 ms),
/// so about e^-3 ≈ 5% of first attempts time out, and every one of those has been served
/// by the time its retry comes (P(service > 2.3 s) = e^-23).
fn keyed_experiment(seed: u64, keys: bool) -> String {
    format!(
        r#"Experiment(duration: "60s", seed: {seed},
    workload: Open(rate_per_s: 500.0),
    clients: Clients(
        timeout: "300ms",
        retry: Retry(max_attempts: 2, backoff: Constant(delay: "2s")),
        idempotency_keys: {keys},
    ),
)"#
    )
}

const NARROW_NODE: &str =
    r#"System(nodes: Nodes(count: 1, workers: 2000, service: Exp(mean: "100ms")))"#;

#[test]
fn idempotency_keys_mean_on_the_graph_what_they_mean_in_the_single_tier_form() {
    for seed in [1, 2, 3] {
        let graph = on_graph(&keyed_experiment(seed, false), NARROW_NODE);
        let gd = graph.summary.duplicate_executions;
        eprintln!("seed {seed}: duplicates without keys: {gd}");
        // 30,000 requests, about 5% retried after their first attempt was served (the
        // former single-tier engine's bounds, which held for it on these seeds).
        assert!(gd > 1_200 && gd < 1_800, "seed {seed}: {gd}");
        assert_eq!(graph.summary.idempotent_replays, 0);

        let graph = on_graph(&keyed_experiment(seed, true), NARROW_NODE);
        let gr = graph.summary.idempotent_replays;
        eprintln!("seed {seed}: replays with keys: {gr}");
        assert_eq!(graph.summary.duplicate_executions, 0, "seed {seed}");
        // Every replay is answered from the record: the retried requests succeed.
        assert!(gr > 1_200 && gr < 1_800, "seed {seed}: {gr}");
        assert_eq!(graph.summary.requests.failed, 0, "seed {seed}");
    }
}
