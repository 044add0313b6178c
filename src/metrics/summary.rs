//! The run summary written as `summary.json`: what a run did, in figures.
//!
//! **One measured window.** Every per-second figure (`throughput_rps`, `goodput_rps`,
//! `db.mean_qps`, `db.peak_qps`, `sessions.store.ops_per_s`, `sessions.store.peak_ops_per_s`,
//! `locks.committed_per_s`) covers the same window: from the end of the warm-up to the end
//! of the run. Figures counted per metrics interval (the cache's, the database's, the
//! store's operations and the lock commits) start at the first interval boundary at or
//! after the warm-up — the same instant when the warm-up is a whole number of intervals, as
//! in every bundled experiment. Counts without "per second" (`requests`, `locks.committed`,
//! `sessions.*`) cover the whole run.
//!
//! **Absent components.** A component the model does not have (`dependency`, `sessions`,
//! `sessions.store`, `locks`, `cache`, `db`) is `null` in the JSON and an empty cell in
//! every CSV file ([`Summary::figures`] gives NaN for its columns), never a 0.
//!
//! **A graph run** has none of those fixed parts: its components declare their figures in
//! the metrics schema ([`super::schema`]) and the engine sets them with
//! [`Summary::set_components`]; [`Summary::figures`] and the JSON view
//! ([`Summary::to_json_value`], in `summary_json`) key them by component (`db.main.peak_qps`),
//! and a component the model does not have has no figure at all.

use indexmap::IndexMap;
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

/// Latency of one population of requests issued after the warm-up (the successes, or the
/// failures: issue to the failure the user saw), in milliseconds; all 0 when `count` is 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Requests counted.
    #[serde(default)]
    pub count: u64,
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

impl LatencySummary {
    /// The summary of the latencies in `l`.
    pub fn of(l: &super::LatencyStats) -> LatencySummary {
        LatencySummary {
            count: l.count(),
            mean: l.mean_ms(),
            p50: l.quantile_ms(0.5),
            p95: l.quantile_ms(0.95),
            p99: l.quantile_ms(0.99),
            p999: l.quantile_ms(0.999),
            max: l.max_ms(),
        }
    }
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
    /// Share of its worker time (while up) spent serving (0..1).
    pub utilisation: f64,
    /// Attempts its full queue turned away.
    pub rejected: u64,
    /// Attempts that failed there with an injected error.
    pub errors: u64,
    /// Its longest queue.
    pub peak_queue: u64,
}

/// Availability in shares and "nines" (−log10 of the unavailable share; 99.9% = 3).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    /// Share of time with at least one node serving.
    pub time_share: f64,
    /// The same in nines.
    pub time_nines: f64,
    /// Share of requests (ended ones) that succeeded.
    pub requests_share: f64,
    /// The same in nines.
    pub requests_nines: f64,
}

/// What the nodes cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Node-seconds provisioned (booting and draining included).
    pub node_seconds: f64,
    /// Price of one node-hour.
    pub price_per_node_hour: f64,
    /// node_seconds / 3600 × price.
    pub total: f64,
    /// The most nodes provisioned at once.
    pub peak_nodes: u32,
}

/// The downstream dependency's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DependencySummary {
    /// Calls served.
    pub served: u64,
    /// Share of worker time busy.
    pub utilisation: f64,
    /// Longest queue.
    pub peak_queue: u64,
}

