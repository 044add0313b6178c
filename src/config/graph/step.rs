//! A step of a request's path.

use serde::{Deserialize, Serialize};

/// One step of a request kind's path. The steps after a `Call` run on the called
/// service's worker (it holds the worker until they answer); the steps of a
/// `Parallel` branch run side by side on the current worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StepSpec {
    /// Call a service (by name): through its balancer to an instance's queue and worker.
    Call(String),
    /// Read from a database (by name).
    Read(String),
    /// Write to a database (by name).
    Write(String),
    /// Look a key up in a cache (by name); on a miss, read its database and fill it.
    Get(String),
    /// Increment a counter (by name): take the row lock, write in its database, unlock.
    Lock(String),
    /// Publish a message to a queue topic (by name); the step ends when it is stored.
    Produce(String),
    /// Run branches side by side and go on when `wait_for` of them have answered.
    Parallel {
        /// The branches, each a path of steps.
        branches: Vec<Vec<StepSpec>>,
        /// How many answers to wait for.
        #[serde(default)]
        wait_for: WaitFor,
    },
}

/// How many branches of a `Parallel` step must answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaitFor {
    /// Every branch (a failed branch fails the step).
    #[default]
    All,
    /// The first `k` to succeed (the step fails once fewer than `k` can still succeed).
    First(u32),
}
