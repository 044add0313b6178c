//! The graph engine's run loop, its metrics intervals and the summary at the end.

use super::cx::Cx;
use super::population::PopulationEvent;
use super::registry::Event;
use super::GraphSim;
use crate::config::RunConfig;
use crate::engine::SimTime;
use crate::graph::fail::FailReason;
use crate::graph::faults::FaultPhase;
use crate::graph::output::{InvariantViolation, RunOutput};
use crate::metrics::summary::{Cost, LatencySummary, RequestCounts, Summary, WaitSummary};
use crate::metrics::Gauges;

/// Runs the graph model of `cfg` to its end.
pub fn run(cfg: &RunConfig) -> Result<RunOutput, InvariantViolation> {
    run_traced(cfg, None)
}

/// Runs the graph model of `cfg` to its end, tracing `trace` sampled requests if given
/// (see [`super::trace`]; the trace is in [`RunOutput::trace`]).
pub fn run_traced(cfg: &RunConfig, trace: Option<u32>) -> Result<RunOutput, InvariantViolation> {
    let mut sim = GraphSim::new(cfg);
    sim.tracer = trace.map(|n| super::trace::Tracer::new(cfg, n));
    sim.start();
    sim.run(cfg)
}

/// Runs `graph`, the graph the configuration `single_tier` is shorthand for
/// (`config::shorthand::as_graph`), to its end: its summary also has the single-tier
/// sections (`nodes`, `dependency`, `cache`, `db`, `locks`) filled from the components;
/// `trace` sampled requests are traced if given, as [`run_traced`] does.
pub fn run_single_tier(
    single_tier: &RunConfig,
    graph: &RunConfig,
    trace: Option<u32>,
) -> Result<RunOutput, InvariantViolation> {
    run_single_tier_with(
        single_tier,
        graph,
        RunOptions {
            trace,
            ..Default::default()
        },
    )
}

/// What a run records beyond its summary and time series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Trace this many sampled requests ([`super::trace`]; in [`RunOutput::trace`]).
    pub trace: Option<u32>,
    /// Keep batch means of the response and wait of every success after the warm-up, for
    /// a confidence interval (`scalesim validate`; in [`RunOutput::batches`]).
    pub batch_means: bool,
    /// Keep a record of every client request that ended (in [`RunOutput::request_log`]).
    pub request_log: bool,
}

/// [`run`] with `options`.
pub fn run_with(cfg: &RunConfig, options: RunOptions) -> Result<RunOutput, InvariantViolation> {
    let mut sim = GraphSim::new(cfg);
    sim.apply(cfg, options);
    sim.start();
    sim.run(cfg)
}

/// [`run_single_tier`] with `options`.
pub fn run_single_tier_with(
    single_tier: &RunConfig,
    graph: &RunConfig,
    options: RunOptions,
) -> Result<RunOutput, InvariantViolation> {
    let design = single_tier
        .model
        .sessions
        .as_ref()
        .map(|s| format!("{:?}", s.design));
    let mut sim = GraphSim::new(graph);
    sim.single_tier = true;
    // The time series labels the faults as the single-tier file wrote them.
    sim.faults.label_as(&single_tier.spec.faults);
    // The single-tier `sessions` section counts the whole run, warm-up included.
    for s in &mut sim.components.sessions {
        s.count_from_start();
    }
    sim.apply(graph, options);
    // One column pair per node, as the single-tier time series has.
    sim.recorder.series.nodes = graph.model.services.values().next().map_or(0, |s| {
        s.autoscaler
            .as_ref()
            .map_or(s.instances, |a| a.max_nodes.max(s.instances)) as usize
    });
    sim.start();
    sim.single_tier_design = design;
    let mut out = sim.run(graph)?;
    // Whether the warm-up looks long enough, from the single-tier file's own workload and
    // faults (as a single-tier summary reports it).
    out.summary.warmup_check =
        crate::metrics::warmup::check(&out.series, single_tier, out.summary.sim_seconds);
    Ok(out)
}

impl GraphSim {
    /// Sets up what `options` asks the run to record.
    fn apply(&mut self, cfg: &RunConfig, options: RunOptions) {
        self.tracer = options.trace.map(|n| super::trace::Tracer::new(cfg, n));
        if options.batch_means {
            self.recorder.batches = Some(crate::validate::batch_means::BatchMeans::new());
        }
        if options.request_log {
            self.request_log = Some(Vec::new());
        }
    }

