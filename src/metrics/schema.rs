//! The one metrics schema of a graph model: each component kind declares its time-series
//! columns and its summary figures once (name, unit, meaning), and every output of a graph
//! run — `timeseries.csv`, `summary.json`, `comparison.csv`, the printed table, the charts
//! and the claims' paths — is derived from these declarations, keyed by component
//! (`db.main.peak_qps`). A component a model does not have produces no column and no zero.
//!
//! A component of the engine fills a [`ComponentSeries`] (one row per metrics interval) and
//! a [`ComponentFigures`] against its kind's static [`Schema`] (e.g. [`DATABASE`]), in the
//! order the schema declares.

use crate::config::ModelSpec;

/// One time-series column or summary figure a component declares: name with its unit last
/// (`queue_len`, `wait_ms_p99`, `peak_qps`), the unit ("requests", "ms", "1/s", "share"...),
/// and a sentence of meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measure {
    /// The column or figure name (no dots), unit last.
    pub name: &'static str,
    /// The unit: a count's noun ("requests", "connections"), "ms", "1/s", "share" (0..1)...
    pub unit: &'static str,
    /// What it measures, in one sentence.
    pub meaning: &'static str,
}

/// A component kind's declaration: its key prefix ("service", "db", "cache", "counter",
/// "queue", "population"), its time-series columns and its summary figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schema {
    /// The key prefix: a component's key is `<kind>.<name>`.
    pub kind: &'static str,
    /// Its `timeseries.csv` columns, in order.
    pub series: &'static [Measure],
    /// Its summary figures, in order.
    pub figures: &'static [Measure],
}

/// One component's time series in a run: `key` is "<kind>.<name>" e.g. "db.main"; one row
/// per metrics interval, `schema.series.len()` values each.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentSeries {
    /// `<kind>.<name>`.
    pub key: String,
    /// Its kind's declaration.
    pub schema: &'static Schema,
    /// One row per metrics interval (the same intervals as `TimeSeries::rows`).
    pub rows: Vec<Vec<f64>>,
}

/// One component's summary figures: `schema.figures.len()` values (NaN = not measurable,
/// e.g. a p99 with no samples).
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentFigures {
    /// `<kind>.<name>`.
    pub key: String,
    /// Its kind's declaration.
    pub schema: &'static Schema,
    /// One value per figure of the schema, in its order.
    pub values: Vec<f64>,
}

const fn m(name: &'static str, unit: &'static str, meaning: &'static str) -> Measure {
    Measure {
        name,
        unit,
        meaning,
    }
}

/// A named service: its instances behind their balancer.
pub static SERVICE: Schema = Schema {
    kind: "service",
    series: &[
        m("instances_up", "instances", "Instances serving at the interval's end."),
        m("busy_workers", "workers", "Workers busy over all instances at the interval's end."),
        m("queue_len", "requests", "Requests waiting for a worker, all instances, at the interval's end."),
        m("open_connections", "connections", "The balancer's open connections to all instances at the interval's end."),
        m("served_per_s", "1/s", "Calls the service finished serving in the interval, per second."),
        m("errors_per_s", "1/s", "Calls that failed at the service in the interval, per second."),
        m("instances_on", "instances", "Instances provisioned at the interval's end (provisioning, booting, serving, draining or crashed)."),
    ],
    figures: &[
        m("served", "requests", "Calls its instances finished serving."),
        m("errors", "requests", "Calls that failed there with an injected error or a crash."),
        m("rejected", "requests", "Calls its full queues turned away."),
        m("utilisation", "share", "Share of its instances' worker time (while up) spent serving."),
        m("peak_queue_len", "requests", "The longest queue over all its instances at once."),
        m("peak_open_connections", "connections", "The most connections its balancer held open at once (from send to answer or client timeout)."),
        m("wait_ms_p99", "ms", "99th percentile of the time calls waited for a worker."),
        m("crashes", "crashes", "Instance crashes over the whole run, from faults and random failures."),
        m("random_failures", "crashes", "Instance crashes over the whole run from the experiment's random failures."),
        m("peak_instances", "instances", "The most instances provisioned at once over the whole run."),
        m("instance_hours", "h", "Instance-hours provisioned over the whole run (provisioning, booting, serving, draining or crashed)."),
        m("cost", "currency", "instance_hours × the service's price_per_instance_hour."),
        m("wasted", "requests", "Calls whose path finished there after their caller (or the client above it) had stopped waiting: work nobody waits for."),
        m("shed", "requests", "Calls dropped there because their deadline had passed: by the queue (`deadline_check`) or, with propagated deadlines, before their next step."),
    ],
};

