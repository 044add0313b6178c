//! The metrics schema: each component kind declares its time-series columns and summary
//! figures once (name, unit, meaning). (Provisional: the schema helper's version replaces
//! this file with the writers derived from it.)

/// One column or figure.
pub struct Measure {
    /// Its name, unit last.
    pub name: &'static str,
    /// Its unit.
    pub unit: &'static str,
    /// What it means, in a sentence.
    pub meaning: &'static str,
}

/// A component kind's declaration.
pub struct Schema {
    /// The key prefix ("service", "db", …).
    pub kind: &'static str,
    /// Time-series columns.
    pub series: &'static [Measure],
    /// Summary figures.
    pub figures: &'static [Measure],
}

/// One component's time series: one row per interval.
pub struct ComponentSeries {
    /// "<kind>.<name>".
    pub key: String,
    /// Its schema.
    pub schema: &'static Schema,
    /// The rows.
    pub rows: Vec<Vec<f64>>,
}

/// One component's summary figures.
pub struct ComponentFigures {
    /// "<kind>.<name>".
    pub key: String,
    /// Its schema.
    pub schema: &'static Schema,
    /// The values, in the schema's order.
    pub values: Vec<f64>,
}

const fn m(name: &'static str, unit: &'static str, meaning: &'static str) -> Measure {
    Measure {
        name,
        unit,
        meaning,
    }
}

/// A service.
pub static SERVICE: Schema = Schema {
    kind: "service",
    series: &[
        m("instances_up", "instances", "instances serving"),
        m("busy_workers", "workers", "workers busy"),
        m("queue_len", "requests", "waiting"),
        m("open_connections", "connections", "open"),
        m("served_per_s", "1/s", "served"),
        m("errors_per_s", "1/s", "errors"),
    ],
    figures: &[
        m("served", "requests", ""),
        m("errors", "requests", ""),
        m("rejected", "requests", ""),
        m("utilisation", "share", ""),
        m("peak_queue_len", "requests", ""),
        m("peak_open_connections", "connections", ""),
        m("wait_ms_p99", "ms", ""),
    ],
};

/// A database.
pub static DATABASE: Schema = Schema {
    kind: "db",
    series: &[
        m("busy_workers", "workers", ""),
        m("queue_len", "queries", ""),
        m("connections_in_use", "connections", ""),
        m("waiting_for_connection", "queries", ""),
        m("qps", "1/s", ""),
        m("slowdown_factor", "x", ""),
    ],
    figures: &[
        m("queries", "queries", ""),
        m("reads", "queries", ""),
        m("writes", "queries", ""),
        m("rejected", "queries", ""),
        m("utilisation", "share", ""),
        m("peak_qps", "1/s", ""),
        m("mean_qps", "1/s", ""),
        m("peak_queue_len", "queries", ""),
        m("peak_connections", "connections", ""),
        m("wait_ms_p99", "ms", ""),
        m("replica_reads", "queries", "reads served by a replica"),
        m(
            "stale_reads",
            "queries",
            "replica reads that missed the reading user's latest write",
        ),
        m(
            "lost_writes",
            "queries",
            "committed writes not yet on the replicas when the primary failed",
        ),
    ],
};

/// A cache.
pub static CACHE: Schema = Schema {
    kind: "cache",
    series: &[
        m("hit_ratio", "share", ""),
        m("hits_per_s", "1/s", ""),
        m("misses_per_s", "1/s", ""),
        m("coalesced_per_s", "1/s", ""),
        m("keys_held", "keys", ""),
    ],
    figures: &[
        m("hit_ratio", "share", ""),
        m("hits", "lookups", ""),
        m("misses", "lookups", ""),
        m("coalesced", "lookups", ""),
        m("peak_misses_per_key", "lookups", ""),
        m("flushes", "flushes", ""),
    ],
};

/// A message-queue topic.
pub static QUEUE: Schema = Schema {
    kind: "queue",
    series: &[
        m("backlog", "messages", ""),
        m("published_per_s", "1/s", ""),
        m("consumed_per_s", "1/s", ""),
        m("consumer_lag_ms", "ms", ""),
    ],
    figures: &[
        m("published", "messages", ""),
        m("consumed", "messages", ""),
        m("duplicates", "messages", ""),
        m("peak_backlog", "messages", ""),
        m("consumer_lag_ms_max", "ms", ""),
        m("redelivered", "messages", ""),
    ],
};

/// A client population.
pub static POPULATION: Schema = Schema {
    kind: "population",
    series: &[
        m("offered_per_s", "1/s", ""),
        m("goodput_per_s", "1/s", ""),
        m("attempts_per_s", "1/s", ""),
        m("latency_p99_ms", "ms", ""),
    ],
    figures: &[
        m("issued", "requests", ""),
        m("succeeded", "requests", ""),
        m("failed", "requests", ""),
        m("goodput_rps", "1/s", ""),
        m("latency_ms_p50", "ms", ""),
        m("latency_ms_p99", "ms", ""),
        m("retry_amplification", "x", ""),
        m("success_share", "share", ""),
    ],
};

/// Counter rows under row locks.
pub static COUNTER: Schema = Schema {
    kind: "counter",
    series: &[
        m(
            "lock_waiters",
            "requests",
            "requests waiting for a row lock",
        ),
        m("committed_per_s", "1/s", "increments committed per second"),
    ],
    figures: &[
        m(
            "committed",
            "increments",
            "increments committed after the warm-up",
        ),
        m(
            "lost_updates",
            "increments",
            "unlocked increments overwritten by a concurrent one",
        ),
        m(
            "timeouts",
            "requests",
            "requests that gave up waiting for a lock",
        ),
        m("wait_ms_p99", "ms", "99th percentile wait for a row lock"),
        m(
            "max_waiters",
            "requests",
            "the most requests waiting for one row at once",
        ),
    ],
};
