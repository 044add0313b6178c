//! What a sweep file says, as written in `experiments/sweeps/*.ron`:
//!
//! ```ron
//! Sweep(
//!     experiment: "experiments/balancer_policies.ron",
//!     seed: 1,
//!     replications: 5,
//!     combine: Grid,
//!     axes: [
//!         Axis(path: "workload.rate_per_s", values: Linear(from: 500.0, to: 2000.0, steps: 4)),
//!         Axis(path: "model.nodes.count", values: List([1, 2, 4])),
//!     ],
//!     baseline: "round-robin",
//! )
//! ```

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

fn one_u64() -> u64 {
    1
}

fn one_u32() -> u32 {
    1
}

/// A whole sweep file: `Sweep(experiment: "…", axes: […], replications: 5, …)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Sweep")]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// The sweep's name; defaults to the file name without `.ron`.
    #[serde(default)]
    pub name: Option<String>,
    /// What the sweep asks, in a sentence.
    #[serde(default)]
    pub description: String,
    /// The experiment every point starts from (as given, or relative to the sweep file and
    /// the folders above it).
    pub experiment: String,
    /// The sweep seed: every run's seed derives from it, the point and the replication.
    #[serde(default = "one_u64")]
    pub seed: u64,
    /// Runs per point and variant, each on its own seed.
    #[serde(default = "one_u32")]
    pub replications: u32,
    /// How the axes combine into points: every combination (`Grid`) or side by side (`Zip`).
    #[serde(default)]
    pub combine: Combine,
    /// The parameters swept, each a dotted path (as `--set` takes) and its values.
    #[serde(default)]
    pub axes: Vec<AxisSpec>,
    /// The experiment's variants to run (default: all of them, in file order).
    #[serde(default)]
    pub variants: Option<Vec<String>>,
    /// The variant the others are compared with in `points.csv` (default: the first).
    #[serde(default)]
    pub baseline: Option<String>,
    /// Overrides applied to every point before the axis values: dotted path → value.
    #[serde(default)]
    pub set: IndexMap<String, String>,
    /// Replications until precise: add batches of `replications` runs to each point until
    /// the figure's 95% half-width is within a share of its mean (`--precision` on the
    /// command line overrides it).
    #[serde(default)]
    pub precision: Option<PrecisionSpec>,
}

/// `Precision(figure: "wait_ms_mean", within: 0.02, max_replications: 200)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Precision")]
#[serde(deny_unknown_fields)]
pub struct PrecisionSpec {
    /// The summary figure whose interval must be narrow (default: `latency_ms_mean`).
    #[serde(default)]
    pub figure: Option<String>,
    /// The largest 95% half-width allowed, as a share of the figure's mean (0.02: ±2%).
    pub within: f64,
    /// The most replications a point may take (default: 200).
    #[serde(default)]
    pub max_replications: Option<u32>,
}

/// How axes combine into points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Combine {
    /// Every combination; the last axis varies fastest.
    #[default]
    Grid,
    /// The i-th value of every axis together; all axes have the same number of values.
    Zip,
}

/// One swept parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Axis")]
#[serde(deny_unknown_fields)]
pub struct AxisSpec {
    /// Dotted path of the parameter, e.g. `model.nodes.count`.
    pub path: String,
    /// Its values.
    pub values: ValuesSpec,
}

/// The values of an axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ValuesSpec {
    /// These values, written as in a RON file or `--set`: `[1, 2, 4]`, `["250ms", "1s"]`,
    /// `["RoundRobin", "LeastConnections"]`.
    List(Vec<ValueSpec>),
    /// `steps` evenly spaced values from `from` to `to`, both included.
    Linear {
        from: f64,
        to: f64,
        steps: u32,
        /// Round every value to the nearest integer (dropping repeats), for counts.
        #[serde(default)]
        integer: bool,
    },
    /// `steps` values from `from` to `to` with a constant ratio, both included (both > 0).
    Geometric {
        from: f64,
        to: f64,
        steps: u32,
        /// Round every value to the nearest integer (dropping repeats), for counts.
        #[serde(default)]
        integer: bool,
    },
    /// `from`, `from + step`, … up to and including `to`.
    Range { from: f64, to: f64, step: f64 },
}

/// One listed value: a number, a boolean, `None`, or text (a duration, an enum variant,
/// any RON value in quotes).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ValueSpec {
    /// An integer.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// Text, passed on as written (`"250ms"`, `"LeastConnections"`, `"Exp(mean: \"5ms\")"`);
    /// `None` is the text `None`.
    Text(String),
}

impl<'de> Deserialize<'de> for ValueSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ValueSpec, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ValueSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, true or false, None, or a value in quotes such as \"250ms\" or \"LeastConnections\"")
            }
            fn visit_i64<E>(self, v: i64) -> Result<ValueSpec, E> {
                Ok(ValueSpec::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ValueSpec, E> {
                i64::try_from(v)
                    .map(ValueSpec::Int)
                    .map_err(|_| E::custom(format!("{v} is too large")))
            }
            fn visit_f64<E>(self, v: f64) -> Result<ValueSpec, E> {
                Ok(ValueSpec::Float(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<ValueSpec, E> {
                Ok(ValueSpec::Bool(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<ValueSpec, E> {
                Ok(ValueSpec::Text(v.to_string()))
            }
            fn visit_none<E>(self) -> Result<ValueSpec, E> {
                Ok(ValueSpec::Text("None".into()))
            }
        }
        d.deserialize_any(V)
    }
}
