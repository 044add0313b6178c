//! Named counter rows that live in a named database: its step is `Lock` (op 0). With
//! locking, an increment takes its row's lock (waiting in line, up to `wait_timeout`),
//! writes in the database (a step it asks the path for, so the write uses the database's
//! workers and connections) and unlocks; a holder that keeps the lock past its `lease`
//! loses it (the next waiter gets it, and the late write is lost). Without locking,
//! concurrent read-modify-writes of a row overwrite each other (lost updates). `Batched`
//! rows add increments up in the memory of the instance that runs the step and write each
//! instance's sum every period under row 0's lock (op 1, a step the counter asks the path
//! to run from that instance); a crash of the instance loses what it had not written.
//! Draws rows from its own stream, `"counter/<name>"`.

use rand::Rng;
use std::collections::{BTreeMap, VecDeque};

use crate::config::experiment::FaultSpec;
use crate::config::graph::CounterRowsSpec;
use crate::config::model::CounterSpec;
use crate::config::ModelSpec;
use crate::engine::{stream, SimTime, Stream};
use crate::graph::component::Component;
use crate::graph::components::database::WRITE;
use crate::graph::components::service::Placed;
use crate::graph::cx::{Cx, Notice};
use crate::graph::fail::FailReason;
use crate::graph::names::Names;
use crate::graph::registry::{Event, Kind};
use crate::graph::slab::Handle;
use crate::metrics::latency::LatencyStats;
use crate::metrics::schema::{ComponentFigures, ComponentSeries, COUNTER};

/// The step that increments (a path's `Lock`).
pub const INCREMENT: u8 = 0;
/// The counter's own step: an instance writes its batch.
pub const FLUSH: u8 = 1;

/// A counter's events.
#[derive(Clone, Copy, Debug)]
pub enum CounterEvent {
    /// `task`, waiting for row `row`'s lock, gives up.
    WaitTimeout { row: u32, task: Handle },
    /// Grant `serial` of row `row` reaches its lease.
    LeaseExpiry { row: u32, serial: u32 },
    /// A batching period is over: every instance with a batch writes it.
    Flush,
}

#[derive(Clone, Debug, Default)]
struct Row {
    /// The holder and its grant's serial.
    holder: Option<(Handle, u32)>,
    /// Waiters, when each started waiting, and whether it is a request (it may time out
    /// and its wait is measured) rather than a batch write.
    waiters: VecDeque<(Handle, SimTime, bool)>,
    version: u64,
}

/// A write under way.
#[derive(Clone, Copy, Debug)]
struct Writing {
    row: u32,
    /// The row's version when it was read (for lost updates without locks).
    read: u64,
    /// Its lease ran out: it no longer holds the lock, and it is lost when it lands.
    expired: bool,
}

/// An instance's batch (batched rows).
#[derive(Clone, Copy, Debug)]
struct Batch {
    /// Where it lives (the last placement seen there).
    placed: Placed,
    /// Increments added up and not yet written.
    pending: u64,
    /// Increments of the batch being written (0: none).
    flushing: u64,
}

/// One counter.
pub struct Counter {
    index: u16,
    name: String,
    database: u16,
    services: Vec<String>,
    rows: Vec<Row>,
    locking: bool,
    batch_every: Option<SimTime>,
    wait_timeout: SimTime,
    lease: Option<SimTime>,
    rng: Stream,
    at: Option<(u16, Placed)>,
    next_serial: u32,
    /// Each writing task's write.
    writing: BTreeMap<(u32, u32), Writing>,
    /// Batches by (service, instance).
    batches: BTreeMap<(u16, u32), Batch>,
    /// Batch writes under way: their (service, instance).
    flushes: BTreeMap<(u32, u32), (u16, u32)>,
    ticking: bool,
    measured_from: SimTime,
    committed: u64,
    /// Increments committed since the start (the counter's value), warm-up included.
    value: u64,
    lost_updates: u64,
    timeouts: u64,
    leases_expired: u64,
    waits: LatencyStats,
    /// The lock waits of the requests granted in the current interval.
    iv_waits: LatencyStats,
    max_waiters: usize,
    iv_committed: u64,
    series_rows: Vec<Vec<f64>>,
}

