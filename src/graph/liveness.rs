//! The liveness check at the end of every graph run: each request still in flight has a
//! pending event that can end it — its retry, its client's timeout for the attempt it
//! waits for, or a chain of pending work that reaches that attempt — and each user of a
//! closed population has a request in flight or a wake-up pending. A request nothing can
//! end is a leak (conservation would count it "in flight" for ever); the run fails with
//! an invariant violation naming it and where it is stuck, never a silent summary.
//!
//! The chain is followed through the path's own records: a visit moves if an event names
//! it, if the task running the rest of its block moves, or (waiting at its service
//! instance) if its service will free a worker; a task moves if its step's event is
//! pending, if the component it waits at has pending events (or another moving task's
//! step will answer that component), if the call or a branch of the fan-out it waits for
//! moves; a call moves if its retry or its timeout for its current attempt is pending, or
//! its current visit moves. A pending fault may end anything (a crash, a partition's end,
//! a stall's end), so it counts as moving whatever waits at a component. The rules lean
//! to "moves" where the path cannot see inside a component: the check finds leaks in the
//! path, and never fails a run that can still finish.

use std::collections::{BTreeMap, BTreeSet};

use super::path::PathEvent;
use super::population::PopulationEvent;
use super::registry::{Event, Kind};
use super::request::{Origin, Parent};
use super::GraphSim;
use crate::graph::slab::Handle;

/// A handle as an ordered key (slot, generation).
type Key = (u32, u32);

fn key(h: Handle) -> Key {
    (h.idx, h.gen)
}

/// A component, by kind and index, as an ordered key.
fn comp(kind: Kind, index: u16) -> (u8, u16) {
    (kind as u8, index)
}

/// What the pending events can still do, gathered in one pass over the event queue.
#[derive(Default)]
struct Pending {
    /// Requests with a retry scheduled.
    retries: BTreeSet<Key>,
    /// (request, attempt number) with a client timeout scheduled.
    timeouts: BTreeSet<(Key, u32)>,
    /// Calls with a retry scheduled.
    call_retries: BTreeSet<Key>,
    /// (call, attempt number) with a calling service's timeout scheduled.
    call_timeouts: BTreeSet<(Key, u32)>,
    /// Visits an arrival or an answer names.
    visits: BTreeSet<Key>,
    /// Tasks whose step start is scheduled.
    steps: BTreeSet<Key>,
    /// Components with an event of their own pending.
    components: BTreeSet<(u8, u16)>,
    /// A fault starts or ends later.
    faults: bool,
    /// (population, user) with a wake-up scheduled.
    users: BTreeSet<(u16, u32)>,
}

impl GraphSim {
    fn pending(&self) -> Pending {
        let mut p = Pending::default();
        for (_, e) in self.queue.pending() {
            match *e {
                Event::Path(pe) => match pe {
                    PathEvent::Arrive { visit } | PathEvent::Answer { visit, .. } => {
                        p.visits.insert(key(visit));
                    }
                    PathEvent::Timeout {
                        request,
                        attempt_no,
                    } => {
                        p.timeouts.insert((key(request), attempt_no));
                    }
                    PathEvent::Retry { request } => {
                        p.retries.insert(key(request));
                    }
                    PathEvent::CallTimeout { call, attempt_no } => {
                        p.call_timeouts.insert((key(call), attempt_no));
                    }
                    PathEvent::CallRetry { call } => {
                        p.call_retries.insert(key(call));
                    }
                    PathEvent::StepAt { task } => {
                        p.steps.insert(key(task));
                    }
                },
                Event::Population(pop, PopulationEvent::Wake { user }) => {
                    p.users.insert((pop, user));
                }
                Event::Population(..) | Event::Tick => {}
                Event::Fault(..) => p.faults = true,
                Event::Service(i, _) => {
                    p.components.insert(comp(Kind::Service, i));
                }
                Event::Db(i, _) => {
                    p.components.insert(comp(Kind::Db, i));
                }
                Event::Cache(i, _) => {
                    p.components.insert(comp(Kind::Cache, i));
                }
                Event::Counter(i, _) => {
                    p.components.insert(comp(Kind::Counter, i));
                }
                Event::Topic(i, _) => {
                    p.components.insert(comp(Kind::Topic, i));
                }
                #[allow(unreachable_patterns)]
                _ => {
                    // A component kind this check does not know: whatever waits at a
                    // component may move.
                    p.faults = true;
                }
            }
        }
        p
    }

