//! An app node: a pool of workers with a queue in front, a lifecycle (provisioning,
//! start-up, up, draining, crashed), load-dependent slowdown, a cold start, a connection
//! pool to the dependency, and the faults that can afflict it. Draws service times and
//! injected errors from its own stream, `"node/<i>"`.

use super::request::Handle;
use crate::config::model::{ColdStartSpec, DisciplineSpec, NodesSpec, QueueFullSpec, SlowdownSpec};
use crate::engine::{stream, Distribution, SimTime, Stream};
use rand::Rng;
use std::collections::VecDeque;

/// Where a node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    /// Not provisioned: costs nothing, serves nothing.
    Off,
    /// Ordered, not yet booting (the autoscaler's provisioning delay); costs money.
    Provisioning,
    /// Booting; refuses connections.
    Starting,
    /// Serving.
    Up,
    /// Taken out by scale-in: finishes its work, then turns off.
    Draining,
    /// Crashed: refuses connections until restarted.
    Crashed,
}

/// What a node's queue did with an attempt no worker could take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    /// It waits.
    Queued,
    /// It waits, and this older attempt was pushed out.
    Dropping(Handle),
    /// The queue is full.
    Rejected,
}

/// One app node.
pub struct Node {
    state: NodeState,
    in_pool: bool,
    lifecycle: u32,
    workers: u32,
    capacity: u32,
    /// The workers left by each capacity cut now on (overlapping cuts: the deepest wins).
    cuts: Vec<u32>,
    busy: u32,
    queue: VecDeque<(Handle, u8)>,
    queue_limit: Option<usize>,
    queue_full: QueueFullSpec,
    lifo: bool,
    service: Vec<Distribution>,
    slowdown: Option<SlowdownSpec>,
    cold: Option<ColdStartSpec>,
    up_since: SimTime,
    slow_factor: f64,
    fail_probability: f64,
    partitioned: bool,
    pool_size: u32,
    pool_in_use: u32,
    pool_waiters: VecDeque<Handle>,
    rng: Stream,
    busy_ns: u128,
    capacity_ns: u128,
    since: SimTime,
    served: u64,
    errors: u64,
    rejected: u64,
    recent_ok: u32,
    recent_err: u32,
    peak_queue: usize,
}

impl Node {
    /// Node `index` built from the model's `nodes` section; `service` holds one
    /// distribution per request kind (index 0 is the default).
    pub fn new(index: u32, spec: &NodesSpec, service: Vec<Distribution>, seed: u64) -> Node {
        Node {
            state: NodeState::Off,
            in_pool: false,
            lifecycle: 0,
            workers: spec.workers,
            capacity: spec.workers,
            cuts: Vec::new(),
            busy: 0,
            queue: VecDeque::new(),
            queue_limit: spec.queue_limit.map(|q| q as usize),
            queue_full: spec.queue_full,
            lifo: spec.discipline == DisciplineSpec::Lifo,
            service,
            slowdown: spec.slowdown.clone(),
            cold: spec.cold_start.clone(),
            up_since: SimTime::ZERO,
            slow_factor: 1.0,
            fail_probability: 0.0,
            partitioned: false,
            pool_size: spec.dependency_pool.unwrap_or(u32::MAX),
            pool_in_use: 0,
            pool_waiters: VecDeque::new(),
            rng: stream(seed, &format!("node/{index}")),
            busy_ns: 0,
            capacity_ns: 0,
            since: SimTime::ZERO,
            served: 0,
            errors: 0,
            rejected: 0,
            recent_ok: 0,
            recent_err: 0,
            peak_queue: 0,
        }
    }

    /// The node's state.
    #[inline]
    pub fn state(&self) -> NodeState {
        self.state
    }

    /// Whether the balancer has this node in its pool (it may have crashed since).
    #[inline]
    pub fn in_pool(&self) -> bool {
        self.in_pool
    }

    /// Whether the node is provisioned (and so costs money).
    pub fn is_on(&self) -> bool {
        self.state != NodeState::Off
    }

    /// The lifecycle generation: bumped by a crash or a scale-in so that pending start-up
    /// and failure events for the old life are recognised as void.
    #[inline]
    pub fn lifecycle(&self) -> u32 {
        self.lifecycle
    }

    /// Attempts in service or waiting: the load the balancer sees.
    #[inline]
    pub fn in_progress(&self) -> u32 {
        self.busy + self.queue.len() as u32
    }

    /// Workers held right now.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Attempts waiting for a worker.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Attempts this node finished serving.
    pub fn served(&self) -> u64 {
        self.served
    }

    /// Attempts that failed here with an injected error.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Attempts its full queue turned away.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// The longest its queue has been.
    pub fn peak_queue(&self) -> usize {
        self.peak_queue
    }

    /// Whether the network between the balancer and this node is cut.
    #[inline]
    pub fn partitioned(&self) -> bool {
        self.partitioned
    }

    fn account(&mut self, now: SimTime) {
        let dt = now.since(self.since).0 as u128;
        self.busy_ns += self.busy as u128 * dt;
        if self.state == NodeState::Up || self.state == NodeState::Draining {
            self.capacity_ns += self.capacity as u128 * dt;
        }
        self.since = now;
    }

