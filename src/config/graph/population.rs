//! A named client population of an experiment on a graph model.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::config::experiment::{RetrySpec, ShapeSpec, ThrottleSpec};
use crate::config::{DistSpec, Duration};

/// `Population(workload: Open(rate_per_s: 300), mix: {"browse": 1.0}, timeout: "2s")`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Population")]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    /// Where its requests come from.
    pub workload: PopulationWorkload,
    /// Request kinds (names in the model's `requests`) and their shares.
    pub mix: IndexMap<String, f64>,
    /// Its clients give up on an attempt after this long; `None` waits for ever.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Retries of failed attempts, if any.
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    /// Client-side adaptive throttling, if any.
    #[serde(default)]
    pub throttle: Option<ThrottleSpec>,
}

/// How a population's requests arrive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PopulationWorkload {
    /// Open-loop Poisson arrivals.
    Open {
        /// Mean arrivals per second at a load multiplier of 1.
        rate_per_s: f64,
        /// How the rate changes over time.
        #[serde(default)]
        shape: ShapeSpec,
    },
    /// A closed population of users who think, send, wait and repeat.
    Users {
        /// Users in the population.
        count: u32,
        /// Time between one request's outcome and the user's next request.
        think: DistSpec,
    },
    /// `count` requests at once at `at` (spread evenly over `over`, if given), each sent
    /// once by a client that then goes away.
    Burst {
        /// When the burst starts.
        at: Duration,
        /// Requests in the burst.
        count: u32,
        /// Time the burst is spread over; zero: all at the same instant.
        #[serde(default)]
        over: Duration,
    },
}