    /// The tasks, visits and calls that pending events will move on, grown from what an
    /// event names to what waits behind it until nothing changes.
    fn moving(&self, p: &Pending) -> (BTreeSet<Key>, BTreeSet<Key>, BTreeSet<Key>) {
        // Who waits for whom, indexed once.
        let mut calls_of: BTreeMap<Key, Vec<Key>> = BTreeMap::new();
        for (h, c) in self.calls.iter() {
            calls_of.entry(key(c.caller)).or_default().push(key(h));
        }
        let mut task_of: BTreeMap<Key, Key> = BTreeMap::new();
        let mut branches_of: BTreeMap<Key, Vec<Key>> = BTreeMap::new();
        for (h, t) in self.tasks.iter() {
            match t.parent {
                Parent::Visit(v) => {
                    task_of.insert(key(v), key(h));
                }
                Parent::Branch(f) => branches_of.entry(key(f)).or_default().push(key(h)),
                // A component's own work (a batch write): no request waits behind it.
                Parent::Own => {}
            }
        }
        let mut fanouts_of: BTreeMap<Key, Vec<Key>> = BTreeMap::new();
        for (h, f) in self.fanouts.iter() {
            if !f.resolved {
                fanouts_of.entry(key(f.task)).or_default().push(key(h));
            }
        }
        let mut tasks: BTreeSet<Key> = BTreeSet::new();
        let mut visits: BTreeSet<Key> = p.visits.clone();
        let mut calls: BTreeSet<Key> = BTreeSet::new();
        loop {
            let mut changed = false;
            // What the moving tasks will free or answer: workers and connections at their
            // services, replies to the components that asked for their step.
            let mut freeing: BTreeSet<u16> = BTreeSet::new();
            let mut conns: BTreeSet<u16> = BTreeSet::new();
            let mut answered: BTreeSet<(u8, u16)> = BTreeSet::new();
            for (h, t) in self.tasks.iter() {
                if tasks.contains(&key(h)) {
                    freeing.insert(t.service);
                    if t.conn.is_some() {
                        conns.insert(t.service);
                    }
                    if let Some((k, i)) = t.sub {
                        answered.insert(comp(k, i));
                    }
                }
            }
            for (h, v) in self.visits.iter() {
                if let (Origin::Component { kind, index, .. }, true) =
                    (v.origin, visits.contains(&key(h)))
                {
                    answered.insert(comp(kind, index));
                }
            }
            for (h, c) in self.calls.iter() {
                if calls.contains(&key(h)) {
                    continue;
                }
                let moves = p.call_retries.contains(&key(h))
                    || (c.current.is_some() && p.call_timeouts.contains(&(key(h), c.attempts)))
                    || c.current.is_some_and(|v| visits.contains(&key(v)));
                if moves {
                    calls.insert(key(h));
                    changed = true;
                }
            }
            for (h, t) in self.tasks.iter() {
                if tasks.contains(&key(h)) {
                    continue;
                }
                let at_component = |kind: Kind, index: u16| {
                    p.faults
                        || p.components.contains(&comp(kind, index))
                        || answered.contains(&comp(kind, index))
                };
                let any = |m: Option<&Vec<Key>>, set: &BTreeSet<Key>| {
                    m.is_some_and(|ks| ks.iter().any(|k| set.contains(k)))
                };
                let moves = p.steps.contains(&key(h))
                    || match (t.pending, t.at) {
                        // A step waiting to start (its network delay is not pending):
                        // waiting for a connection of its instance, which another task
                        // there gives back.
                        (Some(_), _) => p.faults || conns.contains(&t.service),
                        (None, Some((kind, index, _))) => at_component(kind, index),
                        (None, None) => {
                            any(calls_of.get(&key(h)), &calls)
                                || fanouts_of.get(&key(h)).is_some_and(|fs| {
                                    fs.iter().any(|f| any(branches_of.get(f), &tasks))
                                })
                        }
                    };
                if moves {
                    tasks.insert(key(h));
                    changed = true;
                }
            }
            for (h, v) in self.visits.iter() {
                if visits.contains(&key(h)) {
                    continue;
                }
                let moves = match task_of.get(&key(h)) {
                    Some(t) => tasks.contains(t),
                    // Waiting for a worker or in its own work at the service: a worker
                    // of the service frees, or a fault changes the instance.
                    None => {
                        v.placed.is_some()
                            && (p.faults
                                || p.components.contains(&comp(Kind::Service, v.service))
                                || freeing.contains(&v.service))
                    }
                };
                if moves {
                    visits.insert(key(h));
                    changed = true;
                }
            }
            if !changed {
                return (tasks, visits, calls);
            }
        }
    }

