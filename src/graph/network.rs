//! Network delay between components: a distribution per link (population or service to
//! service, service to database), zero by default. Draws from its own stream, `"network"`.

use crate::config::graph::NetworkSpec;
use crate::engine::{stream, Distribution, SimTime, Stream};

/// An endpoint of a link, by index in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// A client population.
    Population(u16),
    /// A service.
    Service(u16),
    /// A database.
    Database(u16),
}

/// The link delays of a model.
pub struct Network {
    default: Option<Distribution>,
    links: Vec<(End, End, Distribution)>,
    rng: Stream,
}

impl Network {
    /// The network of `spec`; `end` resolves a written endpoint name (validated).
    pub fn new(spec: &NetworkSpec, end: impl Fn(&str) -> Option<End>, seed: u64) -> Network {
        let links = spec
            .links
            .iter()
            .filter_map(|(key, d)| {
                let (from, to) = key.split_once("->")?;
                Some((end(from.trim())?, end(to.trim())?, d.resolve()))
            })
            .collect();
        Network {
            default: spec.default.as_ref().map(|d| d.resolve()),
            links,
            rng: stream(seed, "network"),
        }
    }

    /// Whether every link is instant (then no delay is ever drawn).
    pub fn is_instant(&self) -> bool {
        self.default.is_none() && self.links.is_empty()
    }

    /// A one-way delay from `from` to `to`.
    #[inline]
    pub fn delay(&mut self, from: End, to: End) -> SimTime {
        if self.is_instant() {
            return SimTime::ZERO;
        }
        let d = self
            .links
            .iter()
            .find(|(f, t, _)| *f == from && *t == to)
            .map(|(_, _, d)| d)
            .or(self.default.as_ref());
        match d {
            Some(d) => d.sample(&mut self.rng),
            None => SimTime::ZERO,
        }
    }
}
