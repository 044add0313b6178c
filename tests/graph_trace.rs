//! `scalesim run --trace N` on graph models (`graph::trace`): the trace is valid Chrome
//! Trace Event JSON whose begin and end events pair up and nest on every track in the
//! order of the clock, N requests are sampled, the same seed gives the same bytes, retries
//! (of the clients and of a calling service) show their attempts and backoffs, a timed-out
//! attempt's work moves to a track "after the client left", the path's steps are spans
//! named after the step and component, and a single-tier model run as its graph traces too.

mod common;

use common::trace_check::{
    assert_attempts_in_order_with_retries, assert_nested, parse_text, track_names, Span, Tracks,
};
use scalesim::config::{load_experiment, shorthand::as_graph, Override};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Every variant's trace of `file` (under the crate's folder) with the overrides `sets`,
/// `n` requests sampled: (variant, trace text).
fn traced(file: &str, sets: &[&str], n: u32) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let overrides: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse_flag(s).unwrap())
        .collect();
    let exp = load_experiment(&path, &overrides).expect("the experiment loads");
    exp.runs
        .iter()
        .map(|cfg| {
            assert!(cfg.model.is_graph(), "{file} is a graph model");
            let out = scalesim::run_config_traced(cfg, Some(n)).expect("the run ends");
            (cfg.variant.clone(), out.trace.expect("a trace"))
        })
        .collect()
}

fn variant<'a>(runs: &'a [(String, String)], name: &str) -> &'a str {
    &runs.iter().find(|(v, _)| v == name).expect("the variant").1
}

/// Parses a trace, checks every track nests, and returns it with its track names.
fn checked(text: &str) -> (Value, Tracks, BTreeMap<(u64, u64), String>) {
    let (doc, tracks) = parse_text(text);
    for (track, (spans, _)) in &tracks {
        assert_nested(track, spans);
    }
    let names = track_names(&doc);
    (doc, tracks, names)
}

fn inside(outer: &Span, s: &Span) -> bool {
    outer.start_ns <= s.start_ns && s.end_ns <= outer.end_ns
}

/// The request tracks: one `request` span each, every other span and marker inside it;
/// its `attempt k` spans in order as many as it says, a `retry` marker and a `backoff`
/// span between two attempts. Returns (requests, requests retried).
fn check_requests(tracks: &Tracks, names: &BTreeMap<(u64, u64), String>) -> (usize, usize) {
    let (mut requests, mut retried) = (0, 0);
    for (track, (spans, instants)) in tracks {
        if track.0 != 1 {
            continue;
        }
        let name = &names[track];
        let outer: Vec<&Span> = spans
            .iter()
            .filter(|s| {
                s.name == "request" || s.name.ends_with("left)") || s.name.starts_with("branch ")
            })
            .collect();
        assert_eq!(outer.len(), 1, "track {name}: one outer span: {outer:?}");
        let outer = outer[0];
        for s in spans.iter().chain(instants) {
            assert!(
                inside(outer, s),
                "track {name}: {} outside its {}",
                s.name,
                outer.name
            );
        }
        if outer.name != "request" {
            continue;
        }
        requests += 1;
        let attempts: Vec<&Span> = spans
            .iter()
            .filter(|s| s.name.starts_with("attempt "))
            .collect();
        // A request still in flight at the end of the run ends there, marked.
        match outer.args["attempts"].as_u64() {
            Some(n) => assert_eq!(n as usize, attempts.len(), "track {name}"),
            None => assert_eq!(outer.args["unfinished"], true, "track {name}"),
        }
        assert_attempts_in_order_with_retries(name, &attempts, spans, instants);
        if attempts.len() >= 2 {
            retried += 1;
        }
        // A timed-out attempt says so, with its marker.
        let timeouts = instants.iter().filter(|t| t.name == "timeout").count();
        let timed_out = attempts
            .iter()
            .filter(|a| a.args["result"] == "timeout")
            .count();
        assert_eq!(timeouts, timed_out, "track {name}");
        // The first service's visit of each attempt lies in it.
        for v in spans.iter().filter(|s| s.name == "service api") {
            assert!(attempts.iter().any(|a| inside(a, v)), "track {name}: {v:?}");
        }
    }
    (requests, retried)
}

