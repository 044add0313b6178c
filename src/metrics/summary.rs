//! The run summary written as `summary.json`: what a run did, in figures.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Request accounting: `issued = succeeded + failed + in_flight` always holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// Requests issued by users.
    pub issued: u64,
    /// Requests that got a successful answer.
    pub succeeded: u64,
    /// Requests that ended in failure (see `failed_by_reason`).
    pub failed: u64,
    /// Requests still waiting for an answer when the run ended.
    pub in_flight: u64,
}

/// Latency of successful requests issued after the warm-up, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Exact mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Exact maximum.
    pub max: f64,
}

/// Queueing wait (time before a worker took the request), ms.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WaitSummary {
    /// Mean wait of the requests counted in `latency_ms`.
    pub mean: f64,
}

/// One node's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeSummary {
    /// The node's index.
    pub node: u32,
    /// Attempts it finished serving.
    pub served: u64,
    /// Share of its worker time spent serving (0..1).
    pub utilisation: f64,
}

/// The summary of one run of one variant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The experiment's name.
    pub experiment: String,
    /// The variant's name.
    pub variant: String,
    /// The run seed.
    pub seed: u64,
    /// Hash of the resolved configuration, without the seed.
    pub config_hash: String,
    /// Simulated seconds the run covered.
    pub sim_seconds: f64,
    /// Events processed.
    pub events: u64,
    /// Wall-clock seconds the run took (the only figure that differs between identical runs).
    pub wall_seconds: f64,
    /// Why the run stopped before its duration, if it did (e.g. the in-flight limit).
    pub stopped_reason: Option<String>,
    /// Request accounting.
    pub requests: RequestCounts,
    /// Failed requests by reason.
    pub failed_by_reason: BTreeMap<String, u64>,
    /// Latency of successes after the warm-up, ms.
    pub latency_ms: LatencySummary,
    /// Queueing wait of the same requests, ms.
    pub wait_ms: WaitSummary,
    /// Successes after the warm-up per simulated second after the warm-up.
    pub throughput_rps: f64,
    /// Per-node figures.
    pub nodes: Vec<NodeSummary>,
}

impl Summary {
    /// Every numeric figure with a stable, unit-suffixed column name (for CSV files).
    /// Wall time is left out: these figures are identical for identical runs.
    pub fn figures(&self) -> Vec<(String, f64)> {
        let mut f: Vec<(String, f64)> = vec![
            ("sim_seconds".into(), self.sim_seconds),
            ("events".into(), self.events as f64),
            (
                "stopped_early".into(),
                f64::from(u8::from(self.stopped_reason.is_some())),
            ),
            ("requests_issued".into(), self.requests.issued as f64),
            ("requests_succeeded".into(), self.requests.succeeded as f64),
            ("requests_failed".into(), self.requests.failed as f64),
            ("requests_in_flight".into(), self.requests.in_flight as f64),
        ];
        for (reason, n) in &self.failed_by_reason {
            f.push((format!("failed_{reason}"), *n as f64));
        }
        f.extend([
            ("latency_ms_mean".into(), self.latency_ms.mean),
            ("latency_ms_p50".into(), self.latency_ms.p50),
            ("latency_ms_p95".into(), self.latency_ms.p95),
            ("latency_ms_p99".into(), self.latency_ms.p99),
            ("latency_ms_p999".into(), self.latency_ms.p999),
            ("latency_ms_max".into(), self.latency_ms.max),
            ("wait_ms_mean".into(), self.wait_ms.mean),
            ("throughput_rps".into(), self.throughput_rps),
        ]);
        f
    }

    /// The JSON text with `wall_seconds` zeroed: identical for identical runs.
    pub fn deterministic_json(&self) -> String {
        let mut s = self.clone();
        s.wall_seconds = 0.0;
        serde_json::to_string_pretty(&s).expect("summary serialises")
    }
}
