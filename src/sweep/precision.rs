//! Replications until precise (`--precision 2%`, or `precision: Precision(…)` in the sweep
//! file): each point runs batches of replications until the 95% half-width of one figure is
//! within a share of its mean for every variant, or the point reaches `max_replications`.
//!
//! Determinism: the decision to add a batch to a point depends only on the figures of that
//! point's completed batches, read in replication order (never on timing, threads or the
//! other points), and the seeds are the usual (sweep seed, point, replication) ones. So the
//! runs a sweep ends up with — and its files — are the same for any thread count, any
//! interruption and resume, and (shards being split by point in this mode) any sharding.
//!
//! Without a precision target every point needs exactly `replications` runs; the same
//! functions answer both modes, so the runner and `merge` have one notion of "complete".

use super::journal::Record;
use super::layout::{Manifest, RunId};
use super::stats::Estimate;
use super::SweepError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The figure used when a precision target names none.
pub const DEFAULT_FIGURE: &str = "latency_ms_mean";
/// The most replications per point when the target does not say.
pub const DEFAULT_MAX_REPLICATIONS: u32 = 200;
/// The largest `max_replications` accepted: it multiplies a sweep's time.
pub const MAX_REPLICATIONS_LIMIT: u32 = 10_000;

/// A precision target as the manifest records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Precision {
    /// The summary figure whose interval must be narrow, e.g. `latency_ms_mean`.
    pub figure: String,
    /// The largest 95% half-width allowed, as a share of the mean (0.02: ±2%).
    pub within: f64,
    /// The most replications a point may take.
    pub max_replications: u32,
}

impl Precision {
    /// Checks a target for a sweep whose batches have `batch` replications; the error says
    /// which value is wrong and what is allowed.
    pub fn check(&self, batch: u32) -> Result<(), String> {
        if !(self.within > 0.0 && self.within < 1.0) {
            return Err(format!(
                "within: {} is not a share between 0 and 1 (0.02 asks for ±2%)",
                self.within
            ));
        }
        if self.figure.is_empty()
            || !self
                .figure
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(format!(
                "figure: `{}` is not a summary figure such as latency_ms_mean or wait_ms_mean",
                self.figure
            ));
        }
        if self.max_replications < batch {
            return Err(format!(
                "max_replications: {} is less than one batch ({batch} replications, the sweep's `replications`, at least 2)",
                self.max_replications
            ));
        }
        if self.max_replications > MAX_REPLICATIONS_LIMIT {
            return Err(format!(
                "max_replications: {} is more than the limit of {MAX_REPLICATIONS_LIMIT} per point; ask for a looser precision, or split the sweep's points into several sweeps",
                self.max_replications
            ));
        }
        Ok(())
    }

    /// Whether `xs` (one figure over a point's replications, in order) is precise enough.
    /// A missing or infinite value never is (the point goes on to `max_replications`).
    pub fn met_by(&self, xs: &[f64]) -> bool {
        if xs.iter().any(|x| !x.is_finite()) {
            return false;
        }
        let e = Estimate::of(xs);
        e.half_width <= self.within * e.mean.abs()
    }
}

/// Parses the `--precision` flag: `[FIGURE:]SHARE`, the share as `2%` or `0.02`.
/// Returns the figure (if named) and the share.
pub fn parse_flag(text: &str) -> Result<(Option<String>, f64), String> {
    let bad = |why: &str| {
        format!(
            "--precision {text}: {why}; write e.g. --precision 2% or --precision wait_ms_mean:1.5%"
        )
    };
    let (figure, share) = match text.rsplit_once(':') {
        Some((f, s)) => (Some(f.trim().to_string()), s.trim()),
        None => (None, text.trim()),
    };
    let within = match share.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => share.parse::<f64>(),
    }
    .map_err(|_| bad(&format!("`{share}` is not a share")))?;
    if !(within > 0.0 && within < 1.0) {
        return Err(bad("the share must be above 0 and below 100%"));
    }
    Ok((figure, within))
}

/// How far a point has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Replications the point needs so far (every variant runs the same ones).
    pub replications: u32,
    /// Whether they are all recorded and no further batch is due.
    pub complete: bool,
    /// With a precision target: whether it was met (`false` also while incomplete).
    pub met: bool,
}

