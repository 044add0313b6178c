//! The result files, written from the journal's records in canonical order so that they
//! are byte-identical however the runs were scheduled, sharded or resumed.
//!
//! `runs.csv`: `point`, one column per axis (its dotted path), `variant`, `replication`,
//! `seed`, `config_hash`, then every summary figure. `points.csv`: `point`, the axes,
//! `variant`, `runs` (and with a precision target `precision_met`, 1 or 0), then for every figure `F`: `F_mean`, `F_sd`, `F_ci95_lo`,
//! `F_ci95_hi`, and with a baseline `F_diff_mean`, `F_diff_ci95_lo`, `F_diff_ci95_hi`
//! (paired: replication r of the variant minus replication r of the baseline, which ran
//! on the same seed) and `F_unpaired_ci95_lo`, `F_unpaired_ci95_hi` (Welch, for contrast).

use super::journal::Record;
use super::layout::Manifest;
use super::precision::Progress;
use super::stats::{paired_difference, unpaired_difference, Estimate};
use crate::output::{format_figure, write_atomic, OutputError};
use std::collections::BTreeMap;
use std::path::Path;

/// One CSV cell, quoted when it holds a comma, a quote or a line break (RFC 4180).
pub fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn row(cells: &[String]) -> String {
    let mut s = cells.join(",");
    s.push('\n');
    s
}

/// The figure names of all records in one stable order: each record's order, with names
/// that only some runs have slotted in after the name they follow in those runs (as
/// `comparison.csv` orders them).
pub fn figure_names(records: &[&Record]) -> Vec<String> {
    crate::output::figure_columns(records.iter().map(|r| r.figures.as_slice()))
}

fn value_of(r: &Record, name: &str) -> Option<f64> {
    r.figures.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// `runs.csv` and `points.csv` for a complete set of records (one per run, any order),
/// with each point's `progress` (how many replications it took).
pub fn results(
    manifest: &Manifest,
    records: &BTreeMap<usize, Record>,
    progress: &[Progress],
) -> (String, String) {
    // Only the replications each point needs (a journal never holds more, but a stray
    // record must not change the files).
    let ordered: Vec<&Record> = records
        .values()
        .filter(|r| r.replication < progress[r.point].replications)
        .collect();
    let names = figure_names(&ordered);
    let axes: Vec<String> = manifest.axes.iter().map(|a| cell(a)).collect();

    let mut runs = String::new();
    let mut header = vec!["point".to_string()];
    header.extend(axes.iter().cloned());
    header.extend(["variant", "replication", "seed", "config_hash"].map(String::from));
    header.extend(names.iter().map(|n| cell(n)));
    runs.push_str(&row(&header));
    for r in &ordered {
        let id = manifest.locate(r.run);
        let mut cells = vec![id.point.to_string()];
        cells.extend(manifest.points[id.point].iter().map(|v| cell(v)));
        cells.push(cell(&r.variant));
        cells.push(r.replication.to_string());
        cells.push(r.seed.to_string());
        cells.push(r.config_hash.clone());
        for n in &names {
            cells.push(value_of(r, n).map(format_figure).unwrap_or_default());
        }
        runs.push_str(&row(&cells));
    }

    let base = manifest.baseline_index();
    let mut points = String::new();
    let mut header = vec!["point".to_string()];
    header.extend(axes.iter().cloned());
    header.extend(["variant", "runs"].map(String::from));
    if manifest.precision.is_some() {
        header.push("precision_met".into());
    }
    for n in &names {
        let n = cell(n);
        for suffix in ["mean", "sd", "ci95_lo", "ci95_hi"] {
            header.push(format!("{n}_{suffix}"));
        }
        if base.is_some() {
            for suffix in [
                "diff_mean",
                "diff_ci95_lo",
                "diff_ci95_hi",
                "unpaired_ci95_lo",
                "unpaired_ci95_hi",
            ] {
                header.push(format!("{n}_{suffix}"));
            }
        }
    }
    points.push_str(&row(&header));
    // samples[variant][replication] of one figure at one point.
    let samples = |p: usize, v: usize, name: &str| -> Vec<Option<f64>> {
        (0..progress[p].replications)
            .map(|r| {
                records
                    .get(&manifest.run_index(p, v, r))
                    .and_then(|rec| value_of(rec, name))
            })
            .collect()
    };
    for (p, (values, done)) in manifest.points.iter().zip(progress).enumerate() {
        for (v, vname) in manifest.variants.iter().enumerate() {
            let mut cells = vec![p.to_string()];
            cells.extend(values.iter().map(|x| cell(x)));
            cells.push(cell(vname));
            let n_runs = (0..done.replications)
                .filter(|&r| records.contains_key(&manifest.run_index(p, v, r)))
                .count();
            cells.push(n_runs.to_string());
            if manifest.precision.is_some() {
                cells.push(u8::from(done.met).to_string());
            }
            for n in &names {
                let xs = samples(p, v, n);
                let present: Vec<f64> = xs.iter().flatten().copied().collect();
                let e = Estimate::of(&present);
                cells.extend([e.mean, e.sd, e.lo(), e.hi()].map(format_figure));
                if let Some(b) = base {
                    let bs = samples(p, b, n);
                    let d = paired_difference(&xs, &bs);
                    let bp: Vec<f64> = bs.iter().flatten().copied().collect();
                    let u = unpaired_difference(&present, &bp);
                    cells.extend([d.mean, d.lo(), d.hi(), u.lo(), u.hi()].map(format_figure));
                }
            }
            points.push_str(&row(&cells));
        }
    }
    (runs, points)
}

/// Writes `runs.csv` and `points.csv` into `dir` (each atomically).
pub fn write_results(
    dir: &Path,
    manifest: &Manifest,
    records: &BTreeMap<usize, Record>,
    progress: &[Progress],
) -> Result<(), OutputError> {
    let (runs, points) = results(manifest, records, progress);
    write_atomic(&dir.join("runs.csv"), runs.as_bytes())?;
    write_atomic(&dir.join("points.csv"), points.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(figs: &[&str]) -> Record {
        Record {
            run: 0,
            point: 0,
            variant: "v".into(),
            replication: 0,
            seed: 0,
            config_hash: String::new(),
            figures: figs.iter().map(|n| (n.to_string(), 0.0)).collect(),
        }
    }

    #[test]
    fn names_merge_in_a_stable_order() {
        let a = rec(&["x", "z"]);
        let b = rec(&["x", "y", "z", "w"]);
        assert_eq!(figure_names(&[&a, &b]), ["x", "y", "z", "w"]);
    }

    #[test]
    fn cells_are_quoted_when_needed() {
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("Exp(mean: \"5ms\")"), "\"Exp(mean: \"\"5ms\"\")\"");
        assert_eq!(cell("500"), "500");
    }
}
