//! What is marked on a run's plots: fault spans read from the `active_faults` column (each
//! label's contiguous stretch of intervals becomes one span, shaded, its label above it);
//! instantaneous faults (`FlushCache`) drawn as a line at their time; and the workload's
//! events (a spike, a ramp, a surge, a step) read from the run's `config.json`.

use super::series::RunDir;
use crate::config::Duration;
use serde_json::Value;
use std::path::Path;

/// What a span marks, which decides how it is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpanKind {
    /// A fault while it is active: shaded red.
    #[default]
    Fault,
    /// Something that happens at one instant (a cache flush, a load step): a line.
    Instant,
    /// A change in the offered load (spike, ramp, surge): shaded blue.
    Workload,
}

/// One fault's active time, or one marked event.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultSpan {
    /// The fault's label, e.g. `crash(node 1)`.
    pub label: String,
    /// First interval start where it was active, seconds.
    pub start_s: f64,
    /// End of the last interval where it was active, seconds (= `start_s` for an instant).
    pub end_s: f64,
    /// How it is drawn.
    pub kind: SpanKind,
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
                    kind: SpanKind::Fault,
                }),
            }
        }
    }
    done.extend(open);
    done.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.label.cmp(&b.label)));
    done
}

/// A fault of `config.json` that happens at one instant, as the label `active_faults`
/// gives it (`FaultSpec::label`) and its time: a single-tier `FlushCache`, a graph `Flush`.
fn instant_fault(f: &Value) -> Option<(String, f64)> {
    if let Some(at) = secs(&f["FlushCache"]["at"]) {
        return Some(("flush-cache".to_string(), at));
    }
    let flush = &f["Flush"];
    let at = secs(&flush["at"])?;
    Some((format!("flush(cache {})", flush["cache"].as_str()?), at))
}

/// Below this share of the run, a change of a `Piecewise` load is a step (a surge begins or
/// ends), not a ramp.
const STEEP_SHARE: f64 = 0.05;

/// The spans of every variant of a run, without duplicates (variants usually share them):
/// the faults of `active_faults`, the instantaneous faults and the workload's events of each
/// variant's `config.json`.
pub fn run_spans(run: &RunDir) -> Vec<FaultSpan> {
    let mut all: Vec<FaultSpan> = Vec::new();
    let (_, end_s) = run.time_range();
    for v in &run.variants {
        let events = config_events(&run.dir.join(&v.variant).join("config.json"), end_s);
        let instant: Vec<&str> = events
            .iter()
            .filter(|e| e.kind == SpanKind::Instant)
            .map(|e| e.label.as_str())
            .collect();
        if let Some(active) = v.table.texts("active_faults") {
            // An instantaneous fault is drawn at its instant, whatever `active_faults` says.
            for s in spans(&v.t, v.interval_s, &active) {
                if !instant.contains(&s.label.as_str()) && !all.contains(&s) {
                    all.push(s);
                }
            }
        }
        for e in events {
            if !all.contains(&e) {
                all.push(e);
            }
        }
    }
    all.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.label.cmp(&b.label)));
    all
}

fn secs(v: &Value) -> Option<f64> {
    Duration::parse(v.as_str()?).ok().map(Duration::secs_f64)
}

fn factor(x: f64) -> String {
    format!("x{}", super::draw::fmt_num(x))
}

/// The instantaneous faults and the workload's events of a resolved experiment
/// (`<variant>/config.json`); nothing when the file is absent or unreadable. `end_s` is the
/// end of the run, where an open surge ends.
pub fn config_events(path: &Path, end_s: f64) -> Vec<FaultSpan> {
    let Some(config) = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in config["faults"].as_array().into_iter().flatten() {
        if let Some((label, at)) = instant_fault(f) {
            out.push(FaultSpan {
                label,
                start_s: at,
                end_s: at,
                kind: SpanKind::Instant,
            });
        }
    }
    let shape = config["workload"]
        .as_object()
        .and_then(|w| w.values().next())
        .map(|w| &w["shape"]);
    if let Some(shape) = shape {
        out.extend(shape_events(shape, end_s));
    }
    out
}

