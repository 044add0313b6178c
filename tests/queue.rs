//! A message-queue topic (Kafka-like, at-least-once) in a graph model, on several seeds:
//! without faults every message is consumed once; a consumer instance crashing mid-stream
//! makes the messages handled since the last commit be handled again (duplicates); a
//! consumer outage grows the backlog and the lag, and the backlog is replayed once the
//! consumer is back.
//!
//! The model: clients place orders (`[Call("api"), Produce("orders")]`) at 100/s for 40 s,
//! then stop; the topic's 4 partitions are consumed by `worker` (`[Call("worker"),
//! Write("main")]`, ~8 ms a message, so ~500 messages/s in all); the run lasts 60 s, so
//! the topic has 20 s to drain.

mod common;

use indexmap::IndexMap;
use scalesim::config::load_experiment;
use scalesim::{run_config, RunOutput};

/// The model, with `topic` (RON fields) added to the topic's own.
fn model(topic: &str) -> String {
    MODEL.replace(
        "handler: \"handle_order\"",
        &format!("handler: \"handle_order\", {topic}"),
    )
}

const MODEL: &str = r#"System(
    services: {
        "api": Service(instances: 2, workers: 32, service: Exp(mean: "2ms")),
        "worker": Service(instances: 2, workers: 8, service: Exp(mean: "4ms")),
    },
    databases: {
        "main": Database(workers: 16, read: Exp(mean: "2ms"), write: Exp(mean: "4ms")),
    },
    queues: {
        "orders": Topic(partitions: 4, consumer: "worker", handler: "handle_order"),
    },
    requests: {
        "place_order": [Call("api"), Produce("orders")],
        "handle_order": [Call("worker"), Write("main")],
    },
)
"#;

const SEEDS: [u64; 3] = [1, 2, 3];

/// Runs the queue experiment with `faults` (RON list items) under `seed`.
fn run(name: &str, seed: u64, faults: &str) -> RunOutput {
    run_with(name, seed, "", faults)
}

/// Writes the queue experiment (`topic` fields added to the topic, `faults`) in a scratch
/// folder; returns the experiment's path.
fn write(name: &str, seed: u64, topic: &str, faults: &str) -> std::path::PathBuf {
    let dir = common::cli::scratch(&format!("{name}-{seed}"));
    std::fs::write(dir.join("model.ron"), model(topic)).unwrap();
    let experiment = format!(
        r#"Experiment(
    model: "model.ron",
    duration: "60s",
    seed: {seed},
    metrics_interval: "1s",
    populations: {{
        "shoppers": Population(
            workload: Open(rate_per_s: 100, shape: Step(at: "40s", factor: 0.0)),
            mix: {{"place_order": 1.0}},
            timeout: "2s",
        ),
    }},
    faults: [{faults}],
)
"#
    );
    let path = dir.join("experiment.ron");
    std::fs::write(&path, experiment).unwrap();
    path
}

/// Runs the queue experiment with `topic` fields added to the topic and `faults`.
fn run_with(name: &str, seed: u64, topic: &str, faults: &str) -> RunOutput {
    let path = write(name, seed, topic, faults);
    let exp = load_experiment(&path, &[]).expect("the queue experiment loads");
    run_config(&exp.runs[0]).expect("runs")
}

/// The topic's summary figures.
fn figures(out: &RunOutput) -> &IndexMap<String, f64> {
    out.summary
        .components
        .get("queue.orders")
        .expect("the topic reports its figures as queue.orders")
}

/// Handler runs that succeeded at the consumer service (its own count of served calls).
fn served_by_worker(out: &RunOutput) -> f64 {
    out.summary.components["service.worker"]["served"]
}

/// The topic's `column` of the time series, by interval.
fn column(out: &RunOutput, column: &str) -> Vec<f64> {
    let c = out
        .series
        .components
        .iter()
        .find(|c| c.key == "queue.orders")
        .expect("the topic has a time series");
    let i = c
        .schema
        .series
        .iter()
        .position(|m| m.name == column)
        .expect("a column of the queue schema");
    c.rows.iter().map(|r| r[i]).collect()
}

