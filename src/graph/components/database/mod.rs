//! A named database: a pool of workers behind a connection cap, with read and write
//! times, a slowdown under load and a cost per open connection, and optionally read
//! replicas (`replication.rs`) that see a write only after its replication lag, with
//! read routing and failover. Its steps are `Read` (op 0) and `Write` (op 1); a step's
//! `arg` is the user it is for (read-your-writes routing and stale reads go by it).
//! Draws its service times from its own stream, `"db/<name>"`.
//!
//! A fault that names the database afflicts every server of it (the primary and the
//! replicas), except `Failover`, which takes the primary away, and `LagSpike`, which
//! delays replication.

mod replication;
mod server;

use rand::Rng;

use crate::config::experiment::FaultSpec;
use crate::config::graph::DatabaseSpec;
use crate::config::ModelSpec;
use crate::engine::{stream, Distribution, SimTime, Stream};
use crate::graph::component::Component;
use crate::graph::cx::Cx;
use crate::graph::fail::FailReason;
use crate::graph::names::Names;
use crate::graph::pool::Admit;
use crate::graph::registry::Event;
use crate::graph::slab::{Handle, Slab};
use crate::metrics::latency::WaitStats;
use crate::metrics::schema::{ComponentFigures, ComponentSeries, DATABASE};
use replication::Replication;
use server::Server;

/// Step `op` of a database: a read.
pub const READ: u8 = 0;
/// Step `op` of a database: a write.
pub const WRITE: u8 = 1;

/// The server index of the primary (replicas follow, from 1).
const PRIMARY: usize = 0;

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
    /// The server it runs on (`PRIMARY`, or a replica from 1).
    server: u8,
    /// The user it is for (the step's `arg`).
    user: u64,
    enqueued_at: SimTime,
    /// When nobody waits for it any more (known only with propagated deadlines).
    deadline: SimTime,
}

/// One database.
pub struct Database {
    index: u16,
    name: String,
    /// The primary, then the replicas.
    servers: Vec<Server>,
    replication: Option<Replication>,
    read: Distribution,
    write: Distribution,
    max_connections: Option<u32>,
    per_connection: f64,
    rng: Stream,
    queries: Slab<Query>,
    crashed: bool,
    /// A failover is under way: the primary refuses queries.
    primary_down: bool,
    partitioned: bool,
    /// Queries sent into a partition: they fail when it ends (the connection resets).
    lost_in_partition: Vec<Handle>,
    fail_share: f64,
    // Measured from the end of the warm-up.
    reads: u64,
    writes: u64,
    rejected: u64,
    /// Waiting queries its queues dropped because their deadline had passed (measured).
    expired: u64,
    replica_reads: u64,
    stale_reads: u64,
    lost_writes: u64,
    wait: WaitStats,
    measured_from: SimTime,
    integrals_at_warmup: (u128, u128),
    /// Reads, writes, rejected, replica reads and lost writes of the warm-up (the
    /// single-tier store's counts are of the whole run).
    in_warmup: [u64; 5],
    /// Queries it ended with an error over the whole run (refused while down, rejected,
    /// lost to a crash or a failover, failed by `FailRequests`): the single-tier store's
    /// `failed`.
    failed: u64,
    /// Stalls on now (they may overlap).
    stalls: u32,
    // The current interval.
    iv_done: u64,
    peak_qps: f64,
    rows: Vec<Vec<f64>>,
}

impl Database {
    /// Reads, writes, rejected queries, replica reads, lost writes and failed queries (any
    /// error but a timeout) over the whole run,
    /// warm-up included (its figures count from the warm-up's end): the single-tier
    /// store's counts.
    pub fn whole_run_counts(&self) -> [u64; 6] {
        let w = self.in_warmup;
        [
            w[0] + self.reads,
            w[1] + self.writes,
            w[2] + self.rejected,
            w[3] + self.replica_reads,
            w[4] + self.lost_writes,
            self.failed,
        ]
    }

    /// Its name in the model.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queries waiting for a worker and workers busy on its primary, now.
    pub fn primary_gauges(&self) -> (u64, u64) {
        let p = &self.servers[PRIMARY].pool;
        (p.queue_len() as u64, p.busy() as u64)
    }

