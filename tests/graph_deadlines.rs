//! Deadlines, deadline checks and idempotency keys in the graph form, each on several
//! seeds with the numbers it shows.
//!
//! The death spiral on a graph: an `api` service calls a `backend` whose service time
//! grows with its utilisation (Linear, up to 2×) and which writes to a database. Clients
//! send 1000 requests/s, time out after 2 s and retry (3 attempts); a 10-second surge to
//! 1600/s fills the backend's queue past the timeout, and then the backend serves
//! attempts whose clients have gone while their retries queue behind them. The `api`
//! waits for its calls for ever, so the backend's queue alone never learns the client's
//! deadline: a `deadline_check` there drops nothing unless the deadline travels with the
//! request (`propagate_deadlines`).

use scalesim::config::{single_run_with_overrides, Override};
use scalesim::{run_config, RunOutput};

const MODEL: &str = r#"System(
    services: {
        "api": Service(instances: 2, workers: 50000, service: Exp(mean: "1ms")),
        "backend": Service(
            instances: 3,
            workers: 40,
            service: Exp(mean: "50ms"),
            slowdown: Linear(k: 1.0, max_factor: 2.0),
        ),
    },
    databases: {
        "main": Database(workers: 64, read: Exp(mean: "2ms"), write: Exp(mean: "2ms")),
    },
    requests: {
        "order": [Call("api"), Call("backend"), Write("main")],
    },
)"#;

fn spiral_experiment(seed: u64) -> String {
    format!(
        r#"Experiment(
    model: "m.ron",
    duration: "120s",
    warmup: "10s",
    seed: {seed},
    populations: {{
        "clients": Population(
            workload: Open(rate_per_s: 1000.0, shape: Piecewise(points: [
                ("0s", 1.0), ("30s", 1.0), ("31s", 1.6), ("40s", 1.6), ("41s", 1.0),
            ])),
            mix: {{"order": 1.0}},
            timeout: "2s",
            retry: Retry(max_attempts: 3),
        ),
    }},
)"#
    )
}

fn run(experiment: &str, model: &str, sets: &[&str]) -> RunOutput {
    let sets: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse_flag(s).expect("a valid --set"))
        .collect();
    let cfg = single_run_with_overrides(experiment, model, &sets).expect("a valid experiment");
    run_config(&cfg).expect("runs")
}

fn figure(out: &RunOutput, key: &str, name: &str) -> f64 {
    out.summary.components[key][name]
}

/// Goodput over offered of the population from `from` s to the end (1 s intervals).
fn late_goodput_share(out: &RunOutput, from: usize) -> f64 {
    let s = out
        .series
        .components
        .iter()
        .find(|c| c.key == "population.clients")
        .expect("the population's series");
    let col = |name: &str| {
        let i = s
            .schema
            .series
            .iter()
            .position(|m| m.name == name)
            .expect("a column");
        s.rows[from..].iter().map(|r| r[i]).sum::<f64>()
    };
    col("goodput_per_s") / col("offered_per_s")
}

#[test]
fn propagated_deadlines_with_a_deadline_check_end_the_death_spiral() {
    for seed in [1, 2, 3] {
        let exp = spiral_experiment(seed);
        let spiral = run(&exp, MODEL, &[]);
        // A deadline check alone at the backend: its caller (the api) waits for ever, so
        // the queue knows no deadline and drops nothing.
        let check_only = run(
            &exp,
            MODEL,
            &["model.services.backend.queue.deadline_check=true"],
        );
        let shed = run(
            &exp,
            MODEL,
            &[
                "model.services.backend.queue.deadline_check=true",
                "model.propagate_deadlines=true",
            ],
        );
        let late = |o: &RunOutput| late_goodput_share(o, 70);
        let wasted = |o: &RunOutput| figure(o, "service.backend", "wasted");
        eprintln!(
            "seed {seed}: goodput share from 70 s: spiral {:.3}, check only {:.3}, propagated {:.3}; \
             backend wasted {} / {} / {}; wasted_completions {} / {} / {}; shed {}; db wasted {} / {}",
            late(&spiral),
            late(&check_only),
            late(&shed),
            wasted(&spiral),
            wasted(&check_only),
            wasted(&shed),
            spiral.summary.wasted_completions,
            check_only.summary.wasted_completions,
            shed.summary.wasted_completions,
            figure(&shed, "service.backend", "shed"),
            figure(&spiral, "db.main", "wasted"),
            figure(&shed, "db.main", "wasted"),
        );
        // Without propagation the surge tips the backend into the spiral for good.
        assert!(late(&spiral) < 0.5, "seed {seed}: {}", late(&spiral));
        assert!(
            late(&check_only) < 0.5,
            "seed {seed}: {}",
            late(&check_only)
        );
        assert_eq!(figure(&check_only, "service.backend", "shed"), 0.0);
        assert!(
            wasted(&spiral) > 50_000.0,
            "seed {seed}: {}",
            wasted(&spiral)
        );
        assert!(figure(&spiral, "db.main", "wasted") > 50_000.0);
        // With the deadline travelling, the backend drops what nobody waits for, and
        // goodput is back to the offered load after the surge.
        assert!(late(&shed) > 0.97, "seed {seed}: {}", late(&shed));
        assert!(figure(&shed, "service.backend", "shed") > 1000.0);
        assert!(
            wasted(&shed) < wasted(&spiral) / 20.0,
            "seed {seed}: {} vs {}",
            wasted(&shed),
            wasted(&spiral)
        );
        assert!(
            shed.summary.wasted_completions * 10 < spiral.summary.wasted_completions,
            "seed {seed}"
        );
        assert!(shed.summary.goodput_rps > 1.3 * spiral.summary.goodput_rps);
        assert!(shed.summary.shed_expired > 0);
    }
}

