//! A named service: identical instances behind its balancer. A `Call` to it picks an
//! instance, waits in its queue for a worker, does the service's own work for the
//! request kind, and then holds the worker while the rest of the path runs there.
//! Draws service times, errors and the balancer's choices from its own stream,
//! `"service/<name>"`. Its instances may fail at random (`failures.rs`), come and go
//! with its autoscaler (`autoscaler.rs`), and every change of their life goes through
//! `lifecycle.rs`, which also counts the instance-hours its cost is made of.

mod autoscaler;
pub mod autoscaler_rule;
mod balancer;
mod failures;
mod instance;
mod lifecycle;

use rand::Rng;

use crate::config::experiment::FaultSpec;
use crate::config::graph::ServiceSpec;
use crate::config::model::{ColdStartSpec, ProbeKind};
use crate::config::ModelSpec;
use crate::engine::{stream, Distribution, SimTime, Stream};
use crate::graph::component::Component;
use crate::graph::cx::{Cx, Notice};
use crate::graph::fail::FailReason;
use crate::graph::names::Names;
use crate::graph::pool::{Admit, Pool};
use crate::graph::registry::Event;
use crate::graph::slab::{Handle, Slab};
use crate::metrics::latency::WaitStats;
use crate::metrics::schema::{ComponentFigures, ComponentSeries, SERVICE};
use crate::metrics::summary::NodeSummary;
use autoscaler::Scaling;
use balancer::{Balancer, Slot};
use failures::Failures;
use instance::{ConnPool, Instance, Life};
use lifecycle::Fleet;

/// A service's events.
#[derive(Clone, Copy, Debug)]
pub enum ServiceEvent {
    /// The service's own work on `job` is done.
    Worked { job: Handle },
    /// Instance `instance` (in life `lifecycle`) finished booting.
    Up { instance: u32, lifecycle: u32 },
    /// A crashed instance restarts, or a provisioned one is ready: it boots for
    /// `startup`.
    Boot { instance: u32, lifecycle: u32 },
    /// The balancer probes `instance`.
    Probe { instance: u32 },
    /// The autoscaler evaluates.
    Autoscale,
    /// Instance `instance` (in life `lifecycle`) fails at random.
    Fail { instance: u32, lifecycle: u32 },
}

/// Where a visit is held: the instance and its life, for work done on its behalf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    /// The instance.
    pub instance: u32,
    /// Its life when the visit was placed.
    pub lifecycle: u32,
    /// The service's record of the visit.
    pub job: Handle,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Job {
    visit: Handle,
    instance: u32,
    lifecycle: u32,
    kind: u16,
    enqueued_at: SimTime,
    /// When a worker took it (its queue wait ends).
    started_at: SimTime,
    failing: bool,
    /// Sent into a network partition: no worker sees it, and it fails when the partition
    /// ends (the connection resets).
    cut: bool,
}

/// A fast failure (an injected error) takes at most this long.
const FAIL_FAST: SimTime = SimTime(1_000_000);

/// One service.
pub struct Service {
    index: u16,
    name: String,
    instances: Vec<Instance>,
    slots: Vec<Slot>,
    balancer: Balancer,
    /// Own work by request kind (index in the model's `requests`).
    work: Vec<Distribution>,
    startup: SimTime,
    cold: Option<ColdStartSpec>,
    probe: Option<Probe>,
    /// Draws of deep probes meeting injected errors (their own stream, so that health
    /// checks do not move the service's work draws).
    probe_rng: Stream,
    rng: Stream,
    jobs: Slab<Job>,
    served: u64,
    errors: u64,
    rejected: u64,
    /// Waiting calls its queues dropped because their deadline had passed (measured).
    expired: u64,
    wait: WaitStats,
    measured_from: SimTime,
    integrals_at_warmup: (u128, u128),
    /// Connections open to all its instances now (the sum of theirs, kept as they change).
    open: u32,
    peak_open: u32,
    iv_served: u64,
    iv_errors: u64,
    rows: Vec<Vec<f64>>,
    /// Its autoscaler, if it has one.
    scaling: Option<Scaling>,
    /// Its instances' random failures, if the experiment has them for it.
    failures: Option<Failures>,
    /// Instance crashes over the whole run (faults and random failures).
    crashes: u64,
    /// Random failures over the whole run.
    random_crashes: u64,
    /// The instances on over time.
    fleet: Fleet,
    price_per_instance_hour: f64,
}