/// Spans on request tracks (every one) named `name`.
fn spans_named<'a>(tracks: &'a Tracks, name: &'a str) -> impl Iterator<Item = &'a Span> + 'a {
    tracks
        .iter()
        .filter(|(t, _)| t.0 == 1)
        .flat_map(|(_, (spans, _))| spans)
        .filter(move |s| s.name == name)
}

/// The sampled requests' track names, in order.
fn sampled(doc: &Value) -> Vec<String> {
    track_names(doc)
        .into_values()
        .filter(|n| {
            n.strip_prefix("request #")
                .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()))
        })
        .collect()
}

/// The two-tier call chain from just before its database fails every query: clients and
/// the api both retry; every span pairs up and nests, the api's calls to the backend show
/// their attempts with backoffs between, and the bytes are the same on a second run.
#[test]
fn a_call_chain_trace_nests_and_shows_both_layers_of_retries() {
    let sets = ["warmup=19.9s", "duration=24s"];
    let runs = traced("experiments/retry_chain.ron", &sets, 50);
    for (v, text) in &runs {
        let (doc, tracks, names) = checked(text);
        assert_eq!(doc["otherData"]["sampled_requests"], 50, "{v}");
        assert_eq!(doc["otherData"]["truncated"], false, "{v}");
        let (requests, retried) = check_requests(&tracks, &names);
        assert_eq!(requests, 50, "{v}");
        assert!(retried >= 20, "{v}: only {retried} requests retried");
        // The path's steps, each inside the visit it runs in.
        for (track, (spans, _)) in tracks.iter().filter(|(t, _)| t.0 == 1) {
            let visits: Vec<&Span> = spans
                .iter()
                .filter(|s| s.name.starts_with("service "))
                .collect();
            for s in spans.iter().filter(|s| {
                matches!(
                    s.name.as_str(),
                    "queue wait" | "work" | "db.main read" | "call backend"
                )
            }) {
                assert!(visits.iter().any(|v| inside(v, s)), "{track:?}: {s:?}");
            }
            for v in &visits {
                if v.args["result"] != "unavailable" {
                    assert!(v.args["instance"].is_u64(), "{track:?}: {v:?}");
                }
            }
        }
        let reads = spans_named(&tracks, "db.main read").count();
        assert!(reads >= 50, "{v}: {reads} database reads");
    }
    // With the api's retries, its calls to the backend hold several attempts, a retry
    // marker and a backoff between each two; without them, one attempt each.
    for (v, want_retries) in [("both-layers", true), ("clients-only", false)] {
        let (_, tracks, _) = checked(variant(&runs, v));
        let mut retried_calls = 0;
        for (spans, instants) in tracks.values() {
            for call in spans.iter().filter(|s| s.name == "call backend") {
                let attempts: Vec<&Span> = spans
                    .iter()
                    .filter(|s| s.name == "service backend" && inside(call, s))
                    .collect();
                assert!(!attempts.is_empty(), "{v}: {call:?}");
                for (i, a) in attempts.iter().enumerate() {
                    assert_eq!(a.args["attempt"], i as u64 + 1, "{v}: {a:?}");
                }
                if attempts.len() < 2 {
                    continue;
                }
                retried_calls += 1;
                for w in attempts.windows(2) {
                    assert!(spans.iter().any(|b| b.name == "backoff"
                        && inside(call, b)
                        && w[0].end_ns <= b.start_ns
                        && b.end_ns <= w[1].start_ns));
                    assert!(instants.iter().any(|r| r.name == "retry"
                        && w[0].end_ns <= r.start_ns
                        && r.start_ns <= w[1].start_ns));
                }
                // The database's failures show as errors at the backend.
                assert!(
                    attempts.iter().any(|a| a.args["result"] == "error"),
                    "{v}: {attempts:?}"
                );
            }
        }
        assert_eq!(
            retried_calls > 0,
            want_retries,
            "{v}: {retried_calls} retried calls"
        );
        if want_retries {
            assert!(
                retried_calls >= 20,
                "{v}: only {retried_calls} retried calls"
            );
        }
    }
    // Instance counters of both services, and the fault as a global marker.
    let (doc, _, _) = checked(variant(&runs, "both-layers"));
    let events = doc["traceEvents"].as_array().unwrap();
    let counters: std::collections::BTreeSet<&str> = events
        .iter()
        .filter(|e| e["ph"] == "C")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for c in [
        "api instance 3 busy workers",
        "backend instance 0 busy workers",
    ] {
        assert!(counters.contains(c), "{counters:?}");
    }
    assert!(events.iter().any(|e| e["ph"] == "i"
        && e["s"] == "g"
        && e["name"] == "FailRequests starts"
        && e["ts"].as_f64() == Some(20_000_000.0)));

    // The same bytes again; the same requests in the other (open-loop) variant; another
    // seed samples others.
    let again = traced("experiments/retry_chain.ron", &sets, 50);
    assert_eq!(runs, again);
    let first = |runs: &[(String, String)], v: &str| sampled(&parse_text(variant(runs, v)).0);
    assert_eq!(first(&runs, "both-layers"), first(&runs, "clients-only"));
    assert_eq!(first(&runs, "both-layers").len(), 50);
    let other = traced(
        "experiments/retry_chain.ron",
        &[sets[0], sets[1], "seed=2"],
        50,
    );
    assert_ne!(first(&runs, "both-layers"), first(&other, "both-layers"));
}

