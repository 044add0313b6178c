//! What every fault has in common, whichever component it afflicts: when it starts, how
//! long it lasts and a short label for tables and plots.

use super::experiment::FaultSpec;
use super::graph::validate::Scope;
use super::rules::{Checked, Rules};
use crate::engine::SimTime;

impl FaultSpec {
    /// When the fault starts.
    pub fn at(&self) -> SimTime {
        match self {
            FaultSpec::Crash { at, .. }
            | FaultSpec::Slow { at, .. }
            | FaultSpec::CutCapacity { at, .. }
            | FaultSpec::Partition { at, .. }
            | FaultSpec::FailRequests { at, .. }
            | FaultSpec::StallDependency { at, .. }
            | FaultSpec::StoreOutage { at, .. }
            | FaultSpec::ReplicationLagSpike { at, .. }
            | FaultSpec::PrimaryFailover { at, .. }
            | FaultSpec::SlowLockHolder { at, .. }
            | FaultSpec::FlushCache { at }
            | FaultSpec::Stall { at, .. }
            | FaultSpec::Flush { at, .. } => at.0,
        }
    }

    /// How long it lasts; `None` for an instant fault (a flush) or a crash never repaired.
    pub fn lasting(&self) -> Option<SimTime> {
        match self {
            FaultSpec::Crash { restart_after, .. } => restart_after.map(|r| r.0),
            FaultSpec::Slow { lasting, .. }
            | FaultSpec::CutCapacity { lasting, .. }
            | FaultSpec::Partition { lasting, .. }
            | FaultSpec::FailRequests { lasting, .. }
            | FaultSpec::StallDependency { lasting, .. }
            | FaultSpec::StoreOutage { lasting, .. }
            | FaultSpec::ReplicationLagSpike { lasting, .. }
            | FaultSpec::PrimaryFailover { lasting, .. }
            | FaultSpec::Stall { lasting, .. } => Some(lasting.0),
            FaultSpec::SlowLockHolder { stall, .. } => Some(stall.0),
            FaultSpec::FlushCache { .. } | FaultSpec::Flush { .. } => None,
        }
    }

    /// A short label, e.g. `crash(node 1)` or `slow(db main x15)`.
    pub fn label(&self) -> String {
        match self {
            FaultSpec::Crash {
                node,
                service,
                database,
                instance,
                ..
            } => format!("crash({})", target(node, service, database, instance)),
            FaultSpec::Slow {
                node,
                service,
                database,
                instance,
                factor,
                ..
            } => format!(
                "slow({} x{factor})",
                target(node, service, database, instance)
            ),
            FaultSpec::CutCapacity {
                node,
                service,
                database,
                instance,
                workers,
                ..
            } => format!(
                "cut-capacity({} to {workers})",
                target(node, service, database, instance)
            ),
            FaultSpec::Partition {
                node,
                service,
                database,
                instance,
                ..
            } => format!("partition({})", target(node, service, database, instance)),
            FaultSpec::FailRequests {
                node: None,
                service: None,
                database: None,
                percent,
                ..
            } => format!("fail-requests(all {percent}%)"),
            FaultSpec::FailRequests {
                node,
                service,
                database,
                instance,
                percent,
                ..
            } => format!(
                "fail-requests({} {percent}%)",
                target(node, service, database, instance)
            ),
            FaultSpec::StallDependency { .. } => "stall-dependency".to_string(),
            FaultSpec::StoreOutage { .. } => "store-outage".to_string(),
            FaultSpec::SlowLockHolder { .. } => "slow-lock-holder".to_string(),
            FaultSpec::ReplicationLagSpike { extra, .. } => {
                format!("replication-lag-spike(+{extra})")
            }
            FaultSpec::PrimaryFailover { .. } => "primary-failover".to_string(),
            FaultSpec::FlushCache { .. } => "flush-cache".to_string(),
            FaultSpec::Stall { database, .. } => format!("stall(db {database})"),
            FaultSpec::Flush { cache, .. } => format!("flush(cache {cache})"),
        }
    }