fn figure_of(r: &Record, name: &str) -> Option<f64> {
    r.figures.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// The progress of `point`, from the records alone.
pub fn progress(
    m: &Manifest,
    records: &BTreeMap<usize, Record>,
    point: usize,
) -> Result<Progress, SweepError> {
    let mut n = m.replications;
    loop {
        let all_present = (0..m.variants.len())
            .all(|v| (0..n).all(|r| records.contains_key(&m.run_index(point, v, r))));
        if !all_present {
            return Ok(Progress {
                replications: n,
                complete: false,
                met: false,
            });
        }
        let Some(target) = &m.precision else {
            return Ok(Progress {
                replications: n,
                complete: true,
                met: false,
            });
        };
        let mut met = true;
        for v in 0..m.variants.len() {
            let mut xs = Vec::with_capacity(n as usize);
            for r in 0..n {
                let rec = &records[&m.run_index(point, v, r)];
                let x = figure_of(rec, &target.figure).ok_or_else(|| {
                    let names: Vec<&str> = rec.figures.iter().map(|(n, _)| n.as_str()).collect();
                    SweepError::Input(format!(
                        "precision: the summary has no figure `{}` (run {}, variant {}); it has: {}",
                        target.figure,
                        rec.run,
                        rec.variant,
                        names.join(", ")
                    ))
                })?;
                xs.push(x);
            }
            // Empty in every run of the first batch: a figure of a component this experiment
            // does not have (or an event that never happens), which no batch would fill.
            if n == m.replications && xs.iter().all(|x| x.is_nan()) {
                return Err(SweepError::Input(format!(
                    "precision: the figure `{}` is empty (NaN) in every run of point {point}, variant {}: this experiment has no such component, or it never happens; choose another figure",
                    target.figure, m.variants[v]
                )));
            }
            met &= target.met_by(&xs);
        }
        if met || n >= target.max_replications {
            return Ok(Progress {
                replications: n,
                complete: true,
                met,
            });
        }
        n = (n + m.replications).min(target.max_replications);
    }
}

/// Every point's progress, in point order.
pub fn all_progress(
    m: &Manifest,
    records: &BTreeMap<usize, Record>,
) -> Result<Vec<Progress>, SweepError> {
    (0..m.points.len())
        .map(|p| progress(m, records, p))
        .collect()
}

/// The runs the sweep needs next that `records` does not hold, in canonical order: every
/// missing run without a precision target; with one, the missing runs of each point's
/// current batch. Empty when the sweep is complete.
pub fn missing(m: &Manifest, records: &BTreeMap<usize, Record>) -> Result<Vec<RunId>, SweepError> {
    let mut out = Vec::new();
    for (p, pr) in all_progress(m, records)?.into_iter().enumerate() {
        if pr.complete {
            continue;
        }
        for v in 0..m.variants.len() {
            for r in 0..pr.replications {
                let i = m.run_index(p, v, r);
                if !records.contains_key(&i) {
                    out.push(m.locate(i));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        assert_eq!(parse_flag("2%").unwrap(), (None, 0.02));
        assert_eq!(parse_flag("0.05").unwrap(), (None, 0.05));
        assert_eq!(
            parse_flag("wait_ms_mean:1.5%").unwrap(),
            (Some("wait_ms_mean".into()), 0.015)
        );
        assert!(parse_flag("2").is_err());
        assert!(parse_flag("0%").is_err());
        assert!(parse_flag("x:fast").is_err());
    }

    #[test]
    fn met_when_the_half_width_is_within_the_share() {
        let p = Precision {
            figure: "f".into(),
            within: 0.02,
            max_replications: 10,
        };
        // mean 100, sd 1, n 4: half-width 3.182 / 2 = 1.59 < 2.
        assert!(p.met_by(&[99.0, 101.0, 99.0, 101.0]));
        // sd 4: half-width 6.4 > 2.
        assert!(!p.met_by(&[96.0, 104.0, 96.0, 104.0]));
        assert!(!p.met_by(&[1.0, f64::NAN]));
        assert!(!p.met_by(&[5.0]), "one run has no interval");
        assert!(p.met_by(&[0.0, 0.0]), "a constant zero is exact");
    }
}