/// Clients and the api that give up quickly: what is left of a timed-out attempt moves
/// to a track of its own, after the client (or the calling api) left, and every track
/// still nests.
#[test]
fn a_timed_out_attempt_moves_to_a_track_after_the_client_left() {
    let sets = [
        "warmup=5s",
        "duration=21s",
        "populations.clients.timeout=8ms",
        "model.services.api.calls=Calls(timeout: \"4ms\", retry: Retry(max_attempts: 4))",
    ];
    for seed in ["1", "3"] {
        let mut s = sets.to_vec();
        let seed_set = format!("seed={seed}");
        s.push(&seed_set);
        let runs = traced("experiments/retry_chain.ron", &s, 200);
        let (doc, tracks, names) = checked(variant(&runs, "both-layers"));
        assert_eq!(doc["otherData"]["sampled_requests"], 200);
        let (requests, retried) = check_requests(&tracks, &names);
        assert_eq!(requests, 200);
        assert!(retried >= 10, "seed {seed}: {retried} retried");
        let (mut client_left, mut caller_left) = (0, 0);
        for (track, (spans, _)) in &tracks {
            let name = &names[track];
            if !name.contains("after the") {
                continue;
            }
            let outer: Vec<&Span> = spans.iter().filter(|s| s.name.ends_with("left)")).collect();
            assert_eq!(outer.len(), 1, "{name}");
            let outer = outer[0];
            if name.contains("after the client left") {
                client_left += 1;
                assert!(
                    outer.name.starts_with("attempt ") && outer.name.ends_with("(client left)")
                );
                assert!(
                    spans.iter().any(|s| s.name == "service api"),
                    "{name}: {spans:?}"
                );
            } else {
                assert!(
                    name.contains("call backend attempt")
                        && name.ends_with("after the caller left"),
                    "{name}"
                );
                caller_left += 1;
                assert!(outer.name.ends_with("(caller left)"), "{name}");
                assert!(spans.iter().any(|s| s.name == "service backend"), "{name}");
            }
            // The left-over work ends with the visit's outcome (or with the run).
            assert!(
                outer.args["outcome"].is_string() || outer.args["unfinished"] == true,
                "{name}: {outer:?}"
            );
        }
        assert!(
            client_left >= 10,
            "seed {seed}: {client_left} tracks after the client left"
        );
        assert!(
            caller_left >= 10,
            "seed {seed}: {caller_left} tracks after the caller left"
        );
        // The request's own track: the visit it left ends when the client leaves.
        let left = spans_named(&tracks, "service api")
            .filter(|s| s.args["caller_left"] == true)
            .count();
        assert!(left >= client_left, "{left} < {client_left}");
    }
}

