//! The cross-field rules of a graph model and its experiment. Each spec checks itself
//! beside its definition (`ServiceSpec::validate` in `service.rs`, …); this file says in
//! which order, checks the names and counts that span specs, and refuses the single-tier
//! form's parts in a graph (and the graph's in a single-tier model).

use super::bounds::{self, raise};
use super::step::validate_path;
use crate::config::model::BalancerSpec;
use crate::config::resolve::Provenance;
use crate::config::rules::{Checked, Rules};
use crate::config::{ConfigError, ExperimentSpec, ModelSpec};

/// The names a spec may refer to: the model's components and request kinds, and the
/// experiment's client populations (a network link may start at one) and duration.
pub struct Scope<'a> {
    /// The graph model.
    pub model: &'a ModelSpec,
    /// The experiment run on it.
    pub experiment: &'a ExperimentSpec,
}

/// Checks a graph model with its experiment.
pub fn check(prov: &Provenance<'_>, e: &ExperimentSpec, m: &ModelSpec) -> Result<(), ConfigError> {
    let r = Rules::new(prov);
    let scope = Scope {
        model: m,
        experiment: e,
    };
    no_single_tier_parts(&r, e, m)?;
    r.head(e)?;
    names(&r, e, m)?;
    model(&r, &scope)?;
    for (name, p) in &e.populations {
        p.validate(&r, &format!("populations.{name}"), &scope)?;
    }
    for (i, f) in e.faults.iter().enumerate() {
        f.validate_graph(&r, &format!("faults.{i}"), &scope)?;
    }
    if let Some(f) = &e.random_failures {
        super::autoscale::validate_random_failures(&r, "random_failures", f, &scope)?;
    }
    // Last, on values known to be valid: the memory and time the sizes multiply into.
    r.budget(e, m)
}

/// Checks the model's components, their counts and the paths through them.
fn model(r: &Rules<'_>, scope: &Scope<'_>) -> Checked {
    let m = scope.model;
    if m.requests.is_empty() {
        return r.fail(
            "model.requests",
            "a graph model needs at least one request kind, e.g. requests: {\"browse\": \
             [Call(\"web\"), Read(\"main\")]}",
        );
    }
    r.bounded(
        "model.requests",
        m.requests.len() as u64,
        bounds::MAX_REQUEST_KINDS as u64,
        "the number of request kinds",
        &format!("each has its own figures; {}", raise("MAX_REQUEST_KINDS")),
    )?;
    let components = [
        ("model.databases", "databases", m.databases.len()),
        ("model.caches", "caches", m.caches.len()),
        ("model.counters", "counters", m.counters.len()),
        ("model.queues", "queue topics", m.queues.len()),
    ];
    for (path, what, n) in components {
        r.bounded(
            path,
            n as u64,
            bounds::MAX_COMPONENTS as u64,
            &format!("the number of {what}"),
            &format!(
                "each has its own state and figures; {}",
                raise("MAX_COMPONENTS")
            ),
        )?;
    }
    let mut instances = 0u64;
    for (name, s) in &m.services {
        s.validate(r, &format!("model.services.{name}"), scope)?;
        instances += s.most_instances() as u64;
    }
    r.bounded(
        "model.services",
        instances,
        bounds::MAX_INSTANCES,
        "the instances of all services together",
        &format!(
            "each instance has its own state, queue and time-series columns; {}",
            raise("MAX_INSTANCES")
        ),
    )?;
    for (name, d) in &m.databases {
        d.validate(r, &format!("model.databases.{name}"))?;
    }
    for (name, c) in &m.caches {
        c.validate(r, &format!("model.caches.{name}"), scope)?;
    }
    for (name, c) in &m.counters {
        c.validate(r, &format!("model.counters.{name}"), scope)?;
    }
    for (name, t) in &m.queues {
        t.validate(r, &format!("model.queues.{name}"), scope)?;
    }
    for (kind, steps) in &m.requests {
        validate_path(steps, r, &format!("model.requests.{kind}"), scope)?;
    }
    m.network.validate(r, "model.network", scope)
}

