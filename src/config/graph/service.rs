//! A named service: identical instances behind a balancer, each a pool of workers.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::pool::{QueueSpec, Slowdown};
use crate::config::experiment::RetrySpec;
use crate::config::model::{BalancerSpec, ColdStartSpec};
use crate::config::{DistSpec, Duration};

/// A service: `Service(instances: 4, workers: 32, service: Exp(mean: "8ms"))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Service")]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Instances running from the start.
    pub instances: u32,
    /// Requests an instance works on at once (its worker threads). A worker is held
    /// from the start of the service's own work until the rest of the path answers.
    pub workers: u32,
    /// The queue in front of each instance's workers.
    #[serde(default)]
    pub queue: QueueSpec,
    /// How the service's balancer spreads calls over its instances.
    #[serde(default)]
    pub balancer: BalancerSpec,
    /// The service's own work on one request (before the rest of the path).
    pub service: DistSpec,
    /// The service's own work for particular request kinds.
    #[serde(default)]
    pub service_by_kind: IndexMap<String, DistSpec>,
    /// Service time grows with the instance's utilisation, if set.
    #[serde(default)]
    pub slowdown: Option<Slowdown>,
    /// Time from a restart until an instance accepts calls.
    #[serde(default)]
    pub startup: Duration,
    /// A freshly restarted instance is slower for a while, if set.
    #[serde(default)]
    pub cold_start: Option<ColdStartSpec>,
    /// Connections each instance keeps open to a database (by name); a worker that needs
    /// one waits for a free one. A database without an entry: no per-instance limit.
    #[serde(default)]
    pub connections: IndexMap<String, u32>,
    /// How this service's workers call other services (`Call` steps after it on a path):
    /// timeout and retries at this layer. `None`: wait for the answer, never retry.
    #[serde(default)]
    pub calls: Option<CallPolicy>,
}

/// A caller's policy for its calls to another service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Calls")]
#[serde(deny_unknown_fields)]
pub struct CallPolicy {
    /// A call is given up after this long; `None` waits for ever.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Retries of a failed call, if any.
    #[serde(default)]
    pub retry: Option<RetrySpec>,
}
