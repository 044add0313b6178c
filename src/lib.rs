//! scalesim: a deterministic discrete-event simulator of a horizontally scaled web system.
//!
//! Data flows one way: files → validated configuration ([`config`]) → one simulation per
//! (experiment, variant, seed) ([`graph`], on the [`engine`]) → [`metrics`] → summaries,
//! CSV and tables ([`output`]). The same seed always gives the same bytes. Parameter sweeps,
//! shards and capacity plans run many such simulations in parallel ([`sweep`]).

pub mod claims;
pub mod cli;
pub mod config;
pub mod engine;
pub mod graph;
pub mod interrupt;
pub mod metrics;
pub mod output;
pub mod report;
pub mod sweep;
pub mod validate;

pub use config::{load_experiment, ConfigError, Experiment, RunConfig};
pub use graph::output::{InvariantViolation, RunOutput};
pub use metrics::Summary;

/// Runs one configuration to its end.
pub fn run_config(cfg: &RunConfig) -> Result<RunOutput, InvariantViolation> {
    run_config_traced(cfg, None)
}

/// Runs one configuration to its end, tracing `trace` sampled requests if given (the
/// trace is in [`RunOutput::trace`]).
pub fn run_config_traced(
    cfg: &RunConfig,
    trace: Option<u32>,
) -> Result<RunOutput, InvariantViolation> {
    let options = graph::RunOptions {
        trace,
        ..Default::default()
    };
    run_config_with(cfg, options)
}

/// Runs one configuration to its end, recording what `options` asks for beyond the
/// summary and the time series (a trace, batch means, the request log).
pub fn run_config_with(
    cfg: &RunConfig,
    options: graph::RunOptions,
) -> Result<RunOutput, InvariantViolation> {
    if cfg.model.is_graph() {
        // The graph engine (named services, databases, caches, …).
        return graph::run_with(cfg, options);
    }
    // A single-tier model is shorthand for a graph: it runs as that graph.
    let g = single_tier_graph(cfg)?;
    graph::run_single_tier_with(cfg, &g, options)
}

/// The graph the single-tier configuration `cfg` is shorthand for
/// ([`config::shorthand::as_graph`]). Every valid single-tier configuration translates; one
/// that does not is a bug in scalesim, reported as such rather than run otherwise.
pub fn single_tier_graph(cfg: &RunConfig) -> Result<RunConfig, InvariantViolation> {
    config::shorthand::as_graph(cfg).map_err(|e| {
        InvariantViolation(format!(
            "the single-tier configuration of variant {} (seed {}) has no graph form: {e}",
            cfg.variant,
            cfg.seed()
        ))
    })
}

/// Why the runs of an experiment did not all finish.
#[derive(Debug)]
pub enum RunError {
    /// A variant's run broke an invariant (a bug in scalesim).
    Violation {
        /// The variant's name.
        variant: String,
        /// What broke.
        error: InvariantViolation,
    },
    /// A variant's outputs could not be written.
    Output(output::OutputError),
}

/// Runs every variant of `exp` on its seed, in parallel (one whole single-threaded
/// simulation per rayon task), and returns their outputs in variant order. `each` sees
/// every variant's output as soon as its run ends: `scalesim run` writes the variant's
/// files there, so an interrupted command keeps every finished variant; the Python
/// package passes a no-op. With several failures, the first variant's is returned.
pub fn run_experiment<F>(exp: &Experiment, each: F) -> Result<Vec<RunOutput>, RunError>
where
    F: Fn(&RunConfig, &RunOutput) -> Result<(), output::OutputError> + Sync,
{
    run_experiment_traced(exp, None, each)
}

/// [`run_experiment`], tracing `trace` sampled requests in every variant if given.
pub fn run_experiment_traced<F>(
    exp: &Experiment,
    trace: Option<u32>,
    each: F,
) -> Result<Vec<RunOutput>, RunError>
where
    F: Fn(&RunConfig, &RunOutput) -> Result<(), output::OutputError> + Sync,
{
    use rayon::prelude::*;
    let results: Vec<Result<RunOutput, RunError>> = exp
        .runs
        .par_iter()
        .map(|cfg| {
            let out = run_config_traced(cfg, trace).map_err(|error| RunError::Violation {
                variant: cfg.variant.clone(),
                error,
            })?;
            each(cfg, &out).map_err(RunError::Output)?;
            Ok(out)
        })
        .collect();
    results.into_iter().collect()
}