impl Service {
    fn new(
        index: u16,
        name: &str,
        spec: &ServiceSpec,
        names: &Names,
        model: &ModelSpec,
        seed: u64,
    ) -> Service {
        let work = model
            .requests
            .keys()
            .map(|k| {
                spec.service_by_kind
                    .get(k)
                    .unwrap_or(&spec.service)
                    .resolve()
            })
            .collect();
        let conns: Vec<ConnPool> = names
            .databases
            .keys()
            .map(|db| ConnPool {
                size: spec.connections.get(db).copied().unwrap_or(u32::MAX),
                ..Default::default()
            })
            .collect();
        // With propagated deadlines every instance drops waiting calls nobody waits for.
        let mut queue = spec.queue.clone();
        queue.deadline_check |= model.propagate_deadlines;
        // Every instance the autoscaler may order exists from the start, off.
        let instances: Vec<Instance> = (0..spec.most_instances())
            .map(|i| {
                Instance::new(
                    Pool::new(spec.workers, &queue, spec.slowdown.clone()),
                    conns.clone(),
                    i < spec.instances,
                )
            })
            .collect();
        let hc = spec.balancer.health_check.as_ref();
        Service {
            index,
            name: name.to_string(),
            slots: instances
                .iter()
                .map(|i| Slot {
                    routable: i.in_pool,
                    ..Default::default()
                })
                .collect(),
            instances,
            balancer: Balancer::new(spec.balancer.policy, spec.balancer.slow_start.map(|d| d.0)),
            work,
            startup: spec.startup.0,
            cold: spec.cold_start.clone(),
            probe: hc.map(|h| Probe {
                every: h.every.0,
                timeout: h.timeout.0,
                unhealthy_after: h.unhealthy_after,
                healthy_after: h.healthy_after,
                deep: h.kind == ProbeKind::Errors,
            }),
            probe_rng: stream(seed, &format!("service/{name}/probe")),
            rng: stream(seed, &format!("service/{name}")),
            jobs: Slab::new(),
            served: 0,
            errors: 0,
            rejected: 0,
            expired: 0,
            wait: WaitStats::new(),
            measured_from: SimTime::ZERO,
            integrals_at_warmup: (0, 0),
            open: 0,
            peak_open: 0,
            iv_served: 0,
            iv_errors: 0,
            rows: Vec::new(),
            scaling: spec.autoscaler.as_ref().map(Scaling::new),
            failures: None,
            crashes: 0,
            random_crashes: 0,
            fleet: Fleet::new(spec.instances),
            price_per_instance_hour: spec.price_per_instance_hour,
        }
    }

    /// Its first events: the probes (staggered over one period) if the balancer checks
    /// health, the autoscaler's first evaluation, and the first random failures.
    pub fn first_events(&mut self) -> Vec<(SimTime, Event)> {
        let mut out = self.first_failures();
        out.extend(self.first_evaluation());
        let Some(Probe { every, .. }) = self.probe else {
            return out;
        };
        let n = self.instances.len() as u64;
        out.extend((0..n).map(|i| {
            let at = SimTime(every.0 + every.0 / n.max(1) * i);
            (
                at,
                Event::Service(self.index, ServiceEvent::Probe { instance: i as u32 }),
            )
        }));
        out
    }

    /// Its instance-hours from the start until `now`, their cost, its price per
    /// instance-hour and the most instances it had on at once.
    pub fn cost(&self, now: SimTime) -> (f64, f64, f64, u32) {
        let hours = self.fleet.instance_hours(now);
        (
            hours,
            hours * self.price_per_instance_hour,
            self.price_per_instance_hour,
            self.fleet.peak,
        )
    }

    /// The balancer sends to an instance in its pool unless a health check took it out;
    /// without checks it keeps sending even to a crashed one (which refuses).
    fn refresh_slot(&mut self, i: usize) {
        let inst = &self.instances[i];
        self.slots[i].routable = inst.in_pool && !inst.out_of_rotation;
        self.slots[i].open = inst.open;
    }

