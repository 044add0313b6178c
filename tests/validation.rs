//! The simulator against queueing theory: for utilisation up to 0.9, the analytic mean
//! response lies inside the simulated 95% batch-means interval on at least three of five
//! seeds, and on every seed the interval is tight and the mean close to the theory's.
//!
//! (A 95% interval misses the true mean one time in twenty, so "inside on every seed" fails
//! on some seed for a correct simulator whenever trajectories move; three misses in five
//! seeds happen by chance about one time in a thousand.)

use scalesim::validate::{validate, QueueModel, ValidationParams};

fn check(model: QueueModel, rate: f64, servers: u32, service_ms: f64, first_seed: u64) {
    let seeds = (0..5).map(|k| first_seed + 100 * k);
    let mut misses = Vec::new();
    for seed in seeds {
        if let Some(miss) = check_seed(model, rate, servers, service_ms, seed) {
            misses.push(miss);
        }
    }
    assert!(
        misses.len() <= 2,
        "the theory is outside the 95% CI on {} of 5 seeds: {misses:?}",
        misses.len()
    );
}

/// Asserts the error bounds on one seed; says whether the theory missed the interval.
fn check_seed(
    model: QueueModel,
    rate: f64,
    servers: u32,
    service_ms: f64,
    seed: u64,
) -> Option<String> {
    let r = validate(&ValidationParams {
        model,
        rate_per_s: rate,
        servers,
        service_mean_ms: service_ms,
        customers: None,
        seed,
    })
    .expect("valid parameters");
    let reproduce = format!(
        "cargo run --release -- validate {} --rate {rate} --servers {servers} --service-mean-ms {service_ms} --seed {seed}",
        r.model
    );
    assert!(
        r.ci_relative_half_width < 0.02,
        "half-width {:.3}% of the mean (reproduce: {reproduce})",
        r.ci_relative_half_width * 100.0
    );
    assert!(
        r.relative_error < 0.02,
        "relative error {} (reproduce: {reproduce})",
        r.relative_error
    );
    // The wait agrees too (looser: the wait is a smaller number, so relatively noisier).
    let w = (r.sim.mean_wait_ms - r.theory.mean_wait_ms).abs() / r.theory.mean_wait_ms;
    assert!(
        w < 0.05,
        "mean wait {} vs theory {} (reproduce: {reproduce})",
        r.sim.mean_wait_ms,
        r.theory.mean_wait_ms
    );
    (!r.theory_inside_ci).then(|| {
        format!(
            "theory {} outside {:?} (reproduce: {reproduce})",
            r.theory.mean_response_ms, r.sim.ci95_response_ms
        )
    })
}

#[test]
fn mm1_at_half_load() {
    check(QueueModel::Mm1, 500.0, 1, 1.0, 1);
}

#[test]
fn mm1_at_0_8() {
    check(QueueModel::Mm1, 800.0, 1, 1.0, 2);
}

#[test]
fn mmc_ten_servers_at_0_85() {
    check(QueueModel::Mmc, 8.5, 10, 1000.0, 3);
}

#[test]
fn mmc_four_servers_at_0_9() {
    check(QueueModel::Mmc, 36.0, 4, 100.0, 4);
}

#[test]
fn md1_at_0_9() {
    check(QueueModel::Md1, 900.0, 1, 1.0, 5);
}

#[test]
fn md1_at_0_6() {
    check(QueueModel::Md1, 60.0, 1, 10.0, 6);
}

#[test]
fn overloaded_queue_is_refused_not_simulated() {
    let e = validate(&ValidationParams {
        model: QueueModel::Mm1,
        rate_per_s: 1000.0,
        servers: 1,
        service_mean_ms: 1.0,
        customers: None,
        seed: 1,
    })
    .unwrap_err();
    assert!(
        e.to_string().contains("--rate") && e.to_string().contains("no steady state"),
        "{e}"
    );
}
