//! Named counter rows that live in a named database, written under row locks.

use serde::{Deserialize, Serialize};

use super::validate::Scope;
use crate::config::model::CounterSpec;
use crate::config::rules::{Checked, Rules};
use crate::config::Duration;

/// Counter rows: `Counter(database: "main", rows: Sharded(buckets: 16), wait_timeout: "2s")`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Counter")]
#[serde(deny_unknown_fields)]
pub struct CounterRowsSpec {
    /// The database whose workers and connections do the writes.
    pub database: String,
    /// One row, sharded rows, or batched: `Batched(every: "100ms")` adds increments up in
    /// the memory of the instance that runs the `Lock` step and writes each instance's sum
    /// every period under row 0's lock (a crash of the instance loses what it had not
    /// written).
    #[serde(default)]
    pub rows: CounterSpec,
    /// Increments take the row lock; without it, concurrent read-modify-writes lose updates.
    #[serde(default = "yes")]
    pub locking: bool,
    /// A request waiting for a lock gives up after this long.
    pub wait_timeout: Duration,
    /// A holder that keeps a lock longer than this loses it (its write, when it lands, is
    /// lost) and the next waiter gets it; `None`: never.
    #[serde(default)]
    pub lease: Option<Duration>,
}

fn yes() -> bool {
    true
}

/// The most rows a sharded counter may have (each is a lock with its waiters).
pub const MAX_BUCKETS: u32 = 1_000_000;

impl CounterRowsSpec {
    /// Checks the counter written at `path` (`model.counters.<name>`): its database
    /// exists, its rows are one, sharded or batched, and its lock wait and lease are not zero.
    pub fn validate(&self, r: &Rules<'_>, path: &str, scope: &Scope<'_>) -> Checked {
        let at = |f: &str| format!("{path}.{f}");
        r.known(
            &at("database"),
            &self.database,
            "databases",
            scope.model.databases.keys(),
        )?;
        match self.rows {
            CounterSpec::Global => {}
            CounterSpec::Sharded { buckets } if buckets == 0 || buckets > MAX_BUCKETS => {
                return r.fail(
                    &at("rows.buckets"),
                    format!("must be between 1 and {MAX_BUCKETS}, found {buckets}"),
                )
            }
            CounterSpec::Sharded { .. } => {}
            CounterSpec::Batched { every } => r.nonzero(&at("rows.every"), every)?,
        }
        if let Some(l) = self.lease {
            r.nonzero(&at("lease"), l)?;
        }
        r.nonzero(&at("wait_timeout"), self.wait_timeout)
    }
}
