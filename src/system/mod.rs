//! The simulated web system: the components, the events that connect them, and the run loop.
//!
//! Each component lives in its own file and holds its own state and random stream; this
//! file only wires them together: it pops an event, asks the components concerned what
//! happens, and schedules the consequences. Adding a component means a new file here, its
//! config struct in `crate::config`, and its variants in [`Event`].
//!
//! The path of a request: a user or the open-loop source issues it → the client sends an
//! attempt (unless its throttle refuses) → the balancer picks a node → the node's queue
//! and workers → optionally a call to the dependency over the node's connection pool →
//! the answer. A failed attempt may be retried after a backoff, within the budget.

pub mod autoscaler;
pub mod balancer;
pub mod cache;
pub mod client;
pub mod dependency;
pub mod faults;
pub mod locks;
pub mod mix;
pub mod node;
pub mod request;
pub mod sessions;
pub mod shape;
pub mod source;
pub mod store;
pub mod trace;
pub mod users;

mod cache_path;
mod liveness;
mod lock_path;
mod run;
mod wiring;

pub use run::{InvariantViolation, RequestRecord, RunOutput};

use crate::config::experiment::WorkloadSpec;
use crate::config::RunConfig;
use crate::engine::{EventQueue, SimTime};
use crate::metrics::Recorder;
use autoscaler::Autoscaler;
use balancer::Balancer;
use client::Clients;
use dependency::Dependency;
use faults::{FaultPhase, Faults, RandomFailures};
use mix::Mix;
use node::{Node, NodeState};
use request::{Attempt, Handle, Request, Slab};
use sessions::Sessions;
use shape::Shape;
use source::Source;
use store::Store;
use users::Users;

/// Everything that can happen, as plain data.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The open-loop source's next request arrives.
    Arrival,
    /// A user finishes thinking and sends a request.
    UserWake { user: u32 },
    /// A request's backoff is over: send the next attempt.
    Retry { request: Handle },
    /// The client of `request` stops waiting for attempt number `attempt_no`.
    Timeout { request: Handle, attempt_no: u32 },
    /// A worker of `node` finishes its own work on `attempt` (void if the node crashed
    /// meanwhile: the crash removed the attempt).
    ServiceDone { node: u32, attempt: Handle },
    /// The dependency finishes a call made for `attempt`.
    DependencyDone { attempt: Handle },
    /// A server of the session store (`pool` 0: the primary) finishes an operation.
    StoreDone { attempt: Handle, pool: u8 },
    /// The write under grant `serial` of a counter row's lock is done.
    LockWriteDone { row: u32, serial: u32 },
    /// A request waiting for a row lock gives up.
    LockWaitTimeout { row: u32, attempt: Handle },
    /// Grant `serial`'s lease on a row lock runs out.
    LeaseExpiry { row: u32, serial: u32 },
    /// An unlocked read-modify-write of a counter row lands (`version`: what it read).
    UnlockedWriteDone {
        attempt: Handle,
        row: u32,
        version: u32,
    },
    /// Nodes write their batched counter increments.
    LockFlush,
    /// A node moves on in its life (provisioned → booting → up); void if `lifecycle` is stale.
    Lifecycle {
        node: u32,
        lifecycle: u32,
        to: NodeState,
    },
    /// A node fails at random (void if `lifecycle` is stale).
    RandomFailure { node: u32, lifecycle: u32 },
    /// A scheduled fault starts or ends.
    Fault { index: u32, phase: FaultPhase },
    /// The balancer probes a node.
    HealthCheck { node: u32 },
    /// The autoscaler evaluates.
    Autoscale,
    /// The end of a metrics interval.
    MetricsTick,
    /// A cache lookup of `attempt` found its key: the node answers.
    CacheHit { node: u32, attempt: Handle },
    /// A cache lookup of `attempt` missed: the node queries the database.
    CacheMiss { node: u32, attempt: Handle },
    /// `attempt` found its key leased to another fetch and looks again.
    CacheRetry { node: u32, attempt: Handle },
}

/// The workload's generator.
enum Workload {
    Open(Box<Source>),
    Closed(Users),
}

