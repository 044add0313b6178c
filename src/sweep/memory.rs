//! A sweep run in memory: every run of every point, on a pool of `threads` threads, with
//! the records kept instead of journaled (for the Python package, which turns them into
//! data frames). The records are the ones `scalesim sweep` would journal, bit for bit:
//! the same configurations on the same seeds.

use super::journal::Record;
use super::layout::Sweep;
use super::SweepError;
use crate::run_config;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Runs the whole sweep and returns one record per run, keyed by canonical run index.
pub fn run_in_memory(
    sweep: &Sweep,
    threads: Option<usize>,
) -> Result<BTreeMap<usize, Record>, SweepError> {
    let m = &sweep.manifest;
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        pool = pool.num_threads(n);
    }
    let pool = pool
        .build()
        .map_err(|e| SweepError::Failed(format!("cannot start the worker threads: {e}")))?;
    let results: Vec<Result<Record, String>> = pool.install(|| {
        (0..m.total_runs())
            .into_par_iter()
            .with_max_len(1)
            .map(|run| {
                let id = m.locate(run);
                let cfg = sweep.config(id);
                let out = run_config(&cfg).map_err(|e| {
                    format!(
                        "run {run} (point {}, variant {}, replication {}): {e}\n    reproduce: {}",
                        id.point,
                        cfg.variant,
                        id.replication,
                        m.reproduce(id)
                    )
                })?;
                Ok(Record {
                    run,
                    point: id.point,
                    variant: cfg.variant.clone(),
                    replication: id.replication,
                    seed: cfg.seed(),
                    figures: out.summary.figures(),
                })
            })
            .collect()
    });
    let mut records = BTreeMap::new();
    for r in results {
        let r = r.map_err(|e| SweepError::Failed(format!("error: {e}")))?;
        records.insert(r.run, r);
    }
    Ok(records)
}
