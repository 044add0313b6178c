//! The shared session store (Redis, a database table): a primary with a pool of workers and
//! a queue, separate read and write times, optional read replicas that see a write only after
//! its replication lag, and outages as a fault. Its own stream: `"store"`.

use super::request::Handle;
use crate::config::model::{ReadRouting, StoreSpec};
use crate::engine::{stream, Distribution, SimTime, Stream};
use crate::metrics::busy::BusyTime;
use std::collections::VecDeque;

/// What the store did with an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreCall {
    /// Started at once; done after this long.
    Start(SimTime),
    /// Waiting for a worker.
    Queued,
    /// Refused: queue full, or the store is down.
    Failed,
}

/// One server of the store (the primary is pool 0, replicas follow).
struct Pool {
    workers: u32,
    busy: BusyTime,
    queue: VecDeque<(Handle, bool)>,
    peak_queue: usize,
}

impl Pool {
    fn new(workers: u32) -> Pool {
        Pool {
            workers,
            busy: BusyTime::default(),
            queue: VecDeque::new(),
            peak_queue: 0,
        }
    }
}

/// The store.
pub struct Store {
    pools: Vec<Pool>,
    queue_limit: Option<usize>,
    read: Distribution,
    write: Distribution,
    lag: Option<Distribution>,
    routing: ReadRouting,
    next_replica: usize,
    rng: Stream,
    down_until: Option<SimTime>,
    primary_down_until: Option<SimTime>,
    extra_lag: SimTime,
    max_connections: Option<u32>,
    peak_connections: u32,
    /// Writes in a login's transaction.
    pub writes_per_login: u32,
    reads: u64,
    replica_reads: u64,
    writes: u64,
    failed: u64,
}

impl Store {
    /// The store of a model in run `seed`.
    pub fn new(spec: &StoreSpec, seed: u64) -> Store {
        let mut pools = vec![Pool::new(spec.workers)];
        if let Some(r) = &spec.replicas {
            pools.extend((0..r.count).map(|_| Pool::new(r.workers)));
        }
        Store {
            pools,
            queue_limit: spec.queue_limit.map(|q| q as usize),
            read: spec.read.resolve(),
            write: spec.write.resolve(),
            lag: spec.replicas.as_ref().map(|r| r.lag.resolve()),
            routing: spec
                .replicas
                .as_ref()
                .map_or(ReadRouting::Primary, |r| r.reads.clone()),
            next_replica: 0,
            rng: stream(seed, "store"),
            down_until: None,
            primary_down_until: None,
            extra_lag: SimTime::ZERO,
            max_connections: spec.max_connections,
            peak_connections: 0,
            writes_per_login: spec.writes_per_login,
            reads: 0,
            replica_reads: 0,
            writes: 0,
            failed: 0,
        }
    }

    /// Whether the store is down at `now`.
    #[inline]
    pub fn is_down(&self, now: SimTime) -> bool {
        self.down_until.is_some_and(|t| t > now)
    }

    /// The pool a read goes to (0: the primary), given when the reading user last wrote.
    pub fn route_read(&mut self, last_write: Option<SimTime>, now: SimTime) -> u8 {
        let replicas = self.pools.len() - 1;
        if replicas == 0 {
            return 0;
        }
        let to_replica = match self.routing {
            ReadRouting::Primary => false,
            ReadRouting::Replicas => true,
            ReadRouting::ReadYourWrites { window } => {
                last_write.is_none_or(|t| now >= t.saturating_add(window.0))
            }
        };
        if !to_replica {
            return 0;
        }
        self.next_replica = (self.next_replica + 1) % replicas;
        (1 + self.next_replica) as u8
    }

    /// The replication lag of a write committing now (zero without replicas).
    pub fn sample_lag(&mut self) -> SimTime {
        match &self.lag {
            Some(d) => d.sample(&mut self.rng).saturating_add(self.extra_lag),
            None => SimTime::ZERO,
        }
    }

    /// A replication-lag spike: writes take `extra` longer to reach the replicas (0: over).
    pub fn set_extra_lag(&mut self, extra: SimTime) {
        self.extra_lag = extra;
    }

    /// The primary fails until `until` (a replica is being promoted): operations waiting at
    /// it fail (returned), and new ones fail at once.
    pub fn fail_primary(&mut self, until: SimTime) -> Vec<Handle> {
        self.primary_down_until = Some(until);
        let lost: Vec<Handle> = self.pools[0].queue.drain(..).map(|(h, _)| h).collect();
        self.failed += lost.len() as u64;
        lost
    }

