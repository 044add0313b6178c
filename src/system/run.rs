//! The run loop, the metrics intervals, and the summary at the end of a run.

use super::node::NodeState;
use super::request::FailReason;
use super::Simulation;
use crate::config::RunConfig;
use crate::engine::SimTime;
use crate::metrics::summary::{
    nines, Availability, Cost, DependencySummary, LatencySummary, LocksSummary, NodeSummary,
    RequestCounts, SessionsSummary, StoreSummary, Summary, WaitSummary,
};
use crate::metrics::{Gauges, TimeSeries};
use crate::validate::batch_means::BatchMeans;

/// The result of one run: its summary and its time series.
pub struct RunOutput {
    /// The figures of the run.
    pub summary: Summary,
    /// One row per metrics interval.
    pub series: TimeSeries,
    /// Batch means of response and wait, when they were asked for (validate).
    pub batches: Option<BatchMeans>,
    /// The request trace (Chrome Trace Event JSON), when one was asked for (`--trace`).
    pub trace: Option<String>,
    /// Every request's life, when asked for ([`Simulation::with_request_log`]).
    pub request_log: Option<Vec<RequestRecord>>,
}

/// One ended request of a run's request log: who sent it, what it was, when, and how it
/// ended. Two designs compared under one seed can be checked for common random numbers
/// with it (the same users sending the same kinds after the same think times).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// The user (`request::NO_USER` for an open arrival).
    pub user: u32,
    /// Its number among its user's requests.
    pub seq: u32,
    /// Its kind (index in the workload's mix; the login kind after it).
    pub kind: u8,
    /// What it did with the user's session.
    pub action: super::sessions::SessionAction,
    /// When it was issued.
    pub issued_at: SimTime,
    /// When it ended.
    pub ended_at: SimTime,
    /// How it ended.
    pub outcome: Result<(), FailReason>,
}

/// A bug in the simulator found at the end of a run (never a user error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvariantViolation(pub String);

impl std::fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "internal invariant violated (this is a bug in scalesim): {}",
            self.0
        )
    }
}

impl std::error::Error for InvariantViolation {}

impl Simulation {
    /// Runs to the end and returns the summary; checks request conservation and liveness
    /// first (and, in debug builds, every component's invariants after every event).
    pub fn run(mut self, cfg: &RunConfig) -> Result<RunOutput, InvariantViolation> {
        let wall = std::time::Instant::now();
        let mut stops = crate::engine::stops::Stops::new(
            self.max_in_flight,
            self.max_events,
            self.max_pending_events,
            self.max_events_at_one_instant,
        );
        while let Some((now, event)) = self.queue.pop() {
            if now > self.end {
                // Back in the queue, unhandled: the liveness check asks what is still pending.
                self.queue.schedule_at(now, event);
                break;
            }
            if let Some(reason) = stops.before(now) {
                self.stopped_reason = Some(reason);
                // Back in the queue, unhandled: the liveness check asks what is pending.
                self.queue.schedule_at(now, event);
                break;
            }
            self.handle(now, event);
            self.check_components();
            if let Some(t) = &mut self.tracer {
                t.sample_busy(now, &self.nodes);
            }
            let (in_flight, events) = (self.requests.len() as u64, self.queue.events_processed());
            if let Some(reason) = stops.after(now, in_flight, events, || self.queue.len()) {
                self.stopped_reason = Some(reason);
                break;
            }
            if self.requests.is_empty() && self.workload_exhausted() {
                // A finite workload has drained: nothing more can happen that matters.
                break;
            }
        }
        let now = self.queue.now().min(self.end);
        if now > self.interval_start || self.recorder.series.rows.is_empty() {
            self.close_interval(now);
        }
        let wall_seconds = wall.elapsed().as_secs_f64();
        self.finish(cfg, now, wall_seconds)
    }

    fn workload_exhausted(&self) -> bool {
        match &self.workload {
            super::Workload::Open(s) => s.exhausted(),
            super::Workload::Closed(_) => false,
        }
    }

