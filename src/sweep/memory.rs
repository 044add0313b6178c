//! A sweep run in memory, in the rounds `scalesim sweep` runs (with a precision target, batch
//! after batch until each point is precise), on a pool of `threads` threads, with
//! the records kept instead of journaled (for the Python package, which turns them into
//! data frames). The records are the ones `scalesim sweep` would journal, bit for bit:
//! the same configurations on the same seeds.

use super::journal::Record;
use super::layout::{RunId, Sweep};
use super::precision;
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
    let mut records = BTreeMap::new();
    // Rounds, as `scalesim sweep` runs them: every run, or with a precision target each
    // unfinished point's next batch, decided from its finished batches alone.
    loop {
        let todo: Vec<RunId> = precision::missing(m, &records)?;
        if todo.is_empty() {
            break;
        }
        if crate::interrupt::requested() {
            return Err(SweepError::Interrupted("interrupted".into()));
        }
        let results: Vec<Result<Record, String>> = pool.install(|| {
            todo.par_iter()
                .with_max_len(1)
                .map(|&id| {
                    let cfg = sweep.config(id);
                    let out = run_config(&cfg).map_err(|e| {
                        format!(
                            "run {} (point {}, variant {}, replication {}): {e}\n    reproduce: {}",
                            id.run,
                            id.point,
                            cfg.variant,
                            id.replication,
                            m.reproduce(id)
                        )
                    })?;
                    Ok(Record::of_run(id, &cfg, &out.summary))
                })
                .collect()
        });
        for r in results {
            let r = r.map_err(|e| SweepError::Failed(format!("error: {e}")))?;
            records.insert(r.run, r);
        }
    }
    Ok(records)
}
