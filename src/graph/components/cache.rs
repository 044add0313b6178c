//! A named look-aside cache in front of a named database: its step is `Get` (op 0). A
//! hit answers after the lookup; a miss reads the cache's database (a step it asks the
//! path for) and fills the key; with coalescing, a miss for a key already being fetched
//! waits for that fetch. Draws keys and TTL jitter from its own stream, `"cache/<name>"`.

use rand::Rng;
use std::collections::BTreeMap;

use crate::config::experiment::FaultSpec;
use crate::config::graph::GraphCacheSpec;
use crate::config::ModelSpec;
use crate::engine::{stream, Distribution, SimTime, Stream};
use crate::graph::component::Component;
use crate::graph::components::database::READ;
use crate::graph::cx::{Cx, Notice};
use crate::graph::names::Names;
use crate::graph::registry::{Event, Kind};
use crate::metrics::schema::{ComponentFigures, ComponentSeries, CACHE};
use crate::system::cache::{KeyPicker, Lru};
use crate::system::request::{FailReason, Handle};

/// A cache's events.
#[derive(Clone, Copy, Debug)]
pub enum CacheEvent {
    /// The lookup of `key` for `task` is done.
    Looked { task: Handle, key: u32 },
}

/// One cache.
pub struct Cache {
    index: u16,
    name: String,
    database: u16,
    lru: Lru,
    expires: Vec<SimTime>,
    ttl: SimTime,
    ttl_jitter: f64,
    hit: Distribution,
    keys: KeyPicker,
    coalescing: bool,
    rng: Stream,
    /// Keys being fetched, with the tasks waiting for each (coalesced misses).
    fetching: BTreeMap<u32, Vec<Handle>>,
    /// The key each fetching task asked for.
    fetches: BTreeMap<(u32, u32), u32>,
    measured_from: SimTime,
    hits: u64,
    misses: u64,
    coalesced: u64,
    flushes: u64,
    iv_hits: u64,
    iv_misses: u64,
    iv_coalesced: u64,
    iv_misses_by_key: BTreeMap<u32, u32>,
    peak_misses_per_key: u32,
    rows: Vec<Vec<f64>>,
}

fn key_of(h: Handle) -> (u32, u32) {
    (h.idx, h.gen)
}

impl Cache {
    fn new(index: u16, name: &str, spec: &GraphCacheSpec, names: &Names, seed: u64) -> Cache {
        Cache {
            index,
            name: name.to_string(),
            database: names.databases[&spec.database],
            lru: Lru::new(spec.keys.count, spec.capacity_keys),
            expires: vec![SimTime::ZERO; spec.keys.count as usize],
            ttl: spec.ttl.0,
            ttl_jitter: spec.ttl_jitter,
            hit: spec.hit.resolve(),
            keys: KeyPicker::new(spec.keys.count, spec.keys.popularity),
            coalescing: spec.coalescing,
            rng: stream(seed, &format!("cache/{name}")),
            fetching: BTreeMap::new(),
            fetches: BTreeMap::new(),
            measured_from: SimTime::ZERO,
            hits: 0,
            misses: 0,
            coalesced: 0,
            flushes: 0,
            iv_hits: 0,
            iv_misses: 0,
            iv_coalesced: 0,
            iv_misses_by_key: BTreeMap::new(),
            peak_misses_per_key: 0,
            rows: Vec::new(),
        }
    }

    fn looked(&mut self, cx: &mut Cx<'_>, task: Handle, key: u32) {
        let measured = cx.now >= self.measured_from;
        if self.lru.contains(key) && self.expires[key as usize] > cx.now {
            self.lru.touch(key);
            self.iv_hits += 1;
            self.hits += u64::from(measured);
            cx.step_done(task, Ok(()));
            return;
        }
        if self.coalescing {
            if let Some(waiters) = self.fetching.get_mut(&key) {
                waiters.push(task);
                self.iv_coalesced += 1;
                self.coalesced += u64::from(measured);
                return;
            }
            self.fetching.insert(key, Vec::new());
        }
        self.iv_misses += 1;
        self.misses += u64::from(measured);
        *self.iv_misses_by_key.entry(key).or_insert(0) += 1;
        self.fetches.insert(key_of(task), key);
        cx.notify(Notice::Sub {
            task,
            kind: Kind::Db,
            index: self.database,
            op: READ,
            reply_kind: Kind::Cache,
            reply_index: self.index,
        });
    }

