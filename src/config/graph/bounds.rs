//! The sizes a graph model may reach. Each multiplies the memory or the time of a run
//! (per-instance state and columns, steps walked per request, branches in flight, message
//! partitions) or of its validation, and is refused past its bound with the bound, the
//! reason and how to go beyond it. Memory as a whole is bounded separately, by the estimate
//! against `limits.max_memory_mb` (see `config::budget`).

/// Instances of one service (as the single-tier form's 1,000 nodes): each has its own
/// state, queue and time-series columns.
pub const MAX_INSTANCES_PER_SERVICE: u32 = 1000;

/// Instances of all services together.
pub const MAX_INSTANCES: u64 = 10_000;

/// Workers of one service instance or of one database.
pub const MAX_WORKERS: u32 = 100_000;

/// Steps in one request kind's path, those inside `Parallel` branches included: a request
/// walks them one event at a time.
pub const MAX_PATH_STEPS: usize = 256;

/// `Parallel` steps nested inside each other.
pub const MAX_PARALLEL_DEPTH: usize = 8;

/// Branches of one `Parallel` step: each is in flight at once.
pub const MAX_BRANCHES: usize = 64;

/// Partitions of one queue topic: each keeps its own log and consumer position.
pub const MAX_PARTITIONS: u32 = 4096;

/// Request kinds (paths) in one model.
pub const MAX_REQUEST_KINDS: usize = 1000;

/// Client populations in one experiment: each has its own generator, retry state and
/// figures.
pub const MAX_POPULATIONS: usize = 100;

/// Requests in one `Burst`.
pub const MAX_BURST: u32 = 100_000_000;

/// Components of one kind (databases, caches, counters, topics) in one model: each has
/// its own state and columns.
pub const MAX_COMPONENTS: usize = 1000;

/// The longest name of a component, request kind or population: it becomes a column name,
/// a field path and part of file names.
pub const MAX_NAME_CHARS: usize = 64;

/// How to go beyond a bound that protects the simulator's own data structures: the
/// constant in this file, and a rebuild.
pub fn raise(constant: &str) -> String {
    format!("the bound is `{constant}` in src/config/graph/bounds.rs; raise it there and rebuild if the machine can hold it")
}
