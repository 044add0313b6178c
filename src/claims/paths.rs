//! Dotted paths into `summary.json`: which ones a summary can have (checked when an
//! experiment loads) and the number at one (read after the run).

use crate::graph::fail::FailReason;
use crate::metrics::schema;
use crate::metrics::summary::{
    CacheSummary, DbSummary, DependencySummary, LocksSummary, NodeSummary, SessionsSummary,
    StoreSummary, Summary,
};
use serde_json::{Map, Value};

/// A summary with every optional part present, so that its JSON has every path a run's
/// summary can have.
fn full_summary() -> Value {
    let s = Summary {
        failed_by_reason: FailReason::ALL
            .iter()
            .map(|r| (r.name().to_string(), 0))
            .collect(),
        recovery_seconds: Some(0.0),
        dependency: Some(DependencySummary::default()),
        sessions: Some(SessionsSummary {
            store: Some(StoreSummary::default()),
            ..Default::default()
        }),
        locks: Some(LocksSummary::default()),
        nodes: vec![NodeSummary::default()],
        cache: Some(CacheSummary::default()),
        db: Some(DbSummary::default()),
        ..Default::default()
    };
    serde_json::to_value(s).expect("summary serialises")
}

/// A graph run's summary with every part it can have: the request-level figures, and
/// each of `components` (figure paths such as `db.main.peak_qps`) under its key.
fn graph_summary(components: &[String]) -> Value {
    let mut s = Summary {
        failed_by_reason: FailReason::ALL
            .iter()
            .map(|r| (r.name().to_string(), 0))
            .collect(),
        recovery_seconds: Some(0.0),
        ..Default::default()
    };
    for path in components {
        if let Some((key, figure)) = schema::split_column(path) {
            let part = s.components.entry(key.to_string()).or_default();
            part.insert(figure.to_string(), 0.0);
        }
    }
    // A run with no component is still a graph run: its shape has none of the single-tier parts.
    let placeholder = s.components.is_empty();
    if placeholder {
        s.components.insert("db.-".into(), Default::default());
    }
    let mut tree = s.to_json_value();
    if placeholder {
        tree.as_object_mut().expect("an object").remove("db.-");
    }
    tree
}

/// The value under the longest run of `segs` joined by dots that `m` has as a key (keys
/// such as `db.main` contain dots), and how many segments it took.
fn longest_key<'a>(m: &'a Map<String, Value>, segs: &[&str]) -> Option<(&'a Value, usize)> {
    (1..=segs.len())
        .rev()
        .find_map(|n| m.get(&segs[..n].join(".")).map(|v| (v, n)))
}

/// The error for a path that names a component kind (`db.orders.peak_qps`) but no
/// component the summary has; `None` when `segs` does not start with a kind.
fn no_component(segs: &[&str], keys: &[&str]) -> Option<String> {
    let kind = segs[0];
    if segs.len() < 3 || !schema::SCHEMAS.iter().any(|s| s.kind == kind) {
        return None;
    }
    let wanted = segs[..segs.len() - 1].join(".");
    let prefix = format!("{kind}.");
    let same: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| k.starts_with(&prefix))
        .collect();
    Some(if same.is_empty() {
        format!("the model has no `{kind}` component (`{wanted}`)")
    } else {
        let hint = crate::config::error::did_you_mean(&wanted, &same)
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        format!(
            "the model has no component `{wanted}`{hint}; its `{kind}` components: {}",
            same.join(", ")
        )
    })
}

/// What an experiment's variants' summaries can hold: a single-tier variant's every
/// part, or a graph variant's request-level figures and components.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shape {
    /// Each variant, with its component figure paths when it is a graph run (`None`:
    /// single-tier). A variant not listed is single-tier.
    variants: Vec<(String, Option<Vec<String>>)>,
}

impl Shape {
    /// The shape of these variants (from their models and client populations).
    pub fn of(runs: &[crate::config::RunConfig]) -> Shape {
        let variants = runs
            .iter()
            .map(|r| {
                let populations: Vec<String> = r.spec.populations.keys().cloned().collect();
                let paths = r
                    .model
                    .is_graph()
                    .then(|| schema::graph_figure_paths(&r.model, &populations));
                (r.variant.clone(), paths)
            })
            .collect();
        Shape { variants }
    }

