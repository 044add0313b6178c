//! The look-aside cache in front of the database: one shared cache or one per node, each
//! holding up to `capacity_keys` keys with LRU eviction and a (jittered) TTL. A request
//! picks a key by popularity (uniform or Zipf) from the stream `"cache/keys"`; a hit
//! answers from the cache, a miss queries the database and fills the cache. Writes go to
//! the database and then invalidate their key everywhere.
//!
//! Stampede mitigations: request coalescing (a miss for a key already being fetched by the
//! same cache waits for that fetch), probabilistic early refresh (XFetch: a hit close to
//! expiry refreshes the key now and then, earlier for keys that take long to fetch) and
//! pre-warming of a per-node cache when its node starts.
//!
//! Lookup times come from `"cache/latency"`. Each cache draws its TTL jitter and early-refresh decisions from its own stream
//! (`"cache"` for the shared one, `"cache/node/<i>"` for node i's). State is kept in
//! key-indexed `Vec`s: nothing is ever iterated in hash order.

use super::request::Handle;
use crate::config::model::{CachePlacement, CacheSpec, Popularity};
use crate::engine::{stream, Distribution, SimTime, Stream};
use rand::Rng;

const NIL: u32 = u32::MAX;

/// A least-recently-used set of key ids with O(1) touch, insert and remove: an intrusive
/// doubly-linked list threaded through key-indexed `Vec`s (head = most recent).
#[derive(Clone, Debug)]
pub struct Lru {
    prev: Vec<u32>,
    next: Vec<u32>,
    present: Vec<bool>,
    head: u32,
    tail: u32,
    len: u32,
    capacity: u32,
}

impl Lru {
    /// An empty set of at most `capacity` of the keys `0..keys`.
    pub fn new(keys: u32, capacity: u32) -> Lru {
        Lru {
            prev: vec![NIL; keys as usize],
            next: vec![NIL; keys as usize],
            present: vec![false; keys as usize],
            head: NIL,
            tail: NIL,
            len: 0,
            capacity: capacity.max(1),
        }
    }

    /// Whether `key` is held.
    #[inline]
    pub fn contains(&self, key: u32) -> bool {
        self.present[key as usize]
    }

    /// Keys held.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn unlink(&mut self, key: u32) {
        let (p, n) = (self.prev[key as usize], self.next[key as usize]);
        if p == NIL {
            self.head = n;
        } else {
            self.next[p as usize] = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            self.prev[n as usize] = p;
        }
    }

    fn push_front(&mut self, key: u32) {
        self.prev[key as usize] = NIL;
        self.next[key as usize] = self.head;
        if self.head != NIL {
            self.prev[self.head as usize] = key;
        }
        self.head = key;
        if self.tail == NIL {
            self.tail = key;
        }
    }

    /// Marks `key` (held) as the most recently used.
    #[inline]
    pub fn touch(&mut self, key: u32) {
        if self.present[key as usize] && self.head != key {
            self.unlink(key);
            self.push_front(key);
        }
    }

    /// Adds `key` (or touches it if held); returns the key evicted to make room, if any.
    pub fn insert(&mut self, key: u32) -> Option<u32> {
        if self.present[key as usize] {
            self.touch(key);
            return None;
        }
        let mut evicted = None;
        if self.len >= self.capacity {
            let victim = self.tail;
            self.remove(victim);
            evicted = Some(victim);
        }
        self.present[key as usize] = true;
        self.len += 1;
        self.push_front(key);
        evicted
    }

    /// Drops `key` if held.
    pub fn remove(&mut self, key: u32) {
        if key == NIL || !self.present[key as usize] {
            return;
        }
        self.unlink(key);
        self.present[key as usize] = false;
        self.len -= 1;
    }

    /// Drops every key.
    pub fn clear(&mut self) {
        let mut k = self.head;
        while k != NIL {
            let n = self.next[k as usize];
            self.present[k as usize] = false;
            k = n;
        }
        self.head = NIL;
        self.tail = NIL;
        self.len = 0;
    }

    /// The least recently used key, if any.
    pub fn oldest(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }
}

/// Draws keys by popularity: uniform, or Zipf through a precomputed CDF and binary search.
#[derive(Clone, Debug)]
pub struct KeyPicker {
    count: u32,
    cdf: Option<Vec<f64>>,
}

impl KeyPicker {
    /// A picker over `count` keys.
    pub fn new(count: u32, popularity: Popularity) -> KeyPicker {
        let cdf = match popularity {
            Popularity::Uniform => None,
            Popularity::Zipf { s } => {
                let mut acc = 0.0;
                let mut cdf: Vec<f64> = (0..count)
                    .map(|k| {
                        acc += 1.0 / ((k + 1) as f64).powf(s);
                        acc
                    })
                    .collect();
                for c in &mut cdf {
                    *c /= acc;
                }
                Some(cdf)
            }
        };
        KeyPicker { count, cdf }
    }

