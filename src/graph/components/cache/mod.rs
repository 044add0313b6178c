//! A named look-aside cache in front of a named database: its step is `Get` (op 0). The
//! lookup decides at once: a hit answers after the hit time; a miss reads the cache's
//! database (a step it asks the path for) after the miss time and fills the key when the
//! answer comes. A share of `Get`s write their key instead (a database write, then the key
//! is invalidated in every cache of this name).
//!
//! Stampede mitigations, as in the single-tier cache: coalescing (a miss for a key being
//! fetched waits for that fetch), leases (a miss while another fetch holds the key's lease
//! looks again later; a write revokes the lease so a racing fetch does not fill the old
//! value), probabilistic early refresh (XFetch) and, for a cache in each instance of a
//! service (`PerInstance`), pre-warming when the instance starts.
//!
//! Draws keys, writes, TTL jitter, XFetch and lookup times from its own stream,
//! `"cache/<name>"`. A known simplification: a fetch whose task never answers (none does
//! today: a task whose visit failed still finishes its step) would keep its waiters.

pub mod keys;
pub mod lru;
mod store;

use rand::Rng;
use std::collections::BTreeMap;

use crate::config::experiment::FaultSpec;
use crate::config::graph::cache::GraphCachePlacement;
use crate::config::graph::GraphCacheSpec;
use crate::config::ModelSpec;
use crate::engine::{stream, Distribution, SimTime, Stream};
use crate::graph::component::Component;
use crate::graph::components::database::{READ, WRITE};
use crate::graph::components::service::Placed;
use crate::graph::cx::{Cx, Notice};
use crate::graph::fail::FailReason;
use crate::graph::names::Names;
use crate::graph::registry::{Event, Kind};
use crate::graph::slab::Handle;
use crate::metrics::schema::{ComponentFigures, ComponentSeries, CACHE};
use keys::KeyPicker;
use store::{Fetch, Store};

/// A cache's events.
#[derive(Clone, Copy, Debug)]
pub enum CacheEvent {
    /// `task`'s lookup found its key: the step is done.
    Hit { task: Handle },
    /// `task`'s lookup missed: it reads the database now.
    Miss { task: Handle },
    /// `task` found its key leased to another fetch: it looks again now.
    Retry { task: Handle },
}

/// What a task is doing with the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Reading its key from the database, to fill store `store`.
    Fetch,
    /// Writing its key; invalidates it when the database answers.
    Write,
    /// Waiting to look again (its key is leased).
    Leased,
}

#[derive(Clone, Copy, Debug)]
struct Look {
    key: u32,
    store: u32,
    /// The life of the store's instance when the task looked.
    life: u32,
    role: Role,
    started: SimTime,
    /// A write revoked this fetch's lease: its answer must not fill the cache.
    revoked: bool,
}

/// Counts of what the cache did (an interval's, or the measured window's).
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    hits: u64,
    misses: u64,
    coalesced: u64,
    early_refreshes: u64,
    writes: u64,
    invalidations: u64,
    lease_retries: u64,
    stale_fills_prevented: u64,
    /// Database reads and writes sent (a miss's read leaves after its miss time).
    db_sent: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.hits += o.hits;
        self.misses += o.misses;
        self.coalesced += o.coalesced;
        self.early_refreshes += o.early_refreshes;
        self.writes += o.writes;
        self.invalidations += o.invalidations;
        self.lease_retries += o.lease_retries;
        self.stale_fills_prevented += o.stale_fills_prevented;
        self.db_sent += o.db_sent;
    }

    fn hit_ratio(&self) -> f64 {
        let lookups = self.hits + self.misses + self.coalesced;
        if lookups == 0 {
            f64::NAN
        } else {
            self.hits as f64 / lookups as f64
        }
    }
}

