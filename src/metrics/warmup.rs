//! The warm-up check: is the configured warm-up long enough to leave out the initial
//! transient? MSER-5 (White 1997; Franklin & White 2008) finds the truncation point of
//! the goodput and latency series; a warm-up shorter than either point is flagged.
//!
//! MSER-5 groups the series into batch means of 5 observations, Z_1..Z_k, and picks the
//! number of batches d to drop that minimises
//!
//!   MSER(d) = Σ_{j>d} (Z_j − Z̄_d)² / (k − d)²,  Z̄_d = mean of Z_{d+1..k},
//!
//! over the first half of the series (d ≤ k/2; the second half is too short to judge),
//! the smallest d on ties. The truncation point is 5·d observations. The statistic
//! trades the variance of what is kept against how much is kept: dropping an early
//! excursion lowers the variance by more than the shorter series raises it.
//!
//! The series analysed is the run from its start up to the first change the experiment
//! schedules (a fault, or a change of the load shape): a warm-up is about the initial
//! transient, and a scheduled change is the experiment's treatment, not a transient to
//! leave out. When the load changes from the start, or too little is left before the
//! first change, the check says so and flags nothing.
//!
//! Its resolution is one batch, 5 metrics intervals: a transient shorter than that is
//! below what it can see. On a strongly autocorrelated series (a queue near saturation) a
//! long early excursion can be cut too, so a flag is a prompt to look at the time series
//! and lengthen the warm-up, not a proof: for `experiments/mm10.ron` with 9 workers
//! (ρ ≈ 0.94), 6 hours and a 1 s warm-up it flags 7 of seeds 1–12. On a long stationary
//! run it also cuts noise: with the bundled 10 minutes, 10 workers and 60 hours it flags 6
//! of seeds 1–12 (2, 3, 4, 6, 10, 12; seed 4's goodput at 23 h), whose batch means show no
//! trend.

use super::timeseries::TimeSeries;
use crate::config::experiment::{FaultSpec, ShapeSpec, WorkloadSpec};
use crate::config::RunConfig;
use serde::{Deserialize, Serialize};

/// Observations per batch in MSER-5.
pub const BATCH: usize = 5;
/// The fewest batches the check needs to mean anything (50 metrics intervals).
pub const MIN_BATCHES: usize = 10;

/// What the warm-up check found for one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WarmupCheck {
    /// Whether the configured warm-up is shorter than a truncation point (a warning).
    pub too_short: bool,
    /// The configured warm-up, s.
    pub configured_s: f64,
    /// MSER-5 truncation point of the goodput series (successes per interval), s.
    pub goodput_truncation_s: Option<f64>,
    /// MSER-5 truncation point of the latency series (each interval's median), s.
    pub latency_truncation_s: Option<f64>,
    /// The span of the series analysed, from the start of the run, s.
    pub analysed_s: f64,
    /// Why the check could not be made, when it could not.
    pub not_checked: Option<String>,
}

/// The MSER-5 truncation point of `series`, in observations (a multiple of 5); `None`
/// when it has fewer than [`MIN_BATCHES`] batches.
pub fn mser5(series: &[f64]) -> Option<usize> {
    let batches: Vec<f64> = series
        .chunks_exact(BATCH)
        .map(|c| c.iter().sum::<f64>() / BATCH as f64)
        .collect();
    if batches.len() < MIN_BATCHES {
        return None;
    }
    Some(BATCH * mser_truncation(&batches))
}

/// The MSER truncation point of `z` (in observations of `z`): the d ≤ len/2 that
/// minimises MSER(d), the smallest on ties. Sums run from the end, so each d costs O(1).
pub fn mser_truncation(z: &[f64]) -> usize {
    let k = z.len();
    let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
    let mut stat = vec![f64::INFINITY; k / 2 + 1];
    for d in (0..k).rev() {
        sum += z[d];
        sum_sq += z[d] * z[d];
        if d <= k / 2 {
            let n = (k - d) as f64;
            // Σ (z − mean)² = Σ z² − (Σ z)² / n, never below zero.
            let ss = (sum_sq - sum * sum / n).max(0.0);
            stat[d] = ss / (n * n);
        }
    }
    let mut best = 0;
    for (d, &s) in stat.iter().enumerate() {
        if s < stat[best] {
            best = d;
        }
    }
    best
}

/// The first time the experiment changes what the system sees (a fault or a change of
/// the load multiplier), s; `None` when nothing is scheduled.
fn first_change_s(cfg: &RunConfig) -> Option<f64> {
    let fault_at = |f: &FaultSpec| f.at().as_secs_f64();
    let constant = ShapeSpec::Constant;
    let shape = match &cfg.spec.workload {
        Some(WorkloadSpec::Open { shape, .. } | WorkloadSpec::Users { shape, .. }) => shape,
        None => &constant,
    };
    let shape_change = match shape {
        ShapeSpec::Constant => None,
        ShapeSpec::Step { at, factor } | ShapeSpec::Spike { at, factor, .. } => {
            (*factor != 1.0).then(|| at.secs_f64())
        }
        ShapeSpec::Ramp { from, to, .. } => (from != to).then_some(0.0),
        // Flat before the first point, then linear between points: the load first changes
        // at the start of the first segment whose ends differ.
        ShapeSpec::Piecewise { points } => points
            .windows(2)
            .find(|w| w[0].1 != w[1].1)
            .map(|w| w[0].0.secs_f64()),
    };
    cfg.spec
        .faults
        .iter()
        .map(fault_at)
        .chain(shape_change)
        .min_by(f64::total_cmp)
}

