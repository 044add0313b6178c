//! The single-tier form as the graph it is shorthand for.
//!
//! A single-tier model (`nodes: Nodes(…)`, with an optional `dependency`, `cache` and
//! `locks`) is one service in front of singleton resources. [`as_graph`] writes it out as
//! that graph: the nodes become the service [`SERVICE`], the dependency the database
//! [`DEPENDENCY`], the cache the cache [`CACHE`] in front of it, the lock rows the counter
//! [`COUNTER`] living in the database [`ROWS`]; each request kind of the workload's mix
//! becomes a path through them, in the order a node does them (its own work, the cache,
//! the lock, the dependency); the workload and clients become the population
//! [`CLIENTS`], and each fault names its target by those names.
//!
//! What the graph engine cannot say yet is reported, field by field, as [`NotYet`]: the
//! translation never drops a setting silently.

use indexmap::IndexMap;

use super::experiment::{ClientsSpec, ExperimentSpec, FaultSpec, ShapeSpec, WorkloadSpec};
use super::graph::{
    CounterRowsSpec, DatabaseSpec, GraphCacheSpec, PopulationSpec, PopulationWorkload, QueueSpec,
    ServiceSpec, Slowdown, StepSpec,
};
use super::model::{CachePlacement, ModelSpec, NodesSpec, SlowdownSpec};
use super::RunConfig;

/// The service the nodes become.
pub const SERVICE: &str = "app";
/// The database the dependency becomes.
pub const DEPENDENCY: &str = "dependency";
/// The cache the single-tier cache becomes.
pub const CACHE: &str = "cache";
/// The counter the lock rows become.
pub const COUNTER: &str = "counter";
/// The database the lock rows live in: as many workers as the graph allows, since the
/// single-tier rows are a delay with no capacity limit of their own.
pub const ROWS: &str = "rows";
/// The population the workload and clients become.
pub const CLIENTS: &str = "clients";
/// The request kind of a workload without a mix.
pub const DEFAULT_KIND: &str = "default";

/// Workers of the rows database: enough that no lock write ever waits for one.
const ROWS_WORKERS: u32 = 100_000;

/// The settings of a single-tier configuration the graph form cannot say yet, each as its
/// dotted field path (`model.sessions`, `clients.idempotency_keys`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotYet {
    /// The fields, in the order they were found.
    pub fields: Vec<String>,
}

impl std::fmt::Display for NotYet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not yet expressible in the graph form: {}",
            self.fields.join(", ")
        )
    }
}

/// The graph `cfg` is shorthand for, or the fields the graph form cannot say yet. A
/// configuration already in the graph form comes back as it is.
pub fn as_graph(cfg: &RunConfig) -> Result<RunConfig, NotYet> {
    if cfg.model.is_graph() {
        return Ok(cfg.clone());
    }
    let mut missing = Vec::new();
    let model = model(&cfg.model, &cfg.spec, &mut missing);
    let spec = experiment(&cfg.spec, &cfg.model, &mut missing);
    if !missing.is_empty() {
        return Err(NotYet { fields: missing });
    }
    Ok(RunConfig {
        spec,
        model,
        ..cfg.clone()
    })
}

