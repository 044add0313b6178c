//! The pool primitive: workers with a queue in front. A service's instance and a database
//! are both pools, so every pool has the same powers: a queue limit with reject or
//! drop-oldest, FIFO or LIFO, a slowdown under load, a slow factor, a stall and capacity
//! cuts as faults, and busy-time accounting.
//!
//! The pool schedules nothing: its owner samples service times and schedules its own
//! events; the pool only says who works and who waits. With `deadline_check`, a free
//! worker passes over a waiting job whose deadline has passed (nobody waits for it any
//! more): the pool sets it aside, and its owner takes it with [`Pool::take_expired`] and
//! fails it.

use std::collections::VecDeque;

use crate::config::graph::{QueueSpec, Slowdown};
use crate::config::model::{DisciplineSpec, QueueFullSpec};
use crate::engine::SimTime;
use crate::graph::slab::Handle;

/// What the pool did with a job that arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// A worker took it: its service starts now.
    Start,
    /// It waits for a worker.
    Queued,
    /// It waits, and this older job was pushed out of the queue (drop-oldest).
    Dropped(Handle),
    /// The queue is full: turned away.
    Rejected,
}

/// Workers and their queue.
#[derive(Clone, Debug)]
pub struct Pool {
    workers: u32,
    capacity: u32,
    cuts: Vec<u32>,
    busy: u32,
    /// Waiting jobs and their deadlines (`SimTime::NEVER`: none).
    queue: VecDeque<(Handle, SimTime)>,
    deadline_check: bool,
    /// Waiting jobs a free worker passed over because their deadline had passed.
    expired: Vec<Handle>,
    expired_count: u64,
    limit: Option<usize>,
    drop_oldest: bool,
    lifo: bool,
    slowdown: Option<Slowdown>,
    slow_factor: f64,
    stalled: bool,
    /// False from a crash until the restart: its workers' time is not available then, so
    /// it does not count in the utilisation's denominator.
    up: bool,
    busy_ns: u128,
    capacity_ns: u128,
    since: SimTime,
    peak_queue: usize,
    started: u64,
    rejected: u64,
}

impl Pool {
    /// A pool of `workers` with the queue `queue` and an optional slowdown.
    pub fn new(workers: u32, queue: &QueueSpec, slowdown: Option<Slowdown>) -> Pool {
        Pool {
            workers,
            capacity: workers,
            cuts: Vec::new(),
            busy: 0,
            queue: VecDeque::new(),
            deadline_check: queue.deadline_check,
            expired: Vec::new(),
            expired_count: 0,
            limit: queue.limit.map(|l| l as usize),
            drop_oldest: queue.full == QueueFullSpec::DropOldest,
            lifo: queue.discipline == DisciplineSpec::Lifo,
            slowdown,
            slow_factor: 1.0,
            stalled: false,
            up: true,
            busy_ns: 0,
            capacity_ns: 0,
            since: SimTime::ZERO,
            peak_queue: 0,
            started: 0,
            rejected: 0,
        }
    }

    fn account(&mut self, now: SimTime) {
        let dt = now.since(self.since).0 as u128;
        self.busy_ns += self.busy as u128 * dt;
        self.capacity_ns += self.available() as u128 * dt;
        self.since = now;
    }

    /// Workers whose time is available now (none while crashed).
    fn available(&self) -> u32 {
        if self.up {
            self.capacity
        } else {
            0
        }
    }

    fn worker_free(&self) -> bool {
        !self.stalled && self.busy < self.capacity
    }

    /// A job arrives at `now`.
    #[inline]
    pub fn admit(&mut self, job: Handle, now: SimTime) -> Admit {
        self.admit_until(job, now, SimTime::NEVER)
    }

    /// A job whose caller stops waiting at `deadline` arrives at `now`.
    #[inline]
    pub fn admit_until(&mut self, job: Handle, now: SimTime, deadline: SimTime) -> Admit {
        if self.worker_free() && self.queue.is_empty() {
            self.account(now);
            self.busy += 1;
            self.started += 1;
            return Admit::Start;
        }
        if let Some(limit) = self.limit {
            if self.queue.len() >= limit {
                if self.drop_oldest && limit > 0 {
                    let (victim, _) = self.queue.pop_front().expect("a full queue");
                    self.queue.push_back((job, deadline));
                    self.rejected += 1;
                    return Admit::Dropped(victim);
                }
                self.rejected += 1;
                return Admit::Rejected;
            }
        }
        self.queue.push_back((job, deadline));
        self.peak_queue = self.peak_queue.max(self.queue.len());
        Admit::Queued
    }

    /// A worker finished at `now`: it takes the next waiting job (returned; its service
    /// starts now), or goes idle.
    #[inline]
    pub fn finish(&mut self, now: SimTime) -> Option<Handle> {
        if self.busy <= self.capacity && !self.stalled {
            if let Some(next) = self.next_waiting(now) {
                self.started += 1;
                return Some(next);
            }
        }
        self.account(now);
        self.busy -= 1;
        None
    }

