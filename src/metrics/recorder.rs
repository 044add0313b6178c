//! The recorder: counters and latencies updated as requests end, and the per-interval
//! accumulators that become rows of the time series.

use super::latency::LatencyStats;
use super::timeseries::{Gauges, SeriesRow, TimeSeries};
use crate::engine::SimTime;
use crate::graph::fail::FailReason;
use crate::validate::batch_means::BatchMeans;

const REASONS: usize = FailReason::ALL.len();

/// Everything measured during one run.
pub struct Recorder {
    warmup: SimTime,
    /// Requests issued by users.
    pub issued: u64,
    /// Requests that succeeded.
    pub succeeded: u64,
    /// Attempts sent (first tries and retries).
    pub attempts: u64,
    /// Retries sent.
    pub retries: u64,
    /// Retries the retry budget refused.
    pub budget_denied: u64,
    /// Waiting attempts dropped because their client had already given up.
    pub shed_expired: u64,
    /// Work a node did again for a request some node had already completed.
    pub duplicate_executions: u64,
    /// Attempts answered from an idempotency record instead of being done again.
    pub idempotent_replays: u64,
    /// Attempts completed by a node after their client had stopped waiting (wasted work).
    pub wasted_completions: u64,
    /// Latencies of the successes since the autoscaler last looked (only when it watches
    /// latency: a histogram record per request is not free).
    pub recent_latency: Option<LatencyStats>,
    /// Requests that failed, by reason.
    pub failed: [u64; REASONS],
    /// Latency of requests issued after the warm-up that succeeded.
    pub latency: LatencyStats,
    /// Latency (issue to failure) of requests issued after the warm-up that failed.
    pub latency_failed: LatencyStats,
    /// Successes (issued after the warm-up) counted in `latency`.
    pub succeeded_after_warmup: u64,
    /// Total queueing wait of those successes, ns.
    pub wait_sum_ns: u128,
    /// Batch means of response and wait, when a confidence interval is wanted (validate).
    pub batches: Option<BatchMeans>,
    iv_latency: LatencyStats,
    iv_offered: u64,
    iv_attempts: u64,
    iv_retries: u64,
    iv_succeeded: u64,
    iv_failed: [u64; REASONS],
    /// The rows so far.
    pub series: TimeSeries,
}

impl Recorder {
    /// A recorder for a run with this warm-up, interval and node count.
    pub fn new(warmup: SimTime, interval: SimTime, nodes: usize) -> Recorder {
        Recorder {
            warmup,
            issued: 0,
            succeeded: 0,
            attempts: 0,
            retries: 0,
            budget_denied: 0,
            shed_expired: 0,
            duplicate_executions: 0,
            idempotent_replays: 0,
            wasted_completions: 0,
            recent_latency: None,
            failed: [0; REASONS],
            latency: LatencyStats::new(),
            latency_failed: LatencyStats::new(),
            succeeded_after_warmup: 0,
            wait_sum_ns: 0,
            batches: None,
            iv_latency: LatencyStats::new(),
            iv_offered: 0,
            iv_attempts: 0,
            iv_retries: 0,
            iv_succeeded: 0,
            iv_failed: [0; REASONS],
            series: TimeSeries {
                interval_s: interval.as_secs_f64(),
                reasons: FailReason::ALL.iter().map(|r| r.name()).collect(),
                nodes,
                rows: Vec::new(),
                cache: false,
                components: Vec::new(),
            },
        }
    }

    /// A user issued a request.
    #[inline]
    pub fn issued(&mut self) {
        self.issued += 1;
        self.iv_offered += 1;
    }

    /// An attempt was sent (a retry when `retry`).
    #[inline]
    pub fn attempt(&mut self, retry: bool) {
        self.attempts += 1;
        self.iv_attempts += 1;
        if retry {
            self.retries += 1;
            self.iv_retries += 1;
        }
    }

    /// Latencies of the requests that succeeded in the current interval.
    pub fn interval_latency(&self) -> &LatencyStats {
        &self.iv_latency
    }

    /// A request issued at `issued_at` succeeded at `now` after waiting `wait` in a queue.
    #[inline]
    pub fn succeeded(&mut self, issued_at: SimTime, now: SimTime, wait: SimTime) {
        self.succeeded += 1;
        self.iv_succeeded += 1;
        let latency = now.since(issued_at).0;
        self.iv_latency.record(latency);
        if let Some(r) = &mut self.recent_latency {
            r.record(latency);
        }
        if issued_at >= self.warmup {
            self.succeeded_after_warmup += 1;
            self.latency.record(latency);
            self.wait_sum_ns += wait.0 as u128;
            if let Some(b) = &mut self.batches {
                b.record(latency as f64 / 1e6, wait.0 as f64 / 1e6);
            }
        }
    }

    /// A request issued at `issued_at` failed at `now` for `reason`.
    #[inline]
    pub fn failed(&mut self, reason: FailReason, issued_at: SimTime, now: SimTime) {
        self.failed[reason.index()] += 1;
        self.iv_failed[reason.index()] += 1;
        if issued_at >= self.warmup {
            self.latency_failed.record(now.since(issued_at).0);
        }
    }

    /// Requests failed for every reason.
    pub fn failed_total(&self) -> u64 {
        self.failed.iter().sum()
    }

    /// Closes the interval that started at `start`, with gauges read at its end.
    pub fn close_interval(&mut self, start: SimTime, gauges: Gauges) {
        self.series.rows.push(SeriesRow {
            t_s: start.as_secs_f64(),
            offered: self.iv_offered,
            attempts: self.iv_attempts,
            retries: self.iv_retries,
            succeeded: self.iv_succeeded,
            failed_by_reason: self.iv_failed.to_vec(),
            latency_p50_ms: self.iv_latency.quantile_ms(0.5),
            latency_p95_ms: self.iv_latency.quantile_ms(0.95),
            latency_p99_ms: self.iv_latency.quantile_ms(0.99),
            gauges,
        });
        self.iv_latency.reset();
        self.iv_offered = 0;
        self.iv_attempts = 0;
        self.iv_retries = 0;
        self.iv_succeeded = 0;
        self.iv_failed = [0; REASONS];
    }
}
