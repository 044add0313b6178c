//! A graph database's read replicas: how many, their workers, the replication lag and
//! where reads go.

use serde::{Deserialize, Serialize};

use super::pool;
use super::validate::Scope;
use crate::config::model::ReadRouting;
use crate::config::rules::{Checked, Rules};
use crate::config::DistSpec;

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
    pub fn validate(&self, r: &Rules<'_>, path: &str) -> Checked {
        let at = |f: &str| format!("{path}.{f}");
        r.at_least_one(&at("count"), self.count)?;
        r.bounded(
            &at("count"),
            u64::from(self.count),
            u64::from(MAX_REPLICAS),
            "the replica count",
            "each replica is a pool with its own state; MAX_REPLICAS in \
             src/config/graph/replicas.rs raises the limit",
        )?;
        pool::workers(r, &at("workers"), self.workers)?;
        r.dist(&at("lag"), &self.lag)?;
        if let ReadRouting::ReadYourWrites { window } = self.reads {
            r.nonzero(&at("reads.window"), window)?;
        }
        Ok(())
    }

    /// Checks that `database`, named at `path` by a fault on replication (a lag spike, a
    /// failover), is a database of the model and has replicas.
    pub fn validate_target(
        r: &Rules<'_>,
        path: &str,
        database: &str,
        scope: &Scope<'_>,
    ) -> Checked {
        let databases = &scope.model.databases;
        r.known(path, database, "databases", databases.keys())?;
        if databases[database].replicas.is_none() {
            return r.fail(
                path,
                format!(
                    "database `{database}` has no replicas (add `replicas: Replicas(count: …, \
                     workers: …, lag: …)` to it)"
                ),
            );
        }
        Ok(())
    }
}
