//! Property tests: random valid experiments, run briefly, must hold the simulator's laws —
//! no panic, every request ends exactly once (`issued = succeeded + failed + in_flight`),
//! the same seed twice gives the same summary and time series, and no figure is NaN or
//! infinite.
//!
//! The generator is seeded (`SCALESIM_PROPTEST_SEED`, default 1) so CI is reproducible;
//! set another seed to explore further. A failure prints the seed, the minimal experiment
//! and model texts proptest shrank it to, and the command that reproduces it.
//!
//! `swarm_experiments_keep_the_laws` draws the whole configuration — every component and
//! every fault kind — from one seed (tests/support/swarm.rs); a failure prints that seed and
//! both texts.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use scalesim::config;

#[path = "support/swarm.rs"]
mod swarm;

/// The laws every run must keep; the run itself checks liveness (every request in flight can
/// still end) and, in this debug build, every component's invariants after every event.
fn check_laws(cfg: &config::RunConfig) -> Result<(), TestCaseError> {
    let a = scalesim::run_config(cfg).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let s = &a.summary;
    prop_assert_eq!(
        s.requests.issued,
        s.requests.succeeded + s.requests.failed + s.requests.in_flight,
        "request conservation"
    );
    prop_assert_eq!(s.failed_by_reason.values().sum::<u64>(), s.requests.failed);
    for (name, v) in s.figures() {
        // recovery_seconds is NaN exactly when there is no recovery to measure (written
        // as an empty CSV cell); every other figure is always a finite number.
        if name == "recovery_seconds" {
            prop_assert!(
                v.is_nan() == s.recovery_seconds.is_none(),
                "recovery_seconds {}",
                v
            );
            continue;
        }
        // A component the model does not have gives NaN (an empty cell) in its columns.
        if s.is_absent_figure(&name) {
            prop_assert!(
                v.is_nan(),
                "figure {} of an absent component is {}",
                name,
                v
            );
            continue;
        }
        prop_assert!(v.is_finite(), "figure {} is {}", name, v);
    }
    // Percentiles are ordered and never above the exact maximum (nor the mean above it).
    let l = &s.latency_ms;
    let order = [l.p50, l.p95, l.p99, l.p999, l.max];
    prop_assert!(
        order.windows(2).all(|w| w[0] <= w[1]) && l.mean <= l.max && l.p50 >= 0.0,
        "latency p50 {} p95 {} p99 {} p999 {} max {} mean {}",
        l.p50,
        l.p95,
        l.p99,
        l.p999,
        l.max,
        l.mean
    );
    let f = &s.latency_failed_ms;
    let order = [f.p50, f.p95, f.p99, f.p999, f.max];
    prop_assert!(
        order.windows(2).all(|w| w[0] <= w[1]) && f.mean <= f.max,
        "failed latency p50 {} p95 {} p99 {} p999 {} max {} mean {}",
        f.p50,
        f.p95,
        f.p99,
        f.p999,
        f.max,
        f.mean
    );
    for n in &s.nodes {
        prop_assert!(
            (0.0..=1.0 + 1e-9).contains(&n.utilisation),
            "utilisation {}",
            n.utilisation
        );
    }
    let csv = a.series.to_csv();
    prop_assert!(
        !csv.contains("NaN") && !csv.contains("inf"),
        "timeseries.csv has NaN/inf"
    );
    // Determinism: the same configuration and seed again gives the same bytes.
    let b = scalesim::run_config(cfg).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(s.deterministic_json(), b.summary.deterministic_json());
    prop_assert_eq!(csv, b.series.to_csv());
    Ok(())
}

/// The swarm seeds to try: `SCALESIM_SWARM_SEED=N` runs that one case alone
/// (`SCALESIM_SWARM_VERBOSE=1` prints each case before its run).
fn swarm_seeds() -> BoxedStrategy<u64> {
    match std::env::var("SCALESIM_SWARM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(seed) => Just(seed).boxed(),
        None => any::<u64>().boxed(),
    }
}