/// The model's graph: its components and the request kinds' paths.
fn model(m: &ModelSpec, exp: &ExperimentSpec, missing: &mut Vec<String>) -> ModelSpec {
    let mut not = |f: &str| missing.push(f.to_string());
    if m.autoscaler.is_some() {
        not("model.autoscaler");
    }
    if m.price_per_node_hour != ModelSpec::default_price() {
        not("model.price_per_node_hour");
    }
    if m.sessions.is_some() {
        not("model.sessions");
    }
    if m.balancer.slow_start.is_some() {
        not("model.balancer.slow_start");
    }
    let nodes = m.tier();
    let mut out = ModelSpec {
        description: m.description.clone(),
        balancer: Default::default(),
        nodes: None,
        dependency: None,
        propagate_deadlines: m.propagate_deadlines,
        autoscaler: None,
        price_per_node_hour: ModelSpec::default_price(),
        sessions: None,
        cache: None,
        locks: None,
        services: IndexMap::new(),
        databases: IndexMap::new(),
        caches: IndexMap::new(),
        counters: IndexMap::new(),
        queues: IndexMap::new(),
        requests: IndexMap::new(),
        network: Default::default(),
    };
    let mut connections = IndexMap::new();
    if let Some(d) = &m.dependency {
        out.databases.insert(
            DEPENDENCY.to_string(),
            DatabaseSpec {
                workers: d.workers,
                queue: QueueSpec {
                    limit: d.queue_limit,
                    // As in the single-tier form: it acts only with propagated deadlines.
                    deadline_check: d.deadline_check,
                    ..Default::default()
                },
                max_connections: None,
                per_connection: 0.0,
                read: d.service.clone(),
                write: d.service.clone(),
                slowdown: None,
                replicas: None,
            },
        );
        if let Some(pool) = nodes.dependency_pool {
            connections.insert(DEPENDENCY.to_string(), pool);
        }
    }
    out.services.insert(
        SERVICE.to_string(),
        service(nodes, &m.balancer, connections),
    );
    if let Some(c) = &m.cache {
        if c.placement != CachePlacement::Shared {
            not("model.cache.placement");
        }
        if c.miss.is_some() {
            not("model.cache.miss");
        }
        if c.write_share > 0.0 {
            not("model.cache.write_share");
        }
        if c.early_refresh.is_some() {
            not("model.cache.early_refresh");
        }
        if c.prewarm {
            not("model.cache.prewarm");
        }
        if c.lease_retry.is_some() {
            not("model.cache.lease_retry");
        }
        if m.dependency.is_none() {
            // Validation requires it; a cache without a database has nothing to miss to.
            not("model.dependency");
        }
        out.caches.insert(
            CACHE.to_string(),
            GraphCacheSpec {
                database: DEPENDENCY.to_string(),
                capacity_keys: c.capacity_keys,
                ttl: c.ttl,
                ttl_jitter: c.ttl_jitter,
                hit: c.hit.clone(),
                keys: c.keys.clone(),
                coalescing: c.coalescing,
            },
        );
    }
    if let Some(l) = &m.locks {
        if matches!(l.counter, super::model::CounterSpec::Batched { .. }) {
            not("model.locks.counter");
        }
        if l.lease.is_some() {
            not("model.locks.lease");
        }
        out.databases.insert(
            ROWS.to_string(),
            DatabaseSpec {
                workers: ROWS_WORKERS,
                queue: QueueSpec::default(),
                max_connections: None,
                per_connection: 0.0,
                read: l.write.clone(),
                write: l.write.clone(),
                slowdown: None,
                replicas: None,
            },
        );
        out.counters.insert(
            COUNTER.to_string(),
            CounterRowsSpec {
                database: ROWS.to_string(),
                rows: l.counter.clone(),
                locking: l.locking,
                wait_timeout: l.wait_timeout,
            },
        );
    }
    for kind in kinds(exp) {
        let mut path = vec![StepSpec::Call(SERVICE.to_string())];
        if m.cache.is_some() {
            // A hit answers from the cache; a miss reads the dependency behind it.
            path.push(StepSpec::Get(CACHE.to_string()));
        }
        if m.locks.as_ref().is_some_and(|l| l.kind == kind) {
            path.push(StepSpec::Lock(COUNTER.to_string()));
        }
        if m.dependency.is_some() && m.cache.is_none() {
            path.push(StepSpec::Read(DEPENDENCY.to_string()));
        }
        out.requests.insert(kind, path);
    }
    out
}

/// The service the nodes are.
fn service(
    n: &NodesSpec,
    balancer: &super::model::BalancerSpec,
    connections: IndexMap<String, u32>,
) -> ServiceSpec {
    ServiceSpec {
        instances: n.count,
        workers: n.workers,
        queue: QueueSpec {
            limit: n.queue_limit,
            full: n.queue_full,
            discipline: n.discipline,
            deadline_check: n.deadline_check,
        },
        balancer: balancer.clone(),
        service: n.service.clone(),
        service_by_kind: n.service_by_kind.clone(),
        slowdown: n.slowdown.as_ref().map(per_work),
        startup: n.startup,
        cold_start: n.cold_start.clone(),
        connections,
        calls: None,
    }
}

