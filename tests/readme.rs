//! The README's field reference lists every field of every configuration struct, with a
//! type: the field names come from the types themselves (ron lists the fields it expected
//! when it meets an unknown one), so a field added to the code and not to the README fails.

use scalesim::config::load::ron_options;
use scalesim::config::{ExperimentSpec, ModelSpec};
use scalesim::sweep::spec::SweepSpec;
use serde::de::DeserializeOwned;

/// The fields ron expected where `__x: 0` is written in `text`, read as `T`.
fn fields_at<T: DeserializeOwned>(text: &str) -> Vec<String> {
    match ron_options().from_str::<T>(text) {
        Err(ron::error::SpannedError {
            code: ron::Error::NoSuchStructField {
                expected, found, ..
            },
            ..
        }) if found == "__x" => expected.iter().map(|s| s.to_string()).collect(),
        other => panic!("no field list for {text}: {:?}", other.err()),
    }
}

fn exp(inner: &str) -> String {
    format!("Experiment(duration: \"1s\", workload: Open(rate_per_s: 1.0), {inner})")
}

fn sys(inner: &str) -> String {
    format!("System(nodes: Nodes(count: 1, workers: 1, service: Exp(mean: \"1ms\")), {inner})")
}

fn sweep(inner: &str) -> String {
    format!("Sweep(experiment: \"e.ron\", {inner})")
}

/// (the README's "in" column, the fields of that struct or variant).
fn every_struct() -> Vec<(&'static str, Vec<String>)> {
    let e = |name, inner: &str| (name, fields_at::<ExperimentSpec>(&exp(inner)));
    let m = |name, inner: &str| (name, fields_at::<ModelSpec>(&sys(inner)));
    let s = |name, inner: &str| (name, fields_at::<SweepSpec>(&sweep(inner)));
    let store = "Store(workers: 1, read: Exp(mean: \"1ms\"), write: Exp(mean: \"1ms\"), __x: 0)";
    let mut out = vec![
        e("Experiment", "__x: 0"),
        e("Variant", "variants: {\"a\": Variant(__x: 0)}"),
        (
            "Open",
            fields_at::<ExperimentSpec>("Experiment(duration: \"1s\", workload: Open(__x: 0))"),
        ),
        (
            "Users",
            fields_at::<ExperimentSpec>("Experiment(duration: \"1s\", workload: Users(__x: 0))"),
        ),
        e("Clients", "clients: Clients(__x: 0)"),
        e("Retry", "clients: Clients(retry: Retry(__x: 0))"),
        e("Throttle", "clients: Clients(throttle: Throttle(__x: 0))"),
        e(
            "Constant",
            "clients: Clients(retry: Retry(max_attempts: 2, backoff: Constant(__x: 0)))",
        ),
        e(
            "Exponential",
            "clients: Clients(retry: Retry(max_attempts: 2, backoff: Exponential(__x: 0)))",
        ),
        e(
            "TokenBucket",
            "clients: Clients(retry: Retry(max_attempts: 2, budget: TokenBucket(__x: 0)))",
        ),
        e(
            "Ratio",
            "clients: Clients(retry: Retry(max_attempts: 2, budget: Ratio(__x: 0)))",
        ),
        e("RandomFailures", "random_failures: RandomFailures(__x: 0)"),
        e("Limits", "limits: Limits(__x: 0)"),
        m("System", "__x: 0"),
        m("Balancer", "balancer: Balancer(__x: 0)"),
        m(
            "HealthCheck",
            "balancer: Balancer(health_check: HealthCheck(__x: 0))",
        ),
        m(
            "ConsistentHash",
            "balancer: Balancer(policy: ConsistentHash(__x: 0))",
        ),
        (
            "Nodes",
            fields_at::<ModelSpec>("System(nodes: Nodes(__x: 0))"),
        ),
        (
            "Slowdown",
            fields_at::<ModelSpec>("System(nodes: Nodes(slowdown: Slowdown(__x: 0)))"),
        ),
        (
            "ColdStart",
            fields_at::<ModelSpec>("System(nodes: Nodes(cold_start: ColdStart(__x: 0)))"),
        ),
        m("Dependency", "dependency: Dependency(__x: 0)"),
        m("Autoscaler", "autoscaler: Autoscaler(__x: 0)"),
        m("Sessions", "sessions: Sessions(__x: 0)"),
        m(
            "Externalized",
            "sessions: Sessions(design: Externalized(__x: 0))",
        ),
        m(
            "SignedToken",
            "sessions: Sessions(design: SignedToken(__x: 0))",
        ),
        m(
            "Store",
            &format!("sessions: Sessions(design: Externalized(store: {store}))"),
        ),
        m(
            "Replicas",
            &format!(
                "sessions: Sessions(design: Externalized(store: {}))",
                store.replace("__x: 0", "replicas: Replicas(__x: 0)")
            ),
        ),
        m(
            "ReadYourWrites",
            &format!(
                "sessions: Sessions(design: Externalized(store: {}))",
                store.replace(
                    "__x: 0",
                    "replicas: Replicas(reads: ReadYourWrites(__x: 0))"
                )
            ),
        ),
        m("Cache", "cache: Cache(__x: 0)"),
        m("Keys", "cache: Cache(keys: Keys(__x: 0))"),
        m("Zipf", "cache: Cache(keys: Keys(popularity: Zipf(__x: 0)))"),
        m("Locks", "locks: Locks(__x: 0)"),
        m("Sharded", "locks: Locks(counter: Sharded(__x: 0))"),
        m("Batched", "locks: Locks(counter: Batched(__x: 0))"),
        s("Sweep", "__x: 0"),
        s("Axis", "axes: [Axis(__x: 0)]"),
        s("Precision", "precision: Precision(__x: 0)"),
        s(
            "Linear",
            "axes: [Axis(path: \"seed\", values: Linear(__x: 0))]",
        ),
        s(
            "Geometric",
            "axes: [Axis(path: \"seed\", values: Geometric(__x: 0))]",
        ),
        s(
            "Range",
            "axes: [Axis(path: \"seed\", values: Range(__x: 0))]",
        ),
    ];
    // The graph form.
    let svc = |inner: &str| format!("services: {{\"a\": Service({inner})}}");
    out.extend([
        m("Service", &svc("__x: 0")),
        m("Queue", &svc("queue: Queue(__x: 0)")),
        m("Calls", &svc("calls: Calls(__x: 0)")),
        m("Linear", &svc("slowdown: Linear(__x: 0)")),
        m("Exponential", &svc("slowdown: Exponential(__x: 0)")),
        m("Polynomial", &svc("slowdown: Polynomial(__x: 0)")),
        m("Database", "databases: {\"a\": Database(__x: 0)}"),
        m("Cache", "caches: {\"a\": Cache(__x: 0)}"),
        m("Counter", "counters: {\"a\": Counter(__x: 0)}"),
        m(
            "Sharded",
            "counters: {\"a\": Counter(rows: Sharded(__x: 0))}",
        ),
        m("Topic", "queues: {\"a\": Topic(__x: 0)}"),
        m("Network", "network: Network(__x: 0)"),
        m("Parallel", "requests: {\"a\": [Parallel(__x: 0)]}"),
        e("Population", "populations: {\"a\": Population(__x: 0)}"),
        e(
            "Open",
            "populations: {\"a\": Population(workload: Open(__x: 0))}",
        ),
        e(
            "Users",
            "populations: {\"a\": Population(workload: Users(__x: 0))}",
        ),
        e(
            "Burst",
            "populations: {\"a\": Population(workload: Burst(__x: 0))}",
        ),
    ]);
    for shape in ["Step", "Spike", "Ramp", "Piecewise"] {
        out.push((
            shape,
            fields_at::<ExperimentSpec>(&format!(
            "Experiment(duration: \"1s\", workload: Open(rate_per_s: 1.0, shape: {shape}(__x: 0)))"
        )),
        ));
    }
    for fault in [
        "Crash",
        "Slow",
        "CutCapacity",
        "Partition",
        "FailRequests",
        "StallDependency",
        "StoreOutage",
        "ReplicationLagSpike",
        "PrimaryFailover",
        "SlowLockHolder",
        "FlushCache",
        "Stall",
        "Flush",
    ] {
        out.push((
            fault,
            fields_at::<ExperimentSpec>(&exp(&format!("faults: [{fault}(__x: 0)]"))),
        ));
    }
    for dist in ["Exp", "Const", "Uniform", "LogNormal", "Erlang", "Pareto"] {
        out.push((
            dist,
            fields_at::<ModelSpec>(&format!(
                "System(nodes: Nodes(count: 1, workers: 1, service: {dist}(__x: 0)))"
            )),
        ));
    }
    out
}

