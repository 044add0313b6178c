//! An app node: a pool of workers with a queue in front. It decides what happens to each
//! attempt that reaches it and draws service times from its own stream, `"node/<i>"`.

use super::request::Handle;
use crate::config::model::{DisciplineSpec, NodesSpec, QueueFullSpec};
use crate::engine::{stream, Distribution, SimTime, Stream};
use std::collections::VecDeque;

/// What a node did with an arriving attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A worker took it at once; it will finish after this service time.
    Start(SimTime),
    /// It waits in the queue.
    Queued,
    /// It waits in the queue, and this older attempt was pushed out to make room.
    QueuedDropping(Handle),
    /// The node refused it (queue full, or the node is down).
    Rejected,
}

/// One app node.
pub struct Node {
    workers: u32,
    busy: u32,
    queue: VecDeque<Handle>,
    queue_limit: Option<usize>,
    queue_full: QueueFullSpec,
    lifo: bool,
    service: Distribution,
    rng: Stream,
    up: bool,
    /// Bumped on each crash, so completions scheduled before it are recognised as void.
    epoch: u32,
    /// Worker-nanoseconds spent serving, for utilisation.
    busy_ns: u128,
    busy_since: SimTime,
    served: u64,
}

impl Node {
    /// Node `index` built from the model's `nodes` section in run `seed`.
    pub fn new(index: u32, spec: &NodesSpec, seed: u64) -> Node {
        Node {
            workers: spec.workers,
            busy: 0,
            queue: VecDeque::new(),
            queue_limit: spec.queue_limit.map(|q| q as usize),
            queue_full: spec.queue_full,
            lifo: spec.discipline == DisciplineSpec::Lifo,
            service: spec.service.resolve(),
            rng: stream(seed, &format!("node/{index}")),
            up: true,
            epoch: 0,
            busy_ns: 0,
            busy_since: SimTime::ZERO,
            served: 0,
        }
    }

    /// True when the balancer may send attempts here.
    #[inline]
    pub fn is_routable(&self) -> bool {
        self.up
    }

    /// True when the node is running.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Attempts in service or waiting: the load the balancer sees.
    #[inline]
    pub fn in_progress(&self) -> u32 {
        self.busy + self.queue.len() as u32
    }

    /// Workers serving right now.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Attempts waiting for a worker.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// The current crash epoch (stamped on completions).
    #[inline]
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Attempts this node finished serving.
    pub fn served(&self) -> u64 {
        self.served
    }

    /// Worker-seconds spent serving up to `now`, divided by worker-seconds available.
    pub fn utilisation(&self, now: SimTime) -> f64 {
        let busy = self.busy_ns + self.busy as u128 * now.since(self.busy_since).0 as u128;
        let avail = self.workers as u128 * now.0 as u128;
        if avail == 0 {
            0.0
        } else {
            busy as f64 / avail as f64
        }
    }

    #[inline]
    fn account(&mut self, now: SimTime) {
        self.busy_ns += self.busy as u128 * now.since(self.busy_since).0 as u128;
        self.busy_since = now;
    }

    /// An attempt arrives at `now`.
    #[inline]
    pub fn arrive(&mut self, attempt: Handle, now: SimTime) -> Admission {
        if !self.up {
            return Admission::Rejected;
        }
        if self.busy < self.workers {
            self.account(now);
            self.busy += 1;
            return Admission::Start(self.service.sample(&mut self.rng));
        }
        match self.queue_limit {
            Some(limit) if self.queue.len() >= limit => match self.queue_full {
                QueueFullSpec::Reject => Admission::Rejected,
                QueueFullSpec::DropOldest => match self.queue.pop_front() {
                    Some(victim) => {
                        self.queue.push_back(attempt);
                        Admission::QueuedDropping(victim)
                    }
                    // A zero-length queue has nothing to drop.
                    None => Admission::Rejected,
                },
            },
            _ => {
                self.queue.push_back(attempt);
                Admission::Queued
            }
        }
    }

    /// A worker finished at `now`. Returns the next waiting attempt it takes, with its
    /// service time, if any waits.
    #[inline]
    pub fn finish(&mut self, now: SimTime) -> Option<(Handle, SimTime)> {
        self.served += 1;
        let next = if self.lifo {
            self.queue.pop_back()
        } else {
            self.queue.pop_front()
        };
        match next {
            Some(h) => Some((h, self.service.sample(&mut self.rng))),
            None => {
                self.account(now);
                self.busy -= 1;
                None
            }
        }
    }

    /// The node crashes at `now`: it stops, and returns the attempts that were waiting.
    /// (Attempts in service are voided by the epoch change; the caller fails them.)
    pub fn crash(&mut self, now: SimTime) -> Vec<Handle> {
        self.account(now);
        self.up = false;
        self.busy = 0;
        self.epoch = self.epoch.wrapping_add(1);
        self.queue.drain(..).collect()
    }

    /// The node is back at `now`, empty.
    pub fn restart(&mut self, now: SimTime) {
        self.account(now);
        self.up = true;
    }
}
