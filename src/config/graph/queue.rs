//! A named message queue topic: partitions, the service that consumes it, and how its
//! consumer commits and retries (Kafka-like, at-least-once).

use serde::{Deserialize, Serialize};

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
