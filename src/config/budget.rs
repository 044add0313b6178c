//! The memory and time a run will need, estimated from its resolved configuration before
//! it starts, and the limits it is checked against.
//!
//! Every size that multiplies memory is a term of the estimate: users (their pending wake
//! events), per-user session state (and a copy per node for in-memory sessions), cache
//! keys (per instance: one shared cache or one per node), time-series rows (and their CSV
//! text, whose columns grow with the nodes), the autoscaler's window of snapshots, the
//! consistent-hash ring, counter rows, and — as ceilings the run stops at — the requests in
//! flight (`limits.max_in_flight`) and the pending events (`limits.max_pending_events`).
//! The byte figures are `size_of` the types the simulator allocates, field by field as
//! their constructors do, so the estimate follows the code; `tests/budget_memory.rs`
//! compares them with what the constructors and a whole run really allocate.
//!
//! A graph model's terms (instances, populations, caches, counter rows, topic partitions,
//! branches in flight, autoscaler windows) are in `config::graph::budget`, checked against
//! the same limits. A single-tier model runs as the graph `config::shorthand::as_graph`
//! writes, so its estimate is that graph's, each term named by the single-tier field that
//! drives it; the single-tier terms below (`tier_parts`) are left for a configuration
//! with no graph form (a cache without a dependency, a fault the graph cannot aim), which
//! validation refuses.
//!
//! A configuration whose estimate exceeds `limits.max_memory_mb` (default 8 GiB) is refused
//! with the estimate, its largest terms and how to raise the limit; so is one whose
//! periodic events (metrics rows, autoscaler evaluations, health checks, lock flushes)
//! exceed `limits.max_periodic_events`, which bounds the time a tiny period costs.

use super::experiment::{ExperimentSpec, WorkloadSpec};
use super::model::{CachePlacement, CounterSpec, ModelSpec, PolicySpec, Popularity, SessionDesign};
use crate::engine::SimTime;
use crate::graph::components::service::autoscaler_rule::Snapshot;
use crate::graph::fail::FailReason;
use crate::graph::registry::Event;
use crate::graph::slab::Handle;
use crate::metrics::timeseries::{SeriesRow, TimeSeries};
use std::mem::size_of;

/// The default of `limits.max_memory_mb`: 8 GiB, which a laptop has to spare.
pub const DEFAULT_MAX_MEMORY_MB: u64 = 8192;

/// The default of `limits.max_periodic_events`: 100 million, about a minute or two of
/// simulator time spent on timers alone.
pub const DEFAULT_MAX_PERIODIC_EVENTS: u64 = 100_000_000;

