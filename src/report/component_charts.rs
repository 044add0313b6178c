//! The charts of a graph run's components, derived from the columns their schemas declare
//! (`db.main.queue_len` in `timeseries.csv`): one chart per component kind and series
//! column that has data ("db: queue_len"), titled and labelled from the column's
//! [`Measure`], faults shaded as in every chart.
//!
//! With one component of the kind, the variants are overlaid (a line each); with several,
//! each variant gets a panel with a line per component.

use super::draw::{Line, Panel, Plot};
use super::faults::FaultSpan;
use super::series::RunDir;
use crate::metrics::schema::{split_column, Measure, Schema, SCHEMAS};

/// Every component chart the run has data for, by kind (in [`SCHEMAS`] order) and column
/// (in the schema's order).
pub fn plans(run: &RunDir, spans: &[FaultSpan]) -> Vec<Plot> {
    let mut out = Vec::new();
    for schema in SCHEMAS {
        for m in schema.series {
            if let Some(p) = plan(schema, m, run, spans) {
                out.push(p);
            }
        }
    }
    out
}

/// The component keys of `schema`'s kind that some variant has column `m` for with a
/// non-zero value, in the order the variants list them.
fn keys_with_data(schema: &Schema, m: &Measure, run: &RunDir) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for v in &run.variants {
        for c in &v.table.columns {
            let Some((key, measure)) = split_column(c) else {
                continue;
            };
            let kind = key.split('.').next().unwrap_or_default();
            if kind == schema.kind
                && measure == m.name
                && !keys.iter().any(|k| k == key)
                && run.has_signal(c)
            {
                keys.push(key.to_string());
            }
        }
    }
    keys
}

/// The chart of column `m` of every component of `schema`'s kind, or `None` when no
/// variant has data for it.
pub fn plan(schema: &Schema, m: &Measure, run: &RunDir, spans: &[FaultSpan]) -> Option<Plot> {
    let keys = keys_with_data(schema, m, run);
    if keys.is_empty() {
        return None;
    }
    let name_of = |key: &str| key[schema.kind.len() + 1..].to_string();
    let mut panels = Vec::new();
    let mut legend = Vec::new();
    if let [key] = keys.as_slice() {
        let column = format!("{key}.{}", m.name);
        let lines: Vec<Line> = run
            .variants
            .iter()
            .enumerate()
            .filter_map(|(vi, v)| {
                Some(Line {
                    label: v.variant.clone(),
                    color: vi,
                    dashed: false,
                    xs: v.x.clone(),
                    ys: v.column(&column, false)?,
                    band: None,
                })
            })
            .collect();
        legend.extend(lines.iter().map(|l| (l.label.clone(), l.color, false)));
        // Drawn last to first, so the first variant stays visible where lines coincide.
        panels.push(Panel {
            title: Some(format!("{} {}", schema.kind, name_of(key))),
            lines: lines.into_iter().rev().collect(),
        });
    } else {
        legend.extend(keys.iter().enumerate().map(|(i, k)| (name_of(k), i, false)));
        for v in &run.variants {
            let lines = keys
                .iter()
                .enumerate()
                .filter_map(|(ki, key)| {
                    Some(Line {
                        label: name_of(key),
                        color: ki,
                        dashed: false,
                        xs: v.x.clone(),
                        ys: v.column(&format!("{key}.{}", m.name), false)?,
                        band: None,
                    })
                })
                .collect();
            panels.push(Panel {
                title: Some(v.variant.clone()),
                lines,
            });
        }
    }
    Some(Plot {
        name: format!("{}_{}", schema.kind, m.name),
        title: title(schema, m),
        x_desc: "simulated time (s), end of each metrics interval".to_string(),
        y_desc: format!("{} ({})", m.name.replace('_', " "), m.unit),
        log_y: false,
        x_range: Some(run.time_range()),
        panels,
        legend,
        spans: spans.to_vec(),
    })
}

/// The widest title that fits above a chart, in characters of the bundled font at its size.
const MAX_TITLE_CHARS: usize = 100;

/// `db: queue_len — <meaning>`, or without the meaning when that would not fit.
fn title(schema: &Schema, m: &Measure) -> String {
    let full = format!(
        "{}: {} — {}",
        schema.kind,
        m.name,
        m.meaning.trim_end_matches('.')
    );
    if full.chars().count() <= MAX_TITLE_CHARS {
        full
    } else {
        format!("{}: {} ({})", schema.kind, m.name, m.unit)
    }
}

#[cfg(test)]
mod tests {
    use crate::metrics::fixture::{graph_series, graph_summary_of};
    use crate::output::{comparison_csv, write_atomic};
    use crate::report::{plot_run_dir, PlotOptions};

    /// A run directory of two graph variants: `one` has the fixture's service and
    /// database, `two` a second database too.
    fn graph_run_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("scalesim-graph-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut summaries = Vec::new();
        for (variant, replica) in [("one", false), ("two", true)] {
            let mut ts = graph_series();
            // The service's errors: none in either variant.
            ts.components[0].rows.iter_mut().for_each(|r| r[5] = 0.0);
            if replica {
                let mut extra = ts.components[1].clone();
                extra.key = "db.replica".into();
                extra.rows[1][1] = 7.0; // its queue
                ts.components.push(extra);
            }
            let vdir = dir.join(variant);
            std::fs::create_dir_all(&vdir).unwrap();
            write_atomic(&vdir.join("timeseries.csv"), ts.to_csv().as_bytes()).unwrap();
            let s = graph_summary_of(variant, 12.0);
            write_atomic(&vdir.join("summary.json"), s.to_json_text().as_bytes()).unwrap();
            summaries.push(s);
        }
        write_atomic(
            &dir.join("comparison.csv"),
            comparison_csv(&summaries).as_bytes(),
        )
        .unwrap();
        dir
    }

    #[test]
    fn a_graph_run_gets_a_chart_per_kind_and_column_with_data() {
        let dir = graph_run_dir("charts");
        let opts = PlotOptions {
            png: std::env::var_os("SCALESIM_KEEP_PLOTS").is_some(),
            ..Default::default()
        };
        let out = plot_run_dir(&dir, &opts).unwrap();
        let mut names: Vec<String> = out
            .files
            .iter()
            .filter_map(|p| {
                p.file_name()?
                    .to_str()?
                    .strip_suffix(".svg")
                    .map(String::from)
            })
            .collect();
        names.sort();
        for expected in [
            "goodput",
            "latency",
            "errors",
            "db_queue_len",
            "db_qps",
            "service_busy_workers",
            "service_instances_up",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "no {expected} in {names:?}"
            );
        }
        // No single-tier chart without its columns, no chart of a column without data.
        for absent in [
            "queue_len",
            "busy_workers",
            "nodes",
            "cost",
            "db_connections",
            "service_errors_per_s",
        ] {
            assert!(!names.iter().any(|n| n == absent), "{absent} in {names:?}");
        }
        let svg = std::fs::read_to_string(dir.join("plots/db_queue_len.svg")).unwrap();
        // Several databases: a panel per variant and a line per database, labelled by name.
        assert!(svg.contains("replica") && svg.contains("main"), "legend");
        assert!(
            svg.contains("queue len (queries)"),
            "the y axis says the unit"
        );
        assert!(svg.contains("flush"), "the fault is marked");
        let svg = std::fs::read_to_string(dir.join("plots/service_busy_workers.svg")).unwrap();
        assert!(
            svg.contains("service: busy_workers — Workers busy"),
            "title from the meaning"
        );
        let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
        assert!(
            html.contains("fig-db_queue_len") && html.contains("db.main"),
            "report"
        );
        if !opts.png {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
