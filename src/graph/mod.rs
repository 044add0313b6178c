//! The graph engine: a model as a graph of named components (services, databases,
//! caches, counters, topics), request kinds as paths of steps through them, and several
//! client populations.
//!
//! The engine moves requests along their paths (`path.rs`, the only place that does);
//! each component does its own step in its own file under `components/`, and the
//! registry (`registry.rs`) assembles the event enum and the dispatch from the list of
//! component kinds. A component tells the path what became of a task through a
//! [`cx::Notice`]; it never reaches into another component.

pub mod clients;
pub mod component;
pub mod components;
pub mod cx;
pub mod fail;
pub mod faults;
mod liveness;
pub mod names;
pub mod network;
pub mod output;
pub mod path;
pub mod pool;
pub mod population;
pub mod program;
pub mod registry;
pub mod request;
pub mod request_log;
mod run;
pub mod slab;
pub mod trace;
pub mod workload;

pub use run::{run, run_single_tier, run_single_tier_with, run_traced, run_with, RunOptions};

use crate::config::experiment::ClientsSpec;
use crate::config::RunConfig;
use crate::engine::{EventQueue, SimTime};
use crate::graph::clients::Clients;
use crate::graph::faults::Faults;
use crate::graph::slab::Slab;
use crate::metrics::Recorder;
use cx::Notice;
use names::Names;
use network::{End, Network};
use population::Population;
use program::Program;
use registry::{Components, Event};
use request::{Call, Fanout, Ledger, Request, Task, Visit};

/// One whole single-threaded simulation of a graph model for one (experiment, variant, seed).
pub struct GraphSim {
    /// The model was written in the single-tier form: its summary also reports the one
    /// service's instances as the single-tier `nodes`.
    single_tier: bool,
    /// Some population sends idempotency keys (else no visit asks whether it is a keyed
    /// retry of a request already served).
    keyed_clients: bool,
    /// The single-tier model's session design, as its `sessions` section names it.
    single_tier_design: Option<String>,
    queue: EventQueue<Event>,
    components: Components,
    populations: Vec<Population>,
    /// Each service's policy for the calls it makes (`calls`), by service index.
    call_clients: Vec<Option<Clients>>,
    program: Program,
    network: Network,
    requests: Slab<Request>,
    calls: Slab<Call>,
    visits: Slab<Visit>,
    tasks: Slab<Task>,
    fanouts: Slab<Fanout>,
    notices: Vec<Notice>,
    faults: Faults,
    recorder: Recorder,
    end: SimTime,
    warmup: SimTime,
    warmup_done: bool,
    interval: SimTime,
    interval_start: SimTime,
    /// When the current interval ends: it closes before any event at that instant runs
    /// (a fault at 140 s belongs to the row that starts at 140 s).
    next_tick: SimTime,
    max_in_flight: u64,
    max_events: u64,
    max_pending_events: u64,
    stopped_reason: Option<String>,
    /// Attempts that finished after their caller had stopped waiting (wasted work).
    wasted: u64,
    /// Deadlines, shed and wasted work by component, write effects.
    ledger: Ledger,
    /// The request tracer of `run --trace N` (None: no tracing; each touch point is one
    /// untaken branch).
    tracer: Option<trace::Tracer>,
    /// The ended requests, when the run keeps them ([`run::RunOptions::request_log`]).
    request_log: Option<Vec<request_log::RequestRecord>>,
}