    /// This shape with `variant` a graph run whose components have these figure paths.
    pub fn with_graph(mut self, variant: &str, paths: Vec<String>) -> Shape {
        self.variants.push((variant.to_string(), Some(paths)));
        self
    }

    /// The summary tree of one variant's shape with every path it can have.
    fn tree(paths: Option<&Vec<String>>) -> Value {
        match paths {
            Some(p) => graph_summary(p),
            None => full_summary(),
        }
    }

    /// Checks `path` against the summary of `variant`, or with `None` (a claim on each
    /// variant, `*`) against every variant's: some variant must hold a number there.
    pub fn check(&self, variant: Option<&str>, path: &str) -> Result<(), String> {
        let shapes: Vec<Option<&Vec<String>>> = match variant {
            Some(v) => vec![self
                .variants
                .iter()
                .find(|(n, _)| n == v)
                .and_then(|(_, p)| p.as_ref())],
            None if self.variants.is_empty() => vec![None],
            None => self.variants.iter().map(|(_, p)| p.as_ref()).collect(),
        };
        let mut first_error = None;
        for paths in shapes {
            match check_in(&Shape::tree(paths), path) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.expect("at least one shape is checked"))
    }
}

/// Checks that `path` names a number in `full` (a summary with every part it can have);
/// the error says what is wrong and what is there instead.
fn check_in(full: &Value, path: &str) -> Result<(), String> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut at = full;
    let mut walked = String::new();
    let mut i = 0;
    while i < segs.len() {
        let seg = segs[i];
        let here = if walked.is_empty() {
            "the summary".to_string()
        } else {
            format!("`{walked}`")
        };
        let took;
        (at, took) = match at {
            Value::Object(m) => longest_key(m, &segs[i..]).ok_or_else(|| {
                let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                if walked.is_empty() {
                    if let Some(e) = no_component(&segs[i..], &keys) {
                        return e;
                    }
                }
                let hint = crate::config::error::did_you_mean(seg, &keys)
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .unwrap_or_default();
                format!("{here} has no `{seg}`{hint}; it has: {}", keys.join(", "))
            })?,
            Value::Array(items) => {
                seg.parse::<usize>().map_err(|_| {
                    format!("{here} is a list: follow it with an index (`{walked}.0.…`)")
                })?;
                (&items[0], 1)
            }
            _ => return Err(format!("{here} is a single figure: it has no `{seg}`")),
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(&segs[i..i + took].join("."));
        i += took;
    }
    match at {
        Value::Number(_) | Value::Bool(_) => Ok(()),
        Value::Object(m) => Err(format!(
            "`{path}` is a group of figures: name one of them: {}",
            m.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
        )),
        Value::Array(_) => Err(format!(
            "`{path}` is a list: follow it with an index and a figure (`{path}.0.…`)"
        )),
        _ => Err(format!("`{path}` is text, not a number")),
    }
}