    /// A call arrives for request kind `kind` from `key` (a user, or the request), whose
    /// caller stops waiting at `deadline`: the balancer picks an instance and opens a
    /// connection to it.
    pub fn visit(
        &mut self,
        cx: &mut Cx<'_>,
        visit: Handle,
        kind: u16,
        key: u32,
        deadline: SimTime,
    ) -> Result<Placed, FailReason> {
        let i = self.pick(cx.now, key)?;
        Ok(self.place(cx, i, visit, kind, deadline))
    }

    /// The instance the balancer picks for a call from `key` at `now`, if it is up to
    /// take it.
    #[inline]
    pub fn pick(&mut self, now: SimTime, key: u32) -> Result<u32, FailReason> {
        let Some(i) = self.balancer.pick_at(&self.slots, key, &mut self.rng, now) else {
            return Err(FailReason::Unavailable);
        };
        if self.instances[i as usize].life != Life::Up {
            return Err(FailReason::Refused);
        }
        Ok(i)
    }

    /// Whether instance `i` is cut off by a partition (nothing it answers gets out).
    #[inline]
    pub fn partitioned(&self, i: u32) -> bool {
        self.instances[i as usize].partitioned
    }

    /// Opens a connection for `visit` to instance `i` (up, picked by [`Service::pick`]).
    #[inline]
    pub fn place(
        &mut self,
        cx: &mut Cx<'_>,
        i: u32,
        visit: Handle,
        kind: u16,
        deadline: SimTime,
    ) -> Placed {
        let inst = &mut self.instances[i as usize];
        inst.open += 1;
        self.slots[i as usize].open = inst.open;
        self.open += 1;
        self.peak_open = self.peak_open.max(self.open);
        let job = self.jobs.insert(Job {
            visit,
            instance: i,
            lifecycle: inst.lifecycle,
            kind,
            enqueued_at: cx.now,
            started_at: cx.now,
            failing: false,
            cut: inst.partitioned,
        });
        let placed = Placed {
            instance: i,
            lifecycle: inst.lifecycle,
            job,
        };
        if inst.partitioned {
            // Sent into a cut network: no answer until the partition ends.
            return placed;
        }
        match inst.pool.admit_until(job, cx.now, deadline) {
            Admit::Start => self.start(cx, job),
            Admit::Queued => {}
            Admit::Dropped(victim) => self.reject(cx, victim),
            Admit::Rejected => {
                self.reject(cx, job);
            }
        }
        placed
    }

    fn reject(&mut self, cx: &mut Cx<'_>, job: Handle) {
        self.rejected += 1;
        if let Some(j) = self.jobs.remove(job) {
            self.instances[j.instance as usize].rejected += 1;
            cx.notify(Notice::VisitFailed {
                visit: j.visit,
                reason: FailReason::Rejected,
            });
        }
    }

    #[inline]
    fn start(&mut self, cx: &mut Cx<'_>, job: Handle) {
        let Some(j) = self.jobs.get_mut(job) else {
            return;
        };
        j.started_at = cx.now;
        let j = *j;
        if cx.now >= self.measured_from {
            self.wait.record(cx.now.since(j.enqueued_at).0);
        }
        let inst = &self.instances[j.instance as usize];
        let factor = inst.pool.factor(None) * inst.cold_factor(self.cold.as_ref(), cx.now);
        let fail_share = inst.fail_share;
        let mut t = self.work[j.kind as usize].sample_scaled(&mut self.rng, factor);
        let failing = fail_share > 0.0 && self.rng.random::<f64>() < fail_share;
        if failing {
            t = t.min(FAIL_FAST);
        }
        if failing != j.failing {
            if let Some(j) = self.jobs.get_mut(job) {
                j.failing = failing;
            }
        }
        cx.after(t, Event::Service(self.index, ServiceEvent::Worked { job }));
    }

    #[inline]
    fn worked(&mut self, cx: &mut Cx<'_>, job: Handle) {
        let Some(j) = self.jobs.get(job).copied() else {
            return; // its instance crashed meanwhile
        };
        if j.failing {
            if cx.now >= self.measured_from {
                self.errors += 1;
            }
            self.iv_errors += 1;
            self.instances[j.instance as usize].recent_err += 1;
            self.instances[j.instance as usize].errors += 1;
            self.release(cx, job, false);
            cx.notify(Notice::VisitFailed {
                visit: j.visit,
                reason: FailReason::Error,
            });
        } else {
            cx.notify(Notice::Worked { visit: j.visit });
        }
    }

