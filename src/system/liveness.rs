//! Checks that a run's state makes sense, beyond request conservation (which the slab makes
//! true by construction):
//!
//! - **liveness**, at the end of every run: each request still in flight has a pending event
//!   that can end it — its timeout, its retry, or a chain of pending work that reaches the
//!   attempt it waits for (a worker's service, a dependency or store call, a lock hand-over, a
//!   coalesced fetch, a crash of its node). A request that nothing can end is a leak: the
//!   conservation check counts it as "in flight" for ever. With a closed population, each user
//!   also has either a request in flight or a wake-up pending (otherwise the population shrinks);
//! - **component invariants**, in debug builds (tests): each component checks its own counts
//!   (busy ≤ workers, connections in use ≤ pool, a queue within its limit, …) after every
//!   event, and at every metrics interval no live attempt waits in two queues at once.

use super::request::Handle;
use super::{Event, Simulation, Workload};
use crate::config::experiment::FaultSpec;
use std::collections::{BTreeMap, BTreeSet};

/// A handle as an ordered key (slot, generation).
type Key = (u32, u32);

fn key(h: Handle) -> Key {
    (h.idx, h.gen)
}

/// The `current` of a request sent into a cut network (see `send_attempt`): no attempt
/// exists, only the client's timeout can end it.
const INTO_PARTITION: u32 = u32::MAX;

/// Where a live attempt waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// In a node's queue, for a worker.
    NodeQueue(u32),
    /// At a node, for a connection to the dependency.
    Connection(u32),
    /// In the dependency's queue.
    Dependency,
    /// In the queue of a store server.
    Store(u8),
    /// For a row's lock.
    Lock(u32),
    /// For another attempt's cache fetch (that attempt, if any).
    Coalesced(Option<Key>),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::NodeQueue(n) => write!(f, "waits in node {n}'s queue"),
            Place::Connection(n) => write!(f, "waits for a connection at node {n}"),
            Place::Dependency => write!(f, "waits in the dependency's queue"),
            Place::Store(p) => write!(f, "waits in store server {p}'s queue"),
            Place::Lock(r) => write!(f, "waits for the lock of row {r}"),
            Place::Coalesced(Some(k)) => write!(f, "waits for the cache fetch of attempt {k:?}"),
            Place::Coalesced(None) => write!(f, "waits for a cache fetch that is over"),
        }
    }
}

/// What the pending events can still do, gathered in one pass over the event queue.
#[derive(Default)]
struct Pending {
    /// Requests with a retry scheduled.
    retries: BTreeSet<Key>,
    /// (request, attempt number) with a client timeout scheduled.
    timeouts: BTreeSet<(Key, u32)>,
    /// Attempts some event names (service, dependency, store, lock wait, cache, write done).
    attempts: BTreeSet<Key>,
    /// Nodes a pending crash will empty (failing every attempt there).
    crashes: BTreeSet<u32>,
    /// Nodes whose cut capacity a pending fault end restores.
    restores: BTreeSet<u32>,
    /// The dependency will free a worker (a call in service, or a stall that ends).
    dependency: bool,
    /// Store servers that will free a worker; `u8::MAX`: an outage fails every queue.
    store: BTreeSet<u8>,
    /// Lock rows whose holder will hand the lock on (write done or lease expiry).
    locks: BTreeSet<u32>,
    /// Writes under a lock that will finish, as (row, grant serial).
    lock_writes: BTreeSet<(u32, u32)>,
    /// Users with a wake-up scheduled.
    users: BTreeSet<u32>,
    /// New requests can still arrive (open-loop arrival or a user waking).
    arrivals: bool,
}

