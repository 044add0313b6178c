//! The memory and periodic events of a run on a graph model, estimated before it starts
//! (the single-tier terms are in `config::budget`, which adds these for a graph model and
//! checks the total against `limits.max_memory_mb`).
//!
//! The graph engine's own structures are not all written yet, so its per-item sizes are
//! those of the single-tier components it generalises: an instance or a database costs
//! what a node does, a cache key what a single-tier cache key does, a counter row what a
//! lock row does, and a request walking a path an attempt per branch it has in flight.

use std::collections::VecDeque;
use std::mem::size_of;

use super::population::PopulationWorkload;
use super::step::StepSpec;
use crate::config::budget::{
    bytes_text, count_text, periods, series_columns, series_row_bytes, series_rows, times, AddPart,
    AUTOSCALER_ENTRY_BYTES, BRANCH_BYTES, CACHE_SHARED_BYTES_PER_KEY, CACHE_SLOT_BYTES,
    EVENT_BYTES, LOCK_ROW_BYTES, NODE_BYTES, REQUEST_BYTES, RING_POINT_BYTES,
};
use crate::config::model::{CounterSpec, PolicySpec, Popularity};
use crate::config::{ExperimentSpec, ModelSpec};

/// Time-series columns of one database, cache, counter, topic or population (its load,
/// its queue, its latency and its failures, about as many as a single-tier cache has).
pub const COLUMNS_PER_COMPONENT: usize = 5;

/// One key of a graph cache's store (`cache::Store::new`): its LRU links and presence
/// (`Lru::new`), its expiry and its last fetch time.
pub const STORE_BYTES_PER_KEY: usize = 2 * size_of::<u32>()
    + size_of::<bool>()
    + size_of::<crate::engine::SimTime>()
    + size_of::<u64>();

/// One partition of a topic: its log of message ids and its consumer's position.
pub const PARTITION_BYTES: usize = size_of::<(VecDeque<u64>, u64, u64)>();

/// The largest of `items` by `size`, as (its name, its size), for the field to blame.
fn largest<'a, T>(
    items: impl IntoIterator<Item = (&'a String, T)>,
    size: impl Fn(&T) -> u128,
) -> Option<(&'a String, u128)> {
    items
        .into_iter()
        .map(|(name, t)| (name, size(&t)))
        .max_by_key(|&(_, n)| n)
}

/// The most branches one request of `steps` has in flight at once.
fn width(steps: &[StepSpec]) -> usize {
    steps
        .iter()
        .map(|s| match s {
            StepSpec::Parallel { branches, .. } => branches.iter().map(|b| width(b)).sum(),
            _ => 1,
        })
        .max()
        .unwrap_or(1)
}

/// Adds the terms of a graph model's run to an estimate.
pub fn parts(e: &ExperimentSpec, m: &ModelSpec, add: &mut AddPart<'_>) {
    let instances: u128 = m
        .services
        .values()
        .map(|s| s.most_instances() as u128)
        .sum();
    if let Some((name, _)) = largest(&m.services, |s| s.most_instances() as u128) {
        add(
            "instances",
            format!(
                "{} instances of {} services × {}",
                count_text(instances),
                m.services.len(),
                bytes_text(NODE_BYTES as u128)
            ),
            times(instances, NODE_BYTES),
            &format!("model.services.{name}.instances"),
            false,
        );
    }
    let pools = m.databases.len() as u128;
    if pools > 0 {
        add(
            "databases",
            format!("{} × {}", count_text(pools), bytes_text(NODE_BYTES as u128)),
            times(pools, NODE_BYTES),
            "model.databases",
            false,
        );
    }
    series(e, m, instances, add);
    clients(e, m, add);
    caches(m, add);
    rows_and_partitions(m, add);
    rings(m, add);
    sessions(e, m, add);
    autoscalers(m, add);
}

/// The autoscalers' windows: one snapshot per evaluation within the window, for every
/// service with an autoscaler (the largest names the field).
fn autoscalers(m: &ModelSpec, add: &mut AddPart<'_>) {
    let entries = |s: &&super::ServiceSpec| {
        s.autoscaler
            .as_ref()
            .map_or(0, |a| periods(a.window.ns(), a.every.ns()) + 1)
    };
    let total: u128 = m
        .services
        .values()
        .map(|s| entries(&s))
        .fold(0, u128::saturating_add);
    if let Some((name, _)) = largest(&m.services, entries).filter(|_| total > 0) {
        let a = m.services[name].autoscaler.as_ref().expect("has one");
        add(
            "autoscaler window",
            format!(
                "{} evaluations (window {} ÷ every {}) × {} B",
                count_text(total),
                a.window,
                a.every,
                AUTOSCALER_ENTRY_BYTES
            ),
            times(total, AUTOSCALER_ENTRY_BYTES + size_of::<f64>()),
            &format!("model.services.{name}.autoscaler.every"),
            false,
        );
    }
}