    /// How long the visit of `job` waited for a worker (once one took it).
    #[inline]
    pub fn queue_wait(&self, job: Handle) -> Option<SimTime> {
        self.jobs
            .get(job)
            .map(|j| j.started_at.since(j.enqueued_at))
    }

    /// The visit's path was dropped at its instance because nobody waits for it any more
    /// (its deadline passed): neither served nor an error; its worker takes the next call.
    pub fn release_shed(&mut self, cx: &mut Cx<'_>, job: Handle) {
        self.release_as(cx, job, None);
    }

    /// The visit's path is done at its instance (`ok`: it succeeded): its worker takes
    /// the next waiting call.
    #[inline]
    pub fn release(&mut self, cx: &mut Cx<'_>, job: Handle, ok: bool) {
        self.release_as(cx, job, Some(ok));
    }

    #[inline]
    fn release_as(&mut self, cx: &mut Cx<'_>, job: Handle, ok: Option<bool>) {
        let Some(j) = self.jobs.remove(job) else {
            return;
        };
        let measured = cx.now >= self.measured_from;
        let Some(ok) = ok else {
            self.next_job(cx, j);
            return;
        };
        if ok && !j.failing {
            self.served += u64::from(measured);
            self.iv_served += 1;
            self.instances[j.instance as usize].recent_ok += 1;
            self.instances[j.instance as usize].served += 1;
            if let Some(s) = &mut self.scaling {
                s.visit_done(cx.now.since(j.enqueued_at));
            }
        } else if !j.failing {
            // Failed downstream (an injected error was counted when it happened).
            self.errors += u64::from(measured);
            self.iv_errors += 1;
            self.instances[j.instance as usize].recent_err += 1;
            self.instances[j.instance as usize].errors += 1;
        }
        self.next_job(cx, j);
    }

    /// The worker `j` held takes the next waiting call (or goes idle).
    #[inline]
    fn next_job(&mut self, cx: &mut Cx<'_>, j: Job) {
        let inst = &mut self.instances[j.instance as usize];
        if inst.lifecycle != j.lifecycle || inst.life == Life::Crashed {
            return;
        }
        let next = inst.pool.finish(cx.now);
        let draining = inst.life == Life::Draining;
        self.fail_expired(cx, j.instance as usize);
        if let Some(next) = next {
            self.start(cx, next);
        } else if draining {
            self.off_if_drained(cx, j.instance as usize);
        }
    }

    /// Fails the calls instance `i`'s queue dropped because their deadline had passed.
    #[inline]
    fn fail_expired(&mut self, cx: &mut Cx<'_>, i: usize) {
        // Checked inline: after nearly every job there are none.
        if self.instances[i].pool.has_expired() {
            self.fail_taken_expired(cx, i);
        }
    }

    /// Fails the calls [`Service::fail_expired`] found (out of line: rarely any).
    #[cold]
    fn fail_taken_expired(&mut self, cx: &mut Cx<'_>, i: usize) {
        for job in self.instances[i].pool.take_expired() {
            if let Some(j) = self.jobs.remove(job) {
                self.expired += u64::from(cx.now >= self.measured_from);
                cx.notify(Notice::VisitFailed {
                    visit: j.visit,
                    reason: FailReason::Timeout,
                });
            }
        }
    }

    /// Waiting calls its queues dropped because their deadline had passed (measured).
    pub fn expired(&self) -> u64 {
        self.expired
    }

    /// The caller stopped waiting for a visit placed at `placed` (it answered, failed or
    /// the caller timed out): the balancer's connection closes.
    #[inline]
    pub fn close(&mut self, placed: Placed) {
        let inst = &mut self.instances[placed.instance as usize];
        self.open -= u32::from(inst.open > 0);
        inst.open = inst.open.saturating_sub(1);
        self.slots[placed.instance as usize].open = inst.open;
    }

    /// Takes a connection of the instance at `placed` to database `db` for `task`; false
    /// if the task must wait (it is told with `Notice::Connected`).
    pub fn acquire_connection(&mut self, placed: Placed, db: u16, task: Handle) -> bool {
        let inst = &mut self.instances[placed.instance as usize];
        if inst.lifecycle != placed.lifecycle {
            return true; // a dead instance's work: nothing to hold
        }
        let c = &mut inst.conns[db as usize];
        if c.in_use < c.size {
            c.in_use += 1;
            true
        } else {
            c.waiters.push_back(task);
            false
        }
    }