/// What happened to user sessions (when the model has them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionsSummary {
    /// The session design.
    pub design: String,
    /// Valid sessions rejected: users logged out against their will.
    pub spurious_logouts: u64,
    /// spurious_logouts ÷ authenticated requests checked.
    pub spurious_logout_fraction: f64,
    /// Live sessions that disappeared with a node (crash, restart, scale-in).
    pub lost_on_crash: u64,
    /// Requests accepted with a session whose user had logged out (a security violation).
    pub accepted_after_logout: u64,
    /// Extra sessions created by retried logins without an idempotency key.
    pub duplicate_sessions: u64,
    /// Logins executed by nodes.
    pub logins: u64,
    /// Logouts executed by nodes.
    pub logouts: u64,
    /// Authenticated requests whose session was checked.
    pub authenticated_requests: u64,
    /// Authenticated requests rejected (for any reason).
    pub rejected: u64,
    /// Users logged in at the end of the run.
    pub logged_in_at_end: u64,
    /// Session reads from a replica that had not caught up with the user's latest write.
    pub stale_reads: u64,
    /// Session writes lost in a primary failover (not yet on the promoted replica).
    pub lost_writes: u64,
    /// Logins that survived a "log out of all devices" issued after them (applied first).
    pub race_login_survived_logout_all: u64,
    /// Logins wiped by a "log out of all devices" issued before them (applied after).
    pub race_login_lost_to_earlier_logout: u64,
    /// Logins with a wrong password.
    pub failed_logins: u64,
    /// Accounts locked after too many failed logins in a row.
    pub lockouts: u64,
    /// Logins refused because the account was locked.
    pub locked_out_logins: u64,
    /// Sessions on other devices ended by a single-device login.
    pub ended_by_single_device: u64,
    /// The session store's figures, when the design has one.
    pub store: Option<StoreSummary>,
}

/// The session store's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreSummary {
    /// Reads served.
    pub reads: u64,
    /// Writes served.
    pub writes: u64,
    /// Operations that failed (store down or queue full).
    pub failed: u64,
    /// Reads served by replicas.
    pub replica_reads: u64,
    /// The most operations running or waiting at once (connections in use).
    pub peak_connections: u64,
    /// Reads and writes per simulated second, over the measured window (after the warm-up).
    pub ops_per_s: f64,
    /// The most reads and writes started in one metrics interval after the warm-up ÷ the
    /// interval length, per second.
    #[serde(default)]
    pub peak_ops_per_s: f64,
    /// Share of worker time busy.
    pub utilisation: f64,
    /// Longest queue.
    pub peak_queue: u64,
}

/// The counter's row locks (when the model has them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LocksSummary {
    /// 99th percentile wait for a lock, of requests that got it, ms.
    pub wait_ms_p99: f64,
    /// Mean wait for a lock, ms.
    pub wait_ms_mean: f64,
    /// The most requests waiting for one row at once.
    pub max_waiters: u64,
    /// Increments committed to the counter.
    pub committed: u64,
    /// Increments committed per simulated second over the measured window (after the warm-up).
    pub committed_per_s: f64,
    /// Increments lost (racing unlocked writes, writes after a lease expired, unwritten
    /// batches of crashed nodes).
    pub lost_updates: u64,
    /// Requests that gave up waiting for a lock.
    pub timeouts: u64,
    /// Leases that expired under a stalled holder.
    pub leases_expired: u64,
}

/// The look-aside cache's figures, over the metrics intervals after the warm-up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheSummary {
    /// hits ÷ lookups (hits + misses + coalesced waits).
    pub hit_ratio: f64,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that queried the database (early refreshes included).
    pub misses: u64,
    /// Misses that waited for another request's fetch of the same key.
    pub coalesced: u64,
    /// Hits that refreshed their key early (XFetch).
    pub early_refreshes: u64,
    /// Writes (each invalidates its key).
    pub writes: u64,
    /// Lookups that found their key leased to another fetch and looked again later.
    pub lease_retries: u64,
    /// Fetches whose lease a write revoked, so their possibly old answer was not cached.
    pub stale_fills_prevented: u64,
    /// The most database fetches of one key started within one metrics interval, over
    /// every cache (with coalescing: about one per cache per refresh of a hot key).
    pub peak_misses_per_key: u64,
}

/// The database behind the look-aside cache: the load the cache sends it, over the
/// intervals after the warm-up. (The session store's figures are in `sessions.store`.)
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DbSummary {
    /// The most queries started in one metrics interval ÷ the interval length, per second.
    pub peak_qps: f64,
    /// Queries sent (cache misses and writes).
    pub queries: u64,
    /// Mean queries per second.
    pub mean_qps: f64,
}