/// The number at `path` in a summary's JSON (booleans count as 0 and 1); `None` when the
/// path is absent or null there (a component the variant does not have).
///
/// Walking an object, the longest run of segments that is one of its keys is taken, so
/// `db.main.peak_qps` reads the figure `peak_qps` of the component `db.main`.
pub fn number_at(tree: &Value, path: &str) -> Option<f64> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut at = tree;
    let mut i = 0;
    while i < segs.len() {
        let took;
        (at, took) = match at {
            Value::Object(m) => longest_key(m, &segs[i..])?,
            Value::Array(items) => (items.get(segs[i].parse::<usize>().ok()?)?, 1),
            _ => return None,
        };
        i += took;
    }
    match at {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `path` against a single-tier summary.
    fn check_path(path: &str) -> Result<(), String> {
        Shape::default().check(None, path)
    }

    #[test]
    fn paths_a_summary_can_have_are_accepted() {
        for p in [
            "requests.succeeded",
            "sessions.store.peak_connections",
            "failed_by_reason.lock_timeout",
            "nodes.3.utilisation",
            "recovery_seconds",
            "never_recovered",
            "latency_failed_ms.p99",
        ] {
            assert_eq!(check_path(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn the_longest_dotted_key_is_taken() {
        let tree = serde_json::json!({
            "db": {"main": {"peak_qps": 1.0}},
            "db.main": {"peak_qps": 2.0, "x": {"y": 3}},
            "nodes": [{"served": 4}, {"served": 5}],
        });
        assert_eq!(number_at(&tree, "db.main.peak_qps"), Some(2.0));
        assert_eq!(number_at(&tree, "db.main.x.y"), Some(3.0));
        assert_eq!(number_at(&tree, "nodes.1.served"), Some(5.0));
        assert_eq!(number_at(&tree, "db.main.none"), None);
        assert_eq!(number_at(&tree, "db.main"), None, "a group, not a number");
    }

    fn graph_shape() -> Shape {
        let paths = [
            "db.main.peak_qps",
            "db.main.queries",
            "service.web.served",
            "db.eu.main.qps",
        ];
        Shape::default()
            .with_graph("graph", paths.map(String::from).to_vec())
            .with_graph("empty", Vec::new())
    }

    #[test]
    fn a_graph_variants_paths_are_its_components_and_request_figures() {
        let shape = graph_shape();
        for p in [
            "db.main.peak_qps",
            "service.web.served",
            "db.eu.main.qps",
            "requests.succeeded",
            "goodput_rps",
            "failed_by_reason.timeout",
            "latency_ms.p99",
        ] {
            assert_eq!(shape.check(Some("graph"), p), Ok(()), "{p}");
        }
        let e = shape.check(Some("graph"), "db.main.peak_qsp").unwrap_err();
        assert!(
            e.contains("`db.main` has no `peak_qsp` (did you mean `peak_qps`?)"),
            "{e}"
        );
        let e = shape.check(Some("graph"), "db.mian.peak_qps").unwrap_err();
        assert_eq!(
            e,
            "the model has no component `db.mian` (did you mean `db.main`?); \
             its `db` components: db.eu.main, db.main"
        );
        let e = shape
            .check(Some("graph"), "cache.catalog.hit_ratio")
            .unwrap_err();
        assert_eq!(e, "the model has no `cache` component (`cache.catalog`)");
        let e = shape.check(Some("graph"), "db.main").unwrap_err();
        assert!(
            e.contains("group of figures") && e.contains("peak_qps"),
            "{e}"
        );
        // A graph run has none of the single-tier parts, even without components.
        for v in ["graph", "empty"] {
            let e = shape
                .check(Some(v), "availability.requests_share")
                .unwrap_err();
            assert!(e.contains("has no `availability`"), "{v}: {e}");
            assert_eq!(shape.check(Some(v), "requests.issued"), Ok(()));
        }
        // A single-tier variant (not listed) keeps its paths; `*` needs some variant to have it.
        assert_eq!(shape.check(Some("legacy"), "locks.lost_updates"), Ok(()));
        assert!(shape.check(Some("legacy"), "db.main.peak_qps").is_err());
        assert_eq!(shape.check(None, "db.main.peak_qps"), Ok(()));
        assert!(
            shape.check(None, "locks.lost_updates").is_err(),
            "no variant has locks"
        );
    }

    #[test]
    fn other_paths_say_what_is_there() {
        let e = check_path("sessions.spurious_logout").unwrap_err();
        assert!(e.contains("did you mean `spurious_logouts`"), "{e}");
        let e = check_path("locks").unwrap_err();
        assert!(
            e.contains("group of figures") && e.contains("lost_updates"),
            "{e}"
        );
        let e = check_path("nodes.first.served").unwrap_err();
        assert!(e.contains("is a list"), "{e}");
        let e = check_path("stopped_reason").unwrap_err();
        assert!(e.contains("text, not a number"), "{e}");
        let e = check_path("goodput_rps.mean").unwrap_err();
        assert!(e.contains("single figure"), "{e}");
    }
}
