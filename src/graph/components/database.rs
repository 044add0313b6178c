//! A named database: a pool of workers behind a connection cap, with read and write
//! times, a slowdown under load and a cost per open connection; its steps are `Read`
//! (op 0) and `Write` (op 1). Draws its service times from its own stream, `"db/<name>"`.

use rand::Rng;
use std::collections::VecDeque;

use crate::config::experiment::FaultSpec;
use crate::config::graph::DatabaseSpec;
use crate::config::ModelSpec;
use crate::engine::{stream, Distribution, SimTime, Stream};
use crate::graph::component::Component;
use crate::graph::cx::Cx;
use crate::graph::names::Names;
use crate::graph::pool::{Admit, Pool};
use crate::graph::registry::Event;
use crate::metrics::latency::LatencyStats;
use crate::metrics::schema::{ComponentFigures, ComponentSeries, DATABASE};
use crate::system::request::{FailReason, Handle, Slab};

/// Step `op` of a database: a read.
pub const READ: u8 = 0;
/// Step `op` of a database: a write.
pub const WRITE: u8 = 1;

/// A database's events.
#[derive(Clone, Copy, Debug)]
pub enum DbEvent {
    /// A worker finishes `query`.
    Done { query: Handle },
    /// A crashed database is back.
    Restart,
}

#[derive(Clone, Copy, Debug)]
struct Query {
    task: Handle,
    write: bool,
    enqueued_at: SimTime,
}

/// One database.
pub struct Database {
    index: u16,
    name: String,
    pool: Pool,
    read: Distribution,
    write: Distribution,
    max_connections: Option<u32>,
    per_connection: f64,
    rng: Stream,
    queries: Slab<Query>,
    /// Admitted queries (running or waiting for a worker): the connections in use.
    in_use: u32,
    /// Queries waiting for a connection.
    conn_waiters: VecDeque<Handle>,
    crashed: bool,
    partitioned: bool,
    /// Queries sent into a partition: they fail when it ends (the connection resets).
    lost_in_partition: Vec<Handle>,
    fail_share: f64,
    peak_connections: u32,
    // Measured from the end of the warm-up.
    reads: u64,
    writes: u64,
    rejected: u64,
    wait: LatencyStats,
    measured_from: SimTime,
    integrals_at_warmup: (u128, u128),
    // The current interval.
    iv_done: u64,
    peak_qps: f64,
    rows: Vec<Vec<f64>>,
}

impl Database {
    fn new(index: u16, name: &str, spec: &DatabaseSpec, seed: u64) -> Database {
        Database {
            index,
            name: name.to_string(),
            pool: Pool::new(spec.workers, &spec.queue, spec.slowdown.clone()),
            read: spec.read.resolve(),
            write: spec.write.resolve(),
            max_connections: spec.max_connections,
            per_connection: spec.per_connection,
            rng: stream(seed, &format!("db/{name}")),
            queries: Slab::new(),
            in_use: 0,
            conn_waiters: VecDeque::new(),
            crashed: false,
            partitioned: false,
            lost_in_partition: Vec::new(),
            fail_share: 0.0,
            peak_connections: 0,
            reads: 0,
            writes: 0,
            rejected: 0,
            wait: LatencyStats::new(),
            measured_from: SimTime::ZERO,
            integrals_at_warmup: (0, 0),
            iv_done: 0,
            peak_qps: 0.0,
            rows: Vec::new(),
        }
    }

    /// The utilisation its slowdown sees: connections in use ÷ the cap where it has one,
    /// busy workers ÷ workers otherwise.
    fn load(&self) -> f64 {
        match self.max_connections {
            Some(cap) => self.in_use as f64 / cap.max(1) as f64,
            None => self.pool.utilisation_now(),
        }
    }

    /// The service-time factor now: the slowdown, a `Slow` fault and the per-connection
    /// cost, paid for every client connection open, whether its query runs, waits for a
    /// worker or waits for a connection slot.
    fn factor(&self) -> f64 {
        let open = self.in_use as f64 + self.conn_waiters.len() as f64;
        self.pool.factor(Some(self.load())) * (1.0 + self.per_connection * open)
    }