/// A named database: a pool of workers behind a connection cap.
pub static DATABASE: Schema = Schema {
    kind: "db",
    series: &[
        m(
            "busy_workers",
            "workers",
            "Workers busy at the interval's end.",
        ),
        m(
            "queue_len",
            "queries",
            "Queries with a connection waiting for a worker at the interval's end.",
        ),
        m(
            "connections_in_use",
            "connections",
            "Connections held by running or queued queries at the interval's end.",
        ),
        m(
            "waiting_for_connection",
            "queries",
            "Queries waiting for a free connection at the interval's end.",
        ),
        m("qps", "1/s", "Queries started in the interval, per second."),
        m(
            "slowdown_factor",
            "factor",
            "Service time under the current load ÷ the base service time (1: none).",
        ),
    ],
    figures: &[
        m("queries", "queries", "Queries served (reads and writes)."),
        m("reads", "queries", "Reads served."),
        m("writes", "queries", "Writes served."),
        m(
            "rejected",
            "queries",
            "Queries turned away (queue full or no connection).",
        ),
        m(
            "utilisation",
            "share",
            "Share of worker time spent serving.",
        ),
        m(
            "peak_qps",
            "1/s",
            "The most queries started in one metrics interval after the warm-up, per second.",
        ),
        m(
            "mean_qps",
            "1/s",
            "Queries started per second over the measured window (after the warm-up).",
        ),
        m(
            "peak_queue_len",
            "queries",
            "The longest queue for a worker.",
        ),
        m(
            "peak_connections",
            "connections",
            "The most connections in use at once.",
        ),
        m(
            "wait_ms_p99",
            "ms",
            "99th percentile of the time queries waited for a connection and a worker.",
        ),
        m(
            "replica_reads",
            "queries",
            "Reads served by a replica (0 without replicas).",
        ),
        m(
            "stale_reads",
            "queries",
            "Replica reads that missed the reading user's latest write (its replication lag had not passed).",
        ),
        m(
            "lost_writes",
            "queries",
            "Committed writes not yet on the replicas when the primary failed over (lost with it).",
        ),
        m(
            "wasted",
            "queries",
            "Queries answered after the client (or the calling service) they were for had stopped waiting: work nobody waits for.",
        ),
        m(
            "shed",
            "queries",
            "Waiting queries its queue dropped because their propagated deadline had passed (`deadline_check`).",
        ),
    ],
};

/// A named look-aside cache in front of a database.
pub static CACHE: Schema = Schema {
    kind: "cache",
    series: &[
        m(
            "hit_ratio",
            "share",
            "Hits ÷ lookups in the interval (0 when there were none).",
        ),
        m(
            "hits_per_s",
            "1/s",
            "Lookups answered from the cache in the interval, per second.",
        ),
        m(
            "misses_per_s",
            "1/s",
            "Lookups that read the database in the interval, per second.",
        ),
        m(
            "coalesced_per_s",
            "1/s",
            "Misses that waited for another fetch of their key, per second.",
        ),
        m(
            "keys_held",
            "keys",
            "Keys held in the cache (every instance's, per instance) at the interval's end.",
        ),
        m(
            "early_refreshes_per_s",
            "1/s",
            "Hits that refreshed their key early (XFetch) in the interval, per second.",
        ),
        m(
            "lease_retries_per_s",
            "1/s",
            "Lookups that found their key leased and looked again later, per second.",
        ),
    ],
    figures: &[
        m(
            "hit_ratio",
            "share",
            "Hits ÷ lookups (hits, misses and coalesced waits) after the warm-up.",
        ),
        m("hits", "lookups", "Lookups answered from the cache."),
        m("misses", "lookups", "Lookups that read the database."),
        m(
            "coalesced",
            "lookups",
            "Misses that waited for another request's fetch of the same key.",
        ),
        m(
            "peak_misses_per_key",
            "fetches",
            "The most database fetches of one key started within one metrics interval after the warm-up.",
        ),
        m(
            "flushes",
            "flushes",
            "Times the cache was emptied (by a fault).",
        ),
        m(
            "early_refreshes",
            "lookups",
            "Hits that refreshed their key early (XFetch; counted in misses, not in hits).",
        ),
        m(
            "lease_retries",
            "lookups",
            "Lookups that found their key leased to another fetch and looked again later.",
        ),
        m(
            "writes",
            "requests",
            "Gets that wrote their key (a database write, then an invalidation).",
        ),
        m(
            "invalidations",
            "keys",
            "Keys a write dropped from a cache that held them (one per instance holding it).",
        ),
        m(
            "stale_fills_prevented",
            "fetches",
            "Fetches whose lease a write revoked, so their possibly old answer was not cached.",
        ),
        m(
            "db_queries",
            "queries",
            "Database reads and writes the cache sent (misses and writes).",
        ),
        m(
            "peak_db_qps",
            "1/s",
            "The most database reads and writes the cache sent in one metrics interval after the warm-up, per second (the load it offers, queued or not).",
        ),
        m(
            "instance_restarts",
            "caches",
            "Per-instance caches started anew (empty or pre-warmed) because their instance restarted.",
        ),
    ],
};