/// The time series: a row per metrics interval, with columns for every instance and
/// component.
fn series(e: &ExperimentSpec, m: &ModelSpec, instances: u128, add: &mut AddPart<'_>) {
    let rows = series_rows(e);
    let components = m.databases.len()
        + m.caches.len()
        + m.counters.len()
        + m.queues.len()
        + e.populations.len();
    let columns = series_columns(instances as usize, false) + components * COLUMNS_PER_COMPONENT;
    add(
        "time series",
        format!(
            "{} rows × {} columns (duration {} ÷ metrics_interval {})",
            count_text(rows),
            columns,
            e.duration,
            e.metrics_interval
        ),
        times(rows, series_row_bytes(instances as usize, columns)),
        "metrics_interval",
        false,
    );
}

/// The populations: users' wake-ups, burst arrivals, and as ceilings the requests in
/// flight and the pending events.
fn clients(e: &ExperimentSpec, m: &ModelSpec, add: &mut AddPart<'_>) {
    let count_of = |p: &&super::PopulationSpec, want_users: bool| match p.workload {
        PopulationWorkload::Users { count, .. } if want_users => count as u128,
        PopulationWorkload::Burst { count, .. } if !want_users => count as u128,
        _ => 0,
    };
    let mut arrivals = 0u128;
    for (what, users) in [("users' wake-ups", true), ("burst arrivals", false)] {
        let total: u128 = e.populations.values().map(|p| count_of(&p, users)).sum();
        let Some((name, _)) = largest(&e.populations, |p| count_of(p, users)) else {
            continue;
        };
        if total > 0 {
            arrivals += total;
            add(
                what,
                format!("{} events × {} B", count_text(total), EVENT_BYTES),
                times(total, EVENT_BYTES),
                &format!("populations.{name}.workload.count"),
                false,
            );
        }
    }
    let max_in_flight = e.limits.max_in_flight as u128;
    let open = e
        .populations
        .values()
        .any(|p| matches!(p.workload, PopulationWorkload::Open { .. }));
    let (cap, cap_field) = if open || arrivals >= max_in_flight {
        (max_in_flight, "limits.max_in_flight")
    } else {
        (arrivals, "populations")
    };
    let widest = m.requests.values().map(|p| width(p)).max().unwrap_or(1);
    let per_request = REQUEST_BYTES
        + (widest - 1) * BRANCH_BYTES
        + if m.caches.is_empty() {
            0
        } else {
            CACHE_SLOT_BYTES
        };
    add(
        "requests in flight",
        format!(
            "up to {} ({cap_field}) × {} B ({widest} branch(es) in flight at most)",
            count_text(cap),
            per_request
        ),
        times(cap, per_request),
        cap_field,
        true,
    );
    let more_events = (e.limits.max_pending_events as u128).saturating_sub(arrivals);
    if more_events > 0 {
        add(
            "pending events",
            format!(
                "up to {} more (limits.max_pending_events) × {} B",
                count_text(more_events),
                EVENT_BYTES
            ),
            times(more_events, EVENT_BYTES),
            "limits.max_pending_events",
            true,
        );
    }
}

/// The caches: a slot per key they may hold (in every instance, per instance), and the
/// key space's popularity.
fn caches(m: &ModelSpec, add: &mut AddPart<'_>) {
    let stores_of = |c: &super::GraphCacheSpec| match &c.placement {
        super::cache::GraphCachePlacement::Shared => 1,
        super::cache::GraphCachePlacement::PerInstance(s) => {
            m.services.get(s).map_or(1, |s| u128::from(s.instances))
        }
    };
    let bytes = |c: &&super::GraphCacheSpec| {
        let stores = stores_of(c);
        let keys = c.keys.count as u128;
        let shared = CACHE_SHARED_BYTES_PER_KEY
            + match c.keys.popularity {
                Popularity::Zipf { .. } => size_of::<f64>(),
                Popularity::Uniform => 0,
            };
        times(keys * stores, STORE_BYTES_PER_KEY).saturating_add(times(keys, shared))
    };
    let Some((name, _)) = largest(&m.caches, bytes) else {
        return;
    };
    let keys: u128 = m.caches.values().map(|c| c.keys.count as u128).sum();
    let total = m.caches.values().map(|c| bytes(&c)).sum();
    add(
        "caches",
        format!(
            "{} keys in {} cache(s), the largest in {} instance(s) × {} B",
            count_text(keys),
            m.caches.len(),
            count_text(stores_of(&m.caches[name])),
            STORE_BYTES_PER_KEY
        ),
        total,
        &format!("model.caches.{name}.keys.count"),
        false,
    );
}

