//! Network delay between components: a distribution per link, zero by default.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::config::DistSpec;

/// `Network(default: Exp(mean: "500us"), links: {"web->main": Const(value: "2ms")})`.
/// A link is `"<from>-><to>"`, where a client population is its own name; each direction
/// of a call draws its own delay.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Network")]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// The delay of every link not named in `links`; `None`: zero.
    #[serde(default)]
    pub default: Option<DistSpec>,
    /// Delays of particular links.
    #[serde(default)]
    pub links: IndexMap<String, DistSpec>,
}

impl NetworkSpec {
    /// Whether every link is instant (the default, left out of written configurations).
    pub fn is_zero(&self) -> bool {
        self.default.is_none() && self.links.is_empty()
    }
}
