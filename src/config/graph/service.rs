//! A named service: identical instances behind a balancer, each a pool of workers.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::bounds::{raise, MAX_INSTANCES_PER_SERVICE};
use super::pool::{self, QueueSpec, Slowdown};
use super::validate::Scope;
use crate::config::experiment::RetrySpec;
use crate::config::model::{AutoscalerSpec, BalancerSpec, ColdStartSpec};
use crate::config::rules::{Checked, Rules};
use crate::config::{DistSpec, Duration};

/// A service: `Service(instances: 4, workers: 32, service: Exp(mean: "8ms"))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Service")]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Instances running from the start.
    pub instances: u32,
    /// Requests an instance works on at once (its worker threads). A worker is held
    /// from the start of the service's own work until the rest of the path answers.
    pub workers: u32,
    /// The queue in front of each instance's workers.
    #[serde(default)]
    pub queue: QueueSpec,
    /// How the service's balancer spreads calls over its instances.
    #[serde(default)]
    pub balancer: BalancerSpec,
    /// The service's own work on one request (before the rest of the path).
    pub service: DistSpec,
    /// The service's own work for particular request kinds.
    #[serde(default)]
    pub service_by_kind: IndexMap<String, DistSpec>,
    /// Service time grows with the instance's utilisation, if set.
    #[serde(default)]
    pub slowdown: Option<Slowdown>,
    /// Time from a restart until an instance accepts calls.
    #[serde(default)]
    pub startup: Duration,
    /// A freshly restarted instance is slower for a while, if set.
    #[serde(default)]
    pub cold_start: Option<ColdStartSpec>,
    /// Connections each instance keeps open to a database (by name); a worker that needs
    /// one waits for a free one. A database without an entry: no per-instance limit.
    #[serde(default)]
    pub connections: IndexMap<String, u32>,
    /// How this service's workers call other services (`Call` steps after it on a path):
    /// timeout and retries at this layer. `None`: wait for the answer, never retry.
    #[serde(default)]
    pub calls: Option<CallPolicy>,
    /// Adds and removes instances by the service's own load, if set: `instances` is the
    /// count at the start, between `min_nodes` and `max_nodes` (here: instances).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaler: Option<AutoscalerSpec>,
    /// What one instance costs for each hour it is provisioned (provisioning, booting,
    /// serving, draining or crashed), in the model's currency.
    #[serde(default = "default_price", skip_serializing_if = "is_default_price")]
    pub price_per_instance_hour: f64,
    /// User sessions checked by this service's instances (see `sessions.rs`), if any.
    /// (Left out when written back: a model without sessions keeps its config hash.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<super::ServiceSessionsSpec>,
}

fn default_price() -> f64 {
    crate::config::ModelSpec::default_price()
}

fn is_default_price(p: &f64) -> bool {
    *p == default_price()
}

/// A caller's policy for its calls to another service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Calls")]
#[serde(deny_unknown_fields)]
pub struct CallPolicy {
    /// A call is given up after this long; `None` waits for ever.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Retries of a failed call, if any.
    #[serde(default)]
    pub retry: Option<RetrySpec>,
}

impl ServiceSpec {
    /// The most instances it may have at once: its autoscaler's ceiling, or its count.
    pub fn most_instances(&self) -> u32 {
        self.autoscaler
            .as_ref()
            .map_or(self.instances, |a| a.max_nodes.max(self.instances))
    }

    /// Checks the service written at `path` (`model.services.<name>`): its sizes, times,
    /// balancer, the request kinds and databases it names, and its call policy.
    pub fn validate(&self, r: &Rules<'_>, path: &str, scope: &Scope<'_>) -> Checked {
        let at = |f: &str| format!("{path}.{f}");
        r.at_least_one(&at("instances"), self.instances)?;
        r.bounded(
            &at("instances"),
            self.instances as u64,
            MAX_INSTANCES_PER_SERVICE as u64,
            "the instance count",
            &format!(
                "each instance has its own state, queue and columns; split the service in two, or {}",
                raise("MAX_INSTANCES_PER_SERVICE")
            ),
        )?;
        pool::workers(r, &at("workers"), self.workers)?;
        r.balancer(&at("balancer"), &self.balancer)?;
        if let Some(d) = self.balancer.slow_start {
            r.nonzero(&at("balancer.slow_start"), d)?;
        }
        if let Some(a) = &self.autoscaler {
            super::autoscale::validate(r, path, a, self.instances)?;
        }
        r.price(&at("price_per_instance_hour"), self.price_per_instance_hour)?;
        r.dist(&at("service"), &self.service)?;
        for (kind, d) in &self.service_by_kind {
            let p = at(&format!("service_by_kind.{kind}"));
            r.known(&p, kind, "request kinds", scope.model.requests.keys())?;
            r.dist(&p, d)?;
        }
        if let Some(s) = &self.slowdown {
            s.validate(r, &at("slowdown"))?;
        }
        if let Some(c) = &self.cold_start {
            r.cold_start(&at("cold_start"), c)?;
        }
        for (db, n) in &self.connections {
            let p = at(&format!("connections.{db}"));
            r.known(&p, db, "databases", scope.model.databases.keys())?;
            if *n == 0 {
                return r.fail(&p, "must be at least 1 connection (leave the database out for no per-instance limit)");
            }
        }
        if let Some(c) = &self.calls {
            if let Some(t) = c.timeout {
                r.nonzero(&at("calls.timeout"), t)?;
            }
            if let Some(retry) = &c.retry {
                r.retry(&at("calls.retry"), retry)?;
            }
        }
        if let Some(s) = &self.sessions {
            s.validate(r, &at("sessions"), scope)?;
        }
        Ok(())
    }
}
