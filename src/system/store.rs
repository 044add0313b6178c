//! The shared session store (Redis, a database table): a pool of workers with a queue,
//! separate read and write times, and outages as a fault. Its own stream: `"store"`.

use super::request::Handle;
use crate::config::model::StoreSpec;
use crate::engine::{stream, Distribution, SimTime, Stream};
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

/// The store.
pub struct Store {
    workers: u32,
    busy: u32,
    queue: VecDeque<(Handle, bool)>,
    queue_limit: Option<usize>,
    read: Distribution,
    write: Distribution,
    rng: Stream,
    down_until: Option<SimTime>,
    reads: u64,
    writes: u64,
    failed: u64,
    busy_ns: u128,
    since: SimTime,
    peak_queue: usize,
}

impl Store {
    /// The store of a model in run `seed`.
    pub fn new(spec: &StoreSpec, seed: u64) -> Store {
        Store {
            workers: spec.workers,
            busy: 0,
            queue: VecDeque::new(),
            queue_limit: spec.queue_limit.map(|q| q as usize),
            read: spec.read.resolve(),
            write: spec.write.resolve(),
            rng: stream(seed, "store"),
            down_until: None,
            reads: 0,
            writes: 0,
            failed: 0,
            busy_ns: 0,
            since: SimTime::ZERO,
            peak_queue: 0,
        }
    }

    fn account(&mut self, now: SimTime) {
        self.busy_ns += self.busy as u128 * now.since(self.since).0 as u128;
        self.since = now;
    }

    /// Whether the store is down at `now`.
    #[inline]
    pub fn is_down(&self, now: SimTime) -> bool {
        self.down_until.is_some_and(|t| t > now)
    }

    fn sample(&mut self, write: bool) -> SimTime {
        if write {
            self.writes += 1;
            self.write.sample(&mut self.rng)
        } else {
            self.reads += 1;
            self.read.sample(&mut self.rng)
        }
    }

    /// An operation (a write when `write`) arrives for `attempt`.
    #[inline]
    pub fn arrive(&mut self, attempt: Handle, write: bool, now: SimTime) -> StoreCall {
        if self.is_down(now) {
            self.failed += 1;
            return StoreCall::Failed;
        }
        if self.busy < self.workers {
            self.account(now);
            self.busy += 1;
            return StoreCall::Start(self.sample(write));
        }
        match self.queue_limit {
            Some(limit) if self.queue.len() >= limit => {
                self.failed += 1;
                StoreCall::Failed
            }
            _ => {
                self.queue.push_back((attempt, write));
                self.peak_queue = self.peak_queue.max(self.queue.len());
                StoreCall::Queued
            }
        }
    }

    /// A worker finished; it takes the next waiting operation, if any (with its time).
    #[inline]
    pub fn finish(&mut self, now: SimTime) -> Option<(Handle, SimTime)> {
        match self.queue.pop_front() {
            Some((h, write)) => Some((h, self.sample(write))),
            None => {
                self.account(now);
                self.busy = self.busy.saturating_sub(1);
                None
            }
        }
    }

    /// Goes down until `until`: operations waiting now fail (returned), new ones fail at once.
    pub fn outage(&mut self, until: SimTime) -> Vec<Handle> {
        self.down_until = Some(until);
        let lost: Vec<Handle> = self.queue.drain(..).map(|(h, _)| h).collect();
        self.failed += lost.len() as u64;
        lost
    }

    /// Reads served.
    pub fn reads(&self) -> u64 {
        self.reads
    }

    /// Writes served.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Operations that failed (queue full or store down).
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Operations waiting.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Workers busy.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Longest queue seen.
    pub fn peak_queue(&self) -> usize {
        self.peak_queue
    }

    /// Share of worker time busy until `now`.
    pub fn utilisation(&self, now: SimTime) -> f64 {
        let busy = self.busy_ns + self.busy as u128 * now.since(self.since).0 as u128;
        let avail = self.workers as u128 * now.0 as u128;
        if avail == 0 {
            0.0
        } else {
            busy as f64 / avail as f64
        }
    }
}
