//! Replications until precise: `sweep --precision` adds batches to each point until the
//! figure's 95% half-width is within the share of its mean (or `--max-replications`), says
//! how many each point took, and writes the same files for any thread count, shard split
//! and resume.

use scalesim::validate::batch_means::t_975;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

mod common;
use common::cli::{ok, scalesim, scratch};

const MM10: &str = "experiments/sweeps/mm10_workers.ron";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rows of a CSV (no quoted cells in these files) as column → cell.
fn rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut it = text.lines();
    let header: Vec<String> = it.next().unwrap().split(',').map(String::from).collect();
    it.map(|l| {
        header
            .iter()
            .cloned()
            .zip(l.split(',').map(String::from))
            .collect()
    })
    .collect()
}

fn num(r: &BTreeMap<String, String>, col: &str) -> f64 {
    r.get(col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .parse()
        .unwrap_or_else(|_| panic!("{col}: {:?}", r[col]))
}

/// The 95% half-width over the mean of `xs`.
fn relative_half_width(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    t_975(xs.len() - 1) * (var / n).sqrt() / mean.abs()
}

/// The bundled M/M/10 workers sweep (2 h runs, each a few ms) to ±2% of the default
/// figure, latency_ms_mean: the acceptance check of the feature.
fn mm10(out: &Path, extra: &[&str]) -> Output {
    let out = out.display().to_string();
    let mut args = vec!["sweep", MM10, "--precision", "2%", "--out", &out];
    args.extend_from_slice(extra);
    ok(&args)
}

#[test]
fn every_point_reaches_the_target_and_the_files_do_not_depend_on_threads_shards_or_resume() {
    let d = scratch("mm10");
    let t1 = d.join("t1");
    let first = mm10(&t1, &["--threads", "1"]);
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(
        err.contains("precision: 6 of 6 point(s) reached ±2% of latency_ms_mean"),
        "{err}"
    );
    let points = read(&t1.join("points.csv"));
    let runs = read(&t1.join("runs.csv"));
    let point_rows = rows(&points);
    let run_rows = rows(&runs);
    assert_eq!(point_rows.len(), 6);
    let mut counts = Vec::new();
    for p in &point_rows {
        let n = num(p, "runs") as usize;
        counts.push(n);
        assert_eq!(p["precision_met"], "1", "{p:?}");
        assert_eq!(n % 8, 0, "whole batches of the sweep's 8 replications: {n}");
        // The interval points.csv reports is within 2% of the mean...
        let mean = num(p, "latency_ms_mean_mean");
        assert!(
            num(p, "latency_ms_mean_ci95_hi") - mean <= 0.02 * mean,
            "{p:?}"
        );
        // ... and recomputed from runs.csv, the batch before the last was not: no point
        // ran a batch more than it needed.
        let xs: Vec<f64> = run_rows
            .iter()
            .filter(|r| r["point"] == p["point"])
            .map(|r| num(r, "latency_ms_mean"))
            .collect();
        assert_eq!(
            xs.len(),
            n,
            "runs.csv has every run of point {}",
            p["point"]
        );
        assert!(relative_half_width(&xs) <= 0.02);
        if n > 8 {
            assert!(
                relative_half_width(&xs[..n - 8]) > 0.02,
                "point {}",
                p["point"]
            );
        }
    }
    // At 9 workers (utilisation 0.94) the waits are long and bursty: more batches than at 14.
    assert!(counts[0] > 8 && counts[0] > counts[5], "{counts:?}");

    let t2 = d.join("t2");
    mm10(&t2, &["--threads", "2"]);
    let shards: Vec<String> = (1..=3)
        .map(|i| {
            let dir = d.join(format!("s{i}"));
            mm10(&dir, &["--shard", &format!("{i}/3")]);
            dir.display().to_string()
        })
        .collect();
    let merged = d.join("merged");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    let merged_s = merged.display().to_string();
    args.extend(["--out", &merged_s]);
    ok(&args);

    // Killed part-way: keep the journal's first lines (written in completion order, so a
    // prefix is what a kill leaves), drop the results, resume.
    let resumed = d.join("resumed");
    std::fs::create_dir_all(&resumed).unwrap();
    std::fs::copy(t1.join("sweep.json"), resumed.join("sweep.json")).unwrap();
    let journal = read(&t1.join("journal.tsv"));
    let total = journal.lines().count();
    assert_eq!(total, counts.iter().sum::<usize>());
    let keep: String = journal
        .lines()
        .take(total / 3)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(resumed.join("journal.tsv"), keep).unwrap();
    let without = scalesim(&[
        "sweep",
        MM10,
        "--resume",
        "--out",
        &resumed.display().to_string(),
    ]);
    assert_eq!(without.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&without.stderr).contains("give the same ones to resume"));
    let r = mm10(&resumed, &["--resume", "--threads", "2"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains(&format!("ran {} run(s)", total - total / 3)),
        "{err}"
    );

    for other in [&t2, &merged, &resumed] {
        assert_eq!(
            read(&other.join("points.csv")),
            points,
            "{}",
            other.display()
        );
        assert_eq!(read(&other.join("runs.csv")), runs, "{}", other.display());
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A short balancer sweep (2 rates × 3 variants), with `precision` in the file if given.
fn balancer(dir: &Path, precision: &str) -> String {
    let path = dir.join("sweep.ron");
    std::fs::write(
        &path,
        format!(
            r#"Sweep(
    experiment: "experiments/balancer_policies.ron",
    seed: 3,
    replications: 4,
    axes: [Axis(path: "workload.rate_per_s", values: List([900, 1500]))],
    set: {{"duration": "2s", "warmup": "500ms", "faults": "[]"}},
    {precision}
)"#
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn an_unreachable_target_stops_at_max_replications_and_the_file_field_equals_the_flags() {
    let d = scratch("max");
    let sweep = balancer(&d, "");
    let flags = d.join("flags");
    let out = ok(&[
        "sweep",
        &sweep,
        "--precision",
        "latency_ms_p99:0.01%",
        "--max-replications",
        "10",
        "--out",
        &flags.display().to_string(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stopped at --max-replications 10"), "{err}");
    let points = read(&flags.join("points.csv"));
    for p in rows(&points) {
        // Batches of 4, the last one cut to the bound: 4, 8, then 10.
        assert_eq!(p["runs"], "10", "{p:?}");
        assert_eq!(p["precision_met"], "0", "{p:?}");
    }
    assert_eq!(
        read(&flags.join("runs.csv")).lines().count(),
        1 + 2 * 3 * 10
    );

    let in_file = d.join("file");
    std::fs::create_dir_all(&in_file).unwrap();
    let sweep2 = balancer(
        &in_file,
        r#"precision: Precision(figure: "latency_ms_p99", within: 0.0001, max_replications: 10),"#,
    );
    let file_out = in_file.join("out");
    ok(&["sweep", &sweep2, "--out", &file_out.display().to_string()]);
    assert_eq!(read(&file_out.join("points.csv")), points);
    let _ = std::fs::remove_dir_all(&d);
}

fn refused(args: &[&str], says: &str) {
    let out = scalesim(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: expected `{says}` in {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_precision_targets_are_refused_with_what_is_wrong() {
    let d = scratch("bad");
    let sweep = balancer(&d, "");
    let out = d.join("out").display().to_string();
    let o = out.as_str();
    refused(
        &["sweep", &sweep, "--precision", "0%", "--out", o],
        "above 0",
    );
    refused(
        &["sweep", &sweep, "--precision", "2", "--out", o],
        "below 100%",
    );
    refused(
        &["sweep", &sweep, "--max-replications", "9", "--out", o],
        "give --precision too",
    );
    refused(
        &[
            "sweep",
            &sweep,
            "--precision",
            "2%",
            "--max-replications",
            "3",
            "--out",
            o,
        ],
        "less than one batch",
    );
    refused(
        &[
            "sweep",
            &sweep,
            "--precision",
            "2%",
            "--max-replications",
            "20000",
            "--out",
            o,
        ],
        "limit of 10000",
    );
    refused(
        &[
            "sweep",
            &sweep,
            "--precision",
            "no_such_figure:2%",
            "--out",
            o,
        ],
        "the summary has no figure `no_such_figure`",
    );
    // Without faults there is no recovery: the figure is empty in every run.
    refused(
        &[
            "sweep",
            &sweep,
            "--precision",
            "recovery_seconds:2%",
            "--out",
            &format!("{o}-nan"),
        ],
        "`recovery_seconds` is empty (NaN) in every run of point 0",
    );
    let bad_file = d.join("badfile");
    std::fs::create_dir_all(&bad_file).unwrap();
    let sweep2 = balancer(&bad_file, "precision: Precision(within: 2.0),");
    refused(&["sweep", &sweep2, "--out", o], &format!("{sweep2}:7:"));
    let _ = std::fs::remove_dir_all(&d);
}