    /// The most operations running or waiting at once (connections in use).
    pub fn peak_connections(&self) -> u32 {
        self.peak_connections
    }

    fn sample(&mut self, write: bool, pool: u8) -> SimTime {
        if write {
            self.writes += 1;
            self.write.sample(&mut self.rng)
        } else {
            self.reads += 1;
            if pool > 0 {
                self.replica_reads += 1;
            }
            self.read.sample(&mut self.rng)
        }
    }

    /// An operation (a write when `write`) arrives at `pool` for `attempt`.
    #[inline]
    pub fn arrive(&mut self, attempt: Handle, write: bool, pool: u8, now: SimTime) -> StoreCall {
        let primary_down = pool == 0 && self.primary_down_until.is_some_and(|t| t > now);
        if self.is_down(now) || primary_down {
            self.failed += 1;
            return StoreCall::Failed;
        }
        let connections = self.busy() + self.queue_len() as u32;
        if self.max_connections.is_some_and(|m| connections >= m) {
            self.failed += 1;
            return StoreCall::Failed;
        }
        self.peak_connections = self.peak_connections.max(connections + 1);
        let limit = self.queue_limit;
        let p = &mut self.pools[pool as usize];
        if p.busy.busy() < p.workers {
            p.busy.take(now);
            return StoreCall::Start(self.sample(write, pool));
        }
        match limit {
            Some(limit) if p.queue.len() >= limit => {
                self.failed += 1;
                StoreCall::Failed
            }
            _ => {
                p.queue.push_back((attempt, write));
                p.peak_queue = p.peak_queue.max(p.queue.len());
                StoreCall::Queued
            }
        }
    }

    /// A worker of `pool` finished; it takes the next waiting operation, if any (with its time).
    #[inline]
    pub fn finish(&mut self, pool: u8, now: SimTime) -> Option<(Handle, SimTime)> {
        let p = &mut self.pools[pool as usize];
        match p.queue.pop_front() {
            Some((h, write)) => Some((h, self.sample(write, pool))),
            None => {
                p.busy.release(now);
                None
            }
        }
    }

    /// Goes down until `until`: operations waiting now fail (returned), new ones fail at once.
    pub fn outage(&mut self, until: SimTime) -> Vec<Handle> {
        self.down_until = Some(until);
        let lost: Vec<Handle> = self
            .pools
            .iter_mut()
            .flat_map(|p| p.queue.drain(..).map(|(h, _)| h).collect::<Vec<_>>())
            .collect();
        self.failed += lost.len() as u64;
        lost
    }

    /// Reads served (replicas included).
    pub fn reads(&self) -> u64 {
        self.reads
    }

    /// Reads served by replicas.
    pub fn replica_reads(&self) -> u64 {
        self.replica_reads
    }

    /// Writes served.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Operations that failed (queue full or store down).
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Operations waiting, as (server, attempt); some may be of attempts whose node crashed.
    pub fn queued(&self) -> impl Iterator<Item = (u8, Handle)> + '_ {
        self.pools
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.queue.iter().map(move |&(h, _)| (i as u8, h)))
    }

    /// Panics (debug builds) when a server has more workers busy than it has, a queue is
    /// over its limit, or more connections are open than `max_connections`.
    pub fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        for (i, p) in self.pools.iter().enumerate() {
            assert!(
                p.busy.busy() <= p.workers,
                "store server {i}: busy {} > workers {}",
                p.busy.busy(),
                p.workers
            );
            if let Some(limit) = self.queue_limit {
                assert!(
                    p.queue.len() <= limit,
                    "store server {i}: queue {} > limit {limit}",
                    p.queue.len()
                );
            }
        }
        if let Some(m) = self.max_connections {
            let open = self.busy() + self.queue_len() as u32;
            assert!(
                open <= m,
                "store: {open} connections open > max_connections {m}"
            );
        }
    }

    /// Operations waiting, over all servers.
    pub fn queue_len(&self) -> usize {
        self.pools.iter().map(|p| p.queue.len()).sum()
    }

    /// Workers busy, over all servers.
    pub fn busy(&self) -> u32 {
        self.pools.iter().map(|p| p.busy.busy()).sum()
    }

    /// Longest queue seen at any server.
    pub fn peak_queue(&self) -> usize {
        self.pools.iter().map(|p| p.peak_queue).max().unwrap_or(0)
    }

    /// Share of the primary's worker time busy until `now`.
    pub fn utilisation(&self, now: SimTime) -> f64 {
        self.pools[0].busy.utilisation(self.pools[0].workers, now)
    }
}