    /// The key for a uniform draw `u` in [0, 1).
    #[inline]
    pub fn key_for(&self, u: f64) -> u32 {
        match &self.cdf {
            None => ((u * self.count as f64) as u32).min(self.count - 1),
            Some(cdf) => (cdf.partition_point(|&c| c <= u) as u32).min(self.count - 1),
        }
    }

    /// The share of requests that ask for `key`.
    pub fn share(&self, key: u32) -> f64 {
        match &self.cdf {
            None => 1.0 / self.count as f64,
            Some(cdf) => cdf[key as usize] - if key == 0 { 0.0 } else { cdf[key as usize - 1] },
        }
    }
}

/// One cache: a shared one, or one node's.
struct Instance {
    lru: Lru,
    /// When each held key expires.
    expires: Vec<SimTime>,
    /// How long each key's last fetch took, ns (XFetch's delta).
    fetch_ns: Vec<u64>,
    /// The attempt fetching each key, with coalescing.
    fetching: Vec<Option<Handle>>,
    /// Attempts waiting for that fetch.
    waiters: Vec<Vec<Handle>>,
    rng: Stream,
}

impl Instance {
    fn new(keys: u32, capacity: u32, rng: Stream) -> Instance {
        Instance {
            lru: Lru::new(keys, capacity),
            expires: vec![SimTime::ZERO; keys as usize],
            fetch_ns: vec![0; keys as usize],
            fetching: vec![None; keys as usize],
            waiters: vec![Vec::new(); keys as usize],
            rng,
        }
    }
}

/// What an attempt is doing with the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    None,
    /// Fetching `key` from the database to fill cache `inst`.
    Fetch,
    /// Writing `key`; invalidates it when the database answers.
    Write,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    gen: u32,
    key: u32,
    inst: u32,
    role: Role,
    started: SimTime,
    /// A write revoked this fetch's lease: its answer must not fill the cache.
    revoked: bool,
}

/// What a lookup decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Found: the answer comes after this long.
    Hit(SimTime),
    /// Not found (or refreshing early): query the database after this long.
    Miss(SimTime),
    /// Another attempt is fetching the key: wait for it.
    Wait,
    /// Another attempt holds the key's lease: look again after this long.
    Retry(SimTime),
    /// A write: goes to the database now.
    Write,
}

/// What a database answer meant for the cache.
pub enum Answered {
    /// Not a cache fetch (or a stale one).
    Nothing,
    /// The key was filled; these attempts were waiting for it.
    Filled(Vec<Handle>),
}

/// Counts of what the caches did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that queried the database (early refreshes included).
    pub misses: u64,
    /// Misses that waited for another attempt's fetch instead of querying.
    pub coalesced: u64,
    /// Hits that refreshed their key early (counted in `misses`, not in `hits`).
    pub early_refreshes: u64,
    /// Writes (each a database query and an invalidation).
    pub writes: u64,
    /// Lookups that found the key leased and looked again later.
    pub lease_retries: u64,
    /// Fetches whose lease a write revoked: their (old) answer was not cached.
    pub stale_fills_prevented: u64,
    /// Database queries sent (misses and writes).
    pub db_queries: u64,
}

impl CacheCounts {
    fn add(&mut self, o: &CacheCounts) {
        self.hits += o.hits;
        self.misses += o.misses;
        self.coalesced += o.coalesced;
        self.early_refreshes += o.early_refreshes;
        self.writes += o.writes;
        self.lease_retries += o.lease_retries;
        self.stale_fills_prevented += o.stale_fills_prevented;
        self.db_queries += o.db_queries;
    }

    /// hits ÷ lookups (hits, misses and coalesced waits); 0 with no lookups.
    pub fn hit_ratio(&self) -> f64 {
        let lookups = self.hits + self.misses + self.coalesced;
        if lookups == 0 {
            0.0
        } else {
            self.hits as f64 / lookups as f64
        }
    }
}

