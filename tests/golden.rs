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
//!
//! The same runs check every experiment's `expect` claims (its header says only what they
//! check): at the experiment's own seed and length, so an experiment the budget cut short
//! is run again in full for its claims.

use rayon::prelude::*;
use scalesim::config::{self, overrides::OverrideSource, Override};
use scalesim::{Experiment, RunOutput};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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

/// One bundled experiment run under the event budget.
struct BudgetRun {
    path: PathBuf,
    /// The loaded experiment and each variant's output, or why it could not run.
    result: Result<(Experiment, Vec<RunOutput>), String>,
}

fn run_all(exp: &Experiment) -> Result<Vec<RunOutput>, String> {
    exp.runs
        .par_iter()
        .map(|cfg| scalesim::run_config(cfg).map_err(|e| e.to_string()))
        .collect()
}

/// Every bundled experiment's budget run, computed once for all the tests here.
fn budget_runs() -> &'static [BudgetRun] {
    static RUNS: OnceLock<Vec<BudgetRun>> = OnceLock::new();
    RUNS.get_or_init(|| {
        let budget = Override {
            path: "limits.max_events".into(),
            value: EVENT_BUDGET.to_string(),
            source: OverrideSource::Flag,
        };
        experiments()
            .into_iter()
            .map(|path| {
                let result = config::load_experiment(&path, std::slice::from_ref(&budget))
                    .map_err(|e| e.to_string())
                    .and_then(|exp| Ok((exp.clone(), run_all(&exp)?)));
                BudgetRun { path, result }
            })
            .collect()
    })
}

/// The fingerprint of one experiment: pretty JSON, one key per line, ending in a newline.
fn fingerprint(run: &BudgetRun) -> Result<(String, u64), String> {
    let (exp, outputs) = run.result.as_ref().map_err(Clone::clone)?;
    let seed = exp.runs.first().map(|r| r.seed()).unwrap_or(0);
    let mut variants = serde_json::Map::new();
    for (cfg, out) in exp.runs.iter().zip(outputs) {
        let mut summary = out.summary.to_json_value();
        summary.as_object_mut().unwrap().remove("wall_seconds");
        summary["timeseries_fnv1a"] =
            config::stable_hash_hex(out.series.to_csv().as_bytes()).into();
        variants.insert(cfg.variant.clone(), summary);
    }
    let doc = serde_json::json!({
        "experiment": exp.name,
        "seed": seed,
        "reproduce": command(&run.path, seed),
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
    let runs = budget_runs();
    assert!(!runs.is_empty(), "no experiments found");
    let mut failures = Vec::new();
    for run in runs {
        let exp = &run.path;
        let golden = golden_path(exp);
        let (now, seed) = match fingerprint(run) {
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

#[test]
fn every_bundled_experiments_claims_hold_on_its_own_seed_and_length() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for run in budget_runs() {
        let (exp, outputs) = match &run.result {
            Ok(x) => x,
            Err(e) => {
                failures.push(format!("{}: cannot run: {e}", run.path.display()));
                continue;
            }
        };
        if exp.claims.is_empty() {
            failures.push(format!(
                "{}: no `expect` claims: say what the run shows as claims, and let the \
                 header say only what they check",
                run.path.display()
            ));
            continue;
        }
        // The budget is a cap for the fingerprint only: claims are about the real run.
        let cut = outputs.iter().any(|o| {
            o.summary
                .stopped_reason
                .as_deref()
                .is_some_and(|r| r.starts_with("limits.max_events"))
        });
        let full;
        let outputs = if cut {
            let exp = config::load_experiment(&run.path, &[]).expect("loaded with a budget");
            full = run_all(&exp).expect("ran with a budget");
            &full
        } else {
            outputs
        };
        let summaries: Vec<_> = outputs.iter().map(|o| o.summary.clone()).collect();
        for o in scalesim::claims::check(&exp.claims, &summaries) {
            checked += 1;
            if !o.held {
                failures.push(format!(
                    "{}: claim not held: {} ({})\n  reproduce: cargo run --release -- run {}",
                    run.path.display(),
                    o.text,
                    o.detail,
                    run.path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n\n"));
    assert!(checked > 0, "no claims were checked");
}
