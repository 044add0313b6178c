//! The JSON view of a summary: what `summary.json`, `run --json`, the claims, the printed
//! table and the Python package all read, so they agree on one shape.
//!
//! A single-tier run's JSON is the summary's fields as they are. A graph run's leaves out
//! the single-tier parts ([`SINGLE_TIER_KEYS`]: availability, cost, nodes, the fixed
//! dependency/sessions/locks/cache/db) and puts each component's figures at the top level
//! under its key: `"db.main": {"peak_qps": 12.0, …}`, a figure that was not measurable as
//! `null`.

use super::schema::{schema_of_key, SCHEMAS};
use super::Summary;
use serde_json::{Map, Value};

/// The keys of a single-tier run's JSON that a graph run's leaves out: they describe the
/// fixed single-tier pipeline, which a graph model does not have.
pub const SINGLE_TIER_KEYS: [&str; 9] = [
    "availability",
    "cost",
    "dependency",
    "sessions",
    "locks",
    "nodes",
    "node_load_imbalance",
    "cache",
    "db",
];

impl Summary {
    /// The summary as JSON (see the module's documentation for a graph run's shape).
    pub fn to_json_value(&self) -> Value {
        let mut tree = serde_json::to_value(self).expect("summary serialises");
        if !self.is_graph() {
            return tree;
        }
        let obj = tree.as_object_mut().expect("a summary is an object");
        obj.remove("components");
        // A single-tier model run as its graph (`config::shorthand`) keeps the single-tier
        // sections it has; a graph model has none of them.
        let has = |key: &str| match key {
            "nodes" | "node_load_imbalance" => !self.nodes.is_empty(),
            "availability" => self.availability != Default::default(),
            "cost" => self.cost != Default::default(),
            "dependency" => self.dependency.is_some(),
            "sessions" => self.sessions.is_some(),
            "locks" => self.locks.is_some(),
            "cache" => self.cache.is_some(),
            "db" => self.db.is_some(),
            _ => false,
        };
        for key in SINGLE_TIER_KEYS {
            if !has(key) {
                obj.remove(key);
            }
        }
        for (key, figures) in &self.components {
            let part: Map<String, Value> = figures
                .iter()
                .map(|(name, v)| {
                    let n = serde_json::Number::from_f64(*v).map_or(Value::Null, Value::Number);
                    (name.clone(), n)
                })
                .collect();
            obj.insert(key.clone(), Value::Object(part));
        }
        tree
    }

    /// The pretty JSON text of [`Summary::to_json_value`]. A single-tier run's keeps the
    /// fields in declaration order (the bytes `summary.json` has always had); a graph
    /// run's is the JSON view, keys in alphabetical order.
    pub fn to_json_text(&self) -> String {
        if self.is_graph() {
            serde_json::to_string_pretty(&self.to_json_value())
        } else {
            serde_json::to_string_pretty(self)
        }
        .expect("summary serialises")
    }