/// Named counter rows living in a database, incremented under row locks.
pub static COUNTER: Schema = Schema {
    kind: "counter",
    series: &[
        m(
            "lock_waiters",
            "requests",
            "Requests waiting for a row lock at the interval's end.",
        ),
        m(
            "committed_per_s",
            "1/s",
            "Increments committed in the interval, per second.",
        ),
        m(
            "lock_wait_ms_p99",
            "ms",
            "The 99th percentile of the lock waits of the requests granted a lock in the interval (empty when none was).",
        ),
    ],
    figures: &[
        m(
            "committed",
            "increments",
            "Increments committed after the warm-up.",
        ),
        m(
            "lost_updates",
            "increments",
            "Increments lost: overwritten by a racing unlocked one, written after the lease expired, or in the unwritten batch of a crashed instance.",
        ),
        m(
            "timeouts",
            "requests",
            "Requests that gave up waiting for a lock.",
        ),
        m(
            "wait_ms_p99",
            "ms",
            "99th percentile wait for a row lock, of requests that got it.",
        ),
        m(
            "max_waiters",
            "requests",
            "The most requests waiting for one row at once.",
        ),
        m(
            "committed_per_s",
            "1/s",
            "Increments committed per second over the measured window (after the warm-up).",
        ),
        m(
            "wait_ms_mean",
            "ms",
            "Mean wait for a row lock, of requests that got it.",
        ),
        m(
            "leases_expired",
            "leases",
            "Holders that kept a lock past its lease and lost it (their write is lost).",
        ),
        m(
            "value",
            "increments",
            "The counter's value at the end: increments committed since the start, warm-up included.",
        ),
    ],
};

/// A named message-queue topic and its consumers.
pub static QUEUE: Schema = Schema {
    kind: "queue",
    series: &[
        m(
            "backlog",
            "messages",
            "Messages published and not yet consumed at the interval's end.",
        ),
        m(
            "published_per_s",
            "1/s",
            "Messages published in the interval, per second.",
        ),
        m(
            "consumed_per_s",
            "1/s",
            "Messages whose handling finished in the interval, per second.",
        ),
        m(
            "consumer_lag_ms",
            "ms",
            "Age of the oldest unconsumed message at the interval's end.",
        ),
    ],
    figures: &[
        m("published", "messages", "Messages published."),
        m(
            "consumed",
            "messages",
            "Messages whose handling finished (duplicates included).",
        ),
        m(
            "duplicates",
            "messages",
            "Messages handled more than once (a consumer crashed mid-message).",
        ),
        m("peak_backlog", "messages", "The largest backlog at once."),
        m(
            "consumer_lag_ms_max",
            "ms",
            "The largest age of the oldest unconsumed message.",
        ),
        m(
            "redelivered",
            "messages",
            "Messages delivered again after their consumer failed.",
        ),
    ],
};

/// A named client population of an experiment.
pub static POPULATION: Schema = Schema {
    kind: "population",
    series: &[
        m(
            "offered_per_s",
            "1/s",
            "Requests the population issued in the interval, per second.",
        ),
        m(
            "goodput_per_s",
            "1/s",
            "Its requests that succeeded in the interval, per second.",
        ),
        m(
            "attempts_per_s",
            "1/s",
            "Attempts (first tries and retries) it sent in the interval, per second.",
        ),
        m(
            "latency_p99_ms",
            "ms",
            "99th percentile latency of its successes in the interval.",
        ),
    ],
    figures: &[
        m("issued", "requests", "Requests the population issued."),
        m(
            "succeeded",
            "requests",
            "Its requests that got a successful answer.",
        ),
        m("failed", "requests", "Its requests that ended in failure."),
        m(
            "goodput_rps",
            "1/s",
            "Its successful requests (issued after the warm-up) per second after it.",
        ),
        m(
            "latency_ms_p50",
            "ms",
            "Median latency of its successes issued after the warm-up.",
        ),
        m(
            "latency_ms_p99",
            "ms",
            "99th percentile latency of its successes issued after the warm-up.",
        ),
        m(
            "retry_amplification",
            "attempts/request",
            "Attempts per request it issued.",
        ),
        m(
            "success_share",
            "share",
            "Share of its requests issued after the warm-up and ended that succeeded.",
        ),
    ],
};

