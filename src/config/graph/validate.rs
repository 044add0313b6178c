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
    let counts = [
        (
            "model.requests",
            "request kinds",
            m.requests.len(),
            bounds::MAX_REQUEST_KINDS,
            "MAX_REQUEST_KINDS",
        ),
        (
            "model.databases",
            "databases",
            m.databases.len(),
            bounds::MAX_COMPONENTS,
            "MAX_COMPONENTS",
        ),
        (
            "model.caches",
            "caches",
            m.caches.len(),
            bounds::MAX_COMPONENTS,
            "MAX_COMPONENTS",
        ),
        (
            "model.counters",
            "counters",
            m.counters.len(),
            bounds::MAX_COMPONENTS,
            "MAX_COMPONENTS",
        ),
        (
            "model.queues",
            "queue topics",
            m.queues.len(),
            bounds::MAX_COMPONENTS,
            "MAX_COMPONENTS",
        ),
    ];
    for (path, what, n, limit, constant) in counts {
        r.bounded(
            path,
            n as u64,
            limit as u64,
            &format!("the number of {what}"),
            &format!("each has its own state and figures; {}", raise(constant)),
        )?;
    }
    let mut instances = 0u64;
    for (name, s) in &m.services {
        s.validate(r, &format!("model.services.{name}"), scope)?;
        instances += s.instances as u64;
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
    m.network.validate(r, "model.network", scope)?;
    r.price("model.price_per_node_hour", m.price_per_node_hour)
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
            "sessions are not available in the graph form yet",
        ),
        (
            "model.autoscaler",
            m.autoscaler.is_some(),
            "the autoscaler is not available in the graph form yet: give each service its \
             `instances`",
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
            "random_failures",
            e.random_failures.is_some(),
            "random failures are not available in the graph form yet: inject Crash faults \
             on named instances",
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
    Ok(())
}
