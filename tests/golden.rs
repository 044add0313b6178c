//! Pinned trajectories: every bundled experiment (`experiments/*.ron`) has a golden
//! fingerprint under `tests/golden/<experiment>.json` — each variant's summary at the
//! experiment's own seed (without the wall time) and a hash of its time series. A change
//! that alters any trajectory fails here, with the difference and the command to see it.
//!
//! When the change is intended: `SCALESIM_BLESS=1 cargo test --test golden` rewrites the
//! files, and the diff shows in review.
//!
//! Every variant runs with `limits.max_events` set to [`EVENT_BUDGET`], so a long
//! experiment added later pins its first few million events rather than slowing CI; the
//! golden then records `stopped_reason` saying so.

use rayon::prelude::*;
use scalesim::config::{self, overrides::OverrideSource, Override};
use std::path::{Path, PathBuf};

/// The events each variant may process in the golden run.
const EVENT_BUDGET: u64 = 5_000_000;

const BLESS: &str = "SCALESIM_BLESS";

fn experiments() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("experiments")
        .expect("experiments/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    files
}

fn golden_path(experiment: &Path) -> PathBuf {
    let stem = experiment.file_stem().unwrap().to_string_lossy();
    Path::new("tests/golden").join(format!("{stem}.json"))
}

/// The command that reproduces the golden run of `experiment`.
fn command(experiment: &Path, seed: u64) -> String {
    format!(
        "cargo run --release -- run {} --seed {seed} --set limits.max_events={EVENT_BUDGET}",
        experiment.display()
    )
}

/// The fingerprint of one experiment: pretty JSON, one key per line, ending in a newline.
fn fingerprint(experiment: &Path) -> Result<(String, u64), String> {
    let budget = Override {
        path: "limits.max_events".into(),
        value: EVENT_BUDGET.to_string(),
        source: OverrideSource::Flag,
    };
    let exp = config::load_experiment(experiment, &[budget]).map_err(|e| e.to_string())?;
    let seed = exp.runs.first().map(|r| r.seed()).unwrap_or(0);
    let outputs: Vec<_> = exp
        .runs
        .par_iter()
        .map(|cfg| scalesim::run_config(cfg).map_err(|e| e.to_string()))
        .collect();
    let mut variants = serde_json::Map::new();
    for (cfg, out) in exp.runs.iter().zip(outputs) {
        let out = out?;
        let mut summary = serde_json::to_value(&out.summary).unwrap();
        summary.as_object_mut().unwrap().remove("wall_seconds");
        summary["timeseries_fnv1a"] =
            config::stable_hash_hex(out.series.to_csv().as_bytes()).into();
        variants.insert(cfg.variant.clone(), summary);
    }
    let doc = serde_json::json!({
        "experiment": exp.name,
        "seed": seed,
        "reproduce": command(experiment, seed),
        "variants": variants,
    });
    Ok((serde_json::to_string_pretty(&doc).unwrap() + "\n", seed))
}

/// The lines that differ, golden first (`-`) then now (`+`), at most `max` pairs.
fn line_diff(golden: &str, now: &str, max: usize) -> String {
    let (g, n): (Vec<&str>, Vec<&str>) = (golden.lines().collect(), now.lines().collect());
    let mut out = Vec::new();
    for i in 0..g.len().max(n.len()) {
        let (a, b) = (g.get(i).copied(), n.get(i).copied());
        if a != b {
            out.push(format!("  - {}\n  + {}", a.unwrap_or(""), b.unwrap_or("")));
        }
        if out.len() == max {
            out.push("  …".into());
            break;
        }
    }
    out.join("\n")
}

#[test]
fn every_bundled_experiment_matches_its_golden_fingerprint() {
    let bless = std::env::var_os(BLESS).is_some_and(|v| v != "0" && !v.is_empty());
    let files = experiments();
    assert!(!files.is_empty(), "no experiments found");
    let mut failures = Vec::new();
    for exp in &files {
        let golden = golden_path(exp);
        let (now, seed) = match fingerprint(exp) {
            Ok(x) => x,
            Err(e) => {
                failures.push(format!("{}: cannot run: {e}", exp.display()));
                continue;
            }
        };
        if bless {
            std::fs::create_dir_all("tests/golden").unwrap();
            std::fs::write(&golden, &now).unwrap();
            eprintln!("blessed {}", golden.display());
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Err(_) => failures.push(format!(
                "{}: no golden fingerprint at {}. Create it with `{BLESS}=1 cargo test --test golden` \
                 and commit it.",
                exp.display(),
                golden.display()
            )),
            Ok(pinned) if pinned != now => failures.push(format!(
                "{}: the trajectory changed (seed {seed}).\n{}\n  reproduce: {}\n  if the change is \
                 intended: `{BLESS}=1 cargo test --test golden`, then review and commit the diff of {}",
                exp.display(),
                line_diff(&pinned, &now, 20),
                command(exp, seed),
                golden.display()
            )),
            Ok(_) => {}
        }
    }
    // A golden whose experiment is gone is stale: it pins nothing.
    if let Ok(dir) = std::fs::read_dir("tests/golden") {
        for entry in dir {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let source = Path::new("experiments").join(format!("{stem}.ron"));
            if path.extension().is_some_and(|x| x == "json") && !source.exists() {
                if bless {
                    std::fs::remove_file(&path).unwrap();
                    eprintln!("removed stale {}", path.display());
                } else {
                    failures.push(format!(
                        "{}: no experiment {} any more; delete the golden (or bless, which does)",
                        path.display(),
                        source.display()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n\n"));
}