/// A node's slowdown, counted in busy workers and queued requests.
fn per_work(s: &SlowdownSpec) -> Slowdown {
    Slowdown::PerWork {
        per_busy_worker: s.per_busy_worker,
        per_queued: s.per_queued,
        max_factor: s.max_factor,
    }
}

/// The request kinds of the workload's mix ("default" without one).
fn kinds(exp: &ExperimentSpec) -> Vec<String> {
    let mix = match &exp.workload {
        Some(WorkloadSpec::Open { mix, .. }) | Some(WorkloadSpec::Users { mix, .. }) => {
            mix.keys().cloned().collect()
        }
        None => Vec::new(),
    };
    if mix.is_empty() {
        vec![DEFAULT_KIND.to_string()]
    } else {
        mix
    }
}

/// The experiment with its workload and clients as one population and its faults aimed
/// at the graph's names.
fn experiment(e: &ExperimentSpec, m: &ModelSpec, missing: &mut Vec<String>) -> ExperimentSpec {
    let mut out = e.clone();
    if e.random_failures.is_some() {
        missing.push("random_failures".into());
    }
    if e.clients.idempotency_keys {
        missing.push("clients.idempotency_keys".into());
    }
    if let Some(w) = &e.workload {
        let mix: IndexMap<String, f64> = match w {
            WorkloadSpec::Open { mix, .. } | WorkloadSpec::Users { mix, .. } if !mix.is_empty() => {
                mix.clone()
            }
            _ => [(DEFAULT_KIND.to_string(), 1.0)].into_iter().collect(),
        };
        let workload = match w {
            WorkloadSpec::Open {
                rate_per_s,
                shape,
                max_requests,
                ..
            } => {
                if max_requests.is_some() {
                    missing.push("workload.max_requests".into());
                }
                PopulationWorkload::Open {
                    rate_per_s: *rate_per_s,
                    shape: shape.clone(),
                }
            }
            WorkloadSpec::Users {
                count,
                think,
                shape,
                logout_share,
                stale_tab_share,
                devices,
                ..
            } => {
                if *shape != ShapeSpec::Constant {
                    missing.push("workload.shape".into());
                }
                if *logout_share > 0.0 || *stale_tab_share > 0.0 || *devices != 1 {
                    missing.push("workload (sessions' shares and devices)".into());
                }
                PopulationWorkload::Users {
                    count: *count,
                    think: think.clone(),
                }
            }
        };
        out.populations
            .insert(CLIENTS.to_string(), population(workload, mix, &e.clients));
    }
    out.workload = None;
    out.clients = ClientsSpec::default();
    out.faults = e
        .faults
        .iter()
        .filter_map(|f| fault(f, m, missing))
        .collect();
    out
}

/// The population of the single-tier workload with its clients' policy.
fn population(
    workload: PopulationWorkload,
    mix: IndexMap<String, f64>,
    c: &ClientsSpec,
) -> PopulationSpec {
    PopulationSpec {
        workload,
        mix,
        timeout: c.timeout,
        retry: c.retry.clone(),
        throttle: c.throttle.clone(),
        // The single-tier keys answer a retry of a completed request at the node; the
        // graph's keep a database from applying a write twice: not the same, so
        // `clients.idempotency_keys` stays a field the graph cannot say yet.
        idempotency_keys: false,
    }
}