/// Where the measured window of interval-counted figures begins: the first metrics
/// interval starting at or after the warm-up, and the counters at that instant.
#[derive(Clone, Debug)]
struct WindowStart {
    at: SimTime,
    store_ops: u64,
    committed: u64,
}

/// One whole single-threaded simulation of one (experiment, variant, seed).
pub struct Simulation {
    queue: EventQueue<Event>,
    workload: Workload,
    mix: Mix,
    clients: Clients,
    balancer: Balancer,
    nodes: Vec<Node>,
    dependency: Option<Dependency>,
    sessions: Option<Sessions>,
    store: Option<Store>,
    login_kind: Option<u8>,
    locks: Option<locks::Locks>,
    lock_kind: Option<u8>,
    last_session_counts: sessions::SessionCounts,
    store_ops_seen: u64,
    store_peak_ops: u64,
    window_start: Option<WindowStart>,
    autoscaler: Option<Autoscaler>,
    faults: Faults,
    random_failures: Option<RandomFailures>,
    requests: Slab<Request>,
    attempts: Slab<Attempt>,
    end: SimTime,
    warmup: SimTime,
    seed: u64,
    interval: SimTime,
    interval_start: SimTime,
    deadline_check: bool,
    propagate_deadlines: bool,
    health_every: Option<SimTime>,
    health_timeout: SimTime,
    health_deep: bool,
    startup: SimTime,
    max_in_flight: u64,
    max_events: u64,
    max_pending_events: u64,
    /// Events at one simulated instant after which the run stops as stuck (see `new`).
    max_events_at_one_instant: u64,
    stopped_reason: Option<String>,
    nodes_on: u32,
    peak_nodes: u32,
    node_ns: u128,
    nodes_on_since: SimTime,
    nodes_up: u32,
    down_ns: u64,
    down_since: Option<SimTime>,
    served_after_warmup: u64,
    price_per_node_hour: f64,
    cache: Option<cache::Cache>,
    /// The request tracer of `run --trace N` (None: no tracing, the hot path unchanged).
    tracer: Option<trace::Tracer>,
    /// Every ended request, when asked for (None: the hot path unchanged).
    request_log: Option<Vec<RequestRecord>>,
    /// Measurements; public so that `validate` can attach batch means before the run.
    pub recorder: Recorder,
}