impl Simulation {
    fn pending(&self) -> Pending {
        let mut p = Pending::default();
        for (_, e) in self.queue.pending() {
            match *e {
                Event::Arrival => p.arrivals = true,
                Event::UserWake { user } => {
                    p.users.insert(user);
                    p.arrivals = true;
                }
                Event::Retry { request } => {
                    p.retries.insert(key(request));
                }
                Event::Timeout {
                    request,
                    attempt_no,
                } => {
                    p.timeouts.insert((key(request), attempt_no));
                }
                Event::ServiceDone { attempt, .. }
                | Event::LockWaitTimeout { attempt, .. }
                | Event::UnlockedWriteDone { attempt, .. }
                | Event::CacheHit { attempt, .. }
                | Event::CacheMiss { attempt, .. }
                | Event::CacheRetry { attempt, .. } => {
                    p.attempts.insert(key(attempt));
                }
                Event::DependencyDone { attempt } => {
                    p.attempts.insert(key(attempt));
                    p.dependency = true;
                }
                Event::StoreDone { attempt, pool } => {
                    p.attempts.insert(key(attempt));
                    p.store.insert(pool);
                }
                Event::LockWriteDone { row, serial } => {
                    p.locks.insert(row);
                    p.lock_writes.insert((row, serial));
                    p.lock_writes.insert((u32::MAX, serial));
                }
                Event::LeaseExpiry { row, .. } => {
                    p.locks.insert(row);
                }
                Event::RandomFailure { node, lifecycle } => {
                    if self.nodes[node as usize].lifecycle() == lifecycle {
                        p.crashes.insert(node);
                    }
                }
                Event::Fault { index, phase } => {
                    use super::faults::FaultPhase::{End, Start};
                    match (self.faults.spec(index), phase) {
                        (FaultSpec::Crash { node, .. }, Start) => {
                            p.crashes.insert(FaultSpec::tier_node(node));
                        }
                        (FaultSpec::CutCapacity { node, .. }, End) => {
                            p.restores.insert(FaultSpec::tier_node(node));
                        }
                        (FaultSpec::StallDependency { .. }, End) => p.dependency = true,
                        (FaultSpec::StoreOutage { .. }, Start) => {
                            p.store.insert(u8::MAX);
                        }
                        (FaultSpec::PrimaryFailover { .. }, Start) => {
                            p.store.insert(0);
                        }
                        _ => {}
                    }
                }
                Event::LockFlush
                | Event::Lifecycle { .. }
                | Event::HealthCheck { .. }
                | Event::Autoscale
                | Event::MetricsTick => {}
            }
        }
        // A lock holder is named by its write's completion (by row and grant serial).
        if let Some(l) = &self.locks {
            for (row, serial, a) in l.writing_attempts() {
                if p.lock_writes.contains(&(row, serial)) {
                    p.attempts.insert(key(a));
                }
            }
        }
        p
    }

