//! Checks of a request trace (`trace.json`, Chrome Trace Event JSON) shared by the tests
//! of both engines' tracers: every begin has its end on its track, the spans nest, the
//! times never go back on a track.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A span from its begin and end events: [start, end] in nanoseconds (parsed back from the
/// microsecond floats), with the args of both.
#[derive(Clone, Debug)]
pub struct Span {
    pub name: String,
    pub start_ns: i64,
    pub end_ns: i64,
    pub args: Value,
}

pub fn ns(v: &Value) -> i64 {
    (v.as_f64().expect("a number") * 1000.0).round() as i64
}

/// Per (pid, tid): the spans (in the order they end) and instants, in file order.
pub type Tracks = BTreeMap<(u64, u64), (Vec<Span>, Vec<Span>)>;

/// Parses `trace.json` and checks the shape of every event: each begin has its end (same
/// name, on the same track, innermost first), and on every track the timestamps never go
/// back in file order. Returns the tracks.
pub fn parse(path: &Path) -> (Value, Tracks) {
    parse_text(&std::fs::read_to_string(path).unwrap())
}

/// [`parse`] of the text of a trace.
pub fn parse_text(text: &str) -> (Value, Tracks) {
    let doc: Value = serde_json::from_str(text).expect("trace.json is JSON");
    let events = doc["traceEvents"].as_array().expect("a traceEvents array");
    assert!(!events.is_empty());
    let mut tracks: Tracks = BTreeMap::new();
    let mut open: BTreeMap<(u64, u64), Vec<Span>> = BTreeMap::new();
    let mut last_ts: BTreeMap<(u64, u64), i64> = BTreeMap::new();
    for e in events {
        let ph = e["ph"].as_str().expect("ph");
        assert!(e["pid"].is_u64() && e["tid"].is_u64(), "{e}");
        assert!(e["name"].is_string(), "{e}");
        let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
        if ph != "M" {
            let ts = ns(&e["ts"]);
            assert!(ts >= 0, "{e}");
            if ph != "C" {
                let last = last_ts.entry(key).or_insert(0);
                assert!(*last <= ts, "track {key:?}: time goes back at {e}");
                *last = ts;
            }
        }
        match ph {
            "M" => assert!(e["args"]["name"].is_string() || e["args"]["sort_index"].is_u64()),
            "B" => open.entry(key).or_default().push(Span {
                name: e["name"].as_str().unwrap().to_string(),
                start_ns: ns(&e["ts"]),
                end_ns: -1,
                args: e["args"].clone(),
            }),
            "E" => {
                let mut span = open
                    .get_mut(&key)
                    .and_then(|s| s.pop())
                    .unwrap_or_else(|| panic!("an end without a begin: {e}"));
                assert_eq!(span.name, e["name"].as_str().unwrap(), "{e}");
                span.end_ns = ns(&e["ts"]);
                assert!(span.end_ns >= span.start_ns, "{e}");
                for (k, v) in e["args"].as_object().unwrap() {
                    span.args[k] = v.clone();
                }
                tracks.entry(key).or_default().0.push(span);
            }
            "i" => {
                assert!(matches!(e["s"].as_str(), Some("t" | "g")), "{e}");
                let t = ns(&e["ts"]);
                tracks.entry(key).or_default().1.push(Span {
                    name: e["name"].as_str().unwrap().to_string(),
                    start_ns: t,
                    end_ns: t,
                    args: e["args"].clone(),
                });
            }
            "C" => assert!(
                e["args"]["busy"].is_u64() && e["ts"].as_f64().is_some(),
                "{e}"
            ),
            other => panic!("unexpected phase {other}: {e}"),
        }
    }
    for (key, spans) in &open {
        assert!(spans.is_empty(), "track {key:?}: never closed: {spans:?}");
    }
    (doc, tracks)
}

/// Spans on one track either nest or are disjoint (touching allowed).
pub fn assert_nested(track: &(u64, u64), spans: &[Span]) {
    let mut sorted = spans.to_vec();
    sorted.sort_by_key(|s| (s.start_ns, -(s.end_ns - s.start_ns)));
    let mut stack: Vec<Span> = Vec::new();
    for s in sorted {
        while stack.last().is_some_and(|top| top.end_ns <= s.start_ns) {
            stack.pop();
        }
        if let Some(parent) = stack.last() {
            assert!(
                s.end_ns <= parent.end_ns,
                "track {track:?}: {} [{}, {}] overlaps its parent {} [{}, {}]",
                s.name,
                s.start_ns,
                s.end_ns,
                parent.name,
                parent.start_ns,
                parent.end_ns
            );
        }
        stack.push(s);
    }
}

/// Each track's name (its `thread_name`), by (pid, tid).
pub fn track_names(doc: &Value) -> BTreeMap<(u64, u64), String> {
    doc["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            (
                (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap()),
                e["args"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Asserts that a request track's `attempts` are `attempt 1`, `attempt 2`, … in order, with
/// a `retry` marker naming the next attempt and a `backoff` span between each two (`spans`
/// and `instants`: the track's).
pub fn assert_attempts_in_order_with_retries(
    name: &str,
    attempts: &[&Span],
    spans: &[Span],
    instants: &[Span],
) {
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a.name, format!("attempt {}", i + 1), "track {name}");
    }
    for (i, w) in attempts.windows(2).enumerate() {
        assert!(w[0].end_ns <= w[1].start_ns, "track {name}: {w:?}");
        assert!(
            instants.iter().any(|r| r.name == "retry"
                && r.args["next_attempt"] == i as u64 + 2
                && w[0].end_ns <= r.start_ns
                && r.start_ns <= w[1].start_ns),
            "track {name}: no retry marker before attempt {}",
            i + 2
        );
        assert!(
            spans.iter().any(|b| b.name == "backoff"
                && w[0].end_ns <= b.start_ns
                && b.end_ns <= w[1].start_ns),
            "track {name}: no backoff span before attempt {}",
            i + 2
        );
    }
}
