//! What HAPPENS to a system, as written in `experiments/*.ron`: which model, the workload,
//! duration, warm-up, seed, faults, parameter overrides and named variants.

use super::distribution::DistSpec;
use super::duration::Duration;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

fn one_device() -> u32 {
    1
}

fn default_seed() -> u64 {
    1
}

fn default_interval() -> Duration {
    Duration::from_secs(1)
}

/// A whole experiment file: `Experiment(duration: "10m", workload: …, …)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Experiment")]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// The experiment's name; defaults to the file name without `.ron`.
    #[serde(default)]
    pub name: Option<String>,
    /// What this experiment shows, in a sentence or two.
    #[serde(default)]
    pub description: String,
    /// The model file every variant starts from (relative to the experiment file or the
    /// current directory). A variant may name its own instead.
    #[serde(default)]
    pub model: Option<String>,
    /// Named designs run side by side on the same seeds; empty means one variant, "baseline".
    #[serde(default)]
    pub variants: IndexMap<String, VariantSpec>,
    /// Simulated time the run lasts.
    pub duration: Duration,
    /// Simulated time at the start whose requests are left out of latency figures.
    #[serde(default)]
    pub warmup: Duration,
    /// The run seed; every component's random stream derives from it and its own name.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The length of one row of `timeseries.csv`, in simulated time.
    #[serde(default = "default_interval")]
    pub metrics_interval: Duration,
    /// Where the requests come from (a single-tier model; a graph model has `populations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadSpec>,
    /// Named client populations, each with its workload, request mix, timeout and retries
    /// (a graph model only).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub populations: IndexMap<String, super::graph::PopulationSpec>,
    /// How clients wait for answers.
    #[serde(default)]
    pub clients: ClientsSpec,
    /// Faults injected at given simulated times.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Nodes failing at random (MTBF/MTTR), if set.
    #[serde(default)]
    pub random_failures: Option<RandomFailuresSpec>,
    /// Overrides applied to every variant: dotted path → value (as `--set` takes them).
    #[serde(default)]
    pub set: IndexMap<String, String>,
    /// Safety limits that end a run early instead of exhausting the machine.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// What the run shows, as claims checked on it (`"a.locks.lost_updates > 0"`; the
    /// language is in `src/claims`). They do not change the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<String>,
}

/// One design in a side-by-side comparison.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Variant")]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    /// The model file of this variant; defaults to the experiment's `model`.
    #[serde(default)]
    pub model: Option<String>,
    /// Overrides for this variant only, applied after the experiment's own `set`.
    #[serde(default)]
    pub set: IndexMap<String, String>,
}

/// Where requests come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum WorkloadSpec {
    /// Open-loop Poisson arrivals: they keep coming whatever the system does.
    Open {
        /// Mean arrivals per second at a load multiplier of 1.
        rate_per_s: f64,
        /// How the rate changes over time (a multiplier of `rate_per_s`).
        #[serde(default)]
        shape: ShapeSpec,
        /// Stop generating after this many requests (the run then drains); `None`: no limit.
        #[serde(default)]
        max_requests: Option<u64>,
        /// Request kinds and their shares (e.g. `{"browse": 0.9, "checkout": 0.1}`).
        #[serde(default)]
        mix: IndexMap<String, f64>,
    },
    /// A closed population: each user thinks, sends a request, waits for its outcome, repeats.
    Users {
        /// Users in the population.
        count: u32,
        /// Time between one request's outcome and the user's next request.
        think: DistSpec,
        /// Share of the users active over time (a multiplier of `count`, at most 1).
        #[serde(default)]
        shape: ShapeSpec,
        /// Request kinds and their shares.
        #[serde(default)]
        mix: IndexMap<String, f64>,
        /// With sessions: the chance that a logged-in user's next action is a logout.
        #[serde(default)]
        logout_share: f64,
        /// With sessions: the chance that, after logging out, the user's next action comes
        /// from a tab still open with the old session (before logging in again).
        #[serde(default)]
        stale_tab_share: f64,
        /// With sessions: devices per person (users are devices: person = user ÷ devices), so
        /// that one person can be logged in on a laptop and a phone at once.
        #[serde(default = "one_device")]
        devices: u32,
    },
}

/// A load multiplier over simulated time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ShapeSpec {
    /// Always 1.
    #[default]
    Constant,
    /// 1, then `factor` from `at` on.
    Step { at: Duration, factor: f64 },
    /// 1, `factor` from `at` for `lasting`, then 1 again.
    Spike {
        at: Duration,
        lasting: Duration,
        factor: f64,
    },
    /// From `from` at time zero to `to` at `over`, linearly, then `to`.
    Ramp { from: f64, to: f64, over: Duration },
    /// Piecewise-linear through (time, multiplier) points; flat before the first and after
    /// the last: a "Black Friday" curve.
    Piecewise { points: Vec<(Duration, f64)> },
}

