//! A graph database's read replicas: how many, their workers, the replication lag and
//! where reads go.

use serde::{Deserialize, Serialize};

use crate::config::model::ReadRouting;
use crate::config::resolve::Provenance;
use crate::config::{ConfigError, DistSpec};

/// The most replicas a database may have: each is a pool with its own state and queue.
pub const MAX_REPLICAS: u32 = 64;

/// Read replicas of a database:
/// `Replicas(count: 2, workers: 16, lag: Exp(mean: "80ms"), reads: ReadYourWrites(window: "1s"))`.
/// Writes go to the primary (the database itself); each replica is a pool of its own with
/// the database's read time, queue, connection cap and slowdown, and shows a write only
/// `lag` after the primary committed it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Replicas")]
#[serde(deny_unknown_fields)]
pub struct DbReplicas {
    /// How many replicas (1 to 64).
    pub count: u32,
    /// Queries each replica executes at once.
    pub workers: u32,
    /// Time from a write's commit on the primary until the replicas show it, drawn per
    /// write.
    pub lag: DistSpec,
    /// Where reads go: all to the primary, round-robin over the replicas, or
    /// read-your-writes (to the primary for `window` after the reading user's own write).
    #[serde(default)]
    pub reads: ReadRouting,
}

impl DbReplicas {
    /// Checks the replicas written at `path` (`model.databases.<name>.replicas`).
    pub fn validate(&self, prov: &Provenance<'_>, path: &str) -> Result<(), ConfigError> {
        let at = |f: &str| format!("{path}.{f}");
        if self.count == 0 || self.count > MAX_REPLICAS {
            return Err(prov.error(
                &at("count"),
                format!(
                    "must be between 1 and {MAX_REPLICAS} (each replica is a pool of its own; \
                     MAX_REPLICAS in src/config/graph/replicas.rs raises the limit), found {}",
                    self.count
                ),
            ));
        }
        if self.workers == 0 {
            return Err(prov.error(&at("workers"), "must be at least 1"));
        }
        if let Err((field, msg)) = self.lag.check() {
            return Err(prov.error(&format!("{}.{field}", at("lag")), msg));
        }
        if let ReadRouting::ReadYourWrites { window } = self.reads {
            if window.ns() == 0 {
                return Err(prov.error(&at("reads.window"), "must be greater than zero"));
            }
        }
        Ok(())
    }
}
