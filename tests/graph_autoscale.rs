//! What a graph service can say that only the single-tier form could before: an
//! autoscaler on its own metric, a balancer's slow start, a price per instance-hour and
//! random instance failures. Each on several seeds, with the numbers.

mod common;

use common::{column, figure};
use scalesim::config::single_run_from_texts;
use scalesim::{run_config, RunOutput};

/// Variant `variant` of the experiment at `file` under `seed`.
fn run_file(file: &str, variant: &str, seed: u64) -> RunOutput {
    common::run_variant(file, variant, seed, &[])
}

fn run_texts(exp: &str, model: &str, seed: u64) -> RunOutput {
    let cfg = single_run_from_texts(exp, model)
        .unwrap_or_else(|e| panic!("valid: {e}"))
        .with_seed(seed);
    run_config(&cfg).expect("runs")
}

#[test]
fn a_cpu_rule_without_cooldown_runs_away_and_a_latency_rule_with_cooldown_does_not() {
    let file = "experiments/graph_autoscaler_runaway.ron";
    for seed in [1, 2, 3] {
        let cpu = run_file(file, "cpu-no-cooldown", seed);
        let lat = run_file(file, "latency-cooldown", seed);
        let peak = |o: &RunOutput| figure(o, "service.web", "peak_instances");
        let cost = |o: &RunOutput| figure(o, "service.web", "cost");
        eprintln!(
            "seed {seed}: peak instances {} vs {}, cost {:.3} vs {:.3}",
            peak(&cpu),
            peak(&lat),
            cost(&cpu),
            cost(&lat)
        );
        // The sale needs about 12 instances (1,800/s × 40 ms over 16 workers at 37%);
        // the CPU rule orders two every 10 s for the 90 s each takes to arrive.
        assert!(peak(&cpu) >= 30.0, "seed {seed}: cpu peak {}", peak(&cpu));
        assert!(
            peak(&lat) <= 6.0,
            "seed {seed}: latency peak {}",
            peak(&lat)
        );
        assert!(
            cost(&cpu) > 2.5 * cost(&lat),
            "seed {seed}: cost {} vs {}",
            cost(&cpu),
            cost(&lat)
        );
        let on = column(&cpu, "service.web", "instances_on");
        // Nothing is ordered before the sale (3 m): four instances, 37% busy.
        assert!(on[..170].iter().all(|&n| n == 4.0), "seed {seed}: {on:?}");
        // The peak comes after the load has levelled, and scale-in then takes the
        // instances away again, down towards the floor.
        let at_peak = on.iter().position(|&n| n == peak(&cpu)).unwrap();
        assert!(at_peak > 240, "seed {seed}: peak at {at_peak} s");
        assert!(
            *on.last().unwrap() < peak(&cpu) / 2.0,
            "seed {seed}: {on:?}"
        );
        // Instance-hours are the integral of the instances on (1 s intervals).
        for o in [&cpu, &lat] {
            let hours = figure(o, "service.web", "instance_hours");
            let integral: f64 =
                column(o, "service.web", "instances_on").iter().sum::<f64>() / 3600.0;
            assert!(
                (hours - integral).abs() < 0.02 * hours,
                "seed {seed}: {hours} h vs series {integral} h"
            );
            assert_eq!(cost(o), hours * 0.40, "seed {seed}");
            // One service: the run's single-tier totals are its own.
            assert_eq!(o.summary.cost.total, cost(o), "seed {seed}");
            assert_eq!(o.summary.cost.peak_nodes as f64, peak(o), "seed {seed}");
            assert_eq!(o.summary.cost.price_per_node_hour, 0.40, "seed {seed}");
        }
    }
}

/// A 4-instance service behind round robin; instance 0 crashes at 10 s and is back up at
/// 13 s (2 s repair, 1 s start-up). From 13 s every call it takes fails fast, so the
/// service's errors per second are the calls sent to it.
const SLOW_MODEL: &str = r#"System(
    services: {"web": Service(instances: 4, workers: 16, service: Exp(mean: "5ms"), startup: "1s",
                              balancer: Balancer(policy: RoundRobin, slow_start: "4s"))},
    requests: {"get": [Call("web")]},
)"#;