    /// Worker-nanoseconds held, and worker-nanoseconds available while up, until `now`.
    pub fn integrals(&self, now: SimTime) -> (u128, u128) {
        let dt = now.since(self.since).0 as u128;
        let up = matches!(self.state, NodeState::Up | NodeState::Draining);
        (
            self.busy_ns + self.busy as u128 * dt,
            self.capacity_ns + if up { self.capacity as u128 * dt } else { 0 },
        )
    }

    /// Share of the worker time available while up that was spent serving.
    pub fn utilisation(&self, now: SimTime) -> f64 {
        let (busy, cap) = self.integrals(now);
        if cap == 0 {
            0.0
        } else {
            (busy as f64 / cap as f64).min(1.0)
        }
    }

    /// Moves to `state` at `now` (keeps the time integrals right).
    pub fn set_state(&mut self, state: NodeState, now: SimTime) {
        self.account(now);
        if state == NodeState::Up && self.state != NodeState::Up {
            self.up_since = now;
            self.in_pool = true;
        }
        if matches!(state, NodeState::Draining | NodeState::Off) {
            self.in_pool = false;
            self.lifecycle = self.lifecycle.wrapping_add(1);
        }
        self.state = state;
    }

    /// When the node last came up (zero for nodes up from the start).
    pub fn up_since(&self) -> SimTime {
        self.up_since
    }

