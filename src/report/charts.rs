//! The run charts: a table of what can be drawn ([`CHARTS`]), each drawn only when its
//! columns exist and are not all zero, so a model without a cache gets no cache chart.
//! Adding a chart for a new column family is one entry in [`CHARTS`].

use super::draw::{self, Line, Panel, Plot};
use super::faults::FaultSpan;
use super::series::RunDir;

/// How the variants of a run share a figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Layout {
    /// One panel; one line per variant (per column), coloured by variant.
    Overlay,
    /// One panel per variant, stacked, with a shared y axis; one line per column.
    PerVariant,
}

/// Which columns a chart draws.
#[derive(Clone, Copy, Debug)]
pub enum Columns {
    /// These columns, each with its legend label.
    List(&'static [(&'static str, &'static str)]),
    /// Every column starting with `prefix` (e.g. `queue_len_node`); the legend shows
    /// `label_prefix` followed by the rest of the name (`node 0`, `timeout`).
    Prefix {
        /// What a column's name starts with.
        prefix: &'static str,
        /// What the legend shows in place of the prefix.
        label_prefix: &'static str,
    },
}

/// One chart of a run.
#[derive(Clone, Copy, Debug)]
pub struct ChartSpec {
    /// File stem: `<name>.svg` / `<name>.png`.
    pub name: &'static str,
    /// The chart's title.
    pub title: &'static str,
    /// The y axis' description, with its unit.
    pub y_desc: &'static str,
    /// Logarithmic y axis (latencies).
    pub log_y: bool,
    /// Divide the columns (counts per interval) by the interval length.
    pub per_second: bool,
    /// Overlay or one panel per variant.
    pub layout: Layout,
    /// The columns drawn.
    pub columns: Columns,
    /// A column drawn dashed in black for reference (e.g. the offered load under goodput).
    pub reference: Option<(&'static str, &'static str)>,
    /// Once the chart is drawn, draw its all-zero columns too (a flat zero is the finding:
    /// no request accepted after logout).
    pub draw_zero_columns: bool,
}

const fn overlay(
    name: &'static str,
    title: &'static str,
    y_desc: &'static str,
    column: &'static [(&'static str, &'static str)],
) -> ChartSpec {
    ChartSpec {
        name,
        title,
        y_desc,
        log_y: false,
        per_second: false,
        layout: Layout::Overlay,
        columns: Columns::List(column),
        reference: None,
        draw_zero_columns: false,
    }
}

const fn per_variant(
    name: &'static str,
    title: &'static str,
    y_desc: &'static str,
    columns: Columns,
) -> ChartSpec {
    ChartSpec {
        name,
        title,
        y_desc,
        log_y: false,
        per_second: false,
        layout: Layout::PerVariant,
        columns,
        reference: None,
        draw_zero_columns: false,
    }
}

/// Every chart scalesim knows, in report order. A chart is drawn when at least one of its
/// columns exists in some variant's `timeseries.csv` and is not all zero.
pub const CHARTS: &[ChartSpec] = &[
    ChartSpec {
        reference: Some(("offered_rps", "offered load")),
        ..overlay(
            "goodput",
            "Goodput: successful requests per second",
            "requests per second",
            &[("goodput_rps", "goodput")],
        )
    },
    ChartSpec {
        per_second: false,
        ..per_variant(
            "load",
            "Offered load, attempts sent (with retries) and goodput",
            "per second",
            Columns::List(&[
                ("offered_rps", "offered"),
                ("attempts_rps", "attempts sent"),
                ("goodput_rps", "goodput"),
            ]),
        )
    },
    overlay(
        "retry_amplification",
        "Retry amplification: attempts per offered request",
        "attempts / request",
        &[("retry_amplification", "amplification")],
    ),
    ChartSpec {
        per_second: true,
        ..per_variant(
            "errors",
            "Failed requests by reason",
            "failures per second",
            Columns::Prefix {
                prefix: "failed_",
                label_prefix: "",
            },
        )
    },
    ChartSpec {
        log_y: true,
        ..per_variant(
            "latency",
            "Latency of successful requests (log scale)",
            "latency (ms)",
            Columns::List(&[
                ("latency_p50_ms", "p50"),
                ("latency_p95_ms", "p95"),
                ("latency_p99_ms", "p99"),
            ]),
        )
    },
    ChartSpec {
        log_y: true,
        ..overlay(
            "latency_p99",
            "99th percentile latency (log scale)",
            "latency p99 (ms)",
            &[("latency_p99_ms", "p99")],
        )
    },
    overlay(
        "in_flight",
        "Requests in flight",
        "requests",
        &[("in_flight", "in flight")],
    ),
    per_variant(
        "queue_len",
        "Queue length per node",
        "requests queued",
        Columns::Prefix {
            prefix: "queue_len_node",
            label_prefix: "node ",
        },
    ),
    per_variant(
        "busy_workers",
        "Busy workers per node",
        "workers busy",
        Columns::Prefix {
            prefix: "busy_workers_node",
            label_prefix: "node ",
        },
    ),
    per_variant(
        "dependency",
        "Downstream dependency: queue and busy workers",
        "calls",
        Columns::List(&[
            ("dependency_queue", "queued"),
            ("dependency_busy", "busy workers"),
        ]),
    ),
    per_variant(
        "nodes",
        "Nodes serving and provisioned",
        "nodes",
        Columns::List(&[("nodes_up", "serving"), ("nodes_on", "provisioned")]),
    ),
    overlay(
        "autoscaler_metric",
        "Autoscaler metric at its last evaluation",
        "metric",
        &[("autoscaler_metric", "metric")],
    ),
    overlay(
        "cost",
        "Cost so far",
        "cost (model currency)",
        &[("cost", "cost")],
    ),
    overlay(
        "cache_hit_ratio",
        "Cache hit ratio",
        "hits / lookups",
        &[("cache_hit_ratio", "hit ratio")],
    ),
    overlay(
        "db_qps",
        "Database load",
        "queries per second",
        &[("db_qps", "queries/s")],
    ),
    overlay(
        "db_connections",
        "Database connections in use",
        "connections",
        &[("db_connections", "connections")],
    ),
    overlay(
        "replication_lag",
        "Replication lag",
        "lag (ms)",
        &[("replication_lag_ms", "lag")],
    ),
    overlay(
        "lock_waiters",
        "Requests waiting for a lock",
        "waiters",
        &[("lock_waiters", "waiters")],
    ),
    ChartSpec {
        log_y: true,
        ..overlay(
            "lock_wait",
            "Lock wait, 99th percentile (log scale)",
            "lock wait p99 (ms)",
            &[("lock_wait_ms_p99", "p99")],
        )
    },
    ChartSpec {
        draw_zero_columns: true,
        ..per_variant(
            "sessions",
            "Sessions lost, spurious logouts and requests accepted after logout, per interval",
            "per interval",
            Columns::List(&[
                ("sessions_lost", "sessions lost"),
                ("spurious_logouts", "spurious logouts"),
                ("accepted_after_logout", "accepted after logout"),
            ]),
        )
    },
    // On its own axis too: a few violations per interval vanish beside thousands of lost
    // sessions in the chart above.
    ChartSpec {
        per_second: true,
        ..overlay(
            "accepted_after_logout",
            "Requests accepted after their user logged out (security violations)",
            "requests per second",
            &[("accepted_after_logout", "accepted after logout")],
        )
    },
];

/// The columns of `spec` that some variant has with a non-zero value: (column, label).
pub fn present_columns(spec: &ChartSpec, run: &RunDir) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    match spec.columns {
        Columns::List(list) => {
            let any = list.iter().any(|(c, _)| run.has_signal(c));
            for (c, l) in list {
                let present = run.variants.iter().any(|v| v.table.has(c));
                if run.has_signal(c) || (any && spec.draw_zero_columns && present) {
                    out.push((c.to_string(), l.to_string()));
                }
            }
        }
        Columns::Prefix {
            prefix,
            label_prefix,
        } => {
            for v in &run.variants {
                for c in &v.table.columns {
                    if let Some(rest) = c.strip_prefix(prefix) {
                        if !out.iter().any(|(o, _)| o == c) && run.has_signal(c) {
                            out.push((c.clone(), format!("{label_prefix}{rest}")));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Beyond this many columns in a family (e.g. 40 autoscaled nodes), a panel shows their
/// maximum and their mean per serving node instead of one unreadable line each.
pub const MAX_LINES: usize = 10;

/// The plot of one chart for a run, or `None` when the run has none of its columns.
pub fn plan(spec: &ChartSpec, run: &RunDir, spans: &[FaultSpan]) -> Option<Plot> {
    let cols = present_columns(spec, run);
    if cols.is_empty() {
        return None;
    }
    let mut panels = Vec::new();
    let mut legend = Vec::new();
    match spec.layout {
        Layout::Overlay => {
            let mut lines = Vec::new();
            let multi = cols.len() > 1;
            for (vi, v) in run.variants.iter().enumerate() {
                for (ci, (c, l)) in cols.iter().enumerate() {
                    let Some(y) = v.column(c, spec.per_second) else {
                        continue;
                    };
                    let label = if multi {
                        format!("{} {l}", v.variant)
                    } else {
                        v.variant.clone()
                    };
                    lines.push(Line {
                        label,
                        color: vi,
                        dashed: ci > 0,
                        xs: v.x.clone(),
                        ys: y,
                        band: None,
                    });
                }
            }
            if let Some((rc, rl)) = spec.reference {
                let refs: Vec<(usize, Vec<f64>)> = run
                    .variants
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.column(rc, spec.per_second).map(|y| (i, y)))
                    .collect();
                let same = refs.windows(2).all(|w| w[0].1 == w[1].1);
                for (k, (i, y)) in refs.iter().enumerate() {
                    if same && k > 0 {
                        break;
                    }
                    lines.push(Line {
                        label: if same {
                            rl.to_string()
                        } else {
                            format!("{} {rl}", run.variants[*i].variant)
                        },
                        color: if same { draw::BLACK_INDEX } else { *i },
                        dashed: true,
                        xs: run.variants[*i].x.clone(),
                        ys: y.clone(),
                        band: None,
                    });
                }
            }
            for l in &lines {
                legend.push((l.label.clone(), l.color, l.dashed));
            }
            // Drawn bottom to top: the reference first, then the variants last to first,
            // so the first variant (usually the baseline) stays visible where lines coincide.
            let refs = lines
                .iter()
                .filter(|l| l.dashed && l.color == draw::BLACK_INDEX)
                .count();
            let n = lines.len() - refs;
            let mut ordered: Vec<Line> = lines.split_off(n);
            ordered.extend(lines.into_iter().rev());
            let lines = ordered;
            panels.push(Panel { title: None, lines });
        }
        Layout::PerVariant if cols.len() > MAX_LINES => {
            let what = match spec.columns {
                Columns::Prefix { label_prefix, .. } if !label_prefix.is_empty() => {
                    label_prefix.trim().to_string() + "s"
                }
                _ => "columns".to_string(),
            };
            // The CSV has a column for every node the run ever had (0 when not running):
            // the mean is taken over the nodes serving (nodes_up), which says which are on.
            let names = [
                format!("max over {what}"),
                format!("mean per serving {}", what.trim_end_matches('s')),
            ];
            for (i, n) in names.iter().enumerate() {
                legend.push((n.clone(), i, false));
            }
            for v in &run.variants {
                let data: Vec<Vec<f64>> = cols
                    .iter()
                    .filter_map(|(c, _)| v.column(c, spec.per_second))
                    .collect();
                let up = v.column("nodes_up", false);
                let mut max = Vec::with_capacity(v.x.len());
                let mut mean = Vec::with_capacity(v.x.len());
                for r in 0..v.x.len() {
                    let row = data
                        .iter()
                        .filter_map(|c| c.get(r).copied())
                        .filter(|x| x.is_finite());
                    // (max, sum, values, non-zero values): a draining node still works
                    // but no longer counts as serving, so it joins the denominator.
                    let (m, sum, n, busy) = row.fold(
                        (f64::NEG_INFINITY, 0.0, 0usize, 0usize),
                        |(m, s, n, b), x| (m.max(x), s + x, n + 1, b + usize::from(x > 0.0)),
                    );
                    let serving = up
                        .as_ref()
                        .and_then(|u| u.get(r).copied())
                        .unwrap_or(n as f64)
                        .max(busy as f64);
                    max.push(if n == 0 { f64::NAN } else { m });
                    mean.push(if serving > 0.0 {
                        sum / serving
                    } else {
                        f64::NAN
                    });
                }
                let lines = [max, mean]
                    .into_iter()
                    .zip(&names)
                    .enumerate()
                    .map(|(i, (ys, n))| Line {
                        label: n.clone(),
                        color: i,
                        dashed: false,
                        xs: v.x.clone(),
                        ys,
                        band: None,
                    })
                    .collect();
                panels.push(Panel {
                    title: Some(v.variant.clone()),
                    lines,
                });
            }
        }
        Layout::PerVariant => {
            for (ci, (_, l)) in cols.iter().enumerate() {
                legend.push((l.clone(), ci, false));
            }
            for v in &run.variants {
                let mut lines = Vec::new();
                for (ci, (c, l)) in cols.iter().enumerate() {
                    if let Some(y) = v.column(c, spec.per_second) {
                        lines.push(Line {
                            label: l.clone(),
                            color: ci,
                            dashed: false,
                            xs: v.x.clone(),
                            ys: y,
                            band: None,
                        });
                    }
                }
                panels.push(Panel {
                    title: Some(v.variant.clone()),
                    lines,
                });
            }
        }
    }
    Some(Plot {
        name: spec.name.to_string(),
        title: spec.title.to_string(),
        x_desc: "simulated time (s), end of each metrics interval".to_string(),
        y_desc: spec.y_desc.to_string(),
        log_y: spec.log_y,
        x_range: Some(run.time_range()),
        panels,
        legend,
        spans: spans.to_vec(),
    })
}
