//! A client population: where its requests come from (open arrivals, a closed population
//! of users, a burst), which kinds they are, and its clients' timeout and retries.
//!
//! Draws are keyed by entity: a user's n-th think time and the kind of its n-th request
//! come from (seed, population, user, n), and an open arrival's kind from (seed,
//! population, arrival number), so that two designs compared under one seed see the same
//! users doing the same things (common random numbers), whatever the designs do. A user the
//! shape has put to sleep wakes a think time after the shape makes it active again, that
//! think time keyed by (seed, population, user, requests so far) too.

use rand::Rng;

use crate::config::experiment::ClientsSpec;
use crate::config::graph::{PopulationSpec, PopulationWorkload};
use crate::engine::keyed::KeyedDraws;
use crate::engine::{Distribution, SimTime};
use crate::graph::clients::Clients;
use crate::graph::workload::shape::Shape;
use crate::graph::workload::source::Source;
use crate::metrics::latency::LatencyStats;
use crate::metrics::schema::{ComponentFigures, ComponentSeries, POPULATION};

/// A population's events.
#[derive(Clone, Copy, Debug)]
pub enum PopulationEvent {
    /// The next open-loop arrival.
    Arrival,
    /// A user finishes thinking.
    Wake { user: u32 },
    /// Request number `next` of the burst is sent.
    Burst { next: u32 },
}

enum Workload {
    Open {
        source: Box<Source>,
        arrivals: u64,
        /// It stops after a number of requests (`max_requests`).
        limited: bool,
    },
    Users {
        think: Distribution,
        shape: Shape,
        seq: Vec<u32>,
    },
    Burst {
        at: SimTime,
        count: u32,
        over: SimTime,
    },
}

/// Entities of a user's draws: its think time after a request, and the think time after
/// the shape wakes it (the user's number in the low bits; a mix draw has the bare number).
const THINK: u64 = 1 << 40;
const WAKE_AFTER_SLEEP: u64 = 2 << 40;

/// The share of users active above which user `user` of `count` is active.
fn level(user: u32, count: usize) -> f64 {
    user as f64 / count as f64
}

/// One client population.
pub struct Population {
    /// Its name.
    pub name: String,
    workload: Workload,
    /// Cumulative shares of its request kinds (kind index in the model, share).
    mix: Vec<(u16, f64)>,
    draws: KeyedDraws,
    /// Its clients' policy and shared budget.
    pub clients: Clients,
    warmup: SimTime,
    issued: u64,
    succeeded: u64,
    failed: u64,
    attempts: u64,
    first_attempts: u64,
    /// Its own latencies; `None` when it is the run's only population, whose latencies
    /// are the run's (the recorder's): a histogram record costs cache misses on every
    /// request, and recording the same latencies twice would double them.
    latencies: Option<Latencies>,
    iv_offered: u64,
    iv_succeeded: u64,
    iv_attempts: u64,
    rows: Vec<Vec<f64>>,
    measured_issued: u64,
    measured_succeeded: u64,
}

/// A population's latencies of successful requests.
struct Latencies {
    /// Of requests issued after the warm-up.
    whole: LatencyStats,
    /// Of requests that ended in the current metrics interval.
    interval: LatencyStats,
}

impl Population {
    /// Population `name` of `spec`, its mix resolved to the model's request kinds. `alone`:
    /// it is the run's only population, so its latencies are the run's, which the caller
    /// passes to [`Population::close_interval`] and [`Population::figures`].
    pub fn new(
        name: &str,
        spec: &PopulationSpec,
        kinds: &indexmap::IndexMap<String, u16>,
        warmup: SimTime,
        seed: u64,
        alone: bool,
    ) -> Population {
        let total: f64 = spec.mix.values().sum();
        let mut acc = 0.0;
        let mix = spec
            .mix
            .iter()
            .map(|(k, w)| {
                acc += w / total;
                (kinds[k], acc)
            })
            .collect();
        let workload = match &spec.workload {
            PopulationWorkload::Open {
                rate_per_s,
                shape,
                max_requests,
            } => Workload::Open {
                source: Box::new(Source::named(
                    *rate_per_s,
                    Shape::new(shape),
                    *max_requests,
                    seed,
                    &format!("population/{name}/arrivals"),
                )),
                arrivals: 0,
                limited: max_requests.is_some(),
            },
            PopulationWorkload::Users {
                count,
                think,
                shape,
                ..
            } => Workload::Users {
                think: think.resolve(),
                shape: Shape::new(shape),
                seq: vec![0; *count as usize],
            },
            PopulationWorkload::Burst { at, count, over } => Workload::Burst {
                at: at.0,
                count: *count,
                over: over.0,
            },
        };
        let clients = ClientsSpec {
            timeout: spec.timeout,
            retry: spec.retry.clone(),
            throttle: spec.throttle.clone(),
            idempotency_keys: spec.idempotency_keys,
        };
        Population {
            name: name.to_string(),
            workload,
            mix,
            draws: KeyedDraws::new(seed, &format!("population/{name}")),
            clients: Clients::named(&clients, seed, &format!("population/{name}/clients")),
            warmup,
            issued: 0,
            succeeded: 0,
            failed: 0,
            attempts: 0,
            first_attempts: 0,
            latencies: (!alone).then(|| Latencies {
                whole: LatencyStats::new(),
                interval: LatencyStats::new(),
            }),
            iv_offered: 0,
            iv_succeeded: 0,
            iv_attempts: 0,
            rows: Vec::new(),
            measured_issued: 0,
            measured_succeeded: 0,
        }
    }