fn key_of(h: Handle) -> (u32, u32) {
    (h.idx, h.gen)
}

impl Counter {
    fn new(index: u16, name: &str, spec: &CounterRowsSpec, names: &Names, seed: u64) -> Counter {
        let n = match spec.rows {
            CounterSpec::Sharded { buckets } => buckets,
            _ => 1,
        };
        Counter {
            index,
            name: name.to_string(),
            database: names.databases[&spec.database],
            services: names.services.keys().cloned().collect(),
            rows: vec![Row::default(); n as usize],
            locking: spec.locking,
            batch_every: match spec.rows {
                CounterSpec::Batched { every } => Some(every.0),
                _ => None,
            },
            wait_timeout: spec.wait_timeout.0,
            lease: spec.lease.map(|l| l.0),
            rng: stream(seed, &format!("counter/{name}")),
            at: None,
            next_serial: 0,
            writing: BTreeMap::new(),
            batches: BTreeMap::new(),
            flushes: BTreeMap::new(),
            ticking: false,
            measured_from: SimTime::ZERO,
            committed: 0,
            value: 0,
            lost_updates: 0,
            timeouts: 0,
            leases_expired: 0,
            waits: LatencyStats::new(),
            iv_waits: LatencyStats::new(),
            max_waiters: 0,
            iv_committed: 0,
            series_rows: Vec::new(),
        }
    }

    fn measured(&self, now: SimTime) -> u64 {
        u64::from(now >= self.measured_from)
    }

    /// `task` writes row `row` in the database.
    fn write(&mut self, cx: &mut Cx<'_>, task: Handle, row: u32) {
        let read = self.rows[row as usize].version;
        let w = Writing {
            row,
            read,
            expired: false,
        };
        self.writing.insert(key_of(task), w);
        cx.notify(Notice::Sub {
            task,
            kind: Kind::Db,
            index: self.database,
            op: WRITE,
            reply_kind: Kind::Counter,
            reply_index: self.index,
        });
    }

    /// `task` gets row `row`'s lock (it waited since `since`; `request`: not a batch) and
    /// writes.
    fn grant(&mut self, cx: &mut Cx<'_>, row: u32, task: Handle, since: SimTime, request: bool) {
        let serial = self.next_serial;
        self.next_serial = self.next_serial.wrapping_add(1);
        self.rows[row as usize].holder = Some((task, serial));
        if request {
            let waited = cx.now.since(since).0;
            self.iv_waits.record(waited);
            if cx.now >= self.measured_from {
                self.waits.record(waited);
            }
        }
        if let Some(lease) = self.lease {
            let ev = CounterEvent::LeaseExpiry { row, serial };
            cx.after(lease, Event::Counter(self.index, ev));
        }
        self.write(cx, task, row);
    }

    /// `task` asks for row `row`'s lock.
    fn acquire(&mut self, cx: &mut Cx<'_>, row: u32, task: Handle, request: bool) {
        if self.rows[row as usize].holder.is_none() {
            self.grant(cx, row, task, cx.now, request);
            return;
        }
        let r = &mut self.rows[row as usize];
        r.waiters.push_back((task, cx.now, request));
        self.max_waiters = self.max_waiters.max(r.waiters.len());
        if request {
            let ev = CounterEvent::WaitTimeout { row, task };
            cx.after(self.wait_timeout, Event::Counter(self.index, ev));
        }
    }