/// One cache (every instance's, when it is per instance).
pub struct Cache {
    index: u16,
    name: String,
    database: u16,
    /// The service in whose instances the caches live (per-instance placement).
    per_instance: Option<u16>,
    keys_count: u32,
    capacity: u32,
    ttl: SimTime,
    ttl_jitter: f64,
    hit: Distribution,
    miss: Distribution,
    keys: KeyPicker,
    write_share: f64,
    coalescing: bool,
    early_refresh: Option<f64>,
    lease_retry: Option<SimTime>,
    prewarm: bool,
    rng: Stream,
    /// The shared store, or one per instance (made when the instance is first seen).
    stores: Vec<Option<Store>>,
    /// Where the task of the next step runs (see `Component::running_at`).
    at: Option<(u16, Placed)>,
    /// What each task looking or writing is doing, by task.
    looks: BTreeMap<(u32, u32), Look>,
    measured_from: SimTime,
    iv_start: SimTime,
    iv: Counts,
    measured: Counts,
    flushes: u64,
    restarts: u64,
    iv_misses_by_key: BTreeMap<u32, u32>,
    peak_misses_per_key: u32,
    /// The most database queries sent in one measured interval, per second.
    peak_db_qps: f64,
    rows: Vec<Vec<f64>>,
}

fn key_of(h: Handle) -> (u32, u32) {
    (h.idx, h.gen)
}

impl Cache {
    /// The metrics interval still open so far: hits, misses, coalesced lookups and the
    /// database queries sent (the single-tier time series' cache columns).
    pub fn interval_counts(&self) -> (u64, u64, u64, u64) {
        let c = &self.iv;
        (c.hits, c.misses, c.coalesced, c.db_sent)
    }