    /// Attempts waiting for a worker, in queue order.
    pub fn queued(&self) -> impl Iterator<Item = Handle> + '_ {
        self.queue.iter().map(|&(h, _)| h)
    }

    /// Attempts waiting for a connection to the dependency.
    pub fn pool_waiting(&self) -> impl Iterator<Item = Handle> + '_ {
        self.pool_waiters.iter().copied()
    }

    /// Panics (debug builds) when the node's own counts contradict each other: more workers
    /// busy than it has, more connections in use than its pool, a queue over its limit, a
    /// worker idle beside a waiting attempt, or work on a node that is not serving.
    pub fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        assert!(
            self.busy <= self.workers,
            "node: busy {} > workers {}",
            self.busy,
            self.workers
        );
        assert!(
            self.pool_in_use <= self.pool_size,
            "node: connections in use {} > pool {}",
            self.pool_in_use,
            self.pool_size
        );
        assert!(
            self.pool_waiters.is_empty() || self.pool_in_use == self.pool_size,
            "node: {} waiting for a connection with {} of {} in use",
            self.pool_waiters.len(),
            self.pool_in_use,
            self.pool_size
        );
        if let Some(limit) = self.queue_limit {
            assert!(
                self.queue.len() <= limit,
                "node: queue {} > limit {limit}",
                self.queue.len()
            );
        }
        match self.state {
            NodeState::Up | NodeState::Draining => assert!(
                self.queue.is_empty() || self.busy >= self.capacity,
                "node: {} waiting with {} of {} workers busy",
                self.queue.len(),
                self.busy,
                self.capacity
            ),
            _ => assert!(
                self.busy == 0 && self.queue.is_empty() && self.pool_waiters.is_empty(),
                "node {:?}: busy {}, queue {}, connection waiters {}",
                self.state,
                self.busy,
                self.queue.len(),
                self.pool_waiters.len()
            ),
        }
    }

    /// Takes a free worker if there is one.
    #[inline]
    pub fn try_take_worker(&mut self, now: SimTime) -> bool {
        if self.busy < self.capacity {
            self.account(now);
            self.busy += 1;
            debug_assert!(self.busy <= self.workers, "node: busy > workers");
            true
        } else {
            false
        }
    }

    /// Releases a worker (the caller has found no waiting attempt for it to take).
    #[inline]
    pub fn release_worker(&mut self, now: SimTime) {
        debug_assert!(self.busy > 0, "node: a worker released with none busy");
        self.account(now);
        self.busy = self.busy.saturating_sub(1);
    }

    /// Whether a released worker may take more work (not when capacity was cut below busy).
    #[inline]
    pub fn worker_may_continue(&self) -> bool {
        self.busy <= self.capacity
    }

    /// Puts an attempt in the queue, applying the queue's limit and policy.
    #[inline]
    pub fn enqueue(&mut self, attempt: Handle, kind: u8) -> Enqueued {
        match self.queue_limit {
            Some(limit) if self.queue.len() >= limit => {
                self.rejected += 1;
                match self.queue_full {
                    QueueFullSpec::DropOldest if limit > 0 => {
                        let (victim, _) = self.queue.pop_front().expect("queue is full");
                        self.queue.push_back((attempt, kind));
                        Enqueued::Dropping(victim)
                    }
                    _ => Enqueued::Rejected,
                }
            }
            _ => {
                self.queue.push_back((attempt, kind));
                self.peak_queue = self.peak_queue.max(self.queue.len());
                Enqueued::Queued
            }
        }
    }

    /// The next waiting attempt for a free worker (FIFO or LIFO).
    #[inline]
    pub fn pop_waiting(&mut self) -> Option<(Handle, u8)> {
        if self.lifo {
            self.queue.pop_back()
        } else {
            self.queue.pop_front()
        }
    }

    /// The service time of an attempt of `kind` starting now, and whether an injected
    /// fault makes it fail (fast) instead.
    #[inline]
    pub fn service_time(&mut self, kind: u8, now: SimTime) -> (SimTime, bool) {
        if self.fail_probability > 0.0 && self.rng.random::<f64>() < self.fail_probability {
            self.errors += 1;
            self.recent_err += 1;
            // Failing fast: an error page costs about a millisecond.
            return (SimTime::from_millis(1), true);
        }
        self.recent_ok += 1;
        let mut factor = self.slow_factor;
        if let Some(s) = &self.slowdown {
            let f =
                1.0 + s.per_busy_worker * self.busy as f64 + s.per_queued * self.queue.len() as f64;
            factor *= f.min(s.max_factor);
        }
        // Nodes up from the start (up_since zero) are warm: the run begins in steady state.
        if let Some(c) = self.cold.as_ref().filter(|_| self.up_since > SimTime::ZERO) {
            let age = now.since(self.up_since).0 as f64;
            let lasting = c.lasting.ns() as f64;
            if age < lasting {
                factor *= c.factor - (c.factor - 1.0) * age / lasting;
            }
        }
        let d = &self.service[(kind as usize).min(self.service.len() - 1)];
        (d.sample_scaled(&mut self.rng, factor), false)
    }

    /// Records a finished attempt.
    #[inline]
    pub fn record_served(&mut self) {
        self.served += 1;
    }

    /// Takes a connection to the dependency, or queues `attempt` for one (false).
    #[inline]
    pub fn acquire_connection(&mut self, attempt: Handle) -> bool {
        if self.pool_in_use < self.pool_size {
            self.pool_in_use += 1;
            true
        } else {
            self.pool_waiters.push_back(attempt);
            false
        }
    }

    /// Returns a connection; the next waiter (if any) gets it at once.
    #[inline]
    pub fn release_connection(&mut self) -> Option<Handle> {
        match self.pool_waiters.pop_front() {
            Some(next) => Some(next),
            None => {
                debug_assert!(
                    self.pool_in_use > 0,
                    "node: a connection released with none in use"
                );
                self.pool_in_use = self.pool_in_use.saturating_sub(1);
                None
            }
        }
    }

    /// The node crashes at `now`: everything waiting or in service here is lost. Returns
    /// the attempts that were waiting (for a worker or a connection).
    pub fn crash(&mut self, now: SimTime) -> Vec<Handle> {
        self.set_state(NodeState::Crashed, now);
        self.lifecycle = self.lifecycle.wrapping_add(1);
        self.busy = 0;
        self.pool_in_use = 0;
        let mut lost: Vec<Handle> = self.queue.drain(..).map(|(h, _)| h).collect();
        lost.extend(self.pool_waiters.drain(..));
        lost
    }

    /// Sets the slowdown factor of a `Slow` fault (1 = normal).
    pub fn set_slow_factor(&mut self, factor: f64) {
        self.slow_factor = factor;
    }

    /// A cut to `workers` starts (`on`) or ends. While cuts overlap the deepest holds, and
    /// the end of one leaves the others on (it used to restore every worker).
    pub fn cut_capacity(&mut self, workers: u32, on: bool, now: SimTime) {
        self.account(now);
        if on {
            self.cuts.push(workers);
        } else if let Some(i) = self.cuts.iter().position(|&w| w == workers) {
            self.cuts.remove(i);
        }
        self.capacity = self
            .cuts
            .iter()
            .copied()
            .min()
            .unwrap_or(self.workers)
            .min(self.workers);
    }

    /// Spare workers after a capacity change (so waiting attempts can start).
    pub fn spare_workers(&self) -> u32 {
        self.capacity.saturating_sub(self.busy)
    }

    /// Sets the probability that an attempt fails fast with an error.
    pub fn set_fail_probability(&mut self, p: f64) {
        self.fail_probability = p;
    }

    /// Cuts or restores the network path from the balancer.
    pub fn set_partitioned(&mut self, cut: bool) {
        self.partitioned = cut;
    }

    /// A health probe: does the node answer in time, and (for a deep check) have most of its
    /// recent requests succeeded? Resets the recent counts.
    pub fn probe(&mut self, timeout: SimTime, deep: bool) -> bool {
        let (ok, err) = (self.recent_ok, self.recent_err);
        self.recent_ok = 0;
        self.recent_err = 0;
        if self.state != NodeState::Up || self.partitioned {
            return false;
        }
        if deep && err > 0 && err >= ok {
            return false;
        }
        // A deep probe goes through the same code path as requests, so it meets the same
        // injected errors (a shallow one only checks that the process answers).
        if deep && self.fail_probability > 0.0 && self.rng.random::<f64>() < self.fail_probability {
            return false;
        }
        // The probe waits behind the queue: an overloaded node fails its health check too.
        let mean_ns = self.service[0].mean_ns() * self.slow_factor;
        let wait_ns = self.queue.len() as f64 / self.capacity.max(1) as f64 * mean_ns;
        wait_ns < timeout.0 as f64
    }
}
