//! How a distribution of durations is written in a file: `Exp(mean: "4ms")`,
//! `LogNormal(median: "12ms", p99: "80ms")`, … and its conversion to the engine's form.

use super::duration::Duration;
use crate::engine::Distribution;
use serde::{Deserialize, Serialize};

/// A distribution of durations as written in a model or experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum DistSpec {
    /// Exponential with this mean (memoryless: Poisson arrivals, M/M/c service).
    Exp { mean: Duration },
    /// Always exactly this long (M/D/1).
    Const { value: Duration },
    /// Uniform between `min` and `max`.
    Uniform { min: Duration, max: Duration },
    /// Log-normal through its median and 99th percentile (p99 ≥ median).
    LogNormal { median: Duration, p99: Duration },
    /// Erlang: the sum of `k` exponential phases with total mean `mean`.
    Erlang { k: u32, mean: Duration },
    /// Pareto: at least `scale`, tail index `shape` (> 1 for a finite mean).
    Pareto { scale: Duration, shape: f64 },
}

/// The most phases an `Erlang` may have (a sample costs `k` random draws).
pub const MAX_ERLANG_K: u32 = 1000;

impl DistSpec {
    /// Checks the parameters; the error says which field is wrong (relative to this spec).
    pub fn check(&self) -> Result<(), (String, String)> {
        let fail = |field: &str, msg: &str| Err((field.to_string(), msg.to_string()));
        match self {
            DistSpec::Exp { mean } if mean.ns() == 0 => fail("mean", "must be greater than zero"),
            DistSpec::Uniform { min, max } if min > max => fail(
                "min",
                &format!("min ({min}) must not be greater than max ({max})"),
            ),
            DistSpec::LogNormal { median, .. } if median.ns() == 0 => {
                fail("median", "must be greater than zero")
            }
            DistSpec::LogNormal { median, p99 } if p99 < median => fail(
                "p99",
                &format!("p99 ({p99}) must not be less than the median ({median})"),
            ),
            DistSpec::Erlang { k: 0, .. } => fail("k", "must be at least 1"),
            // Each sample draws k exponential phases, so k multiplies the run's time. Past
            // MAX_ERLANG_K phases the spread (cv = 1/sqrt(k) = 3%) is as good as none.
            DistSpec::Erlang { k, .. } if *k > MAX_ERLANG_K => fail(
                "k",
                &format!(
                    "must be at most {MAX_ERLANG_K}, found {k}: each sample draws k random phases, and past {MAX_ERLANG_K} the spread is about 3% of the mean; for a fixed duration use Const(value: …)"
                ),
            ),
            DistSpec::Erlang { mean, .. } if mean.ns() == 0 => {
                fail("mean", "must be greater than zero")
            }
            DistSpec::Pareto { scale, .. } if scale.ns() == 0 => {
                fail("scale", "must be greater than zero")
            }
            DistSpec::Pareto { shape, .. } if !shape.is_finite() || *shape <= 1.0 => fail(
                "shape",
                &format!("must be a finite number greater than 1 (a finite mean), found {shape}"),
            ),
            _ => Ok(()),
        }
    }

    /// The engine's form, with parameters in nanoseconds. Call `check` first.
    pub fn resolve(&self) -> Distribution {
        match *self {
            DistSpec::Exp { mean } => Distribution::Exp {
                mean_ns: mean.ns() as f64,
            },
            DistSpec::Const { value } => Distribution::Const {
                value_ns: value.ns() as f64,
            },
            DistSpec::Uniform { min, max } => Distribution::Uniform {
                min_ns: min.ns() as f64,
                max_ns: max.ns() as f64,
            },
            DistSpec::LogNormal { median, p99 } => {
                Distribution::log_normal(median.ns() as f64, p99.ns() as f64)
            }
            DistSpec::Erlang { k, mean } => Distribution::Erlang {
                k,
                mean_ns: mean.ns() as f64,
            },
            DistSpec::Pareto { scale, shape } => Distribution::Pareto {
                scale_ns: scale.ns() as f64,
                shape,
            },
        }
    }

    /// The mean in milliseconds, for tables and capacity estimates.
    pub fn mean_ms(&self) -> f64 {
        self.resolve().mean_ns() / 1e6
    }
}
