//! The graph form of a model: named services, databases, caches, counters and message
//! queues, and request kinds as paths of steps through them.
//!
//! ```ron
//! System(
//!     services: { "web": Service(instances: 4, workers: 32, service: Exp(mean: "8ms")) },
//!     databases: { "main": Database(workers: 16, read: Exp(mean: "4ms"), write: Exp(mean: "9ms")) },
//!     requests: { "browse": [Call("web"), Read("main")] },
//! )
//! ```
//!
//! A model is in the graph form when it names at least one service; the single-tier form
//! (`nodes: Nodes(…)`) is the older shorthand. Each spec lives in its own file beside the
//! rules that validate it.

pub mod autoscale;
pub mod bounds;
pub mod budget;
pub mod cache;
pub mod counter;
pub mod database;
pub mod network;
pub mod pool;
pub mod population;
pub mod queue;
pub mod replicas;
pub mod service;
pub mod sessions;
pub mod step;
pub mod validate;

pub use cache::GraphCacheSpec;
pub use counter::CounterRowsSpec;
pub use database::DatabaseSpec;
pub use network::NetworkSpec;
pub use pool::{QueueSpec, Slowdown};
pub use population::{PopulationSpec, PopulationWorkload};
pub use queue::TopicSpec;
pub use replicas::DbReplicas;
pub use service::{CallPolicy, ServiceSpec};
pub use sessions::{ServiceSessionDesign, ServiceSessionsSpec};
pub use step::{StepSpec, WaitFor};
