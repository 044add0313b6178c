//! The tables the package turns into data frames: the same columns, in the same order, as
//! `timeseries.csv`, `comparison.csv`, `runs.csv` and `points.csv`, but typed and at full
//! precision (the files round floats for stable bytes). The package's tests check the
//! column names against the files the CLI writes, so a column added there shows up here.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use scalesim::metrics::{SeriesRow, TimeSeries};
use scalesim::output::{figure_columns, figure_value};
use scalesim::sweep::csv::figure_names;
use scalesim::sweep::journal::Record;
use scalesim::sweep::stats::{paired_difference, unpaired_difference, Estimate};
use scalesim::sweep::Manifest;
use scalesim::Summary;
use std::collections::BTreeMap;

/// One typed cell.
pub enum Cell {
    /// An integer count or index.
    Int(i64),
    /// A figure (NaN when missing).
    Float(f64),
    /// A name or a value text.
    Text(String),
}

impl IntoPy<PyObject> for Cell {
    fn into_py(self, py: Python<'_>) -> PyObject {
        match self {
            Cell::Int(i) => i.into_py(py),
            Cell::Float(x) => x.into_py(py),
            Cell::Text(s) => s.into_py(py),
        }
    }
}

/// A header and rows of cells, row-major.
#[derive(Default)]
pub struct Table {
    /// The column names.
    pub columns: Vec<String>,
    /// The rows, each as long as `columns`.
    pub rows: Vec<Vec<Cell>>,
}

impl IntoPy<PyObject> for Table {
    fn into_py(self, py: Python<'_>) -> PyObject {
        let d = PyDict::new_bound(py);
        d.set_item("columns", self.columns).expect("str key");
        let rows: Vec<PyObject> = self
            .rows
            .into_iter()
            .map(|r| {
                let cells: Vec<PyObject> = r.into_iter().map(|c| c.into_py(py)).collect();
                cells.into_py(py)
            })
            .collect();
        d.set_item("rows", rows).expect("str key");
        d.into_py(py)
    }
}

fn int(x: u64) -> Cell {
    Cell::Int(x as i64)
}

/// One run's time series: the columns of `timeseries.csv`.
pub fn timeseries(ts: &TimeSeries) -> Table {
    let mut columns: Vec<String> = [
        "t_s",
        "offered",
        "offered_rps",
        "attempts",
        "retries",
        "retry_amplification",
        "succeeded",
        "goodput_rps",
        "failed",
    ]
    .map(String::from)
    .to_vec();
    columns.extend(ts.reasons.iter().map(|r| format!("failed_{r}")));
    columns.extend(
        [
            "latency_p50_ms",
            "latency_p95_ms",
            "latency_p99_ms",
            "in_flight",
        ]
        .map(String::from),
    );
    // A single-tier model run as its graph has the single-tier columns, then its
    // components' (as `timeseries.csv`); a graph model only its components'.
    if ts.is_graph() && ts.nodes == 0 {
        return graph_timeseries(ts, columns);
    }
    columns.extend(
        [
            "nodes_up",
            "nodes_on",
            "queue_len_total",
            "busy_workers_total",
            "dependency_queue",
            "dependency_busy",
            "autoscaler_metric",
            "cost",
            "spurious_logouts",
            "accepted_after_logout",
            "sessions_lost",
            "logged_in",
            "store_queue",
            "store_busy",
            "lock_waiters",
            "lock_wait_ms_p99",
            "counter_committed",
        ]
        .map(String::from),
    );
    if ts.cache {
        columns.extend(
            [
                "cache_hit_ratio",
                "cache_hits",
                "cache_misses",
                "cache_coalesced",
                "db_qps",
            ]
            .map(String::from),
        );
    }
    for i in 0..ts.nodes {
        columns.push(format!("queue_len_node{i}"));
        columns.push(format!("busy_workers_node{i}"));
    }
    columns.extend(component_columns(ts));
    columns.push("active_faults".into());
    let per_s = |x: u64| x as f64 / ts.interval_s;
    let rows = ts
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let g = &row.gauges;
            let mut r = Vec::new();
            r.extend(request_cells(ts, row));
            r.extend([
                int(u64::from(g.nodes_up)),
                int(u64::from(g.nodes_on)),
                int(g.queue_len.iter().sum()),
                int(g.busy_workers.iter().sum()),
                int(g.dependency_queue),
                int(g.dependency_busy),
                Cell::Float(g.autoscaler_metric),
                Cell::Float(g.cost),
                int(g.spurious_logouts),
                int(g.accepted_after_logout),
                int(g.sessions_lost),
                int(g.logged_in),
                int(g.store_queue),
                int(g.store_busy),
                int(g.lock_waiters),
                Cell::Float(g.lock_wait_ms_p99),
                int(g.counter_committed),
            ]);
            if ts.cache {
                let lookups = g.cache_hits + g.cache_misses + g.cache_coalesced;
                let ratio = if lookups == 0 {
                    0.0
                } else {
                    g.cache_hits as f64 / lookups as f64
                };
                r.extend([
                    Cell::Float(ratio),
                    int(g.cache_hits),
                    int(g.cache_misses),
                    int(g.cache_coalesced),
                    Cell::Float(per_s(g.db_queries)),
                ]);
            }
            for n in 0..ts.nodes {
                r.push(int(g.queue_len.get(n).copied().unwrap_or(0)));
                r.push(int(g.busy_workers.get(n).copied().unwrap_or(0)));
            }
            r.extend(component_cells(ts, i));
            r.push(Cell::Text(g.active_faults.clone()));
            r
        })
        .collect();
    Table { columns, rows }
}

