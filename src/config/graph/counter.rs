//! Named counter rows that live in a named database, written under row locks.

use serde::{Deserialize, Serialize};

use crate::config::model::CounterSpec;
use crate::config::Duration;

/// Counter rows: `Counter(database: "main", rows: Sharded(buckets: 16), wait_timeout: "2s")`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Counter")]
#[serde(deny_unknown_fields)]
pub struct CounterRowsSpec {
    /// The database whose workers and connections do the writes.
    pub database: String,
    /// One row or sharded rows (`Batched` is not available in the graph form).
    #[serde(default)]
    pub rows: CounterSpec,
    /// Increments take the row lock; without it, concurrent read-modify-writes lose updates.
    #[serde(default = "yes")]
    pub locking: bool,
    /// A request waiting for a lock gives up after this long.
    pub wait_timeout: Duration,
}

fn yes() -> bool {
    true
}
