//! The cross-field rules of a graph model and its experiment: every name a step, a cache,
//! a counter, a queue or a fault uses exists, and every size is bounded.

use crate::config::resolve::Provenance;
use crate::config::{ConfigError, ExperimentSpec, ModelSpec};

/// Checks a graph model with its experiment.
pub fn check(prov: &Provenance<'_>, e: &ExperimentSpec, m: &ModelSpec) -> Result<(), ConfigError> {
    if m.nodes.is_some() {
        return Err(prov.error(
            "model.nodes",
            "a graph model (with `services`) has no `nodes`: each service has its instances",
        ));
    }
    if e.workload.is_some() {
        return Err(prov.error(
            "workload",
            "an experiment on a graph model has `populations` instead of one `workload`",
        ));
    }
    if e.populations.is_empty() {
        return Err(prov.error(
            "populations",
            "an experiment on a graph model needs at least one population",
        ));
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