/// The caches of a model and their request bookkeeping.
pub struct Cache {
    placement: CachePlacement,
    coalescing: bool,
    write_share: f64,
    early_refresh: Option<f64>,
    lease_retry: Option<SimTime>,
    prewarm: bool,
    ttl_ns: u64,
    ttl_jitter: f64,
    hit: Distribution,
    miss: Distribution,
    picker: KeyPicker,
    capacity: u32,
    keys_rng: Stream,
    latency_rng: Stream,
    instances: Vec<Instance>,
    /// Per attempt slot index: what it does with the cache.
    slots: Vec<Slot>,
    /// Counts of the current metrics interval.
    pub interval: CacheCounts,
    /// Counts over the intervals after the warm-up.
    pub measured: CacheCounts,
    key_misses: Vec<u32>,
    touched: Vec<u32>,
    /// The most database fetches of one key started within one metrics interval (after
    /// the warm-up), over every cache.
    pub peak_misses_per_key: u32,
    /// The most database queries started within one metrics interval (after the warm-up).
    pub peak_db_queries: u64,
}

impl Cache {
    /// The caches of a model with up to `nodes` nodes in run `seed`.
    pub fn new(spec: &CacheSpec, nodes: usize, seed: u64) -> Cache {
        let keys = spec.keys.count;
        let capacity = spec.capacity_keys.min(keys);
        let instances = match spec.placement {
            CachePlacement::Shared => vec![Instance::new(keys, capacity, stream(seed, "cache"))],
            CachePlacement::PerNode => (0..nodes)
                .map(|i| Instance::new(keys, capacity, stream(seed, &format!("cache/node/{i}"))))
                .collect(),
        };
        let hit = spec.hit.resolve();
        Cache {
            placement: spec.placement,
            coalescing: spec.coalescing,
            write_share: spec.write_share,
            early_refresh: spec.early_refresh,
            lease_retry: spec.lease_retry.map(|d| d.0),
            prewarm: spec.prewarm,
            ttl_ns: spec.ttl.ns(),
            ttl_jitter: spec.ttl_jitter,
            hit,
            miss: spec.miss.as_ref().map_or(hit, |d| d.resolve()),
            picker: KeyPicker::new(keys, spec.keys.popularity),
            capacity,
            keys_rng: stream(seed, "cache/keys"),
            latency_rng: stream(seed, "cache/latency"),
            instances,
            slots: Vec::new(),
            interval: CacheCounts::default(),
            measured: CacheCounts::default(),
            key_misses: vec![0; keys as usize],
            touched: Vec::new(),
            peak_misses_per_key: 0,
            peak_db_queries: 0,
        }
    }

    fn instance_of(&self, node: u32) -> usize {
        match self.placement {
            CachePlacement::Shared => 0,
            CachePlacement::PerNode => node as usize,
        }
    }

    fn set_slot(&mut self, attempt: Handle, slot: Slot) {
        let i = attempt.idx as usize;
        if self.slots.len() <= i {
            self.slots.resize(
                i + 1,
                Slot {
                    gen: u32::MAX,
                    key: 0,
                    inst: 0,
                    role: Role::None,
                    started: SimTime::ZERO,
                    revoked: false,
                },
            );
        }
        self.slots[i] = slot;
    }

    fn ttl(&mut self, inst: usize) -> u64 {
        if self.ttl_jitter > 0.0 {
            let u: f64 = self.instances[inst].rng.random();
            (self.ttl_ns as f64 * (1.0 - self.ttl_jitter * u)).round() as u64
        } else {
            self.ttl_ns
        }
    }

    fn count_fetch(&mut self, key: u32) {
        self.interval.misses += 1;
        let m = &mut self.key_misses[key as usize];
        if *m == 0 {
            self.touched.push(key);
        }
        *m += 1;
    }

    /// A data request of `attempt` on `node` reaches the cache. `live` tells whether an
    /// attempt still exists (a fetcher whose node crashed is replaced by the newcomer).
    pub fn lookup(
        &mut self,
        node: u32,
        attempt: Handle,
        now: SimTime,
        live: impl Fn(Handle) -> bool,
    ) -> Lookup {
        let inst = self.instance_of(node);
        let key = self.picker.key_for(self.keys_rng.random());
        let write = self.write_share > 0.0 && self.keys_rng.random::<f64>() < self.write_share;
        if write {
            self.interval.writes += 1;
            let slot = Slot {
                gen: attempt.gen,
                key,
                inst: inst as u32,
                role: Role::Write,
                started: now,
                revoked: false,
            };
            self.set_slot(attempt, slot);
            return Lookup::Write;
        }
        self.look(inst, key, attempt, now, live)
    }

    /// `attempt` looks its key up again after a lease wait.
    pub fn relookup(
        &mut self,
        node: u32,
        attempt: Handle,
        now: SimTime,
        live: impl Fn(Handle) -> bool,
    ) -> Lookup {
        let key = match self.slots.get(attempt.idx as usize) {
            Some(s) if s.gen == attempt.gen => s.key,
            _ => return Lookup::Write, // unknown: let it go to the database
        };
        let inst = self.instance_of(node);
        self.look(inst, key, attempt, now, live)
    }