/// The user sessions a named service checks (`sessions.<service>`); counts are from the
/// end of the warm-up.
pub static SESSIONS: Schema = Schema {
    kind: "sessions",
    series: &[
        m("logged_in", "users", "Users holding a session at the interval's end."),
        m("logins_per_s", "1/s", "Logins executed in the interval, per second."),
        m(
            "spurious_logouts_per_s",
            "1/s",
            "Valid sessions rejected in the interval, per second.",
        ),
        m(
            "lost_on_crash",
            "sessions",
            "Live sessions lost with a crashed instance's memory in the interval.",
        ),
        m(
            "accepted_after_logout_per_s",
            "1/s",
            "Requests accepted with a session their user had logged out of, per second.",
        ),
    ],
    figures: &[
        m("logins", "logins", "Logins executed by the service's instances."),
        m("logouts", "logouts", "Logouts executed by the service's instances."),
        m(
            "authenticated",
            "requests",
            "Authenticated requests whose session was checked.",
        ),
        m(
            "rejected",
            "requests",
            "Authenticated requests rejected (for any reason).",
        ),
        m(
            "spurious_logouts",
            "requests",
            "Valid sessions rejected: users logged out against their will.",
        ),
        m(
            "spurious_logout_fraction",
            "share",
            "Spurious logouts per authenticated request checked.",
        ),
        m(
            "lost_on_crash",
            "sessions",
            "Live sessions that disappeared with a crashed instance's memory.",
        ),
        m(
            "accepted_after_logout",
            "requests",
            "Requests accepted with a session whose user had logged out (a security violation).",
        ),
        m(
            "duplicate_sessions",
            "sessions",
            "Extra sessions created by retried logins.",
        ),
        m(
            "stale_reads",
            "reads",
            "Session reads from a replica that still showed the value before the user's latest session write.",
        ),
        m(
            "race_login_survived_logout_all",
            "logins",
            "Logins the store applied after a \"log out of all devices\" of the person issued after them: a session the person believes ended.",
        ),
        m(
            "race_login_lost_to_earlier_logout",
            "logins",
            "Logins wiped by a \"log out of all devices\" of the person issued before them but applied after them.",
        ),
        m("failed_logins", "logins", "Logins with a wrong password."),
        m(
            "lockouts",
            "accounts",
            "Accounts locked after too many failed logins in a row.",
        ),
        m(
            "locked_out_logins",
            "logins",
            "Logins refused because the account was locked.",
        ),
        m(
            "ended_by_single_device",
            "sessions",
            "Sessions on other devices ended by a single-device login.",
        ),
        m(
            "logged_in_at_end",
            "users",
            "Users holding a session at the end of the run.",
        ),
    ],
};

/// Every component kind, in the order outputs list them.
pub static SCHEMAS: &[&Schema] = &[
    &SERVICE,
    &DATABASE,
    &CACHE,
    &COUNTER,
    &QUEUE,
    &SESSIONS,
    &POPULATION,
];

/// The schema of a component key's kind (`"db.main"` → [`DATABASE`]), if it is one.
pub fn schema_of_key(key: &str) -> Option<&'static Schema> {
    let (kind, name) = key.split_once('.')?;
    if name.is_empty() {
        return None;
    }
    SCHEMAS.iter().copied().find(|s| s.kind == kind)
}

/// The column or figure `name` of a schema, if it declares one.
pub fn measure<'a>(measures: &'a [Measure], name: &str) -> Option<&'a Measure> {
    measures.iter().find(|m| m.name == name)
}

/// Splits a component column or figure name `<kind>.<name>.<measure>` into its component
/// key and its measure (measure names have no dots; component names may).
pub fn split_column(column: &str) -> Option<(&str, &str)> {
    let (key, measure) = column.rsplit_once('.')?;
    schema_of_key(key)?;
    Some((key, measure))
}

