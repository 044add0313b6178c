//! What every fault has in common, whichever component it afflicts: when it starts, how
//! long it lasts and a short label for tables and plots.

use super::experiment::FaultSpec;
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
            | FaultSpec::Flush { at, .. }
            | FaultSpec::LagSpike { at, .. }
            | FaultSpec::Failover { at, .. } => at.0,
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
            | FaultSpec::Stall { lasting, .. }
            | FaultSpec::LagSpike { lasting, .. }
            | FaultSpec::Failover { lasting, .. } => Some(lasting.0),
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
            FaultSpec::LagSpike {
                database, extra, ..
            } => format!("lag-spike(db {database} +{extra})"),
            FaultSpec::Failover { database, .. } => format!("failover(db {database})"),
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
