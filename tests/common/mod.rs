//! Helpers shared by the scenario tests: run a bundled experiment under a seed and overrides.

#![allow(dead_code)]

pub mod cli;

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