/// Checks every name of the model and the experiment: usable in a field path, a column
/// and a link key, and one meaning per name among the ends of a link (services,
/// databases and client populations).
fn names(r: &Rules<'_>, e: &ExperimentSpec, m: &ModelSpec) -> Checked {
    r.bounded(
        "populations",
        e.populations.len() as u64,
        bounds::MAX_POPULATIONS as u64,
        "the number of populations",
        &format!(
            "each has its own generator, retry state and figures; {}",
            raise("MAX_POPULATIONS")
        ),
    )?;
    let maps: [(&str, Vec<&String>); 7] = [
        ("model.services", m.services.keys().collect()),
        ("model.databases", m.databases.keys().collect()),
        ("populations", e.populations.keys().collect()),
        ("model.caches", m.caches.keys().collect()),
        ("model.counters", m.counters.keys().collect()),
        ("model.queues", m.queues.keys().collect()),
        ("model.requests", m.requests.keys().collect()),
    ];
    for (path, keys) in &maps {
        for name in keys {
            name_rule(r, &format!("{path}.{name}"), name)?;
        }
    }
    // A link "a->b" must mean one thing: its ends are looked up among these three.
    for (i, (path, keys)) in maps[..3].iter().enumerate() {
        for (other, other_keys) in &maps[..i] {
            if let Some(name) = keys.iter().find(|k| other_keys.contains(k)) {
                return r.fail(
                    &format!("{path}.{name}"),
                    format!(
                        "`{name}` is also in `{other}`: services, databases and client \
                         populations need distinct names, since a network link names them"
                    ),
                );
            }
        }
    }
    Ok(())
}

/// A name of a component, request kind or population, written at `path`.
fn name_rule(r: &Rules<'_>, path: &str, name: &str) -> Checked {
    let usable = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if name.is_empty() || !name.chars().all(usable) {
        return r.fail(
            path,
            format!(
                "the name \"{name}\" cannot be used: write it with letters, digits, '-' and \
                 '_' only (it becomes part of field paths, column names and link keys)"
            ),
        );
    }
    r.bounded(
        path,
        name.chars().count() as u64,
        bounds::MAX_NAME_CHARS as u64,
        "the name's length in characters",
        "it becomes part of column names and file names; shorten it",
    )
}

/// Refuses the single-tier form's parts in a graph model or its experiment, saying what
/// the graph has instead.
fn no_single_tier_parts(r: &Rules<'_>, e: &ExperimentSpec, m: &ModelSpec) -> Checked {
    let parts = [
        (
            "model.nodes",
            m.nodes.is_some(),
            "a graph model (with `services`) has no `nodes`: each service has its instances",
        ),
        (
            "model.dependency",
            m.dependency.is_some(),
            "a graph model has no `dependency`: name it in `databases` and read or write it \
             from a request's path",
        ),
        (
            "model.cache",
            m.cache.is_some(),
            "a graph model has no single `cache`: name it in `caches`, in front of one of \
             the `databases`, and Get(\"<cache>\") it from a path",
        ),
        (
            "model.locks",
            m.locks.is_some(),
            "a graph model has no `locks`: name the counter in `counters` (it lives in one \
             of the `databases`) and Lock(\"<counter>\") it from a path",
        ),
        (
            "model.sessions",
            m.sessions.is_some(),
            "a graph model has no top-level `sessions`: give the service that checks them \
             its own (`services: {\"web\": Service(sessions: Sessions(…), …)}`), with a \
             store named in `databases`",
        ),
        (
            "model.autoscaler",
            m.autoscaler.is_some(),
            "a graph model has no top-level `autoscaler`: each service has its own \
             (`services: {\"web\": Service(autoscaler: Autoscaler(…), …)}`)",
        ),
        (
            "model.price_per_node_hour",
            m.price_per_node_hour != crate::config::ModelSpec::default_price(),
            "a graph model has no node price: each service has its own \
             `price_per_instance_hour`",
        ),
        (
            "model.balancer",
            m.balancer != BalancerSpec::default(),
            "a graph model has no top-level `balancer`: each service has its own \
             (`services: {\"web\": Service(balancer: Balancer(…), …)}`)",
        ),
        (
            "workload",
            e.workload.is_some(),
            "an experiment on a graph model has `populations` instead of one `workload`",
        ),
        (
            "clients.timeout",
            e.clients.timeout.is_some(),
            "an experiment on a graph model gives each population its own `timeout`",
        ),
        (
            "clients.retry",
            e.clients.retry.is_some(),
            "an experiment on a graph model gives each population its own `retry` (and each \
             service its own `calls: Calls(retry: …)`)",
        ),
        (
            "clients.throttle",
            e.clients.throttle.is_some(),
            "an experiment on a graph model gives each population its own `throttle`",
        ),
        (
            "clients.idempotency_keys",
            e.clients.idempotency_keys,
            "an experiment on a graph model gives each population its own `idempotency_keys`",
        ),
    ];
    for (path, present, msg) in parts {
        if present {
            return r.fail(path, msg);
        }
    }
    if e.populations.is_empty() {
        return r.fail(
            "populations",
            "an experiment on a graph model needs at least one population, e.g. populations: \
             {\"shoppers\": Population(workload: Open(rate_per_s: 100.0), mix: {\"browse\": 1.0})}",
        );
    }
    Ok(())
}

