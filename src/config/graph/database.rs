//! A named database: a pool of workers with a queue, a connection cap, read and write
//! times, and a slowdown under load.

use serde::{Deserialize, Serialize};

use super::pool::{self, QueueSpec, Slowdown};
use crate::config::rules::{Checked, Rules};
use crate::config::DistSpec;

/// A database: `Database(workers: 16, read: Exp(mean: "4ms"), write: Exp(mean: "9ms"))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Database")]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    /// Queries it executes at once.
    pub workers: u32,
    /// Queries that may wait for a worker (beyond the connection cap they wait for a
    /// connection instead).
    #[serde(default)]
    pub queue: QueueSpec,
    /// Connections it accepts at once: queries running or waiting inside; one more waits
    /// at the caller for a connection. `None`: no limit.
    #[serde(default)]
    pub max_connections: Option<u32>,
    /// Extra service time per open client connection, as a fraction (0.01 = +1% per
    /// connection): the memory and scheduling cost a real database pays for every client
    /// connected, whether its query runs, waits for a worker or waits past the cap.
    #[serde(default)]
    pub per_connection: f64,
    /// Time of a read.
    pub read: DistSpec,
    /// Time of a write.
    pub write: DistSpec,
    /// Service time grows with utilisation, if set.
    #[serde(default)]
    pub slowdown: Option<Slowdown>,
}

impl DatabaseSpec {
    /// Checks the database written at `path` (`model.databases.<name>`).
    pub fn validate(&self, r: &Rules<'_>, path: &str) -> Checked {
        let at = |f: &str| format!("{path}.{f}");
        pool::workers(r, &at("workers"), self.workers)?;
        if self.max_connections == Some(0) {
            return r.fail(
                &at("max_connections"),
                "must be at least 1 (or None for no limit)",
            );
        }
        r.not_negative(&at("per_connection"), self.per_connection)?;
        r.dist(&at("read"), &self.read)?;
        r.dist(&at("write"), &self.write)?;
        if let Some(s) = &self.slowdown {
            s.validate(r, &at("slowdown"))?;
        }
        Ok(())
    }
}