fn generator_seed() -> u64 {
    std::env::var("SCALESIM_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

fn proptest_config() -> Config {
    Config {
        cases: 256,
        rng_seed: RngSeed::Fixed(generator_seed()),
        failure_persistence: None,
        ..Config::default()
    }
}

/// A generated experiment and model, as the RON texts a user would write.
#[derive(Clone)]
struct Case {
    experiment: String,
    model: String,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\n--- m.ron ---\n{}\n--- exp.ron ---\n{}\n--- reproduce: save both files side by side, then \
             `cargo run --release -- run exp.ron` (generator seed {}: \
             `SCALESIM_PROPTEST_SEED={} cargo test --test properties`)\n",
            self.model,
            self.experiment,
            generator_seed(),
            generator_seed()
        )
    }
}

fn ms(v: u32) -> String {
    format!("\"{v}ms\"")
}

fn service() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..50).prop_map(|m| format!("Exp(mean: {})", ms(m))),
        (0u32..50).prop_map(|v| format!("Const(value: {})", ms(v))),
        (0u32..30, 0u32..30).prop_map(|(a, d)| format!(
            "Uniform(min: {}, max: {})",
            ms(a),
            ms(a + d)
        )),
        (1u32..30, 0u32..200).prop_map(|(m, d)| format!(
            "LogNormal(median: {}, p99: {})",
            ms(m),
            ms(m + d)
        )),
        (1u32..6, 1u32..40).prop_map(|(k, m)| format!("Erlang(k: {k}, mean: {})", ms(m))),
        (1u32..10, 1.05f64..4.0)
            .prop_map(|(s, a)| format!("Pareto(scale: {}, shape: {a:.3})", ms(s))),
    ]
}

fn model() -> impl Strategy<Value = (String, u32)> {
    (
        1u32..6,
        1u32..9,
        prop::option::of(0u32..40),
        prop::sample::select(vec!["Reject", "DropOldest"]),
        prop::sample::select(vec!["Fifo", "Lifo"]),
        prop::sample::select(vec![
            "RoundRobin",
            "Random",
            "LeastConnections",
            "PowerOfTwoChoices",
        ]),
        service(),
    )
        .prop_map(|(count, workers, queue_limit, full, discipline, policy, service)| {
            let queue_limit = queue_limit.map_or("None".to_string(), |q| q.to_string());
            (
                format!(
                    "System(\n    balancer: Balancer(policy: {policy}),\n    nodes: Nodes(count: {count}, \
                     workers: {workers}, queue_limit: {queue_limit}, queue_full: {full}, \
                     discipline: {discipline},\n                 service: {service}),\n)\n"
                ),
                count,
            )
        })
}

fn case() -> impl Strategy<Value = Case> {
    model().prop_flat_map(|(model, nodes)| {
        (
            500u32..4000,
            0.0f64..0.5,
            prop::sample::select(vec!["100ms", "250ms", "1s"]),
            any::<u64>(),
            1.0f64..1500.0,
            prop::option::of(1u64..3000),
            prop::option::of(1u32..2000),
            prop::collection::vec((0..nodes, 0.0f64..1.0, prop::option::of(1u32..2000)), 0..3),
        )
            .prop_map(
                move |(dur, warm, interval, seed, rate, max_requests, timeout, faults)| {
                    let warmup = (f64::from(dur) * warm) as u32;
                    let max_requests = max_requests.map_or("None".into(), |n| n.to_string());
                    let timeout = timeout.map_or("None".into(), ms);
                    let faults: Vec<String> = faults
                        .iter()
                        .map(|(node, at, restart)| {
                            format!(
                                "Crash(node: {node}, at: {}, restart_after: {})",
                                ms((f64::from(dur) * at) as u32),
                                restart.map_or("None".into(), ms)
                            )
                        })
                        .collect();
                    Case {
                        experiment: format!(
                            "Experiment(\n    model: \"m.ron\",\n    duration: {}, warmup: {}, \
                             metrics_interval: \"{interval}\", seed: {seed},\n    workload: \
                             Open(rate_per_s: {rate:.3}, max_requests: {max_requests}),\n    \
                             clients: Clients(timeout: {timeout}),\n    faults: [{}],\n)\n",
                            ms(dur),
                            ms(warmup),
                            faults.join(", ")
                        ),
                        model: model.clone(),
                    }
                },
            )
    })
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn random_valid_experiments_keep_the_laws(c in case()) {
        let cfg = config::single_run_from_texts(&c.experiment, &c.model)
            .map_err(|e| TestCaseError::fail(format!("a generated experiment was refused: {e}")))?;
        check_laws(&cfg)?;
    }
}