/// How clients wait for answers and retry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Clients")]
#[serde(deny_unknown_fields)]
pub struct ClientsSpec {
    /// A client gives up on an attempt after this long; `None` waits forever.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Retries of failed attempts, if any.
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    /// Client-side adaptive throttling (Google SRE): refuse locally when the backend has
    /// been rejecting, with probability max(0, (requests − k·accepts) / (requests + 1)).
    #[serde(default)]
    pub throttle: Option<ThrottleSpec>,
    /// Attempts carry an idempotency key, so a node recognises a retry of work it has
    /// already done and answers from its record instead of doing it again.
    #[serde(default)]
    pub idempotency_keys: bool,
}

/// Retries: how many, how long between them, and how many the client may spend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Retry")]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Attempts in all, the first included (1 = no retries).
    pub max_attempts: u32,
    /// Wait before a retry.
    #[serde(default)]
    pub backoff: BackoffSpec,
    /// Randomisation of that wait.
    #[serde(default)]
    pub jitter: JitterSpec,
    /// A limit on retries across all clients, if any.
    #[serde(default)]
    pub budget: Option<BudgetSpec>,
}

/// Wait before retry number n (n = 1 for the first retry).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum BackoffSpec {
    /// Retry at once.
    #[default]
    None,
    /// Always the same wait.
    Constant { delay: Duration },
    /// base × 2^(n−1), at most cap.
    Exponential { base: Duration, cap: Duration },
}

/// Randomisation of the backoff (AWS Architecture Blog's names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum JitterSpec {
    /// Exactly the backoff.
    #[default]
    None,
    /// Uniform on [0, backoff].
    Full,
    /// backoff/2 + uniform on [0, backoff/2].
    Equal,
    /// Uniform on [base, 3 × previous wait], at most cap.
    Decorrelated,
}

/// A retry budget shared by the clients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum BudgetSpec {
    /// A token bucket: each retry takes a token; tokens refill at `refill_per_s` up to `capacity`.
    TokenBucket { capacity: f64, refill_per_s: f64 },
    /// Retries may be at most `ratio` of first attempts (each first attempt earns `ratio` tokens).
    Ratio { ratio: f64 },
    /// A token bucket that earns `per_success` tokens for each success (not with time), up
    /// to `capacity`, and starts full: once the backend stops answering, retries stop too.
    EarnedPerSuccess { capacity: f64, per_success: f64 },
}

/// Client-side adaptive throttling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Throttle")]
#[serde(deny_unknown_fields)]
pub struct ThrottleSpec {
    /// The multiplier k (2 is the usual choice: throttle once half the requests are refused).
    pub k: f64,
    /// The window over which requests and accepts are counted.
    #[serde(default = "default_throttle_window")]
    pub window: Duration,
}

fn default_throttle_window() -> Duration {
    Duration::from_secs(60)
}