impl GraphSim {
    /// Builds the graph of `cfg`, every component's stream derived from the seed.
    pub fn new(cfg: &RunConfig) -> GraphSim {
        let seed = cfg.seed();
        let spec = &cfg.spec;
        let model = &cfg.model;
        let pop_names: Vec<String> = spec.populations.keys().cloned().collect();
        let names = Names::of(model, &pop_names);
        let alone = spec.populations.len() == 1;
        let populations: Vec<Population> = spec
            .populations
            .iter()
            .map(|(name, p)| Population::new(name, p, &names.kinds, spec.warmup.0, seed, alone))
            .collect();
        let call_clients = model
            .services
            .iter()
            .map(|(name, s)| {
                s.calls.as_ref().map(|c| {
                    let spec = ClientsSpec {
                        timeout: c.timeout,
                        retry: c.retry.clone(),
                        throttle: None,
                        idempotency_keys: false,
                    };
                    Clients::named(&spec, seed, &format!("service/{name}/calls"))
                })
            })
            .collect();
        let end_of = |n: &str| {
            if let Some(&i) = names.populations.get(n) {
                Some(End::Population(i))
            } else if let Some(&i) = names.services.get(n) {
                Some(End::Service(i))
            } else {
                names.databases.get(n).map(|&i| End::Database(i))
            }
        };
        let interval = spec.metrics_interval.0;
        let mut components = Components::build(model, &names, seed);
        for s in &mut components.services {
            s.set_random_failures(spec.random_failures.as_ref(), seed);
        }
        for s in &mut components.sessions {
            s.populations(spec.populations.values());
        }
        let keyed_clients = populations.iter().any(|p| p.clients.idempotency_keys);
        GraphSim {
            keyed_clients,
            queue: EventQueue::new(),
            components,
            populations,
            call_clients,
            program: Program::compile(model, &names),
            network: Network::new(&model.network, end_of, seed),
            requests: Slab::new(),
            calls: Slab::new(),
            visits: Slab::new(),
            tasks: Slab::new(),
            fanouts: Slab::new(),
            notices: Vec::new(),
            faults: Faults::new(&spec.faults),
            recorder: Recorder::new(spec.warmup.0, interval, 0),
            end: spec.duration.0,
            warmup: spec.warmup.0,
            warmup_done: spec.warmup.0 == SimTime::ZERO,
            interval,
            interval_start: SimTime::ZERO,
            next_tick: SimTime::ZERO,
            max_in_flight: spec.limits.max_in_flight,
            max_events: spec.limits.max_events.unwrap_or(u64::MAX),
            max_pending_events: spec.limits.max_pending_events,
            stopped_reason: None,
            single_tier: false,
            single_tier_design: None,
            wasted: 0,
            ledger: Ledger::new(
                model.propagate_deadlines,
                model.services.len(),
                model.databases.len(),
                retries_anywhere(cfg),
            ),
            tracer: None,
            request_log: None,
        }
    }

    /// Schedules the first events: the populations, faults, probes and the first tick.
    fn start(&mut self) {
        for p in 0..self.populations.len() {
            for (at, ev) in self.populations[p].first_events() {
                self.queue.schedule_at(at, Event::Population(p as u16, ev));
            }
        }
        for (index, start, end) in self.faults.schedule() {
            use crate::graph::faults::FaultPhase;
            self.queue
                .schedule_at(start, Event::Fault(index, FaultPhase::Start));
            if let Some(end) = end {
                self.queue
                    .schedule_at(end, Event::Fault(index, FaultPhase::End));
            }
        }
        for s in &mut self.components.services {
            for (at, ev) in s.first_events() {
                self.queue.schedule_at(at, ev);
            }
        }
        // The tick event keeps the run going to its end; the interval itself closes in the
        // run loop, before the first event at or after `next_tick`.
        self.next_tick = self.interval.min(self.end);
        self.queue.schedule_at(self.next_tick, Event::Tick);
    }
}

/// Whether a write may be sent again for the same request: some population or some
/// service's calls retry (only then does the path keep a record of applied writes).
fn retries_anywhere(cfg: &RunConfig) -> bool {
    let retries = |r: &Option<crate::config::experiment::RetrySpec>| {
        r.as_ref().is_some_and(|r| r.max_attempts > 1)
    };
    cfg.spec.populations.values().any(|p| retries(&p.retry))
        || cfg
            .model
            .services
            .values()
            .any(|s| s.calls.as_ref().is_some_and(|c| retries(&c.retry)))
}
