//! A named message queue topic: partitions, and the service that consumes it.

use serde::{Deserialize, Serialize};

use super::bounds::{raise, MAX_PARTITIONS};
use super::validate::Scope;
use crate::config::rules::{Checked, Rules};

/// A topic: `Topic(partitions: 4, consumer: "worker")`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Topic")]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// Partitions; a message goes to one, and each partition is consumed in order.
    pub partitions: u32,
    /// The service whose instances consume the topic (each message is handled as a call
    /// of the request kind named `handler`).
    pub consumer: String,
    /// The request kind (a path in `requests`) that handles one message.
    pub handler: String,
}

impl TopicSpec {
    /// Checks the topic written at `path` (`model.queues.<name>`): its partitions are
    /// bounded, its consumer is a service and its handler a request kind.
    pub fn validate(&self, r: &Rules<'_>, path: &str, scope: &Scope<'_>) -> Checked {
        let at = |f: &str| format!("{path}.{f}");
        r.at_least_one(&at("partitions"), self.partitions)?;
        r.bounded(
            &at("partitions"),
            self.partitions as u64,
            MAX_PARTITIONS as u64,
            "the partition count",
            &format!(
                "each partition keeps its own log and consumer position; {}",
                raise("MAX_PARTITIONS")
            ),
        )?;
        r.known(
            &at("consumer"),
            &self.consumer,
            "services",
            scope.model.services.keys(),
        )?;
        r.known(
            &at("handler"),
            &self.handler,
            "request kinds",
            scope.model.requests.keys(),
        )
    }
}
