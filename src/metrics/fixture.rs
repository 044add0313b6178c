//! A graph run's summary and time series as the engine would leave them, for the unit tests
//! of every output derived from the schema (the engine is not needed to test them).

use super::schema::{ComponentFigures, ComponentSeries, CACHE, DATABASE, SERVICE};
use super::{SeriesRow, Summary, TimeSeries};

/// Variant `variant`'s summary: a database (`db.main`, `peak_qps` = `peak_qps`, its wait
/// p99 not measurable) and a cache (`cache.catalog`, hit ratio 0.75).
pub fn graph_summary_of(variant: &str, peak_qps: f64) -> Summary {
    let mut s = Summary {
        variant: variant.into(),
        goodput_rps: 290.5,
        ..Default::default()
    };
    s.requests.issued = 3000;
    let mut db = vec![0.0; DATABASE.figures.len()];
    db[0] = 1200.0; // queries
    db[5] = peak_qps;
    db[9] = f64::NAN; // wait_ms_p99: no samples
    let mut cache = vec![0.0; CACHE.figures.len()];
    // hit_ratio, hits, misses, coalesced, peak_misses_per_key, flushes.
    cache[..6].copy_from_slice(&[0.75, 300.0, 100.0, 0.0, 3.0, 1.0]);
    s.set_components(&[
        ComponentFigures {
            key: "db.main".into(),
            schema: &DATABASE,
            values: db,
        },
        ComponentFigures {
            key: "cache.catalog".into(),
            schema: &CACHE,
            values: cache,
        },
    ]);
    s
}

/// [`graph_summary_of`] for the variant "graph" with a peak of 12 queries per second.
pub fn graph_summary() -> Summary {
    graph_summary_of("graph", 12.0)
}

/// Two one-second intervals of a run with a service `web` and a database `main`.
pub fn graph_series() -> TimeSeries {
    let row = |t_s: f64, offered: u64| SeriesRow {
        t_s,
        offered,
        attempts: offered,
        succeeded: offered - 1,
        failed_by_reason: vec![1, 0],
        latency_p50_ms: 4.0,
        latency_p95_ms: 9.0,
        latency_p99_ms: 12.5,
        ..Default::default()
    };
    let mut rows = vec![row(0.0, 10), row(1.0, 20)];
    rows[1].gauges.active_faults = "flush".into();
    TimeSeries {
        interval_s: 1.0,
        reasons: vec!["timeout", "error"],
        // A graph model's run has no single-tier nodes (only a single-tier model run as
        // its graph does).
        nodes: 0,
        rows,
        cache: false,
        components: vec![
            ComponentSeries {
                key: "service.web".into(),
                schema: &SERVICE,
                rows: vec![
                    vec![2.0, 5.0, 0.0, 7.0, 9.0, 0.0, 2.0],
                    vec![2.0, 8.0, 3.0, 11.0, 19.0, 1.0, 2.0],
                ],
            },
            ComponentSeries {
                key: "db.main".into(),
                schema: &DATABASE,
                rows: vec![
                    vec![1.0, 0.0, 1.0, 0.0, 4.0, 1.0],
                    vec![4.0, 2.0, 6.0, 1.0, 12.5, 1.0625],
                ],
            },
        ],
    }
}