    /// Row `row`'s lock is free: the next waiter gets it.
    fn release(&mut self, cx: &mut Cx<'_>, row: u32) {
        let r = &mut self.rows[row as usize];
        r.holder = None;
        if let Some((next, since, request)) = r.waiters.pop_front() {
            self.grant(cx, row, next, since, request);
        }
    }

    /// An increment for a batched counter: added up in the instance's memory.
    fn add_to_batch(&mut self, cx: &mut Cx<'_>) {
        let (service, placed) = self.at.expect("the path says where a step runs");
        let measured = self.measured(cx.now);
        let b = self
            .batches
            .entry((service, placed.instance))
            .or_insert(Batch {
                placed,
                pending: 0,
                flushing: 0,
            });
        if b.placed.lifecycle != placed.lifecycle {
            // The instance restarted since (a crash not seen as a fault): its sum is gone.
            self.lost_updates += std::mem::take(&mut b.pending) * measured;
        }
        b.placed = placed;
        b.pending += 1;
        if !self.ticking {
            self.ticking = true;
            let every = self.batch_every.expect("batched");
            let wait = SimTime(every.0 - cx.now.0 % every.0);
            cx.after(wait, Event::Counter(self.index, CounterEvent::Flush));
        }
    }

    /// Every instance with a batch and none being written asks to write it.
    fn flush_all(&mut self, cx: &mut Cx<'_>) {
        for (&(service, _), b) in self.batches.iter_mut() {
            if b.pending == 0 || b.flushing > 0 {
                continue;
            }
            b.flushing = std::mem::take(&mut b.pending);
            cx.notify(Notice::Own {
                service,
                placed: b.placed,
                kind: Kind::Counter,
                index: self.index,
                op: FLUSH,
            });
        }
        let every = self.batch_every.expect("batched");
        cx.after(every, Event::Counter(self.index, CounterEvent::Flush));
    }
}

impl Component for Counter {
    type Event = CounterEvent;

    fn build_all(model: &ModelSpec, names: &Names, seed: u64) -> Vec<Self> {
        model
            .counters
            .iter()
            .enumerate()
            .map(|(i, (name, spec))| Counter::new(i as u16, name, spec, names, seed))
            .collect()
    }

    fn handle(&mut self, cx: &mut Cx<'_>, event: CounterEvent) {
        match event {
            CounterEvent::WaitTimeout { row, task } => {
                let r = &mut self.rows[row as usize];
                if let Some(i) = r.waiters.iter().position(|(t, _, _)| *t == task) {
                    r.waiters.remove(i);
                    self.timeouts += self.measured(cx.now);
                    cx.step_done(task, Err(FailReason::LockTimeout));
                }
            }
            CounterEvent::LeaseExpiry { row, serial } => {
                let Some((holder, _)) =
                    self.rows[row as usize].holder.filter(|&(_, s)| s == serial)
                else {
                    return;
                };
                self.leases_expired += self.measured(cx.now);
                if let Some(w) = self.writing.get_mut(&key_of(holder)) {
                    w.expired = true;
                }
                self.release(cx, row);
            }
            CounterEvent::Flush => self.flush_all(cx),
        }
    }

    fn running_at(&mut self, service: u16, placed: Placed) {
        self.at = Some((service, placed));
    }

    fn step(&mut self, cx: &mut Cx<'_>, op: u8, task: Handle, _arg: u64) {
        if op == FLUSH {
            let (service, placed) = self.at.expect("the path says where a step runs");
            self.flushes
                .insert(key_of(task), (service, placed.instance));
            self.acquire(cx, 0, task, false);
            return;
        }
        if self.batch_every.is_some() {
            self.add_to_batch(cx);
            cx.step_done(task, Ok(()));
            return;
        }
        let row = if self.rows.len() > 1 {
            self.rng.random_range(0..self.rows.len() as u32)
        } else {
            0
        };
        if self.locking {
            self.acquire(cx, row, task, true);
        } else {
            self.write(cx, task, row);
        }
    }

