//! The side-by-side summary table printed by `scalesim run`: one column per variant.

use crate::metrics::summary::LatencySummary;
use crate::metrics::Summary;
use serde_json::Value;

type LatencyField = fn(&LatencySummary) -> f64;

/// The latency rows, label and field.
const LATENCY_ROWS: [(&str, LatencyField); 6] = [
    ("mean", |l| l.mean),
    ("p50", |l| l.p50),
    ("p95", |l| l.p95),
    ("p99", |l| l.p99),
    ("p99.9", |l| l.p999),
    ("max", |l| l.max),
];

/// The latency rows also shown for failures.
const FAILED_ROWS: [&str; 3] = ["mean", "p50", "p99"];

/// The optional components, by their dotted path in `summary.json`, and their heading.
pub const COMPONENTS: [(&str, &str); 6] = [
    ("dependency", "dependency"),
    ("sessions", "sessions"),
    ("sessions.store", "session store"),
    ("locks", "locks"),
    ("cache", "cache"),
    ("db", "database behind the cache"),
];

/// A heading row, then a row for every figure of every component some variant has, read
/// from the summary itself (so a figure added to a component is shown without a change
/// here). Figures that are 0 in every variant are left out: they tell nothing apart. A
/// variant without the component shows "-".
fn component_rows(summaries: &[Summary]) -> Vec<(String, Vec<String>)> {
    let trees: Vec<Value> = summaries.iter().map(Summary::to_json_value).collect();
    let mut rows = Vec::new();
    for (path, heading) in COMPONENTS {
        let parts: Vec<Option<&serde_json::Map<String, Value>>> = trees
            .iter()
            .map(|t| {
                path.split('.')
                    .try_fold(t, |v, k| v.get(k))
                    .and_then(Value::as_object)
            })
            .collect();
        if parts.iter().all(Option::is_none) {
            continue;
        }
        rows.push((heading.to_string(), vec![String::new(); summaries.len()]));
        // Every variant's figures: one variant's part may lack a figure another has, or hold
        // `null` where another holds a nested component.
        let keys: std::collections::BTreeSet<&String> =
            parts.iter().flatten().flat_map(|m| m.keys()).collect();
        for key in keys {
            let values: Vec<Option<&Value>> =
                parts.iter().map(|p| p.and_then(|m| m.get(key))).collect();
            if values
                .iter()
                .flatten()
                .any(|v| v.is_object() || v.is_array())
            {
                continue; // a nested component has its own heading
            }
            let all_zero = values
                .iter()
                .all(|v| v.is_none_or(|v| v.as_f64() == Some(0.0) || v.is_null()));
            if all_zero {
                continue;
            }
            let cells = values
                .iter()
                .map(|v| v.map_or("-".into(), |v| format_value(key, v)))
                .collect();
            rows.push((format!("  {}", key.replace('_', " ")), cells));
        }
    }
    rows
}

/// A figure for the table: counts as integers, shares as percentages, others with two
/// decimals (none from 1000 on).
fn format_value(key: &str, v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            let share = ["fraction", "ratio", "utilisation", "share"]
                .iter()
                .any(|w| key.contains(w));
            if share {
                format!("{:.1}%", x * 100.0)
            } else if x.abs() >= 1000.0 {
                format!("{x:.0}")
            } else {
                format!("{x:.2}")
            }
        }
        // A design's name, without its parameters (they are in config.json).
        Value::String(s) => s.split([' ', '{', '(']).next().unwrap_or(s).to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// Renders the summaries as a fixed-width table, figures down the side, variants across.
