//! The simulated web system: the components, the events that connect them, and the run loop.
//!
//! Each component lives in its own file and holds its own state and random stream; this
//! file only wires them together: it pops an event, asks the component concerned what
//! happens, and schedules the consequences. Adding a component means a new file here, its
//! config struct in `crate::config`, and its variants in [`Event`].

pub mod balancer;
pub mod faults;
pub mod node;
pub mod request;
pub mod source;

use crate::config::experiment::FaultSpec;
use crate::config::RunConfig;
use crate::engine::{EventQueue, SimTime};
use crate::metrics::summary::{LatencySummary, NodeSummary, RequestCounts, Summary, WaitSummary};
use crate::metrics::{Recorder, TimeSeries};
use balancer::Balancer;
use faults::{FaultPhase, Faults};
use node::{Admission, Node};
use request::{Attempt, FailReason, Handle, Request, Slab};
use source::Source;

/// Everything that can happen, as plain data.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The open-loop source's next request arrives.
    Arrival,
    /// A worker of `node` finishes `attempt` (void if the node crashed since: `epoch`).
    ServiceDone {
        node: u32,
        epoch: u32,
        attempt: Handle,
    },
    /// The client of `request` stops waiting for attempt number `attempt_no`.
    Timeout { request: Handle, attempt_no: u32 },
    /// A scheduled fault starts or ends.
    Fault { index: u32, phase: FaultPhase },
    /// The end of a metrics interval.
    MetricsTick,
}

/// The result of one run: its summary and its time series.
pub struct RunOutput {
    /// The figures of the run.
    pub summary: Summary,
    /// One row per metrics interval.
    pub series: TimeSeries,
    /// Batch means of response and wait, when they were asked for (validate).
    pub batches: Option<crate::validate::batch_means::BatchMeans>,
}

/// A bug in the simulator found at the end of a run (never a user error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvariantViolation(pub String);

impl std::fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "internal invariant violated (this is a bug in scalesim): {}",
            self.0
        )
    }
}

impl std::error::Error for InvariantViolation {}

/// One whole single-threaded simulation of one (experiment, variant, seed).
pub struct Simulation {
    queue: EventQueue<Event>,
    source: Source,
    balancer: Balancer,
    nodes: Vec<Node>,
    faults: Faults,
    requests: Slab<Request>,
    attempts: Slab<Attempt>,
    timeout: Option<SimTime>,
    end: SimTime,
    interval: SimTime,
    interval_start: SimTime,
    max_in_flight: u64,
    max_events: u64,
    max_pending_events: u64,
    stopped_reason: Option<String>,
    /// Measurements; public so that `validate` can attach batch means before the run.
    pub recorder: Recorder,
}

impl Simulation {
    /// Builds the system of `cfg`, with every component's stream derived from the seed.
    pub fn new(cfg: &RunConfig) -> Simulation {
        let seed = cfg.seed();
        let spec = &cfg.spec;
        let nodes: Vec<Node> = (0..cfg.model.nodes.count)
            .map(|i| Node::new(i, &cfg.model.nodes, seed))
            .collect();
        let interval = spec.metrics_interval.0;
        let mut sim = Simulation {
            queue: EventQueue::new(),
            source: Source::new(&spec.workload, seed),
            balancer: Balancer::new(cfg.model.balancer.policy, seed),
            recorder: Recorder::new(spec.warmup.0, interval, nodes.len()),
            nodes,
            faults: Faults::new(&spec.faults),
            requests: Slab::new(),
            attempts: Slab::new(),
            timeout: spec.clients.timeout.map(|t| t.0),
            end: spec.duration.0,
            interval,
            interval_start: SimTime::ZERO,
            max_in_flight: spec.limits.max_in_flight,
            max_events: spec.limits.max_events.unwrap_or(u64::MAX),
            max_pending_events: spec.limits.max_pending_events,
            stopped_reason: None,
        };
        if let Some(gap) = sim.source.next_gap() {
            sim.queue.schedule_at(gap, Event::Arrival);
        }
        for (index, start, end) in sim.faults.schedule() {
            sim.queue.schedule_at(
                start,
                Event::Fault {
                    index,
                    phase: FaultPhase::Start,
                },
            );
            if let Some(end) = end {
                sim.queue.schedule_at(
                    end,
                    Event::Fault {
                        index,
                        phase: FaultPhase::End,
                    },
                );
            }
        }
        sim.queue
            .schedule_at(interval.min(sim.end), Event::MetricsTick);
        sim
    }

