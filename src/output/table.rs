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
    let any = |f: &dyn Fn(&Summary) -> bool| summaries.iter().any(f);
    if any(&|s| s.retries > 0) {
        push(&mut rows, "attempts", &|s| s.attempts.to_string());
        push(&mut rows, "  retries", &|s| s.retries.to_string());
        push(&mut rows, "  retry budget denied", &|s| {
            s.budget_denied.to_string()
        });
        push(&mut rows, "retry amplification", &|s| {
            format!("{:.2}", s.retry_amplification)
        });
        push(&mut rows, "  peak (per interval)", &|s| {
            format!("{:.2}", s.retry_amplification_peak)
        });
    }
    push(&mut rows, "goodput (req/s)", &|s| {
        format!("{:.1}", s.goodput_rps)
    });
    push(&mut rows, "throughput (req/s)", &|s| {
        format!("{:.1}", s.throughput_rps)
    });
    if any(&|s| s.wasted_completions > 0 || s.shed_expired > 0) {
        push(&mut rows, "wasted completions", &|s| {
            s.wasted_completions.to_string()
        });
        push(&mut rows, "shed (client gone)", &|s| {
            s.shed_expired.to_string()
        });
    }
    if any(&|s| s.duplicate_executions > 0 || s.idempotent_replays > 0) {
        push(&mut rows, "duplicate executions", &|s| {
            s.duplicate_executions.to_string()
        });
        push(&mut rows, "idempotent replays", &|s| {
            s.idempotent_replays.to_string()
        });
    }
    if any(&|s| s.recovery_seconds.is_some() || s.never_recovered) {
        push(
            &mut rows,
            "recovery after trigger",
            &|s| match s.recovery_seconds {
                Some(r) => format!("{r:.0} s"),
                None if s.never_recovered => "never".into(),
                None => "-".into(),
            },
        );
    }
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
        let u: Vec<String> = s
            .nodes
            .iter()
            .take(6)
            .map(|n| format!("{:.0}%", n.utilisation * 100.0))
            .collect();
        if s.nodes.len() > 6 {
            format!("{} … ({} nodes)", u.join(" "), s.nodes.len())
        } else {
            u.join(" ")
        }
    });
    if any(&|s| s.sessions.is_some()) {
        let sess = |s: &Summary| s.sessions.clone().unwrap_or_default();
        push(&mut rows, "logins", &|s| sess(s).logins.to_string());
        push(&mut rows, "authenticated requests", &|s| {
            sess(s).authenticated_requests.to_string()
        });
        push(&mut rows, "spurious logouts", &|s| {
            let x = sess(s);
            format!(
                "{} ({:.1}%)",
                x.spurious_logouts,
                x.spurious_logout_fraction * 100.0
            )
        });
        push(&mut rows, "sessions lost on crash", &|s| {
            sess(s).lost_on_crash.to_string()
        });
        push(&mut rows, "accepted after logout", &|s| {
            sess(s).accepted_after_logout.to_string()
        });
        push(&mut rows, "duplicate sessions", &|s| {
            sess(s).duplicate_sessions.to_string()
        });
        push(&mut rows, "stale session reads", &|s| {
            sess(s).stale_reads.to_string()
        });
        let raced = |s: &Summary| {
            s.sessions.as_ref().is_some_and(|x| {
                x.race_login_survived_logout_all + x.race_login_lost_to_earlier_logout > 0
            })
        };
        if any(&raced) {
            push(&mut rows, "login kept after logout-all", &|s| {
                sess(s).race_login_survived_logout_all.to_string()
            });
            push(&mut rows, "login lost to earlier logout", &|s| {
                sess(s).race_login_lost_to_earlier_logout.to_string()
            });
        }
        push(&mut rows, "session store load", &|s| match sess(s).store {
            Some(st) => format!("{:.0} ops/s, {:.0}%", st.ops_per_s, st.utilisation * 100.0),
            None => "-".into(),
        });
    }
    push(&mut rows, "node load imbalance", &|s| {
        format!("{:.2}", s.node_load_imbalance)
    });
    push(&mut rows, "availability (nines)", &|s| {
        format!("{:.2}", s.availability.requests_nines)
    });
    if any(&|s| s.dependency.is_some()) {
        push(&mut rows, "dependency utilisation", &|s| {
            s.dependency
                .as_ref()
                .map_or("-".into(), |d| format!("{:.0}%", d.utilisation * 100.0))
        });
    }
    if any(&|s| s.cache.is_some()) {
        push(&mut rows, "cache hit ratio", &|s| {
            s.cache
                .as_ref()
                .map_or("-".into(), |c| format!("{:.1}%", c.hit_ratio * 100.0))
        });
        push(&mut rows, "cache misses (coalesced)", &|s| {
            s.cache
                .as_ref()
                .map_or("-".into(), |c| format!("{} ({})", c.misses, c.coalesced))
        });
        push(&mut rows, "peak misses per key", &|s| {
            s.cache
                .as_ref()
                .map_or("-".into(), |c| c.peak_misses_per_key.to_string())
        });
        push(&mut rows, "db queries/s peak (mean)", &|s| {
            s.db.as_ref().map_or("-".into(), |d| {
                format!("{:.0} ({:.0})", d.peak_qps, d.mean_qps)
            })
        });
    }
    if any(&|s| s.cost.peak_nodes != s.nodes.len() as u32 || s.cost.peak_nodes > 8) {
        push(&mut rows, "peak nodes", &|s| s.cost.peak_nodes.to_string());
    }
    push(&mut rows, "node-hours", &|s| {
        format!("{:.2}", s.cost.node_seconds / 3600.0)
    });
    push(&mut rows, "cost", &|s| format!("{:.2}", s.cost.total));
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
    for s in summaries {
        if let Some(w) = warmup_warning(s) {
            out.push_str(&w);
            out.push('\n');
        }
    }
    out
}

/// The warning line of a run whose warm-up looks too short, if it does.
pub fn warmup_warning(s: &Summary) -> Option<String> {
    let w = &s.warmup_check;
    if !w.too_short {
        return None;
    }
    let point = |t: Option<f64>| t.map_or("-".to_string(), |t| format!("{t}s"));
    Some(format!(
        "warning: {}: the warm-up ({}s) looks too short: MSER-5 truncates the first {} of goodput and {} of latency (raise `warmup`)",
        s.variant,
        w.configured_s,
        point(w.goodput_truncation_s),
        point(w.latency_truncation_s)
    ))
}