/// The events of a load shape (`Step`, `Spike`, `Ramp`, `Piecewise`; `Constant` has none).
fn shape_events(shape: &Value, end_s: f64) -> Vec<FaultSpan> {
    let span = |label: String, start_s: f64, end_s: f64, kind: SpanKind| FaultSpan {
        label,
        start_s,
        end_s,
        kind,
    };
    let num = |v: &Value| v.as_f64();
    let mut out = Vec::new();
    if let (Some(at), Some(f)) = (secs(&shape["Step"]["at"]), num(&shape["Step"]["factor"])) {
        out.push(span(
            format!("load {}", factor(f)),
            at,
            at,
            SpanKind::Instant,
        ));
    }
    let s = &shape["Spike"];
    if let (Some(at), Some(l), Some(f)) = (secs(&s["at"]), secs(&s["lasting"]), num(&s["factor"])) {
        out.push(span(
            format!("spike {}", factor(f)),
            at,
            at + l,
            SpanKind::Workload,
        ));
    }
    let r = &shape["Ramp"];
    if let (Some(a), Some(b), Some(over)) = (num(&r["from"]), num(&r["to"]), secs(&r["over"])) {
        let label = format!("ramp {}→{}", factor(a), factor(b));
        out.push(span(label, 0.0, over, SpanKind::Workload));
    }
    let points: Vec<(f64, f64)> = shape["Piecewise"]["points"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((secs(&p[0])?, num(&p[1])?)))
        .collect();
    // Gentle changes are ramps; a steep rise opens a surge that the next steep fall closes.
    let steep = STEEP_SHARE * end_s;
    let mut surge: Option<(f64, f64)> = None;
    for w in points.windows(2) {
        let ((t0, a), (t1, b)) = (w[0], w[1]);
        if a == b {
            continue;
        }
        if t1 - t0 > steep {
            out.push(span(
                format!("ramp {}→{}", factor(a), factor(b)),
                t0,
                t1,
                SpanKind::Workload,
            ));
        } else if b > a {
            let (start, level) = surge.unwrap_or((t0, b));
            surge = Some((start, level.max(b)));
        } else if let Some((start, level)) = surge.take() {
            out.push(span(
                format!("surge {}", factor(level)),
                start,
                t1,
                SpanKind::Workload,
            ));
        }
    }
    if let Some((start, level)) = surge {
        out.push(span(
            format!("surge {}", factor(level)),
            start,
            end_s,
            SpanKind::Workload,
        ));
    }
    out
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

    fn events_of(config: &str) -> Vec<(String, f64, f64, SpanKind)> {
        let dir = std::env::temp_dir().join(format!(
            "scalesim-events-{}-{}",
            std::process::id(),
            config.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(&path, config).unwrap();
        let e = config_events(&path, 600.0);
        std::fs::remove_dir_all(&dir).unwrap();
        e.into_iter()
            .map(|s| (s.label, s.start_s, s.end_s, s.kind))
            .collect()
    }

    #[test]
    fn workload_events_and_instant_faults_come_from_config_json() {
        use SpanKind::*;
        let spike = r#"{"workload": {"Open": {"rate_per_s": 10, "shape": {"Spike": {"at": "3m", "lasting": "4m", "factor": 3.0}}}},
            "faults": [{"FlushCache": {"at": "90s"}}, {"Crash": {"at": "6m", "node": 1}}]}"#;
        assert_eq!(
            events_of(spike),
            [
                ("flush-cache".to_string(), 90.0, 90.0, Instant),
                ("spike x3".to_string(), 180.0, 420.0, Workload)
            ]
        );
        // A graph's flush names its cache, as its label in `active_faults` does.
        let graph = r#"{"faults": [{"Flush": {"cache": "products", "at": "10s"}}]}"#;
        assert_eq!(
            events_of(graph),
            [("flush(cache products)".to_string(), 10.0, 10.0, Instant)]
        );
        // death_spiral's curve: a ramp, then a 1-second rise to 1.1 held for 20 s: a surge.
        let surge = r#"{"workload": {"Open": {"rate_per_s": 10, "shape": {"Piecewise": {"points": [
            ["0s", 0.6], ["4m", 0.8], ["300s", 0.8], ["301s", 1.1], ["320s", 1.1], ["321s", 0.8]]}}}}, "faults": []}"#;
        assert_eq!(
            events_of(surge),
            [
                ("ramp x0.6→x0.8".to_string(), 0.0, 240.0, Workload),
                ("surge x1.1".to_string(), 300.0, 321.0, Workload)
            ]
        );
        let step = r#"{"workload": {"Users": {"count": 5, "shape": {"Step": {"at": "10s", "factor": 2.0}}}}}"#;
        assert_eq!(
            events_of(step),
            [("load x2".to_string(), 10.0, 10.0, Instant)]
        );
        assert!(events_of("not json").is_empty());
    }
}