const SLOW_EXP: &str = r#"Experiment(
    duration: "20s",
    populations: {"clients": Population(workload: Open(rate_per_s: 4000.0), mix: {"get": 1.0})},
    faults: [
        Crash(service: "web", instance: 0, at: "10s", restart_after: "2s"),
        FailRequests(service: "web", instance: 0, at: "13s", lasting: "7s", percent: 100.0),
    ],
)"#;

/// Instance 0's share of the calls in each second from 13 s.
fn restarted_share(model: &str, seed: u64) -> Vec<f64> {
    let out = run_texts(SLOW_EXP, model, seed);
    let served = column(&out, "service.web", "served_per_s");
    let errors = column(&out, "service.web", "errors_per_s");
    (13..20)
        .map(|s| errors[s] / (errors[s] + served[s]))
        .collect()
}

#[test]
fn slow_start_spreads_a_restarted_instances_ramp() {
    let without = SLOW_MODEL.replace(", slow_start: \"4s\"", "");
    for seed in [1, 2, 3] {
        let ramped = restarted_share(SLOW_MODEL, seed);
        let at_once = restarted_share(&without, seed);
        eprintln!(
            "seed {seed}: share from 13 s with slow start {ramped:.3?}, without {at_once:.3?}"
        );
        // Without slow start it takes its quarter from the first second.
        for (s, x) in at_once.iter().enumerate() {
            assert!((x - 0.25).abs() < 0.02, "seed {seed}: {} s: {x}", 13 + s);
        }
        // With a 4 s ramp: a small share in the first second, growing each second,
        // and a full quarter once the ramp is over.
        assert!(ramped[0] < 0.06, "seed {seed}: {ramped:?}");
        for w in ramped[..4].windows(2) {
            assert!(w[1] > w[0] + 0.02, "seed {seed}: {ramped:?}");
        }
        assert!(ramped[3] < 0.24, "seed {seed}: {ramped:?}");
        for x in &ramped[4..] {
            assert!((x - 0.25).abs() < 0.02, "seed {seed}: {ramped:?}");
        }
    }
}

const COST_MODEL: &str = r#"System(
    services: {
        "web": Service(instances: 3, workers: 4, service: Exp(mean: "5ms"), price_per_instance_hour: 0.25),
        "api": Service(instances: 2, workers: 4, service: Exp(mean: "5ms")),
    },
    requests: {"get": [Call("web"), Call("api")]},
)"#;

#[test]
fn a_fixed_size_services_cost_is_its_instance_hours_times_its_price() {
    // A crashed instance is still provisioned: it costs as much as a serving one.
    let exp = r#"Experiment(
        duration: "60s",
        warmup: "10s",
        populations: {"clients": Population(workload: Open(rate_per_s: 100.0), mix: {"get": 1.0})},
        faults: [Crash(service: "web", instance: 2, at: "5s")],
    )"#;
    for seed in [1, 2] {
        let out = run_texts(exp, COST_MODEL, seed);
        let web = |n: &str| figure(&out, "service.web", n);
        let api = |n: &str| figure(&out, "service.api", n);
        assert_eq!(web("peak_instances"), 3.0);
        // 3 instances × 60 s, over the whole run (the warm-up included), as the
        // single-tier `cost`.
        assert_eq!(web("instance_hours"), 3.0 * 60e9 / 3.6e12);
        assert_eq!(web("cost"), web("instance_hours") * 0.25);
        // The default price, as the single-tier form's per node-hour.
        assert_eq!(api("instance_hours"), 2.0 * 60e9 / 3.6e12);
        assert_eq!(api("cost"), api("instance_hours") * 0.10);
        // The run's totals in the single-tier form's terms (in the Summary; the JSON
        // view of a graph run leaves the single-tier `cost` out).
        let c = &out.summary.cost;
        assert_eq!(c.total, web("cost") + api("cost"));
        assert_eq!(
            c.node_seconds,
            (web("instance_hours") + api("instance_hours")) * 3600.0
        );
        assert_eq!(c.peak_nodes, 5);
        assert_eq!(web("crashes"), 1.0);
        assert_eq!(web("random_failures"), 0.0);
    }
}