proptest! {
    #![proptest_config(Config { cases: 64, ..proptest_config() })]

    /// A `--set` override is the same as writing the value in the file: same resolved
    /// configuration (hash) and the same run.
    #[test]
    fn an_override_equals_writing_the_value_in_the_file(c in case(), rate in 1.0f64..1500.0, workers in 1u32..9) {
        use scalesim::config::{overrides::OverrideSource, Override};
        let sets = [
            Override { path: "workload.rate_per_s".into(), value: format!("{rate:.3}"), source: OverrideSource::Flag },
            Override { path: "model.nodes.workers".into(), value: workers.to_string(), source: OverrideSource::Flag },
        ];
        let by_flag = config::single_run_with_overrides(&c.experiment, &c.model, &sets)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let rate_field = c.experiment.find("rate_per_s: ").unwrap() + "rate_per_s: ".len();
        let rate_end = rate_field + c.experiment[rate_field..].find(',').unwrap();
        let experiment = format!("{}{rate:.3}{}", &c.experiment[..rate_field], &c.experiment[rate_end..]);
        let w_field = c.model.find("workers: ").unwrap() + "workers: ".len();
        let w_end = w_field + c.model[w_field..].find(',').unwrap();
        let model = format!("{}{workers}{}", &c.model[..w_field], &c.model[w_end..]);
        let in_file = config::single_run_from_texts(&experiment, &model)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&by_flag.config_hash, &in_file.config_hash);
        let a = scalesim::run_config(&by_flag).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let b = scalesim::run_config(&in_file).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(a.summary.deterministic_json(), b.summary.deterministic_json());
    }
}

proptest! {
    #![proptest_config(Config { cases: 1000, ..proptest_config() })]

    /// Whole configurations drawn from one seed each: every component and fault kind.
    #[test]
    fn swarm_experiments_keep_the_laws(c in swarm_seeds().prop_map(swarm::generate)) {
        if std::env::var_os("SCALESIM_SWARM_VERBOSE").is_some() {
            // A hang prints nothing else: the last case printed is the one that hangs.
            eprintln!("{c:?}");
        }
        let cfg = config::single_run_from_texts(&c.experiment, &c.model)
            .map_err(|e| TestCaseError::fail(format!("a generated experiment was refused: {e}")))?;
        check_laws(&cfg)?;
    }
}

/// The swarm generator writes only valid configurations (a refused one would test nothing),
/// and its coins do switch every component and fault kind on somewhere in the first seeds.
#[test]
fn swarm_configurations_are_valid_and_cover_every_part() {
    let mut refused = std::collections::BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    let parts = [
        "dependency:",
        "cache:",
        "sessions:",
        "locks:",
        "autoscaler:",
        "Users(",
        "Open(",
        "Retry(",
        "Throttle(",
        "idempotency_keys: true",
        "ConsistentHash",
        "Sticky",
        "Decorrelated",
        "Equal",
        "Full",
        "TokenBucket",
        "Ratio(",
        "HealthCheck(",
        "InMemory",
        "Externalized",
        "SignedToken",
        "Replicas(",
        "ReadYourWrites",
        "Sharded",
        "Batched",
        "Global",
        "LatencyP99",
        "QueueLength",
        "Cpu",
        "Crash(",
        "Slow(",
        "CutCapacity(",
        "Partition(",
        "FailRequests(",
        "StallDependency(",
        "StoreOutage(",
        "ReplicationLagSpike(",
        "PrimaryFailover(",
        "SlowLockHolder(",
        "FlushCache(",
        "RandomFailures(",
        "Piecewise",
        "Spike(",
        "Ramp(",
        "Step(",
        "coalescing: true",
        "lease_retry: \"",
        "PerNode",
    ];
    for seed in 0..2000u64 {
        let c = swarm::generate(seed);
        if let Err(e) = config::single_run_from_texts(&c.experiment, &c.model) {
            let msg = e.to_string();
            let key = msg.split(": field").nth(1).unwrap_or(&msg).to_string();
            refused.entry(key).or_insert(c);
            continue;
        }
        for p in parts {
            if c.model.contains(p) || c.experiment.contains(p) {
                seen.insert(p);
            }
        }
    }
    assert!(
        refused.is_empty(),
        "{} kinds of refusal, e.g. {:#?}",
        refused.len(),
        refused
    );
    let missing: Vec<_> = parts.iter().filter(|p| !seen.contains(*p)).collect();
    assert!(missing.is_empty(), "never drawn: {missing:?}");
}
