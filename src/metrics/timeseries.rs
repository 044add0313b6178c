//! The per-interval time series: one row per metrics interval of simulated time, written
//! as `timeseries.csv` (tidy: one column per figure, units in the names).

use super::schema::ComponentSeries;
use std::fmt::Write as _;

/// One interval's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesRow {
    /// Start of the interval, seconds of simulated time.
    pub t_s: f64,
    /// Requests issued by users in the interval.
    pub offered: u64,
    /// Attempts sent in the interval (first tries and retries).
    pub attempts: u64,
    /// Retries sent in the interval.
    pub retries: u64,
    /// Requests that succeeded in the interval.
    pub succeeded: u64,
    /// Requests that failed in the interval, by reason (same order as `FailReason::ALL`).
    pub failed_by_reason: Vec<u64>,
    /// Median latency of the interval's successes, ms.
    pub latency_p50_ms: f64,
    /// 95th percentile latency of the interval's successes, ms.
    pub latency_p95_ms: f64,
    /// 99th percentile latency of the interval's successes, ms.
    pub latency_p99_ms: f64,
    /// The gauges read at the end of the interval.
    pub gauges: Gauges,
}

/// Figures read from the system at the end of an interval.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gauges {
    /// Requests in flight.
    pub in_flight: u64,
    /// Queue length of each node.
    pub queue_len: Vec<u64>,
    /// Busy workers of each node.
    pub busy_workers: Vec<u64>,
    /// Nodes serving.
    pub nodes_up: u32,
    /// Nodes provisioned (paid for), serving or not.
    pub nodes_on: u32,
    /// Calls waiting at the dependency.
    pub dependency_queue: u64,
    /// Dependency workers busy.
    pub dependency_busy: u64,
    /// The autoscaler's metric at its last evaluation.
    pub autoscaler_metric: f64,
    /// Cost so far, in the model's currency.
    pub cost: f64,
    /// Valid sessions rejected during the interval (spurious logouts).
    pub spurious_logouts: u64,
    /// Requests accepted with a logged-out session during the interval.
    pub accepted_after_logout: u64,
    /// Live sessions lost with a node during the interval.
    pub sessions_lost: u64,
    /// Users logged in at the end of the interval.
    pub logged_in: u64,
    /// Session-store operations waiting.
    pub store_queue: u64,
    /// Session-store workers busy.
    pub store_busy: u64,
    /// Requests waiting for counter-row locks.
    pub lock_waiters: u64,
    /// 99th percentile wait for a row lock in the interval, ms.
    pub lock_wait_ms_p99: f64,
    /// Counter increments committed so far.
    pub counter_committed: u64,
    /// Faults active, `;`-separated (empty when none).
    pub active_faults: String,
    /// Cache lookups answered from the cache during the interval.
    pub cache_hits: u64,
    /// Cache lookups that queried the database during the interval.
    pub cache_misses: u64,
    /// Cache misses that waited for another request's fetch during the interval.
    pub cache_coalesced: u64,
    /// Database queries sent through the cache (misses and writes) during the interval.
    pub db_queries: u64,
}

/// All rows of one run, with the interval length for rates.
#[derive(Clone, Debug, Default)]
pub struct TimeSeries {
    /// Interval length in seconds.
    pub interval_s: f64,
    /// Names of the failure reasons, matching `failed_by_reason`.
    pub reasons: Vec<&'static str>,
    /// Number of nodes (columns per node).
    pub nodes: usize,
    /// The rows, in time order.
    pub rows: Vec<SeriesRow>,
    /// Whether the model has a cache (then the cache and database columns are written).
    pub cache: bool,
    /// A graph run's components, each with the columns its schema declares (empty for a
    /// single-tier run, whose columns are the fixed ones above).
    pub components: Vec<ComponentSeries>,
}