    fn cost_so_far(&self, now: SimTime) -> (f64, f64) {
        let ns = self.node_ns + self.nodes_on as u128 * now.since(self.nodes_on_since).0 as u128;
        let node_seconds = ns as f64 / 1e9;
        (
            node_seconds,
            node_seconds / 3600.0 * self.price_per_node_hour,
        )
    }

    pub(super) fn close_interval(&mut self, now: SimTime) {
        self.check_invariants();
        let start = self.interval_start;
        self.interval_start = now;
        let counts = self
            .sessions
            .as_ref()
            .map(|s| s.counts.clone())
            .unwrap_or_default();
        let gauges = Gauges {
            in_flight: self.requests.len() as u64,
            queue_len: self.nodes.iter().map(|n| n.queue_len() as u64).collect(),
            busy_workers: self.nodes.iter().map(|n| n.busy() as u64).collect(),
            nodes_up: self.nodes_up,
            nodes_on: self.nodes_on,
            dependency_queue: self.dependency.as_ref().map_or(0, |d| d.queue_len() as u64),
            dependency_busy: self.dependency.as_ref().map_or(0, |d| d.busy() as u64),
            autoscaler_metric: self.autoscaler.as_ref().map_or(0.0, |a| a.last_metric),
            cost: self.cost_so_far(now).1,
            spurious_logouts: counts.spurious_logouts - self.last_session_counts.spurious_logouts,
            accepted_after_logout: counts.accepted_after_logout
                - self.last_session_counts.accepted_after_logout,
            sessions_lost: counts.lost_on_crash - self.last_session_counts.lost_on_crash,
            logged_in: self.sessions.as_ref().map_or(0, |s| s.logged_in()),
            store_queue: self.store.as_ref().map_or(0, |s| s.queue_len() as u64),
            store_busy: self.store.as_ref().map_or(0, |s| s.busy() as u64),
            lock_waiters: self.locks.as_ref().map_or(0, |l| l.waiting()),
            lock_wait_ms_p99: self
                .locks
                .as_mut()
                .map_or(0.0, |l| l.take_interval_p99_ms()),
            counter_committed: self.locks.as_ref().map_or(0, |l| l.committed),
            active_faults: self.faults.interval_labels(start, now),
            ..Default::default()
        };
        let mut gauges = gauges;
        if let Some(c) = &mut self.cache {
            let counts = c.close_interval(start, self.warmup);
            gauges.cache_hits = counts.hits;
            gauges.cache_misses = counts.misses;
            gauges.cache_coalesced = counts.coalesced;
            gauges.db_queries = counts.db_queries;
            self.recorder.series.cache = true;
        }
        if self.window_start.is_none() && start >= self.warmup {
            // The first interval of the measured window: the counters as it began.
            self.window_start = Some(super::WindowStart {
                at: start,
                store_ops: self.store_ops_seen,
                committed: self
                    .recorder
                    .series
                    .rows
                    .last()
                    .map_or(0, |r| r.gauges.counter_committed),
            });
        }
        if let Some(st) = &self.store {
            let ops = st.reads() + st.writes();
            if start >= self.warmup {
                self.store_peak_ops = self.store_peak_ops.max(ops - self.store_ops_seen);
            }
            self.store_ops_seen = ops;
        }
        self.recorder.close_interval(start, gauges);
        self.last_session_counts = counts;
    }

    /// Recovery after the trigger (see [`crate::metrics::recovery`]).
    fn recovery(&self, series: &TimeSeries) -> (Option<f64>, bool) {
        crate::metrics::recovery::recovery(series, self.faults.trigger_end())
    }

