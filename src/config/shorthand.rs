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

use super::experiment::{ClientsSpec, ExperimentSpec, FaultSpec, WorkloadSpec};
use super::graph::cache::GraphCachePlacement;
use super::graph::sessions::{ServiceSessionDesign, ServiceSessionsSpec};
use super::graph::DbReplicas;
use super::graph::{
    CounterRowsSpec, DatabaseSpec, GraphCacheSpec, PopulationSpec, PopulationWorkload, QueueSpec,
    ServiceSpec, Slowdown, StepSpec,
};
use super::model::{
    CachePlacement, ModelSpec, NodesSpec, SessionDesign, SessionsSpec, SlowdownSpec, StoreSpec,
};
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
/// The database a session store (or a revocation list) becomes.
pub const SESSIONS_STORE: &str = "sessions";
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
    let (spec, model) = as_graph_specs(&cfg.spec, &cfg.model)?;
    Ok(RunConfig {
        spec,
        model,
        ..cfg.clone()
    })
}

/// [`as_graph`] of an experiment and its single-tier model: the graph's experiment and
/// model.
pub fn as_graph_specs(
    e: &ExperimentSpec,
    m: &ModelSpec,
) -> Result<(ExperimentSpec, ModelSpec), NotYet> {
    let mut missing = Vec::new();
    let model = model(m, e, &mut missing);
    let spec = experiment(e, m, &mut missing);
    if !missing.is_empty() {
        return Err(NotYet { fields: missing });
    }
    Ok((spec, model))
}

/// The single-tier field a field of the graph [`as_graph`] writes comes from, for
/// messages about a single-tier file (`model.services.app.instances` is
/// `model.nodes.count`, `populations.clients.workload.count` is `workload.count`); a
/// field with no single-tier counterpart comes back as it is.
pub fn single_tier_field(graph_field: &str) -> String {
    let service = format!("model.services.{SERVICE}.");
    let renames: [(String, &str); 9] = [
        (format!("{service}instances"), "model.nodes.count"),
        (format!("{service}autoscaler."), "model.autoscaler."),
        (format!("{service}balancer."), "model.balancer."),
        (format!("{service}sessions"), "model.sessions"),
        (service, "model.nodes."),
        (format!("model.caches.{CACHE}."), "model.cache."),
        (
            format!("model.counters.{COUNTER}.rows."),
            "model.locks.counter.",
        ),
        (format!("populations.{CLIENTS}.workload."), "workload."),
        (format!("populations.{CLIENTS}."), "clients."),
    ];
    for (from, to) in &renames {
        if let Some(rest) = graph_field.strip_prefix(from.as_str()) {
            return format!("{to}{rest}");
        }
    }
    graph_field.to_string()
}

/// The model's graph: its components and the request kinds' paths.
fn model(m: &ModelSpec, exp: &ExperimentSpec, missing: &mut Vec<String>) -> ModelSpec {
    let mut not = |f: &str| missing.push(f.to_string());
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
    let mut app = service(nodes, &m.balancer, connections);
    app.autoscaler = m.autoscaler.clone();
    app.price_per_instance_hour = m.price_per_node_hour;
    if let Some(sessions) = &m.sessions {
        let (spec, store) = service_sessions(sessions);
        app.sessions = Some(spec);
        if let Some(store) = store {
            out.databases.insert(SESSIONS_STORE.to_string(), store);
        }
    }
    out.services.insert(SERVICE.to_string(), app);
    if let Some(c) = &m.cache {
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
                placement: match c.placement {
                    CachePlacement::Shared => GraphCachePlacement::Shared,
                    CachePlacement::PerNode => GraphCachePlacement::PerInstance(SERVICE.into()),
                },
                miss: c.miss.clone(),
                write_share: c.write_share,
                early_refresh: c.early_refresh,
                prewarm: c.prewarm,
                lease_retry: c.lease_retry,
            },
        );
    }
    if let Some(l) = &m.locks {
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
                lease: l.lease,
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
        autoscaler: None,
        price_per_instance_hour: ModelSpec::default_price(),
        sessions: None,
    }
}