    /// The next waiting job a free worker takes at `now`; with `deadline_check`, expired
    /// ones on the way are set aside for [`Pool::take_expired`].
    fn next_waiting(&mut self, now: SimTime) -> Option<Handle> {
        loop {
            let (job, deadline) = if self.lifo {
                self.queue.pop_back()?
            } else {
                self.queue.pop_front()?
            };
            if self.deadline_check && now >= deadline {
                self.expired.push(job);
                self.expired_count += 1;
                continue;
            }
            return Some(job);
        }
    }

    /// The waiting jobs dropped because their deadline had passed since the last call:
    /// the owner fails each (its caller has gone).
    pub fn take_expired(&mut self) -> Vec<Handle> {
        std::mem::take(&mut self.expired)
    }

    /// Whether jobs dropped for their deadline wait for [`Pool::take_expired`].
    pub fn has_expired(&self) -> bool {
        !self.expired.is_empty()
    }

    /// Waiting jobs dropped for their deadline so far.
    pub fn expired_count(&self) -> u64 {
        self.expired_count
    }

    /// Idle workers (after a stall ends or a cut is lifted) take waiting jobs: each one
    /// returned starts now.
    pub fn take_waiting(&mut self, now: SimTime) -> Vec<Handle> {
        let mut started = Vec::new();
        while self.worker_free() {
            let Some(job) = self.next_waiting(now) else {
                break;
            };
            self.account(now);
            self.busy += 1;
            self.started += 1;
            started.push(job);
        }
        started
    }

    /// Takes a waiting job out of the queue (its client gave up, or its holder died).
    pub fn remove_waiting(&mut self, job: Handle) -> bool {
        match self.queue.iter().position(|&(j, _)| j == job) {
            Some(i) => {
                self.queue.remove(i);
                true
            }
            None => false,
        }
    }

    /// Empties the pool at a crash: every waiting job (returned) is lost, and the
    /// workers stop (the owner fails the jobs in service itself).
    pub fn crash(&mut self, now: SimTime) -> Vec<Handle> {
        self.account(now);
        self.busy = 0;
        self.up = false;
        self.queue.drain(..).map(|(j, _)| j).collect()
    }

    /// The service-time factor at utilisation `u` (the pool's own when `None`): the
    /// slowdown under load times a `Slow` fault's factor.
    #[inline]
    pub fn factor(&self, u: Option<f64>) -> f64 {
        let load = match &self.slowdown {
            Some(s) => s.factor(
                u.unwrap_or_else(|| self.utilisation_now()),
                self.busy,
                self.queue.len(),
            ),
            None => 1.0,
        };
        load * self.slow_factor
    }

    /// Busy workers ÷ workers, right now.
    pub fn utilisation_now(&self) -> f64 {
        self.busy as f64 / self.workers.max(1) as f64
    }

    /// A `Slow` fault sets (or, with 1, ends) the slow factor.
    pub fn set_slow_factor(&mut self, factor: f64) {
        self.slow_factor = factor;
    }

    /// A `Stall` fault: while stalled, no worker takes a new job.
    pub fn set_stalled(&mut self, stalled: bool) {
        self.stalled = stalled;
    }

    /// A `CutCapacity` to `workers` starts (`on`) or ends; overlapping cuts keep the deepest.
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

    /// Restores a crashed pool's workers to its configured count (cuts stay).
    pub fn restart(&mut self, now: SimTime) {
        self.account(now);
        self.up = true;
    }

    /// Workers busy.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Workers configured.
    pub fn workers(&self) -> u32 {
        self.workers
    }