/// The components a graph model (with these client populations) has, in output order:
/// services, databases, caches, counters, queues, then populations, each in file order
/// (the order the engine's registry lists them in).
pub fn graph_components(
    model: &ModelSpec,
    populations: &[String],
) -> Vec<(String, &'static Schema)> {
    let mut out: Vec<(String, &'static Schema)> = Vec::new();
    let mut add = |schema: &'static Schema, names: &mut dyn Iterator<Item = &String>| {
        out.extend(names.map(|n| (format!("{}.{n}", schema.kind), schema)));
    };
    add(&SERVICE, &mut model.services.keys());
    add(&DATABASE, &mut model.databases.keys());
    add(&CACHE, &mut model.caches.keys());
    add(&COUNTER, &mut model.counters.keys());
    add(&QUEUE, &mut model.queues.keys());
    let with_sessions = model.services.iter().filter(|(_, s)| s.sessions.is_some());
    add(&SESSIONS, &mut with_sessions.map(|(name, _)| name));
    add(&POPULATION, &mut populations.iter());
    out
}

/// Every component figure path a graph run's summary can have, e.g.
/// `["service.web.peak_queue_len", "db.main.peak_qps", …]`: what claims are checked against.
pub fn graph_figure_paths(model: &ModelSpec, populations: &[String]) -> Vec<String> {
    graph_components(model, populations)
        .iter()
        .flat_map(|(key, schema)| {
            schema
                .figures
                .iter()
                .map(move |f| format!("{key}.{}", f.name))
        })
        .collect()
}

/// The schema as Markdown, a table per kind (its columns, then its figures), as the
/// README shows it (a test keeps the README's copy the same).
pub fn reference_markdown() -> String {
    let mut out = String::new();
    for s in SCHEMAS {
        out.push_str(&format!(
            "`{}.<name>`:\n\n| name | in | unit | meaning |\n| --- | --- | --- | --- |\n",
            s.kind
        ));
        for (list, place) in [(s.series, "series"), (s.figures, "summary")] {
            for m in list {
                out.push_str(&format!(
                    "| `{}` | {place} | {} | {} |\n",
                    m.name, m.unit, m.meaning
                ));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_dotless_and_described() {
        let kinds: Vec<&str> = SCHEMAS.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                "service",
                "db",
                "cache",
                "counter",
                "queue",
                "sessions",
                "population"
            ]
        );
        for s in SCHEMAS {
            for list in [s.series, s.figures] {
                for (i, m) in list.iter().enumerate() {
                    assert!(!m.name.contains('.') && !m.name.is_empty(), "{}", m.name);
                    assert!(!m.unit.is_empty() && m.meaning.ends_with('.'), "{}", m.name);
                    assert!(list[..i].iter().all(|o| o.name != m.name), "{}", m.name);
                }
            }
        }
        assert_eq!(DATABASE.series.len(), 6);
        assert_eq!(DATABASE.figures[5].name, "peak_qps");
        assert_eq!(SERVICE.figures.len(), 14);
        assert_eq!(CACHE.figures.len(), 14);
        assert_eq!(COUNTER.figures.len(), 9);
        assert_eq!(QUEUE.figures.len(), 6);
        assert_eq!(POPULATION.figures.len(), 8);
    }

    #[test]
    fn keys_and_columns_split_at_the_kind_and_the_measure() {
        assert_eq!(schema_of_key("db.main"), Some(&DATABASE));
        assert_eq!(schema_of_key("db."), None);
        assert_eq!(schema_of_key("nodes"), None);
        assert_eq!(schema_of_key("sessions.web"), Some(&SESSIONS));
        assert_eq!(schema_of_key("store.sessions"), None);
        assert_eq!(split_column("db.eu.main.qps"), Some(("db.eu.main", "qps")));
        assert_eq!(split_column("latency_p99_ms"), None);
    }

    #[test]
    fn a_models_figure_paths_follow_its_components() {
        let model: ModelSpec = ron::from_str(
            r#"System(
                services: { "web": Service(instances: 2, workers: 4, service: Exp(mean: "5ms")) },
                databases: { "main": Database(workers: 8, read: Exp(mean: "4ms"), write: Exp(mean: "9ms")) },
                requests: { "browse": [Call("web"), Read("main")] },
            )"#,
        )
        .expect("a graph model");
        let paths = graph_figure_paths(&model, &["shoppers".to_string()]);
        assert_eq!(
            paths.len(),
            SERVICE.figures.len() + DATABASE.figures.len() + POPULATION.figures.len()
        );
        assert_eq!(paths[0], "service.web.served");
        assert!(paths.contains(&"db.main.peak_qps".to_string()));
        assert_eq!(paths.last().unwrap(), "population.shoppers.success_share");
        // No cache, no queue: no path for them.
        assert!(!paths
            .iter()
            .any(|p| p.starts_with("cache.") || p.starts_with("queue.")));
    }
}
