//! What HAPPENS to a system, as written in `experiments/*.ron`: which model, the workload,
//! duration, warm-up, seed, faults, parameter overrides and named variants.

use super::duration::Duration;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

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
    /// Where the requests come from.
    pub workload: WorkloadSpec,
    /// How clients wait for answers.
    #[serde(default)]
    pub clients: ClientsSpec,
    /// Faults injected at given simulated times.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Overrides applied to every variant: dotted path → value (as `--set` takes them).
    #[serde(default)]
    pub set: IndexMap<String, String>,
    /// Safety limits that end a run early instead of exhausting the machine.
    #[serde(default)]
    pub limits: LimitsSpec,
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
    /// Open-loop Poisson arrivals at a constant rate.
    Open {
        /// Mean arrivals per second.
        rate_per_s: f64,
        /// Stop generating after this many requests (the run then drains); `None`: no limit.
        #[serde(default)]
        max_requests: Option<u64>,
    },
}

/// How clients wait for answers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Clients")]
#[serde(deny_unknown_fields)]
pub struct ClientsSpec {
    /// A client gives up on an attempt after this long; `None` waits forever.
    #[serde(default)]
    pub timeout: Option<Duration>,
}

/// A fault injected at a simulated time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultSpec {
    /// The node (0-based index) crashes at `at`: its queued and running requests fail, and it
    /// refuses new ones until it restarts after `restart_after` (`None`: never).
    Crash {
        node: u32,
        at: Duration,
        #[serde(default)]
        restart_after: Option<Duration>,
    },
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
        }
    }
}