    /// Jobs waiting.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Jobs waiting, in queue order.
    pub fn waiting(&self) -> impl Iterator<Item = Handle> + '_ {
        self.queue.iter().map(|&(j, _)| j)
    }

    /// The longest the queue has been.
    pub fn peak_queue(&self) -> usize {
        self.peak_queue
    }

    /// Jobs started.
    pub fn started(&self) -> u64 {
        self.started
    }

    /// Jobs its full queue turned away.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Worker-ns busy and worker-ns available until `now`.
    pub fn integrals(&self, now: SimTime) -> (u128, u128) {
        let dt = now.since(self.since).0 as u128;
        (
            self.busy_ns + self.busy as u128 * dt,
            self.capacity_ns + self.available() as u128 * dt,
        )
    }

    /// Panics (debug builds) when more workers are busy than it may have, or the queue is
    /// over its limit.
    pub fn check_invariants(&self, name: &str) {
        if !cfg!(debug_assertions) {
            return;
        }
        assert!(
            self.busy <= self.workers,
            "{name}: busy {} > workers {}",
            self.busy,
            self.workers
        );
        if let Some(limit) = self.limit {
            assert!(
                self.queue.len() <= limit,
                "{name}: queue {} > limit {limit}",
                self.queue.len()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(idx: u32) -> Handle {
        Handle { idx, gen: 0 }
    }

    #[test]
    fn workers_then_queue_then_reject_and_fifo_order() {
        let q = QueueSpec {
            limit: Some(2),
            ..Default::default()
        };
        let mut p = Pool::new(1, &q, None);
        let t = SimTime::ZERO;
        assert_eq!(p.admit(h(1), t), Admit::Start);
        assert_eq!(p.admit(h(2), t), Admit::Queued);
        assert_eq!(p.admit(h(3), t), Admit::Queued);
        assert_eq!(p.admit(h(4), t), Admit::Rejected);
        assert_eq!(p.finish(t), Some(h(2)));
        assert_eq!(p.finish(t), Some(h(3)));
        assert_eq!(p.finish(t), None);
        assert_eq!(p.busy(), 0);
    }

    #[test]
    fn lifo_and_drop_oldest() {
        let q = QueueSpec {
            limit: Some(2),
            full: QueueFullSpec::DropOldest,
            discipline: DisciplineSpec::Lifo,
            deadline_check: false,
        };
        let mut p = Pool::new(1, &q, None);
        let t = SimTime::ZERO;
        p.admit(h(1), t);
        p.admit(h(2), t);
        p.admit(h(3), t);
        assert_eq!(p.admit(h(4), t), Admit::Dropped(h(2)));
        assert_eq!(p.finish(t), Some(h(4)));
    }

    #[test]
    fn a_deadline_check_sets_expired_waiters_aside_and_serves_the_next_live_one() {
        let ms = SimTime::from_millis;
        for check in [false, true] {
            let q = QueueSpec {
                deadline_check: check,
                ..Default::default()
            };
            let mut p = Pool::new(1, &q, None);
            assert_eq!(p.admit_until(h(1), ms(0), ms(100)), Admit::Start);
            p.admit_until(h(2), ms(0), ms(10));
            p.admit_until(h(3), ms(0), ms(20));
            p.admit_until(h(4), ms(0), SimTime::NEVER);
            // At 20 ms the deadlines of 2 (10 ms) and 3 (20 ms) have passed.
            let next = p.finish(ms(20));
            if check {
                assert_eq!(next, Some(h(4)));
                assert_eq!(p.take_expired(), vec![h(2), h(3)]);
                assert_eq!(p.expired_count(), 2);
                assert!(!p.has_expired(), "taken");
            } else {
                assert_eq!(next, Some(h(2)), "without the check, FIFO order");
                assert!(p.take_expired().is_empty());
            }
        }
        // Every waiter expired: the worker goes idle.
        let q = QueueSpec {
            deadline_check: true,
            ..Default::default()
        };
        let mut p = Pool::new(1, &q, None);
        p.admit(h(1), ms(0));
        p.admit_until(h(2), ms(0), ms(5));
        assert_eq!(p.finish(ms(5)), None);
        assert_eq!(p.busy(), 0);
        assert_eq!(p.take_expired(), vec![h(2)]);
    }

    #[test]
    fn stall_and_cut_hold_work_back_until_lifted() {
        let mut p = Pool::new(2, &QueueSpec::default(), None);
        let t = SimTime::ZERO;
        p.set_stalled(true);
        assert_eq!(p.admit(h(1), t), Admit::Queued);
        p.set_stalled(false);
        assert_eq!(p.take_waiting(t), vec![h(1)]);
        assert_eq!(p.admit(h(2), t), Admit::Start);
        // Cut to one worker while two are busy: the first to finish goes idle even though
        // a job waits; the second carries on with it.
        p.cut_capacity(1, true, t);
        assert_eq!(p.admit(h(3), t), Admit::Queued);
        assert_eq!(
            p.finish(t),
            None,
            "over the cut capacity the worker goes idle"
        );
        assert_eq!(p.busy(), 1);
        assert_eq!(p.finish(t), Some(h(3)));
        p.cut_capacity(1, false, t);
        assert_eq!(p.admit(h(4), t), Admit::Start);
        assert_eq!(p.busy(), 2);
    }

    #[test]
    fn slowdown_shapes_at_full_load() {
        let poly = Slowdown::Polynomial {
            k: 5.0,
            n: 3.0,
            max_factor: 100.0,
        };
        assert!((poly.factor(1.0, 0, 0) - 6.0).abs() < 1e-12);
        assert!((poly.factor(0.5, 0, 0) - 1.625).abs() < 1e-12);
        let exp = Slowdown::Exponential {
            k: 2.0,
            max_factor: 100.0,
        };
        assert!((exp.factor(1.0, 0, 0) - 2f64.exp()).abs() < 1e-12);
        let lin = Slowdown::Linear {
            k: 3.0,
            max_factor: 2.0,
        };
        assert_eq!(lin.factor(1.0, 0, 0), 2.0, "capped at max_factor");
    }
}