    fn fill(&mut self, key: u32, now: SimTime) {
        let cut = if self.ttl_jitter > 0.0 {
            self.rng.random::<f64>() * self.ttl_jitter
        } else {
            0.0
        };
        let ttl = SimTime((self.ttl.0 as f64 * (1.0 - cut)).round() as u64);
        if let Some(evicted) = self.lru.insert(key) {
            self.expires[evicted as usize] = SimTime::ZERO;
        }
        self.expires[key as usize] = now.saturating_add(ttl);
    }
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
            CacheEvent::Looked { task, key } => self.looked(cx, task, key),
        }
    }

    fn step(&mut self, cx: &mut Cx<'_>, _op: u8, task: Handle, _arg: u64) {
        let key = self.keys.key_for(self.rng.random());
        let t = self.hit.sample(&mut self.rng);
        cx.after(
            t,
            Event::Cache(self.index, CacheEvent::Looked { task, key }),
        );
    }

    fn reply(&mut self, cx: &mut Cx<'_>, task: Handle, result: Result<(), FailReason>) {
        let Some(key) = self.fetches.remove(&key_of(task)) else {
            return;
        };
        if result.is_ok() {
            self.fill(key, cx.now);
        }
        cx.step_done(task, result);
        if let Some(waiters) = self.fetching.remove(&key) {
            for w in waiters {
                cx.step_done(w, result);
            }
        }
    }

    fn fault(&mut self, _cx: &mut Cx<'_>, fault: &FaultSpec, start: bool) -> bool {
        match fault {
            FaultSpec::Flush { cache, .. } if *cache == self.name => {
                if start {
                    self.lru.clear();
                    self.expires.iter_mut().for_each(|e| *e = SimTime::ZERO);
                    self.flushes += 1;
                }
                true
            }
            _ => false,
        }
    }

    fn close_interval(&mut self, _now: SimTime, interval_s: f64) {
        let lookups = self.iv_hits + self.iv_misses + self.iv_coalesced;
        let ratio = if lookups == 0 {
            f64::NAN
        } else {
            self.iv_hits as f64 / lookups as f64
        };
        let worst = self.iv_misses_by_key.values().copied().max().unwrap_or(0);
        self.peak_misses_per_key = self.peak_misses_per_key.max(worst);
        self.rows.push(vec![
            ratio,
            self.iv_hits as f64 / interval_s,
            self.iv_misses as f64 / interval_s,
            self.iv_coalesced as f64 / interval_s,
            self.lru.len() as f64,
        ]);
        self.iv_hits = 0;
        self.iv_misses = 0;
        self.iv_coalesced = 0;
        self.iv_misses_by_key.clear();
    }

    fn series(&self) -> ComponentSeries {
        ComponentSeries {
            key: format!("cache.{}", self.name),
            schema: &CACHE,
            rows: self.rows.clone(),
        }
    }

    fn figures(&self, _now: SimTime, _measured_s: f64) -> ComponentFigures {
        let lookups = self.hits + self.misses + self.coalesced;
        ComponentFigures {
            key: format!("cache.{}", self.name),
            schema: &CACHE,
            values: vec![
                if lookups == 0 {
                    f64::NAN
                } else {
                    self.hits as f64 / lookups as f64
                },
                self.hits as f64,
                self.misses as f64,
                self.coalesced as f64,
                self.peak_misses_per_key as f64,
                self.flushes as f64,
            ],
        }
    }

    fn warmup_over(&mut self, now: SimTime) {
        self.measured_from = now;
    }

    fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        assert!(
            self.fetches.len() >= self.fetching.len(),
            "cache {}: a key is being fetched by no task",
            self.name
        );
    }
}