/// Counter rows and topic partitions.
fn rows_and_partitions(m: &ModelSpec, add: &mut AddPart<'_>) {
    let buckets = |c: &&super::CounterRowsSpec| match c.rows {
        CounterSpec::Sharded { buckets } => buckets as u128,
        _ => 1,
    };
    if let Some((name, _)) = largest(&m.counters, buckets) {
        let rows: u128 = m.counters.values().map(|c| buckets(&c)).sum();
        add(
            "counter rows",
            format!("{} rows × {} B", count_text(rows), LOCK_ROW_BYTES),
            times(rows, LOCK_ROW_BYTES),
            &format!("model.counters.{name}.rows.buckets"),
            false,
        );
    }
    let partitions = |t: &&super::TopicSpec| t.partitions as u128;
    if let Some((name, _)) = largest(&m.queues, partitions) {
        let n: u128 = m.queues.values().map(|t| partitions(&t)).sum();
        add(
            "topic partitions",
            format!("{} partitions × {} B", count_text(n), PARTITION_BYTES),
            times(n, PARTITION_BYTES),
            &format!("model.queues.{name}.partitions"),
            false,
        );
    }
}

/// The consistent-hash rings of the services balanced that way.
fn rings(m: &ModelSpec, add: &mut AddPart<'_>) {
    let points = |s: &&super::ServiceSpec| match s.balancer.policy {
        PolicySpec::ConsistentHash { vnodes } => (s.most_instances() as u128) * vnodes as u128,
        _ => 0,
    };
    let total: u128 = m.services.values().map(|s| points(&s)).sum();
    if total == 0 {
        return;
    }
    if let Some((name, _)) = largest(&m.services, points) {
        add(
            "hash rings",
            format!("{} points × {} B", count_text(total), RING_POINT_BYTES),
            times(total, RING_POINT_BYTES),
            &format!("model.services.{name}.balancer.policy.vnodes"),
            false,
        );
    }
}

/// The periodic events of a graph model's run besides the metrics rows: every service's
/// health checks of each of its instances.
pub fn periodic_events(e: &ExperimentSpec, m: &ModelSpec) -> Vec<(&'static str, u128, String)> {
    let d = e.duration.ns();
    let probes = |s: &&super::ServiceSpec| match &s.balancer.health_check {
        Some(h) => periods(d, h.every.ns()).saturating_mul(s.most_instances() as u128),
        None => 0,
    };
    let total: u128 = m.services.values().map(|s| probes(&s)).sum();
    let mut out = Vec::new();
    if let Some((name, _)) = largest(&m.services, probes).filter(|_| total > 0) {
        out.push((
            "health checks",
            total,
            format!("model.services.{name}.balancer.health_check.every"),
        ));
    }
    let evaluations = |s: &&super::ServiceSpec| {
        s.autoscaler
            .as_ref()
            .map_or(0, |a| periods(d, a.every.ns()))
    };
    let total: u128 = m.services.values().map(|s| evaluations(&s)).sum();
    if let Some((name, _)) = largest(&m.services, evaluations).filter(|_| total > 0) {
        out.push((
            "autoscaler evaluations",
            total,
            format!("model.services.{name}.autoscaler.every"),
        ));
    }
    let flushes = |c: &&super::CounterRowsSpec| match c.rows {
        CounterSpec::Batched { every } => periods(d, every.ns()),
        _ => 0,
    };
    let total: u128 = m.counters.values().map(|c| flushes(&c)).sum();
    if let Some((name, _)) = largest(&m.counters, flushes).filter(|_| total > 0) {
        out.push((
            "lock flushes",
            total,
            format!("model.counters.{name}.rows.every"),
        ));
    }
    out
}

/// What a closed population's user costs one service's sessions: the user's session, its
/// stale tab, the store's two values, its login counters and the request in flight.
pub const SESSION_USER_BYTES: usize = 96;