/// A graph run's components are sections keyed by component (see [`super::sections`]);
/// the single-tier rows (nodes, availability, cost) are left out when every variant is a
/// graph model's run, which has none of them.
pub fn side_by_side(summaries: &[Summary]) -> String {
    // A single-tier model run as its graph has its nodes too (`config::shorthand`).
    let single_tier = summaries
        .iter()
        .any(|s| !s.is_graph() || !s.nodes.is_empty());
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let push =
        |rows: &mut Vec<(String, Vec<String>)>, label: &str, f: &dyn Fn(&Summary) -> String| {
            rows.push((label.to_string(), summaries.iter().map(f).collect()));
        };
    push(&mut rows, "requests issued", &|s| {
        s.requests.issued.to_string()
    });
    push(&mut rows, "  succeeded", &|s| {
        s.requests.succeeded.to_string()
    });
    push(&mut rows, "  failed", &|s| s.requests.failed.to_string());
    if let Some(first) = summaries.first() {
        for reason in first.failed_by_reason.keys() {
            let r = reason.clone();
            if summaries
                .iter()
                .any(|s| s.failed_by_reason.get(&r).copied().unwrap_or(0) > 0)
            {
                push(&mut rows, &format!("    {r}"), &move |s| {
                    s.failed_by_reason.get(&r).copied().unwrap_or(0).to_string()
                });
            }
        }
    }
    push(&mut rows, "  in flight at end", &|s| {
        s.requests.in_flight.to_string()
    });
    let any = |f: &dyn Fn(&Summary) -> bool| summaries.iter().any(f);
    if any(&|s| s.retries > 0) {
        push(&mut rows, "attempts", &|s| s.attempts.to_string());
        push(&mut rows, "  retries", &|s| s.retries.to_string());
        push(&mut rows, "  retry budget denied", &|s| {
            s.budget_denied.to_string()
        });
        push(&mut rows, "retry amplification", &|s| {
            format!("{:.2}", s.retry_amplification)
        });
        push(&mut rows, "  peak (per interval)", &|s| {
            format!("{:.2}", s.retry_amplification_peak)
        });
    }
    push(&mut rows, "goodput (req/s)", &|s| {
        format!("{:.1}", s.goodput_rps)
    });
    push(&mut rows, "throughput (req/s)", &|s| {
        format!("{:.1}", s.throughput_rps)
    });
    if any(&|s| s.wasted_completions > 0 || s.shed_expired > 0) {
        push(&mut rows, "wasted completions", &|s| {
            s.wasted_completions.to_string()
        });
        push(&mut rows, "shed (client gone)", &|s| {
            s.shed_expired.to_string()
        });
    }
    if any(&|s| s.duplicate_executions > 0 || s.idempotent_replays > 0) {
        push(&mut rows, "duplicate executions", &|s| {
            s.duplicate_executions.to_string()
        });
        push(&mut rows, "idempotent replays", &|s| {
            s.idempotent_replays.to_string()
        });
    }
    if any(&|s| s.recovery_seconds.is_some() || s.never_recovered) {
        push(
            &mut rows,
            "recovery after trigger",
            &|s| match s.recovery_seconds {
                Some(r) => format!("{r:.0} s"),
                None if s.never_recovered => "never".into(),
                None => "-".into(),
            },
        );
    }
    // Latency counts one population at a time: the share beside it says which part of
    // the traffic it describes, and the failures' latency is shown too, so the design that
    // fails most does not look fastest.
    push(&mut rows, "succeeded (after warm-up)", &|s| {
        format!("{:.1}%", s.success_share() * 100.0)
    });
    push(&mut rows, "latency of successes", &|_| String::new());
    for (label, get) in LATENCY_ROWS {
        push(&mut rows, &format!("  {label} (ms)"), &|s| {
            format!("{:.2}", get(&s.latency_ms))
        });
    }
    if any(&|s| s.latency_failed_ms.count > 0) {
        push(&mut rows, "latency of failures", &|_| String::new());
        for (label, get) in LATENCY_ROWS.iter().filter(|(l, _)| FAILED_ROWS.contains(l)) {
            push(&mut rows, &format!("  {label} (ms)"), &|s| {
                if s.latency_failed_ms.count == 0 {
                    "-".into()
                } else {
                    format!("{:.2}", get(&s.latency_failed_ms))
                }
            });
        }
    }
    push(&mut rows, "queue wait mean (ms)", &|s| {
        format!("{:.2}", s.wait_ms.mean)
    });
    if single_tier {
        single_tier_rows(summaries, &mut rows);
    }
    rows.extend(component_rows(summaries));
    rows.extend(super::sections::component_sections(summaries));
    if single_tier {
        cost_rows(summaries, &mut rows);
    }
    push(&mut rows, "stopped early", &|s| {
        s.stopped_reason
            .as_ref()
            .map(|_| "yes".to_string())
            .unwrap_or_else(|| "no".into())
    });
    push(&mut rows, "events", &|s| s.events.to_string());
    push(&mut rows, "wall time (s)", &|s| {
        format!("{:.2}", s.wall_seconds)
    });

    let label_w = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let col_w: Vec<usize> = (0..summaries.len())
        .map(|i| {
            rows.iter()
                .map(|(_, v)| v[i].chars().count())
                .chain(std::iter::once(summaries[i].variant.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    out.push_str(&format!("{:<label_w$}", ""));
    for (i, s) in summaries.iter().enumerate() {
        out.push_str(&format!("  {:>w$}", s.variant, w = col_w[i]));
    }
    out.push('\n');
    out.push_str(&"-".repeat(label_w + col_w.iter().map(|w| w + 2).sum::<usize>()));
    out.push('\n');
    for (label, values) in &rows {
        out.push_str(&format!("{label:<label_w$}"));
        for (i, v) in values.iter().enumerate() {
            out.push_str(&format!("  {:>w$}", v, w = col_w[i]));
        }
        out.push('\n');
    }
    for s in summaries {
        if let Some(r) = &s.stopped_reason {
            out.push_str(&format!("note: {} stopped early: {r}\n", s.variant));
        }
    }
    for s in summaries {
        if let Some(w) = warmup_warning(s) {
            out.push_str(&w);
            out.push('\n');
        }
    }
    out
}

type Rows = Vec<(String, Vec<String>)>;

/// Appends a row: `label`, then `f` of each summary.
fn push_row(rows: &mut Rows, summaries: &[Summary], label: &str, f: &dyn Fn(&Summary) -> String) {
    rows.push((label.to_string(), summaries.iter().map(f).collect()));
}

/// The single-tier model's node rows.
fn single_tier_rows(summaries: &[Summary], rows: &mut Rows) {
    push_row(rows, summaries, "node utilisation", &|s| {
        let u: Vec<String> = s
            .nodes
            .iter()
            .take(6)
            .map(|n| format!("{:.0}%", n.utilisation * 100.0))
            .collect();
        if s.nodes.len() > 6 {
            format!("{} … ({} nodes)", u.join(" "), s.nodes.len())
        } else {
            u.join(" ")
        }
    });
    push_row(rows, summaries, "node load imbalance", &|s| {
        format!("{:.2}", s.node_load_imbalance)
    });
    push_row(rows, summaries, "availability (nines)", &|s| {
        format!("{:.2}", s.availability.requests_nines)
    });
}

/// The single-tier model's cost rows.
fn cost_rows(summaries: &[Summary], rows: &mut Rows) {
    if summaries
        .iter()
        .any(|s| s.cost.peak_nodes != s.nodes.len() as u32 || s.cost.peak_nodes > 8)
    {
        push_row(rows, summaries, "peak nodes", &|s| {
            s.cost.peak_nodes.to_string()
        });
    }
    push_row(rows, summaries, "node-hours", &|s| {
        format!("{:.2}", s.cost.node_seconds / 3600.0)
    });
    push_row(rows, summaries, "cost", &|s| format!("{:.2}", s.cost.total));
}

/// The warning line of a run whose warm-up looks too short, if it does.
pub fn warmup_warning(s: &Summary) -> Option<String> {
    let w = &s.warmup_check;
    if !w.too_short {
        return None;
    }
    let point = |t: Option<f64>| t.map_or("-".to_string(), |t| format!("{t}s"));
    Some(format!(
        "warning: {}: the warm-up ({}s) looks too short: MSER-5 truncates the first {} of goodput and {} of latency (raise `warmup`)",
        s.variant,
        w.configured_s,
        point(w.goodput_truncation_s),
        point(w.latency_truncation_s)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::summary::{LocksSummary, SessionsSummary, StoreSummary};

    fn row<'a>(table: &'a str, label: &str) -> Option<&'a str> {
        table.lines().find(|l| l.trim_start().starts_with(label))
    }

    /// The cells of the row `label` after the label, one per variant.
    fn cells(table: &str, label: &str) -> Vec<String> {
        let line = row(table, label).unwrap_or_else(|| panic!("no row {label}:\n{table}"));
        let rest = line.trim_start().strip_prefix(label).unwrap();
        rest.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn each_present_components_figures_are_shown() {
        let global = Summary {
            variant: "global".into(),
            locks: Some(LocksSummary {
                committed: 68208,
                max_waiters: 127,
                ..Default::default()
            }),
            ..Default::default()
        };
        let unlocked = Summary {
            variant: "unlocked".into(),
            locks: Some(LocksSummary {
                committed: 41643,
                lost_updates: 60445,
                ..Default::default()
            }),
            ..Default::default()
        };
        let t = side_by_side(&[global, unlocked]);
        assert_eq!(cells(&t, "lost updates"), ["0", "60445"]);
        assert_eq!(cells(&t, "committed"), ["68208", "41643"]);
        // A figure that is 0 everywhere tells nothing apart.
        assert!(row(&t, "timeouts").is_none(), "{t}");
        // No session or cache part in these summaries: no rows for them.
        assert!(
            row(&t, "sessions").is_none() && row(&t, "cache").is_none(),
            "{t}"
        );
    }

    #[test]
    fn a_nested_component_absent_in_one_variant_is_no_row_of_json() {
        let none = Summary {
            variant: "in-memory".into(),
            sessions: Some(SessionsSummary::default()),
            ..Default::default()
        };
        let with_store = Summary {
            variant: "externalized".into(),
            sessions: Some(SessionsSummary {
                store: Some(StoreSummary {
                    peak_connections: 50,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let t = side_by_side(&[none, with_store]);
        assert!(!t.contains('{'), "{t}");
        assert_eq!(cells(&t, "peak connections"), ["-", "50"]);
    }

    #[test]
    fn nested_and_absent_parts_are_told_apart() {
        let with_store = Summary {
            variant: "lag-spike".into(),
            sessions: Some(SessionsSummary {
                design: "Externalized { fail_open: false }".into(),
                lost_writes: 1002,
                store: Some(StoreSummary {
                    peak_connections: 26,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let without = Summary {
            variant: "none".into(),
            ..Default::default()
        };
        let t = side_by_side(&[with_store, without]);
        assert_eq!(cells(&t, "lost writes"), ["1002", "-"]);
        assert_eq!(cells(&t, "design"), ["Externalized", "-"]);
        assert!(row(&t, "session store").is_some(), "{t}");
        assert_eq!(cells(&t, "peak connections"), ["26", "-"]);
    }

    #[test]
    fn a_graph_runs_components_are_sections_with_units() {
        use crate::metrics::fixture::graph_summary_of;
        let a = graph_summary_of("one-db", 12.0);
        let mut b = graph_summary_of("no-cache", 30.5);
        b.components.shift_remove("cache.catalog");
        b.components
            .insert("service.api".into(), [("served".to_string(), 41.0)].into());
        let t = side_by_side(&[a, b]);
        // Sections by kind (the service only one variant has comes first), figures by schema.
        let at = |label: &str| {
            t.find(&format!("\n{label} "))
                .unwrap_or_else(|| panic!("{label}:\n{t}"))
        };
        assert!(
            at("service.api") < at("db.main") && at("db.main") < at("cache.catalog"),
            "{t}"
        );
        assert_eq!(cells(&t, "served (requests)"), ["-", "41"]);
        assert!(row(&t, "db.main").is_some(), "{t}");
        assert_eq!(cells(&t, "peak qps"), ["12", "30.50"], "qps says its unit");
        assert_eq!(cells(&t, "queries"), ["1200", "1200"]);
        assert_eq!(cells(&t, "wait ms p99"), ["n/a", "n/a"]);
        assert!(row(&t, "wait ms p99 (ms)").is_none() && row(&t, "peak qps (1/s)").is_none());
        assert!(row(&t, "cache.catalog").is_some(), "{t}");
        assert_eq!(cells(&t, "hit ratio"), ["75.0%", "-"]);
        assert_eq!(cells(&t, "flushes"), ["1", "-"]);
        // 0 in every variant: no row; no single-tier rows in a graph run.
        assert!(row(&t, "rejected").is_none(), "{t}");
        for legacy in [
            "node utilisation",
            "availability",
            "node-hours",
            "cost",
            "database behind",
        ] {
            assert!(row(&t, legacy).is_none(), "{legacy}:\n{t}");
        }
        // A component no variant has gives no section.
        assert!(
            row(&t, "service.web").is_none() && row(&t, "queue.").is_none(),
            "{t}"
        );
    }

    #[test]
    fn the_success_share_and_failure_latency_are_beside_latency() {
        let mut s = Summary {
            variant: "v".into(),
            ..Default::default()
        };
        s.latency_ms.count = 46;
        s.latency_ms.p99 = 480.77;
        s.latency_failed_ms.count = 54;
        s.latency_failed_ms.p99 = 6002.05;
        let t = side_by_side(&[s]);
        assert!(
            row(&t, "succeeded (after warm-up)")
                .unwrap()
                .ends_with("46.0%"),
            "{t}"
        );
        let p99: Vec<&str> = t
            .lines()
            .filter(|l| l.trim_start().starts_with("p99 (ms)"))
            .collect();
        assert_eq!(p99.len(), 2, "{t}");
        assert!(
            p99[0].ends_with("480.77") && p99[1].ends_with("6002.05"),
            "{t}"
        );
    }
}