    /// Its name in the model.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn new(index: u16, name: &str, spec: &GraphCacheSpec, names: &Names, seed: u64) -> Cache {
        let hit = spec.hit.resolve();
        let mut c = Cache {
            index,
            name: name.to_string(),
            database: names.databases[&spec.database],
            per_instance: match &spec.placement {
                GraphCachePlacement::Shared => None,
                GraphCachePlacement::PerInstance(s) => Some(names.services[s]),
            },
            keys_count: spec.keys.count,
            capacity: spec.capacity_keys.min(spec.keys.count),
            ttl: spec.ttl.0,
            ttl_jitter: spec.ttl_jitter,
            hit,
            miss: spec.miss.as_ref().map_or(hit, |d| d.resolve()),
            keys: KeyPicker::new(spec.keys.count, spec.keys.popularity),
            write_share: spec.write_share,
            coalescing: spec.coalescing,
            early_refresh: spec.early_refresh,
            lease_retry: spec.lease_retry.map(|d| d.0),
            prewarm: spec.prewarm,
            rng: stream(seed, &format!("cache/{name}")),
            stores: Vec::new(),
            at: None,
            looks: BTreeMap::new(),
            measured_from: SimTime::ZERO,
            iv_start: SimTime::ZERO,
            iv: Counts::default(),
            measured: Counts::default(),
            flushes: 0,
            restarts: 0,
            iv_misses_by_key: BTreeMap::new(),
            peak_misses_per_key: 0,
            peak_db_qps: 0.0,
            rows: Vec::new(),
        };
        if c.per_instance.is_none() {
            c.stores.push(Some(Store::new(c.keys_count, c.capacity, 0)));
        }
        c
    }

    fn ttl_from(&mut self, now: SimTime) -> SimTime {
        let cut = if self.ttl_jitter > 0.0 {
            self.rng.random::<f64>() * self.ttl_jitter
        } else {
            0.0
        };
        now.saturating_add(SimTime((self.ttl.0 as f64 * (1.0 - cut)).round() as u64))
    }

    /// The store the task of this step uses, and its life; `None` when the task runs on a
    /// life of its instance that has ended (it crashed since: its work goes nowhere).
    fn store_for_step(&mut self, cx: &mut Cx<'_>) -> Option<(u32, u32)> {
        let Some(service) = self.per_instance else {
            return Some((0, 0));
        };
        let (on, placed) = self.at.expect("the path says where a step runs");
        debug_assert_eq!(
            on, service,
            "validated: a per-instance cache's Gets run there"
        );
        let i = placed.instance as usize;
        if self.stores.len() <= i {
            self.stores.resize_with(i + 1, || None);
        }
        match &self.stores[i] {
            Some(s) if s.life == placed.lifecycle => {}
            Some(s) if s.life > placed.lifecycle => return None,
            old => {
                let restarted = old.is_some();
                self.start_store(cx, i, placed.lifecycle, restarted);
            }
        }
        Some((i as u32, placed.lifecycle))
    }

    /// Instance `i` is in a new `life`: its cache starts empty, or with the hottest keys
    /// when pre-warmed. Tasks of the old life waiting for a fetch there fail with it.
    fn start_store(&mut self, cx: &mut Cx<'_>, i: usize, life: u32, restarted: bool) {
        if let Some(old) = self.stores[i].take() {
            for (_, f) in old.fetching {
                for w in f.waiters {
                    cx.step_done(w, Err(FailReason::Crash));
                }
            }
        }
        self.restarts += u64::from(restarted && cx.now >= self.measured_from);
        let mut s = Store::new(self.keys_count, self.capacity, life);
        if self.prewarm {
            // Keys are numbered by popularity: the first `capacity` are the hottest, filled
            // coldest first so that the hottest are the most recently used.
            for key in (0..self.capacity).rev() {
                let expires = self.ttl_from(cx.now);
                s.fill(key, expires);
            }
        }
        self.stores[i] = Some(s);
    }

    /// Looks `key` up in store `si` (life `life`) for `task`.
    fn look(&mut self, cx: &mut Cx<'_>, task: Handle, key: u32, si: u32, life: u32) {
        let now = cx.now;
        let (coalescing, lease, beta) = (self.coalescing, self.lease_retry, self.early_refresh);
        let u: f64 = if beta.is_some() {
            self.rng.random()
        } else {
            0.0
        };
        let s = self.stores[si as usize].as_mut().expect("store");
        let in_flight = s.fetching.contains_key(&key);
        let mut early = false;
        if s.fresh(key, now) {
            s.lru.touch(key);
            early = match beta {
                // One refresh at a time when fetches are tracked.
                Some(b) if !((coalescing || lease.is_some()) && in_flight) => {
                    s.refresh_early(key, now, b, u)
                }
                _ => false,
            };
            if !early {
                self.iv.hits += 1;
                let t = self.hit.sample(&mut self.rng);
                cx.after(t, Event::Cache(self.index, CacheEvent::Hit { task }));
                return;
            }
        } else if coalescing && in_flight {
            s.fetching
                .get_mut(&key)
                .expect("in flight")
                .waiters
                .push(task);
            self.iv.coalesced += 1;
            return;
        } else if let (Some(wait), true) = (lease, in_flight) {
            self.iv.lease_retries += 1;
            let look = Look {
                key,
                store: si,
                life,
                role: Role::Leased,
                started: now,
                revoked: false,
            };
            self.looks.insert(key_of(task), look);
            cx.after(wait, Event::Cache(self.index, CacheEvent::Retry { task }));
            return;
        }
        if coalescing || lease.is_some() {
            s.fetching.insert(
                key,
                Fetch {
                    fetcher: task,
                    waiters: Vec::new(),
                },
            );
        }
        self.iv.early_refreshes += u64::from(early);
        self.iv.misses += 1;
        *self.iv_misses_by_key.entry(key).or_insert(0) += 1;
        let look = Look {
            key,
            store: si,
            life,
            role: Role::Fetch,
            started: now,
            revoked: false,
        };
        self.looks.insert(key_of(task), look);
        let t = self.miss.sample(&mut self.rng);
        cx.after(t, Event::Cache(self.index, CacheEvent::Miss { task }));
    }

    fn sub(&mut self, cx: &mut Cx<'_>, task: Handle, op: u8) {
        self.iv.db_sent += 1;
        cx.notify(Notice::Sub {
            task,
            kind: Kind::Db,
            index: self.database,
            op,
            reply_kind: Kind::Cache,
            reply_index: self.index,
        });
    }

    /// A fetch answered: fill (unless revoked or its instance restarted since), then
    /// answer the tasks that waited for it, then the fetcher.
    fn fetched(
        &mut self,
        cx: &mut Cx<'_>,
        task: Handle,
        look: Look,
        result: Result<(), FailReason>,
    ) {
        let now = cx.now;
        let expires = self.ttl_from(now);
        let Some(s) = self.stores[look.store as usize].as_mut() else {
            cx.step_done(task, result);
            return;
        };
        if s.life != look.life {
            cx.step_done(task, result);
            return;
        }
        if result.is_ok() {
            if look.revoked {
                self.iv.stale_fills_prevented += 1;
            } else {
                s.fill(look.key, expires);
                s.fetch_ns[look.key as usize] = now.since(look.started).0;
            }
        }
        if s.fetching.get(&look.key).is_some_and(|f| f.fetcher == task) {
            let f = s.fetching.remove(&look.key).expect("in flight");
            for w in f.waiters {
                cx.step_done(w, result);
            }
        }
        cx.step_done(task, result);
    }

    /// A write landed: its key is dropped from every store, and a fetch of it in flight
    /// loses its lease (it may have read the old value).
    fn written(&mut self, key: u32) {
        let lease = self.lease_retry.is_some();
        let mut revoke = Vec::new();
        for s in self.stores.iter_mut().flatten() {
            self.iv.invalidations += u64::from(s.invalidate(key));
            if let (true, Some(f)) = (lease, s.fetching.get(&key)) {
                revoke.push(f.fetcher);
            }
        }
        for h in revoke {
            if let Some(l) = self.looks.get_mut(&key_of(h)) {
                if l.role == Role::Fetch {
                    l.revoked = true;
                }
            }
        }
    }
}

