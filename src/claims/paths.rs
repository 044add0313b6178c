//! Dotted paths into `summary.json`: which ones a summary can have (checked when an
//! experiment loads) and the number at one (read after the run).

use crate::metrics::summary::{
    CacheSummary, DbSummary, DependencySummary, LocksSummary, NodeSummary, SessionsSummary,
    StoreSummary, Summary,
};
use crate::system::request::FailReason;
use serde_json::Value;

/// A summary with every optional part present, so that its JSON has every path a run's
/// summary can have.
fn full_summary() -> Value {
    let s = Summary {
        failed_by_reason: FailReason::ALL
            .iter()
            .map(|r| (r.name().to_string(), 0))
            .collect(),
        recovery_seconds: Some(0.0),
        dependency: Some(DependencySummary::default()),
        sessions: Some(SessionsSummary {
            store: Some(StoreSummary::default()),
            ..Default::default()
        }),
        locks: Some(LocksSummary::default()),
        nodes: vec![NodeSummary::default()],
        cache: Some(CacheSummary::default()),
        db: Some(DbSummary::default()),
        ..Default::default()
    };
    serde_json::to_value(s).expect("summary serialises")
}

/// Checks that `path` names a number a summary can have; the error says what is wrong
/// and what is there instead.
pub fn check_path(path: &str) -> Result<(), String> {
    let full = full_summary();
    let mut at = &full;
    let mut walked = String::new();
    for seg in path.split('.') {
        let here = if walked.is_empty() {
            "the summary".to_string()
        } else {
            format!("`{walked}`")
        };
        at = match at {
            Value::Object(m) => m.get(seg).ok_or_else(|| {
                let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                let hint = crate::config::error::did_you_mean(seg, &keys)
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .unwrap_or_default();
                format!("{here} has no `{seg}`{hint}; it has: {}", keys.join(", "))
            })?,
            Value::Array(items) => {
                seg.parse::<usize>().map_err(|_| {
                    format!("{here} is a list: follow it with an index (`{walked}.0.…`)")
                })?;
                &items[0]
            }
            _ => return Err(format!("{here} is a single figure: it has no `{seg}`")),
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(seg);
    }
    match at {
        Value::Number(_) | Value::Bool(_) => Ok(()),
        Value::Object(m) => Err(format!(
            "`{path}` is a group of figures: name one of them: {}",
            m.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
        )),
        Value::Array(_) => Err(format!(
            "`{path}` is a list: follow it with an index and a figure (`{path}.0.…`)"
        )),
        _ => Err(format!("`{path}` is text, not a number")),
    }
}

/// The number at `path` in a summary's JSON (booleans count as 0 and 1); `None` when the
/// path is absent or null there (a component the variant does not have).
pub fn number_at(tree: &Value, path: &str) -> Option<f64> {
    let mut at = tree;
    for seg in path.split('.') {
        at = match at {
            Value::Object(m) => m.get(seg)?,
            Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match at {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_a_summary_can_have_are_accepted() {
        for p in [
            "requests.succeeded",
            "sessions.store.peak_connections",
            "failed_by_reason.lock_timeout",
            "nodes.3.utilisation",
            "recovery_seconds",
            "never_recovered",
            "latency_failed_ms.p99",
        ] {
            assert_eq!(check_path(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn other_paths_say_what_is_there() {
        let e = check_path("sessions.spurious_logout").unwrap_err();
        assert!(e.contains("did you mean `spurious_logouts`"), "{e}");
        let e = check_path("locks").unwrap_err();
        assert!(
            e.contains("group of figures") && e.contains("lost_updates"),
            "{e}"
        );
        let e = check_path("nodes.first.served").unwrap_err();
        assert!(e.contains("is a list"), "{e}");
        let e = check_path("stopped_reason").unwrap_err();
        assert!(e.contains("text, not a number"), "{e}");
        let e = check_path("goodput_rps.mean").unwrap_err();
        assert!(e.contains("single figure"), "{e}");
    }
}
