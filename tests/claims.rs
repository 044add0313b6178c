//! Claims (`expect: [...]`): a mistake in one is an error naming the file, line and claim;
//! `run` prints each held or not, writes `claims.json`, and exits 0 even when one fails (a
//! claim that does not hold is a finding). That every bundled experiment's claims hold on
//! its own seed is checked in tests/golden.rs, on the runs that pin its trajectory.

use std::path::Path;

mod common;
use common::cli::{scalesim, scratch, ROOT};

/// A short two-variant M/M/10 experiment whose `expect` list is `claims` (one a line, the
/// first on line 8).
fn experiment(dir: &Path, claims: &[&str]) -> String {
    let model = Path::new(ROOT).join("models/mm10.ron");
    let list: String = claims
        .iter()
        .map(|c| format!("        \"{c}\",\n"))
        .collect();
    let text = format!(
        r#"Experiment(
    model: "{}",
    duration: "20m",
    warmup: "1m",
    metrics_interval: "1m",
    workload: Open(rate_per_s: 8.5),
    expect: [
{list}    ],
    variants: {{"ten": Variant(), "eleven": Variant(set: {{"model.nodes.workers": "11"}})}},
)
"#,
        model.display()
    );
    let path = dir.join("exp.ron");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_mistaken_claim_names_the_file_line_and_claim() {
    let dir = scratch("mistakes");
    let cases = [
        (
            "twelve.wait_ms.mean > 1",
            "names no variant of this experiment",
        ),
        ("ten.wait_ms.mean>1", "put spaces around `>`"),
        ("ten.wait_ms.average > 1", "has no `average`"),
        ("ten.sessions > 1", "group of figures"),
        ("ten.wait_ms.mean > eleven", "names no variant"),
    ];
    for (claim, why) in cases {
        let path = experiment(&dir, &["ten.requests.issued > 0", claim]);
        for cmd in ["run", "check"] {
            let out = scalesim(&[cmd, &path, "--no-plots"][..if cmd == "run" { 3 } else { 2 }]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd} {claim}: {err}");
            assert!(
                err.contains(&format!("{path}:9:")),
                "{cmd} {claim}: no line 9 in {err}"
            );
            assert!(
                err.contains(&format!("claim \"{claim}\"")),
                "{cmd} {claim}: {err}"
            );
            assert!(err.contains(why), "{cmd} {claim}: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

#[test]
fn run_prints_each_claim_writes_claims_json_and_a_failed_claim_is_not_an_error() {
    let dir = scratch("run");
    let path = experiment(
        &dir,
        &[
            "eleven.wait_ms.mean < 0.5 * ten.wait_ms.mean",
            "*.requests.issued > 9000",
            "ten.wait_ms.mean < 1",
        ],
    );
    let out_dir = dir.join("out");
    let out = scalesim(&[
        "run",
        &path,
        "--no-plots",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("claims: 2 of 3 held — 1 NOT held"),
        "{stdout}"
    );
    let line = |start: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no line {start}: {stdout}"))
            .to_string()
    };
    assert!(
        line("✓ eleven.wait_ms.mean").contains("(eleven: "),
        "{stdout}"
    );
    assert!(line("✓ *.requests.issued").contains("ten: "), "{stdout}");
    assert!(
        line("✗ ten.wait_ms.mean < 1").contains("(ten: "),
        "{stdout}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("claims.json")).unwrap())
            .unwrap();
    let claims = json["claims"].as_array().unwrap();
    assert_eq!(json.as_object().unwrap().len(), 1);
    assert_eq!(claims.len(), 3);
    for (c, held) in claims.iter().zip([true, true, false]) {
        let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["detail", "held", "text"]);
        assert_eq!(c["held"], held, "{c}");
    }
    assert_eq!(claims[2]["text"], "ten.wait_ms.mean < 1");
    // The detail is the figure the summary has.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("ten/summary.json")).unwrap())
            .unwrap();
    let wait = summary["wait_ms"]["mean"].as_f64().unwrap();
    let shown: f64 = claims[2]["detail"]
        .as_str()
        .unwrap()
        .strip_prefix("ten: ")
        .unwrap()
        .parse()
        .unwrap();
    assert!((shown / wait - 1.0).abs() < 1e-3, "{shown} vs {wait}");

    // --json: the same claims inside the one object printed.
    let out = scalesim(&[
        "run",
        &path,
        "--no-plots",
        "--json",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let obj: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(obj["claims"], json["claims"]);
}

#[test]
fn an_experiment_without_claims_writes_an_empty_list_and_prints_none() {
    let dir = scratch("none");
    let path = experiment(&dir, &[]);
    let out_dir = dir.join("out");
    let out = scalesim(&[
        "run",
        &path,
        "--no-plots",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("claims:"));
    let json = std::fs::read_to_string(out_dir.join("claims.json")).unwrap();
    assert_eq!(json, "{\n  \"claims\": []\n}\n");
}