impl Simulation {
    /// Builds the system of `cfg`, with every component's stream derived from the seed.
    pub fn new(cfg: &RunConfig) -> Simulation {
        let seed = cfg.seed();
        let spec = &cfg.spec;
        let model = &cfg.model;
        let tier = model.tier();
        let workload_spec = spec
            .workload
            .as_ref()
            .expect("validated: a single-tier experiment has a workload");
        let (mix_spec, workload) = match workload_spec {
            WorkloadSpec::Open {
                rate_per_s,
                shape,
                max_requests,
                mix,
            } => (
                mix,
                Workload::Open(Box::new(Source::new(
                    *rate_per_s,
                    Shape::new(shape),
                    *max_requests,
                    seed,
                ))),
            ),
            WorkloadSpec::Users {
                count,
                think,
                shape,
                mix,
                ..
            } => (
                mix,
                Workload::Closed(Users::new(*count, think.resolve(), Shape::new(shape), seed)),
            ),
        };
        let mix = Mix::new(mix_spec, seed);
        let mut service: Vec<_> = if mix.names().is_empty() {
            vec![tier.service.resolve()]
        } else {
            mix.names()
                .iter()
                .map(|k| {
                    tier.service_by_kind
                        .get(k)
                        .unwrap_or(&tier.service)
                        .resolve()
                })
                .collect()
        };
        let max_nodes = model.max_nodes() as usize;
        let lock_kind = model
            .locks
            .as_ref()
            .and_then(|l| mix.names().iter().position(|k| *k == l.kind))
            .map(|i| i as u8);
        // A login may cost the node extra work (password hashing): its own service "kind".
        let login_kind = match model
            .sessions
            .as_ref()
            .and_then(|s| s.login_service.as_ref())
        {
            Some(d) => {
                service.push(d.resolve());
                Some((service.len() - 1) as u8)
            }
            None => None,
        };
        let (sessions, store) = match (&model.sessions, workload_spec) {
            (
                Some(ss),
                WorkloadSpec::Users {
                    count,
                    logout_share,
                    stale_tab_share,
                    devices,
                    ..
                },
            ) => {
                let store_spec = match &ss.design {
                    crate::config::model::SessionDesign::Externalized { store, .. } => Some(store),
                    crate::config::model::SessionDesign::SignedToken {
                        revocation_list, ..
                    } => revocation_list.as_ref(),
                    crate::config::model::SessionDesign::InMemory => None,
                };
                (
                    Some(
                        Sessions::new(
                            &ss.design,
                            *count,
                            max_nodes,
                            *logout_share,
                            *stale_tab_share,
                            seed,
                        )
                        .with_login_rules(ss)
                        .with_devices(
                            *devices,
                            ss.logout == crate::config::model::LogoutScope::AllDevices,
                        ),
                    ),
                    store_spec.map(|st| Store::new(st, seed)),
                )
            }
            _ => (None, None),
        };
        let nodes: Vec<Node> = (0..max_nodes as u32)
            .map(|i| Node::new(i, tier, service.clone(), seed))
            .collect();
        let hc = model.balancer.health_check.as_ref();
        let interval = spec.metrics_interval.0;
        let mut sim = Simulation {
            queue: EventQueue::new(),
            workload,
            mix,
            clients: Clients::new(&spec.clients, seed),
            balancer: Balancer::new(
                model.balancer.policy,
                max_nodes,
                hc.map_or(1, |h| h.unhealthy_after),
                hc.map_or(1, |h| h.healthy_after),
                seed,
            ),
            recorder: Recorder::new(spec.warmup.0, interval, max_nodes),
            nodes,
            dependency: model.dependency.as_ref().map(|d| Dependency::new(d, seed)),
            sessions,
            store,
            login_kind,
            locks: model
                .locks
                .as_ref()
                .map(|l| locks::Locks::new(l, max_nodes, seed)),
            lock_kind,
            last_session_counts: Default::default(),
            store_ops_seen: 0,
            store_peak_ops: 0,
            window_start: None,
            autoscaler: model.autoscaler.as_ref().map(Autoscaler::new),
            faults: Faults::new(&spec.faults),
            random_failures: spec
                .random_failures
                .as_ref()
                .map(|r| RandomFailures::new(r, max_nodes, seed)),
            requests: Slab::new(),
            attempts: Slab::new(),
            end: spec.duration.0,
            warmup: spec.warmup.0,
            seed,
            interval,
            interval_start: SimTime::ZERO,
            deadline_check: tier.deadline_check || model.propagate_deadlines,
            propagate_deadlines: model.propagate_deadlines,
            health_every: hc.map(|h| h.every.0),
            health_timeout: hc.map_or(SimTime::ZERO, |h| h.timeout.0),
            health_deep: hc.is_some_and(|h| h.kind == crate::config::model::ProbeKind::Errors),
            startup: tier.startup.0,
            max_in_flight: spec.limits.max_in_flight,
            max_events: spec.limits.max_events.unwrap_or(u64::MAX),
            max_pending_events: spec.limits.max_pending_events,
            // A run whose clock stops (zero think times against instant failures) would spin
            // for ever. A legitimate instant holds at most a few events per user or request
            // in flight (everyone waking at once): far fewer than this.
            max_events_at_one_instant: 10_000_000
                + 16 * match workload_spec {
                    WorkloadSpec::Users { count, .. } => *count as u64,
                    WorkloadSpec::Open { .. } => 0,
                },
            stopped_reason: None,
            nodes_on: 0,
            peak_nodes: 0,
            node_ns: 0,
            nodes_on_since: SimTime::ZERO,
            nodes_up: 0,
            down_ns: 0,
            down_since: Some(SimTime::ZERO),
            served_after_warmup: 0,
            price_per_node_hour: model.price_per_node_hour,
            cache: model
                .cache
                .as_ref()
                .map(|c| cache::Cache::new(c, max_nodes, seed)),
            tracer: None,
            request_log: None,
        };
        if model
            .autoscaler
            .as_ref()
            .is_some_and(|a| a.metric == crate::config::model::ScaleMetric::LatencyP99)
        {
            sim.recorder.recent_latency = Some(crate::metrics::LatencyStats::new());
        }
        sim.balancer.slow_start = model.balancer.slow_start.map(|d| d.0);
        sim.start(tier.count);
        sim
    }