    fn new(index: u16, name: &str, spec: &DatabaseSpec, seed: u64) -> Database {
        let mut servers = vec![Server::new(
            spec.workers,
            &spec.queue,
            spec.slowdown.clone(),
        )];
        if let Some(r) = &spec.replicas {
            let replica = || Server::new(r.workers, &spec.queue, spec.slowdown.clone());
            servers.extend((0..r.count.max(1)).map(|_| replica()));
        }
        Database {
            index,
            name: name.to_string(),
            servers,
            replication: spec
                .replicas
                .as_ref()
                .map(|r| Replication::new(r, name, seed)),
            read: spec.read.resolve(),
            write: spec.write.resolve(),
            max_connections: spec.max_connections,
            per_connection: spec.per_connection,
            rng: stream(seed, &format!("db/{name}")),
            queries: Slab::new(),
            crashed: false,
            primary_down: false,
            partitioned: false,
            lost_in_partition: Vec::new(),
            fail_share: 0.0,
            reads: 0,
            writes: 0,
            rejected: 0,
            expired: 0,
            replica_reads: 0,
            stale_reads: 0,
            lost_writes: 0,
            wait: WaitStats::new(),
            measured_from: SimTime::ZERO,
            integrals_at_warmup: (0, 0),
            in_warmup: [0; 5],
            failed: 0,
            stalls: 0,
            iv_done: 0,
            peak_qps: 0.0,
            rows: Vec::new(),
        }
    }

    fn factor(&self, server: usize) -> f64 {
        self.servers[server].factor(self.max_connections, self.per_connection)
    }

    fn start(&mut self, cx: &mut Cx<'_>, query: Handle) {
        let Some(q) = self.queries.get(query).copied() else {
            return;
        };
        if cx.now >= self.measured_from {
            self.wait.record(cx.now.since(q.enqueued_at).0);
        }
        let factor = self.factor(q.server as usize);
        let d = if q.write { &self.write } else { &self.read };
        let t = d.sample_scaled(&mut self.rng, factor);
        cx.after(t, Event::Db(self.index, DbEvent::Done { query }));
    }

    /// A query takes a connection of its server and goes to that server's pool.
    fn admit(&mut self, cx: &mut Cx<'_>, query: Handle, server: usize) {
        let s = &mut self.servers[server];
        s.in_use += 1;
        s.peak_connections = s.peak_connections.max(s.in_use);
        let deadline = self
            .queries
            .get(query)
            .map_or(SimTime::NEVER, |q| q.deadline);
        match s.pool.admit_until(query, cx.now, deadline) {
            Admit::Start => self.start(cx, query),
            Admit::Queued => {}
            Admit::Dropped(victim) => self.fail(cx, victim, FailReason::Rejected, server),
            Admit::Rejected => self.fail(cx, query, FailReason::Rejected, server),
        }
    }

    /// Ends an admitted `query` of `server` with a failure: its connection is free.
    fn fail(&mut self, cx: &mut Cx<'_>, query: Handle, reason: FailReason, server: usize) {
        if reason == FailReason::Rejected {
            self.rejected += 1;
        }
        self.failed += u64::from(reason != FailReason::Timeout);
        if let Some(q) = self.queries.remove(query) {
            cx.step_done(q.task, Err(reason));
        }
        self.release_connection(cx, server);
    }

    fn release_connection(&mut self, cx: &mut Cx<'_>, server: usize) {
        self.servers[server].in_use -= 1;
        if let Some(next) = self.servers[server].conn_waiters.pop_front() {
            self.admit(cx, next, server);
        }
    }

    fn done(&mut self, cx: &mut Cx<'_>, query: Handle) {
        // A query the crash already failed is gone: its worker is no longer counted.
        let Some(q) = self.queries.remove(query) else {
            return;
        };
        let server = q.server as usize;
        let next = self.servers[server].pool.finish(cx.now);
        self.fail_expired(cx, server);
        if let Some(next) = next {
            self.start(cx, next);
        }
        self.iv_done += 1;
        let measured = cx.now >= self.measured_from;
        // In a partition the query ran but its answer cannot get out: the caller hears
        // when the partition ends.
        let result = if self.partitioned {
            Ok(())
        } else if self.fail_share > 0.0 && self.rng.random::<f64>() < self.fail_share {
            self.failed += 1;
            Err(FailReason::Error)
        } else {
            Ok(())
        };
        if measured {
            if q.write {
                self.writes += 1;
            } else {
                self.reads += 1;
            }
        }
        if let Some(r) = &mut self.replication {
            if q.write && result.is_ok() {
                r.committed(q.user, cx.now);
            } else if !q.write && server != PRIMARY {
                let stale = r.stale(q.user, cx.now);
                if measured {
                    self.replica_reads += 1;
                    self.stale_reads += u64::from(stale);
                }
                if stale {
                    // Whoever asked for the read sees what this replica shows.
                    cx.notify(crate::graph::cx::Notice::StaleRead { task: q.task });
                }
            }
        }
        if self.partitioned {
            self.lost_in_partition.push(q.task);
        } else {
            cx.step_done(q.task, result);
        }
        self.release_connection(cx, server);
    }

