//! Named counter rows that live in a named database: its step is `Lock` (op 0). With
//! locking, an increment takes its row's lock (waiting in line, up to `wait_timeout`),
//! writes in the database (a step it asks the path for, so the write uses the database's
//! workers and connections) and unlocks; without, concurrent read-modify-writes of a row
//! overwrite each other (lost updates). Draws rows from its own stream, `"counter/<name>"`.

use rand::Rng;
use std::collections::{BTreeMap, VecDeque};

use crate::config::experiment::FaultSpec;
use crate::config::graph::CounterRowsSpec;
use crate::config::model::CounterSpec;
use crate::config::ModelSpec;
use crate::engine::{stream, SimTime, Stream};
use crate::graph::component::Component;
use crate::graph::components::database::WRITE;
use crate::graph::cx::{Cx, Notice};
use crate::graph::names::Names;
use crate::graph::registry::{Event, Kind};
use crate::metrics::latency::LatencyStats;
use crate::metrics::schema::{ComponentFigures, ComponentSeries, COUNTER};
use crate::system::request::{FailReason, Handle};

/// A counter's events.
#[derive(Clone, Copy, Debug)]
pub enum CounterEvent {
    /// `task`, waiting for row `row`'s lock, gives up.
    WaitTimeout { row: u32, task: Handle },
}

#[derive(Clone, Debug, Default)]
struct Row {
    holder: Option<Handle>,
    waiters: VecDeque<(Handle, SimTime)>,
    version: u64,
}

/// One counter.
pub struct Counter {
    index: u16,
    name: String,
    database: u16,
    rows: Vec<Row>,
    locking: bool,
    wait_timeout: SimTime,
    rng: Stream,
    /// Each writing task's row and the version it read.
    writing: BTreeMap<(u32, u32), (u32, u64)>,
    measured_from: SimTime,
    committed: u64,
    lost_updates: u64,
    timeouts: u64,
    waits: LatencyStats,
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
            rows: vec![Row::default(); n as usize],
            locking: spec.locking,
            wait_timeout: spec.wait_timeout.0,
            rng: stream(seed, &format!("counter/{name}")),
            writing: BTreeMap::new(),
            measured_from: SimTime::ZERO,
            committed: 0,
            lost_updates: 0,
            timeouts: 0,
            waits: LatencyStats::new(),
            max_waiters: 0,
            iv_committed: 0,
            series_rows: Vec::new(),
        }
    }

    /// `task` holds row `row` (its lock, or none when unlocked) and writes it.
    fn write(&mut self, cx: &mut Cx<'_>, task: Handle, row: u32) {
        let version = self.rows[row as usize].version;
        self.writing.insert(key_of(task), (row, version));
        cx.notify(Notice::Sub {
            task,
            kind: Kind::Db,
            index: self.database,
            op: WRITE,
            reply_kind: Kind::Counter,
            reply_index: self.index,
        });
    }

    fn grant_next(&mut self, cx: &mut Cx<'_>, row: u32) {
        let r = &mut self.rows[row as usize];
        r.holder = None;
        if let Some((next, since)) = r.waiters.pop_front() {
            r.holder = Some(next);
            if cx.now >= self.measured_from {
                self.waits.record(cx.now.since(since).0);
            }
            self.write(cx, next, row);
        }
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
        let CounterEvent::WaitTimeout { row, task } = event;
        let r = &mut self.rows[row as usize];
        if let Some(i) = r.waiters.iter().position(|(t, _)| *t == task) {
            r.waiters.remove(i);
            if cx.now >= self.measured_from {
                self.timeouts += 1;
            }
            cx.step_done(task, Err(FailReason::LockTimeout));
        }
    }

    fn step(&mut self, cx: &mut Cx<'_>, _op: u8, task: Handle, _arg: u64) {
        let row = if self.rows.len() > 1 {
            self.rng.random_range(0..self.rows.len() as u32)
        } else {
            0
        };
        if !self.locking {
            self.write(cx, task, row);
            return;
        }
        let r = &mut self.rows[row as usize];
        if r.holder.is_none() {
            r.holder = Some(task);
            if cx.now >= self.measured_from {
                self.waits.record(0);
            }
            self.write(cx, task, row);
        } else {
            r.waiters.push_back((task, cx.now));
            self.max_waiters = self.max_waiters.max(r.waiters.len());
            let ev = CounterEvent::WaitTimeout { row, task };
            cx.after(self.wait_timeout, Event::Counter(self.index, ev));
        }
    }

    fn reply(&mut self, cx: &mut Cx<'_>, task: Handle, result: Result<(), FailReason>) {
        let Some((row, read)) = self.writing.remove(&key_of(task)) else {
            return;
        };
        let measured = cx.now >= self.measured_from;
        if result.is_ok() {
            let r = &mut self.rows[row as usize];
            if r.version != read && !self.locking {
                // Another increment landed since this one read the row: it is overwritten.
                self.lost_updates += u64::from(measured);
            } else {
                self.committed += u64::from(measured);
                self.iv_committed += 1;
            }
            r.version += 1;
        }
        if self.locking {
            self.grant_next(cx, row);
        }
        cx.step_done(task, result);
    }

    fn fault(&mut self, _cx: &mut Cx<'_>, _fault: &FaultSpec, _start: bool) -> bool {
        false
    }

    fn close_interval(&mut self, _now: SimTime, interval_s: f64) {
        let waiting: usize = self.rows.iter().map(|r| r.waiters.len()).sum();
        self.series_rows
            .push(vec![waiting as f64, self.iv_committed as f64 / interval_s]);
        self.iv_committed = 0;
    }

    fn series(&self) -> ComponentSeries {
        ComponentSeries {
            key: format!("counter.{}", self.name),
            schema: &COUNTER,
            rows: self.series_rows.clone(),
        }
    }

    fn figures(&self, _now: SimTime, _measured_s: f64) -> ComponentFigures {
        ComponentFigures {
            key: format!("counter.{}", self.name),
            schema: &COUNTER,
            values: vec![
                self.committed as f64,
                self.lost_updates as f64,
                self.timeouts as f64,
                if self.waits.count() > 0 {
                    self.waits.quantile_ms(0.99)
                } else {
                    f64::NAN
                },
                self.max_waiters as f64,
            ],
        }
    }

    fn warmup_over(&mut self, now: SimTime) {
        self.measured_from = now;
        self.waits.reset();
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
