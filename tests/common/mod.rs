//! Helpers shared by the scenario tests: run a bundled experiment under a seed and overrides.

#![allow(dead_code)]

pub mod cli;
pub mod trace_check;

use scalesim::config::{load_experiment, Override};
use scalesim::{run_config, RunOutput};
use std::path::Path;

/// Runs every variant of `experiments/<file>` under `seed` and the `--set` overrides `sets`.
pub fn run_experiment(file: &str, seed: u64, sets: &[&str]) -> Vec<(String, RunOutput)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("experiments")
        .join(file);
    let mut overrides = vec![Override::parse_flag(&format!("seed={seed}")).unwrap()];
    overrides.extend(sets.iter().map(|s| Override::parse_flag(s).unwrap()));
    let exp = load_experiment(&path, &overrides).expect("bundled experiment loads");
    exp.runs
        .iter()
        .map(|cfg| {
            let out = run_config(cfg).unwrap_or_else(|e| {
                panic!(
                    "{e} (reproduce: cargo run --release -- run experiments/{file} --seed {seed})"
                )
            });
            (cfg.variant.clone(), out)
        })
        .collect()
}

/// The output of the variant called `name`.
pub fn variant<'a>(runs: &'a [(String, RunOutput)], name: &str) -> &'a RunOutput {
    &runs
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no variant {name}"))
        .1
}

/// Runs variant `variant` of the experiment at `file` (relative to the crate root) under
/// `seed` and the `--set` overrides `sets`.
pub fn run_variant(file: &str, variant: &str, seed: u64, sets: &[&str]) -> RunOutput {
    let sets: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse_flag(s).expect("a valid --set"))
        .collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let exp = load_experiment(&path, &sets).expect("loads");
    let cfg = exp
        .runs
        .iter()
        .find(|r| r.variant == variant)
        .unwrap_or_else(|| panic!("{file} has variant {variant}"))
        .with_seed(seed);
    run_config(&cfg).expect("runs")
}

/// Summary figure `name` of component `key` (`db.main`) of a graph run.
pub fn figure(out: &RunOutput, key: &str, name: &str) -> f64 {
    out.summary.components[key][name]
}

/// Time-series column `name` of component `key` of a graph run, one value per interval.
pub fn column(out: &RunOutput, key: &str, name: &str) -> Vec<f64> {
    let s = out
        .series
        .components
        .iter()
        .find(|c| c.key == key)
        .unwrap_or_else(|| panic!("no series {key}"));
    let i = s
        .schema
        .series
        .iter()
        .position(|m| m.name == name)
        .unwrap_or_else(|| panic!("{key} has no column {name}"));
    s.rows.iter().map(|r| r[i]).collect()
}