const FAILING_MODEL: &str = r#"System(
    services: {
        "web": Service(instances: 10, workers: 4, service: Exp(mean: "5ms"), startup: "1s"),
        "api": Service(instances: 4, workers: 4, service: Exp(mean: "5ms")),
    },
    requests: {"get": [Call("web"), Call("api")]},
)"#;

fn failing_exp(services: &str) -> String {
    format!(
        r#"Experiment(
        duration: "600s",
        populations: {{"clients": Population(workload: Open(rate_per_s: 200.0), mix: {{"get": 1.0}})}},
        random_failures: RandomFailures(time_to_failure: Exp(mean: "20s"), time_to_repair: Const(value: "2s"){services}),
    )"#
    )
}

#[test]
fn random_failures_crash_each_instance_at_the_drawn_rate_and_repair_it() {
    let all = failing_exp("");
    for seed in [1, 2, 3, 4] {
        let out = run_texts(&all, FAILING_MODEL, seed);
        // Each cycle is 20 s up on average, 2 s repair and 1 s start-up: 600 s / 23 s ≈
        // 26 failures per instance; the count's standard deviation over ten instances is
        // about 14.
        let web = figure(&out, "service.web", "random_failures");
        eprintln!(
            "seed {seed}: random failures web {web}, api {}",
            figure(&out, "service.api", "random_failures")
        );
        assert!(
            (261.0 - 45.0..=261.0 + 45.0).contains(&web),
            "seed {seed}: {web}"
        );
        // api's instances have no start-up: 600 s / 22 s ≈ 27 each.
        let api = figure(&out, "service.api", "random_failures");
        assert!(
            (109.0 - 30.0..=109.0 + 30.0).contains(&api),
            "seed {seed}: {api}"
        );
        assert_eq!(figure(&out, "service.web", "crashes"), web);
        // A crashed instance is down for 3 s of each 23 s cycle: about 13% of the web
        // instances are not up at any time.
        let up = column(&out, "service.web", "instances_up");
        let mean_up = up.iter().sum::<f64>() / up.len() as f64;
        assert!(
            (mean_up - 10.0 * 20.0 / 23.0).abs() < 0.5,
            "seed {seed}: {mean_up}"
        );
        // Same seed, same outputs.
        let again = run_texts(&all, FAILING_MODEL, seed);
        assert_eq!(
            format!("{:?}", again.summary.figures()),
            format!("{:?}", out.summary.figures()),
            "seed {seed}"
        );
    }
    // Naming a service fails only its instances; the draws of a service do not depend
    // on the other's (keyed by service and instance).
    let only_web = failing_exp(", services: [\"web\"]");
    for seed in [1, 2] {
        let out = run_texts(&only_web, FAILING_MODEL, seed);
        assert_eq!(figure(&out, "service.api", "random_failures"), 0.0);
        let both = run_texts(&all, FAILING_MODEL, seed);
        assert_eq!(
            figure(&out, "service.web", "random_failures"),
            figure(&both, "service.web", "random_failures"),
            "seed {seed}"
        );
    }
}

#[test]
fn the_autoscaler_and_failures_reach_through_set() {
    // `--set` reaches a service's autoscaler like any field: a ceiling of 4 keeps the
    // runaway at the four instances it starts with.
    let out = common::run_variant(
        "experiments/graph_autoscaler_runaway.ron",
        "cpu-no-cooldown",
        1,
        &["model.services.web.autoscaler.max_nodes=4"],
    );
    assert_eq!(figure(&out, "service.web", "peak_instances"), 4.0);
}