    /// Reads a summary back from its JSON (a `summary.json`): a top-level object under a
    /// component key (`db.main`) becomes that component's figures again (`null` → NaN), in
    /// its schema's order. The JSON's keys are alphabetical, so the components come back
    /// by kind in [`super::schema::SCHEMAS`] order, then by name.
    pub fn from_json_value(mut tree: Value) -> Result<Summary, serde_json::Error> {
        let mut components = indexmap::IndexMap::new();
        if let Some(obj) = tree.as_object_mut() {
            let mut keys: Vec<(usize, String)> = obj
                .iter()
                .filter(|(_, v)| v.is_object())
                .filter_map(|(k, _)| {
                    let schema = schema_of_key(k)?;
                    let rank = SCHEMAS.iter().position(|s| *s == schema)?;
                    Some((rank, k.clone()))
                })
                .collect();
            keys.sort();
            for (rank, key) in keys {
                let Some(Value::Object(mut part)) = obj.remove(&key) else {
                    continue;
                };
                let mut figures = indexmap::IndexMap::new();
                for m in SCHEMAS[rank].figures {
                    if let Some(v) = part.remove(m.name) {
                        figures.insert(m.name.to_string(), v.as_f64().unwrap_or(f64::NAN));
                    }
                }
                // Figures the schema no longer declares are kept, after the others.
                for (n, v) in part {
                    figures.insert(n, v.as_f64().unwrap_or(f64::NAN));
                }
                components.insert(key, figures);
            }
        }
        let mut s: Summary = serde_json::from_value(tree)?;
        if !components.is_empty() {
            s.components = components;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::graph_summary;
    use super::super::schema::{CACHE, DATABASE};
    use super::*;

    #[test]
    fn a_graph_runs_json_has_its_components_and_no_single_tier_parts() {
        let v = graph_summary().to_json_value();
        let obj = v.as_object().unwrap();
        for key in SINGLE_TIER_KEYS.iter().chain(&["components"]) {
            assert!(!obj.contains_key(*key), "{key} in {v}");
        }
        assert_eq!(v["db.main"]["peak_qps"], 12.0);
        assert_eq!(v["db.main"]["queries"], 1200.0);
        assert!(v["db.main"]["wait_ms_p99"].is_null());
        assert_eq!(v["cache.catalog"]["hit_ratio"], 0.75);
        assert_eq!(
            v["db.main"].as_object().unwrap().len(),
            DATABASE.figures.len()
        );
        assert_eq!(v["requests"]["issued"], 3000);
        assert_eq!(v["goodput_rps"], 290.5);
        // The text is that view too.
        let text = graph_summary().to_json_text();
        assert!(
            text.contains("\"db.main\": {") && !text.contains("availability"),
            "{text}"
        );
    }

    #[test]
    fn a_single_tier_runs_json_is_unchanged() {
        let s = Summary {
            variant: "legacy".into(),
            ..Default::default()
        };
        let v = s.to_json_value();
        assert_eq!(v, serde_json::to_value(&s).unwrap());
        assert!(v.get("components").is_none() && v.get("availability").is_some());
        assert_eq!(s.to_json_text(), serde_json::to_string_pretty(&s).unwrap());
    }

    #[test]
    fn a_graph_summary_reads_back_from_its_json() {
        let s = graph_summary();
        let text = s.to_json_text();
        let back = Summary::from_json_value(serde_json::from_str(&text).unwrap()).unwrap();
        // By kind: the database before the cache, as the schemas are listed.
        let keys: Vec<&String> = back.components.keys().collect();
        assert_eq!(keys, ["db.main", "cache.catalog"]);
        assert_eq!(back.components["db.main"]["peak_qps"], 12.0);
        assert!(back.components["db.main"]["wait_ms_p99"].is_nan());
        assert_eq!(back.goodput_rps, 290.5);
        // Figure for figure, in the schema's order (NaN compared as NaN).
        assert_eq!(back.figures().len(), s.figures().len());
        for ((n, a), (m, b)) in back.figures().iter().zip(s.figures()) {
            assert!(n == &m && (a == &b || (a.is_nan() && b.is_nan())), "{n}");
        }
    }

    #[test]
    fn a_graph_runs_figures_are_keyed_by_component() {
        let s = graph_summary();
        let f = s.figures();
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        let value = |n: &str| f.iter().find(|(m, _)| m == n).map(|(_, v)| *v);
        assert_eq!(value("db.main.peak_qps"), Some(12.0));
        assert_eq!(value("cache.catalog.flushes"), Some(1.0));
        assert_eq!(value("goodput_rps"), Some(290.5));
        for legacy in [
            "availability_",
            "cost_",
            "peak_nodes",
            "node_load",
            "db_",
            "cache_",
        ] {
            assert!(!names.iter().any(|n| n.starts_with(legacy)), "{legacy}");
        }
        // Components follow the request-level figures, in the order they were set.
        let first = names.iter().position(|n| n.contains('.')).unwrap();
        assert_eq!(names[first], "db.main.queries");
        assert_eq!(
            names.len(),
            first + DATABASE.figures.len() + CACHE.figures.len()
        );
        assert!(
            s.is_absent_figure("db.main.wait_ms_p99"),
            "NaN: not measurable"
        );
        assert!(!s.is_absent_figure("db.main.peak_qps"));
        assert!(s.is_absent_figure("db.other.peak_qps"), "no such component");
        assert!(!s.is_absent_figure("goodput_rps"));
    }
}