/// The request-level cells of one row, `t_s` to `in_flight`, as every run has them.
fn request_cells(ts: &TimeSeries, row: &SeriesRow) -> Vec<Cell> {
    let per_s = |x: u64| x as f64 / ts.interval_s;
    let amplification = if row.offered == 0 {
        0.0
    } else {
        row.attempts as f64 / row.offered as f64
    };
    let mut r = vec![
        Cell::Float(row.t_s),
        int(row.offered),
        Cell::Float(per_s(row.offered)),
        int(row.attempts),
        int(row.retries),
        Cell::Float(amplification),
        int(row.succeeded),
        Cell::Float(per_s(row.succeeded)),
        int(row.failed_by_reason.iter().sum()),
    ];
    r.extend(row.failed_by_reason.iter().map(|&f| int(f)));
    r.extend([
        Cell::Float(row.latency_p50_ms),
        Cell::Float(row.latency_p95_ms),
        Cell::Float(row.latency_p99_ms),
        int(row.gauges.in_flight),
    ]);
    r
}

/// A graph run's time series: the request-level columns, then `<key>.<name>` for every
/// column its components declare (as `timeseries.csv`), then `active_faults`.
fn graph_timeseries(ts: &TimeSeries, mut columns: Vec<String>) -> Table {
    columns.extend(component_columns(ts));
    columns.push("active_faults".into());
    let rows = ts
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = request_cells(ts, row);
            r.extend(component_cells(ts, i));
            r.push(Cell::Text(row.gauges.active_faults.clone()));
            r
        })
        .collect();
    Table { columns, rows }
}

/// `<key>.<name>` for every column the run's components declare.
fn component_columns(ts: &TimeSeries) -> Vec<String> {
    ts.components
        .iter()
        .flat_map(|c| {
            c.schema
                .series
                .iter()
                .map(move |m| format!("{}.{}", c.key, m.name))
        })
        .collect()
}

/// The components' cells of row `i`.
fn component_cells(ts: &TimeSeries, i: usize) -> Vec<Cell> {
    let mut r = Vec::new();
    for c in &ts.components {
        let values = c.rows.get(i);
        r.extend(
            (0..c.schema.series.len())
                .map(|j| Cell::Float(values.and_then(|v| v.get(j)).copied().unwrap_or(f64::NAN))),
        );
    }
    r
}

