//! The downstream dependency every request calls (a database, a payment API): one pool of
//! workers with a queue, shared by all nodes. It can stall (stop answering) as a fault.
//! Draws service times from its own stream, `"dependency"`.

use super::request::Handle;
use crate::config::model::DependencySpec;
use crate::engine::{stream, Distribution, SimTime, Stream};
use crate::metrics::busy::BusyTime;
use std::collections::VecDeque;

/// What the dependency did with a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// Started at once; done after this long.
    Start(SimTime),
    /// Waiting for a worker.
    Queued,
    /// Refused: the queue is full.
    Rejected,
}

/// The shared dependency.
pub struct Dependency {
    workers: u32,
    busy: BusyTime,
    queue: VecDeque<Handle>,
    queue_limit: Option<usize>,
    service: Distribution,
    rng: Stream,
    stalled_until: Option<SimTime>,
    /// Drop a waiting call whose deadline has passed (when deadlines propagate).
    pub deadline_check: bool,
    served: u64,
    peak_queue: usize,
}

impl Dependency {
    /// The dependency of a model in run `seed`.
    pub fn new(spec: &DependencySpec, seed: u64) -> Dependency {
        Dependency {
            workers: spec.workers,
            busy: BusyTime::default(),
            queue: VecDeque::new(),
            queue_limit: spec.queue_limit.map(|q| q as usize),
            service: spec.service.resolve(),
            rng: stream(seed, "dependency"),
            stalled_until: None,
            deadline_check: spec.deadline_check,
            served: 0,
            peak_queue: 0,
        }
    }

    /// The time until which it is stalled, if it is.
    #[inline]
    pub fn stalled_until(&self, now: SimTime) -> Option<SimTime> {
        self.stalled_until.filter(|&t| t > now)
    }

    /// A call arrives.
    #[inline]
    pub fn arrive(&mut self, call: Handle, now: SimTime) -> Call {
        if self.stalled_until(now).is_none() && self.busy.busy() < self.workers {
            self.busy.take(now);
            return Call::Start(self.service.sample(&mut self.rng));
        }
        match self.queue_limit {
            Some(limit) if self.queue.len() >= limit => Call::Rejected,
            _ => {
                self.queue.push_back(call);
                self.peak_queue = self.peak_queue.max(self.queue.len());
                Call::Queued
            }
        }
    }

    /// A worker finished a call. The caller then offers it waiting calls with `next_waiting`.
    #[inline]
    pub fn finish(&mut self) {
        self.served += 1;
    }

    /// The next waiting call, for a worker that just became free (none while stalled).
    #[inline]
    pub fn next_waiting(&mut self, now: SimTime) -> Option<Handle> {
        if self.stalled_until(now).is_some() {
            return None;
        }
        self.queue.pop_front()
    }

    /// A service time for a call a worker takes from the queue.
    #[inline]
    pub fn sample_service(&mut self) -> SimTime {
        self.service.sample(&mut self.rng)
    }

    /// A worker goes idle.
    #[inline]
    pub fn release_worker(&mut self, now: SimTime) {
        self.busy.release(now);
    }

    /// Takes an idle worker (after a stall ends), if there is one and no other stall is
    /// still on (otherwise the worker could take no call, and the caller would loop).
    pub fn take_idle_worker(&mut self, now: SimTime) -> bool {
        if self.stalled_until(now).is_none()
            && self.busy.busy() < self.workers
            && !self.queue.is_empty()
        {
            self.busy.take(now);
            true
        } else {
            false
        }
    }

    /// Stops answering until `until`, or later if a stall already on lasts longer (two
    /// stalls that overlap keep it stalled until the later end).
    pub fn stall(&mut self, until: SimTime) {
        self.stalled_until = Some(self.stalled_until.map_or(until, |t| t.max(until)));
    }

    /// Calls waiting, in queue order (some may be of attempts whose node has crashed).
    pub fn queued(&self) -> impl Iterator<Item = Handle> + '_ {
        self.queue.iter().copied()
    }

    /// Panics (debug builds) when more workers are busy than it has or the queue is over
    /// its limit.
    pub fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        assert!(
            self.busy.busy() <= self.workers,
            "dependency: busy {} > workers {}",
            self.busy.busy(),
            self.workers
        );
        if let Some(limit) = self.queue_limit {
            assert!(
                self.queue.len() <= limit,
                "dependency: queue {} > limit {limit}",
                self.queue.len()
            );
        }
    }

    /// Calls waiting.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Workers busy.
    pub fn busy(&self) -> u32 {
        self.busy.busy()
    }

    /// Calls served.
    pub fn served(&self) -> u64 {
        self.served
    }

    /// Longest queue seen.
    pub fn peak_queue(&self) -> usize {
        self.peak_queue
    }

    /// Share of worker time busy until `now`.
    pub fn utilisation(&self, now: SimTime) -> f64 {
        self.busy.utilisation(self.workers, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::DependencySpec;

    fn dependency() -> Dependency {
        let spec: DependencySpec =
            ron::from_str("Dependency(workers: 2, service: Const(value: \"10ms\"))").expect("spec");
        Dependency::new(&spec, 1)
    }

    #[test]
    fn overlapping_stalls_last_until_the_later_end_and_free_no_worker_meanwhile() {
        let mut d = dependency();
        let h = |idx| Handle { idx, gen: 0 };
        d.stall(SimTime::from_secs(10));
        // A shorter stall inside the first does not end it early.
        d.stall(SimTime::from_secs(5));
        assert_eq!(
            d.stalled_until(SimTime::from_secs(6)),
            Some(SimTime::from_secs(10))
        );
        assert_eq!(d.arrive(h(1), SimTime::from_secs(6)), Call::Queued);
        // The first stall's end comes while the other is on: no worker may be taken (the
        // caller loops while it gets one, and a stalled queue gives it no call to serve).
        assert!(!d.take_idle_worker(SimTime::from_secs(6)));
        assert!(d.take_idle_worker(SimTime::from_secs(10)));
        assert_eq!(d.next_waiting(SimTime::from_secs(10)), Some(h(1)));
    }
}