    /// Gives back a connection to `db`; the next waiting task gets it.
    pub fn release_connection(&mut self, cx: &mut Cx<'_>, placed: Placed, db: u16) {
        let inst = &mut self.instances[placed.instance as usize];
        if inst.lifecycle != placed.lifecycle {
            return;
        }
        let c = &mut inst.conns[db as usize];
        match c.waiters.pop_front() {
            Some(task) => cx.notify(Notice::Connected { task }),
            None => c.in_use = c.in_use.saturating_sub(1),
        }
    }

    /// Whether the instance at `placed` still lives the life it had then.
    pub fn alive(&self, placed: Placed) -> bool {
        let inst = &self.instances[placed.instance as usize];
        inst.lifecycle == placed.lifecycle && inst.life != Life::Crashed
    }

    fn crash(&mut self, cx: &mut Cx<'_>, i: usize, restart_after: Option<SimTime>) {
        // Nothing runs on an instance that is off or still being provisioned.
        if matches!(
            self.instances[i].life,
            Life::Crashed | Life::Off | Life::Provisioning
        ) {
            return;
        }
        self.crashes += 1;
        self.set_life(cx, i, Life::Crashed);
        let inst = &mut self.instances[i];
        inst.lifecycle += 1;
        inst.pool.crash(cx.now);
        for c in &mut inst.conns {
            c.in_use = 0;
            c.waiters.clear();
        }
        self.lose_jobs(cx, i, |_| true, FailReason::Crash);
        if let Some(after) = restart_after {
            let lifecycle = self.instances[i].lifecycle;
            cx.after(
                after,
                Event::Service(
                    self.index,
                    ServiceEvent::Boot {
                        instance: i as u32,
                        lifecycle,
                    },
                ),
            );
        }
    }

    /// A health probe of instance `i`: it fails when the instance does not answer (down
    /// or partitioned), when it waits behind the queue past the probe's timeout, and for a
    /// deep probe (`ProbeKind::Errors`) when the instance's recent calls erred at least as
    /// often as they succeeded, or when the probe itself meets the injected errors (it goes
    /// through the same code as calls, so an instance out of rotation still fails it).
    fn probe(&mut self, cx: &mut Cx<'_>, i: usize) {
        let Some(Probe {
            every,
            timeout,
            unhealthy_after,
            healthy_after,
            deep,
        }) = self.probe
        else {
            return;
        };
        let mean_ns = self.work.first().map_or(0.0, |w| w.mean_ns());
        let inst = &mut self.instances[i];
        let answers = inst.life == Life::Up && !inst.partitioned;
        let (ok_calls, err_calls) = (inst.recent_ok, inst.recent_err);
        inst.recent_ok = 0;
        inst.recent_err = 0;
        let erring = deep && err_calls > 0 && err_calls >= ok_calls;
        let meets_error = deep
            && answers
            && inst.fail_share > 0.0
            && self.probe_rng.random::<f64>() < inst.fail_share;
        let wait_ns = inst.pool.queue_len() as f64 / inst.pool.workers().max(1) as f64
            * mean_ns
            * inst.pool.factor(None);
        let ok = answers && !erring && !meets_error && wait_ns < timeout.0 as f64;
        inst.probe_streak = match (ok, inst.probe_streak) {
            (true, s) if s > 0 => s + 1,
            (true, _) => 1,
            (false, s) if s < 0 => s - 1,
            (false, _) => -1,
        };
        if inst.probe_streak <= -(unhealthy_after as i32) {
            inst.out_of_rotation = true;
        } else if inst.probe_streak >= healthy_after as i32 && inst.out_of_rotation {
            // Back into rotation: slow start ramps it from now.
            inst.out_of_rotation = false;
            self.slots[i].ramp_from = cx.now;
        }
        self.refresh_slot(i);
        cx.after(
            every,
            Event::Service(self.index, ServiceEvent::Probe { instance: i as u32 }),
        );
    }

    /// The instances a fault names (`instance: None` with `FailRequests`: all of them).
    fn targets(&self, service: &Option<String>, instance: &Option<u32>) -> Vec<usize> {
        if service.as_deref() != Some(self.name.as_str()) {
            return Vec::new();
        }
        match instance {
            Some(i) => vec![*i as usize],
            None => (0..self.instances.len()).collect(),
        }
    }