/// A fault aimed at the graph's names, or `None` (and a missing field) where the graph
/// cannot say it yet.
fn fault(f: &FaultSpec, m: &ModelSpec, missing: &mut Vec<String>) -> Option<FaultSpec> {
    let svc = || Some(SERVICE.to_string());
    let f = f.clone();
    Some(match f {
        FaultSpec::Crash {
            node,
            at,
            restart_after,
            ..
        } => FaultSpec::Crash {
            node: None,
            service: svc(),
            database: None,
            instance: node,
            at,
            restart_after,
        },
        FaultSpec::Slow {
            node,
            at,
            lasting,
            factor,
            ..
        } => FaultSpec::Slow {
            node: None,
            service: svc(),
            database: None,
            instance: node,
            at,
            lasting,
            factor,
        },
        FaultSpec::CutCapacity {
            node,
            at,
            lasting,
            workers,
            ..
        } => FaultSpec::CutCapacity {
            node: None,
            service: svc(),
            database: None,
            instance: node,
            at,
            lasting,
            workers,
        },
        FaultSpec::Partition {
            node, at, lasting, ..
        } => FaultSpec::Partition {
            node: None,
            service: svc(),
            database: None,
            instance: node,
            at,
            lasting,
        },
        FaultSpec::FailRequests {
            node,
            at,
            lasting,
            percent,
            ..
        } => FaultSpec::FailRequests {
            node: None,
            service: svc(),
            database: None,
            instance: node,
            at,
            lasting,
            percent,
        },
        FaultSpec::StallDependency { at, lasting } if m.dependency.is_some() => FaultSpec::Stall {
            database: DEPENDENCY.to_string(),
            at,
            lasting,
        },
        FaultSpec::FlushCache { at } if m.cache.is_some() => FaultSpec::Flush {
            cache: CACHE.to_string(),
            at,
        },
        other => {
            missing.push(format!("faults ({})", other.label()));
            return None;
        }
    })
}

/// Fills the single-tier sections of `summary` (a run of the graph [`as_graph`] wrote)
/// from its components, so that what a single-tier file's claims and readers look for
/// (`dependency.utilisation`, `cache.peak_misses_per_key`, `db.peak_qps`,
/// `locks.max_waiters`) is where they look. A figure the component does not report is 0.
pub fn single_tier_sections(summary: &mut crate::metrics::Summary) {
    use crate::metrics::summary::{CacheSummary, DbSummary, DependencySummary, LocksSummary};
    let served: Vec<u64> = summary
        .nodes
        .iter()
        .map(|n| n.served)
        .filter(|&x| x > 0)
        .collect();
    if !served.is_empty() {
        let mean = served.iter().sum::<u64>() as f64 / served.len() as f64;
        summary.node_load_imbalance = *served.iter().max().expect("non-empty") as f64 / mean;
    }
    let comps = summary.components.clone();
    let of = |key: String| comps.get(&key);
    let get = |c: &IndexMap<String, f64>, f: &str| c.get(f).copied().unwrap_or(0.0);
    let count = |c: &IndexMap<String, f64>, f: &str| {
        let v = get(c, f);
        if v.is_finite() {
            v as u64
        } else {
            0
        }
    };
    let db = of(format!("db.{DEPENDENCY}"));
    if let Some(d) = db {
        summary.dependency = Some(DependencySummary {
            served: count(d, "queries"),
            utilisation: get(d, "utilisation"),
            peak_queue: count(d, "peak_queue_len"),
        });
    }
    if let Some(c) = of(format!("cache.{CACHE}")) {
        summary.cache = Some(CacheSummary {
            hit_ratio: get(c, "hit_ratio"),
            hits: count(c, "hits"),
            misses: count(c, "misses"),
            coalesced: count(c, "coalesced"),
            early_refreshes: count(c, "early_refreshes"),
            writes: count(c, "writes"),
            lease_retries: count(c, "lease_retries"),
            stale_fills_prevented: count(c, "stale_fills_prevented"),
            peak_misses_per_key: count(c, "peak_misses_per_key"),
        });
        // The single-tier `db` is the load the cache sends the database behind it.
        if let Some(d) = db {
            summary.db = Some(DbSummary {
                peak_qps: get(d, "peak_qps"),
                queries: count(d, "queries"),
                mean_qps: get(d, "mean_qps"),
            });
        }
    }
    if let Some(l) = of(format!("counter.{COUNTER}")) {
        summary.locks = Some(LocksSummary {
            wait_ms_p99: get(l, "wait_ms_p99"),
            wait_ms_mean: get(l, "wait_ms_mean"),
            max_waiters: count(l, "max_waiters"),
            committed: count(l, "committed"),
            committed_per_s: get(l, "committed_per_s"),
            lost_updates: count(l, "lost_updates"),
            timeouts: count(l, "timeouts"),
            leases_expired: count(l, "leases_expired"),
        });
    }
}