    /// The single-tier node a fault names (validated present for those faults there).
    pub fn tier_node(node: &Option<u32>) -> u32 {
        node.expect("validated: a single-tier fault names its node")
    }
}

/// How a label names what a fault afflicts.
fn target(
    node: &Option<u32>,
    service: &Option<String>,
    database: &Option<String>,
    instance: &Option<u32>,
) -> String {
    match (node, service, database, instance) {
        (Some(n), ..) => format!("node {n}"),
        (_, Some(s), _, Some(i)) => format!("{s}/{i}"),
        (_, Some(s), _, None) => format!("{s}/all"),
        (_, _, Some(d), _) => format!("db {d}"),
        _ => "all".to_string(),
    }
}

impl FaultSpec {
    /// Checks a fault of an experiment on a graph model, written at `path` (`faults.<i>`):
    /// it names its target (a service's instance, a database or a cache) and never a
    /// node number, and it starts before the end of the run. The faults of the single-tier
    /// form's singletons are refused with what to write instead.
    pub fn validate_graph(&self, r: &Rules<'_>, path: &str, scope: &Scope<'_>) -> Checked {
        let at = |f: &str| format!("{path}.{f}");
        if let Some(target) = self.target() {
            let every_instance = matches!(self, FaultSpec::FailRequests { .. });
            let has = target.check(r, path, scope, every_instance)?;
            if let FaultSpec::CutCapacity { workers, .. } = self {
                if *workers > has {
                    return r.fail(
                        &at("workers"),
                        format!(
                            "keeps {workers} workers, but {} has only {has}",
                            target.what()
                        ),
                    );
                }
            }
        }
        match self {
            FaultSpec::Crash { restart_after, .. } => {
                if restart_after.is_some_and(|d| d.ns() == 0) {
                    return r.fail(
                        &at("restart_after"),
                        "must be greater than zero (or None for no restart)",
                    );
                }
            }
            FaultSpec::Slow {
                lasting, factor, ..
            } => {
                r.nonzero(&at("lasting"), *lasting)?;
                r.positive(&at("factor"), *factor, "the factor")?;
            }
            FaultSpec::CutCapacity { lasting, .. } | FaultSpec::Partition { lasting, .. } => {
                r.nonzero(&at("lasting"), *lasting)?
            }
            FaultSpec::FailRequests {
                lasting, percent, ..
            } => {
                r.nonzero(&at("lasting"), *lasting)?;
                r.percent(&at("percent"), *percent)?;
            }
            FaultSpec::Stall {
                database, lasting, ..
            } => {
                let names = scope.model.databases.keys();
                r.known(&at("database"), database, "databases", names)?;
                r.nonzero(&at("lasting"), *lasting)?;
            }
            FaultSpec::Flush { cache, .. } => {
                r.known(&at("cache"), cache, "caches", scope.model.caches.keys())?
            }
            legacy => return r.fail(path, legacy.graph_replacement()),
        }
        let end = scope.experiment.duration;
        if self.at() >= end.0 {
            let start = crate::config::Duration(self.at());
            return r.fail(
                &at("at"),
                format!("{start} is not before the end of the run ({end})"),
            );
        }
        Ok(())
    }