    /// Runs to the end and returns the summary; checks request conservation first.
    pub fn run(mut self, cfg: &RunConfig) -> Result<RunOutput, InvariantViolation> {
        let wall = std::time::Instant::now();
        while let Some((now, event)) = self.queue.pop() {
            if now > self.end {
                break;
            }
            self.handle(now, event);
            if self.requests.len() as u64 > self.max_in_flight {
                self.stopped_reason = Some(format!(
                    "overload: more than {} requests in flight at {:.3}s (limits.max_in_flight)",
                    self.max_in_flight,
                    now.as_secs_f64()
                ));
                break;
            }
            let events = self.queue.events_processed();
            if events >= self.max_events {
                self.stopped_reason = Some(format!(
                    "limits.max_events: {} events processed at {:.3}s",
                    self.max_events,
                    now.as_secs_f64()
                ));
                break;
            }
            if events.is_multiple_of(crate::interrupt::CHECK_EVERY) {
                if self.queue.len() as u64 > self.max_pending_events {
                    self.stopped_reason = Some(format!(
                        "overload: more than {} events pending at {:.3}s (limits.max_pending_events)",
                        self.max_pending_events,
                        now.as_secs_f64()
                    ));
                    break;
                }
                if crate::interrupt::requested() {
                    self.stopped_reason = Some(crate::interrupt::STOPPED_REASON.to_string());
                    break;
                }
            }
            if self.source.exhausted() && self.requests.is_empty() {
                // A finite workload has drained: nothing more can happen that matters.
                break;
            }
        }
        let now = self.queue.now().min(self.end);
        if now > self.interval_start || self.recorder.series.rows.is_empty() {
            self.close_interval(now);
        }
        let wall_seconds = wall.elapsed().as_secs_f64();
        self.finish(cfg, now, wall_seconds)
    }

    #[inline]
    fn handle(&mut self, now: SimTime, event: Event) {
        match event {
            Event::Arrival => {
                if let Some(gap) = self.source.next_gap() {
                    self.queue.schedule_in(gap, Event::Arrival);
                }
                self.recorder.issued();
                let request = self.requests.insert(Request {
                    issued_at: now,
                    attempt: None,
                    attempts: 0,
                });
                self.start_attempt(now, request);
            }
            Event::ServiceDone {
                node,
                epoch,
                attempt,
            } => {
                if self.nodes[node as usize].epoch() != epoch {
                    return; // the node crashed while serving it; already failed then
                }
                if let Some((next, service)) = self.nodes[node as usize].finish(now) {
                    if let Some(a) = self.attempts.get_mut(next) {
                        a.started_at = now;
                    }
                    self.queue.schedule_in(
                        service,
                        Event::ServiceDone {
                            node,
                            epoch,
                            attempt: next,
                        },
                    );
                }
                self.attempt_succeeded(now, attempt);
            }
            Event::Timeout {
                request,
                attempt_no,
            } => {
                let live = self
                    .requests
                    .get(request)
                    .is_some_and(|r| r.attempts == attempt_no);
                if live {
                    // The server's work goes on: a timed-out client does not cancel it.
                    self.end_request(request, Err(FailReason::Timeout), now);
                }
            }
            Event::Fault { index, phase } => self.fault(now, index, phase),
            Event::MetricsTick => {
                self.close_interval(now);
                let next = now.saturating_add(self.interval).min(self.end);
                if next > now {
                    self.queue.schedule_at(next, Event::MetricsTick);
                }
            }
        }
    }

    /// Sends a new attempt of `request` through the balancer to a node.
    #[inline]
    fn start_attempt(&mut self, now: SimTime, request: Handle) {
        let attempt_no = {
            let r = self.requests.get_mut(request).expect("live request");
            r.attempts += 1;
            r.attempts
        };
        let Some(node) = self.balancer.pick(&self.nodes) else {
            self.end_request(request, Err(FailReason::Rejected), now);
            return;
        };
        let attempt = self.attempts.insert(Attempt {
            request,
            enqueued_at: now,
            started_at: now,
            node,
        });
        if let Some(r) = self.requests.get_mut(request) {
            r.attempt = Some(attempt);
        }
        if let Some(t) = self.timeout {
            self.queue.schedule_in(
                t,
                Event::Timeout {
                    request,
                    attempt_no,
                },
            );
        }
        let n = &mut self.nodes[node as usize];
        match n.arrive(attempt, now) {
            Admission::Start(service) => {
                let epoch = n.epoch();
                self.queue.schedule_in(
                    service,
                    Event::ServiceDone {
                        node,
                        epoch,
                        attempt,
                    },
                );
            }
            Admission::Queued => {}
            Admission::QueuedDropping(victim) => {
                self.attempt_failed(now, victim, FailReason::Rejected)
            }
            Admission::Rejected => self.attempt_failed(now, attempt, FailReason::Rejected),
        }
    }

    /// A node finished an attempt: its request succeeds, unless the client already gave up.
    #[inline]
    fn attempt_succeeded(&mut self, now: SimTime, attempt: Handle) {
        let Some(a) = self.attempts.remove(attempt) else {
            return;
        };
        let current = self
            .requests
            .get(a.request)
            .is_some_and(|r| r.attempt == Some(attempt));
        if current {
            let wait = a.started_at.since(a.enqueued_at);
            self.end_request_with_wait(a.request, Ok(()), now, wait);
        }
    }