    fn reply(&mut self, cx: &mut Cx<'_>, task: Handle, result: Result<(), FailReason>) {
        let Some(w) = self.writing.remove(&key_of(task)) else {
            return;
        };
        let measured = self.measured(cx.now);
        let batch = self.flushes.remove(&key_of(task));
        let r = &mut self.rows[w.row as usize];
        let holds = r.holder.is_some_and(|(h, _)| h == task);
        let lost = if result.is_err() {
            // Nothing landed: a request fails (its retry increments again); a batch is gone.
            batch.is_some()
        } else {
            // Overwritten by a racing write (unlocked), or written after losing the lock.
            let raced = !self.locking && r.version != w.read;
            r.version += 1;
            raced || w.expired
        };
        let increments = match batch {
            Some(at) => self
                .batches
                .get_mut(&at)
                .map_or(0, |b| std::mem::take(&mut b.flushing)),
            None => 1,
        };
        if lost {
            self.lost_updates += increments * measured;
        } else if result.is_ok() {
            self.committed += increments * measured;
            self.value += increments;
            self.iv_committed += increments;
        }
        if holds {
            self.release(cx, w.row);
        }
        cx.step_done(task, result);
    }

    fn fault(&mut self, cx: &mut Cx<'_>, fault: &FaultSpec, start: bool) -> bool {
        // An instance's crash loses its batch (the fault is the service's; not claimed).
        if let (
            true,
            FaultSpec::Crash {
                service: Some(s),
                instance,
                ..
            },
        ) = (start, fault)
        {
            let measured = self.measured(cx.now);
            for (&(svc, i), b) in self.batches.iter_mut() {
                if self.services[svc as usize] == *s && instance.is_none_or(|x| x == i) {
                    self.lost_updates += std::mem::take(&mut b.pending) * measured;
                }
            }
        }
        false
    }

    fn close_interval(&mut self, _now: SimTime, interval_s: f64) {
        let waiting: usize = self.rows.iter().map(|r| r.waiters.len()).sum();
        let wait_p99 = if self.iv_waits.count() > 0 {
            self.iv_waits.quantile_ms(0.99)
        } else {
            f64::NAN
        };
        self.series_rows.push(vec![
            waiting as f64,
            self.iv_committed as f64 / interval_s,
            wait_p99,
        ]);
        self.iv_committed = 0;
        self.iv_waits.reset();
    }

    fn series(&self) -> ComponentSeries {
        ComponentSeries {
            key: format!("counter.{}", self.name),
            schema: &COUNTER,
            rows: self.series_rows.clone(),
        }
    }

    fn figures(&self, _now: SimTime, measured_s: f64) -> ComponentFigures {
        let granted = self.waits.count() > 0;
        ComponentFigures {
            key: format!("counter.{}", self.name),
            schema: &COUNTER,
            values: vec![
                self.committed as f64,
                self.lost_updates as f64,
                self.timeouts as f64,
                if granted {
                    self.waits.quantile_ms(0.99)
                } else {
                    f64::NAN
                },
                self.max_waiters as f64,
                if measured_s > 0.0 {
                    self.committed as f64 / measured_s
                } else {
                    f64::NAN
                },
                if granted {
                    self.waits.mean_ms()
                } else {
                    f64::NAN
                },
                self.leases_expired as f64,
                self.value as f64,
            ],
        }
    }

    fn warmup_over(&mut self, now: SimTime) {
        // What happened during the warm-up is not measured (the waiters peak is the run's).
        self.measured_from = now;
        self.waits.reset();
        self.committed = 0;
        self.lost_updates = 0;
        self.timeouts = 0;
        self.leases_expired = 0;
    }

    fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        for (i, r) in self.rows.iter().enumerate() {
            assert!(
                r.holder.is_some() || r.waiters.is_empty() || !self.locking,
                "counter {} row {i}: waiters behind a free lock",
                self.name
            );
        }
    }
}
