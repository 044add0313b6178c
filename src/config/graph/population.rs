//! A named client population of an experiment on a graph model.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::bounds::{raise, MAX_BURST};
use super::validate::Scope;
use crate::config::experiment::{RetrySpec, ShapeSpec, ThrottleSpec};
use crate::config::rules::{Checked, Rules};
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
    /// Its attempts carry an idempotency key: a database recognises a retried write it has
    /// already applied for the same request and applies it only once, and the first service
    /// answers a retry of a request whose path has already finished there from its record
    /// (as a single-tier node does).
    #[serde(default)]
    pub idempotency_keys: bool,
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
        /// The population stops after issuing this many requests (`None`: no limit); the
        /// run ends once they have all ended, as the single-tier form's `max_requests`.
        /// (Left out when written back unset, so that a population keeps its config hash.)
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_requests: Option<u64>,
    },
    /// A closed population of users who think, send, wait and repeat.
    Users {
        /// Users in the population.
        count: u32,
        /// Time between one request's outcome and the user's next request.
        think: DistSpec,
        /// The share of users active over time (at most 1): user `i` of `count` is active
        /// while the shape is above `i / count`; an inactive user sleeps until the shape
        /// makes it active and then thinks, as in the single-tier form's `Users`. (Left out
        /// when written back `Constant`, so that a population keeps its config hash.)
        #[serde(default, skip_serializing_if = "is_constant")]
        shape: ShapeSpec,
        /// With sessions: the chance that a logged-in user's next action is a logout.
        /// (The session fields are left out when written back at their defaults, so that
        /// a population without them keeps its config hash.)
        #[serde(default, skip_serializing_if = "is_zero")]
        logout_share: f64,
        /// With sessions: the chance that, after logging out, the user's next action comes
        /// from a tab still open with the old session (before logging in again).
        #[serde(default, skip_serializing_if = "is_zero")]
        stale_tab_share: f64,
        /// With sessions: devices per person (users are devices: person = user ÷ devices),
        /// so that one person can be logged in on a laptop and a phone at once.
        #[serde(default = "one_device", skip_serializing_if = "is_one")]
        devices: u32,
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

fn one_device() -> u32 {
    1
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn is_constant(s: &ShapeSpec) -> bool {
    *s == ShapeSpec::Constant
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

impl PopulationSpec {
    /// Checks the population written at `path` (`populations.<name>`): its workload, its
    /// mix of the model's request kinds, and its timeout, retries and throttle (the rules
    /// of the single-tier form's `clients`).
    pub fn validate(&self, r: &Rules<'_>, path: &str, scope: &Scope<'_>) -> Checked {
        let at = |f: &str| format!("{path}.{f}");
        self.workload
            .validate(r, &at("workload"), scope.experiment.duration)?;
        if self.mix.is_empty() {
            return r.fail(
                &at("mix"),
                "a population needs at least one request kind, e.g. mix: {\"browse\": 1.0}",
            );
        }
        for (kind, share) in &self.mix {
            let p = at(&format!("mix.{kind}"));
            r.known(&p, kind, "request kinds", scope.model.requests.keys())?;
            r.positive(&p, *share, "a share")?;
        }
        if let Some(t) = self.timeout {
            r.nonzero(&at("timeout"), t)?;
        }
        if let Some(retry) = &self.retry {
            r.retry(&at("retry"), retry)?;
        }
        if let Some(t) = &self.throttle {
            r.throttle(&at("throttle"), t)?;
        }
        Ok(())
    }
}

impl PopulationWorkload {
    /// Checks the workload written at `path` of a run lasting `duration`.
    pub fn validate(&self, r: &Rules<'_>, path: &str, duration: Duration) -> Checked {
        let at = |f: &str| format!("{path}.{f}");
        match self {
            PopulationWorkload::Open {
                rate_per_s,
                shape,
                max_requests,
            } => {
                r.open_rate(&at("rate_per_s"), *rate_per_s, shape)?;
                if *max_requests == Some(0) {
                    return r.fail(
                        &at("max_requests"),
                        "must be at least 1 (or None for no limit)",
                    );
                }
                r.shape(&at("shape"), shape, false)
            }
            PopulationWorkload::Users {
                count,
                think,
                shape,
                logout_share,
                stale_tab_share,
                devices,
            } => {
                if *count == 0 {
                    return r.fail(&at("count"), "must be at least 1 user");
                }
                for (f, x) in [
                    ("logout_share", logout_share),
                    ("stale_tab_share", stale_tab_share),
                ] {
                    if !x.is_finite() || !(0.0..=1.0).contains(x) {
                        return r.fail(&at(f), format!("must be between 0 and 1, found {x}"));
                    }
                }
                if *devices == 0 || count % devices != 0 {
                    return r.fail(
                        &at("devices"),
                        format!(
                            "must be at least 1 and divide the user count ({count}), found {devices}"
                        ),
                    );
                }
                r.dist(&at("think"), think)?;
                // A share of users: above 1 there would be more active users than users.
                r.shape(&at("shape"), shape, true)
            }
            PopulationWorkload::Burst {
                at: start,
                count,
                over,
            } => {
                if *count == 0 {
                    return r.fail(&at("count"), "must be at least 1 request");
                }
                r.bounded(
                    &at("count"),
                    *count as u64,
                    MAX_BURST as u64,
                    "the burst",
                    &format!(
                        "every request of a burst is scheduled as it starts; use an Open workload with a Spike shape for a longer surge, or {}",
                        raise("MAX_BURST")
                    ),
                )?;
                let end = start.ns().saturating_add(over.ns());
                if end >= duration.ns() {
                    let field = if over.ns() == 0 { "at" } else { "over" };
                    return r.fail(
                        &at(field),
                        format!(
                            "the burst (at {start}, spread over {over}) must end before the end of the run ({duration})"
                        ),
                    );
                }
                Ok(())
            }
        }
    }
}
