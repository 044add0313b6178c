//! Queueing-theory answers for the models `validate` checks: M/M/1, M/M/c (Erlang C) and
//! M/D/1 (Pollaczek–Khinchine). Times in milliseconds, rates per second.

/// Analytic mean wait (in queue) and mean response (wait + service), ms.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Theory {
    /// Mean time waiting for a server, ms.
    pub mean_wait_ms: f64,
    /// Mean time in the system, ms.
    pub mean_response_ms: f64,
}

/// Erlang C: the probability that an arrival waits, with offered load `a` = λ/μ on `c`
/// servers (a < c). Computed through the Erlang B recursion, stable for large `c`.
pub fn erlang_c(a: f64, c: u32) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let c = c as f64;
    c * b / (c - a * (1.0 - b))
}

/// M/M/c with arrival rate `rate_per_s`, `c` servers and mean service `service_ms`.
pub fn mmc(rate_per_s: f64, c: u32, service_ms: f64) -> Theory {
    let lambda = rate_per_s / 1000.0; // per ms
    let a = lambda * service_ms;
    let pw = erlang_c(a, c);
    let wq = pw * service_ms / (c as f64 - a);
    Theory {
        mean_wait_ms: wq,
        mean_response_ms: wq + service_ms,
    }
}

/// M/G/1 by Pollaczek–Khinchine: Wq = λ E[S²] / (2 (1 − ρ)).
pub fn mg1(rate_per_s: f64, service_ms: f64, second_moment_ms2: f64) -> Theory {
    let lambda = rate_per_s / 1000.0;
    let rho = lambda * service_ms;
    let wq = lambda * second_moment_ms2 / (2.0 * (1.0 - rho));
    Theory {
        mean_wait_ms: wq,
        mean_response_ms: wq + service_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mm1_is_mmc_with_one_server() {
        // M/M/1, λ = 0.8/ms, S = 1 ms: W = 1 / (μ − λ) = 5 ms, Wq = ρ W = 4 ms.
        let t = mmc(800.0, 1, 1.0);
        assert!((t.mean_response_ms - 5.0).abs() < 1e-12);
        assert!((t.mean_wait_ms - 4.0).abs() < 1e-12);
    }

    #[test]
    fn erlang_c_matches_a_published_value() {
        // a = 8.5 Erlangs on 10 servers (the bench's M/M/10 case): P(wait) = 0.52986…,
        // as the textbook sum formula in ../shared/bench/mmc_simpy.py also gives.
        let pw = erlang_c(8.5, 10);
        assert!((pw - 0.529_861_305).abs() < 1e-8, "{pw}");
        // Mean wait for λ = 8.5/s, S = 1 s: Pw · S / (c − a) = 0.35324 s.
        let t = mmc(8.5, 10, 1000.0);
        assert!(
            (t.mean_wait_ms - 353.240_87).abs() < 1e-3,
            "{}",
            t.mean_wait_ms
        );
    }

    #[test]
    fn md1_waits_half_as_long_as_mm1() {
        let d = mg1(800.0, 1.0, 1.0);
        let m = mg1(800.0, 1.0, 2.0);
        assert!((d.mean_wait_ms - 2.0).abs() < 1e-12);
        assert!((m.mean_wait_ms - 4.0).abs() < 1e-12);
    }
}