    fn attempt_failed(&mut self, now: SimTime, attempt: Handle, reason: FailReason) {
        let Some(a) = self.attempts.remove(attempt) else {
            return;
        };
        let current = self
            .requests
            .get(a.request)
            .is_some_and(|r| r.attempt == Some(attempt));
        if current {
            self.end_request(a.request, Err(reason), now);
        }
    }

    fn end_request(&mut self, request: Handle, outcome: Result<(), FailReason>, now: SimTime) {
        self.end_request_with_wait(request, outcome, now, SimTime::ZERO);
    }

    /// Ends a request exactly once: the slab removal guarantees a second end is a no-op.
    #[inline]
    fn end_request_with_wait(
        &mut self,
        request: Handle,
        outcome: Result<(), FailReason>,
        now: SimTime,
        wait: SimTime,
    ) {
        let Some(r) = self.requests.remove(request) else {
            return;
        };
        match outcome {
            Ok(()) => self.recorder.succeeded(r.issued_at, now, wait),
            Err(reason) => self.recorder.failed(reason),
        }
    }

    fn fault(&mut self, now: SimTime, index: u32, phase: FaultPhase) {
        self.faults.set_active(index, phase == FaultPhase::Start);
        match (self.faults.spec(index).clone(), phase) {
            (FaultSpec::Crash { node, .. }, FaultPhase::Start) => {
                let waiting = self.nodes[node as usize].crash(now);
                for a in waiting {
                    self.attempt_failed(now, a, FailReason::Crash);
                }
                // Attempts in service there are void now; fail them in slot order.
                let in_service: Vec<Handle> = self
                    .attempts
                    .iter()
                    .filter(|(_, a)| a.node == node)
                    .map(|(h, _)| h)
                    .collect();
                for a in in_service {
                    self.attempt_failed(now, a, FailReason::Crash);
                }
            }
            (FaultSpec::Crash { node, .. }, FaultPhase::End) => {
                self.nodes[node as usize].restart(now)
            }
        }
    }

    fn close_interval(&mut self, now: SimTime) {
        let start = self.interval_start;
        self.interval_start = now;
        let queue_len = self.nodes.iter().map(|n| n.queue_len() as u64).collect();
        let busy = self.nodes.iter().map(|n| n.busy() as u64).collect();
        let up = self.nodes.iter().filter(|n| n.is_up()).count() as u32;
        let active = self.faults.active_labels();
        self.recorder.close_interval(
            start,
            self.requests.len() as u64,
            queue_len,
            busy,
            up,
            active,
        );
    }

    fn finish(
        self,
        cfg: &RunConfig,
        now: SimTime,
        wall_seconds: f64,
    ) -> Result<RunOutput, InvariantViolation> {
        let rec = &self.recorder;
        let in_flight = self.requests.len() as u64;
        let failed = rec.failed_total();
        if rec.issued != rec.succeeded + failed + in_flight {
            return Err(InvariantViolation(format!(
                "request conservation: issued {} != succeeded {} + failed {} + in flight {} (seed {}; reproduce with: scalesim run {} --seed {})",
                rec.issued, rec.succeeded, failed, in_flight, cfg.seed(), cfg.experiment, cfg.seed()
            )));
        }
        let measured_s = now.since(cfg.spec.warmup.0).as_secs_f64();
        let l = &rec.latency;
        let summary = Summary {
            experiment: cfg.experiment.clone(),
            variant: cfg.variant.clone(),
            seed: cfg.seed(),
            config_hash: cfg.config_hash.clone(),
            sim_seconds: now.as_secs_f64(),
            events: self.queue.events_processed(),
            wall_seconds,
            stopped_reason: self.stopped_reason.clone(),
            requests: RequestCounts {
                issued: rec.issued,
                succeeded: rec.succeeded,
                failed,
                in_flight,
            },
            failed_by_reason: FailReason::ALL
                .iter()
                .map(|r| (r.name().to_string(), rec.failed[r.index()]))
                .collect(),
            latency_ms: LatencySummary {
                mean: l.mean_ms(),
                p50: l.quantile_ms(0.5),
                p95: l.quantile_ms(0.95),
                p99: l.quantile_ms(0.99),
                p999: l.quantile_ms(0.999),
                max: l.max_ms(),
            },
            wait_ms: WaitSummary {
                mean: if rec.succeeded_after_warmup == 0 {
                    0.0
                } else {
                    rec.wait_sum_ns as f64 / rec.succeeded_after_warmup as f64 / 1e6
                },
            },
            throughput_rps: if measured_s > 0.0 {
                rec.succeeded_after_warmup as f64 / measured_s
            } else {
                0.0
            },
            nodes: self
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| NodeSummary {
                    node: i as u32,
                    served: n.served(),
                    utilisation: n.utilisation(now),
                })
                .collect(),
        };
        Ok(RunOutput {
            summary,
            series: self.recorder.series,
            batches: self.recorder.batches,
        })
    }
}