/// Turns a share (0..1) into nines, capped at 9 for a perfect record.
pub fn nines(share: f64) -> f64 {
    if share >= 1.0 {
        9.0
    } else if share <= 0.0 {
        0.0
    } else {
        (-(1.0 - share).log10()).min(9.0)
    }
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
    /// Latency of successes issued after the warm-up, ms.
    pub latency_ms: LatencySummary,
    /// Latency of failures issued after the warm-up (issue to failure), ms: the design
    /// that fails most can look fastest in `latency_ms` alone.
    #[serde(default)]
    pub latency_failed_ms: LatencySummary,
    /// Queueing wait of the same requests, ms.
    pub wait_ms: WaitSummary,
    /// Attempts completed by nodes per simulated second after the warm-up, useful or not.
    pub throughput_rps: f64,
    /// Successful requests (issued after the warm-up) per simulated second after it.
    pub goodput_rps: f64,
    /// Attempts sent (first tries and retries).
    pub attempts: u64,
    /// Retries sent.
    pub retries: u64,
    /// Attempts per user request over the whole run.
    pub retry_amplification: f64,
    /// The highest attempts-per-request ratio of any metrics interval.
    pub retry_amplification_peak: f64,
    /// Retries the budget refused.
    pub budget_denied: u64,
    /// Waiting attempts dropped because their client had already given up.
    pub shed_expired: u64,
    /// Attempts completed by a node after their client had stopped waiting.
    pub wasted_completions: u64,
    /// Work done again for a request already completed once (no idempotency key).
    pub duplicate_executions: u64,
    /// Retries answered from an idempotency record.
    pub idempotent_replays: u64,
    /// Seconds from the end of the last scheduled fault until goodput is back to 90% of
    /// the offered load for 5 intervals in a row; `null` with no fault or no recovery.
    pub recovery_seconds: Option<f64>,
    /// Whether the run had a trigger but never recovered from it.
    pub never_recovered: bool,
    /// Availability of the service.
    #[serde(default)]
    pub availability: Availability,
    /// Node cost.
    #[serde(default)]
    pub cost: Cost,
    /// The dependency's figures, if the model has one.
    pub dependency: Option<DependencySummary>,
    /// User sessions, if the model has them.
    pub sessions: Option<SessionsSummary>,
    /// The counter's locks, if the model has them.
    pub locks: Option<LocksSummary>,
    /// Load spread: the busiest node's completed attempts ÷ the mean over nodes (1 = even).
    #[serde(default)]
    pub node_load_imbalance: f64,
    /// Per-node figures.
    #[serde(default)]
    pub nodes: Vec<NodeSummary>,
    /// The look-aside cache, if the model has one.
    #[serde(default)]
    pub cache: Option<CacheSummary>,
    /// The database behind the cache, when the model has a cache.
    #[serde(default)]
    pub db: Option<DbSummary>,
    /// Whether the warm-up looks long enough (MSER-5 on the goodput and latency series).
    #[serde(default)]
    pub warmup_check: super::warmup::WarmupCheck,
    /// A graph run's components: key (`db.main`) → figure name → value, as each
    /// component's schema declares them (NaN: not measurable). Empty for a single-tier run.
    /// In `summary.json` each component is a top-level object under its key (see
    /// [`Summary::to_json_value`]).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub components: IndexMap<String, IndexMap<String, f64>>,
}

impl Summary {
    /// Every numeric figure with a stable, unit-suffixed column name (for CSV files).
    /// Wall time is left out: these figures are identical for identical runs.
    ///
    /// A graph run has the request-level figures, then `<key>.<name>` for every figure its
    /// components declare (`db.main.peak_qps`), and none of the single-tier ones (nodes,
    /// availability, cost, dependency, sessions, locks, cache, db) — unless it is a
    /// single-tier model run as its graph (it has `nodes`): then the single-tier figures come
    /// first, as that model's readers expect, and its components' after them.
    pub fn figures(&self) -> Vec<(String, f64)> {
        let mut f = self.request_figures();
        if self.is_graph() {
            if !self.nodes.is_empty() {
                self.single_tier_figures(&mut f);
            }
            for (key, figures) in &self.components {
                f.extend(figures.iter().map(|(n, v)| (format!("{key}.{n}"), *v)));
            }
        } else {
            self.single_tier_figures(&mut f);
        }
        f
    }

