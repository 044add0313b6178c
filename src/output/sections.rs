//! A graph run's components in the printed table: one section per component, headed by
//! its key (`db.main`), with a row per figure its schema declares, the unit beside the
//! figure's name (shares as percentages). A component no variant has gives no section; a variant without it
//! shows "-", a figure it could not measure "n/a".

use crate::metrics::schema::{measure, schema_of_key, Measure, SCHEMAS};
use crate::metrics::Summary;

/// The sections of every component some variant has, in the order the variants list them
/// (the first variant's order, then components only later ones have).
pub fn component_sections(summaries: &[Summary]) -> Vec<(String, Vec<String>)> {
    let mut keys: Vec<&String> = Vec::new();
    for s in summaries {
        for k in s.components.keys() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    // By kind, as the schemas are listed (a database only one variant has stays beside the
    // others), then in the order the variants list them.
    let rank = |k: &str| {
        schema_of_key(k)
            .and_then(|s| SCHEMAS.iter().position(|x| *x == s))
            .unwrap_or(SCHEMAS.len())
    };
    keys.sort_by_key(|k| rank(k));
    let mut rows = Vec::new();
    for key in keys {
        let schema = schema_of_key(key);
        rows.push((key.clone(), vec![String::new(); summaries.len()]));
        // The schema's figures in its order; any others the summaries carry after them.
        let mut names: Vec<&str> =
            schema.map_or(Vec::new(), |s| s.figures.iter().map(|m| m.name).collect());
        for s in summaries {
            for n in s.components.get(key).into_iter().flat_map(|c| c.keys()) {
                if !names.contains(&n.as_str()) {
                    names.push(n);
                }
            }
        }
        for name in names {
            let values: Vec<Option<f64>> = summaries
                .iter()
                .map(|s| s.components.get(key).and_then(|c| c.get(name)).copied())
                .collect();
            // A figure that is 0 (or missing) in every variant tells nothing apart.
            if values.iter().all(|v| v.is_none_or(|x| x == 0.0)) {
                continue;
            }
            let m = schema.and_then(|s| measure(s.figures, name));
            let cells = values
                .iter()
                .map(|v| match v {
                    None => "-".to_string(),
                    Some(x) => format_measure(*x, m),
                })
                .collect();
            rows.push((label(name, m), cells));
        }
    }
    rows
}

/// `  peak qps (1/s)`: the figure's name in words, then its unit unless the name already
/// says it (`wait ms p99`, `goodput rps`) or it is a share (its cells are percentages).
fn label(name: &str, m: Option<&Measure>) -> String {
    let words = name.replace('_', " ");
    let said = |unit: &str| {
        let rates = ["rps", "qps", "per"];
        name.split('_')
            .any(|w| w == unit || (unit == "1/s" && rates.contains(&w)))
    };
    match m.map(|m| m.unit) {
        Some(unit) if unit == "share" || said(unit) => format!("  {words}"),
        Some(unit) => format!("  {words} ({unit})"),
        None => format!("  {words}"),
    }
}

/// A figure for the table: a share as a percentage, a whole number as it is, others with
/// two decimals (none from 1000 on); NaN (not measurable) as "n/a".
fn format_measure(x: f64, m: Option<&Measure>) -> String {
    if x.is_nan() {
        "n/a".into()
    } else if m.is_some_and(|m| m.unit == "share") {
        format!("{:.1}%", x * 100.0)
    } else if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else if x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}
