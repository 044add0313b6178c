//! The figures at the top of `report.html` and the full table under the plots, both read
//! from each variant's `summary.json` as JSON, so a component the model does not have (a
//! `null` or absent part) shows as nothing, never as zeros.
//!
//! - [`headline`]: the few figures an experiment's story is about: goodput, success share,
//!   p99 latency and failures always; recovery, retry amplification and cost when they say
//!   something; and the figures of each component present (sessions, locks, cache, db).
//! - [`grouped`]: every figure, grouped by component (`requests`, `latency_ms`, `sessions`,
//!   `sessions.store`, `nodes`, ...), with a group only where some variant has it.

use crate::output::format_figure;
use serde_json::Value;

/// How a headline figure is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Format {
    /// A count or a rate, as the CSV files write it.
    Number,
    /// A share 0..1 written as a percentage.
    Percent,
}

/// When a headline row is shown.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Show {
    /// Whenever some variant has the figure.
    Present,
    /// When some variant has it and it is not 0 in every variant.
    NonZero,
    /// When the variants do not all have the same value.
    Differs,
    /// When some variant's value exceeds this.
    Above(f64),
}

/// (label, dotted path in summary.json, format, when shown).
const HEADLINE: &[(&str, &str, Format, Show)] = &[
    (
        "goodput (req/s)",
        "goodput_rps",
        Format::Number,
        Show::Present,
    ),
    (
        "success share",
        "availability.requests_share",
        Format::Percent,
        Show::Present,
    ),
    (
        "p99 latency of successes (ms)",
        "latency_ms.p99",
        Format::Number,
        Show::Present,
    ),
    (
        "failed requests",
        "requests.failed",
        Format::Number,
        Show::Present,
    ),
    (
        "recovery after the fault (s)",
        "recovery_seconds",
        Format::Number,
        Show::Present,
    ),
    (
        "retry amplification",
        "retry_amplification",
        Format::Number,
        Show::Above(1.05),
    ),
    (
        "peak nodes",
        "cost.peak_nodes",
        Format::Number,
        Show::Differs,
    ),
    ("cost", "cost.total", Format::Number, Show::Differs),
    (
        "spurious logouts",
        "sessions.spurious_logouts",
        Format::Number,
        Show::Present,
    ),
    (
        "spurious logout share",
        "sessions.spurious_logout_fraction",
        Format::Percent,
        Show::Present,
    ),
    (
        "accepted after logout",
        "sessions.accepted_after_logout",
        Format::Number,
        Show::Present,
    ),
    (
        "sessions lost on crash",
        "sessions.lost_on_crash",
        Format::Number,
        Show::NonZero,
    ),
    (
        "session writes lost",
        "sessions.lost_writes",
        Format::Number,
        Show::NonZero,
    ),
    (
        "stale session reads",
        "sessions.stale_reads",
        Format::Number,
        Show::NonZero,
    ),
    (
        "lost updates",
        "locks.lost_updates",
        Format::Number,
        Show::Present,
    ),
    (
        "lock wait p99 (ms)",
        "locks.wait_ms_p99",
        Format::Number,
        Show::Present,
    ),
    (
        "lock timeouts",
        "locks.timeouts",
        Format::Number,
        Show::NonZero,
    ),
    (
        "cache hit ratio",
        "cache.hit_ratio",
        Format::Percent,
        Show::Present,
    ),
    (
        "peak db fetches of one key per interval",
        "cache.peak_misses_per_key",
        Format::Number,
        Show::Present,
    ),
    (
        "db peak (queries/s)",
        "db.peak_qps",
        Format::Number,
        Show::NonZero,
    ),
];