    /// Each instance's figures over the whole run, as the single-tier form reports its
    /// nodes (`nodes.0.utilisation`): what a single-tier model written as a graph shows.
    pub fn instance_summaries(&self, now: SimTime) -> Vec<NodeSummary> {
        self.instances
            .iter()
            .enumerate()
            .map(|(i, inst)| {
                let (busy, cap) = inst.pool.integrals(now);
                NodeSummary {
                    node: i as u32,
                    served: inst.served,
                    utilisation: if cap == 0 {
                        0.0
                    } else {
                        (busy as f64 / cap as f64).min(1.0)
                    },
                    rejected: inst.rejected,
                    errors: inst.errors,
                    peak_queue: inst.pool.peak_queue() as u64,
                }
            })
            .collect()
    }

    /// Seconds from the start until `now` with none of its instances up.
    pub fn down_seconds(&self, now: SimTime) -> f64 {
        self.fleet.down_seconds(now)
    }

    /// Each instance's queue length and busy workers now, and how many instances are up.
    pub fn instance_gauges(&self) -> (Vec<u64>, Vec<u64>, u32) {
        let queues = self.instances.iter().map(|i| i.pool.queue_len() as u64);
        let busy = self.instances.iter().map(|i| i.pool.busy() as u64);
        let up = self.instances.iter().filter(|i| i.life == Life::Up).count();
        (queues.collect(), busy.collect(), up as u32)
    }

    /// Each instance's busy workers (the request tracer's counters).
    pub fn busy_by_instance(&self) -> impl Iterator<Item = u32> + '_ {
        self.instances.iter().map(|i| i.pool.busy())
    }

    /// When a worker took the visit of `job`, if one has (the request tracer's queue
    /// wait ends there); `None` while it waits in the queue or in a cut network.
    pub fn work_started(&self, job: Handle) -> Option<SimTime> {
        let j = self.jobs.get(job)?;
        let waiting = j.cut
            || self.instances[j.instance as usize]
                .pool
                .waiting()
                .any(|w| w == job);
        (!waiting).then_some(j.started_at)
    }

    fn take_waiting(&mut self, cx: &mut Cx<'_>, i: usize) {
        let started = self.instances[i].pool.take_waiting(cx.now);
        self.fail_expired(cx, i);
        for job in started {
            self.start(cx, job);
        }
    }
}

/// A balancer's health check of a service's instances.
#[derive(Clone, Copy, Debug)]
struct Probe {
    every: SimTime,
    timeout: SimTime,
    unhealthy_after: u32,
    healthy_after: u32,
    deep: bool,
}

impl Component for Service {
    type Event = ServiceEvent;

    fn build_all(model: &ModelSpec, names: &Names, seed: u64) -> Vec<Self> {
        model
            .services
            .iter()
            .enumerate()
            .map(|(i, (name, spec))| Service::new(i as u16, name, spec, names, model, seed))
            .collect()
    }

    #[inline]
    fn handle(&mut self, cx: &mut Cx<'_>, event: ServiceEvent) {
        match event {
            ServiceEvent::Worked { job } => self.worked(cx, job),
            ServiceEvent::Boot {
                instance,
                lifecycle,
            } => self.boot(cx, instance, lifecycle),
            ServiceEvent::Up {
                instance,
                lifecycle,
            } => {
                let inst = &self.instances[instance as usize];
                if inst.lifecycle == lifecycle && inst.life == Life::Starting {
                    self.set_life(cx, instance as usize, Life::Up);
                }
            }
            ServiceEvent::Probe { instance } => self.probe(cx, instance as usize),
            ServiceEvent::Autoscale => self.autoscale(cx),
            ServiceEvent::Fail {
                instance,
                lifecycle,
            } => self.random_failure(cx, instance, lifecycle),
        }
    }

    fn step(&mut self, cx: &mut Cx<'_>, _op: u8, task: Handle, _arg: u64) {
        // A service is reached by `Call`, which the path handles with `visit`.
        cx.step_done(task, Err(FailReason::Error));
    }

