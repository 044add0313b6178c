//! The single-tier form is shorthand for a one-service graph (`config::shorthand`): every
//! bundled single-tier experiment that the graph form can already say runs on the graph
//! engine and shows the same phenomenon.

use scalesim::config::shorthand::as_graph;
use scalesim::load_experiment;

#[test]
#[ignore = "exploration: prints what translates"]
fn print_translation_status() {
    let mut files: Vec<_> = std::fs::read_dir("experiments")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    for f in files {
        let exp = load_experiment(&f, &[]).unwrap();
        for cfg in &exp.runs {
            if cfg.model.is_graph() {
                continue;
            }
            match as_graph(cfg) {
                Ok(g) => {
                    let out = scalesim::run_config(&g);
                    match out {
                        Ok(o) => {
                            let legacy = scalesim::run_config(cfg).unwrap();
                            println!(
                                "{} {}: OK graph goodput {:.1} p99 {:.1} fail {} | legacy goodput {:.1} p99 {:.1} fail {}",
                                exp.name, cfg.variant,
                                o.summary.goodput_rps, o.summary.latency_ms.p99, o.summary.requests.failed,
                                legacy.summary.goodput_rps, legacy.summary.latency_ms.p99, legacy.summary.requests.failed
                            );
                        }
                        Err(e) => println!("{} {}: RUN ERROR {e:?}", exp.name, cfg.variant),
                    }
                }
                Err(e) => println!("{} {}: {e}", exp.name, cfg.variant),
            }
        }
    }
}

/// The runs of bundled experiment `file` on `seed`, each written out as its graph.
fn graph_runs(file: &str, seed: u64) -> Vec<(String, scalesim::RunOutput)> {
    let exp = load_experiment(std::path::Path::new(file), &[]).expect("loads");
    exp.runs
        .iter()
        .map(|cfg| {
            let g = as_graph(&cfg.with_seed(seed)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(g.model.is_graph());
            let out = scalesim::run_config(&g).expect("runs");
            (cfg.variant.clone(), out)
        })
        .collect()
}

fn errors(runs: &[(String, scalesim::RunOutput)], variant: &str) -> u64 {
    let out = &runs.iter().find(|(v, _)| v == variant).expect("variant").1;
    out.summary.failed_by_reason["error"]
}

/// A deep health check keeps an instance that fails every call out of rotation: its probe
/// meets the same injected errors as the calls, so the instance does not come back while
/// it gets no traffic (it did, and least-connections fed it again every few seconds).
#[test]
fn a_deep_health_check_keeps_a_failing_instance_out_of_rotation() {
    for seed in [5, 6, 7] {
        let runs = graph_runs("experiments/sinkholing.ron", seed);
        let sinkholed = errors(&runs, "least-conn");
        let checked = errors(&runs, "least-conn-health-check");
        // 2400/s for 60 s, a quarter of it at the failing instance under round-robin.
        assert!(
            sinkholed > 115_000,
            "seed {seed}: least-conn errors {sinkholed}"
        );
        assert!(
            checked * 10 < sinkholed,
            "seed {seed}: with the health check {checked} errors vs {sinkholed}"
        );
    }
}

/// Every bundled single-tier experiment whose variants the graph form can all say: its
/// claims, checked on the runs of the graphs.
#[test]
fn the_claims_of_every_experiment_the_graph_can_say_hold_on_its_graph() {
    let mut files: Vec<_> = std::fs::read_dir("experiments")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for f in files {
        let exp = load_experiment(&f, &[]).unwrap();
        if exp.runs.iter().any(|c| c.model.is_graph()) {
            continue;
        }
        let Ok(graphs) = exp.runs.iter().map(as_graph).collect::<Result<Vec<_>, _>>() else {
            continue;
        };
        let summaries: Vec<_> = graphs
            .iter()
            .map(|g| scalesim::graph::run_single_tier(g).expect("runs").summary)
            .collect();
        for outcome in scalesim::claims::check(&exp.claims, &summaries) {
            if !outcome.held {
                failures.push(format!(
                    "{}: {} ({})",
                    exp.name, outcome.text, outcome.detail
                ));
            }
        }
        checked.push(exp.name.clone());
    }
    println!("checked: {checked:?}");
    assert!(
        failures.is_empty(),
        "claims broken on the graph:\n{}",
        failures.join("\n")
    );
    assert!(
        checked.len() >= 5,
        "only {checked:?} could be written as graphs"
    );
}