/// The limits' field names and defaults (left out of the configuration hash at these values).
pub fn default_limit_values() -> [(&'static str, u64); 2] {
    [
        ("max_memory_mb", DEFAULT_MAX_MEMORY_MB),
        ("max_periodic_events", DEFAULT_MAX_PERIODIC_EVENTS),
    ]
}

/// What the allocator adds to each small allocation (glibc: a 16-byte header, rounded).
const MALLOC_OVERHEAD: usize = 16;

/// The average bytes of one `timeseries.csv` cell, separator included (counts of a few
/// digits, figures with three decimals); measured on the bundled experiments.
pub const CSV_CELL_BYTES: usize = 7;

/// The program's own footprint before any size counts: code, the latency histograms, the
/// event queue's and slabs' first blocks, buffers (measured: a one-node run allocates
/// about 4 MiB and maps about 6 MiB of code).
pub const BASE_BYTES: u128 = 16 << 20;

/// One event in the queue: a 128-bit (time, sequence) key and the event (`engine::queue`).
pub const EVENT_BYTES: usize = size_of::<(u128, Event)>();

/// A request in flight: a request's and an attempt's slab slot, the figure the former
/// single-tier engine's records had (64 + 88 bytes), kept so that every estimate and the
/// refusals it gives stay as they were (a graph request's own slot is 72 bytes, its calls,
/// visits and tasks more; `tests/budget_memory.rs` checks the estimates against what graph
/// runs allocate).
pub const REQUEST_BYTES: usize = 64 + BRANCH_BYTES;

/// One more branch of a request in flight: an attempt's slab slot, as the former
/// single-tier engine's attempt (88 bytes; see [`REQUEST_BYTES`]).
pub const BRANCH_BYTES: usize = 88;

/// One cache slot of an attempt (generation, key, instance, role, start, revoked).
pub const CACHE_SLOT_BYTES: usize = size_of::<(u32, u32, u32, u8, SimTime, bool)>();

/// Session state per user (`Sessions::new`): five `u32` (current, stale, store, prev,
/// failed logins in a row), five times (issued, stale issued, visible at, store issued,
/// locked until) and two optional times (last write, logout-all issued).
pub const SESSION_BYTES_PER_USER: usize =
    5 * size_of::<u32>() + 5 * size_of::<SimTime>() + 2 * size_of::<Option<SimTime>>();

/// An in-memory session table's entry, per user and node.
pub const NODE_TABLE_BYTES_PER_USER: usize = size_of::<u32>();

/// One key of one cache instance (`cache::Instance::new`): the LRU's links and presence,
/// expiry, last fetch time, the fetching attempt and its waiters.
pub const CACHE_BYTES_PER_KEY: usize = 2 * size_of::<u32>()
    + size_of::<bool>()
    + size_of::<SimTime>()
    + size_of::<u64>()
    + size_of::<Option<Handle>>()
    + size_of::<Vec<Handle>>();

/// Per key, once for all instances: the miss counter, and the popularity CDF under Zipf.
pub const CACHE_SHARED_BYTES_PER_KEY: usize = size_of::<u32>();

/// One counter row: holder, waiters, version. The figure the former single-tier engine's
/// row had (64 bytes), kept so that every estimate stays as it was (see [`REQUEST_BYTES`]);
/// a graph counter's row (`components::counter::Row`) is 56.
pub const LOCK_ROW_BYTES: usize = 64;

/// One entry of the autoscaler's window (`Autoscaler::history`).
pub const AUTOSCALER_ENTRY_BYTES: usize = size_of::<(SimTime, Snapshot)>();

/// One point of the consistent-hash ring (`Balancer::ring`).
pub const RING_POINT_BYTES: usize = size_of::<(u64, u32)>();

/// One node: its struct, its balancer health and share of the per-node vectors, and
/// its queue's first block (measured: about 1 KiB with two latency figures).
pub const NODE_BYTES: usize = 1024;

/// One term of the estimate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// What it is, e.g. "time series".
    pub what: &'static str,
    /// How it is counted, e.g. "1,000 rows × 58 columns".
    pub detail: String,
    /// Its bytes.
    pub bytes: u128,
    /// The field whose size drives it (the error points there when it is the largest).
    pub field: String,
    /// A ceiling the run stops at (in flight, pending events), not a size it always has.
    pub ceiling: bool,
}

/// The estimated memory of one run: its terms, largest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// The terms, largest first.
    pub parts: Vec<Part>,
}

impl Estimate {
    /// All terms together, in bytes.
    pub fn total(&self) -> u128 {
        self.parts.iter().map(|p| p.bytes).sum()
    }

    /// The terms the configuration's sizes always allocate (no ceilings).
    pub fn sized(&self) -> u128 {
        self.parts
            .iter()
            .filter(|p| !p.ceiling)
            .map(|p| p.bytes)
            .sum()
    }