#[test]
fn the_field_reference_gives_every_field_a_type() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("### Field reference")
        .nth(1)
        .expect("README has a field reference")
        .split("\n### ")
        .next()
        .unwrap();
    let rows: Vec<Vec<&str>> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    let mut missing = Vec::new();
    let mut count = 0;
    for (name, fields) in every_struct() {
        assert!(!fields.is_empty(), "{name}");
        for f in fields {
            count += 1;
            let row = rows
                .iter()
                .find(|r| r[0] == format!("`{name}(…)`") && r[1] == format!("`{f}`"));
            match row {
                Some(r) if r.len() == 5 && !r[2].is_empty() && !r[3].is_empty() => {}
                Some(r) => missing.push(format!(
                    "{name}.{f}: a row without a type or default: {r:?}"
                )),
                None => missing.push(format!("{name}.{f}")),
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the README's field reference lacks: {missing:#?}"
    );
    assert!(count > 250, "only {count} fields");
    // The two facts a reader needs most often.
    assert!(readme.contains("Nodes are numbered from 0"));
    assert!(rows
        .iter()
        .any(|r| r[0] == "`Cache(…)`" && r[1] == "`hit`" && r[2] == "distribution"));
}

/// The variants ron expected where `Nope(…)` is written in `text`, read as `T`.
fn variants_at<T: DeserializeOwned>(text: &str) -> Vec<String> {
    match ron_options().from_str::<T>(text) {
        Err(ron::error::SpannedError {
            code: ron::Error::NoSuchEnumVariant {
                expected, found, ..
            },
            ..
        }) if found == "Nope" => expected.iter().map(|s| s.to_string()).collect(),
        other => panic!("no variant list for {text}: {:?}", other.err()),
    }
}

/// The field reference has a row for every step a request path may take (the steps are
/// variants, not structs, so the test above cannot see them).
#[test]
fn the_field_reference_lists_every_step() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("### Field reference")
        .nth(1)
        .expect("README has a field reference")
        .split("\n### ")
        .next()
        .unwrap();
    let steps = variants_at::<ModelSpec>("System(requests: {\"a\": [Nope(\"x\")]})");
    assert!(steps.len() >= 7, "{steps:?}");
    let missing: Vec<&String> = steps
        .iter()
        .filter(|step| {
            !section
                .lines()
                .any(|l| l.starts_with(&format!("| step | `{step}(")))
        })
        .collect();
    assert!(missing.is_empty(), "the README lists no step {missing:?}");
}