    /// Its first events: the first arrival, every user's first wake-up (at a random point
    /// of a think time, so users are not in step), or the burst's start.
    pub fn first_events(&mut self) -> Vec<(SimTime, PopulationEvent)> {
        match &mut self.workload {
            Workload::Open { source, .. } => source
                .next_arrival(SimTime::ZERO)
                .map(|at| (at, PopulationEvent::Arrival))
                .into_iter()
                .collect(),
            Workload::Users { think, seq, .. } => (0..seq.len() as u32)
                .map(|user| {
                    let mut rng = self.draws.rng(user as u64, u64::MAX);
                    (think.sample(&mut rng), PopulationEvent::Wake { user })
                })
                .collect(),
            Workload::Burst { at, count, .. } if *count > 0 => {
                vec![(*at, PopulationEvent::Burst { next: 0 })]
            }
            Workload::Burst { .. } => Vec::new(),
        }
    }

    /// The next open arrival after `now`.
    pub fn next_arrival(&mut self, now: SimTime) -> Option<SimTime> {
        match &mut self.workload {
            Workload::Open { source, .. } => source.next_arrival(now),
            _ => None,
        }
    }

    /// The kind of a new request from `user` (`None`: an open arrival or a burst).
    #[inline]
    pub fn pick_kind(&mut self, user: Option<u32>) -> u16 {
        let (entity, seq) = match (&mut self.workload, user) {
            (Workload::Users { seq, .. }, Some(u)) => (u as u64, seq[u as usize] as u64),
            (Workload::Open { arrivals, .. }, _) => {
                *arrivals += 1;
                (u64::MAX, *arrivals)
            }
            _ => (u64::MAX - 1, self.issued),
        };
        if self.mix.len() == 1 {
            return self.mix[0].0;
        }
        let u: f64 = self.draws.rng(entity, seq).random();
        self.mix
            .iter()
            .find(|(_, c)| u < *c)
            .unwrap_or(self.mix.last().expect("a mix"))
            .0
    }

    /// A user's think time after its current request, and it moves on to its next one.
    pub fn think(&mut self, user: u32) -> SimTime {
        let Workload::Users { think, seq, .. } = &mut self.workload else {
            return SimTime::ZERO;
        };
        let n = &mut seq[user as usize];
        let mut rng = self.draws.rng(user as u64 | THINK, *n as u64);
        *n += 1;
        think.sample(&mut rng)
    }

    /// Whether `user` is active at `now`: user `i` of `count` is while the shape is above
    /// `i / count` (all of them under a constant shape), as in the single-tier form.
    pub fn is_active(&self, user: u32, now: SimTime) -> bool {
        match &self.workload {
            Workload::Users { shape, seq, .. } => match shape {
                Shape::Constant => true,
                _ => shape.at(now) > level(user, seq.len()),
            },
            _ => true,
        }
    }

    /// When inactive `user` next wakes: a think time after the shape makes it active (with
    /// exponential think times, the same law as looking again after every think time,
    /// without an event per look), or `None` if the shape never will.
    pub fn next_wake(&self, user: u32, now: SimTime) -> Option<SimTime> {
        let Workload::Users { think, shape, seq } = &self.workload else {
            return None;
        };
        let active_at = shape.next_above(now.0, level(user, seq.len()))?;
        let n = seq[user as usize] as u64;
        let t = think.sample(&mut self.draws.rng(user as u64 | WAKE_AFTER_SLEEP, n));
        Some(SimTime(active_at).saturating_add(t))
    }

