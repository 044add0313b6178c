//! `scalesim merge DIR…`: combines the output folders of a sweep's shards into one folder
//! holding the same `runs.csv` and `points.csv` a single machine would have written (the
//! files are built from the journals' records in canonical order, as `sweep` builds them).

use super::csv::write_results;
use super::journal::{self, Record};
use super::layout::Manifest;
use super::precision;
use super::runner::{collect, read_manifest, read_records, MANIFEST};
use super::SweepError;
use crate::output::{create_dir, write_atomic};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a merge found and wrote.
#[derive(Clone, Debug)]
pub struct MergeReport {
    /// The sweep's manifest.
    pub manifest: Manifest,
    /// Runs found across the folders.
    pub runs: usize,
    /// Torn journal lines skipped.
    pub dropped_lines: usize,
}

/// Merges `dirs` into `out` (which may be one of them). Every run of the sweep must be
/// present in at least one folder.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<MergeReport, SweepError> {
    let mut manifest: Option<Manifest> = None;
    let mut all: BTreeMap<usize, Record> = BTreeMap::new();
    let mut dropped_lines = 0;
    for d in dirs {
        let m = read_manifest(d)?.ok_or_else(|| {
            SweepError::Input(format!(
                "{}: no {MANIFEST} here: not the output folder of `scalesim sweep`",
                d.display()
            ))
        })?;
        match &manifest {
            Some(first) if !first.same_sweep(&m) => {
                return Err(SweepError::Input(format!(
                "{} holds another sweep than {} (`{}` vs `{}`, or the same file with other values)",
                d.display(),
                dirs[0].display(),
                m.name,
                first.name
            )))
            }
            Some(_) => {}
            None => manifest = Some(m),
        }
        let m = manifest.as_ref().expect("set");
        let (records, dropped) = read_records(d, m)?;
        dropped_lines += dropped;
        collect(&mut all, records, d)?;
    }
    let manifest =
        manifest.ok_or_else(|| SweepError::Input("merge needs at least one folder".into()))?;
    let missing = precision::missing(&manifest, &all)?;
    if let Some(first) = missing.first() {
        let of_total = if manifest.precision.is_some() {
            "run(s) the sweep needs next".to_string()
        } else {
            format!("of the sweep's {} runs", manifest.total_runs())
        };
        return Err(SweepError::Input(format!(
            "{} {of_total} are in none of the folders (the first: run {}, point {}, variant {}, replication {}); merge the remaining shards too, or finish them with `scalesim sweep {} --shard I/N --resume --out DIR`",
            missing.len(),
            first.run,
            first.point,
            manifest.variants[first.variant],
            first.replication,
            manifest.sweep_file
        )));
    }
    let progress = precision::all_progress(&manifest, &all)?;
    create_dir(out)?;
    let _lock = crate::output::lock::FolderLock::acquire(out)?;
    write_atomic(&out.join(MANIFEST), manifest.to_json().as_bytes())?;
    let records: Vec<Record> = all.values().cloned().collect();
    journal::rewrite(out, &records)?;
    write_results(out, &manifest, &all, &progress)?;
    Ok(MergeReport {
        runs: all.len(),
        manifest,
        dropped_lines,
    })
}