    fn start(&mut self, cx: &mut Cx<'_>, query: Handle) {
        let Some(q) = self.queries.get(query).copied() else {
            return;
        };
        if cx.now >= self.measured_from {
            self.wait.record(cx.now.since(q.enqueued_at).0);
        }
        let factor = self.factor();
        let d = if q.write { &self.write } else { &self.read };
        let t = d.sample_scaled(&mut self.rng, factor);
        cx.after(t, Event::Db(self.index, DbEvent::Done { query }));
    }

    /// A query takes a connection and goes to the pool.
    fn admit(&mut self, cx: &mut Cx<'_>, query: Handle) {
        self.in_use += 1;
        self.peak_connections = self.peak_connections.max(self.in_use);
        match self.pool.admit(query, cx.now) {
            Admit::Start => self.start(cx, query),
            Admit::Queued => {}
            Admit::Dropped(victim) => self.fail(cx, victim, FailReason::Rejected, true),
            Admit::Rejected => self.fail(cx, query, FailReason::Rejected, true),
        }
    }

    /// Ends `query` with a failure; `admitted`: it held a connection, now free.
    fn fail(&mut self, cx: &mut Cx<'_>, query: Handle, reason: FailReason, admitted: bool) {
        if reason == FailReason::Rejected {
            self.rejected += 1;
        }
        if let Some(q) = self.queries.remove(query) {
            cx.step_done(q.task, Err(reason));
        }
        if admitted {
            self.release_connection(cx);
        }
    }

    fn release_connection(&mut self, cx: &mut Cx<'_>) {
        self.in_use -= 1;
        if let Some(next) = self.conn_waiters.pop_front() {
            self.admit(cx, next);
        }
    }

    fn done(&mut self, cx: &mut Cx<'_>, query: Handle) {
        // A query the crash already failed is gone: its worker is no longer counted.
        let Some(q) = self.queries.remove(query) else {
            return;
        };
        if let Some(next) = self.pool.finish(cx.now) {
            self.start(cx, next);
        }
        self.iv_done += 1;
        if cx.now >= self.measured_from {
            if q.write {
                self.writes += 1;
            } else {
                self.reads += 1;
            }
        }
        if self.partitioned {
            // The answer cannot get out: the caller hears when the partition ends.
            self.lost_in_partition.push(q.task);
        } else if self.fail_share > 0.0 && self.rng.random::<f64>() < self.fail_share {
            cx.step_done(q.task, Err(FailReason::Error));
        } else {
            cx.step_done(q.task, Ok(()));
        }
        self.release_connection(cx);
    }

    fn crash(&mut self, cx: &mut Cx<'_>) {
        self.crashed = true;
        self.pool.crash(cx.now);
        let all: Vec<Handle> = self.queries.iter().map(|(h, _)| h).collect();
        for q in all {
            if let Some(q) = self.queries.remove(q) {
                cx.step_done(q.task, Err(FailReason::Crash));
            }
        }
        self.conn_waiters.clear();
        self.in_use = 0;
    }

    fn names_me(&self, database: &Option<String>) -> bool {
        database.as_deref() == Some(self.name.as_str())
    }
}

impl Component for Database {
    type Event = DbEvent;

    fn build_all(model: &ModelSpec, _names: &Names, seed: u64) -> Vec<Self> {
        model
            .databases
            .iter()
            .enumerate()
            .map(|(i, (name, spec))| Database::new(i as u16, name, spec, seed))
            .collect()
    }

    fn handle(&mut self, cx: &mut Cx<'_>, event: DbEvent) {
        match event {
            DbEvent::Done { query } => self.done(cx, query),
            DbEvent::Restart => {
                self.crashed = false;
                self.pool.restart(cx.now);
            }
        }
    }

    fn step(&mut self, cx: &mut Cx<'_>, op: u8, task: Handle, _arg: u64) {
        if self.crashed {
            cx.step_done(task, Err(FailReason::Refused));
            return;
        }
        if self.partitioned {
            // Sent into a cut network: it fails when the partition ends.
            self.lost_in_partition.push(task);
            return;
        }
        let query = self.queries.insert(Query {
            task,
            write: op == WRITE,
            enqueued_at: cx.now,
        });
        if self.max_connections.is_some_and(|cap| self.in_use >= cap) {
            self.conn_waiters.push_back(query);
        } else {
            self.admit(cx, query);
        }
    }