/// A look-aside cache in front of a database, flushed at 60 s: a lookup is a
/// `cache.products get` span in the web service's visit; a miss reads the database inside
/// it and says so; every track nests.
#[test]
fn a_cache_miss_reads_the_database_inside_its_lookup() {
    let runs = traced(
        "experiments/thundering_herd_graph.ron",
        &["warmup=59.9s", "duration=62s"],
        300,
    );
    for v in ["no-coalescing", "coalescing"] {
        let (doc, tracks, names) = checked(variant(&runs, v));
        assert_eq!(doc["otherData"]["sampled_requests"], 300, "{v}");
        let (requests, _) = check_requests(&tracks, &names);
        assert_eq!(requests, 300, "{v}");
        let (mut hits, mut misses) = (0, 0);
        for (spans, _) in tracks.values() {
            for get in spans.iter().filter(|s| s.name == "cache.products get") {
                let reads = spans
                    .iter()
                    .filter(|r| r.name == "db.main read" && inside(get, r))
                    .count();
                assert!(reads <= 1, "{v}: {get:?}");
                assert_eq!(
                    get.args["read_database"] == true,
                    reads == 1,
                    "{v}: {get:?}"
                );
                if reads == 1 {
                    misses += 1;
                } else {
                    hits += 1;
                }
                assert!(
                    spans
                        .iter()
                        .any(|w| w.name == "service web" && inside(w, get)),
                    "{v}: {get:?} outside the web service's visit"
                );
            }
            for s in spans
                .iter()
                .filter(|s| s.name == "queue wait" || s.name == "work")
            {
                assert!(spans
                    .iter()
                    .any(|w| w.name == "service web" && inside(w, s)));
            }
        }
        // After the flush most hot keys miss once; the warm cache's hits are the rest.
        assert!(
            misses >= 5 && hits >= 100,
            "{v}: {hits} hits, {misses} misses"
        );
        let events = doc["traceEvents"].as_array().unwrap();
        assert!(events.iter().any(|e| e["ph"] == "i"
            && e["s"] == "g"
            && e["name"] == "Flush starts"
            && e["ts"].as_f64() == Some(60_000_000.0)));
    }
}

/// The graph fixture's shop: a search fans out to the catalog and the database side by
/// side (the first answer wins), so each branch gets a track of its own beginning with
/// the parent's `fan-out`; a checkout takes a counter row and publishes to a topic.
#[test]
fn fan_out_branches_get_tracks_of_their_own_and_every_step_has_its_span() {
    let runs = traced(
        "tests/fixtures/graph/experiments/graph_example.ron",
        &[
            "warmup=5s",
            "duration=30s",
            "faults=[]",
            "populations.crawler.workload.at=12s",
            "populations.crawler.workload.count=10",
        ],
        200,
    );
    let (doc, tracks, names) = checked(variant(&runs, "coalescing"));
    assert_eq!(doc["otherData"]["sampled_requests"], 200);
    let (requests, _) = check_requests(&tracks, &names);
    assert_eq!(requests, 200);
    let fanouts: Vec<&Span> = spans_named(&tracks, "fan-out").collect();
    assert!(fanouts.len() >= 20, "{} fan-outs", fanouts.len());
    let mut branches = 0;
    for (track, (spans, _)) in &tracks {
        let name = &names[track];
        if !name.contains("fan-out branch") {
            continue;
        }
        branches += 1;
        let b = &spans
            .iter()
            .find(|s| s.name.starts_with("branch "))
            .expect("its span");
        assert!(
            fanouts.iter().any(|f| f.start_ns == b.start_ns),
            "{name}: no fan-out begins with it"
        );
        // A branch's step lies in it.
        let steps = spans
            .iter()
            .filter(|s| s.name == "cache.catalog get" || s.name == "db.main read")
            .count();
        assert!(
            steps >= 1 || b.args["unfinished"] == true,
            "{name}: {spans:?}"
        );
    }
    assert_eq!(branches, 2 * fanouts.len(), "two branches a fan-out");
    for step in [
        "counter.orders lock",
        "db.main write",
        "topic.order_events produce",
        "call api",
        "service api",
    ] {
        assert!(spans_named(&tracks, step).count() > 0, "no {step}");
    }
}

