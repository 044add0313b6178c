//! From raw files to validated run configurations: applies overrides, then checks every
//! cross-field rule before a run starts, naming the file, line and field of each problem.

use super::error::{ConfigError, Origin};
use super::experiment::{ExperimentSpec, FaultSpec, WorkloadSpec};
use super::load::Loaded;
use super::model::ModelSpec;
use super::overrides::{Override, OverrideSource};
use serde_json::Value;

/// Where every value of one resolved variant came from, to point errors back at it.
pub struct Provenance<'a> {
    /// The experiment file.
    pub experiment: &'a Loaded<ExperimentSpec>,
    /// The variant's model file.
    pub model: &'a Loaded<ModelSpec>,
    /// The overrides applied, in order (the later wins).
    pub overrides: &'a [Override],
}

impl Provenance<'_> {
    /// The origin of the value at dotted `path` of the combined tree (`model.` for the model).
    pub fn origin(&self, path: &str) -> Origin {
        // Enum variant names may or may not be written in either path
        // (`workload.Open.rate_per_s` is `workload.rate_per_s`): compare without them.
        let bare = without_variants(path);
        let overridden = self.overrides.iter().rev().find(|o| {
            let o_path = without_variants(&o.path);
            bare == o_path
                || bare.starts_with(&format!("{o_path}."))
                || o_path.starts_with(&format!("{bare}."))
        });
        if let Some(o) = overridden {
            return match &o.source {
                OverrideSource::Flag => Origin::Flag(format!("--set {}={}", o.path, o.value)),
                OverrideSource::File(at) => self.experiment.origin(at),
            };
        }
        match path.strip_prefix("model.") {
            Some(rest) => self.model.origin(rest),
            None if path == "model" => self.model.origin(""),
            None => self.experiment.origin(path),
        }
    }

    /// An error about the value at `path`.
    pub fn error(&self, path: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.origin(path), Some(path.to_string()), message)
    }
}

/// A dotted path without its enum variant segments (those starting with a capital letter).
fn without_variants(path: &str) -> String {
    path.split('.')
        .filter(|seg| !seg.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect::<Vec<_>>()
        .join(".")
}

/// Applies the overrides to the experiment and model and reads them back as typed structs.
pub fn apply_overrides(prov: &Provenance<'_>) -> Result<(ExperimentSpec, ModelSpec), ConfigError> {
    let mut tree = serde_json::to_value(&prov.experiment.value).expect("config serialises");
    let model_tree = serde_json::to_value(&prov.model.value).expect("config serialises");
    tree["model"] = model_tree;
    for o in prov.overrides {
        super::overrides::apply(&mut tree, &o.path, &o.value).map_err(|msg| {
            let origin = match &o.source {
                OverrideSource::Flag => Origin::Flag(format!("--set {}={}", o.path, o.value)),
                OverrideSource::File(at) => prov.experiment.origin(at),
            };
            ConfigError::new(origin, Some(o.path.clone()), msg)
        })?;
    }
    let model_tree = tree
        .as_object_mut()
        .and_then(|m| m.remove("model"))
        .unwrap_or(Value::Null);
    tree["model"] = serde_json::to_value(&prov.experiment.value.model).expect("serialises");
    let model: ModelSpec = typed(prov, "model.", model_tree)?;
    let experiment: ExperimentSpec = typed(prov, "", tree)?;
    Ok((experiment, model))
}

fn typed<T: serde::de::DeserializeOwned>(
    prov: &Provenance<'_>,
    prefix: &str,
    tree: Value,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(tree).map_err(|e| {
        let inner = e.path().to_string();
        let path = format!("{prefix}{inner}");
        let path = path.trim_end_matches('.').to_string();
        prov.error(&path, e.inner().to_string())
    })
}

/// Checks every rule that a single field's type cannot express.
pub fn check(prov: &Provenance<'_>, e: &ExperimentSpec, m: &ModelSpec) -> Result<(), ConfigError> {
    let err = |path: &str, msg: String| Err(prov.error(path, msg));
    if e.duration.ns() == 0 {
        return err("duration", "must be greater than zero, e.g. \"10m\"".into());
    }
    if e.warmup >= e.duration {
        return err(
            "warmup",
            format!(
                "the warm-up ({}) must be shorter than the duration ({})",
                e.warmup, e.duration
            ),
        );
    }
    if e.metrics_interval.ns() == 0 {
        return err(
            "metrics_interval",
            "must be greater than zero, e.g. \"1s\"".into(),
        );
    }
    if e.duration.ns() / e.metrics_interval.ns() > 10_000_000 {
        return err(
            "metrics_interval",
            format!(
                "{} would make more than 10 million rows over {}",
                e.metrics_interval, e.duration
            ),
        );
    }
    match &e.workload {
        WorkloadSpec::Open {
            rate_per_s,
            max_requests,
        } => {
            if !rate_per_s.is_finite() || *rate_per_s <= 0.0 {
                return err(
                    "workload.rate_per_s",
                    format!("must be a finite number greater than zero, found {rate_per_s}"),
                );
            }
            if *max_requests == Some(0) {
                return err(
                    "workload.max_requests",
                    "must be at least 1 (or None for no limit)".into(),
                );
            }
        }
    }
    if let Some(t) = e.clients.timeout {
        if t.ns() == 0 {
            return err(
                "clients.timeout",
                "must be greater than zero (or None to wait forever)".into(),
            );
        }
    }
    if e.limits.max_in_flight == 0 {
        return err("limits.max_in_flight", "must be at least 1".into());
    }
    if e.limits.max_pending_events == 0 {
        return err("limits.max_pending_events", "must be at least 1".into());
    }
    if e.limits.max_events == Some(0) {
        return err(
            "limits.max_events",
            "must be at least 1 (or None for no limit)".into(),
        );
    }
    let n = &m.nodes;
    if n.count == 0 {
        return err(
            "model.nodes.count",
            "must be at least 1: a system needs a node to serve requests".into(),
        );
    }
    if n.workers == 0 {
        return err("model.nodes.workers", "must be at least 1".into());
    }
    if let Err((field, msg)) = m.nodes.service.check() {
        return err(&format!("model.nodes.service.{field}"), msg);
    }
    for (i, f) in e.faults.iter().enumerate() {
        match f {
            FaultSpec::Crash {
                node,
                at,
                restart_after,
            } => {
                if *node >= n.count {
                    return err(
                        &format!("faults.{i}.node"),
                        format!(
                            "node {node} does not exist: the model has {} node(s), numbered 0 to {}",
                            n.count,
                            n.count - 1
                        ),
                    );
                }
                if *at >= e.duration {
                    return err(
                        &format!("faults.{i}.at"),
                        format!("{at} is not before the end of the run ({})", e.duration),
                    );
                }
                if restart_after.is_some_and(|r| r.ns() == 0) {
                    return err(
                        &format!("faults.{i}.restart_after"),
                        "must be greater than zero (or None for no restart)".into(),
                    );
                }
            }
        }
    }
    Ok(())
}

/// A variant name becomes a directory name: keep it to letters, digits, `-`, `_` and `.`.
pub fn check_variant_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!(
            "the variant name \"{name}\" cannot be used as a directory name"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "the variant name \"{name}\" contains {c:?}: use letters, digits, '-', '_' and '.' only"
        ));
    }
    Ok(())
}
