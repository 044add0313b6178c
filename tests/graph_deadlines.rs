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
//! request (`propagate_deadlines`). FIFO with deadlines stops the wasted work but still
//! serves each live call after it has waited almost its whole timeout; LIFO with deadlines
//! both recovers the goodput and drops the stale calls unserved.

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
fn propagated_deadlines_stop_the_work_for_gone_clients_and_with_lifo_end_the_spiral() {
    const CHECK: &str = "model.services.backend.queue.deadline_check=true";
    const PROPAGATE: &str = "model.propagate_deadlines=true";
    const LIFO: &str = "model.services.backend.queue.discipline=Lifo";
    for seed in [1, 2, 3] {
        let exp = spiral_experiment(seed);
        let spiral = run(&exp, MODEL, &[]);
        let check_only = run(&exp, MODEL, &[CHECK]);
        let propagated = run(&exp, MODEL, &[CHECK, PROPAGATE]);
        let lifo = run(&exp, MODEL, &[LIFO]);
        let lifo_propagated = run(&exp, MODEL, &[LIFO, CHECK, PROPAGATE]);
        let late = |o: &RunOutput| late_goodput_share(o, 70);
        let wasted = |o: &RunOutput, key: &str| figure(o, key, "wasted");
        let shed = |o: &RunOutput| figure(o, "service.backend", "shed");
        for (name, o) in [
            ("spiral", &spiral),
            ("check only", &check_only),
            ("propagated", &propagated),
            ("lifo", &lifo),
            ("lifo propagated", &lifo_propagated),
        ] {
            eprintln!(
                "seed {seed} {name}: goodput share from 70 s {:.3}, goodput {:.0}/s, wasted_completions {}, backend wasted {} shed {}, db wasted {}, shed_expired {}",
                late(o),
                o.summary.goodput_rps,
                o.summary.wasted_completions,
                wasted(o, "service.backend"),
                shed(o),
                wasted(o, "db.main"),
                o.summary.shed_expired,
            );
        }
        // The surge tips the backend into the spiral for good: after it, a third of the
        // offered load gets through, and the backend and the database finish tens of
        // thousands of calls whose clients have gone.
        assert!(late(&spiral) < 0.5, "seed {seed}: {}", late(&spiral));
        assert!(wasted(&spiral, "service.backend") > 50_000.0, "seed {seed}");
        assert!(wasted(&spiral, "db.main") > 50_000.0, "seed {seed}");
        // A deadline check at the backend without propagation: its caller (the api) waits
        // for ever, so its queue knows no deadline and the run is the same run.
        assert_eq!(shed(&check_only), 0.0);
        let (c, sp) = (&check_only.summary, &spiral.summary);
        assert_eq!(
            (c.events, c.wasted_completions, c.requests.succeeded),
            (sp.events, sp.wasted_completions, sp.requests.succeeded)
        );
        // Propagated: the backend drops what nobody waits for, at its queue and before
        // calling the database, so the database does (almost) no work for gone clients.
        // FIFO still serves the oldest live call first, which has waited nearly its whole
        // timeout: the spiral goes on, but the wasted work is gone.
        assert!(shed(&propagated) > 10_000.0, "seed {seed}");
        assert!(
            wasted(&propagated, "db.main") * 20.0 < wasted(&spiral, "db.main"),
            "seed {seed}"
        );
        assert!(
            propagated.summary.wasted_completions * 20 < spiral.summary.wasted_completions,
            "seed {seed}"
        );
        assert!(propagated.summary.shed_expired as f64 >= shed(&propagated));
        // LIFO serves the freshest call first: goodput is back after the surge, but the
        // stale calls left behind are still served whenever a worker is idle…
        assert!(late(&lifo) > 0.95, "seed {seed}: {}", late(&lifo));
        assert!(lifo.summary.wasted_completions > 1_000, "seed {seed}");
        // …unless their deadline travels with them: then they are dropped unserved.
        assert!(late(&lifo_propagated) > 0.95, "seed {seed}");
        assert!(shed(&lifo_propagated) > 1_000.0, "seed {seed}");
        assert!(
            lifo_propagated.summary.wasted_completions * 20 < lifo.summary.wasted_completions,
            "seed {seed}"
        );
        assert!(lifo_propagated.summary.goodput_rps > 3.0 * spiral.summary.goodput_rps);
        // Throughput counts every attempt the api finished, useful or not: in the spiral
        // most of it is for clients who have gone; without wasted work it is the goodput.
        let (sp, lp) = (&spiral.summary, &lifo_propagated.summary);
        assert!(sp.throughput_rps > 3.0 * sp.goodput_rps, "seed {seed}");
        assert!(lp.throughput_rps < 1.02 * lp.goodput_rps, "seed {seed}");
        assert!(lp.throughput_rps > 0.98 * lp.goodput_rps, "seed {seed}");
    }
}

#[test]
fn a_deadline_check_at_the_first_service_needs_no_propagation() {
    // One slow service called by the clients: its queue knows the client's deadline.
    let model = r#"System(
    services: {
        "api": Service(instances: 3, workers: 40, service: Exp(mean: "50ms"),
                       slowdown: Linear(k: 1.0, max_factor: 2.0), queue: Queue(discipline: Lifo)),
    },
    databases: {
        "main": Database(workers: 64, read: Exp(mean: "2ms"), write: Exp(mean: "2ms")),
    },
    requests: {"order": [Call("api"), Write("main")]},
)"#;
    for seed in [1, 2] {
        let exp = spiral_experiment(seed);
        let lifo = run(&exp, model, &[]);
        let checked = run(
            &exp,
            model,
            &["model.services.api.queue.deadline_check=true"],
        );
        let late = |o: &RunOutput| late_goodput_share(o, 70);
        let wasted = |o: &RunOutput| figure(o, "service.api", "wasted");
        eprintln!(
            "seed {seed}: lifo {:.3} wasted {}, checked {:.3} wasted {} shed {}",
            late(&lifo),
            wasted(&lifo),
            late(&checked),
            wasted(&checked),
            figure(&checked, "service.api", "shed")
        );
        assert!(late(&checked) > 0.95, "seed {seed}: {}", late(&checked));
        assert!(figure(&checked, "service.api", "shed") > 1_000.0);
        assert!(wasted(&lifo) > 1_000.0, "seed {seed}");
        assert!(wasted(&checked) * 20.0 < wasted(&lifo), "seed {seed}");
        assert_eq!(figure(&lifo, "service.api", "shed"), 0.0);
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