    fn finish(
        mut self,
        cfg: &RunConfig,
        now: SimTime,
        wall_seconds: f64,
    ) -> Result<RunOutput, InvariantViolation> {
        let rec = &self.recorder;
        let in_flight = self.requests.len() as u64;
        let failed = rec.failed_total();
        if rec.issued != rec.succeeded + failed + in_flight {
            return Err(InvariantViolation(format!(
                "request conservation: issued {} != succeeded {} + failed {} + in flight {} (seed {}; reproduce with: scalesim run <experiment> --seed {})",
                rec.issued, rec.succeeded, failed, in_flight, cfg.seed(), cfg.seed()
            )));
        }
        if let Err(stuck) = self.liveness() {
            return Err(InvariantViolation(format!(
                "{stuck} (seed {}; reproduce with: scalesim run <experiment> --seed {})",
                cfg.seed(),
                cfg.seed()
            )));
        }
        if let Some(since) = self.down_since.take() {
            self.down_ns += now.since(since).0;
        }
        let rec = &self.recorder;
        let measured_s = now.since(cfg.spec.warmup.0).as_secs_f64();
        let per_s = |x: u64| {
            if measured_s > 0.0 {
                x as f64 / measured_s
            } else {
                0.0
            }
        };
        let l = &rec.latency;
        let (recovery_seconds, never_recovered) = self.recovery(&rec.series);
        let ended = rec.succeeded + failed;
        let time_share = if now.0 == 0 {
            1.0
        } else {
            1.0 - self.down_ns as f64 / now.0 as f64
        };
        let requests_share = if ended == 0 {
            1.0
        } else {
            rec.succeeded as f64 / ended as f64
        };
        let amplification_peak = rec
            .series
            .rows
            .iter()
            .filter(|r| r.offered > 0)
            .map(|r| r.attempts as f64 / r.offered as f64)
            .fold(0.0, f64::max);
        let (node_seconds, cost) = self.cost_so_far(now);
        // Interval-counted figures: from the first interval boundary at or after the warm-up
        // (the warm-up itself when it is a whole number of intervals) to the end.
        let window = self.window_start.clone().unwrap_or(super::WindowStart {
            at: now,
            store_ops: 0,
            committed: 0,
        });
        let window_s = now.since(window.at).as_secs_f64();
        let per_window_s = |x: u64| {
            if window_s > 0.0 {
                x as f64 / window_s
            } else {
                0.0
            }
        };
        let interval_s = self.interval.as_secs_f64().max(1e-9);
        let (cache, db) = match &self.cache {
            Some(c) => {
                let m = &c.measured;
                (
                    Some(crate::metrics::summary::CacheSummary {
                        hit_ratio: m.hit_ratio(),
                        hits: m.hits,
                        misses: m.misses,
                        coalesced: m.coalesced,
                        early_refreshes: m.early_refreshes,
                        writes: m.writes,
                        lease_retries: m.lease_retries,
                        stale_fills_prevented: m.stale_fills_prevented,
                        peak_misses_per_key: c.peak_misses_per_key as u64,
                    }),
                    Some(crate::metrics::summary::DbSummary {
                        peak_qps: c.peak_db_queries as f64 / interval_s,
                        queries: m.db_queries,
                        mean_qps: per_window_s(m.db_queries),
                    }),
                )
            }
            None => (None, None),
        };
        let latency = LatencySummary::of;
        let summary = Summary {
            experiment: cfg.experiment.clone(),
            variant: cfg.variant.clone(),
            seed: cfg.seed(),
            config_hash: cfg.config_hash.clone(),
            sim_seconds: now.as_secs_f64(),
            events: self.queue.events_processed(),
            wall_seconds,
            stopped_reason: self.stopped_reason.clone(),
            requests: RequestCounts {
                issued: rec.issued,
                succeeded: rec.succeeded,
                failed,
                in_flight,
            },
            failed_by_reason: FailReason::ALL
                .iter()
                .map(|r| (r.name().to_string(), rec.failed[r.index()]))
                .collect(),
            latency_ms: latency(l),
            latency_failed_ms: latency(&rec.latency_failed),
            wait_ms: WaitSummary {
                mean: if rec.succeeded_after_warmup == 0 {
                    0.0
                } else {
                    rec.wait_sum_ns as f64 / rec.succeeded_after_warmup as f64 / 1e6
                },
            },
            throughput_rps: per_s(self.served_after_warmup),
            goodput_rps: per_s(rec.succeeded_after_warmup),
            attempts: rec.attempts,
            retries: rec.retries,
            retry_amplification: if rec.issued == 0 {
                0.0
            } else {
                rec.attempts as f64 / rec.issued as f64
            },
            retry_amplification_peak: amplification_peak,
            budget_denied: rec.budget_denied,
            shed_expired: rec.shed_expired,
            wasted_completions: rec.wasted_completions,
            duplicate_executions: rec.duplicate_executions,
            idempotent_replays: rec.idempotent_replays,
            recovery_seconds,
            never_recovered,
            availability: Availability {
                time_share,
                time_nines: nines(time_share),
                requests_share,
                requests_nines: nines(requests_share),
            },
            cost: Cost {
                node_seconds,
                price_per_node_hour: self.price_per_node_hour,
                total: cost,
                peak_nodes: self.peak_nodes,
            },
            sessions: self.sessions.as_ref().map(|s| {
                let c = &s.counts;
                SessionsSummary {
                    design: format!("{:?}", s.design()),
                    spurious_logouts: c.spurious_logouts,
                    spurious_logout_fraction: if c.authenticated == 0 {
                        0.0
                    } else {
                        c.spurious_logouts as f64 / c.authenticated as f64
                    },
                    lost_on_crash: c.lost_on_crash,
                    accepted_after_logout: c.accepted_after_logout,
                    duplicate_sessions: c.duplicate_sessions,
                    logins: c.logins,
                    logouts: c.logouts,
                    authenticated_requests: c.authenticated,
                    rejected: c.rejected,
                    logged_in_at_end: s.logged_in(),
                    stale_reads: c.stale_reads,
                    lost_writes: c.lost_writes,
                    race_login_survived_logout_all: c.race_login_survived_logout_all,
                    race_login_lost_to_earlier_logout: c.race_login_lost_to_earlier_logout,
                    failed_logins: c.failed_logins,
                    lockouts: c.lockouts,
                    locked_out_logins: c.locked_out_logins,
                    ended_by_single_device: c.ended_by_single_device,
                    store: self.store.as_ref().map(|st| StoreSummary {
                        reads: st.reads(),
                        writes: st.writes(),
                        failed: st.failed(),
                        replica_reads: st.replica_reads(),
                        peak_connections: st.peak_connections() as u64,
                        ops_per_s: per_window_s(st.reads() + st.writes() - window.store_ops),
                        peak_ops_per_s: self.store_peak_ops as f64 / interval_s,
                        utilisation: st.utilisation(now),
                        peak_queue: st.peak_queue() as u64,
                    }),
                }
            }),
            locks: self.locks.as_ref().map(|l| LocksSummary {
                wait_ms_p99: l.waits.quantile_ms(0.99),
                wait_ms_mean: l.waits.mean_ms(),
                max_waiters: l.max_waiters as u64,
                committed: l.committed,
                committed_per_s: per_window_s(l.committed - window.committed),
                lost_updates: l.lost_updates,
                timeouts: l.timeouts,
                leases_expired: l.leases_expired,
            }),
            node_load_imbalance: {
                let served: Vec<u64> = self
                    .nodes
                    .iter()
                    .map(|n| n.served())
                    .filter(|&x| x > 0)
                    .collect();
                if served.is_empty() {
                    1.0
                } else {
                    let mean = served.iter().sum::<u64>() as f64 / served.len() as f64;
                    *served.iter().max().expect("non-empty") as f64 / mean
                }
            },
            dependency: self.dependency.as_ref().map(|d| DependencySummary {
                served: d.served(),
                utilisation: d.utilisation(now),
                peak_queue: d.peak_queue() as u64,
            }),
            nodes: self
                .nodes
                .iter()
                .enumerate()
                .filter(|(i, n)| {
                    *i < cfg.model.tier().count as usize
                        || n.served() > 0
                        || n.state() != NodeState::Off
                })
                .map(|(i, n)| NodeSummary {
                    node: i as u32,
                    served: n.served(),
                    utilisation: n.utilisation(now),
                    rejected: n.rejected(),
                    errors: n.errors(),
                    peak_queue: n.peak_queue() as u64,
                })
                .collect(),
            cache,
            db,
            warmup_check: crate::metrics::warmup::check(&rec.series, cfg, now.as_secs_f64()),
            components: Default::default(),
        };
        let trace = self.tracer.take().map(|t| t.finish(now));
        Ok(RunOutput {
            trace,
            request_log: self.request_log.take(),
            summary,
            series: self.recorder.series,
            batches: self.recorder.batches,
        })
    }
}
