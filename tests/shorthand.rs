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
                        Ok(o) => println!(
                            "{} {}: OK graph goodput {:.1} p99 {:.1} fail {}",
                            exp.name,
                            cfg.variant,
                            o.summary.goodput_rps,
                            o.summary.latency_ms.p99,
                            o.summary.requests.failed
                        ),
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

/// Variant `variant` of bundled experiment `file` on `seed`: the run of its graph with the
/// single-tier sections filled (`graph::run_single_tier`), as `run_config` runs it.
fn on_graph(file: &str, variant: &str, seed: u64) -> scalesim::Summary {
    let exp = load_experiment(std::path::Path::new(file), &[]).expect("loads");
    let cfg = exp
        .runs
        .iter()
        .find(|c| c.variant == variant)
        .expect("variant")
        .with_seed(seed);
    let g = as_graph(&cfg).unwrap_or_else(|e| panic!("{file}: {e}"));
    let graph = scalesim::graph::run_single_tier(&cfg, &g, None).expect("runs");
    graph.summary
}

/// The graph's sessions race a login against a "log out of all devices" of the same
/// person in the store, both ways, as the single-tier engine's do: the login hashes a
/// password first, so a login issued before the logout and applied after it (it
/// survives) is far more common than one issued after and applied before (it is
/// wiped). The figures are the graph component's, and fill the single-tier section (the
/// former single-tier engine's figures, 726 survived and 21 lost on seed 23 and 366
/// rejected, were within 0.8-1.4 and 0.7-1.3 of the graph's).
#[test]
fn a_login_and_a_logout_of_all_devices_race_in_the_store_both_ways() {
    for seed in [23, 1, 2] {
        let graph = on_graph("experiments/login_logout_race.ron", "all-devices", seed);
        let g = graph.sessions.as_ref().unwrap();
        let (survived, lost) = (
            g.race_login_survived_logout_all,
            g.race_login_lost_to_earlier_logout,
        );
        assert_eq!(
            graph.components["sessions.app"]["race_login_survived_logout_all"],
            survived as f64
        );
        assert!(
            lost > 0 && survived > 10 * lost,
            "seed {seed}: survived {survived}, lost {lost}"
        );
        // A request presents the session its device held when sent: a logout of all
        // devices applied meanwhile makes the check reject it.
        assert!(g.rejected > 0, "seed {seed}: rejected {}", g.rejected);
    }
}

/// A failover of the session store fails the session writes that meet it (the logins
/// and logouts) with an `error`, as the single-tier engine's store does: the instance
/// could not record the session and answers with a server error (the former single-tier
/// engine's count was within 15% of the graph's).
#[test]
fn a_failover_of_the_session_store_fails_its_writes_with_an_error() {
    for seed in [19, 1, 2] {
        let graph = on_graph("experiments/primary_failover.ron", "normal-lag", seed);
        let g = graph.failed_by_reason;
        assert!(g["error"] > 9000, "seed {seed}: {g:?}");
        assert!(g["refused"] + g["crash"] < 100, "seed {seed}: {g:?}");
    }
}

/// The session writes a failover of the store loses (not yet on the promoted replica)
/// are gone from the sessions too: their users are logged out at their next check, so a
/// lag spike just before the failover (more writes in flight) adds spurious logouts, as
/// many as in the single-tier engine (940 against 723 on seed 19; the graph's sessions
/// kept the lost sessions, and added 85 where the single-tier engine adds 217).
#[test]
fn a_failover_logs_out_the_users_whose_session_writes_it_lost() {
    for seed in [19, 1, 2] {
        let file = "experiments/primary_failover.ron";
        let spurious = |s: &scalesim::Summary| s.sessions.as_ref().unwrap().spurious_logouts;
        let g_spike = on_graph(file, "lag-spike", seed);
        let g_normal = on_graph(file, "normal-lag", seed);
        let graph = spurious(&g_spike) as f64 - spurious(&g_normal) as f64;
        println!("seed {seed}: spike adds {graph} spurious logouts");
        // The single-tier engine added more than 100, and the graph at least 0.6 of it.
        assert!(
            graph > 60.0,
            "seed {seed}: the spike adds {graph} spurious logouts"
        );
    }
}

/// A single-tier file's `sessions` section counts the whole run, warm-up included (its
/// warm-up leaves out only latency figures), and so does its graph's: read_your_writes'
/// stale replica reads, most of them after the users' first logins, come out as the
/// single-tier engine's (19,584 on seed 17; the graph counted 13,618 from the end of the
/// warm-up). A graph run of its own still counts from the end of the warm-up.
#[test]
fn a_single_tier_sessions_section_counts_the_warm_up_on_the_graph_too() {
    for seed in [17, 1, 2] {
        let file = "experiments/read_your_writes.ron";
        let graph = on_graph(file, "replica-reads", seed);
        let g = graph.sessions.unwrap();
        // The former single-tier engine's stale reads, logins and authenticated requests
        // were within 5% of these.
        assert!(g.stale_reads > 15_000, "seed {seed}: {}", g.stale_reads);
        let plain = graph_runs(file, seed);
        let out = &plain.iter().find(|(v, _)| v == "replica-reads").unwrap().1;
        let after_warmup = out.summary.components["sessions.app"]["stale_reads"];
        assert!(
            after_warmup < 0.85 * g.stale_reads as f64,
            "seed {seed}: {after_warmup} after the warm-up vs {} in all",
            g.stale_reads
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
        let out = scalesim::graph::run_single_tier(&cfg, &g, None).expect("runs");
        let refused = out.summary.failed_by_reason["refused"];
        assert!(
            (28_500..=31_500).contains(&refused),
            "seed {seed}: {refused} refused, not about 2/3 of 45,000"
        );
    }
}

/// Every bundled single-tier experiment whose variants the graph form can all say: its
/// claims, checked on the runs of the graphs, hold there too. (The four that held on the
/// single-tier engine's own seed by luck were re-stated with bounds that hold on every seed
/// of 40 to 240 on both engines: the graph and the single-tier engine draw the same
/// distributions, e.g. M/M/10 waits of 350.9 ± 1.3 ms and 352.5 ± 1.2 over 200 seeds.)
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
    for f in files {
        let exp = load_experiment(&f, &[]).unwrap();
        if exp.runs.iter().any(|c| c.model.is_graph()) {
            continue;
        }
        let graphs: Vec<_> = exp
            .runs
            .iter()
            .map(|c| as_graph(c).unwrap_or_else(|e| panic!("{}: {e}", exp.name)))
            .collect();
        let summaries: Vec<_> = exp
            .runs
            .iter()
            .zip(&graphs)
            .map(|(c, g)| {
                scalesim::graph::run_single_tier(c, g, None)
                    .expect("runs")
                    .summary
            })
            .collect();
        for outcome in scalesim::claims::check(&exp.claims, &summaries) {
            if !outcome.held {
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
    // Every bundled single-tier experiment is written as its graph (the logout storm's
    // users ramp up by a shape, which a graph population says too).
    assert!(
        checked.len() >= 13,
        "only {checked:?} could be written as graphs"
    );
}