/// The value at a dotted path; `None` when absent or `null`.
pub fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for k in path.split('.') {
        cur = cur.get(k)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// Writes one summary value for the page: numbers as the CSV files do, shares as percentages.
pub fn cell(v: Option<&Value>, format: Format) -> String {
    match v {
        None => "–".to_string(),
        Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.to_string(),
        Some(Value::Number(n)) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            match format {
                Format::Percent => {
                    let p = x * 100.0;
                    if (99.0..100.0).contains(&p) {
                        format!("{p:.3}%")
                    } else {
                        format!("{p:.1}%")
                    }
                }
                Format::Number => format_figure(x),
            }
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// One row of a table: its label and one cell per variant.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// What the figure is.
    pub label: String,
    /// One cell per variant, in the variants' order ("–" where the variant has none).
    pub cells: Vec<String>,
}

/// The headline rows for these summaries (one per variant), in [`HEADLINE`] order.
pub fn headline(summaries: &[Value]) -> Vec<Row> {
    let mut rows = Vec::new();
    for (label, path, format, show) in HEADLINE {
        let values: Vec<Option<&Value>> = summaries.iter().map(|s| at(s, path)).collect();
        let numbers: Vec<f64> = values.iter().flatten().filter_map(|v| v.as_f64()).collect();
        let shown = !numbers.is_empty()
            && match show {
                Show::Present => true,
                Show::NonZero => numbers.iter().any(|x| *x != 0.0),
                Show::Differs => numbers.windows(2).any(|w| w[0] != w[1]),
                Show::Above(limit) => numbers.iter().any(|x| x > limit),
            };
        // Recovery is shown when some variant recovered or never did.
        let never: Vec<bool> = summaries
            .iter()
            .map(|s| at(s, "never_recovered").and_then(Value::as_bool) == Some(true))
            .collect();
        let recovery = *path == "recovery_seconds";
        if !(shown || (recovery && never.contains(&true))) {
            continue;
        }
        let cells = values
            .iter()
            .zip(&never)
            .map(|(v, &never)| {
                if recovery && never {
                    "never".to_string()
                } else {
                    cell(*v, *format)
                }
            })
            .collect();
        rows.push(Row {
            label: label.to_string(),
            cells,
        });
    }
    rows
}

/// Fields of summary.json left out of the full table (shown elsewhere or not figures).
const NOT_FIGURES: [&str; 5] = [
    "experiment",
    "variant",
    "seed",
    "config_hash",
    "wall_seconds",
];

/// A group of the full table: a component and its rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The component (`run` for the run-wide figures, else the summary's key).
    pub name: String,
    /// Its figures.
    pub rows: Vec<Row>,
}

/// Flattens one summary into (group, figure, value), in file order.
fn flatten<'a>(prefix: &str, v: &'a Value, out: &mut Vec<(String, String, &'a Value)>) {
    let Value::Object(map) = v else {
        return;
    };
    for (k, x) in map {
        if prefix.is_empty() && NOT_FIGURES.contains(&k.as_str()) {
            continue;
        }
        let group = if prefix.is_empty() { "run" } else { prefix };
        match x {
            Value::Object(_) => {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, x, out);
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    // Per-node figures: `node 0 served`, ...
                    let id = item.get("node").and_then(Value::as_u64).unwrap_or(i as u64);
                    match item {
                        Value::Object(m) => {
                            for (f, y) in m.iter().filter(|(f, _)| *f != "node") {
                                out.push((k.clone(), format!("node {id} {f}"), y));
                            }
                        }
                        _ => out.push((k.clone(), format!("{i}"), item)),
                    }
                }
            }
            Value::Null => {}
            _ => out.push((group.to_string(), k.clone(), x)),
        }
    }
}

/// The full table of every figure, grouped by component; a group or a figure appears when
/// some variant has it, and a variant without it shows "–".
pub fn grouped(summaries: &[Value]) -> Vec<Group> {
    let flat: Vec<Vec<(String, String, &Value)>> = summaries
        .iter()
        .map(|s| {
            let mut out = Vec::new();
            flatten("", s, &mut out);
            out
        })
        .collect();
    let mut groups: Vec<Group> = Vec::new();
    for entries in &flat {
        for (g, f, _) in entries {
            let gi = match groups.iter().position(|x| x.name == *g) {
                Some(i) => i,
                None => {
                    groups.push(Group {
                        name: g.clone(),
                        rows: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            if !groups[gi].rows.iter().any(|r| r.label == *f) {
                let cells = flat
                    .iter()
                    .map(|e| {
                        let v = e.iter().find(|(g2, f2, _)| g2 == g && f2 == f).map(|x| x.2);
                        cell(v, Format::Number)
                    })
                    .collect();
                groups[gi].rows.push(Row {
                    label: f.clone(),
                    cells,
                });
            }
        }
    }
    // The run-wide figures first, then the components in summary.json's order.
    groups.sort_by_key(|g| g.name != "run");
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_components_are_not_zeros() {
        let with = json!({"goodput_rps": 100.0, "availability": {"requests_share": 0.87},
            "latency_ms": {"p99": 12.5}, "requests": {"failed": 3},
            "sessions": {"spurious_logouts": 40, "spurious_logout_fraction": 0.5,
                         "accepted_after_logout": 0, "store": null},
            "locks": null, "nodes": [{"node": 0, "served": 7}]});
        let without = json!({"goodput_rps": 90.0, "availability": {"requests_share": 1.0},
            "latency_ms": {"p99": 10.0}, "requests": {"failed": 0},
            "sessions": null, "locks": null, "nodes": [{"node": 0, "served": 9}]});
        let rows = headline(&[with.clone(), without.clone()]);
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "goodput (req/s)",
                "success share",
                "p99 latency of successes (ms)",
                "failed requests",
                "spurious logouts",
                "spurious logout share",
                "accepted after logout"
            ]
        );
        assert_eq!(rows[1].cells, ["87.0%", "100.0%"]);
        assert_eq!(rows[4].cells, ["40", "–"]);
        let groups = grouped(&[with, without]);
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "run",
                "availability",
                "latency_ms",
                "nodes",
                "requests",
                "sessions"
            ]
        );
        assert_eq!(groups[3].rows[0].label, "node 0 served");
        let logouts = groups[5]
            .rows
            .iter()
            .find(|r| r.label == "spurious_logouts");
        assert_eq!(logouts.unwrap().cells, ["40", "–"]);
    }
}
