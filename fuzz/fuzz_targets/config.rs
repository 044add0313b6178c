//! Feeds arbitrary bytes to the configuration loader and validator — as an experiment, as
//! a model, as both, or as `--set` flags over a valid pair — and runs whatever validates,
//! briefly. Any panic, abort, stack overflow or hang is a finding: bad input must always
//! end in a `ConfigError`, and a valid configuration must always run.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run config` from the repository root (see README,
//! "Trust").
#![no_main]

use libfuzzer_sys::fuzz_target;
use scalesim::config::{self, Override, RunConfig};

const MODEL: &str = r#"System(
    balancer: Balancer(policy: LeastConnections),
    nodes: Nodes(count: 2, workers: 2, queue_limit: 8, queue_full: DropOldest, discipline: Lifo,
                 service: LogNormal(median: "5ms", p99: "40ms")),
)"#;

const EXPERIMENT: &str = r#"Experiment(
    duration: "2s", warmup: "100ms", seed: 3, metrics_interval: "250ms",
    workload: Open(rate_per_s: 400.0),
    clients: Clients(timeout: "50ms"),
    faults: [Crash(node: 1, at: "1s", restart_after: "200ms")],
)"#;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let result = match mode % 4 {
        0 => config::single_run_from_texts(text, MODEL),
        1 => config::single_run_from_texts(EXPERIMENT, text),
        2 => {
            let (e, m) = text.split_once('\u{1e}').unwrap_or((text, MODEL));
            config::single_run_from_texts(e, m)
        }
        _ => {
            // One `--set` flag per line, applied to the valid pair.
            let mut sets = Vec::new();
            for line in text.lines() {
                match Override::parse_flag(line) {
                    Ok(o) => sets.push(o),
                    Err(msg) => {
                        assert!(!msg.is_empty());
                        return;
                    }
                }
            }
            config::single_run_with_overrides(EXPERIMENT, MODEL, &sets)
        }
    };
    match result {
        Ok(cfg) => run_briefly(cfg),
        Err(e) => {
            // Every error renders, with a place and a message.
            assert!(!e.to_string().is_empty());
        }
    }
});

/// Runs a valid configuration if it is small enough to finish in milliseconds.
fn run_briefly(mut cfg: RunConfig) {
    let _ = cfg.resolved_json();
    let spec = &cfg.spec;
    let secs = spec.duration.secs_f64();
    let rate = match &spec.workload {
        config::experiment::WorkloadSpec::Open { rate_per_s, .. } => *rate_per_s,
    };
    let rows = spec.duration.ns() / spec.metrics_interval.ns().max(1);
    if secs * rate > 20_000.0 || rows > 10_000 || cfg.model.nodes.count > 1_000 {
        return;
    }
    cfg.spec.limits.max_events = Some(cfg.spec.limits.max_events.unwrap_or(200_000).min(200_000));
    let out = scalesim::run_config(&cfg).expect("request conservation holds");
    let s = &out.summary;
    assert_eq!(
        s.requests.issued,
        s.requests.succeeded + s.requests.failed + s.requests.in_flight
    );
    let _ = s.deterministic_json();
    let _ = out.series.to_csv();
    let _ = scalesim::output::comparison_csv(std::slice::from_ref(s));
}