/// A single-tier experiment run as its graph (`as_graph` + `run_single_tier`) traces too:
/// the retry storm's stall, its timed-out attempts moving after the client left.
#[test]
fn a_single_tier_model_run_as_its_graph_traces_too() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/retry_storm.ron");
    let sets: Vec<Override> = ["warmup=59.8s", "duration=63s"]
        .iter()
        .map(|s| Override::parse_flag(s).unwrap())
        .collect();
    let exp = load_experiment(&path, &sets).unwrap();
    let cfg = exp
        .runs
        .iter()
        .find(|r| r.variant == "no-mitigation")
        .unwrap();
    assert!(!cfg.model.is_graph());
    let graph = as_graph(cfg).expect("the retry storm has a graph form");
    let trace = |n| {
        scalesim::graph::run_single_tier(cfg, &graph, n)
            .unwrap()
            .trace
    };
    assert!(trace(None).is_none());
    let text = trace(Some(50)).expect("a trace");
    let (doc, tracks, names) = checked(&text);
    assert_eq!(doc["otherData"]["sampled_requests"], 50);
    let (requests, retried) = check_requests(&tracks, &names);
    assert_eq!(requests, 50);
    assert!(retried >= 10, "{retried} retried");
    let left = names
        .values()
        .filter(|n| n.contains("after the client left"))
        .count();
    assert!(left >= 10, "{left} tracks after the client left");
    assert_eq!(trace(Some(50)).unwrap(), text);
}

/// `scalesim run --trace N` on a graph experiment writes each variant's trace.
#[test]
fn run_trace_on_a_graph_experiment_writes_every_variants_trace() {
    let dir = std::env::temp_dir().join(format!("scalesim-graph-trace-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "experiments/retry_chain.ron",
            "--set",
            "duration=21s",
            "--set",
            "warmup=19s",
            "--trace",
            "10",
            "--no-plots",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for v in ["both-layers", "clients-only"] {
        let text = std::fs::read_to_string(dir.join(v).join("trace.json")).unwrap();
        let (doc, _, _) = checked(&text);
        assert_eq!(doc["otherData"]["sampled_requests"], 10, "{v}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The session check, the counter's row lock and a capped connection pool each show as
/// their step's span, and every track still nests.
#[test]
fn session_lock_and_connection_steps_have_their_spans() {
    let cases: [(&str, Vec<&str>, &str, &str); 3] = [
        (
            "experiments/graph_logout_storm.ron",
            vec!["warmup=20s", "duration=30s", "faults=[]"],
            "externalized",
            "sessions.web check",
        ),
        (
            "experiments/lock_convoy_graph.ron",
            vec!["warmup=20s", "duration=30s", "faults=[]"],
            "global",
            "counter.failed_logins lock",
        ),
        (
            "experiments/connection_cap.ron",
            vec![
                "warmup=5s",
                "duration=8s",
                "populations.clients.workload.rate_per_s=1000.0",
                "model.services.web.connections={\"main\": 1}",
            ],
            "",
            "connection wait",
        ),
    ];
    for (file, sets, v, step) in cases {
        let runs = traced(file, &sets, 200);
        let text = if v.is_empty() {
            &runs[0].1
        } else {
            variant(&runs, v)
        };
        let (doc, tracks, names) = checked(text);
        assert_eq!(doc["otherData"]["sampled_requests"], 200, "{file}");
        let (requests, _) = check_requests(&tracks, &names);
        assert_eq!(requests, 200, "{file}");
        let n = spans_named(&tracks, step).count();
        assert!(n > 0, "{file}: no {step} span");
    }
}