    fn look(
        &mut self,
        inst: usize,
        key: u32,
        attempt: Handle,
        now: SimTime,
        live: impl Fn(Handle) -> bool,
    ) -> Lookup {
        let slot = Slot {
            gen: attempt.gen,
            key,
            inst: inst as u32,
            role: Role::Fetch,
            started: now,
            revoked: false,
        };
        let lease = self.lease_retry;
        let coalescing = self.coalescing;
        let beta = self.early_refresh;
        let c = &mut self.instances[inst];
        let k = key as usize;
        let in_flight = c.fetching[k].filter(|&h| live(h));
        if c.lru.contains(key) && c.expires[k] > now {
            c.lru.touch(key);
            let refresh = match beta {
                Some(beta) if !((coalescing || lease.is_some()) && in_flight.is_some()) => {
                    // XFetch: refresh when now − δ·β·ln(u) reaches the expiry.
                    let u: f64 = c.rng.random::<f64>().max(f64::MIN_POSITIVE);
                    let gap = c.fetch_ns[k] as f64 * beta * -u.ln();
                    now.0 as f64 + gap >= c.expires[k].0 as f64
                }
                _ => false,
            };
            if !refresh {
                self.interval.hits += 1;
                let t = self.hit.sample(&mut self.latency_rng);
                return Lookup::Hit(t);
            }
            self.interval.early_refreshes += 1;
        } else if coalescing && in_flight.is_some() {
            c.waiters[k].push(attempt);
            self.interval.coalesced += 1;
            self.set_slot(
                attempt,
                Slot {
                    role: Role::None,
                    ..slot
                },
            );
            return Lookup::Wait;
        } else if let (Some(wait), Some(_)) = (lease, in_flight) {
            self.interval.lease_retries += 1;
            self.set_slot(
                attempt,
                Slot {
                    role: Role::None,
                    ..slot
                },
            );
            return Lookup::Retry(wait);
        }
        if coalescing || lease.is_some() {
            // The newcomer fetches (taking over the waiters of a fetcher that vanished).
            self.instances[inst].fetching[k] = Some(attempt);
        }
        self.count_fetch(key);
        self.set_slot(attempt, slot);
        Lookup::Miss(self.miss.sample(&mut self.latency_rng))
    }

    /// A database query leaves for the cache (a miss after its lookup time, or a write).
    pub fn query_sent(&mut self) {
        self.interval.db_queries += 1;
    }

    /// The database answered `attempt`'s query: fill or invalidate, and hand back the
    /// attempts that were waiting for this fetch.
    pub fn answered(&mut self, attempt: Handle, now: SimTime) -> Answered {
        let Some(slot) = self.slots.get(attempt.idx as usize).copied() else {
            return Answered::Nothing;
        };
        if slot.gen != attempt.gen {
            return Answered::Nothing;
        }
        self.slots[attempt.idx as usize].role = Role::None;
        let k = slot.key as usize;
        match slot.role {
            Role::None => Answered::Nothing,
            Role::Write => {
                let lease = self.lease_retry.is_some();
                for c in &mut self.instances {
                    c.lru.remove(slot.key);
                    if let (true, Some(h)) = (lease, c.fetching[k]) {
                        // Revoke the lease: that fetch may have read the old value.
                        if let Some(s) = self.slots.get_mut(h.idx as usize) {
                            if s.gen == h.gen && s.role == Role::Fetch {
                                s.revoked = true;
                            }
                        }
                    }
                }
                Answered::Nothing
            }
            Role::Fetch => {
                let inst = slot.inst as usize;
                let ttl = self.ttl(inst);
                if slot.revoked {
                    self.interval.stale_fills_prevented += 1;
                }
                let c = &mut self.instances[inst];
                if !slot.revoked {
                    c.lru.insert(slot.key);
                    c.expires[k] = now.saturating_add(SimTime(ttl));
                    c.fetch_ns[k] = now.since(slot.started).0;
                }
                if c.fetching[k] == Some(attempt) {
                    c.fetching[k] = None;
                    Answered::Filled(std::mem::take(&mut c.waiters[k]))
                } else {
                    Answered::Filled(Vec::new())
                }
            }
        }
    }

