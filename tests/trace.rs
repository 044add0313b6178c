//! `scalesim run --trace N`: the retry storm's `trace.json` is valid Chrome Trace Event JSON
//! whose begin and end events pair up and nest, whose times never go back on a track, and whose retried requests show their
//! attempts in order; the same requests are sampled every run and in every variant.

mod common;

use common::trace_check::{
    assert_attempts_in_order_with_retries, assert_nested, parse, track_names, Span,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scalesim-trace-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// The retry storm cut short: sampling starts 0.2 s before the dependency stalls (at 60 s),
/// so the sampled requests time out and are retried.
fn traced_storm(out: &Path, seed: &str) {
    let o = run(&[
        "run",
        "experiments/retry_storm.ron",
        "--set",
        "warmup=59.8s",
        "--set",
        "duration=66s",
        "--seed",
        seed,
        "--trace",
        "50",
        "--no-plots",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn retry_storm_trace_is_valid_nested_monotone_and_deterministic() {
    let dir = tmp("storm");
    traced_storm(&dir.join("a"), "11");
    let path = dir.join("a/no-mitigation/trace.json");
    let (doc, tracks) = parse(&path);
    assert_eq!(doc["otherData"]["sampled_requests"], 50);
    assert_eq!(doc["otherData"]["truncated"], false);
    let names = track_names(&doc);

    let (mut requests, mut retried, mut left) = (0, 0, 0);
    for (track, (spans, instants)) in &tracks {
        if track.0 != 1 {
            continue;
        }
        assert_nested(track, spans);
        let name = &names[track];
        let outer: Vec<&Span> = spans
            .iter()
            .filter(|s| s.name == "request" || s.name.ends_with("(client left)"))
            .collect();
        assert_eq!(outer.len(), 1, "track {name}: one outer span");
        let outer = outer[0];
        for s in spans.iter().chain(instants) {
            assert!(
                outer.start_ns <= s.start_ns && s.end_ns <= outer.end_ns,
                "track {name}: {} outside its {}",
                s.name,
                outer.name
            );
        }
        if outer.name != "request" {
            left += 1;
            assert!(name.contains("after the client left"), "{name}");
            continue;
        }
        requests += 1;
        let attempts: Vec<&Span> = spans
            .iter()
            .filter(|s| s.name.starts_with("attempt "))
            .collect();
        assert_eq!(
            outer.args["attempts"].as_u64().unwrap() as usize,
            attempts.len(),
            "track {name}"
        );
        // In order, and between two the retry: a marker and the backoff span.
        assert_attempts_in_order_with_retries(name, &attempts, spans, instants);
        if attempts.len() >= 2 {
            retried += 1;
            // The storm's attempts end in timeouts: each has its marker.
            let timeouts = instants.iter().filter(|t| t.name == "timeout").count();
            let timed_out = attempts
                .iter()
                .filter(|a| a.args["result"] == "timeout")
                .count();
            assert_eq!(timeouts, timed_out, "track {name}");
        }
        // The attempt's phases at the node lie in their attempt.
        for p in spans.iter().filter(|s| {
            matches!(s.name.as_str(), "queue wait" | "work")
                || s.name.starts_with("service ")
                || s.name.starts_with("db.")
        }) {
            assert!(
                attempts
                    .iter()
                    .any(|a| a.start_ns <= p.start_ns && p.end_ns <= a.end_ns),
                "track {name}: {} outside every attempt",
                p.name
            );
        }
    }
    assert_eq!(requests, 50);
    assert!(
        retried >= 10,
        "only {retried} sampled requests were retried"
    );
    assert!(left >= 10, "only {left} attempts outlived their client");

    // One counter per instance of the service (the storm's model has 4), and the stall as a
    // global marker.
    let events = doc["traceEvents"].as_array().unwrap();
    let counters: std::collections::BTreeSet<&str> = events
        .iter()
        .filter(|e| e["ph"] == "C")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(counters.len() >= 4, "{counters:?}");
    assert!(
        counters.contains("app instance 0 busy workers"),
        "{counters:?}"
    );
    assert!(events.iter().any(|e| e["ph"] == "i"
        && e["s"] == "g"
        && e["name"] == "Stall starts"
        && e["ts"].as_f64() == Some(60_000_000.0)));

    // The same bytes on a second run; the same requests sampled in another variant.
    traced_storm(&dir.join("b"), "11");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(dir.join("b/no-mitigation/trace.json")).unwrap()
    );
    let sampled = |p: &Path| -> Vec<String> {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        doc["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["args"]["name"].as_str())
            .filter(|n| n.starts_with("request #") && !n.contains("attempt"))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        sampled(&path),
        sampled(&dir.join("a/load-shedding/trace.json"))
    );
    // Another seed samples other requests.
    traced_storm(&dir.join("c"), "12");
    assert_ne!(
        sampled(&path),
        sampled(&dir.join("c/no-mitigation/trace.json"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_variant_of_a_traced_run_gets_a_trace_and_an_untraced_run_none() {
    let dir = tmp("variants");
    traced_storm(&dir.join("t"), "11");
    for v in [
        "no-mitigation",
        "retry-budget",
        "jittered-backoff",
        "deadlines",
        "load-shedding",
        "lifo",
    ] {
        let (_, tracks) = parse(&dir.join("t").join(v).join("trace.json"));
        for (track, (spans, _)) in &tracks {
            assert_nested(track, spans);
        }
        // With a retry budget, the stall's retries are refused and the trace says so.
        let denied = tracks
            .values()
            .flat_map(|(_, instants)| instants)
            .filter(|i| i.name == "retry denied by the budget")
            .count();
        assert_eq!(denied > 0, v == "retry-budget", "{v}: {denied} denials");
    }
    let o = run(&[
        "run",
        "experiments/mm10.ron",
        "--set",
        "duration=5s",
        "--set",
        "warmup=1s",
        "--no-plots",
        "--out",
        dir.join("u").to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let untraced: Vec<_> = std::fs::read_dir(dir.join("u"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("trace.json").exists())
        .collect();
    assert!(untraced.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn trace_counts_out_of_bounds_are_refused_naming_the_flag() {
    let dir = tmp("bounds");
    for n in ["0", "100001"] {
        let o = run(&[
            "run",
            "experiments/mm10.ron",
            "--trace",
            n,
            "--no-plots",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("--trace {n}")) && err.contains("100000"),
            "{err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn traces_of_the_cache_lock_and_session_paths_pair_up_and_show_their_phases() {
    let dir = tmp("paths");
    for (experiment, variant, phase) in [
        ("thundering_herd", "coalescing", "cache.cache get"),
        ("lock_convoy", "global", "counter.counter lock"),
        ("login_logout_race", "this-device", "sessions.app check"),
    ] {
        let out = dir.join(experiment);
        let o = run(&[
            "run",
            &format!("experiments/{experiment}.ron"),
            "--trace",
            "200",
            "--no-plots",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (doc, tracks) = parse(&out.join(variant).join("trace.json"));
        assert_eq!(doc["otherData"]["sampled_requests"], 200, "{experiment}");
        let mut phases = 0;
        for (track, (spans, _)) in &tracks {
            assert_nested(track, spans);
            phases += spans.iter().filter(|s| s.name == phase).count();
        }
        assert!(phases > 0, "{experiment}: no {phase} span");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