    /// Whether this is a graph run's summary (its components declare their figures).
    pub fn is_graph(&self) -> bool {
        !self.components.is_empty()
    }

    /// Sets the components' figures, in the order given (each value under its schema's
    /// figure name). The engine of a graph run calls it once, at the end.
    pub fn set_components(&mut self, figs: &[super::schema::ComponentFigures]) {
        self.components = figs
            .iter()
            .map(|c| {
                assert_eq!(
                    c.values.len(),
                    c.schema.figures.len(),
                    "{}: one value per declared figure",
                    c.key
                );
                let named = c.schema.figures.iter().map(|m| m.name.to_string());
                (c.key.clone(), named.zip(c.values.iter().copied()).collect())
            })
            .collect();
    }

    /// The figures every run has: requests, latency, goodput, retries, recovery.
    fn request_figures(&self) -> Vec<(String, f64)> {
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
            ("latency_success_share".into(), self.success_share()),
            ("latency_failed_ms_mean".into(), self.latency_failed_ms.mean),
            ("latency_failed_ms_p50".into(), self.latency_failed_ms.p50),
            ("latency_failed_ms_p99".into(), self.latency_failed_ms.p99),
            ("wait_ms_mean".into(), self.wait_ms.mean),
            ("throughput_rps".into(), self.throughput_rps),
            ("goodput_rps".into(), self.goodput_rps),
            ("attempts".into(), self.attempts as f64),
            ("retries".into(), self.retries as f64),
            ("retry_amplification".into(), self.retry_amplification),
            (
                "retry_amplification_peak".into(),
                self.retry_amplification_peak,
            ),
            ("budget_denied".into(), self.budget_denied as f64),
            ("shed_expired".into(), self.shed_expired as f64),
            ("wasted_completions".into(), self.wasted_completions as f64),
            (
                "duplicate_executions".into(),
                self.duplicate_executions as f64,
            ),
            (
                "recovery_seconds".into(),
                self.recovery_seconds.unwrap_or(f64::NAN),
            ),
            (
                "never_recovered".into(),
                f64::from(u8::from(self.never_recovered)),
            ),
        ]);
        f
    }

    /// The single-tier model's figures: availability, cost, nodes and its fixed components.
    fn single_tier_figures(&self, f: &mut Vec<(String, f64)>) {
        f.extend([
            (
                "availability_time_share".into(),
                self.availability.time_share,
            ),
            (
                "availability_requests_share".into(),
                self.availability.requests_share,
            ),
            (
                "availability_requests_nines".into(),
                self.availability.requests_nines,
            ),
            ("cost_node_seconds".into(), self.cost.node_seconds),
            ("cost_total".into(), self.cost.total),
            ("peak_nodes".into(), self.cost.peak_nodes as f64),
            ("node_load_imbalance".into(), self.node_load_imbalance),
        ]);
        // Absent components give NaN (an empty CSV cell), never a 0 that reads as a figure.
        let opt = |x: Option<f64>| x.unwrap_or(f64::NAN);
        let ss = self.sessions.as_ref();
        let st = ss.and_then(|s| s.store.as_ref());
        let sf = |g: &dyn Fn(&SessionsSummary) -> f64| opt(ss.map(g));
        let stf = |g: &dyn Fn(&StoreSummary) -> f64| opt(st.map(g));
        f.extend([
            (
                "sessions_spurious_logouts".into(),
                sf(&|x| x.spurious_logouts as f64),
            ),
            (
                "sessions_spurious_logout_fraction".into(),
                sf(&|x| x.spurious_logout_fraction),
            ),
            (
                "sessions_lost_on_crash".into(),
                sf(&|x| x.lost_on_crash as f64),
            ),
            (
                "sessions_accepted_after_logout".into(),
                sf(&|x| x.accepted_after_logout as f64),
            ),
            (
                "sessions_duplicate_sessions".into(),
                sf(&|x| x.duplicate_sessions as f64),
            ),
            ("sessions_logins".into(), sf(&|x| x.logins as f64)),
            (
                "sessions_authenticated_requests".into(),
                sf(&|x| x.authenticated_requests as f64),
            ),
            ("sessions_stale_reads".into(), sf(&|x| x.stale_reads as f64)),
            ("sessions_lost_writes".into(), sf(&|x| x.lost_writes as f64)),
            (
                "sessions_race_login_survived_logout_all".into(),
                sf(&|x| x.race_login_survived_logout_all as f64),
            ),
            (
                "sessions_race_login_lost_to_earlier_logout".into(),
                sf(&|x| x.race_login_lost_to_earlier_logout as f64),
            ),
            ("store_ops_per_s".into(), stf(&|x| x.ops_per_s)),
            ("store_peak_ops_per_s".into(), stf(&|x| x.peak_ops_per_s)),
            ("store_utilisation".into(), stf(&|x| x.utilisation)),
            (
                "store_peak_connections".into(),
                stf(&|x| x.peak_connections as f64),
            ),
        ]);
        let lk = self.locks.as_ref();
        let lf = |g: &dyn Fn(&LocksSummary) -> f64| opt(lk.map(g));
        f.extend([
            ("locks_wait_ms_p99".into(), lf(&|x| x.wait_ms_p99)),
            ("locks_max_waiters".into(), lf(&|x| x.max_waiters as f64)),
            ("locks_committed".into(), lf(&|x| x.committed as f64)),
            ("locks_committed_per_s".into(), lf(&|x| x.committed_per_s)),
            ("locks_lost_updates".into(), lf(&|x| x.lost_updates as f64)),
            ("locks_timeouts".into(), lf(&|x| x.timeouts as f64)),
        ]);
        let c = self.cache.as_ref();
        let cf = |g: &dyn Fn(&CacheSummary) -> f64| opt(c.map(g));
        let db = self.db.as_ref();
        let df = |g: &dyn Fn(&DbSummary) -> f64| opt(db.map(g));
        f.extend([
            ("cache_hit_ratio".into(), cf(&|x| x.hit_ratio)),
            (
                "cache_peak_misses_per_key".into(),
                cf(&|x| x.peak_misses_per_key as f64),
            ),
            ("cache_coalesced".into(), cf(&|x| x.coalesced as f64)),
            ("db_peak_qps".into(), df(&|x| x.peak_qps)),
            ("db_mean_qps".into(), df(&|x| x.mean_qps)),
        ]);
        let dep = self.dependency.as_ref();
        f.push((
            "dependency_utilisation".into(),
            opt(dep.map(|d| d.utilisation)),
        ));
    }

    /// Whether the column `name` of [`Summary::figures`] belongs to a component this run's
    /// model does not have (its value is then NaN, an empty CSV cell). In a graph run, a
    /// component figure is absent when the run has no such component or the figure was not
    /// measurable (NaN, e.g. a p99 without samples).
    pub fn is_absent_figure(&self, name: &str) -> bool {
        if let Some((key, figure)) = super::schema::split_column(name) {
            return self
                .components
                .get(key)
                .and_then(|c| c.get(figure))
                .is_none_or(|v| v.is_nan());
        }
        let store = self.sessions.as_ref().is_some_and(|s| s.store.is_some());
        [
            ("sessions_", self.sessions.is_some()),
            ("store_", store),
            ("locks_", self.locks.is_some()),
            ("cache_", self.cache.is_some()),
            ("db_", self.db.is_some()),
            ("dependency_", self.dependency.is_some()),
        ]
        .iter()
        .any(|(prefix, present)| name.starts_with(prefix) && !present)
    }

    /// The share of requests issued after the warm-up and ended that succeeded: the
    /// population split between `latency_ms` and `latency_failed_ms` (1 when none ended).
    pub fn success_share(&self) -> f64 {
        let ended = self.latency_ms.count + self.latency_failed_ms.count;
        if ended == 0 {
            1.0
        } else {
            self.latency_ms.count as f64 / ended as f64
        }
    }

    /// The JSON text with `wall_seconds` zeroed: identical for identical runs.
    pub fn deterministic_json(&self) -> String {
        let mut s = self.clone();
        s.wall_seconds = 0.0;
        s.to_json_text()
    }
}
