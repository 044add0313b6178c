//! The per-interval time series: one row per metrics interval of simulated time, written
//! as `timeseries.csv` (tidy: one column per figure, units in the names).

use std::fmt::Write as _;

/// One interval's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesRow {
    /// Start of the interval, seconds of simulated time.
    pub t_s: f64,
    /// Requests issued by users in the interval.
    pub offered: u64,
    /// Requests that succeeded in the interval.
    pub succeeded: u64,
    /// Requests that failed in the interval, by reason (same order as `FailReason::ALL`).
    pub failed_by_reason: Vec<u64>,
    /// Median latency of the interval's successes, ms.
    pub latency_p50_ms: f64,
    /// 99th percentile latency of the interval's successes, ms.
    pub latency_p99_ms: f64,
    /// Requests in flight at the end of the interval.
    pub in_flight: u64,
    /// Queue length of each node at the end of the interval.
    pub queue_len: Vec<u64>,
    /// Busy workers of each node at the end of the interval.
    pub busy_workers: Vec<u64>,
    /// Nodes up at the end of the interval.
    pub nodes_up: u32,
    /// Faults active during the interval, `;`-separated (empty when none).
    pub active_faults: String,
}

/// All rows of one run, with the interval length for rates.
#[derive(Clone, Debug, Default)]
pub struct TimeSeries {
    /// Interval length in seconds.
    pub interval_s: f64,
    /// Names of the failure reasons, matching `failed_by_reason`.
    pub reasons: Vec<&'static str>,
    /// Number of nodes (columns per node).
    pub nodes: usize,
    /// The rows, in time order.
    pub rows: Vec<SeriesRow>,
}

impl TimeSeries {
    /// The CSV text: a header, then one line per interval. Floats have fixed precision so
    /// that the same run always writes the same bytes.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        out.push_str("t_s,offered,offered_rps,succeeded,goodput_rps,failed");
        for r in &self.reasons {
            let _ = write!(out, ",failed_{r}");
        }
        out.push_str(
            ",latency_p50_ms,latency_p99_ms,in_flight,nodes_up,queue_len_total,busy_workers_total",
        );
        for i in 0..self.nodes {
            let _ = write!(out, ",queue_len_node{i},busy_workers_node{i}");
        }
        out.push_str(",active_faults\n");
        for row in &self.rows {
            let failed: u64 = row.failed_by_reason.iter().sum();
            let _ = write!(
                out,
                "{:.3},{},{:.3},{},{:.3},{}",
                row.t_s,
                row.offered,
                row.offered as f64 / self.interval_s,
                row.succeeded,
                row.succeeded as f64 / self.interval_s,
                failed
            );
            for f in &row.failed_by_reason {
                let _ = write!(out, ",{f}");
            }
            let _ = write!(
                out,
                ",{:.3},{:.3},{},{},{},{}",
                row.latency_p50_ms,
                row.latency_p99_ms,
                row.in_flight,
                row.nodes_up,
                row.queue_len.iter().sum::<u64>(),
                row.busy_workers.iter().sum::<u64>()
            );
            for i in 0..self.nodes {
                let q = row.queue_len.get(i).copied().unwrap_or(0);
                let b = row.busy_workers.get(i).copied().unwrap_or(0);
                let _ = write!(out, ",{q},{b}");
            }
            let _ = writeln!(out, ",{}", row.active_faults);
        }
        out
    }
}
