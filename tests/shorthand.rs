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

/// Power of two choices on the graph compares two *different* instances, as the
/// single-tier balancer does: while node 1 of three is down (30 s at 1500/s, no health
/// checks) it refuses every call at once, so it has no open connections and wins every pair
/// it is in, two pairs in three: about 30,000 refused (the single-tier engine: 29,632 to
/// 30,246 on seeds 1 to 10). Drawn with replacement, one pair in three was one instance
/// twice, and the down node took 5/9 of the calls: 24,655 to 25,144 refused.
#[test]
fn two_choices_sends_a_down_instance_two_calls_in_three_as_the_single_tier_balancer() {
    let exp = load_experiment(
        std::path::Path::new("experiments/balancer_policies.ron"),
        &[],
    )
    .expect("loads");
    let cfg = exp
        .runs
        .iter()
        .find(|c| c.variant == "two-choices")
        .expect("variant");
    for seed in [1, 2, 3] {
        let cfg = cfg.with_seed(seed);
        let g = as_graph(&cfg).expect("translates");
        let out = scalesim::graph::run_single_tier(&cfg, &g).expect("runs");
        let refused = out.summary.failed_by_reason["refused"];
        assert!(
            (28_500..=31_500).contains(&refused),
            "seed {seed}: {refused} refused, not about 2/3 of 45,000"
        );
    }
}

/// The claims of bundled single-tier experiments that do not yet hold when the experiment
/// runs as its graph, each with why: what the graph engine still does differently. The
/// test fails on any other broken claim, and on a listed one that holds (so the list
/// shrinks as the engines converge; the single-tier form runs on the single-tier engine
/// until it is empty).
const KNOWN_GAPS: &[(&str, &str)] = &[
    // The graph sessions have no login/logout race figures yet.
    ("login_logout_race", "all-devices.sessions.race_login_survived_logout_all > 10 * all-devices.sessions.race_login_lost_to_earlier_logout"),
    ("login_logout_race", "all-devices.sessions.race_login_lost_to_earlier_logout > 0"),
    // A failover of the store database fails its queries without an `error` outcome.
    ("primary_failover", "*.failed_by_reason.error > 9000"),
    // Fewer stale replica reads (13,618): the store's reads and replica routing differ.
    ("read_your_writes", "replica-reads.sessions.stale_reads > 15000"),
    // Not engine differences but claims that hold on the single-tier engine's own seed by
    // luck; both engines draw the same distributions (release runs of seeds 1 to 40, 200
    // or 240, each variant on its own seed, graph against single-tier):
    // - the hot key's fetches in one interval: 23.2 ± 1.1 against 23.4 ± 1.3 (over 30 on
    //   7 and 5 seeds of 40; 21 on the graph against 37 on seed 21);
    // - jittered-ttl's p99 above no-coalescing's on 19 and 25 seeds of 40 (870 against 854
    //   ms mean on the graph, 894 against 872 single-tier): a coin flip;
    // - the M/M/10 wait: 350.9 ± 1.3 ms against 352.5 ± 1.2 (Erlang C: 353.2) over 200
    //   seeds, one seed's standard deviation 5.1%: over 1.05 × 353 on 29 seeds of 200 on
    //   both (373.5 ms on the graph's seed 1);
    // - retry-budget's recovery: 29.9 ± 0.14 s against 29.9 ± 0.14 over 240 seeds, at or
    //   under 30 s on 152 and 141 of them (31 s on the graph's seed 11).
    ("thundering_herd", "no-coalescing.cache.peak_misses_per_key > 30"),
    ("thundering_herd", "jittered-ttl.latency_ms.p99 > no-coalescing.latency_ms.p99"),
    ("mm10", "baseline.wait_ms.mean < 1.05 * 353"),
    ("retry_storm", "retry-budget.recovery_seconds <= 30"),
];

/// Every bundled single-tier experiment whose variants the graph form can all say: its
/// claims, checked on the runs of the graphs, hold there too (but for [`KNOWN_GAPS`]).
#[test]
fn the_claims_of_every_experiment_the_graph_can_say_hold_on_its_graph() {
    let mut files: Vec<_> = std::fs::read_dir("experiments")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    let mut checked = Vec::new();
    let mut broken = Vec::new();
    let mut gaps_seen = Vec::new();
    for f in files {
        let exp = load_experiment(&f, &[]).unwrap();
        if exp.runs.iter().any(|c| c.model.is_graph()) {
            continue;
        }
        let Ok(graphs) = exp.runs.iter().map(as_graph).collect::<Result<Vec<_>, _>>() else {
            continue;
        };
        let summaries: Vec<_> = exp
            .runs
            .iter()
            .zip(&graphs)
            .map(|(c, g)| {
                scalesim::graph::run_single_tier(c, g)
                    .expect("runs")
                    .summary
            })
            .collect();
        for outcome in scalesim::claims::check(&exp.claims, &summaries) {
            let known = KNOWN_GAPS.contains(&(exp.name.as_str(), outcome.text.as_str()));
            if known {
                gaps_seen.push((exp.name.clone(), outcome.text.clone(), outcome.held));
            } else if !outcome.held {
                broken.push(format!(
                    "{}: {} ({})",
                    exp.name, outcome.text, outcome.detail
                ));
            }
        }
        checked.push(exp.name.clone());
    }
    println!("checked: {checked:?}");
    assert!(
        broken.is_empty(),
        "claims broken on the graph:\n{}",
        broken.join("\n")
    );
    for (name, text) in KNOWN_GAPS {
        let seen = gaps_seen.iter().find(|(n, t, _)| n == name && t == text);
        match seen {
            None => panic!(
                "known gap {name}: {text} was not checked (renamed, or no longer translated?)"
            ),
            Some((_, _, true)) => {
                panic!("known gap {name}: {text} holds now: take it off KNOWN_GAPS")
            }
            Some(_) => {}
        }
    }
    // Every bundled single-tier experiment but the logout storm (its users ramp up, which
    // a graph population cannot say yet) is written as its graph.
    assert!(
        checked.len() >= 12,
        "only {checked:?} could be written as graphs"
    );
}
