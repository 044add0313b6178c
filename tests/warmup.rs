//! The warm-up check (MSER-5, src/metrics/warmup.rs) on real runs: it flags a heavily
//! loaded M/M/9 started with a 1 s warm-up, and flags none of the bundled experiments as
//! they are (run once each, at full length, in one test).

use rayon::prelude::*;
use scalesim::config::{self, overrides::OverrideSource, Override};
use std::path::PathBuf;

fn set(path: &str, value: &str) -> Override {
    Override {
        path: path.into(),
        value: value.into(),
        source: OverrideSource::Flag,
    }
}

#[test]
fn a_one_second_warm_up_at_rho_094_is_flagged() {
    let sets = [
        set("warmup", "1s"),
        set("model.nodes.workers", "9"),
        set("duration", "6h"),
        set("metrics_interval", "1m"),
    ];
    let exp = config::load_experiment("experiments/mm10.ron".as_ref(), &sets).unwrap();
    let out = scalesim::run_config(&exp.runs[0]).unwrap();
    let w = &out.summary.warmup_check;
    assert!(w.too_short, "{w:?}");
    assert_eq!(w.configured_s, 1.0);
    // 6 h of 1-minute intervals, no scheduled change: the whole run is analysed.
    assert_eq!(w.analysed_s, 21_600.0);
    // The latency series' transient (seed 1; the goodput series shows none on this seed).
    assert_eq!(w.latency_truncation_s, Some(300.0));
    assert!(w.goodput_truncation_s.is_some());
    assert!(w.not_checked.is_none());
    // The printed table carries the warning line.
    let table = scalesim::output::table::side_by_side(std::slice::from_ref(&out.summary));
    assert!(
        table.contains("warning: baseline: the warm-up (1s) looks too short"),
        "{table}"
    );
    // The bundled warm-up (10 minutes) is long enough for the same system at ρ = 0.85.
    let exp = config::load_experiment("experiments/mm10.ron".as_ref(), &[]).unwrap();
    let out = scalesim::run_config(&exp.runs[0]).unwrap();
    assert!(
        !out.summary.warmup_check.too_short,
        "{:?}",
        out.summary.warmup_check
    );
    assert!(!scalesim::output::table::side_by_side(&[out.summary]).contains("warning"));
}

#[test]
fn no_bundled_experiment_is_flagged() {
    let mut files: Vec<PathBuf> = std::fs::read_dir("experiments")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    let runs: Vec<_> = files
        .iter()
        .flat_map(|f| config::load_experiment(f, &[]).unwrap().runs)
        .collect();
    assert!(runs.len() > 30, "{} runs", runs.len());
    let flagged: Vec<String> = runs
        .par_iter()
        .filter_map(|cfg| {
            let s = scalesim::run_config(cfg).unwrap().summary;
            s.warmup_check
                .too_short
                .then(|| format!("{}/{}: {:?}", s.experiment, s.variant, s.warmup_check))
        })
        .collect();
    assert!(flagged.is_empty(), "{flagged:#?}");
}