/// The figures, in the order `CACHE.figures` declares them.
fn figure_values(m: &Counts, peak: u32, peak_db_qps: f64, flushes: u64, restarts: u64) -> Vec<f64> {
    vec![
        m.hit_ratio(),
        m.hits as f64,
        m.misses as f64,
        m.coalesced as f64,
        peak as f64,
        flushes as f64,
        m.early_refreshes as f64,
        m.lease_retries as f64,
        m.writes as f64,
        m.invalidations as f64,
        m.stale_fills_prevented as f64,
        m.db_sent as f64,
        peak_db_qps,
        restarts as f64,
    ]
}

impl Component for Cache {
    type Event = CacheEvent;

    fn build_all(model: &ModelSpec, names: &Names, seed: u64) -> Vec<Self> {
        model
            .caches
            .iter()
            .enumerate()
            .map(|(i, (name, spec))| Cache::new(i as u16, name, spec, names, seed))
            .collect()
    }

    fn handle(&mut self, cx: &mut Cx<'_>, event: CacheEvent) {
        match event {
            CacheEvent::Hit { task } => cx.step_done(task, Ok(())),
            CacheEvent::Miss { task } => self.sub(cx, task, READ),
            CacheEvent::Retry { task } => {
                let Some(l) = self.looks.remove(&key_of(task)) else {
                    return;
                };
                let live = self.stores[l.store as usize]
                    .as_ref()
                    .is_some_and(|s| s.life == l.life);
                if live {
                    self.look(cx, task, l.key, l.store, l.life);
                } else {
                    cx.step_done(task, Err(FailReason::Crash));
                }
            }
        }
    }

    fn running_at(&mut self, service: u16, placed: Placed) {
        self.at = Some((service, placed));
    }

