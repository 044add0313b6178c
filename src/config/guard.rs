//! Guards against values that the typed structs accept but that would be lost or
//! misread later: a float that is not finite (`NaN`, `inf`) survives RON but becomes
//! `null` in the JSON tree the overrides are applied to, which would then be reported as
//! a baffling type error. Catching it here names the field and says what was expected.

use serde::Serialize;

/// The dotted path and value of the first non-finite float in `value`, if any.
///
/// The walk goes through a RON round trip (RON keeps `NaN` and `inf`, JSON does not), so
/// it sees every float of any raw struct without knowing its fields: new fields are
/// covered as they are added. Paths leave enum variant names out (`workload.rate_per_s`),
/// as the locator and `--set` accept them.
pub fn first_non_finite<T: Serialize>(value: &T) -> Option<(String, f64)> {
    let text = ron::to_string(value).ok()?;
    let tree: ron::Value = ron::Options::default().from_str(&text).ok()?;
    let mut path = Vec::new();
    walk(&tree, &mut path)
}

fn walk(v: &ron::Value, path: &mut Vec<String>) -> Option<(String, f64)> {
    match v {
        ron::Value::Number(n) => {
            let f = n.into_f64();
            (!f.is_finite()).then(|| (path.join("."), f))
        }
        ron::Value::Option(Some(inner)) => walk(inner, path),
        ron::Value::Seq(items) => items.iter().enumerate().find_map(|(i, item)| {
            path.push(i.to_string());
            let found = walk(item, path);
            path.pop();
            found
        }),
        ron::Value::Map(map) => map.iter().find_map(|(k, item)| {
            let key = match k {
                ron::Value::String(s) => s.clone(),
                other => format!("{other:?}"),
            };
            path.push(key);
            let found = walk(item, path);
            path.pop();
            found
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::ron_options;
    use crate::config::ExperimentSpec;

    #[test]
    fn finds_nan_and_infinities_by_path() {
        for (word, expect_nan) in [("NaN", true), ("inf", false), ("-inf", false)] {
            let text = format!("Experiment(duration: \"1s\", workload: Open(rate_per_s: {word}))");
            let spec: ExperimentSpec = ron_options().from_str(&text).unwrap();
            let (path, v) = first_non_finite(&spec).expect("found");
            assert_eq!(path, "workload.rate_per_s");
            assert_eq!(v.is_nan(), expect_nan);
        }
        let spec: ExperimentSpec = ron_options()
            .from_str("Experiment(duration: \"1s\", workload: Open(rate_per_s: 2.5))")
            .unwrap();
        assert_eq!(first_non_finite(&spec), None);
        let model: crate::config::ModelSpec = ron_options()
            .from_str(
                "System(balancer: Balancer(policy: LeastConnections), nodes: Nodes(count: 1, \
             workers: 1, queue_full: DropOldest, service: Pareto(scale: \"1ms\", shape: NaN)))",
            )
            .unwrap();
        let (path, _) = first_non_finite(&model).expect("found");
        assert_eq!(path, "nodes.service.shape");
        // Deep inside the graph form: a population's mix, a service's slowdown.
        let spec: ExperimentSpec = ron_options()
            .from_str(
                "Experiment(duration: \"1s\", populations: {\"p\": Population(workload: \
                 Open(rate_per_s: 1.0), mix: {\"a\": 1.0, \"b\": NaN})})",
            )
            .unwrap();
        assert_eq!(
            first_non_finite(&spec).expect("found").0,
            "populations.p.mix.b"
        );
        let model: crate::config::ModelSpec = ron_options()
            .from_str(
                "System(services: {\"web\": Service(instances: 1, workers: 1, service: \
                 Exp(mean: \"1ms\"), slowdown: Polynomial(k: 1.0, n: inf))})",
            )
            .unwrap();
        assert_eq!(
            first_non_finite(&model).expect("found").0,
            "services.web.slowdown.n"
        );
    }
}
