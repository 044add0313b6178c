//! A named look-aside cache in front of a named database.

use serde::{Deserialize, Serialize};

use super::validate::Scope;
use crate::config::model::KeysSpec;
use crate::config::rules::{Checked, Rules};
use crate::config::{DistSpec, Duration};

/// A cache: `Cache(database: "main", capacity_keys: 1000, ttl: "30s", …)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Cache")]
#[serde(deny_unknown_fields)]
pub struct GraphCacheSpec {
    /// The database a miss reads from.
    pub database: String,
    /// Keys it holds; when full, the least recently used key is evicted.
    pub capacity_keys: u32,
    /// How long a filled key stays valid.
    pub ttl: Duration,
    /// Share of the TTL drawn at random and taken off it.
    #[serde(default)]
    pub ttl_jitter: f64,
    /// Time of a lookup.
    pub hit: DistSpec,
    /// The data requests ask for: how many keys and how popular each is.
    pub keys: KeysSpec,
    /// A miss for a key already being fetched waits for that fetch instead of sending a
    /// second database read.
    #[serde(default)]
    pub coalescing: bool,
}

impl GraphCacheSpec {
    /// Checks the cache written at `path` (`model.caches.<name>`): its database exists,
    /// and its capacity, TTL, lookup time and key space are valid.
    pub fn validate(&self, r: &Rules<'_>, path: &str, scope: &Scope<'_>) -> Checked {
        let at = |f: &str| format!("{path}.{f}");
        r.known(
            &at("database"),
            &self.database,
            "databases",
            scope.model.databases.keys(),
        )?;
        r.at_least_one(&at("capacity_keys"), self.capacity_keys)?;
        r.nonzero(&at("ttl"), self.ttl)?;
        r.ttl_jitter(&at("ttl_jitter"), self.ttl_jitter)?;
        r.dist(&at("hit"), &self.hit)?;
        r.keys(&at("keys"), &self.keys)
    }
}
