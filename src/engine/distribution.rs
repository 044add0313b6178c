//! Probability distributions of durations (service times, think times, lags), resolved
//! to nanoseconds. A sample is drawn as a float and rounded to an integer `SimTime` once.

use super::time::{f64_ns_to_ns, SimTime};
use rand::Rng;
use rand_distr::{Distribution as _, Exp1, StandardNormal};

/// z such that P(Z < z) = 0.99 for a standard normal; turns a p99 into a log-normal sigma.
const Z_99: f64 = 2.326_347_874_040_840_8;

/// A distribution of non-negative durations. Parameters are in nanoseconds (as floats, so
/// that sub-nanosecond means still average correctly before the final rounding).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Distribution {
    /// Exponential with the given mean (a Poisson process's gaps; M/M/c service).
    Exp { mean_ns: f64 },
    /// Always the same value (M/D/1 service).
    Const { value_ns: f64 },
    /// Uniform on [min, max].
    Uniform { min_ns: f64, max_ns: f64 },
    /// Log-normal given its median and 99th percentile: the usual shape of web latencies.
    LogNormal { mu: f64, sigma: f64 },
    /// Erlang-k (sum of k exponentials) with the given mean: less variable than exponential.
    Erlang { k: u32, mean_ns: f64 },
    /// Pareto with minimum `scale` and tail index `shape`: heavy tails.
    Pareto { scale_ns: f64, shape: f64 },
}

impl Distribution {
    /// A log-normal from its median and p99 (p99 ≥ median; equal gives a constant).
    pub fn log_normal(median_ns: f64, p99_ns: f64) -> Distribution {
        let mu = median_ns.ln();
        let sigma = ((p99_ns.ln() - mu) / Z_99).max(0.0);
        Distribution::LogNormal { mu, sigma }
    }

    /// Draws one duration from `rng`, multiplied by `scale` (e.g. a slowdown factor).
    #[inline]
    pub fn sample_scaled<R: Rng + ?Sized>(&self, rng: &mut R, scale: f64) -> SimTime {
        let ns = match *self {
            Distribution::Exp { mean_ns } => {
                let e: f64 = Exp1.sample(rng);
                e * mean_ns
            }
            Distribution::Const { value_ns } => value_ns,
            Distribution::Uniform { min_ns, max_ns } => {
                let u: f64 = rng.random();
                min_ns + u * (max_ns - min_ns)
            }
            Distribution::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Distribution::Erlang { k, mean_ns } => {
                let mut total = 0.0;
                for _ in 0..k {
                    let e: f64 = Exp1.sample(rng);
                    total += e;
                }
                total * mean_ns / k as f64
            }
            Distribution::Pareto { scale_ns, shape } => {
                // Inverse CDF; 1 - u lies in (0, 1] so the power never divides by zero.
                let u: f64 = rng.random();
                scale_ns / (1.0 - u).powf(1.0 / shape)
            }
        };
        // Rounded once, from nanoseconds (no division to seconds and back).
        SimTime(f64_ns_to_ns(ns * scale))
    }

    /// Draws one duration from `rng`.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimTime {
        self.sample_scaled(rng, 1.0)
    }

    /// The mean in nanoseconds (infinite for a Pareto with shape ≤ 1).
    pub fn mean_ns(&self) -> f64 {
        match *self {
            Distribution::Exp { mean_ns } => mean_ns,
            Distribution::Const { value_ns } => value_ns,
            Distribution::Uniform { min_ns, max_ns } => (min_ns + max_ns) / 2.0,
            Distribution::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Distribution::Erlang { mean_ns, .. } => mean_ns,
            Distribution::Pareto { scale_ns, shape } => {
                if shape <= 1.0 {
                    f64::INFINITY
                } else {
                    shape * scale_ns / (shape - 1.0)
                }
            }
        }
    }

    /// The second moment E[S²] in ns² (for Pollaczek–Khinchine); infinite when undefined.
    pub fn second_moment_ns2(&self) -> f64 {
        match *self {
            Distribution::Exp { mean_ns } => 2.0 * mean_ns * mean_ns,
            Distribution::Const { value_ns } => value_ns * value_ns,
            Distribution::Uniform { min_ns, max_ns } => {
                (min_ns * min_ns + min_ns * max_ns + max_ns * max_ns) / 3.0
            }
            Distribution::LogNormal { mu, sigma } => (2.0 * mu + 2.0 * sigma * sigma).exp(),
            Distribution::Erlang { k, mean_ns } => mean_ns * mean_ns * (1.0 + 1.0 / k as f64),
            Distribution::Pareto { scale_ns, shape } => {
                if shape <= 2.0 {
                    f64::INFINITY
                } else {
                    shape * scale_ns * scale_ns / (shape - 2.0)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    fn sample_mean(d: Distribution, n: usize) -> (f64, f64) {
        let mut rng = stream(7, "test");
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let x = d.sample(&mut rng).0 as f64;
            s += x;
            s2 += x * x;
        }
        (s / n as f64, s2 / n as f64)
    }

    #[test]
    fn sample_moments_match_the_formulas() {
        let cases = [
            Distribution::Exp { mean_ns: 4e6 },
            Distribution::Const { value_ns: 2.5e6 },
            Distribution::Uniform {
                min_ns: 1e6,
                max_ns: 3e6,
            },
            Distribution::log_normal(12e6, 80e6),
            Distribution::Erlang { k: 4, mean_ns: 8e6 },
            Distribution::Pareto {
                scale_ns: 1e6,
                shape: 3.5,
            },
        ];
        for d in cases {
            let (m, m2) = sample_mean(d, 400_000);
            let rel = (m - d.mean_ns()).abs() / d.mean_ns();
            assert!(rel < 0.01, "{d:?}: sample mean {m} vs {}", d.mean_ns());
            let rel2 = (m2 - d.second_moment_ns2()).abs() / d.second_moment_ns2();
            assert!(
                rel2 < 0.06,
                "{d:?}: sample E[S^2] {m2} vs {}",
                d.second_moment_ns2()
            );
        }
    }

    #[test]
    fn log_normal_hits_its_median_and_p99() {
        let d = Distribution::log_normal(12e6, 80e6);
        let mut rng = stream(3, "ln");
        let mut xs: Vec<u64> = (0..200_000).map(|_| d.sample(&mut rng).0).collect();
        xs.sort_unstable();
        let median = xs[xs.len() / 2] as f64;
        let p99 = xs[xs.len() * 99 / 100] as f64;
        assert!((median / 12e6 - 1.0).abs() < 0.02, "median {median}");
        assert!((p99 / 80e6 - 1.0).abs() < 0.04, "p99 {p99}");
    }

    #[test]
    fn scale_multiplies_the_sample() {
        let d = Distribution::Const { value_ns: 1e6 };
        let mut rng = stream(1, "s");
        assert_eq!(d.sample_scaled(&mut rng, 3.0), SimTime(3_000_000));
    }
}