    fn fault(&mut self, cx: &mut Cx<'_>, fault: &FaultSpec, start: bool) -> bool {
        let (service, instance) = match fault {
            FaultSpec::Crash {
                service, instance, ..
            }
            | FaultSpec::Slow {
                service, instance, ..
            }
            | FaultSpec::CutCapacity {
                service, instance, ..
            }
            | FaultSpec::Partition {
                service, instance, ..
            }
            | FaultSpec::FailRequests {
                service, instance, ..
            } => (service, instance),
            _ => return false,
        };
        let targets = self.targets(service, instance);
        if targets.is_empty() {
            return false;
        }
        for i in targets {
            match fault {
                // The restart is scheduled with the crash; the fault's end is that time.
                FaultSpec::Crash { restart_after, .. } if start => {
                    self.crash(cx, i, restart_after.map(|r| r.0));
                }
                FaultSpec::Slow { factor, .. } => {
                    self.instances[i]
                        .pool
                        .set_slow_factor(if start { *factor } else { 1.0 });
                }
                FaultSpec::CutCapacity { workers, .. } => {
                    self.instances[i].pool.cut_capacity(*workers, start, cx.now);
                    self.take_waiting(cx, i);
                }
                FaultSpec::Partition { .. } => {
                    self.instances[i].partitioned = start;
                    if !start {
                        // The cut connections reset: what was sent there fails now.
                        self.lose_jobs(cx, i, |j| j.cut, FailReason::Timeout);
                    }
                }
                FaultSpec::FailRequests { percent, .. } => {
                    self.instances[i].fail_share = if start { percent / 100.0 } else { 0.0 };
                }
                _ => {}
            }
        }
        true
    }

    fn close_interval(&mut self, _now: SimTime, interval_s: f64) {
        let up = self.instances.iter().filter(|i| i.life == Life::Up).count();
        let busy: u32 = self.instances.iter().map(|i| i.pool.busy()).sum();
        let queued: usize = self.instances.iter().map(|i| i.pool.queue_len()).sum();
        let open: u32 = self.instances.iter().map(|i| i.open).sum();
        self.rows.push(vec![
            up as f64,
            busy as f64,
            queued as f64,
            open as f64,
            self.iv_served as f64 / interval_s,
            self.iv_errors as f64 / interval_s,
            self.fleet.on as f64,
        ]);
        self.iv_served = 0;
        self.iv_errors = 0;
    }

    fn series(&self) -> ComponentSeries {
        ComponentSeries {
            key: format!("service.{}", self.name),
            schema: &SERVICE,
            rows: self.rows.clone(),
        }
    }

    fn figures(&self, now: SimTime, _measured_s: f64) -> ComponentFigures {
        let (mut busy, mut cap) = (0u128, 0u128);
        for i in &self.instances {
            let (b, c) = i.cpu(now);
            busy += b;
            cap += c;
        }
        let (b0, c0) = self.integrals_at_warmup;
        let utilisation = if cap > c0 {
            (busy - b0) as f64 / (cap - c0) as f64
        } else {
            0.0
        };
        let peak_queue = self
            .instances
            .iter()
            .map(|i| i.pool.peak_queue())
            .max()
            .unwrap_or(0);
        let p99 = if self.wait.count() > 0 {
            self.wait.quantile_ms(0.99)
        } else {
            f64::NAN
        };
        let instance_hours = self.fleet.instance_hours(now);
        ComponentFigures {
            key: format!("service.{}", self.name),
            schema: &SERVICE,
            values: vec![
                self.served as f64,
                self.errors as f64,
                self.rejected as f64,
                utilisation,
                peak_queue as f64,
                self.peak_open as f64,
                p99,
                self.crashes as f64,
                self.random_crashes as f64,
                self.fleet.peak as f64,
                instance_hours,
                instance_hours * self.price_per_instance_hour,
            ],
        }
    }

    fn warmup_over(&mut self, now: SimTime) {
        self.measured_from = now;
        let (mut busy, mut cap) = (0u128, 0u128);
        for i in &self.instances {
            let (b, c) = i.cpu(now);
            busy += b;
            cap += c;
        }
        self.integrals_at_warmup = (busy, cap);
        self.served = 0;
        self.errors = 0;
        self.rejected = 0;
        self.expired = 0;
        self.wait.reset();
    }

    fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        for (i, inst) in self.instances.iter().enumerate() {
            inst.pool.check_invariants(&format!("{}/{i}", self.name));
            for c in &inst.conns {
                assert!(
                    c.in_use <= c.size,
                    "{}/{i}: {} connections in use > pool {}",
                    self.name,
                    c.in_use,
                    c.size
                );
            }
        }
    }
}
