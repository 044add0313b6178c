//! The side-by-side summary table printed by `scalesim run`: one column per variant.

use crate::metrics::Summary;

/// Renders the summaries as a fixed-width table, figures down the side, variants across.
pub fn side_by_side(summaries: &[Summary]) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let push =
        |rows: &mut Vec<(String, Vec<String>)>, label: &str, f: &dyn Fn(&Summary) -> String| {
            rows.push((label.to_string(), summaries.iter().map(f).collect()));
        };
    push(&mut rows, "requests issued", &|s| {
        s.requests.issued.to_string()
    });
    push(&mut rows, "  succeeded", &|s| {
        s.requests.succeeded.to_string()
    });
    push(&mut rows, "  failed", &|s| s.requests.failed.to_string());
    if let Some(first) = summaries.first() {
        for reason in first.failed_by_reason.keys() {
            let r = reason.clone();
            if summaries
                .iter()
                .any(|s| s.failed_by_reason.get(&r).copied().unwrap_or(0) > 0)
            {
                push(&mut rows, &format!("    {r}"), &move |s| {
                    s.failed_by_reason.get(&r).copied().unwrap_or(0).to_string()
                });
            }
        }
    }
    push(&mut rows, "  in flight at end", &|s| {
        s.requests.in_flight.to_string()
    });
    push(&mut rows, "throughput (req/s)", &|s| {
        format!("{:.1}", s.throughput_rps)
    });
    push(&mut rows, "latency mean (ms)", &|s| {
        format!("{:.2}", s.latency_ms.mean)
    });
    push(&mut rows, "latency p50 (ms)", &|s| {
        format!("{:.2}", s.latency_ms.p50)
    });
    push(&mut rows, "latency p95 (ms)", &|s| {
        format!("{:.2}", s.latency_ms.p95)
    });
    push(&mut rows, "latency p99 (ms)", &|s| {
        format!("{:.2}", s.latency_ms.p99)
    });
    push(&mut rows, "latency p99.9 (ms)", &|s| {
        format!("{:.2}", s.latency_ms.p999)
    });
    push(&mut rows, "latency max (ms)", &|s| {
        format!("{:.2}", s.latency_ms.max)
    });
    push(&mut rows, "queue wait mean (ms)", &|s| {
        format!("{:.2}", s.wait_ms.mean)
    });
    push(&mut rows, "node utilisation", &|s| {
        s.nodes
            .iter()
            .map(|n| format!("{:.0}%", n.utilisation * 100.0))
            .collect::<Vec<_>>()
            .join(" ")
    });
    push(&mut rows, "stopped early", &|s| {
        s.stopped_reason
            .as_ref()
            .map(|_| "yes".to_string())
            .unwrap_or_else(|| "no".into())
    });
    push(&mut rows, "events", &|s| s.events.to_string());
    push(&mut rows, "wall time (s)", &|s| {
        format!("{:.2}", s.wall_seconds)
    });

    let label_w = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let col_w: Vec<usize> = (0..summaries.len())
        .map(|i| {
            rows.iter()
                .map(|(_, v)| v[i].chars().count())
                .chain(std::iter::once(summaries[i].variant.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    out.push_str(&format!("{:<label_w$}", ""));
    for (i, s) in summaries.iter().enumerate() {
        out.push_str(&format!("  {:>w$}", s.variant, w = col_w[i]));
    }
    out.push('\n');
    out.push_str(&"-".repeat(label_w + col_w.iter().map(|w| w + 2).sum::<usize>()));
    out.push('\n');
    for (label, values) in &rows {
        out.push_str(&format!("{label:<label_w$}"));
        for (i, v) in values.iter().enumerate() {
            out.push_str(&format!("  {:>w$}", v, w = col_w[i]));
        }
        out.push('\n');
    }
    for s in summaries {
        if let Some(r) = &s.stopped_reason {
            out.push_str(&format!("note: {} stopped early: {r}\n", s.variant));
        }
    }
    out
}