/// A fault injected at a simulated time. In a single-tier model `node` is a 0-based node
/// index; in a graph model a fault names its target (`service` and `instance`, `database`,
/// `cache`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultSpec {
    /// The node crashes at `at`: its queued and running requests fail, and it refuses
    /// connections until it restarts after `restart_after` (`None`: never).
    Crash {
        /// The single-tier model's node (0-based); a graph model names `service` instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<u32>,
        /// A graph model's service whose instance this is (with `instance`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        /// A graph model's database (instead of a service).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        /// The 0-based instance of `service`; with `FailRequests`, `None` is every instance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance: Option<u32>,
        at: Duration,
        #[serde(default)]
        restart_after: Option<Duration>,
    },
    /// The node serves `factor` times slower for `lasting`.
    Slow {
        /// The single-tier model's node (0-based); a graph model names `service` instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<u32>,
        /// A graph model's service whose instance this is (with `instance`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        /// A graph model's database (instead of a service).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        /// The 0-based instance of `service`; with `FailRequests`, `None` is every instance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance: Option<u32>,
        at: Duration,
        lasting: Duration,
        factor: f64,
    },
    /// The node keeps only `workers` of its workers for `lasting`.
    CutCapacity {
        /// The single-tier model's node (0-based); a graph model names `service` instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<u32>,
        /// A graph model's service whose instance this is (with `instance`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        /// A graph model's database (instead of a service).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        /// The 0-based instance of `service`; with `FailRequests`, `None` is every instance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance: Option<u32>,
        at: Duration,
        lasting: Duration,
        workers: u32,
    },
    /// The balancer cannot reach the node for `lasting`: attempts sent there get no answer.
    Partition {
        /// The single-tier model's node (0-based); a graph model names `service` instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<u32>,
        /// A graph model's service whose instance this is (with `instance`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        /// A graph model's database (instead of a service).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        /// The 0-based instance of `service`; with `FailRequests`, `None` is every instance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance: Option<u32>,
        at: Duration,
        lasting: Duration,
    },
    /// A share of requests fails fast (an error within a millisecond) for `lasting`, on one
    /// node or, with `node: None`, on all.
    FailRequests {
        /// The single-tier model's node (0-based; `None`: every node).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<u32>,
        /// A graph model's service whose instance this is (with `instance`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        /// A graph model's database (instead of a service).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        /// The 0-based instance of `service`; with `FailRequests`, `None` is every instance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance: Option<u32>,
        at: Duration,
        lasting: Duration,
        percent: f64,
    },
    /// The dependency stops answering for `lasting` (a lock, a GC pause, a failover).
    StallDependency { at: Duration, lasting: Duration },
    /// The session store is down for `lasting`: its calls fail at once.
    StoreOutage { at: Duration, lasting: Duration },
    /// The session store's replicas fall further behind: writes committed during `lasting`
    /// take `extra` longer to reach them.
    ReplicationLagSpike {
        at: Duration,
        lasting: Duration,
        extra: Duration,
    },
    /// The session store's primary fails at `at`: writes not yet on the replicas are lost
    /// when a replica is promoted, and writes fail for `lasting` (the failover time).
    PrimaryFailover { at: Duration, lasting: Duration },
    /// The first lock holder at or after `at` stalls for `stall` while holding its lock (a
    /// GC pause, a slow disk): everyone behind it waits, unless a lease takes the lock away.
    SlowLockHolder { at: Duration, stall: Duration },
    /// Every cache is emptied at once (a restart of the cache, a bad deploy).
    FlushCache { at: Duration },
    /// A graph model's database stops answering for `lasting`: its queries wait.
    Stall {
        database: String,
        at: Duration,
        lasting: Duration,
    },
    /// A graph model's cache (by name) is emptied at once.
    Flush { cache: String, at: Duration },
    /// A graph model's replicated database (by name) falls further behind: writes
    /// committed during `lasting` take `extra` longer to reach its replicas.
    LagSpike {
        database: String,
        at: Duration,
        lasting: Duration,
        extra: Duration,
    },
    /// A graph model's replicated database (by name) loses its primary at `at`: the writes
    /// not yet on the replicas are lost, and queries on the primary fail at once for
    /// `lasting` while a replica is promoted; reads on the replicas go on.
    Failover {
        database: String,
        at: Duration,
        lasting: Duration,
    },
}

/// Nodes that fail at random and are repaired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "RandomFailures")]
#[serde(deny_unknown_fields)]
pub struct RandomFailuresSpec {
    /// Time from a node's (re)start to its next failure.
    pub time_to_failure: DistSpec,
    /// Time from a failure to the restart.
    pub time_to_repair: DistSpec,
    /// In a graph experiment, the services whose instances fail (by name); empty: every
    /// service's. A single-tier experiment's nodes all fail, and it refuses this field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
}

/// Limits that end a run early with a `stopped_reason`, keeping the figures so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Limits")]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// The most requests in flight at once before the run is stopped as overloaded.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: u64,
    /// The most events a run may process before it is stopped; `None`: no limit.
    #[serde(default)]
    pub max_events: Option<u64>,
    /// The most events scheduled and not yet happened (e.g. the timeouts of requests that
    /// were rejected at once) before the run is stopped as overloaded: bounds the memory.
    #[serde(default = "default_max_pending_events")]
    pub max_pending_events: u64,
    /// The most memory a run may need, in MiB, as estimated before it starts from its
    /// sizes (users, sessions, cache keys, time-series rows, …; see `config::budget`): a
    /// configuration that would need more is refused instead of exhausting the machine.
    #[serde(default = "default_max_memory_mb")]
    pub max_memory_mb: u64,
    /// The most periodic events a run may schedule over its duration (metrics rows,
    /// autoscaler evaluations, health checks, batched lock flushes): bounds the time a
    /// tiny period (`every: "1ns"`) would cost.
    #[serde(default = "default_max_periodic_events")]
    pub max_periodic_events: u64,
}

fn default_max_memory_mb() -> u64 {
    super::budget::DEFAULT_MAX_MEMORY_MB
}

fn default_max_periodic_events() -> u64 {
    super::budget::DEFAULT_MAX_PERIODIC_EVENTS
}

fn default_max_pending_events() -> u64 {
    10_000_000
}

fn default_max_in_flight() -> u64 {
    2_000_000
}

impl Default for LimitsSpec {
    fn default() -> Self {
        LimitsSpec {
            max_in_flight: default_max_in_flight(),
            max_events: None,
            max_pending_events: default_max_pending_events(),
            max_memory_mb: default_max_memory_mb(),
            max_periodic_events: default_max_periodic_events(),
        }
    }
}
