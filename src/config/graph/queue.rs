//! A named message queue topic: partitions, and the service that consumes it.

use serde::{Deserialize, Serialize};

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