    /// Whether `user` is inactive at `now` and the shape never makes it active again: it
    /// sleeps for good, with no wake-up pending (traffic that stops, not a stuck user).
    pub fn sleeps_for_good(&self, user: u32, now: SimTime) -> bool {
        let Workload::Users { shape, seq, .. } = &self.workload else {
            return false;
        };
        !self.is_active(user, now) && shape.next_above(now.0, level(user, seq.len())).is_none()
    }

    /// When burst request `next + 1` goes, if there is one.
    pub fn burst_next(&self, next: u32) -> Option<(SimTime, u32)> {
        let Workload::Burst { at, count, over } = &self.workload else {
            return None;
        };
        let n = next + 1;
        (n < *count).then(|| {
            let offset = (over.0 as u128 * n as u128 / *count as u128) as u64;
            (at.saturating_add(SimTime(offset)), n)
        })
    }

    /// Its users (a closed population), none otherwise.
    pub fn users(&self) -> u32 {
        match &self.workload {
            Workload::Users { seq, .. } => seq.len() as u32,
            _ => 0,
        }
    }

    /// Whether what it sends by itself ends: a burst, or open arrivals up to
    /// `max_requests` (the run may end once they have all been sent and ended).
    pub fn is_finite(&self) -> bool {
        match &self.workload {
            Workload::Burst { .. } => true,
            Workload::Open { limited, .. } => *limited,
            Workload::Users { .. } => false,
        }
    }

    /// Counts a new request.
    pub fn issued(&mut self, now: SimTime) {
        self.issued += 1;
        self.iv_offered += 1;
        if now >= self.warmup {
            self.measured_issued += 1;
        }
    }

    /// Counts an attempt sent.
    pub fn attempt(&mut self, first: bool) {
        self.attempts += 1;
        self.iv_attempts += 1;
        if first {
            self.first_attempts += 1;
            self.clients.first_attempt();
        }
    }

    /// A request issued at `issued_at` ended at `now`.
    #[inline]
    pub fn ended(&mut self, issued_at: SimTime, now: SimTime, ok: bool) {
        if ok {
            self.succeeded += 1;
            self.iv_succeeded += 1;
            if let Some(own) = &mut self.latencies {
                let l = now.since(issued_at).0;
                own.interval.record(l);
                if issued_at >= self.warmup {
                    own.whole.record(l);
                }
            }
            if issued_at >= self.warmup {
                self.measured_succeeded += 1;
            }
        } else {
            self.failed += 1;
        }
    }

    /// Closes a metrics interval of `interval_s`; `run_interval` is the run's latencies in
    /// it (its own when it is the only population).
    pub fn close_interval(&mut self, interval_s: f64, run_interval: &LatencyStats) {
        let latency = self
            .latencies
            .as_ref()
            .map_or(run_interval, |l| &l.interval);
        let p99 = if latency.count() > 0 {
            latency.quantile_ms(0.99)
        } else {
            f64::NAN
        };
        self.rows.push(vec![
            self.iv_offered as f64 / interval_s,
            self.iv_succeeded as f64 / interval_s,
            self.iv_attempts as f64 / interval_s,
            p99,
        ]);
        self.iv_offered = 0;
        self.iv_succeeded = 0;
        self.iv_attempts = 0;
        if let Some(own) = &mut self.latencies {
            own.interval.reset();
        }
    }

    /// Its time series.
    pub fn series(&self) -> ComponentSeries {
        ComponentSeries {
            key: format!("population.{}", self.name),
            schema: &POPULATION,
            rows: self.rows.clone(),
        }
    }

    /// Its summary figures (`measured_s`: the window after the warm-up; `run_latency`: the
    /// run's latencies, its own when it is the only population).
    pub fn figures(&self, measured_s: f64, run_latency: &LatencyStats) -> ComponentFigures {
        let latency = self.latencies.as_ref().map_or(run_latency, |l| &l.whole);
        let q = |p: f64| {
            if latency.count() > 0 {
                latency.quantile_ms(p)
            } else {
                f64::NAN
            }
        };
        let ended = self.succeeded + self.failed;
        ComponentFigures {
            key: format!("population.{}", self.name),
            schema: &POPULATION,
            values: vec![
                self.issued as f64,
                self.succeeded as f64,
                self.failed as f64,
                self.measured_succeeded as f64 / measured_s.max(1e-9),
                q(0.5),
                q(0.99),
                if self.issued == 0 {
                    0.0
                } else {
                    self.attempts as f64 / self.issued as f64
                },
                if ended == 0 {
                    1.0
                } else {
                    self.succeeded as f64 / ended as f64
                },
            ],
        }
    }
}