    /// Node `node` has started: its own cache (per-node placement) starts empty, or filled
    /// with the hottest keys when pre-warmed.
    pub fn node_started(&mut self, node: u32, now: SimTime) {
        if self.placement != CachePlacement::PerNode {
            return;
        }
        let inst = node as usize;
        self.instances[inst].lru.clear();
        for f in &mut self.instances[inst].fetching {
            *f = None;
        }
        for w in &mut self.instances[inst].waiters {
            w.clear();
        }
        if self.prewarm {
            // Keys are numbered by popularity: the first `capacity` are the hottest. Inserted
            // coldest first, so the hottest end up most recently used.
            for key in (0..self.capacity).rev() {
                let ttl = self.ttl(inst);
                let c = &mut self.instances[inst];
                c.lru.insert(key);
                c.expires[key as usize] = now.saturating_add(SimTime(ttl));
            }
        }
    }

    /// Attempts waiting for a coalesced fetch, each with the attempt fetching its key (none
    /// when that fetch is over or was never recorded).
    pub fn coalesced_waiters(&self) -> impl Iterator<Item = (Handle, Option<Handle>)> + '_ {
        self.instances.iter().flat_map(|c| {
            c.waiters
                .iter()
                .zip(&c.fetching)
                .flat_map(|(ws, f)| ws.iter().map(move |&w| (w, *f)))
        })
    }

    /// Empties every cache (a flush fault); fetches in flight still fill when they return.
    pub fn flush(&mut self) {
        for c in &mut self.instances {
            c.lru.clear();
        }
    }

    /// Keys held, over every cache.
    pub fn keys_held(&self) -> u64 {
        self.instances.iter().map(|c| c.lru.len() as u64).sum()
    }

    /// Ends a metrics interval that started at `start`: returns its counts, and keeps the
    /// peaks and totals of intervals that started after the warm-up.
    pub fn close_interval(&mut self, start: SimTime, warmup: SimTime) -> CacheCounts {
        let counts = std::mem::take(&mut self.interval);
        let mut peak_key = 0;
        for &k in &self.touched {
            peak_key = peak_key.max(self.key_misses[k as usize]);
            self.key_misses[k as usize] = 0;
        }
        self.touched.clear();
        if start >= warmup {
            self.measured.add(&counts);
            self.peak_misses_per_key = self.peak_misses_per_key.max(peak_key);
            self.peak_db_queries = self.peak_db_queries.max(counts.db_queries);
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut l = Lru::new(10, 3);
        assert_eq!(l.insert(1), None);
        assert_eq!(l.insert(2), None);
        assert_eq!(l.insert(3), None);
        l.touch(1); // order now 1, 3, 2
        assert_eq!(l.insert(4), Some(2));
        assert_eq!(l.oldest(), Some(3));
        assert_eq!(l.insert(5), Some(3));
        assert!(l.contains(1) && l.contains(4) && l.contains(5));
        assert!(!l.contains(2) && !l.contains(3));
        l.remove(4);
        assert_eq!(l.len(), 2);
        assert_eq!(l.insert(6), None);
        assert_eq!(l.insert(7), Some(1));
        l.clear();
        assert!(l.is_empty() && !l.contains(5));
        assert_eq!(l.oldest(), None);
        assert_eq!(l.insert(9), None);
        assert_eq!(l.oldest(), Some(9));
    }

    #[test]
    fn lru_reinsert_touches_and_capacity_one_works() {
        let mut l = Lru::new(4, 1);
        assert_eq!(l.insert(0), None);
        assert_eq!(l.insert(0), None);
        assert_eq!(l.insert(3), Some(0));
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn zipf_shares_follow_the_power_law() {
        let p = KeyPicker::new(100, Popularity::Zipf { s: 1.0 });
        let h: f64 = (1..=100).map(|k| 1.0 / k as f64).sum();
        assert!((p.share(0) - 1.0 / h).abs() < 1e-12);
        assert!((p.share(9) - 0.1 / h).abs() < 1e-12);
        // Draws land where the CDF says, and a fixed stream gives fixed keys.
        let mut rng = stream(1, "test");
        let mut counts = [0u32; 100];
        for _ in 0..100_000 {
            counts[p.key_for(rng.random()) as usize] += 1;
        }
        let share0 = counts[0] as f64 / 100_000.0;
        assert!((share0 - 1.0 / h).abs() < 0.01, "{share0}");
        assert!(counts[0] > counts[1] && counts[1] > counts[10]);
        assert_eq!(p.key_for(0.0), 0);
        assert_eq!(p.key_for(0.999_999_999), 99);
    }

    #[test]
    fn uniform_keys_cover_the_range() {
        let p = KeyPicker::new(4, Popularity::Uniform);
        assert_eq!(p.key_for(0.0), 0);
        assert_eq!(p.key_for(0.3), 1);
        assert_eq!(p.key_for(0.99), 3);
        assert!((p.share(2) - 0.25).abs() < 1e-12);
    }
}
