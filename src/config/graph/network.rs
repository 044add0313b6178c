//! Network delay between components: a distribution per link, zero by default.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::validate::Scope;
use crate::config::rules::{Checked, Rules};
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

impl NetworkSpec {
    /// Checks the network written at `path` (`model.network`): every delay is a valid
    /// distribution, and every link is `"<from>-><to>"` from a client population or a
    /// service to a service or a database.
    pub fn validate(&self, r: &Rules<'_>, path: &str, scope: &Scope<'_>) -> Checked {
        if let Some(d) = &self.default {
            r.dist(&format!("{path}.default"), d)?;
        }
        let m = scope.model;
        for (link, d) in &self.links {
            let at = format!("{path}.links.{link}");
            let Some((from, to)) = link.split_once("->") else {
                return r.fail(
                    &at,
                    format!(
                        "a link is written \"<from>-><to>\", e.g. \"web->main\", found \"{link}\""
                    ),
                );
            };
            let senders: Vec<&String> = scope
                .experiment
                .populations
                .keys()
                .chain(m.services.keys())
                .collect();
            let receivers: Vec<&String> = m.services.keys().chain(m.databases.keys()).collect();
            r.known(
                &at,
                from,
                "senders of a link (client populations and services)",
                senders,
            )?;
            r.known(
                &at,
                to,
                "receivers of a link (services and databases)",
                receivers,
            )?;
            if scope.experiment.populations.contains_key(from) && !m.services.contains_key(to) {
                return r.fail(
                    &at,
                    format!("a client population reaches only services (through their balancers), and `{to}` is a database"),
                );
            }
            r.dist(&at, d)?;
        }
        Ok(())
    }
}