    /// Traces `requests` sampled requests of this run (see [`trace`]); the trace comes back
    /// in [`RunOutput::trace`].
    pub fn with_trace(mut self, requests: u32) -> Simulation {
        self.tracer = Some(trace::Tracer::new(requests, self.seed, self.warmup));
        self
    }

    /// Records every request's life in [`RunOutput::request_log`].
    pub fn with_request_log(mut self) -> Simulation {
        self.request_log = Some(Vec::new());
        self
    }

    /// Schedules the first events: nodes up, arrivals or users, faults, checks, ticks.
    fn start(&mut self, initial_nodes: u32) {
        for i in 0..initial_nodes {
            self.set_node_state(i, NodeState::Up, SimTime::ZERO);
        }
        match &mut self.workload {
            Workload::Open(source) => {
                if let Some(at) = source.next_arrival(SimTime::ZERO) {
                    self.queue.schedule_at(at, Event::Arrival);
                }
            }
            Workload::Closed(users) => {
                // Users start at random points of their first think time, so they are not in step.
                for user in 0..users.count() {
                    let at = users.first_wake(user);
                    self.queue.schedule_at(at, Event::UserWake { user });
                }
            }
        }
        for (index, start, end) in self.faults.schedule() {
            self.queue.schedule_at(
                start,
                Event::Fault {
                    index,
                    phase: FaultPhase::Start,
                },
            );
            if let Some(end) = end {
                self.queue.schedule_at(
                    end,
                    Event::Fault {
                        index,
                        phase: FaultPhase::End,
                    },
                );
            }
        }
        if let Some(every) = self.health_every {
            let n = self.nodes.len() as u64;
            for node in 0..self.nodes.len() as u32 {
                // Staggered, so probes of different nodes do not all land at once.
                let offset = SimTime(every.0 / n.max(1) * node as u64);
                self.queue
                    .schedule_at(offset.saturating_add(every), Event::HealthCheck { node });
            }
        }
        if let Some(a) = &self.autoscaler {
            self.queue.schedule_at(a.every(), Event::Autoscale);
        }
        if let Some(every) = self.locks.as_ref().and_then(|l| l.batch_every()) {
            self.queue.schedule_at(every, Event::LockFlush);
        }
        self.queue
            .schedule_at(self.interval.min(self.end), Event::MetricsTick);
    }

    /// Changes a node's state, keeping counts of nodes on and up (for cost and availability).
    fn set_node_state(&mut self, node: u32, to: NodeState, now: SimTime) {
        let n = &mut self.nodes[node as usize];
        let (was_on, was_up) = (n.is_on(), n.state() == NodeState::Up);
        let joined = to == NodeState::Up && !n.in_pool();
        n.set_state(to, now);
        if to == NodeState::Off {
            // Scale-in: whatever the node held in memory goes with it.
            if let Some(s) = &mut self.sessions {
                s.node_lost(node);
            }
        }
        let (is_on, is_up) = (n.is_on(), n.state() == NodeState::Up);
        if joined {
            self.balancer.node_joined(node as usize);
        }
        if was_on != is_on {
            self.node_ns += self.nodes_on as u128 * now.since(self.nodes_on_since).0 as u128;
            self.nodes_on_since = now;
            if is_on {
                self.nodes_on += 1;
            } else {
                self.nodes_on -= 1;
            }
            self.peak_nodes = self.peak_nodes.max(self.nodes_on);
        }
        if was_up != is_up {
            if is_up {
                self.nodes_up += 1;
                if let Some(c) = &mut self.cache {
                    c.node_started(node, now);
                }
                if let Some(since) = self.down_since.take() {
                    self.down_ns += now.since(since).0;
                }
                if let Some(rf) = &mut self.random_failures {
                    let ttf = rf.time_to_failure(node as usize);
                    let lifecycle = self.nodes[node as usize].lifecycle();
                    self.queue
                        .schedule_in(ttf, Event::RandomFailure { node, lifecycle });
                }
            } else {
                self.nodes_up -= 1;
                if self.nodes_up == 0 {
                    self.down_since = Some(now);
                }
            }
        }
    }
}
