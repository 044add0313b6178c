//! Fault spans read from the `active_faults` column: each label's contiguous stretch of
//! intervals becomes one span, drawn as a shaded band with the label above it.

use super::series::RunDir;

/// One fault's active time.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpan {
    /// The fault's label, e.g. `crash(node 1)`.
    pub label: String,
    /// First interval start where it was active, seconds.
    pub start_s: f64,
    /// End of the last interval where it was active, seconds.
    pub end_s: f64,
}

/// The spans of one series: rows `t` (interval starts) with `active` labels (`;`-separated).
///
/// A row's `active_faults` is read at the end of its interval (`t + interval`), so a span
/// runs from the first reading that shows the fault to the first that no longer does: a
/// fault that starts and ends on interval boundaries gets its exact times.
pub fn spans(t: &[f64], interval_s: f64, active: &[&str]) -> Vec<FaultSpan> {
    let mut open: Vec<FaultSpan> = Vec::new();
    let mut done = Vec::new();
    for (i, (&t0, labels)) in t.iter().zip(active).enumerate() {
        let now: Vec<&str> = labels
            .split(';')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        // Close the spans whose label is no longer active.
        let mut k = 0;
        while k < open.len() {
            if now.contains(&open[k].label.as_str()) {
                k += 1;
            } else {
                done.push(open.remove(k));
            }
        }
        let read_at = t0 + interval_s;
        let end = t.get(i + 1).map(|t1| t1 + interval_s).unwrap_or(read_at);
        for l in now {
            match open.iter_mut().find(|s| s.label == l) {
                Some(s) => s.end_s = end,
                None => open.push(FaultSpan {
                    label: l.to_string(),
                    start_s: read_at,
                    end_s: end,
                }),
            }
        }
    }
    done.extend(open);
    done.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.label.cmp(&b.label)));
    done
}

/// The spans of every variant of a run, without duplicates (variants usually share them).
pub fn run_spans(run: &RunDir) -> Vec<FaultSpan> {
    let mut all: Vec<FaultSpan> = Vec::new();
    for v in &run.variants {
        let Some(active) = v.table.texts("active_faults") else {
            continue;
        };
        for s in spans(&v.t, v.interval_s, &active) {
            if !all.contains(&s) {
                all.push(s);
            }
        }
    }
    all.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.label.cmp(&b.label)));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_labels_become_spans() {
        let t = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let a = [
            "",
            "crash(node 1)",
            "crash(node 1);stall",
            "stall",
            "",
            "stall",
        ];
        let s = spans(&t, 1.0, &a);
        let got: Vec<(&str, f64, f64)> = s
            .iter()
            .map(|s| (s.label.as_str(), s.start_s, s.end_s))
            .collect();
        assert_eq!(
            got,
            [
                ("crash(node 1)", 2.0, 4.0),
                ("stall", 3.0, 5.0),
                ("stall", 6.0, 6.0)
            ]
        );
    }
}