    /// Every live attempt that waits in a queue, with where it waits (stale handles of
    /// attempts lost in a crash are left out).
    fn waiting_places(&self) -> Vec<(Handle, Place)> {
        let mut w = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            w.extend(n.queued().map(|h| (h, Place::NodeQueue(i as u32))));
            w.extend(n.pool_waiting().map(|h| (h, Place::Connection(i as u32))));
        }
        if let Some(d) = &self.dependency {
            w.extend(d.queued().map(|h| (h, Place::Dependency)));
        }
        if let Some(s) = &self.store {
            w.extend(s.queued().map(|(p, h)| (h, Place::Store(p))));
        }
        if let Some(l) = &self.locks {
            w.extend(l.waiting_attempts().map(|(r, h)| (h, Place::Lock(r))));
        }
        if let Some(c) = &self.cache {
            w.extend(
                c.coalesced_waiters()
                    .map(|(h, f)| (h, Place::Coalesced(f.map(key)))),
            );
        }
        w.retain(|(h, _)| self.attempts.get(*h).is_some());
        w
    }

    /// Debug builds, after every event: each component's own invariants (cheap: constant
    /// work per component).
    #[inline]
    pub(super) fn check_components(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        for n in &self.nodes {
            n.check_invariants();
        }
        if let Some(d) = &self.dependency {
            d.check_invariants();
        }
        if let Some(s) = &self.store {
            s.check_invariants();
        }
    }

    /// Debug builds, at every metrics interval and at the end: the components' invariants,
    /// the lock rows', and that no live attempt waits in two places at once.
    pub(super) fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        self.check_components();
        if let Some(l) = &self.locks {
            l.check_invariants();
        }
        let mut seen: BTreeMap<Key, Place> = BTreeMap::new();
        for (h, place) in self.waiting_places() {
            if let Some(first) = seen.insert(key(h), place) {
                panic!(
                    "attempt {h:?} is in two queues at {}: it {first} and {place}",
                    self.queue.now()
                );
            }
        }
    }

    /// The liveness check: `Err` names the requests (and users) that no pending event can
    /// ever end (or wake), with where each one is stuck.
    pub(super) fn liveness(&self) -> Result<(), String> {
        let p = self.pending();
        let waiting = self.waiting_places();
        let place_of: BTreeMap<Key, Place> = waiting.iter().map(|&(h, pl)| (key(h), pl)).collect();
        // Attempts that pending events will move on: named by one, or on a node that will crash.
        let mut live: BTreeSet<Key> = self
            .attempts
            .iter()
            .filter(|(h, a)| p.attempts.contains(&key(*h)) || p.crashes.contains(&a.node))
            .map(|(h, _)| key(h))
            .collect();
        // Then what waits behind them, until nothing changes: a queue moves when its server
        // will free a worker (a node's worker is freed by a live attempt holding it).
        loop {
            let freeing: BTreeSet<u32> = live
                .iter()
                .filter_map(|&(idx, gen)| {
                    let a = self.attempts.get(Handle { idx, gen })?;
                    let queued = place_of.get(&(idx, gen)) == Some(&Place::NodeQueue(a.node));
                    (!queued).then_some(a.node)
                })
                .collect();
            let mut changed = false;
            for (h, place) in &waiting {
                if live.contains(&key(*h)) {
                    continue;
                }
                let moves = match *place {
                    Place::NodeQueue(n) => freeing.contains(&n) || p.restores.contains(&n),
                    Place::Connection(n) => freeing.contains(&n),
                    Place::Dependency => p.dependency,
                    Place::Store(s) => p.store.contains(&s) || p.store.contains(&u8::MAX),
                    Place::Lock(r) => p.locks.contains(&r),
                    // A later miss of the key takes a vanished fetch over (cache_path.rs).
                    Place::Coalesced(f) => f.is_some_and(|f| live.contains(&f)) || p.arrivals,
                };
                if moves {
                    live.insert(key(*h));
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut stuck: Vec<String> = Vec::new();
        let mut users_busy: BTreeSet<u32> = BTreeSet::new();
        for (h, r) in self.requests.iter() {
            users_busy.insert(r.user);
            if p.retries.contains(&key(h)) {
                continue;
            }
            let why = match r.current {
                None => "backing off with no retry scheduled".to_string(),
                Some(_) if p.timeouts.contains(&(key(h), r.attempts)) => continue,
                Some(a) if a.idx == INTO_PARTITION => {
                    // Sent into a cut network with no client timeout: it waits for ever, as a
                    // real client without a timeout would. The model allows it.
                    continue;
                }
                Some(a) if live.contains(&key(a)) => continue,
                Some(a) => match (self.attempts.get(a), place_of.get(&key(a))) {
                    (None, _) => format!("waits for attempt {a:?}, which is gone"),
                    (Some(at), Some(place)) => {
                        format!(
                            "attempt {a:?} {place}, which nothing pending moves (node {})",
                            at.node
                        )
                    }
                    (Some(at), None) => format!(
                        "attempt {a:?} at node {} is in no queue and no pending event names it",
                        at.node
                    ),
                },
            };
            stuck.push(format!(
                "request {:?} (issued at {}, attempt {}) {why}",
                h, r.issued_at, r.attempts
            ));
        }
        if let Workload::Closed(users) = &self.workload {
            // A user the shape has put to sleep for good is not stuck: its traffic stopped.
            let now = self.queue.now();
            let lost: Vec<u32> = (0..users.count())
                .filter(|u| !p.users.contains(u) && !users_busy.contains(u))
                .filter(|&u| !users.sleeps_for_good(u, now))
                .collect();
            if let Some(u) = lost.first() {
                stuck.push(format!(
                    "{} users (first: user {u}) have no request in flight and no wake-up pending",
                    lost.len()
                ));
            }
        }
        if stuck.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = stuck.iter().take(3).map(String::as_str).collect();
        Err(format!(
            "liveness: {} stuck at {} with nothing pending that can end them: {}",
            stuck.len(),
            self.queue.now().min(self.end),
            shown.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;
    use crate::system::request::{Attempt, Request, NO_USER};
    use crate::system::sessions::SessionAction;

    const MODEL: &str = "System(balancer: Balancer(policy: RoundRobin), nodes: Nodes(count: 2, \
        workers: 2, queue_limit: 8, queue_full: Reject, discipline: Fifo, \
        service: Exp(mean: \"10ms\")))";

    fn config(timeout: &str) -> crate::config::RunConfig {
        let experiment = format!(
            "Experiment(model: \"m.ron\", duration: \"2s\", warmup: \"0s\", seed: 3, \
             workload: Open(rate_per_s: 100.0), clients: Clients(timeout: {timeout}))"
        );
        crate::config::single_run_from_texts(&experiment, MODEL).expect("a valid experiment")
    }

    fn request() -> Request {
        Request {
            seq: 0,
            issued_at: SimTime::ZERO,
            user: NO_USER,
            kind: 0,
            attempts: 1,
            current: None,
            served: false,
            last_backoff: SimTime::ZERO,
            action: SessionAction::None,
            session: 0,
            session_issued: SimTime::ZERO,
            login_done: false,
        }
    }

    fn attempt(request: Handle) -> Attempt {
        Attempt {
            seq: 0,
            request,
            enqueued_at: SimTime::ZERO,
            started_at: SimTime::ZERO,
            deadline: SimTime::NEVER,
            node: 1,
            kind: 0,
            failing: false,
            user: NO_USER,
            action: SessionAction::None,
            session: 0,
            session_issued: SimTime::ZERO,
            lock_row: crate::system::lock_path::NO_ROW,
            lock_done: false,
            writes_left: 0,
            issued_at: SimTime::ZERO,
        }
    }

    #[test]
    fn a_fresh_system_and_a_normal_run_are_live() {
        let cfg = config("None");
        let sim = Simulation::new(&cfg);
        assert_eq!(sim.liveness(), Ok(()));
        for seed_timeout in ["None", "\"50ms\""] {
            let out = Simulation::new(&config(seed_timeout)).run(&cfg);
            assert!(out.is_ok(), "{:?}", out.err());
        }
    }

    #[test]
    fn a_request_backing_off_with_no_retry_is_stuck_and_a_scheduled_retry_frees_it() {
        let mut sim = Simulation::new(&config("None"));
        let r = sim.requests.insert(request());
        let err = sim.liveness().expect_err("nothing can end it");
        assert!(
            err.contains("1 stuck") && err.contains("no retry scheduled"),
            "{err}"
        );
        sim.queue
            .schedule_at(SimTime::from_millis(5), Event::Retry { request: r });
        assert_eq!(sim.liveness(), Ok(()));
    }

    #[test]
    fn an_attempt_nothing_names_is_stuck_unless_its_timeout_or_service_is_pending() {
        let mut sim = Simulation::new(&config("None"));
        let r = sim.requests.insert(request());
        let a = sim.attempts.insert(attempt(r));
        sim.requests.get_mut(r).expect("live").current = Some(a);
        let err = sim.liveness().expect_err("an orphan attempt");
        assert!(
            err.contains("in no queue and no pending event names it"),
            "{err}"
        );
        // Its service being scheduled makes it live…
        sim.queue.schedule_at(
            SimTime::from_millis(3),
            Event::ServiceDone {
                node: 1,
                attempt: a,
            },
        );
        assert_eq!(sim.liveness(), Ok(()));
        // …and so does a pending client timeout for that attempt (but not for an older one).
        let mut sim = Simulation::new(&config("None"));
        let r = sim.requests.insert(request());
        let a = sim.attempts.insert(attempt(r));
        sim.requests.get_mut(r).expect("live").current = Some(a);
        sim.queue.schedule_at(
            SimTime::from_millis(3),
            Event::Timeout {
                request: r,
                attempt_no: 0,
            },
        );
        assert!(sim.liveness().is_err(), "a stale timeout does not end it");
        sim.queue.schedule_at(
            SimTime::from_millis(3),
            Event::Timeout {
                request: r,
                attempt_no: 1,
            },
        );
        assert_eq!(sim.liveness(), Ok(()));
    }

    #[test]
    fn a_queued_attempt_is_live_only_behind_a_worker_that_will_come_free() {
        let mut sim = Simulation::new(&config("None"));
        // Node 1 has both workers taken by attempts that nothing will finish, and a third waits.
        let mut held = Vec::new();
        for _ in 0..2 {
            let r = sim.requests.insert(request());
            let a = sim.attempts.insert(attempt(r));
            sim.requests.get_mut(r).expect("live").current = Some(a);
            assert!(sim.nodes[1].try_take_worker(SimTime::ZERO));
            held.push(a);
        }
        let r = sim.requests.insert(request());
        let a = sim.attempts.insert(attempt(r));
        sim.requests.get_mut(r).expect("live").current = Some(a);
        sim.nodes[1].enqueue(a, 0);
        let err = sim.liveness().expect_err("three stuck");
        assert!(err.contains("3 stuck"), "{err}");
        assert!(err.contains("waits in node 1's queue"), "{err}");
        // One worker's service is scheduled: it will free, and the queued attempt moves on;
        // the other worker's attempt is still stuck.
        sim.queue.schedule_at(
            SimTime::from_millis(3),
            Event::ServiceDone {
                node: 1,
                attempt: held[0],
            },
        );
        let err = sim.liveness().expect_err("one stuck");
        assert!(err.contains("1 stuck"), "{err}");
        // A crash of node 1 pending would end all of them.
        let mut sim2 = Simulation::new(&config("None"));
        let r = sim2.requests.insert(request());
        let a = sim2.attempts.insert(attempt(r));
        sim2.requests.get_mut(r).expect("live").current = Some(a);
        sim2.queue.schedule_at(
            SimTime::from_millis(3),
            Event::RandomFailure {
                node: 1,
                lifecycle: sim2.nodes[1].lifecycle(),
            },
        );
        assert_eq!(sim2.liveness(), Ok(()));
    }

    #[test]
    fn a_stuck_request_fails_the_run_as_an_invariant_violation() {
        let cfg = config("None");
        let mut sim = Simulation::new(&cfg);
        // Counted as issued (so conservation holds), but nothing will ever end it.
        sim.recorder.issued();
        sim.requests.insert(request());
        let err = sim.run(&cfg).err().expect("the run must report it");
        let msg = err.to_string();
        assert!(
            msg.contains("internal invariant violated") && msg.contains("liveness"),
            "{msg}"
        );
    }
}
