//! Bugs the swarm generator (tests/support/swarm.rs) found, each pinned by a small case.

use scalesim::config;

fn run(experiment: &str, model: &str) -> scalesim::RunOutput {
    let cfg = config::single_run_from_texts(experiment, model).expect("a valid experiment");
    scalesim::run_config(&cfg).expect("the run keeps its invariants")
}

/// Swarm seed 1144: a cut to 1 worker, then a second cut to 3 while the first was on. The
/// second cut raised the capacity but no idle worker took the queue (2 of 3 idle beside a
/// full queue), and the end of either cut restored every worker while the other was on.
/// Overlapping cuts now keep the deepest, and the end of one leaves the other's.
#[test]
fn overlapping_capacity_cuts_keep_the_deepest_and_end_one_at_a_time() {
    let model =
        "System(balancer: Balancer(policy: RoundRobin), nodes: Nodes(count: 1, workers: 4, \
        queue_limit: None, service: Const(value: \"100ms\")))";
    let experiment = "Experiment(model: \"m.ron\", duration: \"4s\", warmup: \"0s\", seed: 5, \
        metrics_interval: \"250ms\", workload: Open(rate_per_s: 200.0), \
        faults: [CutCapacity(node: 0, at: \"1s\", lasting: \"10s\", workers: 3), \
                 CutCapacity(node: 0, at: \"2s\", lasting: \"1s\", workers: 1), \
                 CutCapacity(node: 0, at: \"2500ms\", lasting: \"250ms\", workers: 2)])";
    let out = run(experiment, model);
    // A row's gauges are read at its interval's end: 3 workers busy from 1 s, 1 from 2 s (the
    // deeper cut; the cut to 2 inside it changes nothing, nor does its end at 2.75 s), and 3
    // again from 3 s to the end (not all 4: the first cut is still on).
    let busy_at = |t: f64| {
        let row = out
            .series
            .rows
            .iter()
            .find(|r| (r.t_s - t).abs() < 1e-9)
            .expect("an interval starting at t");
        (row.gauges.busy_workers[0], row.gauges.queue_len[0])
    };
    for (t, want) in [(1.25, 3), (2.0, 1), (2.25, 1), (2.5, 1), (3.0, 3), (3.5, 3)] {
        let (busy, queued) = busy_at(t);
        assert!(queued > 0, "a queue in the interval from {t}s");
        assert_eq!(
            busy, want,
            "busy workers at the end of the interval from {t}s"
        );
    }
}

/// Swarm seed 204: two dependency stalls that overlap. The end of the first, while the
/// second was on, looped for ever at one instant (take an idle worker, find no call to serve,
/// release it); and a short stall inside a long one ended the long one early.
#[test]
fn overlapping_dependency_stalls_end_at_the_later_end() {
    let model =
        "System(balancer: Balancer(policy: RoundRobin), nodes: Nodes(count: 1, workers: 8, \
        queue_limit: None, service: Const(value: \"1ms\")), \
        dependency: Dependency(workers: 2, service: Const(value: \"5ms\")))";
    let experiment = "Experiment(model: \"m.ron\", duration: \"4s\", warmup: \"0s\", seed: 5, \
        metrics_interval: \"250ms\", workload: Open(rate_per_s: 100.0), \
        faults: [StallDependency(at: \"1s\", lasting: \"2s\"), \
                 StallDependency(at: \"1500ms\", lasting: \"500ms\")])";
    let out = run(experiment, model);
    // Nothing succeeds while either stall is on (1 s to 3 s; the calls held by the stall are
    // answered at 3 s, the last row's end), and the backlog clears after.
    for row in out
        .series
        .rows
        .iter()
        .filter(|r| r.t_s >= 1.25 && r.t_s < 2.75)
    {
        assert_eq!(
            row.succeeded, 0,
            "successes in the interval from {}s",
            row.t_s
        );
    }
    let after: u64 = out
        .series
        .rows
        .iter()
        .filter(|r| r.t_s >= 3.0)
        .map(|r| r.succeeded)
        .sum();
    assert!(
        after > 100,
        "the backlog is served after the stalls: {after}"
    );
}