    /// What a fault on a pool (a crash, a slowdown, a capacity cut, a partition, failed
    /// requests) names as its target; `None` for the other faults.
    fn target(&self) -> Option<Target<'_>> {
        match self {
            FaultSpec::Crash {
                node,
                service,
                database,
                instance,
                ..
            }
            | FaultSpec::Slow {
                node,
                service,
                database,
                instance,
                ..
            }
            | FaultSpec::CutCapacity {
                node,
                service,
                database,
                instance,
                ..
            }
            | FaultSpec::Partition {
                node,
                service,
                database,
                instance,
                ..
            }
            | FaultSpec::FailRequests {
                node,
                service,
                database,
                instance,
                ..
            } => Some(Target {
                node,
                service,
                database,
                instance,
            }),
            _ => None,
        }
    }

    /// Why a fault of the single-tier form's singletons has no place in a graph
    /// experiment, and what to write instead.
    fn graph_replacement(&self) -> String {
        let (name, instead) = match self {
            FaultSpec::StallDependency { .. } => (
                "StallDependency",
                "Stall(database: \"<name>\", at: …, lasting: …)",
            ),
            FaultSpec::StoreOutage { .. } => (
                "StoreOutage",
                "FailRequests(database: \"<name>\", percent: 100.0, at: …, lasting: …) for a \
                 database that fails at once, or Crash(database: \"<name>\", …)",
            ),
            FaultSpec::ReplicationLagSpike { .. } => (
                "ReplicationLagSpike",
                "nothing yet: a graph model's databases have no replicas; Slow(database: \
                 \"<name>\", factor: …) slows a database",
            ),
            FaultSpec::PrimaryFailover { .. } => (
                "PrimaryFailover",
                "Crash(database: \"<name>\", at: …, restart_after: …) for a database that is \
                 down while it fails over (a graph model's databases have no replicas yet)",
            ),
            FaultSpec::SlowLockHolder { .. } => (
                "SlowLockHolder",
                "Slow(database: \"<the counter's database>\", …) or Stall(database: …): a \
                 graph model's counter rows are written by their database",
            ),
            FaultSpec::FlushCache { .. } => ("FlushCache", "Flush(cache: \"<name>\", at: …)"),
            _ => unreachable!("only the single-tier faults have a replacement"),
        };
        format!(
            "{name} acts on the single-tier form's singletons and has no target in a graph \
             model; use {instead}"
        )
    }
}

/// What a fault on a pool names: a service's instance, or a database.
struct Target<'a> {
    node: &'a Option<u32>,
    service: &'a Option<String>,
    database: &'a Option<String>,
    instance: &'a Option<u32>,
}

impl Target<'_> {
    /// The target in words, for messages.
    fn what(&self) -> String {
        match (self.service, self.database, self.instance) {
            (Some(s), _, Some(i)) => format!("instance {i} of `{s}`"),
            (Some(s), _, None) => format!("each instance of `{s}`"),
            (_, Some(d), _) => format!("the database `{d}`"),
            _ => "the target".to_string(),
        }
    }

    /// Checks that the fault at `path` names one existing target (every instance of a
    /// service when `all_instances` allows leaving `instance` out); returns the workers of
    /// the pool it afflicts.
    fn check(
        &self,
        r: &Rules<'_>,
        path: &str,
        scope: &Scope<'_>,
        all_instances: bool,
    ) -> Result<u32, crate::config::ConfigError> {
        let at = |f: &str| format!("{path}.{f}");
        let m = scope.model;
        if self.node.is_some() {
            return Err(r.error(
                &at("node"),
                "a graph model has no node numbers: name a `service` and its 0-based \
                 `instance`, or a `database`",
            ));
        }
        match (self.service, self.database) {
            (Some(_), Some(_)) => Err(r.error(
                &at("database"),
                "names both a service and a database: a fault afflicts one of them",
            )),
            (Some(s), None) => {
                r.known(&at("service"), s, "services", m.services.keys())?;
                let spec = &m.services[s];
                let n = spec.instances;
                match self.instance {
                    Some(i) if *i >= n => Err(r.error(
                        &at("instance"),
                        format!(
                            "instance {i} does not exist: `{s}` has {n} instance(s), numbered 0 to {}",
                            n - 1
                        ),
                    )),
                    None if !all_instances => Err(r.error(
                        &at("instance"),
                        format!(
                            "is required: the 0-based instance of `{s}` this fault afflicts (0 to {})",
                            n - 1
                        ),
                    )),
                    _ => Ok(spec.workers),
                }
            }
            (None, Some(d)) => {
                r.known(&at("database"), d, "databases", m.databases.keys())?;
                if self.instance.is_some() {
                    return Err(r.error(
                        &at("instance"),
                        "a database has no instances: leave `instance` out",
                    ));
                }
                Ok(m.databases[d].workers)
            }
            (None, None) => Err(r.error(
                path,
                "names no target: give a `service` (with its 0-based `instance`) or a \
                 `database`",
            )),
        }
    }
}