impl TimeSeries {
    /// The CSV text: a header, then one line per interval. Floats have fixed precision so
    /// that the same run always writes the same bytes.
    ///
    /// A single-tier run writes the request-level columns, then the node, dependency,
    /// session, lock (and cache) columns. A graph run (`components` not empty) writes the
    /// request-level columns, then `<key>.<name>` for every column its components declare
    /// (see [`super::schema`]), and none of the single-tier ones — unless it is a
    /// single-tier model run as its graph (`nodes` set): then the single-tier columns come
    /// first, as that model's readers expect, and its components' columns after them.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        self.request_header(&mut out);
        let single_tier = !self.is_graph() || self.nodes > 0;
        if single_tier {
            self.single_tier_header(&mut out);
        }
        for c in &self.components {
            for m in c.schema.series {
                let _ = write!(out, ",{}.{}", c.key, m.name);
            }
        }
        out.push_str(",active_faults\n");
        for (i, row) in self.rows.iter().enumerate() {
            self.request_cells(row, &mut out);
            if single_tier {
                self.single_tier_cells(row, &mut out);
            }
            if self.is_graph() {
                self.component_cells(i, &mut out);
            }
            let _ = writeln!(out, ",{}", row.gauges.active_faults);
        }
        out
    }

    /// Whether this is a graph run's series (its components declare their columns).
    pub fn is_graph(&self) -> bool {
        !self.components.is_empty()
    }

    /// The request-level columns every run has, `t_s` to `in_flight`.
    fn request_header(&self, out: &mut String) {
        out.push_str("t_s,offered,offered_rps,attempts,retries,retry_amplification,succeeded,goodput_rps,failed");
        for r in &self.reasons {
            let _ = write!(out, ",failed_{r}");
        }
        out.push_str(",latency_p50_ms,latency_p95_ms,latency_p99_ms,in_flight");
    }

    fn single_tier_header(&self, out: &mut String) {
        out.push_str(",nodes_up,nodes_on,queue_len_total,busy_workers_total");
        out.push_str(",dependency_queue,dependency_busy,autoscaler_metric,cost");
        out.push_str(",spurious_logouts,accepted_after_logout,sessions_lost,logged_in,store_queue,store_busy");
        out.push_str(",lock_waiters,lock_wait_ms_p99,counter_committed");
        if self.cache {
            out.push_str(",cache_hit_ratio,cache_hits,cache_misses,cache_coalesced,db_qps");
        }
        for i in 0..self.nodes {
            let _ = write!(out, ",queue_len_node{i},busy_workers_node{i}");
        }
    }

    fn request_cells(&self, row: &SeriesRow, out: &mut String) {
        let failed: u64 = row.failed_by_reason.iter().sum();
        let amplification = if row.offered == 0 {
            0.0
        } else {
            row.attempts as f64 / row.offered as f64
        };
        let _ = write!(
            out,
            "{:.3},{},{:.3},{},{},{:.3},{},{:.3},{}",
            row.t_s,
            row.offered,
            row.offered as f64 / self.interval_s,
            row.attempts,
            row.retries,
            amplification,
            row.succeeded,
            row.succeeded as f64 / self.interval_s,
            failed
        );
        for f in &row.failed_by_reason {
            let _ = write!(out, ",{f}");
        }
        let _ = write!(
            out,
            ",{:.3},{:.3},{:.3},{}",
            row.latency_p50_ms, row.latency_p95_ms, row.latency_p99_ms, row.gauges.in_flight
        );
    }

    /// Row `i` of every component, in declaration order; a component without that row (it
    /// cannot happen in a run, whose components sample every interval) leaves empty cells.
    fn component_cells(&self, i: usize, out: &mut String) {
        for c in &self.components {
            let values = c.rows.get(i);
            if let Some(v) = values {
                assert_eq!(
                    v.len(),
                    c.schema.series.len(),
                    "{}: a row has one value per declared column",
                    c.key
                );
            }
            for (j, m) in c.schema.series.iter().enumerate() {
                let v = values.map_or(f64::NAN, |v| v[j]);
                out.push(',');
                out.push_str(&component_cell(v, m.unit));
            }
        }
    }

    fn single_tier_cells(&self, row: &SeriesRow, out: &mut String) {
        let g = &row.gauges;
        let _ = write!(
            out,
            ",{},{},{},{},{},{},{:.4},{:.4}",
            g.nodes_up,
            g.nodes_on,
            g.queue_len.iter().sum::<u64>(),
            g.busy_workers.iter().sum::<u64>(),
            g.dependency_queue,
            g.dependency_busy,
            g.autoscaler_metric,
            g.cost
        );
        let _ = write!(
            out,
            ",{},{},{},{},{},{}",
            g.spurious_logouts,
            g.accepted_after_logout,
            g.sessions_lost,
            g.logged_in,
            g.store_queue,
            g.store_busy
        );
        let _ = write!(
            out,
            ",{},{:.3},{}",
            g.lock_waiters, g.lock_wait_ms_p99, g.counter_committed
        );
        if self.cache {
            let lookups = g.cache_hits + g.cache_misses + g.cache_coalesced;
            let ratio = if lookups == 0 {
                0.0
            } else {
                g.cache_hits as f64 / lookups as f64
            };
            let _ = write!(
                out,
                ",{ratio:.4},{},{},{},{:.3}",
                g.cache_hits,
                g.cache_misses,
                g.cache_coalesced,
                g.db_queries as f64 / self.interval_s
            );
        }
        for i in 0..self.nodes {
            let q = g.queue_len.get(i).copied().unwrap_or(0);
            let b = g.busy_workers.get(i).copied().unwrap_or(0);
            let _ = write!(out, ",{q},{b}");
        }
    }
}

