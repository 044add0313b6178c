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
