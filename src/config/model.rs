//! What a system IS, as written in `models/*.ron`: its components and their parameters.
//!
//! These are the raw serde structs: unknown fields are errors, every duration carries
//! its unit. Cross-field rules are checked in `resolve`.

use super::distribution::DistSpec;
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
    /// The pool of identical app nodes.
    pub nodes: NodesSpec,
}

/// The load balancer: how it picks a node for each attempt.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Balancer")]
#[serde(deny_unknown_fields)]
pub struct BalancerSpec {
    /// The policy that picks a node.
    #[serde(default)]
    pub policy: PolicySpec,
}

/// Load-balancing policies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicySpec {
    /// Each node in turn.
    #[default]
    RoundRobin,
    /// A uniformly random healthy node.
    Random,
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
    /// How long one request keeps a worker busy.
    pub service: DistSpec,
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
