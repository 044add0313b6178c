//! The names of a graph model's components and request kinds, resolved once to indices.

use crate::config::ModelSpec;
use indexmap::IndexMap;

/// Name → index, for every kind of component, the request kinds and the populations.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Services.
    pub services: IndexMap<String, u16>,
    /// Databases.
    pub databases: IndexMap<String, u16>,
    /// Caches.
    pub caches: IndexMap<String, u16>,
    /// Counters.
    pub counters: IndexMap<String, u16>,
    /// Topics.
    pub topics: IndexMap<String, u16>,
    /// Services with sessions → their sessions component.
    pub sessions: IndexMap<String, u16>,
    /// Request kinds.
    pub kinds: IndexMap<String, u16>,
    /// Client populations.
    pub populations: IndexMap<String, u16>,
}

fn index<V>(m: &IndexMap<String, V>) -> IndexMap<String, u16> {
    m.keys()
        .enumerate()
        .map(|(i, k)| (k.clone(), i as u16))
        .collect()
}

impl Names {
    /// The names of `model` and of the experiment's `populations` (validated unique and
    /// within bounds, so the indices fit).
    pub fn of(model: &ModelSpec, populations: &[String]) -> Names {
        Names {
            services: index(&model.services),
            databases: index(&model.databases),
            caches: index(&model.caches),
            counters: index(&model.counters),
            topics: index(&model.queues),
            sessions: model
                .services
                .iter()
                .filter(|(_, s)| s.sessions.is_some())
                .enumerate()
                .map(|(i, (name, _))| (name.clone(), i as u16))
                .collect(),
            kinds: index(&model.requests),
            populations: populations
                .iter()
                .enumerate()
                .map(|(i, k)| (k.clone(), i as u16))
                .collect(),
        }
    }
}