/// The warm-up check of one run from its time series; `sim_end_s` is where the run
/// stopped (its last interval may be partial, and is then left out).
pub fn check(series: &TimeSeries, cfg: &RunConfig, sim_end_s: f64) -> WarmupCheck {
    let configured_s = cfg.spec.warmup.secs_f64();
    let interval_s = series.interval_s;
    let change_s = first_change_s(cfg);
    let end_s = change_s.unwrap_or(f64::INFINITY).min(sim_end_s);
    // Whole intervals before the first change.
    let rows: Vec<_> = series
        .rows
        .iter()
        .take_while(|r| r.t_s + interval_s <= end_s + 1e-9)
        .collect();
    let goodput: Vec<f64> = rows.iter().map(|r| r.succeeded as f64).collect();
    let latency: Vec<f64> = rows.iter().map(|r| r.latency_p50_ms).collect();
    let to_s = |obs: usize| obs as f64 * interval_s;
    let mut out = WarmupCheck {
        configured_s,
        analysed_s: to_s(rows.len()),
        goodput_truncation_s: mser5(&goodput).map(to_s),
        latency_truncation_s: mser5(&latency).map(to_s),
        ..WarmupCheck::default()
    };
    if out.goodput_truncation_s.is_none() {
        let before = match change_s {
            Some(t) if t < sim_end_s => format!(" before the first scheduled change (at {t}s)"),
            _ => String::new(),
        };
        out.not_checked = Some(format!(
            "{} whole metrics interval(s){before}; MSER-5 needs {}",
            rows.len(),
            BATCH * MIN_BATCHES
        ));
        return out;
    }
    out.too_short = [out.goodput_truncation_s, out.latency_truncation_s]
        .into_iter()
        .flatten()
        .any(|t| t > configured_s + 1e-9);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_series_is_not_truncated() {
        assert_eq!(mser_truncation(&[3.0; 12]), 0);
    }

    /// z = [10, 0, 0, 0]: k = 4, d ≤ 2. MSER(0): mean 2.5, Σ(z − 2.5)² = 56.25 + 3·6.25 = 75,
    /// 75/16 = 4.6875. MSER(1): all zero → 0. MSER(2): 0. Smallest d with the minimum: 1.
    #[test]
    fn an_initial_spike_is_cut_off() {
        assert_eq!(mser_truncation(&[10.0, 0.0, 0.0, 0.0]), 1);
    }

    /// z = [0, 4, 2, 4, 2, 4]: k = 6, d ≤ 3.
    /// d=0: mean 16/6, Σz² = 56, ss = 56 − 256/6 = 13.333, /36 = 0.37037.
    /// d=1: mean 16/5 = 3.2, Σz² = 56, ss = 56 − 51.2 = 4.8, /25 = 0.192.
    /// d=2: mean 3, Σz² = 40, ss = 40 − 36 = 4, /16 = 0.25.
    /// d=3: mean 10/3, Σz² = 36, ss = 36 − 33.333 = 2.667, /9 = 0.2963.
    /// The minimum is at d = 1.
    #[test]
    fn the_hand_computed_minimum_is_found() {
        let z = [0.0, 4.0, 2.0, 4.0, 2.0, 4.0];
        assert_eq!(mser_truncation(&z), 1);
    }

    /// The search stops at the first half: nine zeros then three fives would be cut at
    /// d = 9 by an unrestricted search (MSER(9) = 0); MSER-5 looks at d ≤ k/2 only.
    #[test]
    fn the_search_stays_in_the_first_half() {
        let mut z = vec![0.0; 9];
        z.extend([5.0, 5.0, 5.0]);
        // k = 12, d ≤ 6: at d = 6, [0, 0, 0, 5, 5, 5] has mean 2.5, ss = 37.5, /36 = 1.04;
        // at d = 0: mean 1.25, ss = 75 − 18.75 = 56.25, /144 = 0.39: d = 0 wins over d ≤ 6.
        assert_eq!(mser_truncation(&z), 0);
    }

    /// Batches of 5: 50 observations, the first 10 at 100, then alternating 1, 3
    /// (batch means 1.8 and 2.2). Batches 1 and 2 are 100: MSER-5 drops exactly them.
    #[test]
    fn mser5_batches_five_observations() {
        let mut y = vec![100.0; 10];
        for i in 0..40 {
            y.push(if i % 2 == 0 { 1.0 } else { 3.0 });
        }
        assert_eq!(mser5(&y), Some(10));
        // 49 observations: 9 whole batches, too few.
        assert_eq!(mser5(&y[..49]), None);
        // A trailing partial batch is ignored, not averaged in.
        y.extend([1e6, 1e6, 1e6, 1e6]);
        assert_eq!(mser5(&y), Some(10));
    }
}
