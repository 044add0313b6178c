//! A named look-aside cache in front of a named database.

use serde::{Deserialize, Serialize};

use super::step::StepSpec;
use super::validate::Scope;
use crate::config::model::KeysSpec;
use crate::config::rules::{Checked, Rules};
use crate::config::{DistSpec, Duration};

/// A cache: `Cache(database: "main", capacity_keys: 1000, ttl: "30s", …)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Cache")]
#[serde(deny_unknown_fields)]
pub struct GraphCacheSpec {
    /// The database a miss reads from (and a write goes to).
    pub database: String,
    /// One cache shared by every caller (`Shared`, like Redis) or one in the memory of each
    /// instance of a service (`PerInstance("web")`: empty when the instance starts).
    #[serde(default)]
    pub placement: GraphCachePlacement,
    /// Keys one cache holds; when full, the least recently used key is evicted.
    pub capacity_keys: u32,
    /// How long a filled key stays valid.
    pub ttl: Duration,
    /// Share of the TTL drawn at random and taken off it.
    #[serde(default)]
    pub ttl_jitter: f64,
    /// Time of a lookup that finds the key.
    pub hit: DistSpec,
    /// Time of a lookup that misses, before the database read; `None`: the same as `hit`.
    #[serde(default)]
    pub miss: Option<DistSpec>,
    /// The data requests ask for: how many keys and how popular each is.
    pub keys: KeysSpec,
    /// Share of `Get` steps that write their key instead: a database write, then the key
    /// is invalidated in every cache of this name (every instance's, per instance).
    #[serde(default)]
    pub write_share: f64,
    /// A miss for a key already being fetched waits for that fetch instead of sending a
    /// second database read.
    #[serde(default)]
    pub coalescing: bool,
    /// Probabilistic early refresh (XFetch) with this beta (1 is the usual value): a hit
    /// close to its key's expiry refreshes the key from the database now and then, earlier
    /// for keys that take long to fetch, so that a hot key rarely expires at all.
    #[serde(default)]
    pub early_refresh: Option<f64>,
    /// Per-instance caches only: an instance that starts (at time 0 or after a restart)
    /// starts with its cache filled with the hottest keys instead of empty.
    #[serde(default)]
    pub prewarm: bool,
    /// Leases (as in memcached): the first miss of a key takes a lease and fetches; a miss
    /// while the lease is out looks again after this long instead of reading. A write
    /// revokes the lease, so a fetch that raced the write does not fill the cache with the
    /// old value. `None`: no leases.
    #[serde(default)]
    pub lease_retry: Option<Duration>,
}

/// Where a graph cache lives.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum GraphCachePlacement {
    /// One cache for every caller.
    #[default]
    Shared,
    /// One cache in the memory of each instance of the named service; its `Get` steps
    /// must run on that service.
    PerInstance(String),
}

/// The most keys all the per-instance caches of one cache may track together (keys ×
/// instances): each tracked key costs a few words per instance.
pub const MAX_PER_INSTANCE_KEYS: u64 = 50_000_000;

impl GraphCacheSpec {
    /// Checks the cache written at `path` (`model.caches.<name>`): its database exists,
    /// and its capacity, TTL, lookup times, key space and stampede mitigations are valid;
    /// a per-instance cache's service exists and runs every `Get` of it.
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
        if let Some(d) = &self.miss {
            r.dist(&at("miss"), d)?;
        }
        r.keys(&at("keys"), &self.keys)?;
        if !self.write_share.is_finite() || !(0.0..=1.0).contains(&self.write_share) {
            return r.fail(
                &at("write_share"),
                format!("must be between 0 and 1, found {}", self.write_share),
            );
        }
        if let Some(b) = self.early_refresh {
            r.positive(&at("early_refresh"), b, "the beta")?;
        }
        if let Some(d) = self.lease_retry {
            r.nonzero(&at("lease_retry"), d)?;
        }
        match &self.placement {
            GraphCachePlacement::Shared if self.prewarm => r.fail(
                &at("prewarm"),
                "only per-instance caches start cold: use `placement: PerInstance(\"<service>\")`",
            ),
            GraphCachePlacement::Shared => Ok(()),
            GraphCachePlacement::PerInstance(s) => self.per_instance(r, path, scope, s),
        }
    }

    fn per_instance(&self, r: &Rules<'_>, path: &str, scope: &Scope<'_>, service: &str) -> Checked {
        let m = scope.model;
        let at = format!("{path}.placement");
        r.known(&at, service, "services", m.services.keys())?;
        let tracked = u64::from(self.keys.count) * u64::from(m.services[service].instances);
        r.bounded(
            &at,
            tracked,
            MAX_PER_INSTANCE_KEYS,
            "the keys tracked by all instances' caches (keys.count × instances)",
            "every instance tracks every key's expiry and fetch; use fewer keys, a shared \
             cache, or raise `MAX_PER_INSTANCE_KEYS` in src/config/graph/cache.rs and rebuild",
        )?;
        let name = path.rsplit_once('.').map_or(path, |(_, n)| n);
        for (kind, steps) in &m.requests {
            runs_on(
                steps,
                None,
                &format!("model.requests.{kind}"),
                &mut |p, on| {
                    if on == Some(service) {
                        return Ok(());
                    }
                    r.fail(
                        p,
                        format!(
                            "Get(\"{name}\") runs on {}, but `{name}` is a cache in each instance \
                         of `{service}`: put the step after Call(\"{service}\")",
                            on.map_or("no service".to_string(), |s| format!("`{s}`"))
                        ),
                    )
                },
                name,
            )?;
        }
        Ok(())
    }
}

/// Walks `steps` at `path`, run on service `on`, and calls `found` with the path and the
/// service of every `Get(cache)`: the steps after a `Call(s)` run on `s`, a `Parallel`'s
/// branches on the service they start on.
fn runs_on<'a>(
    steps: &'a [StepSpec],
    mut on: Option<&'a str>,
    path: &str,
    found: &mut dyn FnMut(&str, Option<&str>) -> Checked,
    cache: &str,
) -> Checked {
    for (i, s) in steps.iter().enumerate() {
        let at = format!("{path}.{i}");
        match s {
            StepSpec::Call(svc) => on = Some(svc.as_str()),
            StepSpec::Get(c) if c == cache => found(&at, on)?,
            StepSpec::Parallel { branches, .. } => {
                for (b, branch) in branches.iter().enumerate() {
                    runs_on(branch, on, &format!("{at}.branches.{b}"), found, cache)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}
