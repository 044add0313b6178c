//! Parameter sweeps: a grid (or zip) of parameter values × the experiment's variants ×
//! seed replications, run in parallel (one whole single-threaded simulation per rayon
//! task), recorded run by run in a journal so nothing finished is lost, and summarised in
//! `runs.csv` (one row per run) and `points.csv` (mean, sd and 95% intervals per point,
//! and each variant's paired difference from the baseline).
//!
//! Determinism: a run's seed depends only on the sweep seed, its point and its replication
//! ([`seeds`]); the final files are written in canonical (point, variant, replication)
//! order from the journal, so they are byte-identical for any thread count, any sharding
//! (after [`merge`]) and any interruption followed by `--resume`.
//!
//! The files: [`spec`] (what a sweep file says), [`grid`] (axes → points), [`layout`]
//! (the validated sweep: points, variants, run indices), [`seeds`], [`shard`], [`journal`]
//! (the append-only record of finished runs), [`stats`], [`csv`] (the two result files),
//! [`runner`] (running with rayon and a progress bar), [`merge`] (combining shards) and
//! [`plan`] (capacity planning: the smallest node count that meets an objective).

pub mod csv;
pub mod grid;
pub mod journal;
pub mod layout;
pub mod memory;
pub mod merge;
pub mod plan;
pub mod runner;
pub mod seeds;
pub mod shard;
pub mod spec;
pub mod stats;

pub use layout::{is_sweep_text, load_sweep, Manifest, Sweep};
pub use merge::merge;
pub use runner::{run_sweep, SweepOptions, SweepReport};
pub use shard::Shard;

use crate::config::ConfigError;
use crate::output::OutputError;

/// Why a sweep, merge or plan could not finish.
#[derive(Debug)]
pub enum SweepError {
    /// A configuration problem (file, line and column named): bad input.
    Config(ConfigError),
    /// An output file or directory could not be written.
    Output(OutputError),
    /// Bad input that is not a configuration file (a flag, an output folder's contents).
    Input(String),
    /// Runs that failed (a bug in the simulator), or results that cannot be read back.
    Failed(String),
    /// Ctrl-C or a termination request: finished runs are recorded, the rest are missing.
    Interrupted(String),
}

impl std::fmt::Display for SweepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SweepError::Config(e) => write!(f, "{e}"),
            SweepError::Output(e) => write!(f, "{e}"),
            SweepError::Input(m) | SweepError::Failed(m) | SweepError::Interrupted(m) => {
                write!(f, "{m}")
            }
        }
    }
}

impl std::error::Error for SweepError {}

impl From<ConfigError> for SweepError {
    fn from(e: ConfigError) -> Self {
        SweepError::Config(e)
    }
}

impl From<OutputError> for SweepError {
    fn from(e: OutputError) -> Self {
        SweepError::Output(e)
    }
}

impl SweepError {
    /// The process exit code: 2 for bad input, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            SweepError::Config(_) | SweepError::Input(_) => 2,
            SweepError::Output(_) | SweepError::Failed(_) => 1,
            SweepError::Interrupted(_) => crate::interrupt::EXIT_CODE,
        }
    }
}