    /// Fails the queries `server`'s queue dropped because their deadline had passed.
    fn fail_expired(&mut self, cx: &mut Cx<'_>, server: usize) {
        if !self.servers[server].pool.has_expired() {
            return;
        }
        for q in self.servers[server].pool.take_expired() {
            self.expired += u64::from(cx.now >= self.measured_from);
            self.fail(cx, q, FailReason::Timeout, server);
        }
    }

    /// Waiting queries its queues dropped because their deadline had passed (measured).
    pub fn expired(&self) -> u64 {
        self.expired
    }

    /// Runs query `op` (`READ` or `WRITE`) for `task` and `user`, whose caller stops
    /// waiting at `deadline` (`SimTime::NEVER` when the deadline does not travel).
    pub fn query(&mut self, cx: &mut Cx<'_>, op: u8, task: Handle, user: u64, deadline: SimTime) {
        if self.crashed {
            self.failed += 1;
            cx.step_done(task, Err(FailReason::Refused));
            return;
        }
        if self.partitioned {
            // Sent into a cut network: it fails when the partition ends.
            self.lost_in_partition.push(task);
            return;
        }
        let write = op == WRITE;
        let server = match &mut self.replication {
            Some(r) if !write => r.route(user, cx.now).map_or(PRIMARY, |i| i + 1),
            _ => PRIMARY,
        };
        if server == PRIMARY && self.primary_down {
            // A replica is being promoted: nothing answers as the primary yet.
            self.failed += 1;
            cx.step_done(task, Err(FailReason::Refused));
            return;
        }
        let query = self.queries.insert(Query {
            task,
            write,
            server: server as u8,
            user,
            enqueued_at: cx.now,
            deadline,
        });
        if self.servers[server].full(self.max_connections) {
            self.servers[server].conn_waiters.push_back(query);
        } else {
            self.admit(cx, query, server);
        }
    }

    /// Fails every query on the servers `which` picks (the whole database at a crash,
    /// the primary at a failover) and empties their pools and connections.
    fn crash(&mut self, cx: &mut Cx<'_>, reason: FailReason, which: impl Fn(usize) -> bool) {
        for (i, s) in self.servers.iter_mut().enumerate() {
            if which(i) {
                s.pool.crash(cx.now);
                s.conn_waiters.clear();
                s.in_use = 0;
            }
        }
        let hit: Vec<Handle> = self
            .queries
            .iter()
            .filter(|(_, q)| which(q.server as usize))
            .map(|(h, _)| h)
            .collect();
        for q in hit {
            if let Some(q) = self.queries.remove(q) {
                self.failed += 1;
                cx.step_done(q.task, Err(reason));
            }
        }
    }

    /// The primary fails (`start`): the writes not yet on the replicas are lost, and the
    /// primary refuses queries until a replica is promoted (`!start`).
    fn failover(&mut self, cx: &mut Cx<'_>, start: bool) {
        if !start {
            self.primary_down = false;
            self.servers[PRIMARY].pool.restart(cx.now);
            return;
        }
        self.primary_down = true;
        let (lost, users) = self
            .replication
            .as_mut()
            .map_or((0, Vec::new()), |r| r.failover(cx.now));
        if cx.now >= self.measured_from {
            self.lost_writes += lost;
        }
        for user in users {
            // Whoever keeps state in it (the sessions) goes back to what it held before.
            cx.notify(crate::graph::cx::Notice::WriteLost {
                db: self.index,
                user,
            });
        }
        self.crash(cx, FailReason::Crash, |i| i == PRIMARY);
    }

    /// Every server's pool.
    fn pools(&mut self) -> impl Iterator<Item = &mut crate::graph::pool::Pool> {
        self.servers.iter_mut().map(|s| &mut s.pool)
    }

    /// Idle workers of every server take the queries waiting for them.
    fn resume(&mut self, cx: &mut Cx<'_>) {
        for i in 0..self.servers.len() {
            let started = self.servers[i].pool.take_waiting(cx.now);
            self.fail_expired(cx, i);
            for q in started {
                self.start(cx, q);
            }
        }
    }

    fn names_me(&self, database: &Option<String>) -> bool {
        database.as_deref() == Some(self.name.as_str())
    }