#[test]
fn a_deadline_check_at_the_first_service_needs_no_propagation() {
    // The api's own queue knows its client's deadline: cut the api to the backend's size
    // (so the api's queue is where requests wait) and a deadline check there sheds.
    let model = MODEL.replace(
        r#""api": Service(instances: 2, workers: 50000, service: Exp(mean: "1ms")),"#,
        r#""api": Service(instances: 3, workers: 40, service: Exp(mean: "50ms"), slowdown: Linear(k: 1.0, max_factor: 2.0)),"#,
    );
    for seed in [1, 2] {
        let exp = spiral_experiment(seed);
        let spiral = run(&exp, &model, &[]);
        let checked = run(
            &exp,
            &model,
            &["model.services.api.queue.deadline_check=true"],
        );
        let late = |o: &RunOutput| late_goodput_share(o, 70);
        eprintln!(
            "seed {seed}: spiral {:.3} checked {:.3}, api shed {}",
            late(&spiral),
            late(&checked),
            figure(&checked, "service.api", "shed")
        );
        assert!(late(&spiral) < 0.5, "seed {seed}: {}", late(&spiral));
        assert!(late(&checked) > 0.97, "seed {seed}: {}", late(&checked));
        assert!(figure(&checked, "service.api", "shed") > 1000.0);
    }
}

/// Payments: a write that sometimes finishes after the client's 400 ms timeout, so the
/// client retries a payment whose first attempt was applied.
const PAY_MODEL: &str = r#"System(
    services: {
        "api": Service(instances: 2, workers: 64, service: Exp(mean: "1ms")),
    },
    databases: {
        "ledger": Database(workers: 64, read: Exp(mean: "5ms"), write: Exp(mean: "200ms")),
    },
    requests: {
        "pay": [Call("api"), Write("ledger")],
    },
)"#;

fn pay_experiment(seed: u64, keys: bool) -> String {
    format!(
        r#"Experiment(
    model: "m.ron",
    duration: "30s",
    seed: {seed},
    populations: {{
        "payers": Population(
            workload: Open(rate_per_s: 100.0),
            mix: {{"pay": 1.0}},
            timeout: "400ms",
            retry: Retry(max_attempts: 3),
            idempotency_keys: {keys},
        ),
    }},
)"#
    )
}

#[test]
fn retried_writes_apply_twice_without_idempotency_keys_and_once_with_them() {
    for seed in [1, 2, 3] {
        let plain = run(&pay_experiment(seed, false), PAY_MODEL, &[]);
        let keyed = run(&pay_experiment(seed, true), PAY_MODEL, &[]);
        let (p, k) = (&plain.summary, &keyed.summary);
        eprintln!(
            "seed {seed}: duplicates {} vs {}, replays {} vs {}, retries {} vs {}",
            p.duplicate_executions,
            k.duplicate_executions,
            p.idempotent_replays,
            k.idempotent_replays,
            p.retries,
            k.retries
        );
        // Exp(200 ms) writes pass 400 ms for e^-2 ≈ 13.5% of attempts: about 3000 pays in
        // 30 s, some hundreds retried after their write was applied.
        assert!(p.duplicate_executions > 100, "seed {seed}: {p:?}");
        assert_eq!(p.idempotent_replays, 0);
        assert_eq!(k.duplicate_executions, 0, "seed {seed}");
        assert!(k.idempotent_replays > 100, "seed {seed}");
        // The database applies fewer writes with keys: each replay answered from its record.
        let writes = |o: &RunOutput| figure(o, "db.ledger", "writes");
        assert!(writes(&keyed) < writes(&plain), "seed {seed}");
    }
}

#[test]
fn wait_ms_is_the_queue_wait_of_the_successful_attempt() {
    // One instance, one worker, 1 ms of work: requests every 0.5 ms on average queue.
    let model = r#"System(
    services: {"one": Service(instances: 1, workers: 1, service: Const(value: "1ms"))},
    requests: {"get": [Call("one")]},
)"#;
    let exp = |rate: f64| {
        format!(
            r#"Experiment(model: "m.ron", duration: "20s", seed: 4, populations: {{
    "c": Population(workload: Open(rate_per_s: {rate}), mix: {{"get": 1.0}}),
}})"#
        )
    };
    let light = run(&exp(100.0), model, &[]);
    let heavy = run(&exp(800.0), model, &[]);
    // M/D/1: mean wait ρ·s / (2(1−ρ)): 0.1 → 0.056 ms; 0.8 → 2 ms.
    let (l, h) = (light.summary.wait_ms.mean, heavy.summary.wait_ms.mean);
    eprintln!("wait_ms.mean at ρ 0.1: {l:.4}, at ρ 0.8: {h:.4}");
    assert!(l > 0.02 && l < 0.1, "{l}");
    assert!(h > 1.6 && h < 2.4, "{h}");
    // Latency is wait plus the 1 ms of work.
    let lat = heavy.summary.latency_ms.mean;
    assert!((lat - h - 1.0).abs() < 0.05, "latency {lat} vs wait {h}");
}