/// The service's sessions, and the database their store (or revocation list) becomes.
fn service_sessions(s: &SessionsSpec) -> (ServiceSessionsSpec, Option<DatabaseSpec>) {
    let (design, store) = match &s.design {
        SessionDesign::InMemory => (ServiceSessionDesign::InMemory, None),
        SessionDesign::Externalized { store, on_outage } => (
            ServiceSessionDesign::Externalized {
                store: SESSIONS_STORE.to_string(),
                on_outage: *on_outage,
                writes_per_login: store.writes_per_login,
            },
            Some(store_database(store)),
        ),
        SessionDesign::SignedToken {
            ttl,
            revocation_list,
        } => (
            ServiceSessionDesign::SignedToken {
                ttl: *ttl,
                revocation_list: revocation_list.as_ref().map(|_| SESSIONS_STORE.to_string()),
            },
            revocation_list.as_ref().map(store_database),
        ),
    };
    let spec = ServiceSessionsSpec {
        design,
        login_service: s.login_service.clone(),
        logout: s.logout,
        single_device: s.single_device,
        failed_login_share: s.failed_login_share,
        lockout_after: s.lockout_after,
        lockout_for: s.lockout_for,
    };
    (spec, store)
}

/// The database a single-tier session store is: its workers, queue, times, connection cap
/// and replicas.
fn store_database(st: &StoreSpec) -> DatabaseSpec {
    DatabaseSpec {
        workers: st.workers,
        queue: QueueSpec {
            limit: st.queue_limit,
            ..Default::default()
        },
        max_connections: st.max_connections,
        per_connection: 0.0,
        read: st.read.clone(),
        write: st.write.clone(),
        slowdown: None,
        replicas: st.replicas.as_ref().map(|r| DbReplicas {
            count: r.count,
            workers: r.workers,
            lag: r.lag.clone(),
            reads: r.reads.clone(),
        }),
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
    // Random failures strike the nodes: the one service's instances.
    if let Some(rf) = &mut out.random_failures {
        rf.services = vec![SERVICE.to_string()];
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
            } => PopulationWorkload::Open {
                rate_per_s: *rate_per_s,
                shape: shape.clone(),
                max_requests: *max_requests,
            },
            WorkloadSpec::Users {
                count,
                think,
                shape,
                logout_share,
                stale_tab_share,
                devices,
                ..
            } => PopulationWorkload::Users {
                count: *count,
                think: think.clone(),
                shape: shape.clone(),
                logout_share: *logout_share,
                stale_tab_share: *stale_tab_share,
                devices: *devices,
            },
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
        // A keyed retry of a request the service has served is answered from its record,
        // as a single-tier node answers one (the graph's databases also apply a keyed
        // write once, but the single-tier paths write nothing).
        idempotency_keys: c.idempotency_keys,
    }
}

