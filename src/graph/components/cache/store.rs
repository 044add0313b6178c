//! One cache's keys: the shared cache, or one instance's. LRU eviction, each key's
//! expiry and last fetch time (XFetch's delta), and the fetches in flight with the tasks
//! waiting for them (coalescing) or holding their lease.

use std::collections::BTreeMap;

use super::lru::Lru;
use crate::engine::SimTime;
use crate::graph::slab::Handle;

/// A fetch in flight: the task reading the key, and the tasks waiting for its answer.
#[derive(Clone, Debug)]
pub struct Fetch {
    /// The task reading the database (it holds the key's lease, with leases).
    pub fetcher: Handle,
    /// Coalesced misses waiting for the answer.
    pub waiters: Vec<Handle>,
}

/// One cache's keys.
pub struct Store {
    /// The life of the instance it lives in (0 for a shared cache): a restarted instance
    /// has a new life and an empty (or pre-warmed) cache.
    pub life: u32,
    /// The keys held.
    pub lru: Lru,
    /// When each key expires (`ZERO`: not held).
    pub expires: Vec<SimTime>,
    /// How long each key's last fetch took, ns.
    pub fetch_ns: Vec<u64>,
    /// Fetches in flight, by key (only with coalescing or leases).
    pub fetching: BTreeMap<u32, Fetch>,
}

impl Store {
    /// An empty cache of at most `capacity` of `keys` keys, for an instance in `life`.
    pub fn new(keys: u32, capacity: u32, life: u32) -> Store {
        Store {
            life,
            lru: Lru::new(keys, capacity),
            expires: vec![SimTime::ZERO; keys as usize],
            fetch_ns: vec![0; keys as usize],
            fetching: BTreeMap::new(),
        }
    }

    /// Whether `key` is held and valid at `now`.
    #[inline]
    pub fn fresh(&self, key: u32, now: SimTime) -> bool {
        self.lru.contains(key) && self.expires[key as usize] > now
    }

    /// Fills `key`, valid until `expires`; the key evicted to make room loses its expiry.
    pub fn fill(&mut self, key: u32, expires: SimTime) {
        if let Some(evicted) = self.lru.insert(key) {
            self.expires[evicted as usize] = SimTime::ZERO;
        }
        self.expires[key as usize] = expires;
    }

    /// Drops `key`; true if it was held.
    pub fn invalidate(&mut self, key: u32) -> bool {
        let held = self.lru.contains(key);
        self.lru.remove(key);
        self.expires[key as usize] = SimTime::ZERO;
        held
    }

    /// Drops every key (fetches in flight still fill when they answer).
    pub fn clear(&mut self) {
        self.lru.clear();
        self.expires.iter_mut().for_each(|e| *e = SimTime::ZERO);
    }

    /// XFetch's decision for a hit on `key` at `now` with `beta` and a uniform draw `u` in
    /// (0, 1]: refresh when now − δ·β·ln(u) reaches the expiry (δ: the key's last fetch).
    pub fn refresh_early(&self, key: u32, now: SimTime, beta: f64, u: f64) -> bool {
        let k = key as usize;
        let gap = self.fetch_ns[k] as f64 * beta * -u.max(f64::MIN_POSITIVE).ln();
        now.0 as f64 + gap >= self.expires[k].0 as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_evicts_and_expires_and_xfetch_refreshes_near_expiry_only() {
        let mut s = Store::new(4, 2, 0);
        s.fill(0, SimTime(100));
        s.fill(1, SimTime(100));
        s.fill(2, SimTime(100)); // evicts 0
        assert!(!s.fresh(0, SimTime(1)) && s.expires[0] == SimTime::ZERO);
        assert!(s.fresh(1, SimTime(99)) && !s.fresh(1, SimTime(100)));
        s.fetch_ns[1] = 10;
        // u = e^-1: the gap is δ·β = 10 ns.
        let u = (-1.0f64).exp();
        assert!(!s.refresh_early(1, SimTime(89), 1.0, u));
        assert!(s.refresh_early(1, SimTime(90), 1.0, u));
        assert!(s.invalidate(1) && !s.invalidate(1));
        s.clear();
        assert!(s.lru.is_empty());
    }
}