    fn step(&mut self, cx: &mut Cx<'_>, _op: u8, task: Handle, _arg: u64) {
        let Some((si, life)) = self.store_for_step(cx) else {
            cx.step_done(task, Err(FailReason::Crash));
            return;
        };
        let key = self.keys.key_for(self.rng.random());
        let write = self.write_share > 0.0 && self.rng.random::<f64>() < self.write_share;
        if write {
            self.iv.writes += 1;
            let look = Look {
                key,
                store: si,
                life,
                role: Role::Write,
                started: cx.now,
                revoked: false,
            };
            self.looks.insert(key_of(task), look);
            self.sub(cx, task, WRITE);
            return;
        }
        self.look(cx, task, key, si, life);
    }

    fn reply(&mut self, cx: &mut Cx<'_>, task: Handle, result: Result<(), FailReason>) {
        let Some(look) = self.looks.remove(&key_of(task)) else {
            return;
        };
        match look.role {
            Role::Fetch => self.fetched(cx, task, look, result),
            Role::Write => {
                if result.is_ok() {
                    self.written(look.key);
                }
                cx.step_done(task, result);
            }
            Role::Leased => {}
        }
    }

    fn fault(&mut self, _cx: &mut Cx<'_>, fault: &FaultSpec, start: bool) -> bool {
        match fault {
            FaultSpec::Flush { cache, .. } if *cache == self.name => {
                if start {
                    self.stores.iter_mut().flatten().for_each(Store::clear);
                    self.flushes += 1;
                }
                true
            }
            _ => false,
        }
    }

    fn close_interval(&mut self, now: SimTime, interval_s: f64) {
        let c = std::mem::take(&mut self.iv);
        let worst = self.iv_misses_by_key.values().copied().max().unwrap_or(0);
        self.iv_misses_by_key.clear();
        if self.iv_start >= self.measured_from {
            self.measured.add(&c);
            self.peak_misses_per_key = self.peak_misses_per_key.max(worst);
            self.peak_db_qps = self.peak_db_qps.max(c.db_sent as f64 / interval_s);
        }
        self.iv_start = now;
        let held: u64 = self
            .stores
            .iter()
            .flatten()
            .map(|s| u64::from(s.lru.len()))
            .sum();
        self.rows.push(vec![
            c.hit_ratio(),
            c.hits as f64 / interval_s,
            c.misses as f64 / interval_s,
            c.coalesced as f64 / interval_s,
            held as f64,
            c.early_refreshes as f64 / interval_s,
            c.lease_retries as f64 / interval_s,
        ]);
    }

    fn series(&self) -> ComponentSeries {
        ComponentSeries {
            key: format!("cache.{}", self.name),
            schema: &CACHE,
            rows: self.rows.clone(),
        }
    }

    fn figures(&self, _now: SimTime, _measured_s: f64) -> ComponentFigures {
        // The interval still open counts too (its peak does not: it is not over).
        let mut m = self.measured;
        if self.iv_start >= self.measured_from {
            m.add(&self.iv);
        }
        ComponentFigures {
            key: format!("cache.{}", self.name),
            schema: &CACHE,
            values: figure_values(
                &m,
                self.peak_misses_per_key,
                self.peak_db_qps,
                self.flushes,
                self.restarts,
            ),
        }
    }

    fn warmup_over(&mut self, now: SimTime) {
        self.measured_from = now;
        self.measured = Counts::default();
        self.peak_misses_per_key = 0;
        self.peak_db_qps = 0.0;
        self.restarts = 0;
    }

    fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        for s in self.stores.iter().flatten() {
            for (key, f) in &s.fetching {
                assert!(
                    self.looks
                        .get(&key_of(f.fetcher))
                        .is_some_and(|l| l.key == *key),
                    "cache {}: key {key} is being fetched by a task that is not fetching it",
                    self.name
                );
            }
        }
    }
}
