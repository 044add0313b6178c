//! Running a sweep: every (point, variant, replication) of the chosen shard that the
//! journal does not already hold, one whole single-threaded simulation per rayon task, on
//! a pool of `--threads` threads; each finished run is appended to the journal at once.
//! When the folder's journal holds every run of the sweep, `runs.csv` and `points.csv` are
//! written from it.

use super::csv::write_results;
use super::journal::{self, Journal, Record};
use super::layout::{Manifest, RunId, Sweep};
use super::precision;
use super::shard::Shard;
use super::SweepError;
use crate::output::{create_dir, write_atomic};
use crate::run_config;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// The manifest's file name in a sweep's output folder.
pub const MANIFEST: &str = "sweep.json";

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Worker threads (`None`: one per core).
    pub threads: Option<usize>,
    /// The output folder.
    pub out: PathBuf,
    /// The slice of the runs to do.
    pub shard: Shard,
    /// Continue a folder that already holds some of the runs.
    pub resume: bool,
    /// Draw a progress bar on stderr (only ever drawn when stderr is a terminal).
    pub progress: bool,
}

/// What a sweep did.
#[derive(Clone, Debug)]
pub struct SweepReport {
    /// The output folder.
    pub out: PathBuf,
    /// Runs in the whole sweep (with a precision target and the sweep incomplete: the most
    /// it can take).
    pub total: usize,
    /// Runs of this shard now recorded.
    pub in_shard: usize,
    /// Runs of this shard the journal already held.
    pub already_done: usize,
    /// Runs done now.
    pub ran: usize,
    /// Journal lines dropped as torn or damaged (their runs were done again).
    pub dropped_lines: usize,
    /// Wall-clock seconds spent running.
    pub wall_seconds: f64,
    /// Whether the folder now holds every run and so `runs.csv` and `points.csv`.
    pub complete: bool,
    /// Threads used.
    pub threads: usize,
    /// When complete: each point's replications (and whether its precision target was met).
    pub progress: Option<Vec<precision::Progress>>,
}

/// Reads a folder's manifest, if it has one.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, SweepError> {
    let path = dir.join(MANIFEST);
    match std::fs::read_to_string(&path) {
        Ok(text) => Manifest::from_json(&text)
            .map(Some)
            .map_err(|why| SweepError::Input(format!("{}: {why}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SweepError::Input(format!(
            "{}: cannot read: {e}",
            path.display()
        ))),
    }
}

/// Reads a folder's journal and keeps the records that belong to `manifest`'s sweep;
/// a record that contradicts it is an error (the folder was written by another sweep).
pub fn read_records(dir: &Path, manifest: &Manifest) -> Result<(Vec<Record>, usize), SweepError> {
    let contents = journal::read(dir).map_err(|e| {
        SweepError::Input(format!(
            "{}: cannot read: {e}",
            dir.join(journal::FILE).display()
        ))
    })?;
    for r in &contents.records {
        let ok = r.run < manifest.total_runs() && {
            let id = manifest.locate(r.run);
            id.point == r.point
                && id.replication == r.replication
                && manifest.variants[id.variant] == r.variant
                && manifest.seed_of(id) == r.seed
                && manifest.config_hashes[id.point][id.variant] == r.config_hash
        };
        if !ok {
            return Err(SweepError::Input(format!(
                "{}: run {} (point {}, variant {}, replication {}, seed {}, config {}) does not belong to the sweep `{}`: the folder holds results of another sweep or configuration; choose another --out",
                dir.join(journal::FILE).display(),
                r.run,
                r.point,
                r.variant,
                r.replication,
                r.seed,
                r.config_hash,
                manifest.name
            )));
        }
    }
    Ok((contents.records, contents.dropped))
}

/// Adds `records` to `into`, keyed by run; the same run twice must hold the same results.
pub fn collect(
    into: &mut BTreeMap<usize, Record>,
    records: Vec<Record>,
    from: &Path,
) -> Result<(), SweepError> {
    for r in records {
        if let Some(old) = into.get(&r.run) {
            if !old.same_results(&r) {
                return Err(SweepError::Failed(format!(
                    "{}: run {} was recorded twice with different results: the simulation is not deterministic (a bug in scalesim)",
                    from.display(),
                    r.run
                )));
            }
            continue;
        }
        into.insert(r.run, r);
    }
    Ok(())
}

fn progress_bar(len: usize, enabled: bool) -> ProgressBar {
    let target = if enabled && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} runs · {rate} · {eta} left",
        )
        .expect("a valid template")
        .with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1} runs/s", s.per_sec());
            },
        )
        .progress_chars("=> "),
    );
    bar
}