/// A fault aimed at the graph's names, or `None` (and a missing field) where the graph
/// cannot say it yet.
fn fault(f: &FaultSpec, m: &ModelSpec, missing: &mut Vec<String>) -> Option<FaultSpec> {
    let mut f = f.clone();
    // A fault on a node is a fault on that instance of the service.
    if let FaultSpec::Crash {
        node,
        service,
        instance,
        ..
    }
    | FaultSpec::Slow {
        node,
        service,
        instance,
        ..
    }
    | FaultSpec::CutCapacity {
        node,
        service,
        instance,
        ..
    }
    | FaultSpec::Partition {
        node,
        service,
        instance,
        ..
    }
    | FaultSpec::FailRequests {
        node,
        service,
        instance,
        ..
    } = &mut f
    {
        *instance = node.take();
        *service = Some(SERVICE.to_string());
        return Some(f);
    }
    Some(match f {
        FaultSpec::StallDependency { at, lasting } if m.dependency.is_some() => FaultSpec::Stall {
            database: DEPENDENCY.to_string(),
            at,
            lasting,
        },
        // The holder at `at` waits `stall` for its write: the rows' database stops
        // taking writes for that long (with one row, the same; with sharded rows, every
        // row's next write waits, not just one holder's).
        FaultSpec::SlowLockHolder { at, stall } if m.locks.is_some() => FaultSpec::Stall {
            database: ROWS.to_string(),
            at,
            lasting: stall,
        },
        // The session store's faults are its database's.
        FaultSpec::StoreOutage { at, lasting } if has_store(m) => FaultSpec::FailRequests {
            node: None,
            service: None,
            database: Some(SESSIONS_STORE.to_string()),
            instance: None,
            at,
            lasting,
            percent: 100.0,
        },
        FaultSpec::ReplicationLagSpike { at, lasting, extra } if has_store(m) => {
            FaultSpec::LagSpike {
                database: SESSIONS_STORE.to_string(),
                at,
                lasting,
                extra,
            }
        }
        FaultSpec::PrimaryFailover { at, lasting } if has_store(m) => FaultSpec::Failover {
            database: SESSIONS_STORE.to_string(),
            at,
            lasting,
        },
        FaultSpec::FlushCache { at } if m.cache.is_some() => FaultSpec::Flush {
            cache: CACHE.to_string(),
            at,
        },
        // Validation allows a store's faults on a design without a store, and a flush
        // without a cache, so that one experiment can compare designs under the same
        // faults: nothing happens. Kept as they are, they name no component of the graph
        // (none acts on them) but still count as faults in the time series' labels and
        // the recovery's trigger, as on a single-tier node.
        f @ (FaultSpec::StoreOutage { .. }
        | FaultSpec::ReplicationLagSpike { .. }
        | FaultSpec::PrimaryFailover { .. })
            if !has_store(m) =>
        {
            f
        }
        f @ FaultSpec::FlushCache { .. } if m.cache.is_none() => f,
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
pub fn single_tier_sections(
    summary: &mut crate::metrics::Summary,
    warmup_s: f64,
    design: Option<String>,
) {
    use crate::metrics::summary::{
        CacheSummary, DbSummary, DependencySummary, LocksSummary, SessionsSummary, StoreSummary,
    };
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
    // A figure with nothing to measure (a wait percentile with no waits) is NaN in the
    // components and 0 in the single-tier sections, as there.
    let get = |c: &IndexMap<String, f64>, f: &str| {
        c.get(f).copied().filter(|v| v.is_finite()).unwrap_or(0.0)
    };
    let count = |c: &IndexMap<String, f64>, f: &str| {
        let v = get(c, f);
        if v.is_finite() {
            v as u64
        } else {
            0
        }
    };
    let db = of(format!("db.{DEPENDENCY}"));
    let store_db = of(format!("db.{SESSIONS_STORE}"));
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
        let measured_s = (summary.sim_seconds - warmup_s).max(0.0);
        summary.db = Some(DbSummary {
            peak_qps: get(c, "peak_db_qps"),
            queries: count(c, "db_queries"),
            mean_qps: if measured_s > 0.0 {
                get(c, "db_queries") / measured_s
            } else {
                0.0
            },
        });
    }
    if let Some(x) = of(format!("sessions.{SERVICE}")) {
        let store = of(format!("db.{SESSIONS_STORE}")).map(|d| StoreSummary {
            reads: count(d, "reads"),
            writes: count(d, "writes"),
            failed: count(d, "rejected") + count(d, "errors"),
            replica_reads: count(d, "replica_reads"),
            peak_connections: count(d, "peak_connections"),
            ops_per_s: get(d, "mean_qps"),
            peak_ops_per_s: get(d, "peak_qps"),
            utilisation: get(d, "utilisation"),
            peak_queue: count(d, "peak_queue_len"),
        });
        summary.sessions = Some(SessionsSummary {
            design: design.unwrap_or_default(),
            spurious_logouts: count(x, "spurious_logouts"),
            spurious_logout_fraction: get(x, "spurious_logout_fraction"),
            lost_on_crash: count(x, "lost_on_crash"),
            accepted_after_logout: count(x, "accepted_after_logout"),
            duplicate_sessions: count(x, "duplicate_sessions"),
            logins: count(x, "logins"),
            logouts: count(x, "logouts"),
            authenticated_requests: count(x, "authenticated"),
            rejected: count(x, "rejected"),
            logged_in_at_end: count(x, "logged_in_at_end"),
            stale_reads: count(x, "stale_reads"),
            lost_writes: store_db.map_or(0, |d| count(d, "lost_writes")),
            race_login_survived_logout_all: count(x, "race_login_survived_logout_all"),
            race_login_lost_to_earlier_logout: count(x, "race_login_lost_to_earlier_logout"),
            failed_logins: count(x, "failed_logins"),
            lockouts: count(x, "lockouts"),
            locked_out_logins: count(x, "locked_out_logins"),
            ended_by_single_device: count(x, "ended_by_single_device"),
            store,
        });
    }
    if let Some(l) = of(format!("counter.{COUNTER}")) {
        summary.locks = Some(LocksSummary {
            wait_ms_p99: get(l, "wait_ms_p99"),
            wait_ms_mean: get(l, "wait_ms_mean"),
            max_waiters: count(l, "max_waiters"),
            // The single-tier count is the counter's value, warm-up included.
            committed: count(l, "value"),
            committed_per_s: get(l, "committed_per_s"),
            lost_updates: count(l, "lost_updates"),
            timeouts: count(l, "timeouts"),
            leases_expired: count(l, "leases_expired"),
        });
    }
}

/// Whether the single-tier model's sessions have a store (or a revocation list).
fn has_store(m: &ModelSpec) -> bool {
    m.sessions.as_ref().is_some_and(|s| match &s.design {
        SessionDesign::InMemory => false,
        SessionDesign::Externalized { .. } => true,
        SessionDesign::SignedToken {
            revocation_list, ..
        } => revocation_list.is_some(),
    })
}