/// A component's value as a CSV cell: a whole number without a fraction (counts and
/// gauges), a share with 4 decimals, anything else with 3, and NaN (not measurable in
/// that interval) as an empty cell, which pandas and polars read as missing.
pub fn component_cell(v: f64, unit: &str) -> String {
    if v.is_nan() {
        String::new()
    } else if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if unit == "share" {
        format!("{v:.4}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::graph_series;
    use super::*;

    #[test]
    fn a_graph_runs_csv_has_request_columns_then_its_components() {
        let csv = graph_series().to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "t_s,offered,offered_rps,attempts,retries,retry_amplification,succeeded,goodput_rps,\
             failed,failed_timeout,failed_error,latency_p50_ms,latency_p95_ms,latency_p99_ms,in_flight,\
             service.web.instances_up,service.web.busy_workers,service.web.queue_len,\
             service.web.open_connections,service.web.served_per_s,service.web.errors_per_s,\
             service.web.instances_on,db.main.busy_workers,db.main.queue_len,db.main.connections_in_use,\
             db.main.waiting_for_connection,db.main.qps,db.main.slowdown_factor,active_faults"
        );
        assert_eq!(
            lines[1],
            "0.000,10,10.000,10,0,1.000,9,9.000,1,1,0,4.000,9.000,12.500,0,2,5,0,7,9,0,2,1,0,1,0,4,1,"
        );
        assert_eq!(
            lines[2],
            "1.000,20,20.000,20,0,1.000,19,19.000,1,1,0,4.000,9.000,12.500,0,\
             2,8,3,11,19,1,2,4,2,6,1,12.500,1.062,flush"
        );
        assert_eq!(lines.len(), 3);
        // None of the single-tier columns, though the series says it has nodes and a cache.
        for legacy in [
            "nodes_up",
            "queue_len_node",
            "dependency_",
            "cache_hit_ratio",
            "cost",
        ] {
            assert!(!lines[0].contains(legacy), "{legacy}");
        }
        // Every line has the header's cells.
        let width = lines[0].split(',').count();
        assert!(lines.iter().all(|l| l.split(',').count() == width));
    }

    #[test]
    fn without_components_the_single_tier_columns_are_written() {
        let mut ts = graph_series();
        ts.components.clear();
        ts.nodes = 3;
        ts.cache = true;
        let csv = ts.to_csv();
        let header = csv.lines().next().unwrap();
        assert!(header.contains(",in_flight,nodes_up,nodes_on,"), "{header}");
        assert!(header.contains(",db_qps,queue_len_node0,busy_workers_node0,"));
        assert!(header.ends_with(",queue_len_node2,busy_workers_node2,active_faults"));
        assert!(!header.contains("db.main"));
    }

    #[test]
    fn a_single_tier_model_run_as_its_graph_writes_both_sets_of_columns() {
        let mut ts = graph_series();
        ts.nodes = 2;
        let csv = ts.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        let header = lines[0];
        assert!(header.contains(",in_flight,nodes_up,nodes_on,"), "{header}");
        assert!(
            header.contains(",queue_len_node1,busy_workers_node1,service.web.instances_up,"),
            "single-tier columns, then the components': {header}"
        );
        assert!(header.ends_with(",db.main.slowdown_factor,active_faults"));
        let width = header.split(',').count();
        assert!(lines.iter().all(|l| l.split(',').count() == width));
    }

    #[test]
    fn component_cells_are_whole_fixed_or_empty() {
        assert_eq!(component_cell(12.0, "queries"), "12");
        assert_eq!(component_cell(0.123456, "share"), "0.1235");
        assert_eq!(component_cell(2.5, "ms"), "2.500");
        assert_eq!(component_cell(f64::NAN, "ms"), "");
    }
}
