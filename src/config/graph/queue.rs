//! A named message queue topic: partitions, the service that consumes it, and how its
//! consumer commits and retries (Kafka-like, at-least-once).

use serde::{Deserialize, Serialize};

use super::bounds::{raise, MAX_PARTITIONS};
use super::step::StepSpec;
use super::validate::Scope;
use crate::config::rules::{Checked, Rules};
use crate::config::{DistSpec, Duration};
use crate::engine::SimTime;

/// A topic: `Topic(partitions: 4, consumer: "worker", handler: "handle_order")`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Topic")]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// Partitions; a message goes to one (round-robin), and each partition is consumed in
    /// order, one message at a time.
    pub partitions: u32,
    /// The service whose instances consume the topic (each message is handled as a call
    /// of the request kind named `handler`).
    pub consumer: String,
    /// The request kind (a path in `requests`, starting with `Call(consumer)`) that
    /// handles one message.
    pub handler: String,
    /// Time from a `Produce` step's start until the topic has stored the message and the
    /// step ends (the producer never waits for consumption); `None`: at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<DistSpec>,
    /// How often the consumer commits its position in each partition (Kafka's
    /// `auto.commit.interval.ms`): messages handled since the last commit are handled
    /// again after a failed delivery. Zero commits each message as soon as it is handled.
    #[serde(default = "default_commit_every")]
    pub commit_every: Duration,
    /// Wait after a failed delivery before the partition is delivered again from its
    /// committed offset (must be greater than zero: a consumer that is down is retried
    /// at this pace until it is back).
    #[serde(default = "default_retry_after")]
    pub retry_after: Duration,
    /// A delivery not answered within this long fails (Kafka's `max.poll.interval.ms`:
    /// the consumer is taken for dead), and its partition is delivered again from the
    /// committed offset; a late answer is ignored. `None`: wait for the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

fn default_commit_every() -> Duration {
    Duration(SimTime::from_secs(1))
}

fn default_retry_after() -> Duration {
    Duration(SimTime::from_millis(100))
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
        )?;
        // A path that does not start with a call at all is the path's own error.
        let first = scope.model.requests[&self.handler].first();
        if matches!(first, Some(StepSpec::Call(s)) if *s != self.consumer) {
            return r.fail(
                &at("handler"),
                format!(
                    "the handler `{}` must start with `Call(\"{}\")`: its messages go to the \
                     consumer service",
                    self.handler, self.consumer
                ),
            );
        }
        if let Some(d) = &self.publish {
            r.dist(&at("publish"), d)?;
        }
        // A zero backoff would redeliver at the same instant, for ever, while the
        // consumer is down.
        r.nonzero(&at("retry_after"), self.retry_after)?;
        match self.timeout {
            Some(t) => r.nonzero(&at("timeout"), t),
            None => Ok(()),
        }
    }
}