/// Refuses the graph form's parts in a single-tier model or its experiment.
pub fn no_graph_parts(
    prov: &Provenance<'_>,
    e: &ExperimentSpec,
    m: &ModelSpec,
) -> Result<(), ConfigError> {
    let parts = [
        ("model.databases", m.databases.is_empty()),
        ("model.caches", m.caches.is_empty()),
        ("model.counters", m.counters.is_empty()),
        ("model.queues", m.queues.is_empty()),
        ("model.requests", m.requests.is_empty()),
        ("model.network", m.network.is_zero()),
        ("populations", e.populations.is_empty()),
    ];
    for (path, empty) in parts {
        if !empty {
            return Err(prov.error(
                path,
                "belongs to the graph form, which needs `services: {…}` instead of `nodes`",
            ));
        }
    }
    if e.random_failures
        .as_ref()
        .is_some_and(|f| !f.services.is_empty())
    {
        return Err(prov.error(
            "random_failures.services",
            "names the services of a graph model; a single-tier model's nodes all fail \
             (leave `services` out)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::{single_run_from_texts, ConfigError};

    const EXPERIMENT: &str = r#"Experiment(duration: "10s", populations: {"p": Population(workload: Open(rate_per_s: 5.0), mix: {"a": 1.0})})"#;

    /// A model of `services` (name, instances) whose request kind `a` is `path`, with
    /// `more` request kinds `k0`, `k1`, … besides.
    fn model(services: &[(&str, u32)], path: &str, more: usize) -> String {
        let services: Vec<String> = services
            .iter()
            .map(|(name, n)| {
                format!(
                    "{name:?}: Service(instances: {n}, workers: 1, service: Exp(mean: \"1ms\"))"
                )
            })
            .collect();
        let kinds: Vec<String> = (0..more)
            .map(|i| format!("\"k{i}\": [Call(\"web\")]"))
            .collect();
        format!(
            "System(services: {{{}}}, databases: {{\"db\": Database(workers: 1, read: Exp(mean: \"1ms\"), write: Exp(mean: \"1ms\"))}}, requests: {{\"a\": {path}, {}}})",
            services.join(", "),
            kinds.join(", ")
        )
    }

    fn refused(exp: &str, model: &str) -> ConfigError {
        single_run_from_texts(exp, model).expect_err("refused")
    }

    fn nested(depth: usize) -> String {
        let mut step = "Read(\"db\")".to_string();
        for _ in 0..depth {
            step = format!("Parallel(branches: [[{step}]])");
        }
        format!("[Call(\"web\"), {step}]")
    }

    #[test]
    fn paths_are_bounded_in_steps_nesting_and_branches() {
        let web = [("web", 1)];
        // At each bound the model is valid; one past it, refused with the bound.
        let steps = |n: usize| format!("[Call(\"web\"){}]", ", Read(\"db\")".repeat(n - 1));
        assert!(single_run_from_texts(EXPERIMENT, &model(&web, &steps(256), 0)).is_ok());
        let e = refused(EXPERIMENT, &model(&web, &steps(257), 0));
        assert_eq!(e.field.as_deref(), Some("model.requests.a.256"), "{e}");
        assert!(e.message.contains("is 257, above the limit of 256"), "{e}");
        assert!(e.message.contains("MAX_PATH_STEPS"), "{e}");

        assert!(single_run_from_texts(EXPERIMENT, &model(&web, &nested(8), 0)).is_ok());
        let e = refused(EXPERIMENT, &model(&web, &nested(9), 0));
        let ninth = format!("model.requests.a.1{}", ".branches.0.0".repeat(8));
        assert_eq!(e.field.as_deref(), Some(ninth.as_str()), "{e}");
        assert!(
            e.message
                .contains("the nesting of Parallel steps is 9, above the limit of 8"),
            "{e}"
        );

        let branches = |n: usize| {
            let b = vec!["[Read(\"db\")]"; n].join(", ");
            format!("[Call(\"web\"), Parallel(branches: [{b}], wait_for: First({n}))]")
        };
        // 64 branches of each of the 2 million requests in flight by default would be
        // 10 GiB: fewer in flight.
        let few = EXPERIMENT.replace(
            "populations:",
            "limits: Limits(max_in_flight: 1000), populations:",
        );
        single_run_from_texts(&few, &model(&web, &branches(64), 0)).unwrap();
        let e = refused(&few, &model(&web, &branches(65), 0));
        assert_eq!(
            e.field.as_deref(),
            Some("model.requests.a.1.branches"),
            "{e}"
        );
        assert!(
            e.message
                .contains("the branch count is 65, above the limit of 64"),
            "{e}"
        );
    }

    #[test]
    fn counts_of_kinds_instances_and_populations_are_bounded() {
        let call = "[Call(\"web\")]";
        assert!(single_run_from_texts(EXPERIMENT, &model(&[("web", 1)], call, 999)).is_ok());
        let e = refused(EXPERIMENT, &model(&[("web", 1)], call, 1000));
        assert_eq!(e.field.as_deref(), Some("model.requests"), "{e}");
        assert!(
            e.message
                .contains("request kinds is 1,001, above the limit of 1,000"),
            "{e}"
        );

        // Ten services of 1,000 instances are the most; one instance more is refused.
        let names: Vec<String> = (0..11)
            .map(|i| {
                if i == 0 {
                    "web".into()
                } else {
                    format!("s{i}")
                }
            })
            .collect();
        let mut services: Vec<(&str, u32)> =
            names[..10].iter().map(|n| (n.as_str(), 1000)).collect();
        assert!(single_run_from_texts(EXPERIMENT, &model(&services, call, 0)).is_ok());
        services.push((names[10].as_str(), 1));
        let e = refused(EXPERIMENT, &model(&services, call, 0));
        assert_eq!(e.field.as_deref(), Some("model.services"), "{e}");
        assert!(
            e.message.contains("10,001, above the limit of 10,000"),
            "{e}"
        );

        let populations = |n: usize| {
            let p: Vec<String> = (0..n)
                .map(|i| format!("\"p{i}\": Population(workload: Open(rate_per_s: 1.0), mix: {{\"a\": 1.0}})"))
                .collect();
            format!(
                "Experiment(duration: \"10s\", populations: {{{}}})",
                p.join(", ")
            )
        };
        let m = model(&[("web", 1)], call, 0);
        assert!(single_run_from_texts(&populations(100), &m).is_ok());
        let e = refused(&populations(101), &m);
        assert_eq!(e.field.as_deref(), Some("populations"), "{e}");
        assert!(
            e.message
                .contains("populations is 101, above the limit of 100"),
            "{e}"
        );
    }

    #[test]
    fn names_are_usable_in_paths_and_unique_among_link_ends() {
        let long = "w".repeat(65);
        let e = refused(
            EXPERIMENT,
            &model(&[(&long, 1), ("web", 1)], "[Call(\"web\")]", 0),
        );
        assert_eq!(e.field, Some(format!("model.services.{long}")), "{e}");
        assert!(e.message.contains("is 65, above the limit of 64"), "{e}");
        let e = refused(
            EXPERIMENT,
            &model(&[("web", 1), ("db", 1)], "[Call(\"web\")]", 0),
        );
        assert_eq!(e.field.as_deref(), Some("model.databases.db"), "{e}");
        assert!(
            e.message.contains("`db` is also in `model.services`"),
            "{e}"
        );
        let e = refused(
            &EXPERIMENT.replace("\"p\":", "\"web\":"),
            &model(&[("web", 1)], "[Call(\"web\")]", 0),
        );
        assert_eq!(e.field.as_deref(), Some("populations.web"), "{e}");
    }
}
