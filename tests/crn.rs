//! Common random numbers: two designs compared under one seed see the same users doing
//! the same things — the same request kinds (logins and logouts are kinds) after the same
//! think times — until their designs first give a user a different outcome.

use scalesim::config::Override;
use scalesim::graph::request_log::RequestRecord;
use scalesim::graph::RunOptions;
use scalesim::load_experiment;
use std::collections::BTreeMap;
use std::path::Path;

/// Each user's ended requests in the order they were issued, from variant `variant` of the
/// logout storm.
fn per_user(variant: &str, seed: u64) -> BTreeMap<u32, Vec<RequestRecord>> {
    let sets: Vec<Override> = ["workload.count=5000"]
        .iter()
        .map(|s| Override::parse_flag(s).unwrap())
        .collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/logout_storm.ron");
    let exp = load_experiment(&path, &sets).expect("loads");
    let cfg = exp
        .runs
        .iter()
        .find(|r| r.variant == variant)
        .unwrap()
        .with_seed(seed);
    let options = RunOptions {
        request_log: true,
        ..Default::default()
    };
    let out = scalesim::run_config_with(&cfg, options).expect("runs");
    let mut users: BTreeMap<u32, Vec<RequestRecord>> = BTreeMap::new();
    for r in out.request_log.expect("asked for") {
        users
            .entry(r.user.expect("a closed population"))
            .or_default()
            .push(r);
    }
    for reqs in users.values_mut() {
        reqs.sort_by_key(|r| r.issued_at);
    }
    users
}

/// Requests compared, and requests that agreed, up to each user's first differing outcome.
fn agreement(
    a: &BTreeMap<u32, Vec<RequestRecord>>,
    b: &BTreeMap<u32, Vec<RequestRecord>>,
) -> (usize, usize) {
    let (mut compared, mut before_divergence) = (0, 0);
    for (user, ra) in a {
        let Some(rb) = b.get(user) else { continue };
        for (i, (x, y)) in ra.iter().zip(rb).enumerate() {
            compared += 1;
            assert_eq!(x.kind, y.kind, "user {user}, request {i}: kind");
            if i == 0 {
                assert_eq!(
                    x.issued_at, y.issued_at,
                    "user {user}: first request's time"
                );
            } else {
                // The think time before this request: from the end of the one before.
                let think_x = x.issued_at.since(ra[i - 1].ended_at);
                let think_y = y.issued_at.since(rb[i - 1].ended_at);
                assert_eq!(think_x, think_y, "user {user}, request {i}: think time");
            }
            before_divergence += 1;
            if x.outcome != y.outcome {
                break; // the designs differ from here: the user's session state does too
            }
        }
    }
    (compared, before_divergence)
}

#[test]
fn two_designs_see_the_same_users_until_their_outcomes_differ() {
    for seed in [1, 2, 3] {
        let sticky = per_user("sticky", seed);
        let token = per_user("signed-token", seed);
        let in_memory = per_user("in-memory", seed);
        // Sticky sessions and signed tokens never log a user out: every user's whole
        // sequence agrees.
        let (compared, agreed) = agreement(&sticky, &token);
        assert!(compared > 20_000, "seed {seed}: only {compared} requests");
        assert_eq!(compared, agreed, "seed {seed}");
        // In memory behind round-robin, users are logged out early; up to then, the same.
        let (compared, agreed) = agreement(&sticky, &in_memory);
        assert!(
            agreed > 5_000 && agreed <= compared,
            "seed {seed}: {agreed} of {compared}"
        );
        let diverged = sticky
            .iter()
            .filter(|(u, r)| {
                in_memory
                    .get(u)
                    .is_some_and(|m| r.iter().zip(m).any(|(x, y)| x.outcome != y.outcome))
            })
            .count();
        assert!(
            diverged > 1_000,
            "seed {seed}: only {diverged} users saw a different outcome"
        );
    }
}