/// The sessions of the services that check them: a record per closed population's user,
/// and for sessions in instance memory a slot per user in every instance's table.
fn sessions(e: &ExperimentSpec, m: &ModelSpec, add: &mut AddPart<'_>) {
    let users: u128 = e
        .populations
        .values()
        .map(|p| match p.workload {
            PopulationWorkload::Users { count, .. } => count as u128,
            _ => 0,
        })
        .sum();
    let bytes = |s: &&super::ServiceSpec| match &s.sessions {
        None => 0,
        Some(spec) => {
            let tables = match spec.design {
                super::ServiceSessionDesign::InMemory => s.instances as u128,
                _ => 0,
            };
            times(users, SESSION_USER_BYTES).saturating_add(times(users.saturating_mul(tables), 4))
        }
    };
    let total: u128 = m.services.values().map(|s| bytes(&s)).sum();
    if total == 0 {
        return;
    }
    if let Some((name, _)) = largest(&m.services, bytes) {
        add(
            "sessions",
            format!(
                "{} users × {} B per service with sessions, and 4 B per user per instance keeping them in memory",
                count_text(users),
                SESSION_USER_BYTES
            ),
            total,
            &format!("model.services.{name}.sessions"),
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::budget::{check, estimate, series_columns};
    use crate::config::load::ron_options;

    const MODEL: &str = include_str!("../../../tests/fixtures/graph/models/graph_example.ron");
    const EXPERIMENT: &str =
        include_str!("../../../tests/fixtures/graph/experiments/graph_example.ron");

    fn fixture() -> (ExperimentSpec, ModelSpec) {
        (
            ron_options().from_str(EXPERIMENT).unwrap(),
            ron_options().from_str(MODEL).unwrap(),
        )
    }

    fn bytes_of(e: &ExperimentSpec, m: &ModelSpec, what: &str) -> u128 {
        let est = estimate(e, m);
        let part = est.parts.iter().find(|p| p.what == what);
        part.unwrap_or_else(|| panic!("no {what} in {:?}", est.parts))
            .bytes
    }

    #[test]
    fn every_size_of_a_graph_model_is_a_term() {
        let (e, m) = fixture();
        // 4 + 2 + 1 instances; 200 users; a burst of 5,000; 1,000 Zipf keys; 8 rows; 4
        // partitions; the search path has two branches in flight.
        assert_eq!(bytes_of(&e, &m, "instances"), 7 * NODE_BYTES as u128);
        assert_eq!(
            bytes_of(&e, &m, "users' wake-ups"),
            200 * EVENT_BYTES as u128
        );
        assert_eq!(
            bytes_of(&e, &m, "burst arrivals"),
            5000 * EVENT_BYTES as u128
        );
        let per_key = STORE_BYTES_PER_KEY + CACHE_SHARED_BYTES_PER_KEY + size_of::<f64>();
        assert_eq!(bytes_of(&e, &m, "caches"), 1000 * per_key as u128);
        assert_eq!(bytes_of(&e, &m, "counter rows"), 8 * LOCK_ROW_BYTES as u128);
        assert_eq!(
            bytes_of(&e, &m, "topic partitions"),
            4 * PARTITION_BYTES as u128
        );
        // At most every user and every burst request at once (no open population).
        let per_request = REQUEST_BYTES + BRANCH_BYTES + CACHE_SLOT_BYTES;
        assert_eq!(
            bytes_of(&e, &m, "requests in flight"),
            5200 * per_request as u128
        );
        // 120 rows: 7 instances' columns, and 5 for each of 1 database, 1 cache, 1
        // counter, 1 topic and 2 populations.
        let columns = series_columns(7, false) + 6 * COLUMNS_PER_COMPONENT;
        assert_eq!(
            bytes_of(&e, &m, "time series"),
            120 * series_row_bytes(7, columns) as u128
        );
        assert_eq!(check(&e, &m), Ok(()));
    }

    #[test]
    fn the_largest_graph_size_is_blamed_with_the_limit() {
        let (e, mut m) = fixture();
        // 1,000 caches of 10 million keys: about 600 GiB, far past the default 8 GiB.
        let cache = m.caches["catalog"].clone();
        for i in 0..999 {
            let mut c = cache.clone();
            c.keys.count = 10_000_000;
            m.caches.insert(format!("c{i}"), c);
        }
        let (field, msg) = check(&e, &m).unwrap_err();
        assert!(
            field.starts_with("model.caches.c") && field.ends_with(".keys.count"),
            "{field}"
        );
        assert!(
            msg.contains("caches: 9,990,001,000 keys in 1000 cache(s)")
                && msg.contains("--set limits.max_memory_mb="),
            "{msg}"
        );
        // Health checks every millisecond on 1,000 instances for two minutes: 120 million.
        let (e, mut m) = fixture();
        let web = m.services.get_mut("web").unwrap();
        web.instances = 1000;
        web.balancer.health_check = Some(
            ron_options()
                .from_str("HealthCheck(every: \"1ms\")")
                .unwrap(),
        );
        let (field, msg) = check(&e, &m).unwrap_err();
        assert_eq!(field, "model.services.web.balancer.health_check.every");
        assert!(msg.contains("health checks: 120,000,000"), "{msg}");
    }
}