    /// The liveness check: `Err` names the requests (and users) that no pending event can
    /// ever end (or wake), with where each one is stuck.
    pub(super) fn liveness(&self) -> Result<(), String> {
        let p = self.pending();
        let (_, visits, _) = self.moving(&p);
        let mut stuck: Vec<String> = Vec::new();
        let mut busy: BTreeSet<(u16, u32)> = BTreeSet::new();
        for (h, r) in self.requests.iter() {
            if let Some(u) = r.user {
                busy.insert((r.population, u));
            }
            if p.retries.contains(&key(h)) {
                continue;
            }
            let why = match r.current {
                None => "is backing off with no retry scheduled".to_string(),
                Some(_) if p.timeouts.contains(&(key(h), r.attempts)) => continue,
                Some(v) if visits.contains(&key(v)) => continue,
                Some(v) => match self.visits.get(v) {
                    None => format!("waits for visit {v:?}, which is gone"),
                    Some(visit) => format!(
                        "waits for its attempt {} at service {}, which nothing pending moves",
                        r.attempts, visit.service
                    ),
                },
            };
            stuck.push(format!(
                "request {h:?} (kind {}, issued at {}, attempt {}) {why}",
                r.kind, r.issued_at, r.attempts
            ));
        }
        let now = self.queue.now();
        for (i, pop) in self.populations.iter().enumerate() {
            let lost: Vec<u32> = (0..pop.users())
                .filter(|&u| !busy.contains(&(i as u16, u)) && !p.users.contains(&(i as u16, u)))
                // A user the shape has put to sleep for good is not stuck: its traffic stopped.
                .filter(|&u| !pop.sleeps_for_good(u, now))
                .collect();
            if let Some(u) = lost.first() {
                stuck.push(format!(
                    "{} users of population `{}` (first: user {u}) have no request in flight \
                     and no wake-up pending",
                    lost.len(),
                    pop.name
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
    use crate::graph::components::service::Placed;
    use crate::graph::request::{Call, Request, Task, Visit};

    const MODEL: &str = r#"System(
        services: {
            "web": Service(instances: 1, workers: 2, service: Exp(mean: "1ms")),
            "api": Service(instances: 1, workers: 2, service: Exp(mean: "1ms")),
        },
        requests: {"get": [Call("web"), Call("api")]},
    )"#;

    fn config(workload: &str) -> crate::config::RunConfig {
        let experiment = format!(
            r#"Experiment(model: "m.ron", duration: "2s", seed: 3, populations: {{
                "c": Population(workload: {workload}, mix: {{"get": 1.0}}),
            }})"#
        );
        crate::config::single_run_from_texts(&experiment, MODEL).expect("a valid experiment")
    }

    fn open() -> GraphSim {
        GraphSim::new(&config("Open(rate_per_s: 100.0)"))
    }

    fn request(sim: &mut GraphSim) -> Handle {
        sim.requests.insert(Request {
            population: 0,
            user: None,
            kind: 0,
            issued_at: SimTime::ZERO,
            attempts: 1,
            current: None,
            last_backoff: SimTime::ZERO,
            deadline: SimTime::NEVER,
            wait: SimTime::ZERO,
            served: false,
        })
    }

    fn visit(sim: &mut GraphSim, origin: Origin, service: u16, placed: bool) -> Handle {
        let v = sim.visits.insert(Visit {
            origin,
            attempt_no: 1,
            service,
            block: 0,
            pos: 1,
            kind: 0,
            key: 0,
            user: 0,
            placed: placed.then_some(Placed {
                instance: 0,
                lifecycle: 0,
                job: Handle { idx: 0, gen: 0 },
            }),
            closed: false,
            deadline: SimTime::NEVER,
            own_deadline: SimTime::NEVER,
            root: None,
        });
        if let Origin::Request(r) = origin {
            sim.requests.get_mut(r).expect("live").current = Some(v);
        }
        v
    }

    fn at(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    #[test]
    fn a_fresh_graph_and_a_normal_run_are_live() {
        let sim = open();
        assert_eq!(sim.liveness(), Ok(()));
        for workload in [
            "Open(rate_per_s: 200.0)",
            "Users(count: 20, think: Exp(mean: \"10ms\"))",
        ] {
            let cfg = config(workload);
            let out = crate::graph::run(&cfg);
            assert!(out.is_ok(), "{workload}: {:?}", out.err());
        }
    }

    #[test]
    fn a_request_backing_off_with_no_retry_is_stuck_and_a_scheduled_retry_frees_it() {
        let mut sim = open();
        let r = request(&mut sim);
        let err = sim.liveness().expect_err("nothing can end it");
        assert!(
            err.contains("1 stuck") && err.contains("no retry scheduled"),
            "{err}"
        );
        sim.queue
            .schedule_at(at(5), Event::Path(PathEvent::Retry { request: r }));
        assert_eq!(sim.liveness(), Ok(()));
    }

    #[test]
    fn an_attempt_nothing_moves_is_stuck_unless_its_arrival_or_its_timeout_is_pending() {
        let mut sim = open();
        let r = request(&mut sim);
        visit(&mut sim, Origin::Request(r), 0, false);
        let err = sim.liveness().expect_err("an orphan visit");
        assert!(err.contains("which nothing pending moves"), "{err}");
        // A timeout of an older attempt does not end it; one of the current attempt does.
        let stale = PathEvent::Timeout {
            request: r,
            attempt_no: 0,
        };
        sim.queue.schedule_at(at(3), Event::Path(stale));
        assert!(sim.liveness().is_err(), "a stale timeout does not end it");
        let timeout = PathEvent::Timeout {
            request: r,
            attempt_no: 1,
        };
        sim.queue.schedule_at(at(3), Event::Path(timeout));
        assert_eq!(sim.liveness(), Ok(()));
        // Its arrival at the service being scheduled makes it live too.
        let mut sim = open();
        let r = request(&mut sim);
        let v2 = visit(&mut sim, Origin::Request(r), 0, false);
        sim.queue
            .schedule_at(at(1), Event::Path(PathEvent::Arrive { visit: v2 }));
        assert_eq!(sim.liveness(), Ok(()));
    }

    #[test]
    fn a_chain_is_live_only_when_its_bottom_moves() {
        // The request's visit at `web` runs a task that waits for its call to `api`; the
        // call's visit waits in `api`'s queue, and nothing at `api` will free a worker.
        let mut sim = open();
        let r = request(&mut sim);
        let v = visit(&mut sim, Origin::Request(r), 0, true);
        let placed = sim.visits.get(v).expect("live").placed.expect("placed");
        let task = sim.tasks.insert(Task {
            block: 0,
            pos: 1,
            parent: Parent::Visit(v),
            service: 0,
            placed,
            kind: 0,
            user: 0,
            conn: None,
            pending: None,
            sub: None,
            at: None,
            deadline: SimTime::NEVER,
            root: None,
        });
        let call = sim.calls.insert(Call {
            caller: task,
            from: 0,
            service: 1,
            block: 0,
            pos: 2,
            attempts: 1,
            current: None,
            last_backoff: SimTime::ZERO,
        });
        let cv = visit(&mut sim, Origin::Call(call), 1, true);
        sim.calls.get_mut(call).expect("live").current = Some(cv);
        // An event of `web` does not help: the web worker is held by the waiting task.
        let web = crate::graph::components::service::ServiceEvent::Probe { instance: 0 };
        sim.queue.schedule_at(at(2), Event::Service(0, web));
        let err = sim.liveness().expect_err("the bottom is stuck");
        assert!(
            err.contains("1 stuck") && err.contains("service 0"),
            "{err}"
        );
        // The calling service's timeout for the call's attempt would end the chain…
        let mut timed = open();
        std::mem::swap(&mut timed.requests, &mut sim.requests);
        std::mem::swap(&mut timed.visits, &mut sim.visits);
        std::mem::swap(&mut timed.tasks, &mut sim.tasks);
        std::mem::swap(&mut timed.calls, &mut sim.calls);
        let t = PathEvent::CallTimeout {
            call,
            attempt_no: 1,
        };
        timed.queue.schedule_at(at(2), Event::Path(t));
        assert_eq!(timed.liveness(), Ok(()));
        // …and so would `api` freeing a worker (its queued visit then starts).
        let api = crate::graph::components::service::ServiceEvent::Worked {
            job: Handle { idx: 7, gen: 0 },
        };
        timed.queue = crate::engine::EventQueue::new();
        timed.queue.schedule_at(at(2), Event::Service(1, api));
        assert_eq!(timed.liveness(), Ok(()));
    }

    #[test]
    fn a_user_with_no_request_and_no_wake_up_is_lost() {
        let cfg = config("Users(count: 3, think: Exp(mean: \"10ms\"))");
        let mut sim = GraphSim::new(&cfg);
        for user in [0, 2] {
            let wake = PopulationEvent::Wake { user };
            sim.queue.schedule_at(at(1), Event::Population(0, wake));
        }
        let err = sim.liveness().expect_err("user 1 is lost");
        assert!(
            err.contains("1 users of population `c` (first: user 1)"),
            "{err}"
        );
        let wake = PopulationEvent::Wake { user: 1 };
        sim.queue.schedule_at(at(1), Event::Population(0, wake));
        assert_eq!(sim.liveness(), Ok(()));
    }

    #[test]
    fn a_stuck_request_fails_the_run_as_an_invariant_violation() {
        let cfg = config("Open(rate_per_s: 100.0)");
        let mut sim = GraphSim::new(&cfg);
        // Counted as issued (so conservation holds), but nothing will ever end it.
        sim.recorder.issued();
        request(&mut sim);
        sim.start();
        let err = sim.run(&cfg).err().expect("the run must report it");
        let msg = err.to_string();
        assert!(
            msg.contains("internal invariant violated") && msg.contains("liveness"),
            "{msg}"
        );
    }
}