    pub(super) fn run(mut self, cfg: &RunConfig) -> Result<RunOutput, InvariantViolation> {
        let wall = std::time::Instant::now();
        let mut stops = crate::engine::stops::Stops::new(
            self.max_in_flight,
            self.max_events,
            self.max_pending_events,
            10_000_000,
        );
        while let Some((now, event)) = self.queue.pop() {
            if now > self.end {
                self.queue.schedule_at(now, event);
                break;
            }
            if !self.warmup_done && now >= self.warmup {
                self.warmup_done = true;
                self.components.warmup_over(self.warmup);
            }
            // (The last interval, which ends at the run's end, closes after the events at
            // that instant: they are the run's last, and no row follows.)
            while now >= self.next_tick && self.next_tick < self.end {
                let at = self.next_tick;
                self.close_interval(at);
                self.next_tick = at.saturating_add(self.interval).min(self.end);
            }
            if let Some(reason) = stops.before(now) {
                self.stopped_reason = Some(reason);
                self.queue.schedule_at(now, event);
                break;
            }
            self.handle(now, event);
            self.components.check_invariants();
            if let Some(t) = &mut self.tracer {
                t.sample_busy(now, &self.components.services);
            }
            let (in_flight, events) = (self.requests.len() as u64, self.queue.events_processed());
            if let Some(reason) = stops.after(now, in_flight, events, || self.queue.len()) {
                self.stopped_reason = Some(reason);
                break;
            }
            if self.requests.is_empty() && self.workload_exhausted() {
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

    /// Only bursts: every one sent and nothing pending from them.
    fn workload_exhausted(&self) -> bool {
        self.populations.iter().all(|p| p.is_finite())
            && !self
                .queue
                .pending()
                .any(|(_, e)| matches!(e, Event::Population(..)))
    }

    /// Handles one event, then every notice it caused, in order.
    fn handle(&mut self, now: SimTime, event: Event) {
        let mut cx = Cx {
            now,
            queue: &mut self.queue,
            notices: &mut self.notices,
        };
        if let Some(own) = self.components.dispatch(&mut cx, event) {
            match own {
                Event::Path(e) => self.path_event(now, e),
                Event::Population(p, e) => self.population_event(now, p, e),
                Event::Fault(index, phase) => self.fault(now, index, phase),
                Event::Tick => {
                    // The run loop has closed the interval that ends now.
                    if self.next_tick > now {
                        self.queue.schedule_at(self.next_tick, Event::Tick);
                    }
                }
                _ => unreachable!("components handle their own events"),
            }
        }
        let mut i = 0;
        while i < self.notices.len() {
            let n = self.notices[i];
            i += 1;
            self.on_notice(now, n);
        }
        self.notices.clear();
    }

    fn population_event(&mut self, now: SimTime, p: u16, event: PopulationEvent) {
        match event {
            PopulationEvent::Arrival => {
                if let Some(at) = self.populations[p as usize].next_arrival(now) {
                    // A population's arrivals come in the order they are scheduled: the
                    // FIFO lane keeps them out of the heap (while no timeout there is later).
                    self.queue
                        .schedule_at_in_order(at, Event::Population(p, PopulationEvent::Arrival));
                }
                self.issue(now, p, None);
            }
            PopulationEvent::Wake { user } => {
                let pop = &self.populations[p as usize];
                if pop.is_active(user, now) {
                    self.issue(now, p, Some(user));
                } else if let Some(at) = pop.next_wake(user, now) {
                    // Not active yet: sleep until the shape makes it so (a user the shape
                    // never activates again sleeps for good).
                    let ev = Event::Population(p, PopulationEvent::Wake { user });
                    self.queue.schedule_at(at, ev);
                }
            }
            PopulationEvent::Burst { next } => {
                // Requests of a burst due at this same instant go together.
                let mut n = next;
                loop {
                    self.issue(now, p, None);
                    match self.populations[p as usize].burst_next(n) {
                        Some((at, k)) if at == now => n = k,
                        Some((at, k)) => {
                            let ev = Event::Population(p, PopulationEvent::Burst { next: k });
                            self.queue.schedule_at(at, ev);
                            break;
                        }
                        None => break,
                    }
                }
            }
        }
    }

    fn fault(&mut self, now: SimTime, index: u32, phase: FaultPhase) {
        let start = phase == FaultPhase::Start;
        self.faults.set_active(index, start, now);
        let spec = self.faults.spec(index).clone();
        if let Some(t) = &mut self.tracer {
            t.fault(now, start, &serde_json::to_value(&spec).unwrap_or_default());
        }
        let mut cx = Cx {
            now,
            queue: &mut self.queue,
            notices: &mut self.notices,
        };
        self.components.fault(&mut cx, &spec, start);
    }

    fn close_interval(&mut self, now: SimTime) {
        self.components.check_invariants();
        let start = self.interval_start;
        self.interval_start = now;
        let interval_s = now.since(start).as_secs_f64().max(1e-9);
        // The single-tier cache columns are the interval's counts, taken before the
        // cache closes it.
        let cache = if self.single_tier {
            self.components
                .caches
                .iter()
                .find(|c| c.name() == crate::config::shorthand::CACHE)
                .map(|c| c.interval_counts())
        } else {
            None
        };
        self.components.close_interval(now, interval_s);
        for p in &mut self.populations {
            p.close_interval(interval_s, self.recorder.interval_latency());
        }
        let mut gauges = Gauges {
            in_flight: self.requests.len() as u64,
            active_faults: self.faults.interval_labels(start, now),
            ..Default::default()
        };
        if self.single_tier {
            self.single_tier_gauges(now, &mut gauges);
        }
        if let Some((hits, misses, coalesced, db_queries)) = cache {
            gauges.cache_hits = hits;
            gauges.cache_misses = misses;
            gauges.cache_coalesced = coalesced;
            gauges.db_queries = db_queries;
            self.recorder.series.cache = true;
        }
        self.recorder.close_interval(start, gauges);
    }

    /// The single-tier time-series columns (per node, the dependency) of a single-tier
    /// model run as its graph: from the one service's instances and the database
    /// `shorthand::DEPENDENCY`, at the interval's end.
    /// The columns the components' series carry (`nodes_on`, the session, store, lock and
    /// cache columns) are copied from them at the end ([`fill_single_tier_gauges`]).
    fn single_tier_gauges(&self, now: SimTime, g: &mut Gauges) {
        if let Some(app) = self.components.services.first() {
            let (queues, busy, up) = app.instance_gauges();
            g.queue_len = queues;
            g.busy_workers = busy;
            g.nodes_up = up;
            // The cost so far, as the single-tier column has it.
            g.cost = app.cost(now).1;
            g.autoscaler_metric = app.autoscaler_metric();
        }
        let dependency = self
            .components
            .databases
            .iter()
            .find(|d| d.name() == crate::config::shorthand::DEPENDENCY);
        if let Some(d) = dependency {
            let (queued, busy) = d.primary_gauges();
            g.dependency_queue = queued;
            g.dependency_busy = busy;
        }
    }

    fn finish(
        mut self,
        cfg: &RunConfig,
        now: SimTime,
        wall_seconds: f64,
    ) -> Result<RunOutput, InvariantViolation> {
        let rec = &self.recorder;
        let in_flight = self.requests.len() as u64;
        let failed = rec.failed_total();
        if rec.issued != rec.succeeded + failed + in_flight {
            return Err(InvariantViolation(format!(
                "request conservation: issued {} != succeeded {} + failed {} + in flight {} (seed {})",
                rec.issued, rec.succeeded, failed, in_flight, cfg.seed()
            )));
        }
        if let Err(stuck) = self.liveness() {
            return Err(InvariantViolation(format!("{stuck} (seed {})", cfg.seed())));
        }
        let measured_s = now.since(cfg.spec.warmup.0).as_secs_f64();
        let per_s = |x: u64| {
            if measured_s > 0.0 {
                x as f64 / measured_s
            } else {
                0.0
            }
        };
        let (recovery_seconds, never_recovered) =
            crate::metrics::recovery::recovery(&rec.series, self.faults.trigger_end());
        let amplification_peak = rec
            .series
            .rows
            .iter()
            .filter(|r| r.offered > 0)
            .map(|r| r.attempts as f64 / r.offered as f64)
            .fold(0.0, f64::max);
        let mut figures = self.components.figures(now, measured_s);
        self.add_deadline_figures(&mut figures);
        figures.extend(
            self.populations
                .iter()
                .map(|p| p.figures(measured_s, &self.recorder.latency)),
        );
        let mut summary = Summary {
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
            latency_ms: LatencySummary::of(&rec.latency),
            latency_failed_ms: LatencySummary::of(&rec.latency_failed),
            wait_ms: WaitSummary {
                mean: if rec.succeeded_after_warmup == 0 {
                    0.0
                } else {
                    rec.wait_sum_ns as f64 / rec.succeeded_after_warmup as f64 / 1e6
                },
            },
            throughput_rps: per_s(self.ledger.attempts_completed),
            goodput_rps: per_s(rec.succeeded_after_warmup),
            attempts: rec.attempts,
            retries: rec.retries,
            retry_amplification: if rec.issued == 0 {
                0.0
            } else {
                rec.attempts as f64 / rec.issued as f64
            },
            retry_amplification_peak: amplification_peak,
            budget_denied: rec.budget_denied,
            wasted_completions: self.wasted,
            shed_expired: self.shed_total(),
            duplicate_executions: self.ledger.duplicate_executions,
            idempotent_replays: self.ledger.idempotent_replays,
            recovery_seconds,
            never_recovered,
            ..Default::default()
        };
        summary.cost = self.cost(now);
        summary.set_components(&figures);
        if self.single_tier {
            if let Some(app) = self.components.services.first() {
                summary.nodes = app.instance_summaries(now);
                let ended = summary.requests.succeeded + summary.requests.failed;
                let time_share = if now.0 == 0 {
                    1.0
                } else {
                    1.0 - app.down_seconds(now) / now.as_secs_f64()
                };
                let requests_share = if ended == 0 {
                    1.0
                } else {
                    summary.requests.succeeded as f64 / ended as f64
                };
                summary.availability = crate::metrics::summary::Availability {
                    time_share,
                    time_nines: crate::metrics::summary::nines(time_share),
                    requests_share,
                    requests_nines: crate::metrics::summary::nines(requests_share),
                };
            }
            // After the nodes: the load imbalance is of theirs.
            self.single_tier_summary(cfg, &mut summary);
        }
        let mut series = std::mem::take(&mut self.recorder.series);
        let mut components = self.components.series();
        if self.single_tier {
            fill_single_tier_gauges(&mut series, &components, now.as_secs_f64());
        }
        components.extend(self.populations.iter().map(|p| p.series()));
        series.components = components;
        Ok(RunOutput {
            summary,
            series,
            batches: self.recorder.batches.take(),
            trace: self.tracer.take().map(|t| t.finish(now)),
            request_log: self.request_log.take(),
        })
    }
}

impl GraphSim {
    /// The single-tier sections of a single-tier model run as its graph
    /// ([`crate::config::shorthand::single_tier_sections`]), with the session store's
    /// counts over the whole run, as the single-tier form counts them.
    fn single_tier_summary(&mut self, cfg: &RunConfig, summary: &mut Summary) {
        crate::config::shorthand::single_tier_sections(
            summary,
            cfg.spec.warmup.0.as_secs_f64(),
            self.single_tier_design.take(),
        );
        let store = self
            .components
            .databases
            .iter()
            .find(|d| d.name() == crate::config::shorthand::SESSIONS_STORE);
        let section = summary.sessions.as_mut();
        if let (Some(d), Some(s)) = (store, section) {
            let [reads, writes, _rejected, replica_reads, lost_writes, failed] =
                d.whole_run_counts();
            s.lost_writes = lost_writes;
            if let Some(st) = &mut s.store {
                st.reads = reads;
                st.writes = writes;
                st.failed = failed;
                st.replica_reads = replica_reads;
            }
        }
    }

    /// The run's cost, in the single-tier form's terms: the instance-seconds and cost of
    /// every service together, the price per instance-hour (the services' average,
    /// weighted by their instance-hours, when they differ), and as peak the sum of each
    /// service's peak (the exact peak when the model has one service).
    fn cost(&self, now: SimTime) -> Cost {
        let (mut hours, mut total, mut peak) = (0.0, 0.0, 0u32);
        let mut prices = Vec::new();
        for s in &self.components.services {
            let (h, c, price, p) = s.cost(now);
            hours += h;
            total += c;
            peak += p;
            prices.push(price);
        }
        let price = match prices.as_slice() {
            [one] => *one,
            _ if hours > 0.0 => total / hours,
            _ => 0.0,
        };
        Cost {
            node_seconds: hours * 3600.0,
            price_per_node_hour: price,
            total,
            peak_nodes: peak,
        }
    }

    /// Work dropped because nobody waited for it any more: at a step (propagated
    /// deadlines) and in the queues (`deadline_check`), every service and database.
    fn shed_total(&self) -> u64 {
        let at_steps: u64 = self.ledger.service_shed.iter().sum();
        let services: u64 = self.components.services.iter().map(|s| s.expired()).sum();
        let dbs: u64 = self.components.databases.iter().map(|d| d.expired()).sum();
        at_steps + services + dbs
    }

    /// Puts the path's figures of each service and database where their schemas declare
    /// them: work finished for nobody (`wasted`) and work dropped because nobody waited
    /// for it any more (`shed`); the components fill in the others.
    fn add_deadline_figures(&self, figures: &mut [crate::metrics::schema::ComponentFigures]) {
        use crate::metrics::schema::{Schema, DATABASE, SERVICE};
        let at = |schema: &Schema| {
            schema
                .figures
                .iter()
                .position(|m| m.name == "wasted")
                .expect("declared")
        };
        let (mut s, mut d) = (0, 0);
        for f in figures.iter_mut() {
            let (wasted, shed, i) = if std::ptr::eq(f.schema, &SERVICE) {
                s += 1;
                let shed =
                    self.ledger.service_shed[s - 1] + self.components.services[s - 1].expired();
                (self.ledger.service_wasted[s - 1], shed, at(&SERVICE))
            } else if std::ptr::eq(f.schema, &DATABASE) {
                d += 1;
                let shed = self.components.databases[d - 1].expired();
                (self.ledger.db_wasted[d - 1], shed, at(&DATABASE))
            } else {
                continue;
            };
            f.values.insert(i, wasted as f64);
            f.values.insert(i + 1, shed as f64);
        }
    }
}

/// Fills the single-tier columns of a single-tier model run as its graph that its
/// components' series carry, row by row: `nodes_on` (the service's `instances_on`), the
/// session columns (the one service's sessions), the store's queue and busy workers (the
/// database `shorthand::SESSIONS_STORE`), the lock waiters and committed count (the
/// counter `shorthand::COUNTER`; the count is from the start, warm-up included). (The
/// cache columns are the cache's own counts, set as each interval closes.) A per-second rate becomes the interval's count
/// (rate × the interval's length, which is the last one's to `end_s`). What no component
/// reports (`autoscaler_metric`, `lock_wait_ms_p99`) stays 0.
fn fill_single_tier_gauges(
    series: &mut crate::metrics::TimeSeries,
    components: &[crate::metrics::schema::ComponentSeries],
    end_s: f64,
) {
    use crate::config::shorthand::{COUNTER, SERVICE, SESSIONS_STORE};
    let column = |key: String, name: &str| -> Option<Vec<f64>> {
        let c = components.iter().find(|c| c.key == key)?;
        let j = c.schema.series.iter().position(|m| m.name == name)?;
        Some(c.rows.iter().map(|r| r[j]).collect())
    };
    let starts: Vec<f64> = series.rows.iter().map(|r| r.t_s).collect();
    let length = |i: usize| starts.get(i + 1).copied().unwrap_or(end_s) - starts[i];
    let count = |v: f64| {
        if v.is_finite() {
            v.max(0.0).round() as u64
        } else {
            0
        }
    };
    let rows = &mut series.rows;
    let mut set = |key: String, name: &str, per_s: bool, f: fn(&mut Gauges, u64)| {
        if let Some(values) = column(key, name) {
            for (i, (row, v)) in rows.iter_mut().zip(values).enumerate() {
                let v = if per_s { v * length(i) } else { v };
                f(&mut row.gauges, count(v));
            }
        }
    };
    set(
        format!("service.{SERVICE}"),
        "instances_on",
        false,
        |g, v| g.nodes_on = v as u32,
    );
    let sessions = format!("sessions.{SERVICE}");
    set(sessions.clone(), "logged_in", false, |g, v| g.logged_in = v);
    set(sessions.clone(), "spurious_logouts_per_s", true, |g, v| {
        g.spurious_logouts = v
    });
    set(
        sessions.clone(),
        "accepted_after_logout_per_s",
        true,
        |g, v| g.accepted_after_logout = v,
    );
    set(sessions, "lost_on_crash", false, |g, v| g.sessions_lost = v);
    let store = format!("db.{SESSIONS_STORE}");
    set(store.clone(), "queue_len", false, |g, v| g.store_queue = v);
    set(store, "busy_workers", false, |g, v| g.store_busy = v);
    let counter = format!("counter.{COUNTER}");
    set(counter.clone(), "lock_waiters", false, |g, v| {
        g.lock_waiters = v
    });
    set(counter.clone(), "committed_per_s", true, |g, v| {
        g.counter_committed = v
    });
    // The single-tier column is 0 in an interval without a granted wait.
    if let Some(p99) = column(counter, "lock_wait_ms_p99") {
        for (row, v) in rows.iter_mut().zip(p99) {
            row.gauges.lock_wait_ms_p99 = if v.is_finite() { v } else { 0.0 };
        }
    }
    // The committed count is cumulative.
    let mut committed = 0;
    for row in rows.iter_mut() {
        committed += row.gauges.counter_committed;
        row.gauges.counter_committed = committed;
    }
}
