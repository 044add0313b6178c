//! Recovery after a trigger: how long goodput takes to come back once the last fault ends.

use super::TimeSeries;
use crate::engine::SimTime;

/// Intervals in a row that must meet the goodput bar to count as recovered.
pub const RECOVERY_INTERVALS: usize = 5;
/// The share of the offered load that goodput must reach to count as recovered.
pub const RECOVERY_SHARE: f64 = 0.9;

/// Seconds from `trigger_end` to the first interval starting at or after it from which
/// goodput stays at 90% of the offered load for 5 intervals, and whether it never did
/// (`(None, false)` without a trigger).
pub fn recovery(series: &TimeSeries, trigger_end: Option<SimTime>) -> (Option<f64>, bool) {
    let Some(trigger_end) = trigger_end else {
        return (None, false);
    };
    let t_end = trigger_end.as_secs_f64();
    let rows: Vec<_> = series
        .rows
        .iter()
        .filter(|r| r.t_s + 1e-9 >= t_end)
        .collect();
    let ok = |r: &&super::SeriesRow| r.succeeded as f64 >= RECOVERY_SHARE * r.offered as f64;
    for i in 0..rows.len() {
        let window = &rows[i..(i + RECOVERY_INTERVALS).min(rows.len())];
        if window.len() == RECOVERY_INTERVALS && window.iter().all(ok) {
            return (Some(rows[i].t_s - t_end), false);
        }
    }
    (None, !rows.is_empty())
}