    fn pool_fault(&mut self, cx: &mut Cx<'_>, fault: &FaultSpec, start: bool) -> bool {
        match fault {
            FaultSpec::Crash {
                database,
                restart_after,
                ..
            } if self.names_me(database) => {
                if start {
                    self.crashed = true;
                    self.crash(cx, FailReason::Crash, |_| true);
                } else if restart_after.is_some() {
                    cx.after(SimTime::ZERO, Event::Db(self.index, DbEvent::Restart));
                }
            }
            FaultSpec::Slow {
                database, factor, ..
            } if self.names_me(database) => {
                let f = if start { *factor } else { 1.0 };
                self.pools().for_each(|p| p.set_slow_factor(f));
            }
            FaultSpec::CutCapacity {
                database, workers, ..
            } if self.names_me(database) => {
                let now = cx.now;
                self.pools()
                    .for_each(|p| p.cut_capacity(*workers, start, now));
                self.resume(cx);
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
                let now = cx.now;
                self.pools().for_each(|p| p.restart(now));
            }
        }
    }

    fn step(&mut self, cx: &mut Cx<'_>, op: u8, task: Handle, user: u64) {
        self.query(cx, op, task, user, SimTime::NEVER);
    }

    fn fault(&mut self, cx: &mut Cx<'_>, fault: &FaultSpec, start: bool) -> bool {
        match fault {
            FaultSpec::Stall { database, .. } if *database == self.name => {
                // Stalls may overlap: the database takes queries again when the last ends.
                if start {
                    self.stalls += 1;
                } else {
                    self.stalls = self.stalls.saturating_sub(1);
                }
                let stalled = self.stalls > 0;
                self.pools().for_each(|p| p.set_stalled(stalled));
                if !stalled {
                    self.resume(cx);
                }
                true
            }
            FaultSpec::LagSpike {
                database, extra, ..
            } if *database == self.name => {
                let extra = if start { extra.0 } else { SimTime::ZERO };
                if let Some(r) = &mut self.replication {
                    r.set_extra_lag(extra);
                }
                true
            }
            FaultSpec::Failover { database, .. } if *database == self.name => {
                self.failover(cx, start);
                true
            }
            _ => self.pool_fault(cx, fault, start),
        }
    }

    fn close_interval(&mut self, _now: SimTime, interval_s: f64) {
        let qps = self.iv_done as f64 / interval_s;
        self.peak_qps = self.peak_qps.max(qps);
        let sum = |f: fn(&Server) -> f64| self.servers.iter().map(f).sum::<f64>();
        self.rows.push(vec![
            sum(|s| s.pool.busy() as f64),
            sum(|s| s.pool.queue_len() as f64),
            sum(|s| s.in_use as f64),
            sum(|s| s.conn_waiters.len() as f64),
            qps,
            self.factor(PRIMARY),
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
        let (busy, cap) = self.servers[PRIMARY].pool.integrals(now);
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
        let most = |f: fn(&Server) -> f64| self.servers.iter().map(f).fold(0.0, f64::max);
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
                most(|s| s.pool.peak_queue() as f64),
                most(|s| s.peak_connections as f64),
                p99,
                self.replica_reads as f64,
                self.stale_reads as f64,
                self.lost_writes as f64,
            ],
        }
    }

    fn warmup_over(&mut self, now: SimTime) {
        self.measured_from = now;
        self.integrals_at_warmup = self.servers[PRIMARY].pool.integrals(now);
        self.in_warmup = [
            self.reads,
            self.writes,
            self.rejected,
            self.replica_reads,
            self.lost_writes,
        ];
        self.reads = 0;
        self.writes = 0;
        self.rejected = 0;
        self.expired = 0;
        self.replica_reads = 0;
        self.stale_reads = 0;
        self.lost_writes = 0;
        self.wait.reset();
    }

    fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        for (i, s) in self.servers.iter().enumerate() {
            let name = format!("{} server {i}", self.name);
            s.pool.check_invariants(&name);
            if let Some(cap) = self.max_connections {
                assert!(
                    s.in_use <= cap,
                    "db {name}: {} connections in use > cap {cap}",
                    s.in_use
                );
            }
            assert!(
                s.pool.busy() as usize + s.pool.queue_len() <= s.in_use as usize,
                "db {name}: more queries in the pool than connections in use"
            );
        }
        if let Some(r) = &self.replication {
            assert_eq!(
                r.count() + 1,
                self.servers.len(),
                "db {}: replicas",
                self.name
            );
        }
    }
}
