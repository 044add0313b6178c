//! What a system IS, as written in `models/*.ron`: its components and their parameters.
//!
//! These are the raw serde structs: unknown fields are errors, every duration carries
//! its unit. Cross-field rules are checked in `resolve` (the single-tier form) and in
//! `graph::validate` (the graph form), with the rules they share in `rules`.

use super::distribution::DistSpec;
use super::duration::Duration;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A whole system design: `System(balancer: …, nodes: …)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "System")]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// One line saying what this design is (shown by `scalesim list`).
    #[serde(default)]
    pub description: String,
    /// The load balancer in front of the app nodes.
    #[serde(default)]
    pub balancer: BalancerSpec,
    /// The pool of identical app nodes (the single-tier form; a graph model has `services`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<NodesSpec>,
    /// A downstream service every request calls (a database, a payment API), if any.
    #[serde(default)]
    pub dependency: Option<DependencySpec>,
    /// Whether a client's deadline travels with its request: when set, work for a client
    /// that has given up is cancelled (at the node and downstream) instead of finished.
    #[serde(default)]
    pub propagate_deadlines: bool,
    /// Adds and removes nodes by a metric, if present.
    #[serde(default)]
    pub autoscaler: Option<AutoscalerSpec>,
    /// Price of one node for one hour, for the cost figure.
    #[serde(default = "default_price")]
    pub price_per_node_hour: f64,
    /// Where user sessions live, if users log in (needs a `Users` workload).
    #[serde(default)]
    pub sessions: Option<SessionsSpec>,
    /// A look-aside cache in front of the dependency (the database), if any.
    #[serde(default)]
    pub cache: Option<CacheSpec>,
    /// A counter some requests increment under row locks (failed logins, a rate limit).
    #[serde(default)]
    pub locks: Option<LocksSpec>,
    /// The graph form: named services (see `config::graph`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub services: IndexMap<String, super::graph::ServiceSpec>,
    /// Named databases.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub databases: IndexMap<String, super::graph::DatabaseSpec>,
    /// Named caches, each in front of a named database.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub caches: IndexMap<String, super::graph::GraphCacheSpec>,
    /// Named counter rows, each living in a named database.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub counters: IndexMap<String, super::graph::CounterRowsSpec>,
    /// Named message-queue topics.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub queues: IndexMap<String, super::graph::TopicSpec>,
    /// Request kinds, each a path of steps.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub requests: IndexMap<String, Vec<super::graph::StepSpec>>,
    /// Network delays between components.
    #[serde(default, skip_serializing_if = "super::graph::NetworkSpec::is_zero")]
    pub network: super::graph::NetworkSpec,
}

/// A counter that requests of one kind increment: one row, sharded rows, or batched writes,
/// with or without row locks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Locks")]
#[serde(deny_unknown_fields)]
pub struct LocksSpec {
    /// The request kind (a name in the workload's `mix`) whose requests increment the counter.
    pub kind: String,
    /// How the counter is stored.
    #[serde(default)]
    pub counter: CounterSpec,
    /// Increments take the row lock; without it, concurrent read-modify-writes lose updates.
    #[serde(default = "yes")]
    pub locking: bool,
    /// The write done under the lock (read the row, add one, write it back).
    pub write: DistSpec,
    /// A request waiting for a lock gives up after this long.
    pub wait_timeout: Duration,
    /// A holder that keeps a lock longer than this loses it (lease expiry); `None`: never.
    #[serde(default)]
    pub lease: Option<Duration>,
}

/// How a counter is stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum CounterSpec {
    /// One row: every increment waits for the same lock.
    #[default]
    Global,
    /// `buckets` rows; an increment picks one at random; the total is their sum.
    Sharded { buckets: u32 },
    /// Each node adds increments up in memory and writes the sum every `every` (one lock
    /// per node per period); a crash loses what was not yet written.
    Batched { every: Duration },
}

/// User sessions: users log in, make authenticated requests and log out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Sessions")]
#[serde(deny_unknown_fields)]
pub struct SessionsSpec {
    /// Where a session lives and how a request's session is checked.
    pub design: SessionDesign,
    /// Extra node work for a login (checking a password hash is slow on purpose).
    #[serde(default)]
    pub login_service: Option<DistSpec>,
    /// What a logout ends: this device's session, or (in a store) every device's.
    #[serde(default)]
    pub logout: LogoutScope,
    /// A login ends the person's sessions on their other devices (single-device login;
    /// needs a store).
    #[serde(default)]
    pub single_device: bool,
    /// The chance that a login attempt has a wrong password (checked on the node).
    #[serde(default)]
    pub failed_login_share: f64,
    /// Lock the account after this many failed logins in a row; `None`: never.
    #[serde(default)]
    pub lockout_after: Option<u32>,
    /// How long a locked account stays locked.
    #[serde(default = "default_lockout")]
    pub lockout_for: Duration,
}

fn default_lockout() -> Duration {
    Duration::from_secs(900)
}

/// What a logout ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogoutScope {
    /// The session of the device that logs out.
    #[default]
    ThisDevice,
    /// Every session of the person ("log out of all devices"): the store deletes them all.
    AllDevices,
}

/// Session designs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum SessionDesign {
    /// The session lives in the memory of the node that created it; any other node rejects
    /// it, and a crash, restart or scale-in loses it. With `Sticky` balancing: sticky sessions.
    InMemory,
    /// Sessions live in a shared store that every node reads on every authenticated request.
    Externalized {
        /// The store: its capacity and latency.
        store: StoreSpec,
        /// What a node does when the store cannot answer.
        #[serde(default)]
        on_outage: OutagePolicy,
    },
    /// A signed token, verified locally with no lookup; valid until it expires. A logout
    /// cannot revoke it unless nodes check a revocation list in the store (a store read).
    SignedToken {
        /// How long a token is valid after login.
        ttl: Duration,
        /// The store holding the revocation list, when nodes check it.
        #[serde(default)]
        revocation_list: Option<StoreSpec>,
    },
}

/// What a node does with an authenticated request when the session store is down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutagePolicy {
    /// Reject it: everyone is logged out while the store is down.
    #[default]
    FailClosed,
    /// Accept it unchecked: nobody is logged out, but a revoked session gets in.
    FailOpen,
}

/// A shared key-value store (Redis, a database table): workers, a queue, read and write times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Store")]
#[serde(deny_unknown_fields)]
pub struct StoreSpec {
    /// Operations it serves at once.
    pub workers: u32,
    /// Operations that may wait; `None` is unbounded.
    #[serde(default)]
    pub queue_limit: Option<u32>,
    /// Time of a read (a session lookup).
    pub read: DistSpec,
    /// Time of a write (a login or a logout).
    pub write: DistSpec,
    /// Read replicas: writes go to the primary (this store), reads may go to a replica, which
    /// sees a write only after its replication lag. `None`: everything on the primary.
    #[serde(default)]
    pub replicas: Option<ReplicasSpec>,
    /// Connections the store accepts at once (operations running or waiting, all servers);
    /// one more is refused. `None`: no limit.
    #[serde(default)]
    pub max_connections: Option<u32>,
    /// Writes in a login's transaction (the session row, an audit row, a last-login update…),
    /// done one after the other on the primary.
    #[serde(default = "one")]
    pub writes_per_login: u32,
}

/// Read replicas of a store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Replicas")]
#[serde(deny_unknown_fields)]
pub struct ReplicasSpec {
    /// How many replicas.
    pub count: u32,
    /// Workers of each replica.
    pub workers: u32,
    /// Time from a write's commit on the primary until the replicas show it.
    pub lag: DistSpec,
    /// Where reads go.
    #[serde(default)]
    pub reads: ReadRouting,
}

/// Where a store's reads go.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ReadRouting {
    /// Every read to the primary: always fresh, all the load on one server.
    Primary,
    /// Reads spread over the replicas: a read soon after a write may not see it (stale).
    #[default]
    Replicas,
    /// Read-your-writes: a user's reads go to the primary for `window` after that user's last
    /// write, to the replicas otherwise.
    ReadYourWrites { window: Duration },
}

impl ModelSpec {
    /// The most nodes the system can ever have: the starting count, or the autoscaler's
    /// maximum when it may go higher. Node indices, per-node state and columns use it.
    pub fn max_nodes(&self) -> u32 {
        let count = self.nodes.as_ref().map_or(0, |n| n.count);
        match &self.autoscaler {
            Some(a) => a.max_nodes.max(count),
            None => count,
        }
    }

    /// The price of a node-hour when a model names none.
    pub fn default_price() -> f64 {
        0.10
    }

    /// Whether the model is written in the graph form (it names services).
    pub fn is_graph(&self) -> bool {
        !self.services.is_empty()
    }

    /// The single-tier model's nodes (validated present in the single-tier form).
    pub fn tier(&self) -> &NodesSpec {
        self.nodes
            .as_ref()
            .expect("validated: a single-tier model has nodes")
    }
}

fn default_price() -> f64 {
    ModelSpec::default_price()
}

/// The load balancer: how it picks a node for each attempt.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Balancer")]
#[serde(deny_unknown_fields)]
pub struct BalancerSpec {
    /// The policy that picks a node.
    #[serde(default)]
    pub policy: PolicySpec,
    /// Active health checks that take failing nodes out of rotation; `None`: the balancer
    /// keeps sending to every provisioned node, even one that is down.
    #[serde(default)]
    pub health_check: Option<HealthCheckSpec>,
    /// Slow start: a node that joins after the start gets a share of the traffic growing
    /// linearly from 0 to full over this long (its caches warm gradually); `None`: at once.
    #[serde(default)]
    pub slow_start: Option<Duration>,
}

/// Active health checks: every `every`, the balancer probes each node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "HealthCheck")]
#[serde(deny_unknown_fields)]
pub struct HealthCheckSpec {
    /// Time between two probes of a node.
    pub every: Duration,
    /// A probe not answered within this long fails.
    #[serde(default = "default_probe_timeout")]
    pub timeout: Duration,
    /// Consecutive failed probes that take a node out.
    #[serde(default = "default_unhealthy_after")]
    pub unhealthy_after: u32,
    /// Consecutive good probes that put it back.
    #[serde(default = "default_healthy_after")]
    pub healthy_after: u32,
    /// What the probe checks: `Liveness` (the process answers) or `Errors` (it also fails
    /// when the node's recent requests mostly failed, as a deep health check would).
    #[serde(default)]
    pub kind: ProbeKind,
}

fn default_probe_timeout() -> Duration {
    Duration::from_secs(1)
}
fn default_unhealthy_after() -> u32 {
    3
}
fn default_healthy_after() -> u32 {
    2
}

/// What a health probe checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProbeKind {
    /// The node's process answers (a shallow `/health`): a fast-failing node passes.
    Liveness,
    /// The node answers and its recent requests mostly succeeded (a deep check).
    #[default]
    Errors,
}

/// Load-balancing policies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PolicySpec {
    /// Each node in turn.
    #[default]
    RoundRobin,
    /// A uniformly random healthy node.
    Random,
    /// The node pinned to the user (by user id); re-pinned when that node is gone.
    Sticky,
    /// Consistent hashing of the user id onto a ring with `vnodes` points per node.
    ConsistentHash {
        /// Virtual nodes per node on the ring.
        vnodes: u32,
    },
    /// The node with the fewest requests in progress (queued or in service).
    LeastConnections,
    /// Two random nodes, the less loaded of them.
    PowerOfTwoChoices,
}

/// The app nodes: identical servers, each a pool of workers with a queue in front.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Nodes")]
#[serde(deny_unknown_fields)]
pub struct NodesSpec {
    /// How many nodes run at the start.
    pub count: u32,
    /// Requests a node serves at once (its worker threads).
    pub workers: u32,
    /// Requests that may wait for a worker; `None` is an unbounded queue.
    #[serde(default)]
    pub queue_limit: Option<u32>,
    /// What a full queue does with one more request.
    #[serde(default)]
    pub queue_full: QueueFullSpec,
    /// Which waiting request a free worker takes.
    #[serde(default)]
    pub discipline: DisciplineSpec,
    /// How long one request keeps a worker busy (its own work, not counting downstream calls).
    pub service: DistSpec,
    /// Service time of particular request kinds (names from the workload's `mix`).
    #[serde(default)]
    pub service_by_kind: IndexMap<String, DistSpec>,
    /// Drop a waiting request whose client has already given up, when a worker would take it.
    #[serde(default)]
    pub deadline_check: bool,
    /// Service time grows with load (e.g. garbage-collection pressure), if set.
    #[serde(default)]
    pub slowdown: Option<SlowdownSpec>,
    /// Time from a (re)start or a scale-out until the node accepts traffic.
    #[serde(default)]
    pub startup: Duration,
    /// A freshly started node is slower for a while (cold caches, JIT), if set.
    #[serde(default)]
    pub cold_start: Option<ColdStartSpec>,
    /// Connections each node may hold to the dependency; a worker waits for a free one.
    #[serde(default)]
    pub dependency_pool: Option<u32>,
}

/// Load-dependent slowdown: service time × min(max_factor, 1 + per_busy_worker × busy
/// workers + per_queued × queued requests), sampled when service starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Slowdown")]
#[serde(deny_unknown_fields)]
pub struct SlowdownSpec {
    /// Extra service time per busy worker, as a fraction (0.01 = +1% per busy worker).
    #[serde(default)]
    pub per_busy_worker: f64,
    /// Extra service time per queued request, as a fraction.
    #[serde(default)]
    pub per_queued: f64,
    /// The largest factor the slowdown reaches.
    #[serde(default = "default_max_factor")]
    pub max_factor: f64,
}

fn default_max_factor() -> f64 {
    10.0
}

/// A cold node serves `factor` times slower at first, recovering linearly over `lasting`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "ColdStart")]
#[serde(deny_unknown_fields)]
pub struct ColdStartSpec {
    /// Service-time multiplier right after start-up.
    pub factor: f64,
    /// Time over which it falls back to 1.
    pub lasting: Duration,
}

/// A downstream dependency shared by all nodes: a pool of workers with a queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Dependency")]
#[serde(deny_unknown_fields)]
pub struct DependencySpec {
    /// Requests it serves at once.
    pub workers: u32,
    /// Requests that may wait; `None` is unbounded.
    #[serde(default)]
    pub queue_limit: Option<u32>,
    /// Service time of one call.
    pub service: DistSpec,
    /// Drop a waiting call whose deadline has passed (only when deadlines propagate).
    #[serde(default = "yes")]
    pub deadline_check: bool,
}

fn yes() -> bool {
    true
}

/// The autoscaler: every `every`, compares a metric averaged over `window` with thresholds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Autoscaler")]
#[serde(deny_unknown_fields)]
pub struct AutoscalerSpec {
    /// What it watches.
    pub metric: ScaleMetric,
    /// Add nodes when the metric is above this (CPU: 0..1; latency: ms; queue: requests per node).
    pub scale_out_above: f64,
    /// Remove a node when the metric is below this.
    pub scale_in_below: f64,
    /// Time between two evaluations.
    #[serde(default = "default_every")]
    pub every: Duration,
    /// The metric is averaged over this much recent time.
    #[serde(default = "default_window")]
    pub window: Duration,
    /// After a change, no further change for this long.
    #[serde(default)]
    pub cooldown: Duration,
    /// Fewest nodes.
    pub min_nodes: u32,
    /// Most nodes.
    pub max_nodes: u32,
    /// Nodes added per scale-out.
    #[serde(default = "one")]
    pub step: u32,
    /// Time from the decision until the new node starts booting (then `nodes.startup`).
    #[serde(default)]
    pub provisioning: Duration,
}

fn default_every() -> Duration {
    Duration::from_secs(10)
}
fn default_window() -> Duration {
    Duration::from_secs(30)
}
fn one() -> u32 {
    1
}

/// What the autoscaler watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScaleMetric {
    /// Busy share of the workers of the running nodes (0..1).
    Cpu,
    /// 99th percentile latency of recent successes, ms.
    LatencyP99,
    /// Requests waiting per running node.
    QueueLength,
}

/// What a full queue does with one more request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueueFullSpec {
    /// Refuse the newcomer at once (HTTP 503).
    #[default]
    Reject,
    /// Admit the newcomer and fail the request that has waited longest.
    DropOldest,
}

/// The order in which waiting requests are served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DisciplineSpec {
    /// First come, first served.
    #[default]
    Fifo,
    /// Newest first: under overload, serves the requests whose clients are still waiting.
    Lifo,
}

/// A look-aside cache in front of the database: a request looks its key up; a hit answers
/// from the cache, a miss queries the database and fills the cache with the answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Cache")]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    /// One cache shared by every node (`Shared`, like Redis) or one in each node's memory
    /// (`PerNode`: empty when the node starts).
    #[serde(default)]
    pub placement: CachePlacement,
    /// Keys one cache holds; when full, the least recently used key is evicted.
    pub capacity_keys: u32,
    /// How long a filled key stays valid.
    pub ttl: Duration,
    /// Share of the TTL drawn at random and taken off it (0: every key lives exactly `ttl`;
    /// 0.2: between 0.8 and 1 × `ttl`), so keys filled together do not expire together.
    #[serde(default)]
    pub ttl_jitter: f64,
    /// Time of a lookup that finds the key.
    pub hit: DistSpec,
    /// Time of a lookup that misses, before the database query; `None`: the same as `hit`.
    #[serde(default)]
    pub miss: Option<DistSpec>,
    /// The data requests ask for: how many keys and how popular each is.
    pub keys: KeysSpec,
    /// Share of data requests that write their key (a database query, then the key is
    /// invalidated in every cache).
    #[serde(default)]
    pub write_share: f64,
    /// Request coalescing: a miss for a key already being fetched (in the same cache) waits
    /// for that fetch instead of sending a second database query.
    #[serde(default)]
    pub coalescing: bool,
    /// Probabilistic early refresh (XFetch) with this beta (1 is the usual value): a hit
    /// close to its expiry refreshes the key from the database now and then, before it
    /// expires, so that a hot key rarely expires at all.
    #[serde(default)]
    pub early_refresh: Option<f64>,
    /// Per-node caches only: a node that starts (at scale-out or after a restart) starts
    /// with its cache filled with the hottest keys instead of empty.
    #[serde(default)]
    pub prewarm: bool,
    /// Leases (as in memcached): the first miss of a key takes a lease and fetches; a miss
    /// while the lease is out looks again after this long instead of querying. A write
    /// revokes the lease, so a fetch that raced the write does not fill the cache with the
    /// old value. `None`: no leases.
    #[serde(default)]
    pub lease_retry: Option<Duration>,
}

/// Where the cache lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CachePlacement {
    /// One cache for all nodes.
    #[default]
    Shared,
    /// One cache per node, in its memory.
    PerNode,
}

/// The key space: `count` keys, numbered by popularity (key 0 is the hottest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Keys")]
#[serde(deny_unknown_fields)]
pub struct KeysSpec {
    /// Number of distinct keys.
    pub count: u32,
    /// How requests spread over the keys.
    #[serde(default)]
    pub popularity: Popularity,
}

/// How requests spread over keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Popularity {
    /// Every key equally often.
    #[default]
    Uniform,
    /// Key k (from 0) is asked for in proportion to 1 / (k + 1)^s: a few hot keys, a long
    /// tail (s around 1 for web content).
    Zipf {
        /// The exponent (0 is uniform; larger is more skewed).
        s: f64,
    },
}