    /// The largest terms as text: "time series: 10,000,000 rows × 58 columns, 35.1 GiB; …".
    pub fn describe(&self, at_most: usize) -> String {
        self.parts
            .iter()
            .filter(|p| p.what != "program")
            .take(at_most)
            .map(|p| format!("{}: {}, {}", p.what, p.detail, bytes_text(p.bytes)))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// `n` with thousands separators: 10,000,000.
pub fn count_text(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in binary units with one decimal: "37.2 GiB", "620.0 MiB", "512 B".
pub fn bytes_text(b: u128) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `a × b` bytes, saturating.
pub fn times(a: u128, b: usize) -> u128 {
    a.saturating_mul(b as u128)
}

/// The number of periods of `every` in `duration` (ns), rounded up.
pub fn periods(duration_ns: u64, every_ns: u64) -> u128 {
    (duration_ns as u128).div_ceil(every_ns.max(1) as u128)
}

/// The columns of `timeseries.csv` for `nodes` nodes, counted from the writer's own header.
pub fn series_columns(nodes: usize, cache: bool) -> usize {
    let header = TimeSeries {
        components: Vec::new(),
        interval_s: 1.0,
        reasons: FailReason::ALL.iter().map(|r| r.name()).collect(),
        nodes: 0,
        rows: Vec::new(),
        cache,
    }
    .to_csv();
    header.trim_end().split(',').count() + 2 * nodes
}

/// The bytes of one time-series row with `nodes` per-node figures and `columns` columns:
/// the row in memory, then its CSV text.
pub fn series_row_bytes(nodes: usize, columns: usize) -> usize {
    size_of::<SeriesRow>()
        + FailReason::ALL.len() * size_of::<u64>()
        + 2 * nodes * size_of::<u64>()
        + 3 * MALLOC_OVERHEAD
        + columns * CSV_CELL_BYTES
}

/// The time-series rows a run writes: one per metrics interval.
pub fn series_rows(e: &ExperimentSpec) -> u128 {
    periods(e.duration.ns(), e.metrics_interval.ns())
}

/// Estimates the memory of one run of `e` on `m`.
pub fn estimate(e: &ExperimentSpec, m: &ModelSpec) -> Estimate {
    let mut parts = vec![Part {
        what: "program",
        detail: "code, histograms and buffers".into(),
        bytes: BASE_BYTES,
        field: "limits.max_memory_mb".into(),
        ceiling: false,
    }];
    let mut add = |what, detail: String, bytes, field: &str, ceiling| {
        parts.push(Part {
            what,
            detail,
            bytes,
            field: field.to_string(),
            ceiling,
        })
    };
    if m.is_graph() {
        super::graph::budget::parts(e, m, &mut add);
    } else if let Ok((ge, gm)) = super::shorthand::as_graph_specs(e, m) {
        // A single-tier model runs as its graph: the estimate is of that graph, its terms
        // named by the single-tier fields that drive them.
        let mut named = |what, detail, bytes, field: &str, ceiling| {
            add(
                what,
                detail,
                bytes,
                &super::shorthand::single_tier_field(field),
                ceiling,
            )
        };
        super::graph::budget::parts(&ge, &gm, &mut named);
    } else {
        // Only a configuration validation refuses has no graph (and none runs).
        tier_parts(e, m, &mut add);
    }
    parts.sort_by_key(|p| std::cmp::Reverse(p.bytes));
    Estimate { parts }
}

/// Adds a term to an estimate: (what, how it is counted, bytes, the field that drives
/// it, whether it is a ceiling).
pub type AddPart<'a> = dyn FnMut(&'static str, String, u128, &str, bool) + 'a;

/// The terms of a single-tier model.
fn tier_parts(e: &ExperimentSpec, m: &ModelSpec, add: &mut AddPart<'_>) {
    let nodes = m.max_nodes() as u128;
    let node_field = if m.autoscaler.is_some() {
        "model.autoscaler.max_nodes"
    } else {
        "model.nodes.count"
    };
    add(
        "nodes",
        format!("{} × {}", count_text(nodes), bytes_text(NODE_BYTES as u128)),
        times(nodes, NODE_BYTES),
        node_field,
        false,
    );

    // The time series: the rows in memory, then the CSV text built from them at the end.
    let rows = series_rows(e);
    let columns = series_columns(nodes as usize, m.cache.is_some());
    let row_bytes = series_row_bytes(nodes as usize, columns);
    add(
        "time series",
        format!(
            "{} rows × {} columns (duration {} ÷ metrics_interval {})",
            count_text(rows),
            columns,
            e.duration,
            e.metrics_interval
        ),
        times(rows, row_bytes),
        "metrics_interval",
        false,
    );

    // Users: each has a wake-up event pending from the start (and a pin when sticky).
    let (users, in_flight_cap, cap_field) = match &e.workload {
        None => (0, e.limits.max_in_flight as u128, "limits.max_in_flight"),
        Some(WorkloadSpec::Users { count, .. }) => (
            *count as u128,
            (*count as u128).min(e.limits.max_in_flight as u128),
            if (*count as u64) < e.limits.max_in_flight {
                "workload.count"
            } else {
                "limits.max_in_flight"
            },
        ),
        Some(WorkloadSpec::Open { max_requests, .. }) => {
            let cap =
                max_requests.map_or(e.limits.max_in_flight, |r| r.min(e.limits.max_in_flight));
            let field = if cap == e.limits.max_in_flight {
                "limits.max_in_flight"
            } else {
                "workload.max_requests"
            };
            (0, cap as u128, field)
        }
    };
    // The queue holds a wake-up per user from the start; beyond that it may grow to
    // `limits.max_pending_events` before the run is stopped as overloaded.
    if users > 0 {
        add(
            "users' wake-ups",
            format!("{} events × {} B", count_text(users), EVENT_BYTES),
            times(users, EVENT_BYTES),
            "workload.count",
            false,
        );
    }
    let more_events = (e.limits.max_pending_events as u128).saturating_sub(users);
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
    if users > 0 && m.balancer.policy == PolicySpec::Sticky {
        add(
            "sticky pins",
            format!("{} users × 4 B", count_text(users)),
            times(users, size_of::<u32>()),
            "workload.count",
            false,
        );
    }
    let per_request = REQUEST_BYTES
        + if m.cache.is_some() {
            CACHE_SLOT_BYTES
        } else {
            0
        };
    add(
        "requests in flight",
        format!(
            "up to {} ({cap_field}) × {} B",
            count_text(in_flight_cap),
            per_request
        ),
        times(in_flight_cap, per_request),
        cap_field,
        true,
    );

    if let (Some(s), Some(WorkloadSpec::Users { count, .. })) = (&m.sessions, &e.workload) {
        let users = *count as u128;
        add(
            "sessions",
            format!("{} users × {} B", count_text(users), SESSION_BYTES_PER_USER),
            times(users, SESSION_BYTES_PER_USER),
            "workload.count",
            false,
        );
        if s.design == SessionDesign::InMemory {
            add(
                "in-memory session tables",
                format!(
                    "{} users × {} nodes × {} B",
                    count_text(users),
                    count_text(nodes),
                    NODE_TABLE_BYTES_PER_USER
                ),
                times(users.saturating_mul(nodes), NODE_TABLE_BYTES_PER_USER),
                "workload.count",
                false,
            );
        }
    }

    if let Some(c) = &m.cache {
        let keys = c.keys.count as u128;
        let instances = match c.placement {
            CachePlacement::Shared => 1,
            CachePlacement::PerNode => nodes,
        };
        let shared = CACHE_SHARED_BYTES_PER_KEY
            + match c.keys.popularity {
                Popularity::Zipf { .. } => size_of::<f64>(),
                Popularity::Uniform => 0,
            };
        add(
            "cache",
            format!(
                "{} keys × {} instance(s) × {} B",
                count_text(keys),
                count_text(instances),
                CACHE_BYTES_PER_KEY
            ),
            times(keys.saturating_mul(instances), CACHE_BYTES_PER_KEY)
                .saturating_add(times(keys, shared)),
            "model.cache.keys.count",
            false,
        );
    }

    if let Some(l) = &m.locks {
        if let CounterSpec::Sharded { buckets } = l.counter {
            add(
                "counter rows",
                format!(
                    "{} rows × {} B",
                    count_text(buckets as u128),
                    LOCK_ROW_BYTES
                ),
                times(buckets as u128, LOCK_ROW_BYTES),
                "model.locks.counter.buckets",
                false,
            );
        }
    }

    if let Some(a) = &m.autoscaler {
        // The window holds one snapshot per evaluation within it.
        let entries = periods(a.window.ns(), a.every.ns()) + 1;
        add(
            "autoscaler window",
            format!(
                "{} evaluations (window {} ÷ every {}) × {} B",
                count_text(entries),
                a.window,
                a.every,
                AUTOSCALER_ENTRY_BYTES
            ),
            times(entries, AUTOSCALER_ENTRY_BYTES + size_of::<f64>()),
            "model.autoscaler.every",
            false,
        );
    }

    if let PolicySpec::ConsistentHash { vnodes } = m.balancer.policy {
        let points = nodes.saturating_mul(vnodes as u128);
        add(
            "hash ring",
            format!("{} points × {} B", count_text(points), RING_POINT_BYTES),
            times(points, RING_POINT_BYTES),
            "model.balancer.policy.vnodes",
            false,
        );
    }
}

/// The periodic events of one run: (what, count, the field of its period).
pub fn periodic_events(e: &ExperimentSpec, m: &ModelSpec) -> Vec<(&'static str, u128, String)> {
    let d = e.duration.ns();
    let mut out = vec![(
        "metrics rows",
        series_rows(e),
        "metrics_interval".to_string(),
    )];
    if m.is_graph() {
        out.extend(super::graph::budget::periodic_events(e, m));
        return out;
    }
    if let Ok((ge, gm)) = super::shorthand::as_graph_specs(e, m) {
        // What its graph schedules, named by the single-tier fields.
        let events = super::graph::budget::periodic_events(&ge, &gm);
        out.extend(
            events
                .into_iter()
                .map(|(what, n, field)| (what, n, super::shorthand::single_tier_field(&field))),
        );
        return out;
    }
    if let Some(a) = &m.autoscaler {
        out.push((
            "autoscaler evaluations",
            periods(d, a.every.ns()),
            "model.autoscaler.every".into(),
        ));
    }
    if let Some(h) = &m.balancer.health_check {
        out.push((
            "health checks",
            periods(d, h.every.ns()).saturating_mul(m.max_nodes() as u128),
            "model.balancer.health_check.every".into(),
        ));
    }
    if let Some(l) = &m.locks {
        if let CounterSpec::Batched { every } = l.counter {
            out.push((
                "lock flushes",
                periods(d, every.ns()),
                "model.locks.counter.every".into(),
            ));
        }
    }
    out
}

/// Checks a resolved configuration against its limits: `Err((field, message))` when its
/// memory estimate or its periodic events exceed them.
pub fn check(e: &ExperimentSpec, m: &ModelSpec) -> Result<(), (String, String)> {
    let events = periodic_events(e, m);
    let total: u128 = events
        .iter()
        .map(|(_, n, _)| *n)
        .fold(0, u128::saturating_add);
    let limit = e.limits.max_periodic_events as u128;
    if total > limit {
        let (_, _, field) = events
            .iter()
            .max_by_key(|(_, n, _)| *n)
            .expect("metrics rows are always there");
        let listed: Vec<String> = events
            .iter()
            .filter(|(_, n, _)| *n > 0)
            .map(|(what, n, _)| format!("{what}: {}", count_text(*n)))
            .collect();
        return Err((
            field.to_string(),
            format!(
                "the run would schedule {} periodic events over its {} ({}); the limit is {} \
                 (limits.max_periodic_events): lengthen the period, shorten the run, or raise the \
                 limit with `limits: Limits(max_periodic_events: {})` or `--set limits.max_periodic_events={}`",
                count_text(total),
                e.duration,
                listed.join(", "),
                count_text(limit),
                round_up(total),
                round_up(total)
            ),
        ));
    }
    let est = estimate(e, m);
    let limit_bytes = (e.limits.max_memory_mb as u128) << 20;
    let need = est.total();
    if need > limit_bytes {
        let field = est
            .parts
            .iter()
            .find(|p| p.what != "program")
            .map_or("limits.max_memory_mb", |p| p.field.as_str());
        let mb = round_up(need.div_ceil(1 << 20));
        return Err((
            field.to_string(),
            format!(
                "the run needs about {} ({}); the limit is {} (limits.max_memory_mb: {}): \
                 lower the sizes, or raise the limit with `limits: Limits(max_memory_mb: {mb})` \
                 or `--set limits.max_memory_mb={mb}` if the machine has the memory",
                bytes_text(need),
                est.describe(3),
                bytes_text(limit_bytes),
                e.limits.max_memory_mb,
            ),
        ));
    }
    Ok(())
}

/// How many times its JSON text a resolved configuration takes in memory (strings,
/// maps and enums as the structs hold them; measured in `tests/budget_memory.rs`).
pub const CONFIG_BYTES_PER_JSON_BYTE: u128 = 4;

/// Estimates the memory a sweep holds besides its runs: one resolved configuration per
/// (point, variant) of `config_json_bytes` JSON, every run's figures (kept to write the
/// CSV files) and the text of `runs.csv` and `points.csv`.
pub fn sweep_estimate(
    runs: u128,
    point_variants: u128,
    axes: usize,
    config_json_bytes: usize,
) -> Estimate {
    // Every figure of a summary, one per failure reason included (an empty summary has none).
    let figures = crate::metrics::Summary::default().figures().len() + FailReason::ALL.len();
    // A figure: its (name, value) pair, the name's heap text, the allocator's header.
    let figure_bytes = size_of::<(String, f64)>() + 32 + MALLOC_OVERHEAD;
    let record_bytes =
        size_of::<crate::sweep::journal::Record>() + figures * figure_bytes + MALLOC_OVERHEAD;
    // runs.csv: a row per run; points.csv: mean, sd and interval (and a difference) per
    // figure, a row per point and variant. About 10 bytes a cell.
    let runs_csv = (figures + axes + 5) * 10;
    let points_csv = (figures * 6 + axes + 3) * 10;
    let mut parts = vec![
        Part {
            what: "run records",
            detail: format!("{} runs × {figures} figures", count_text(runs)),
            bytes: times(runs, record_bytes + runs_csv),
            field: "replications".into(),
            ceiling: false,
        },
        Part {
            what: "configurations",
            detail: format!(
                "{} (point, variant) pairs × {}",
                count_text(point_variants),
                bytes_text(config_json_bytes as u128 * CONFIG_BYTES_PER_JSON_BYTE)
            ),
            bytes: point_variants
                .saturating_mul(config_json_bytes as u128 * CONFIG_BYTES_PER_JSON_BYTE)
                .saturating_add(times(point_variants, points_csv)),
            field: "axes".into(),
            ceiling: false,
        },
    ];
    parts.sort_by_key(|p| std::cmp::Reverse(p.bytes));
    Estimate { parts }
}

/// Checks a sweep's own memory against the limit of its runs' configuration.
pub fn check_sweep(est: &Estimate, max_memory_mb: u64) -> Result<(), (String, String)> {
    let limit = (max_memory_mb as u128) << 20;
    let need = est.total();
    if need <= limit {
        return Ok(());
    }
    let mb = round_up(need.div_ceil(1 << 20));
    Err((
        est.parts[0].field.clone(),
        format!(
            "the sweep holds about {} besides its runs ({}); the limit is {} (limits.max_memory_mb: {max_memory_mb}): run fewer, or raise the limit with `set: {{\"limits.max_memory_mb\": \"{mb}\"}}` in the sweep file or `--set limits.max_memory_mb={mb}`",
            bytes_text(need),
            est.describe(2),
            bytes_text(limit),
        ),
    ))
}

/// Checks that an experiment's variants fit in memory together, as `run` runs them side
/// by side: their estimates summed, against the largest of their limits (each variant
/// was already checked alone against its own).
pub fn check_together(runs: &[super::RunConfig]) -> Result<(), String> {
    if runs.len() < 2 {
        return Ok(());
    }
    // What the sizes allocate is summed; the ceilings (in flight, pending events) once, for
    // the variant with the highest: overload stops a run, and all at once is unlikely.
    // The program itself (`BASE_BYTES`, in every estimate) is there once, however many run.
    let estimates: Vec<Estimate> = runs.iter().map(|r| estimate(&r.spec, &r.model)).collect();
    let own = |e: &Estimate| e.sized().saturating_sub(BASE_BYTES);
    let sized: u128 = BASE_BYTES + estimates.iter().map(own).sum::<u128>();
    let ceiling = estimates
        .iter()
        .map(|e| e.total() - e.sized())
        .max()
        .unwrap_or(0);
    let need = sized + ceiling;
    let max_mb = runs
        .iter()
        .map(|r| r.spec.limits.max_memory_mb)
        .max()
        .unwrap_or(DEFAULT_MAX_MEMORY_MB);
    let limit = (max_mb as u128) << 20;
    if need <= limit {
        return Ok(());
    }
    // The largest few variants name the cause; a long list would bury the message.
    let mut by_size: Vec<(&str, u128)> = runs
        .iter()
        .zip(&estimates)
        .map(|(r, e)| (r.variant.as_str(), own(e)))
        .collect();
    by_size.sort_by_key(|&(_, b)| std::cmp::Reverse(b));
    let mut each: Vec<String> = by_size
        .iter()
        .take(5)
        .map(|(v, b)| format!("{v} {}", bytes_text(*b)))
        .collect();
    if by_size.len() > 5 {
        each.push(format!("{} more", by_size.len() - 5));
    }
    let mb = round_up(need.div_ceil(1 << 20));
    Err(format!(
        "the {} variants run side by side and together need about {} ({}, and up to {} for the requests in flight and pending events of one); the limit is {} (limits.max_memory_mb: {max_mb}): run fewer or smaller variants, or raise the limit with `limits: Limits(max_memory_mb: {mb})` or `--set limits.max_memory_mb={mb}` if the machine has the memory",
        runs.len(),
        bytes_text(need),
        each.join(", "),
        bytes_text(ceiling),
        bytes_text(limit),
    ))
}

/// `n` rounded up to two significant digits, as a suggestion for a raised limit.
fn round_up(n: u128) -> u128 {
    let mut scale = 1u128;
    while n / scale >= 100 {
        scale *= 10;
    }
    n.div_ceil(scale).saturating_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        assert_eq!(count_text(10_000_000), "10,000,000");
        assert_eq!(count_text(999), "999");
        assert_eq!(count_text(1000), "1,000");
        assert_eq!(bytes_text(512), "512 B");
        assert_eq!(bytes_text(8 << 30), "8.0 GiB");
        assert_eq!(bytes_text(3 << 19), "1.5 MiB");
        assert_eq!(round_up(37_201), 38_000);
        assert_eq!(round_up(99), 99);
        assert_eq!(round_up(101), 110);
    }

    const MODEL: &str = "System(balancer: Balancer(policy: RoundRobin), nodes: Nodes(count: 2, workers: 4, service: Exp(mean: \"10ms\")))";

    fn exp(extra: &str) -> String {
        format!("Experiment(duration: \"10s\", workload: Open(rate_per_s: 5.0){extra})")
    }

    #[test]
    fn limits_at_their_defaults_keep_the_hash_and_raised_ones_change_it() {
        let run = |e: &str| crate::config::single_run_from_texts(e, MODEL).unwrap();
        let plain = run(&exp(""));
        let written = run(&exp(", limits: Limits(max_memory_mb: 8192)"));
        let raised = run(&exp(", limits: Limits(max_memory_mb: 9000)"));
        assert_eq!(plain.config_hash, written.config_hash);
        assert_ne!(plain.config_hash, raised.config_hash);
    }

    #[test]
    fn the_largest_term_is_blamed_and_the_suggestion_fits() {
        let cfg = crate::config::single_run_from_texts(&exp(""), MODEL).unwrap();
        let mut e = cfg.spec.clone();
        e.duration = crate::config::Duration::from_secs(10_000);
        e.metrics_interval = crate::config::Duration(SimTime(1_000_000));
        let est = estimate(&e, &cfg.model);
        assert_eq!(est.parts[0].what, "time series");
        // The single-tier model runs as its graph: the single-tier columns, two per node
        // and its components' (the service and the population).
        assert!(
            est.parts[0]
                .detail
                .starts_with("10,000,000 rows × 51 columns"),
            "{}",
            est.parts[0].detail
        );
        let (field, msg) = check(&e, &cfg.model).unwrap_err();
        assert_eq!(field, "metrics_interval");
        // The suggested limit is above the estimate, and accepted.
        let mb: u64 = msg
            .split("max_memory_mb=")
            .nth(1)
            .map(|s| {
                s.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .unwrap()
            .parse()
            .unwrap();
        assert!((mb as u128) << 20 >= est.total());
        e.limits.max_memory_mb = mb;
        assert_eq!(check(&e, &cfg.model), Ok(()));
        // A small run is far inside both limits.
        assert_eq!(check(&cfg.spec, &cfg.model), Ok(()));
    }

    #[test]
    fn columns_follow_the_writer() {
        // 44 columns without nodes or a cache today; each node adds two, a cache five.
        let base = series_columns(0, false);
        assert_eq!(series_columns(3, false), base + 6);
        assert_eq!(series_columns(0, true), base + 5);
    }
}