#[test]
fn without_faults_every_message_is_consumed_exactly_once() {
    for seed in SEEDS {
        let out = run("clean", seed, "");
        let f = figures(&out);
        let ctx = format!("seed {seed}: {f:?}");
        // 100/s for 40 s, every order published (the api never fails here).
        assert!((3600.0..4400.0).contains(&f["published"]), "{ctx}");
        assert_eq!(
            f["published"], out.summary.requests.succeeded as f64,
            "{ctx}"
        );
        assert_eq!(f["consumed"], f["published"], "{ctx}");
        assert_eq!(f["duplicates"], 0.0, "{ctx}");
        assert_eq!(f["redelivered"], 0.0, "{ctx}");
        assert_eq!(served_by_worker(&out), f["consumed"], "{ctx}");
        // Offsets are committed every second: a message waits at most about that long
        // for its commit.
        let lag = f["consumer_lag_ms_max"];
        assert!((900.0..1500.0).contains(&lag), "{ctx}");
        assert!(f["peak_backlog"] < 250.0, "{ctx}");
        let backlog = column(&out, "backlog");
        assert_eq!(backlog.last(), Some(&0.0), "drained at the end: {ctx}");
        let consumed = column(&out, "consumed_per_s");
        let mid = consumed[10..30].iter().sum::<f64>() / 20.0;
        assert!((80.0..120.0).contains(&mid), "consumed {mid}/s {ctx}");
    }
}

#[test]
fn a_consumer_crash_mid_stream_redelivers_and_duplicates() {
    let crash = r#"Crash(service: "worker", instance: 0, at: "15s", restart_after: "5s")"#;
    for seed in SEEDS {
        let out = run("crash", seed, crash);
        let f = figures(&out);
        let ctx = format!("seed {seed}: {f:?}");
        assert!((3600.0..4400.0).contains(&f["published"]), "{ctx}");
        // At-least-once: every message consumed by the end, some of them twice.
        assert_eq!(f["consumed"], f["published"], "{ctx}");
        assert!(f["duplicates"] > 0.0, "{ctx}");
        assert!(f["redelivered"] >= f["duplicates"], "{ctx}");
        // The worker's own count agrees: every success is a first handling or a duplicate.
        let handled = f["consumed"] + f["duplicates"];
        assert_eq!(served_by_worker(&out), handled, "{ctx}");
        assert_eq!(column(&out, "backlog").last(), Some(&0.0), "{ctx}");
    }
}