/// The variants side by side: the columns of `comparison.csv`.
pub fn comparison(summaries: &[Summary]) -> Table {
    if summaries.is_empty() {
        return Table::default();
    }
    let mut columns: Vec<String> = ["experiment", "variant", "seed", "config_hash"]
        .map(String::from)
        .to_vec();
    let figures: Vec<Vec<(String, f64)>> = summaries.iter().map(Summary::figures).collect();
    let names = figure_columns(figures.iter().map(Vec::as_slice));
    columns.extend(names.iter().cloned());
    let rows = summaries
        .iter()
        .zip(&figures)
        .map(|(s, f)| {
            let mut r = vec![
                Cell::Text(s.experiment.clone()),
                Cell::Text(s.variant.clone()),
                int(s.seed),
                Cell::Text(s.config_hash.clone()),
            ];
            r.extend(names.iter().map(|n| Cell::Float(figure_value(f, n))));
            r
        })
        .collect();
    Table { columns, rows }
}

fn value_of(r: &Record, name: &str) -> Option<f64> {
    r.figures.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// A sweep's `runs.csv` and `points.csv` tables, computed as `scalesim::sweep::csv`
/// computes the files (the same estimates, in the same order).
pub fn sweep(m: &Manifest, records: &BTreeMap<usize, Record>) -> (Table, Table) {
    let ordered: Vec<&Record> = records.values().collect();
    let names = figure_names(&ordered);
    let text = |v: &[String]| v.iter().map(|x| Cell::Text(x.clone())).collect::<Vec<_>>();

    let mut runs = Table::default();
    runs.columns.push("point".into());
    runs.columns.extend(m.axes.iter().cloned());
    runs.columns
        .extend(["variant", "replication", "seed", "config_hash"].map(String::from));
    runs.columns.extend(names.iter().cloned());
    for r in &ordered {
        let id = m.locate(r.run);
        let mut cells = vec![Cell::Int(id.point as i64)];
        cells.extend(text(&m.points[id.point]));
        cells.push(Cell::Text(r.variant.clone()));
        cells.push(Cell::Int(i64::from(r.replication)));
        cells.push(int(r.seed));
        cells.push(Cell::Text(m.config_hashes[id.point][id.variant].clone()));
        for n in &names {
            cells.push(Cell::Float(value_of(r, n).unwrap_or(f64::NAN)));
        }
        runs.rows.push(cells);
    }

    let base = m.baseline_index();
    let mut points = Table::default();
    points.columns.push("point".into());
    points.columns.extend(m.axes.iter().cloned());
    points.columns.extend(["variant", "runs"].map(String::from));
    for n in &names {
        for suffix in ["mean", "sd", "ci95_lo", "ci95_hi"] {
            points.columns.push(format!("{n}_{suffix}"));
        }
        if base.is_some() {
            for suffix in [
                "diff_mean",
                "diff_ci95_lo",
                "diff_ci95_hi",
                "unpaired_ci95_lo",
                "unpaired_ci95_hi",
            ] {
                points.columns.push(format!("{n}_{suffix}"));
            }
        }
    }
    let reps = m.replications;
    let samples = |p: usize, v: usize, name: &str| -> Vec<Option<f64>> {
        (0..reps)
            .map(|r| {
                records
                    .get(&m.run_index(p, v, r))
                    .and_then(|rec| value_of(rec, name))
            })
            .collect()
    };
    for p in 0..m.points.len() {
        for (v, vname) in m.variants.iter().enumerate() {
            let mut cells = vec![Cell::Int(p as i64)];
            cells.extend(text(&m.points[p]));
            cells.push(Cell::Text(vname.clone()));
            let n_runs = (0..reps)
                .filter(|&r| records.contains_key(&m.run_index(p, v, r)))
                .count();
            cells.push(Cell::Int(n_runs as i64));
            for n in &names {
                let xs = samples(p, v, n);
                let present: Vec<f64> = xs.iter().flatten().copied().collect();
                let e = Estimate::of(&present);
                cells.extend([e.mean, e.sd, e.lo(), e.hi()].map(Cell::Float));
                if let Some(b) = base {
                    let bs = samples(p, b, n);
                    let d = paired_difference(&xs, &bs);
                    let bp: Vec<f64> = bs.iter().flatten().copied().collect();
                    let u = unpaired_difference(&present, &bp);
                    cells.extend([d.mean, d.lo(), d.hi(), u.lo(), u.hi()].map(Cell::Float));
                }
            }
            points.rows.push(cells);
        }
    }
    (runs, points)
}
