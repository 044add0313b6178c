//! scalesim: a deterministic discrete-event simulator of a horizontally scaled web system.
//!
//! Data flows one way: files → validated configuration ([`config`]) → one simulation per
//! (experiment, variant, seed) ([`system`], on the [`engine`]) → [`metrics`] → summaries,
//! CSV and tables ([`output`]). The same seed always gives the same bytes. Parameter sweeps,
//! shards and capacity plans run many such simulations in parallel ([`sweep`]).

pub mod claims;
pub mod cli;
pub mod config;
pub mod engine;
pub mod interrupt;
pub mod metrics;
pub mod output;
pub mod report;
pub mod sweep;
pub mod system;
pub mod validate;

pub use config::{load_experiment, ConfigError, Experiment, RunConfig};
pub use metrics::Summary;
pub use system::{RunOutput, Simulation};

/// Runs one configuration to its end.
pub fn run_config(cfg: &RunConfig) -> Result<RunOutput, system::InvariantViolation> {
    Simulation::new(cfg).run(cfg)
}