/// Runs the runs of `opts.shard` that `opts.out` does not hold yet.
pub fn run_sweep(sweep: &Sweep, opts: &SweepOptions) -> Result<SweepReport, SweepError> {
    let m = &sweep.manifest;
    let dir = &opts.out;
    create_dir(dir)?;
    // One writer per folder: a second sweep (or run) aimed here refuses while this one runs.
    let _lock = crate::output::lock::FolderLock::acquire(dir)?;
    let (done, dropped) = match read_manifest(dir)? {
        Some(old) if !old.same_sweep(m) => {
            return Err(SweepError::Input(format!(
                "{} holds the results of another sweep (`{}`, or the same file with other values{}); choose another --out",
                dir.display(),
                old.name,
                if old.precision != m.precision {
                    ", or another --precision or --max-replications: give the same ones to resume"
                } else {
                    ""
                }
            )))
        }
        Some(_) => read_records(dir, m)?,
        None => (Vec::new(), 0),
    };
    if !opts.resume && (!done.is_empty() || dropped > 0) {
        return Err(SweepError::Input(format!(
            "{} already holds {} run(s) of this sweep: pass --resume to run only the missing ones, or choose another --out",
            dir.display(),
            done.len()
        )));
    }
    write_atomic(&dir.join(MANIFEST), m.to_json().as_bytes())?;
    let mut have = BTreeMap::new();
    collect(&mut have, done, dir)?;
    if dropped > 0 {
        // Drop the torn tail before appending after it.
        let kept: Vec<Record> = have.values().cloned().collect();
        journal::rewrite(dir, &kept)?;
    }

    let in_shard = |id: &RunId| m.in_shard(opts.shard, *id);
    let already_done = have.values().filter(|r| in_shard(&m.locate(r.run))).count();

    let pool = {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(n) = opts.threads {
            b = b.num_threads(n);
        }
        b.build()
            .map_err(|e| SweepError::Failed(format!("cannot start the worker threads: {e}")))?
    };
    let threads = pool.current_num_threads();
    let journal = Journal::open(dir).map_err(|source| crate::output::OutputError {
        path: dir.join(journal::FILE),
        source,
    })?;
    let bar = progress_bar(0, opts.progress);
    let failures: Mutex<Vec<(RunId, String)>> = Mutex::new(Vec::new());
    let write_error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let started = Instant::now();
    let mut ran = 0;
    // Rounds: the runs the sweep needs next (all of them; or with a precision target each
    // unfinished point's next batch, decided from its finished batches alone), in parallel.
    loop {
        let todo: Vec<RunId> = precision::missing(m, &have)?
            .into_iter()
            .filter(in_shard)
            .collect();
        if todo.is_empty() {
            break;
        }
        bar.inc_length(todo.len() as u64);
        let finished: Mutex<Vec<Record>> = Mutex::new(Vec::new());
        pool.install(|| {
            todo.par_iter().with_max_len(1).for_each(|&id| {
                if crate::interrupt::requested() {
                    return; // Ctrl-C: start nothing new; --resume runs what is missing.
                }
                let cfg = sweep.config(id);
                match run_config(&cfg) {
                    // An interrupted run is not a result: it stays missing, so --resume redoes it.
                    Ok(out)
                        if out.summary.stopped_reason.as_deref()
                            == Some(crate::interrupt::STOPPED_REASON) => {}
                    Ok(out) => {
                        let rec = Record::of_run(id, &cfg, &out.summary);
                        match journal.append(&rec) {
                            Ok(()) => finished.lock().unwrap_or_else(|e| e.into_inner()).push(rec),
                            Err(e) => {
                                write_error
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .get_or_insert(e);
                            }
                        }
                    }
                    Err(e) => failures
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((id, e.to_string())),
                }
                bar.inc(1);
            })
        });
        ran += todo.len();
        let finished = finished.into_inner().unwrap_or_else(|e| e.into_inner());
        collect(&mut have, finished, dir)?;
        let stop = crate::interrupt::requested()
            || !failures
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
            || write_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some();
        if stop {
            break;
        }
    }
    bar.finish_and_clear();
    let wall_seconds = started.elapsed().as_secs_f64();
    drop(journal);
    if let Some(source) = write_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(crate::output::OutputError {
            path: dir.join(journal::FILE),
            source,
        }
        .into());
    }
    if crate::interrupt::requested() {
        let (records, _) = read_records(dir, m)?;
        return Err(SweepError::Interrupted(format!(
            "interrupted: {} of {}{} run(s) are recorded in {}; run the same command with --resume to finish",
            records.len(),
            if m.precision.is_some() { "at most " } else { "" },
            m.total_runs(),
            dir.display()
        )));
    }
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    if !failures.is_empty() {
        failures.sort_by_key(|(id, _)| id.run);
        let lines: Vec<String> = failures
            .iter()
            .take(5)
            .map(|(id, e)| {
                format!(
                    "  run {} (point {}, variant {}, replication {}): {e}\n    reproduce: {}",
                    id.run,
                    id.point,
                    m.variants[id.variant],
                    id.replication,
                    m.reproduce(*id)
                )
            })
            .collect();
        return Err(SweepError::Failed(format!(
            "error: {} run(s) failed (the others are in {}; --resume retries the failed ones):\n{}",
            failures.len(),
            dir.join(journal::FILE).display(),
            lines.join("\n")
        )));
    }

    // The final files come from the journal, exactly as `merge` would write them.
    let (records, _) = read_records(dir, m)?;
    let mut all = BTreeMap::new();
    collect(&mut all, records, dir)?;
    let complete = precision::missing(m, &all)?.is_empty();
    let progress = if complete {
        let progress = precision::all_progress(m, &all)?;
        write_results(dir, m, &all, &progress)?;
        Some(progress)
    } else {
        None
    };
    let in_shard_now = all.values().filter(|r| in_shard(&m.locate(r.run))).count();
    Ok(SweepReport {
        out: dir.clone(),
        total: if complete { all.len() } else { m.total_runs() },
        in_shard: in_shard_now,
        already_done,
        ran,
        dropped_lines: dropped,
        wall_seconds,
        complete,
        threads,
        progress,
    })
}