#[test]
fn committing_every_message_leaves_no_duplicates() {
    // The same crash, with each message committed as soon as it is handled: only the
    // message out at the crashed instance (or refused by it) is delivered again, and it
    // had not succeeded before.
    let crash = r#"Crash(service: "worker", instance: 0, at: "15s", restart_after: "5s")"#;
    for seed in SEEDS {
        let out = run_with("commit-each", seed, r#"commit_every: "0s""#, crash);
        let f = figures(&out);
        let ctx = format!("seed {seed}: {f:?}");
        assert_eq!(f["duplicates"], 0.0, "{ctx}");
        assert!(f["redelivered"] > 0.0, "{ctx}");
        assert_eq!(f["consumed"], f["published"], "{ctx}");
        assert_eq!(served_by_worker(&out), f["consumed"], "{ctx}");
    }
}

#[test]
fn the_producer_waits_for_the_publish_time_not_for_consumption() {
    // 20 s without a consumer do not slow the producer down; a 30 ms publish time does.
    let outage = r#"Crash(service: "worker", instance: 0, at: "10s", restart_after: "20s"),
                    Crash(service: "worker", instance: 1, at: "10s", restart_after: "20s")"#;
    for seed in SEEDS {
        let fast = run_with("publish-fast", seed, "", outage).summary;
        let slow = run_with(
            "publish-slow",
            seed,
            r#"publish: Const(value: "30ms")"#,
            outage,
        );
        let slow = slow.summary;
        let ctx = format!(
            "seed {seed}: p50 {} vs {}",
            fast.latency_ms.p50, slow.latency_ms.p50
        );
        // The api's own work (Exp(2 ms)) is all a producer waits for by default.
        assert!(
            fast.latency_ms.p99 < 15.0,
            "p99 {} {ctx}",
            fast.latency_ms.p99
        );
        assert_eq!(fast.requests.failed, 0, "{ctx}");
        assert!((30.0..40.0).contains(&slow.latency_ms.p50), "{ctx}");
        assert!(slow.latency_ms.p50 - fast.latency_ms.p50 >= 29.0, "{ctx}");
    }
}

#[test]
fn a_delivery_timeout_frees_a_partition_from_a_consumer_cut_off() {
    // Deliveries sent to an instance behind a network partition get no answer; after the
    // topic's 2 s timeout they are given up and delivered again (to the other instance,
    // or to the same one once it is reachable), so nothing stays stuck.
    let cut = r#"Partition(service: "worker", instance: 0, at: "10s", lasting: "5s")"#;
    for seed in SEEDS {
        let out = run_with("timeout", seed, r#"timeout: "2s""#, cut);
        let f = figures(&out);
        let ctx = format!("seed {seed}: {f:?}");
        assert!(f["redelivered"] > 0.0, "{ctx}");
        // Held up by the 2 s timeouts (and the commit), never for the rest of the run.
        assert!(f["consumer_lag_ms_max"] >= 2_000.0, "{ctx}");
        assert!(f["consumer_lag_ms_max"] < 15_000.0, "{ctx}");
        assert_eq!(f["consumed"], f["published"], "{ctx}");
        assert_eq!(column(&out, "backlog").last(), Some(&0.0), "{ctx}");
    }
}

#[test]
fn a_consumer_outage_grows_the_backlog_which_is_replayed_after_it() {
    let outage = r#"Crash(service: "worker", instance: 0, at: "10s", restart_after: "20s"),
                    Crash(service: "worker", instance: 1, at: "10s", restart_after: "20s")"#;
    for seed in SEEDS {
        let out = run("outage", seed, outage);
        let f = figures(&out);
        let ctx = format!("seed {seed}: {f:?}");
        // 20 s without a consumer: the oldest message waits the whole outage, and about
        // 20 s × 100/s pile up.
        assert!(f["consumer_lag_ms_max"] >= 20_000.0, "{ctx}");
        assert!(f["consumer_lag_ms_max"] < 23_000.0, "{ctx}");
        assert!((1700.0..2400.0).contains(&f["peak_backlog"]), "{ctx}");
        // The redelivery backoff (100 ms) kept retrying every partition all along.
        assert!(f["redelivered"] >= 4.0 * 150.0, "{ctx}");
        let backlog = column(&out, "backlog");
        assert!(
            backlog[25] >= 1000.0,
            "backlog at 26 s {} {ctx}",
            backlog[25]
        );
        assert_eq!(backlog.last(), Some(&0.0), "replayed by the end: {ctx}");
        let lag = column(&out, "consumer_lag_ms");
        assert!(lag[25] >= 15_000.0, "lag at 26 s {} {ctx}", lag[25]);
        assert_eq!(f["consumed"], f["published"], "{ctx}");
        // The replay runs at the consumer's capacity, well above the 100/s published.
        let consumed = column(&out, "consumed_per_s");
        let peak = consumed[30..40].iter().copied().fold(0.0, f64::max);
        assert!(peak >= 250.0, "replay at {peak}/s {ctx}");
    }
}

#[test]
fn the_same_seed_gives_the_same_figures() {
    let crash = r#"Crash(service: "worker", instance: 0, at: "15s", restart_after: "5s")"#;
    let a = run("same-a", 7, crash);
    let b = run("same-b", 7, crash);
    assert_eq!(format!("{:?}", figures(&a)), format!("{:?}", figures(&b)));
    assert_eq!(column(&a, "backlog"), column(&b, "backlog"));
}

#[test]
fn a_bad_topic_is_an_error_naming_its_field() {
    let cases = [
        (
            r#"retry_after: "0s""#,
            "model.queues.orders.retry_after",
            "greater than zero",
        ),
        (
            r#"timeout: "0s""#,
            "model.queues.orders.timeout",
            "greater than zero",
        ),
        (
            r#"publish: Exp(mean: "0s")"#,
            "model.queues.orders.publish",
            "greater than zero",
        ),
    ];
    for (topic, field, says) in cases {
        let path = write("bad", 1, topic, "");
        let err = load_experiment(&path, &[]).expect_err(topic).to_string();
        assert!(err.contains(field) && err.contains(says), "{topic}: {err}");
    }
    // A handler that does not go to the consumer service.
    let path = write("bad-handler", 1, "", "");
    let model = model("").replace(
        r#""handle_order": [Call("worker"), Write("main")]"#,
        r#""handle_order": [Call("api"), Write("main")]"#,
    );
    std::fs::write(path.with_file_name("model.ron"), model).unwrap();
    let err = load_experiment(&path, &[])
        .expect_err("handler")
        .to_string();
    assert!(
        err.contains("model.queues.orders.handler") && err.contains(r#"Call("worker")"#),
        "{err}"
    );
}