    fn fault(&mut self, cx: &mut Cx<'_>, fault: &FaultSpec, start: bool) -> bool {
        match fault {
            FaultSpec::Crash {
                database,
                restart_after,
                ..
            } if self.names_me(database) => {
                if start {
                    self.crash(cx);
                } else if restart_after.is_some() {
                    cx.after(SimTime::ZERO, Event::Db(self.index, DbEvent::Restart));
                }
            }
            FaultSpec::Slow {
                database, factor, ..
            } if self.names_me(database) => {
                self.pool.set_slow_factor(if start { *factor } else { 1.0 });
            }
            FaultSpec::Stall { database, .. } if self.names_me(&Some(database.clone())) => {
                self.pool.set_stalled(start);
                if !start {
                    for q in self.pool.take_waiting(cx.now) {
                        self.start(cx, q);
                    }
                }
            }
            FaultSpec::CutCapacity {
                database, workers, ..
            } if self.names_me(database) => {
                self.pool.cut_capacity(*workers, start, cx.now);
                for q in self.pool.take_waiting(cx.now) {
                    self.start(cx, q);
                }
            }
            FaultSpec::Partition { database, .. } if self.names_me(database) => {
                self.partitioned = start;
                if !start {
                    for task in std::mem::take(&mut self.lost_in_partition) {
                        cx.step_done(task, Err(FailReason::Timeout));
                    }
                }
            }
            FaultSpec::FailRequests {
                database, percent, ..
            } if self.names_me(database) => {
                self.fail_share = if start { percent / 100.0 } else { 0.0 };
            }
            _ => return false,
        }
        true
    }

    fn close_interval(&mut self, _now: SimTime, interval_s: f64) {
        let qps = self.iv_done as f64 / interval_s;
        self.peak_qps = self.peak_qps.max(qps);
        self.rows.push(vec![
            self.pool.busy() as f64,
            self.pool.queue_len() as f64,
            self.in_use as f64,
            self.conn_waiters.len() as f64,
            qps,
            self.factor(),
        ]);
        self.iv_done = 0;
    }

    fn series(&self) -> ComponentSeries {
        ComponentSeries {
            key: format!("db.{}", self.name),
            schema: &DATABASE,
            rows: self.rows.clone(),
        }
    }

    fn figures(&self, now: SimTime, measured_s: f64) -> ComponentFigures {
        let (busy, cap) = self.pool.integrals(now);
        let (b0, c0) = self.integrals_at_warmup;
        let utilisation = if cap > c0 {
            (busy - b0) as f64 / (cap - c0) as f64
        } else {
            0.0
        };
        let queries = self.reads + self.writes;
        let p99 = if self.wait.count() > 0 {
            self.wait.quantile_ms(0.99)
        } else {
            f64::NAN
        };
        ComponentFigures {
            key: format!("db.{}", self.name),
            schema: &DATABASE,
            values: vec![
                queries as f64,
                self.reads as f64,
                self.writes as f64,
                self.rejected as f64,
                utilisation,
                self.peak_qps,
                queries as f64 / measured_s.max(1e-9),
                self.pool.peak_queue() as f64,
                self.peak_connections as f64,
                p99,
            ],
        }
    }

    fn warmup_over(&mut self, now: SimTime) {
        self.measured_from = now;
        self.integrals_at_warmup = self.pool.integrals(now);
        self.reads = 0;
        self.writes = 0;
        self.rejected = 0;
        self.wait.reset();
    }

    fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        self.pool.check_invariants(&self.name);
        if let Some(cap) = self.max_connections {
            assert!(
                self.in_use <= cap,
                "db {}: {} connections in use > cap {cap}",
                self.name,
                self.in_use
            );
        }
        assert!(
            self.pool.busy() as usize + self.pool.queue_len() <= self.in_use as usize,
            "db {}: more queries in the pool than connections in use",
            self.name
        );
    }
}
