//! The rules of a graph service's autoscaler and of random instance failures in a graph
//! experiment. Both reuse the single-tier form's specs ([`AutoscalerSpec`],
//! [`RandomFailuresSpec`]) with the same meaning, applied to one service's instances.

use super::bounds::{raise, MAX_INSTANCES_PER_SERVICE};
use super::validate::Scope;
use crate::config::experiment::RandomFailuresSpec;
use crate::config::model::AutoscalerSpec;
use crate::config::rules::{Checked, Rules, MIN_PERIODIC_NS};

/// Checks the autoscaler of the service written at `service` (`model.services.<name>`),
/// which starts with `instances`: its bounds hold the starting count, its ceiling is
/// within the instances a service may have, its thresholds cannot flap and its period
/// is not so short that evaluating is all the run does.
pub fn validate(r: &Rules<'_>, service: &str, a: &AutoscalerSpec, instances: u32) -> Checked {
    let at = |f: &str| format!("{service}.autoscaler.{f}");
    r.at_least_one(&at("min_nodes"), a.min_nodes)?;
    if a.min_nodes > a.max_nodes {
        return r.fail(
            &at("min_nodes"),
            format!(
                "min_nodes ({}) must not be greater than max_nodes ({})",
                a.min_nodes, a.max_nodes
            ),
        );
    }
    r.bounded(
        &at("max_nodes"),
        a.max_nodes as u64,
        MAX_INSTANCES_PER_SERVICE as u64,
        "the autoscaler's most instances",
        &format!(
            "each instance has its own state and queue, even while off; {}",
            raise("MAX_INSTANCES_PER_SERVICE")
        ),
    )?;
    if instances < a.min_nodes || instances > a.max_nodes {
        return r.fail(
            &format!("{service}.instances"),
            format!(
                "the starting count {instances} must lie between the autoscaler's min_nodes {} and max_nodes {}",
                a.min_nodes, a.max_nodes
            ),
        );
    }
    for (f, x) in [
        ("scale_out_above", a.scale_out_above),
        ("scale_in_below", a.scale_in_below),
    ] {
        r.not_negative(&at(f), x)?;
    }
    if a.scale_in_below >= a.scale_out_above {
        return r.fail(
            &at("scale_in_below"),
            format!(
                "must be below scale_out_above ({}), or the scaler would flap",
                a.scale_out_above
            ),
        );
    }
    r.nonzero(&at("every"), a.every)?;
    if a.every.ns() < MIN_PERIODIC_NS {
        return r.fail(
            &at("every"),
            format!(
                "must be at least 1ms, found {}: each evaluation is an event that looks at every instance, so a shorter period makes the run do nothing else (autoscalers evaluate every few seconds)",
                a.every
            ),
        );
    }
    if a.window < a.every {
        return r.fail(
            &at("window"),
            format!(
                "the window ({}) must be at least the evaluation period `every` ({}): each decision must see the time since the previous one",
                a.window, a.every
            ),
        );
    }
    r.at_least_one(&at("step"), a.step)
}

/// Checks an experiment's random failures on a graph model: the services it names
/// exist, and failures are not so frequent that failing is all the run does.
pub fn validate_random_failures(
    r: &Rules<'_>,
    path: &str,
    f: &RandomFailuresSpec,
    scope: &Scope<'_>,
) -> Checked {
    let at = |x: &str| format!("{path}.{x}");
    r.dist(&at("time_to_failure"), &f.time_to_failure)?;
    r.dist(&at("time_to_repair"), &f.time_to_repair)?;
    // Each failure and repair of each instance is an event: bounded like a periodic event.
    if f.time_to_failure.mean_ms() < MIN_PERIODIC_NS as f64 / 1e6 {
        return r.fail(
            &at("time_to_failure"),
            format!(
                "must have a mean of at least 1ms, found {} ms: every failure of every instance is an event, so more frequent failures make the run do nothing else",
                f.time_to_failure.mean_ms()
            ),
        );
    }
    for (i, name) in f.services.iter().enumerate() {
        r.known(
            &at(&format!("services.{i}")),
            name,
            "services",
            scope.model.services.keys(),
        )?;
    }
    Ok(())
}
