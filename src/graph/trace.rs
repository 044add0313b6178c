//! Request traces of a graph run, in the Chrome Trace Event format (for Perfetto and
//! chrome://tracing): `scalesim run --trace N` on a graph model. The spans are named
//! after the path's steps; the text, the sampling rule and the bounds are shared
//! (`output::trace_format`).
//!
//! Sampling: a request issued at or after the warm-up is sampled when the seeded hash of
//! its ordinal (the how-manieth request issued, over every population) picks it, until N
//! are sampled. The same seed samples the same requests every run.
//!
//! What a sampled request's track shows, nested in the order of the clock:
//! - `request` (args: ordinal, kind, population, user; at its end outcome and attempts),
//!   and in it one `attempt k` per try (its `result` when it failed), `backoff` spans
//!   between tries, and `retry` / `timeout` / `retry denied by the budget` markers;
//! - in an attempt, the visit to the path's first service, `service api` (from the send
//!   to the answer, so the network's delays are inside; args: instance, attempt,
//!   result), and in it `queue wait` (for a worker) then `work` (the service's own
//!   work), then the span of each step of the path that runs there:
//!   `call backend` (holding one `service backend` visit per attempt of the call, with
//!   `backoff` spans between), `db.main read` / `db.main write` (with a `connection wait`
//!   inside when the instance's connections to the database were all taken),
//!   `cache.products get` (a miss that reads the database shows that read inside it, and
//!   says `read_database: true`), `counter.x lock`, `topic.x produce`,
//!   `sessions.api check`, and `fan-out` for a `Parallel` step;
//! - a failure at a visit is a marker named after its reason (`error`, `rejected`, …).
//!
//! Fan-out branches run side by side, so they cannot nest on one track: each branch is a
//! track of its own ("request #n fan-out branch i"), sorted under its request, holding a
//! `branch i` span with the branch's steps; the parent track's `fan-out` span lasts until
//! the fan-out is decided (its `wait_for` met, or failed), and a branch still running
//! after that carries on on its own track.
//!
//! A caller that stops waiting (a client's or a calling service's timeout) does not
//! cancel the work: what is left of that visit moves to a track of its own, "request #n
//! attempt k after the client left" (or "… call backend attempt j after the caller
//! left"), under a span "attempt k (client left)" (or "call backend attempt j (caller
//! left)") that ends with the visit's outcome; so every track's spans nest and the
//! caller's attempts stay in order. Work whose caller's task is gone altogether (its
//! instance crashed, its deadline passed) is no longer drawn: its spans end with the task.
//!
//! Per service instance, a counter of busy workers while a sampled request (or work it
//! left behind) is in flight; faults are global instants.
//!
//! Cost: the run consults an `Option<Tracer>`; off, each touch point is one untaken
//! branch. On, every touch point is a map look-up by handle, and only sampled work writes.
//! Not drawn: a database's own queue wait and service time inside its step span (the
//! step span covers both), and the work topics deliver to their consumers (it belongs to
//! no client request).

use super::components::service::Service;
use super::registry::Kind;
use super::request::Origin;
use super::GraphSim;
use crate::config::RunConfig;
use crate::engine::SimTime;
use crate::graph::fail::FailReason;
use crate::graph::slab::Handle;
use crate::output::trace_format::{
    candidate, join_args, json_str, micros, TraceWriter, MAX_REQUESTS, PID_REQUESTS,
};
use std::collections::BTreeMap;

type Key = (u32, u32);
/// A span's id, unique in the run (its track may change when its caller leaves).
type SpanId = u64;

fn key(h: Handle) -> Key {
    (h.idx, h.gen)
}

/// A span opened and not yet closed on a track.
#[derive(Clone, Debug)]
struct Open {
    id: SpanId,
    name: String,
    /// Args learnt while it was open, written with its end (viewers merge them).
    close_args: String,
}

/// A request track, or a track of work a sampled request left or branched off.
#[derive(Clone, Debug, Default)]
struct Track {
    stack: Vec<Open>,
    /// The request's ordinal (for naming the tracks it branches off).
    ordinal: u64,
    /// The sort index of the request's own track (its other tracks sort just after).
    sort_base: u64,
    /// The latest time written on it (a queue wait learnt late never ends before it).
    last: SimTime,
}

/// A sampled request.
#[derive(Clone, Debug)]
struct RequestTrace {
    tid: u32,
    span: SpanId,
    attempt: Option<SpanId>,
    backoff: Option<SpanId>,
    attempt_no: u32,
}

/// A call a sampled request's task makes.
#[derive(Clone, Debug)]
struct CallTrace {
    span: SpanId,
    backoff: Option<SpanId>,
}

/// A visit (one attempt at one service) of a sampled request.
#[derive(Clone, Debug)]
struct VisitTrace {
    span: SpanId,
    /// Its `queue wait` or `work` span (true: work), while open.
    phase: Option<(SpanId, bool)>,
    /// The span wrapping what is left of it once its caller left.
    wrapper: Option<SpanId>,
    service: u16,
    attempt_no: u32,
    /// The calling service, for a call's visit.
    call_from: Option<u16>,
}

/// A task (a block of a path on a worker) of a sampled request.
#[derive(Clone, Debug, Default)]
struct TaskTrace {
    /// The span its steps open in: its visit's, or its branch's.
    anchor: SpanId,
    /// A fan-out branch: its track ends with it.
    branch: bool,
    /// Its open step spans, innermost last (a component's sub-step nests in the step).
    steps: Vec<SpanId>,
    /// Its `connection wait`, while open.
    conn_wait: Option<SpanId>,
    /// Its call and fan-out under way, forgotten when it ends.
    call: Option<Key>,
    fanout: Option<Key>,
}

/// A fan-out of a sampled request's task.
#[derive(Clone, Debug)]
struct FanoutTrace {
    span: SpanId,
}

/// The names spans are called by: every component's, by kind and index.
#[derive(Clone, Debug, Default)]
struct Labels {
    services: Vec<String>,
    databases: Vec<String>,
    caches: Vec<String>,
    counters: Vec<String>,
    topics: Vec<String>,
    sessions: Vec<String>,
    kinds: Vec<String>,
    populations: Vec<String>,
}

impl Labels {
    fn of(cfg: &RunConfig) -> Labels {
        let m = &cfg.model;
        Labels {
            services: m.services.keys().cloned().collect(),
            databases: m.databases.keys().cloned().collect(),
            caches: m.caches.keys().cloned().collect(),
            counters: m.counters.keys().cloned().collect(),
            topics: m.queues.keys().cloned().collect(),
            sessions: m
                .services
                .iter()
                .filter(|(_, s)| s.sessions.is_some())
                .map(|(n, _)| n.clone())
                .collect(),
            kinds: m.requests.keys().cloned().collect(),
            populations: cfg.spec.populations.keys().cloned().collect(),
        }
    }

    /// The span of component step `op` of (`kind`, `index`).
    fn step(&self, kind: Kind, index: u16, op: u8) -> String {
        use crate::graph::components::{counter, database};
        let i = index as usize;
        let name = |v: &Vec<String>| v.get(i).cloned().unwrap_or_default();
        match kind {
            Kind::Db if op == database::WRITE => format!("db.{} write", name(&self.databases)),
            Kind::Db => format!("db.{} read", name(&self.databases)),
            Kind::Cache => format!("cache.{} get", name(&self.caches)),
            Kind::Counter if op == counter::FLUSH => {
                format!("counter.{} flush", name(&self.counters))
            }
            Kind::Counter => format!("counter.{} lock", name(&self.counters)),
            Kind::Topic => format!("topic.{} produce", name(&self.topics)),
            Kind::Sessions => format!("sessions.{} check", name(&self.sessions)),
            Kind::Service => format!("service {}", name(&self.services)),
        }
    }

    fn service(&self, index: u16) -> &str {
        self.services.get(index as usize).map_or("", String::as_str)
    }
}

/// The tracer of one graph run: the sampled requests, their open spans and the text.
pub struct Tracer {
    wanted: u32,
    sampled: u32,
    seed: u64,
    warmup: SimTime,
    ordinal: u64,
    next_tid: u32,
    next_span: SpanId,
    labels: Labels,
    /// Each open span's track.
    spans: BTreeMap<SpanId, u32>,
    tracks: BTreeMap<u32, Track>,
    /// Tracks branched off each request so far, by the request's sort index.
    subtracks: BTreeMap<u64, u64>,
    requests: BTreeMap<Key, RequestTrace>,
    calls: BTreeMap<Key, CallTrace>,
    visits: BTreeMap<Key, VisitTrace>,
    tasks: BTreeMap<Key, TaskTrace>,
    fanouts: BTreeMap<Key, FanoutTrace>,
    w: TraceWriter,
    /// Busy workers last written per service and instance (empty while nothing sampled
    /// is in flight).
    last_busy: Vec<Vec<Option<u32>>>,
}

impl Tracer {
    /// A tracer that samples `wanted` requests of the run of `cfg` issued at or after its
    /// warm-up.
    pub fn new(cfg: &RunConfig, wanted: u32) -> Tracer {
        Tracer {
            wanted: wanted.min(MAX_REQUESTS),
            sampled: 0,
            seed: cfg.seed(),
            warmup: cfg.spec.warmup.0,
            ordinal: 0,
            next_tid: 1,
            next_span: 1,
            labels: Labels::of(cfg),
            spans: BTreeMap::new(),
            tracks: BTreeMap::new(),
            subtracks: BTreeMap::new(),
            requests: BTreeMap::new(),
            calls: BTreeMap::new(),
            visits: BTreeMap::new(),
            tasks: BTreeMap::new(),
            fanouts: BTreeMap::new(),
            w: TraceWriter::new(),
            last_busy: Vec::new(),
        }
    }

    // ---- tracks and spans -------------------------------------------------------------

    /// A new track named `name`: a request's own (`of` None), or one branched off the
    /// request whose track is `of`.
    fn new_track(&mut self, name: &str, of: Option<u32>) -> u32 {
        let tid = self.next_tid;
        self.next_tid += 1;
        let (ordinal, sort_base, sort) = match of.and_then(|t| self.tracks.get(&t)) {
            Some(parent) => {
                let n = self.subtracks.entry(parent.sort_base).or_insert(0);
                *n += 1;
                let sort = parent.sort_base + (*n).min(999);
                (parent.ordinal, parent.sort_base, sort)
            }
            None => (self.ordinal - 1, tid as u64 * 1000, tid as u64 * 1000),
        };
        self.w.name_track(tid, name, sort);
        self.tracks.insert(
            tid,
            Track {
                stack: Vec::new(),
                ordinal,
                sort_base,
                last: SimTime::ZERO,
            },
        );
        tid
    }

    /// Begins span `name` on top of track `tid`.
    fn open(&mut self, now: SimTime, tid: u32, name: String, args: String) -> SpanId {
        let id = self.next_span;
        self.next_span += 1;
        self.w.span_event('B', now, tid, name.clone(), args);
        let track = self.tracks.entry(tid).or_default();
        track.last = track.last.max(now);
        track.stack.push(Open {
            id,
            name,
            close_args: String::new(),
        });
        self.spans.insert(id, tid);
        id
    }

    /// Begins span `name` inside `parent` (spans still open above the parent end first,
    /// so the track stays nested), or nothing when the parent has ended.
    fn open_in(
        &mut self,
        now: SimTime,
        parent: SpanId,
        name: String,
        args: String,
    ) -> Option<SpanId> {
        let tid = *self.spans.get(&parent)?;
        self.close_above(now, parent, "");
        Some(self.open(now, tid, name, args))
    }

    /// Where span `id` is: its track and its depth there.
    fn find(&self, id: SpanId) -> Option<(u32, usize)> {
        let tid = *self.spans.get(&id)?;
        let depth = self
            .tracks
            .get(&tid)?
            .stack
            .iter()
            .position(|o| o.id == id)?;
        Some((tid, depth))
    }

    /// Ends span `id` (and whatever is still open inside it) with `extra` in its args.
    fn close(&mut self, now: SimTime, id: SpanId, extra: &str) {
        if let Some((tid, depth)) = self.find(id) {
            self.close_from(now, tid, depth, extra);
        }
    }

    /// Ends what is open inside span `id`, leaving it open.
    fn close_above(&mut self, now: SimTime, id: SpanId, extra: &str) {
        if let Some((tid, depth)) = self.find(id) {
            self.close_from(now, tid, depth + 1, extra);
        }
    }

    /// Ends the spans of track `tid` from `depth` up, the innermost first; the one at
    /// `depth` gets `extra` in its args.
    fn close_from(&mut self, now: SimTime, tid: u32, depth: usize, extra: &str) {
        let Some(track) = self.tracks.get_mut(&tid) else {
            return;
        };
        if track.stack.len() <= depth {
            return;
        }
        track.last = track.last.max(now);
        let closed: Vec<Open> = track.stack.drain(depth..).collect();
        for (i, o) in closed.into_iter().enumerate().rev() {
            self.spans.remove(&o.id);
            let args = if i == 0 {
                join_args(o.close_args, extra)
            } else {
                o.close_args
            };
            self.w.span_event('E', now, tid, o.name, args);
        }
        if self.tracks.get(&tid).is_some_and(|t| t.stack.is_empty()) {
            self.tracks.remove(&tid);
        }
    }

    /// Adds `args` to what span `id` says when it ends.
    fn add_close_args(&mut self, id: SpanId, args: &str) {
        if let Some((tid, depth)) = self.find(id) {
            if let Some(o) = self
                .tracks
                .get_mut(&tid)
                .and_then(|t| t.stack.get_mut(depth))
            {
                o.close_args = join_args(std::mem::take(&mut o.close_args), args);
            }
        }
    }

    fn instant_on(&mut self, now: SimTime, span: SpanId, name: &str, args: String) {
        if let Some(&tid) = self.spans.get(&span) {
            self.w.instant(now, PID_REQUESTS, tid, name, args, 't');
        }
    }

    // ---- requests and their attempts ---------------------------------------------------

    /// A request is issued: it is sampled (and gets its track) if the rule picks it.
    pub fn request_issued(
        &mut self,
        now: SimTime,
        request: Handle,
        population: u16,
        user: Option<u32>,
        kind: u16,
    ) {
        let ordinal = self.ordinal;
        self.ordinal += 1;
        if now < self.warmup || self.sampled >= self.wanted || self.w.truncated() {
            return;
        }
        if !candidate(self.seed, ordinal) {
            return;
        }
        self.sampled += 1;
        let tid = self.new_track(&format!("request #{ordinal}"), None);
        let label =
            |v: &Vec<String>, i: u16| json_str(v.get(i as usize).map_or("", |s| s.as_str()));
        let who = user.map_or(String::new(), |u| format!(",\"user\":{u}"));
        let args = format!(
            "\"ordinal\":{ordinal},\"kind\":{},\"population\":{}{who}",
            label(&self.labels.kinds, kind),
            label(&self.labels.populations, population)
        );
        let span = self.open(now, tid, "request".into(), args);
        self.requests.insert(
            key(request),
            RequestTrace {
                tid,
                span,
                attempt: None,
                backoff: None,
                attempt_no: 0,
            },
        );
    }

    /// The client sends attempt `attempt_no` (its backoff, if any, is over).
    pub fn attempt_sent(&mut self, now: SimTime, request: Handle, attempt_no: u32) {
        let Some(r) = self.requests.get_mut(&key(request)) else {
            return;
        };
        r.attempt_no = attempt_no;
        let (span, backoff) = (r.span, r.backoff.take());
        if let Some(b) = backoff {
            self.close(now, b, "");
        }
        let a = self.open_in(now, span, format!("attempt {attempt_no}"), String::new());
        if let Some(r) = self.requests.get_mut(&key(request)) {
            r.attempt = a;
        }
    }

    /// The client's current attempt failed with `reason` (a timeout, or the answer).
    pub fn attempt_failed(&mut self, now: SimTime, request: Handle, reason: FailReason) {
        let Some(r) = self.requests.get_mut(&key(request)) else {
            return;
        };
        let (tid, attempt, attempt_no) = (r.tid, r.attempt.take(), r.attempt_no);
        if reason == FailReason::Timeout {
            let args = format!("\"attempt\":{attempt_no}");
            self.w.instant(now, PID_REQUESTS, tid, "timeout", args, 't');
        }
        if let Some(a) = attempt {
            self.close(now, a, &format!("\"result\":{}", json_str(reason.name())));
        }
    }

    /// The client will send its next attempt after `wait`.
    pub fn backoff(&mut self, now: SimTime, request: Handle, wait: SimTime) {
        let Some(r) = self.requests.get(&key(request)) else {
            return;
        };
        let (tid, span, next) = (r.tid, r.span, r.attempt_no + 1);
        let args = format!("\"next_attempt\":{next},\"backoff_us\":{}", micros(wait.0));
        self.w.instant(now, PID_REQUESTS, tid, "retry", args, 't');
        let b = self.open_in(now, span, "backoff".into(), String::new());
        if let Some(r) = self.requests.get_mut(&key(request)) {
            r.backoff = b;
        }
    }

    /// An instant marker `what` on the request's track.
    pub fn mark(&mut self, now: SimTime, request: Handle, what: &str) {
        if let Some(tid) = self.requests.get(&key(request)).map(|r| r.tid) {
            self.w
                .instant(now, PID_REQUESTS, tid, what, String::new(), 't');
        }
    }

    /// The request ends: succeeded (`outcome` "ok") or failed with the reason named.
    pub fn request_ended(&mut self, now: SimTime, request: Handle, outcome: &str) {
        let Some(r) = self.requests.remove(&key(request)) else {
            return;
        };
        if let Some(a) = r.attempt {
            self.close(now, a, &format!("\"result\":{}", json_str(outcome)));
        }
        let extra = format!(
            "\"outcome\":{},\"attempts\":{}",
            json_str(outcome),
            r.attempt_no
        );
        self.close(now, r.span, &extra);
    }

    // ---- visits ------------------------------------------------------------------------

    /// A visit to `service` is sent for `origin` (its attempt `attempt_no`).
    pub fn visit_sent(
        &mut self,
        now: SimTime,
        visit: Handle,
        origin: Origin,
        service: u16,
        attempt_no: u32,
        call_from: Option<u16>,
    ) {
        let parent = match origin {
            Origin::Request(r) => self.requests.get(&key(r)).and_then(|r| r.attempt),
            Origin::Call(c) => {
                let Some(c) = self.calls.get_mut(&key(c)) else {
                    return;
                };
                let (span, backoff) = (c.span, c.backoff.take());
                if let Some(b) = backoff {
                    self.close(now, b, "");
                }
                Some(span)
            }
            Origin::Component { .. } => None,
        };
        let Some(parent) = parent else {
            return;
        };
        let name = format!("service {}", self.labels.service(service));
        let args = format!("\"attempt\":{attempt_no}");
        if let Some(span) = self.open_in(now, parent, name, args) {
            self.visits.insert(
                key(visit),
                VisitTrace {
                    span,
                    phase: None,
                    wrapper: None,
                    service,
                    attempt_no,
                    call_from,
                },
            );
        }
    }

    /// The balancer placed the visit on `instance`: it waits for a worker.
    pub fn visit_placed(&mut self, now: SimTime, visit: Handle, instance: u32) {
        let Some(span) = self.visits.get(&key(visit)).map(|v| v.span) else {
            return;
        };
        self.add_close_args(span, &format!("\"instance\":{instance}"));
        let phase = self.open_in(now, span, "queue wait".into(), String::new());
        if let Some(v) = self.visits.get_mut(&key(visit)) {
            v.phase = phase.map(|p| (p, false));
        }
    }

    /// A worker took the visit at `started` (if it did): its queue wait ends there and
    /// its work begins.
    fn work_began(&mut self, visit: Handle, started: Option<SimTime>) {
        let Some(v) = self.visits.get(&key(visit)) else {
            return;
        };
        let (Some((phase, false)), Some(at)) = (v.phase, started) else {
            return;
        };
        let span = v.span;
        // Learnt after the fact: never before what its track already shows (exact but
        // for a visit moved with its caller's, whose own caller did not leave).
        let last = self.spans.get(&phase).and_then(|t| self.tracks.get(t));
        let at = at.max(last.map_or(SimTime::ZERO, |t| t.last));
        self.close(at, phase, "");
        let work = self.open_in(at, span, "work".into(), String::new());
        if let Some(v) = self.visits.get_mut(&key(visit)) {
            v.phase = work.map(|w| (w, true));
        }
    }

    /// The visit's time at its instance before the path's steps is over (its work is
    /// done, or it failed there): `started` is when a worker took it, if one did.
    pub fn visit_phase_over(&mut self, now: SimTime, visit: Handle, started: Option<SimTime>) {
        self.work_began(visit, started);
        if let Some(v) = self.visits.get_mut(&key(visit)) {
            if let Some((p, _)) = v.phase.take() {
                self.close(now, p, "");
            }
        }
    }

    /// The visits drawn inside `visit`'s span (itself included): they move with it when
    /// its caller leaves.
    pub fn visits_within(&self, visit: Handle) -> Vec<Handle> {
        let Some((tid, depth)) = self.visits.get(&key(visit)).and_then(|v| self.find(v.span))
        else {
            return Vec::new();
        };
        self.visits
            .iter()
            .filter(|(_, v)| {
                self.find(v.span)
                    .is_some_and(|(t, d)| t == tid && d >= depth)
            })
            .map(|(&(idx, gen), _)| Handle { idx, gen })
            .collect()
    }

    /// A worker took `visit` at `started`, if one did (learnt before its spans move).
    pub fn work_began_at(&mut self, visit: Handle, started: Option<SimTime>) {
        self.work_began(visit, started);
    }

    /// The visit's caller stopped waiting for it: what is left of it moves to a track of
    /// its own (call [`Tracer::work_began_at`] first for each of
    /// [`Tracer::visits_within`] it).
    pub fn caller_left(&mut self, now: SimTime, visit: Handle) {
        let Some(v) = self.visits.get(&key(visit)).cloned() else {
            return;
        };
        if v.wrapper.is_some() {
            return;
        }
        let Some((tid, depth)) = self.find(v.span) else {
            return;
        };
        let Some(track) = self.tracks.get_mut(&tid) else {
            return;
        };
        let moved: Vec<Open> = track.stack[depth..].to_vec();
        let ordinal = track.ordinal;
        self.close_from(now, tid, depth, "\"caller_left\":true");
        let (track_name, wrapper_name) = match v.call_from {
            None => (
                format!(
                    "request #{ordinal} attempt {} after the client left",
                    v.attempt_no
                ),
                format!("attempt {} (client left)", v.attempt_no),
            ),
            Some(_) => {
                let svc = self.labels.service(v.service);
                (
                    format!(
                        "request #{ordinal} call {svc} attempt {} after the caller left",
                        v.attempt_no
                    ),
                    format!("call {svc} attempt {} (caller left)", v.attempt_no),
                )
            }
        };
        let new = self.new_track(&track_name, Some(tid));
        let wrapper = self.open(now, new, wrapper_name, String::new());
        for o in moved {
            // The same spans, under their ids, go on on the new track.
            self.w
                .span_event('B', now, new, o.name.clone(), String::new());
            self.spans.insert(o.id, new);
            self.tracks.entry(new).or_default().stack.push(o);
        }
        if let Some(v) = self.visits.get_mut(&key(visit)) {
            v.wrapper = Some(wrapper);
        }
    }

    /// The visit's answer reached its caller (or would have, had it still waited).
    pub fn visit_answered(&mut self, now: SimTime, visit: Handle, result: Result<(), FailReason>) {
        let Some(v) = self.visits.remove(&key(visit)) else {
            return;
        };
        let outcome = match result {
            Ok(()) => "ok",
            Err(r) => r.name(),
        };
        if result.is_err() && result != Err(FailReason::Timeout) {
            // (A timeout is its caller's own marker.)
            let args = format!("\"attempt\":{}", v.attempt_no);
            self.instant_on(now, v.span, outcome, args);
        }
        self.close(now, v.span, &format!("\"result\":{}", json_str(outcome)));
        if let Some(w) = v.wrapper {
            self.close(now, w, &format!("\"outcome\":{}", json_str(outcome)));
        }
    }

    // ---- tasks and their steps ---------------------------------------------------------

    /// The visit's worker runs the rest of its block as `task`.
    pub fn task_started(&mut self, task: Handle, visit: Handle) {
        if let Some(v) = self.visits.get(&key(visit)) {
            let t = TaskTrace {
                anchor: v.span,
                ..Default::default()
            };
            self.tasks.insert(key(task), t);
        }
    }

    /// The span new spans of `task` open in.
    fn task_top(&self, task: Handle) -> Option<SpanId> {
        let t = self.tasks.get(&key(task))?;
        Some(t.steps.last().copied().unwrap_or(t.anchor))
    }

    /// The task begins component step `op` of (`kind`, `index`) (inside the step it is
    /// on, when a component asked for this one: a cache miss reading its database).
    pub fn step_started(&mut self, now: SimTime, task: Handle, kind: Kind, index: u16, op: u8) {
        let Some(top) = self.task_top(task) else {
            return;
        };
        let nested = self
            .tasks
            .get(&key(task))
            .is_some_and(|t| !t.steps.is_empty());
        if nested {
            self.add_close_args(top, "\"read_database\":true");
        }
        let name = self.labels.step(kind, index, op);
        if let Some(s) = self.open_in(now, top, name, String::new()) {
            if let Some(t) = self.tasks.get_mut(&key(task)) {
                t.steps.push(s);
            }
        }
    }

    /// The task waits for a connection of its instance to the database.
    pub fn connection_wait(&mut self, now: SimTime, task: Handle) {
        let Some(top) = self.task_top(task) else {
            return;
        };
        let w = self.open_in(now, top, "connection wait".into(), String::new());
        if let Some(t) = self.tasks.get_mut(&key(task)) {
            t.conn_wait = w;
        }
    }

    /// The task got its connection.
    pub fn connected(&mut self, now: SimTime, task: Handle) {
        if let Some(w) = self
            .tasks
            .get_mut(&key(task))
            .and_then(|t| t.conn_wait.take())
        {
            self.close(now, w, "");
        }
    }

    /// The task's innermost step ended.
    pub fn step_ended(&mut self, now: SimTime, task: Handle, result: Result<(), FailReason>) {
        let Some(s) = self.tasks.get_mut(&key(task)).and_then(|t| t.steps.pop()) else {
            return;
        };
        let extra = match result {
            Ok(()) => String::new(),
            Err(r) => format!("\"result\":{}", json_str(r.name())),
        };
        self.close(now, s, &extra);
    }

    /// The task calls `service` with `call`.
    pub fn call_started(&mut self, now: SimTime, task: Handle, call: Handle, service: u16) {
        let Some(top) = self.task_top(task) else {
            return;
        };
        let name = format!("call {}", self.labels.service(service));
        if let Some(span) = self.open_in(now, top, name, String::new()) {
            self.calls.insert(
                key(call),
                CallTrace {
                    span,
                    backoff: None,
                },
            );
            if let Some(t) = self.tasks.get_mut(&key(task)) {
                t.call = Some(key(call));
            }
        }
    }

    /// The calling service will send the call's next attempt after `wait`.
    pub fn call_backoff(&mut self, now: SimTime, call: Handle, next: u32, wait: SimTime) {
        let Some(span) = self.calls.get(&key(call)).map(|c| c.span) else {
            return;
        };
        let args = format!("\"next_attempt\":{next},\"backoff_us\":{}", micros(wait.0));
        self.instant_on(now, span, "retry", args);
        let b = self.open_in(now, span, "backoff".into(), String::new());
        if let Some(c) = self.calls.get_mut(&key(call)) {
            c.backoff = b;
        }
    }

    /// The task runs `branches` blocks side by side as `fanout`, going on after `need`.
    pub fn fanout_started(
        &mut self,
        now: SimTime,
        task: Handle,
        fanout: Handle,
        branches: u16,
        need: u16,
    ) {
        let Some(top) = self.task_top(task) else {
            return;
        };
        let args = format!("\"branches\":{branches},\"wait_for\":{need}");
        if let Some(span) = self.open_in(now, top, "fan-out".into(), args) {
            self.fanouts.insert(key(fanout), FanoutTrace { span });
            if let Some(t) = self.tasks.get_mut(&key(task)) {
                t.fanout = Some(key(fanout));
            }
        }
    }

    /// Branch `i` of `fanout` runs as `task`, on a track of its own.
    pub fn branch_started(&mut self, now: SimTime, fanout: Handle, task: Handle, i: u32) {
        let Some(span) = self.fanouts.get(&key(fanout)).map(|f| f.span) else {
            return;
        };
        let Some(&parent_tid) = self.spans.get(&span) else {
            return;
        };
        let ordinal = self.tracks.get(&parent_tid).map_or(0, |t| t.ordinal);
        let tid = self.new_track(
            &format!("request #{ordinal} fan-out branch {i}"),
            Some(parent_tid),
        );
        let anchor = self.open(now, tid, format!("branch {i}"), String::new());
        let t = TaskTrace {
            anchor,
            branch: true,
            ..Default::default()
        };
        self.tasks.insert(key(task), t);
    }

    /// The fan-out is decided: enough branches succeeded (`ok`), or too many failed.
    pub fn fanout_resolved(&mut self, now: SimTime, fanout: Handle, ok: bool) {
        if let Some(f) = self.fanouts.remove(&key(fanout)) {
            let result = if ok { "ok" } else { "failed" };
            self.close(now, f.span, &format!("\"result\":\"{result}\""));
        }
    }

    /// The task's block ended (or it was dropped): what it still has open ends, and a
    /// branch's track with it.
    pub fn task_ended(&mut self, now: SimTime, task: Handle, result: Result<(), FailReason>) {
        let Some(t) = self.tasks.remove(&key(task)) else {
            return;
        };
        if let Some(c) = t.call {
            self.calls.remove(&c);
        }
        if let Some(f) = t.fanout {
            self.fanouts.remove(&f);
        }
        let outcome = match result {
            Ok(()) => "ok",
            Err(r) => r.name(),
        };
        let extra = format!("\"result\":{}", json_str(outcome));
        if t.branch {
            self.close(now, t.anchor, &extra);
        } else {
            self.close_above(now, t.anchor, if result.is_ok() { "" } else { &extra });
        }
    }

    // ---- the run -----------------------------------------------------------------------

    /// A fault starts or ends: a global marker.
    pub fn fault(&mut self, now: SimTime, start: bool, spec: &serde_json::Value) {
        self.w.fault(now, start, spec);
    }

    /// Writes each service instance's busy workers when they changed, while a sampled
    /// request (or work left by one) is in flight; called after every event.
    pub fn sample_busy(&mut self, now: SimTime, services: &[Service]) {
        if self.requests.is_empty() && self.visits.is_empty() || self.w.truncated() {
            self.last_busy.clear();
            return;
        }
        self.last_busy.resize_with(services.len(), Vec::new);
        for (s, service) in services.iter().enumerate() {
            for (i, busy) in service.busy_by_instance().enumerate() {
                let last = &mut self.last_busy[s];
                if last.len() <= i {
                    last.resize(i + 1, None);
                }
                if last[i] != Some(busy) {
                    last[i] = Some(busy);
                    let name = format!("{} instance {i} busy workers", self.labels.services[s]);
                    self.w.busy_counter(now, name, busy);
                }
            }
        }
    }

    /// Closes every span still open at the end of the run (marked `unfinished`) and
    /// returns the trace as Chrome Trace Event JSON.
    pub fn finish(mut self, now: SimTime) -> String {
        let tids: Vec<u32> = self.tracks.keys().copied().collect();
        for tid in tids {
            let depth = self.tracks.get(&tid).map_or(0, |t| t.stack.len());
            // One at a time, the innermost first, so that each is marked.
            for d in (0..depth).rev() {
                self.close_from(now, tid, d, "\"unfinished\":true");
            }
        }
        self.w.finish(self.sampled)
    }
}

impl GraphSim {
    /// When a worker took `visit`, if one has (for the tracer's queue wait).
    pub(super) fn work_started(&self, visit: Handle) -> Option<SimTime> {
        let v = self.visits.get(visit)?;
        let placed = v.placed?;
        self.components.services[v.service as usize].work_started(placed.job)
    }

    /// The tracer hears that the caller of `visit` stopped waiting for it.
    #[inline]
    pub(super) fn trace_caller_left(&mut self, now: SimTime, visit: Handle) {
        let Some(t) = &self.tracer else {
            return;
        };
        let within = t.visits_within(visit);
        let started: Vec<_> = within.iter().map(|&v| self.work_started(v)).collect();
        if let Some(t) = &mut self.tracer {
            for (v, at) in within.into_iter().zip(started) {
                t.work_began_at(v, at);
            }
            t.caller_left(now, visit);
        }
    }

    /// The tracer hears that `visit`'s time at its instance before its steps is over.
    #[inline]
    pub(super) fn trace_phase_over(&mut self, now: SimTime, visit: Handle) {
        if self.tracer.is_some() {
            let started = self.work_started(visit);
            if let Some(t) = &mut self.tracer {
                t.visit_phase_over(now, visit, started);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load_experiment, Override};

    /// The call chain, traced from `warmup` with the text bounded at `max_bytes`.
    fn traced(max_bytes: usize, wanted: u32) -> (String, u32) {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/retry_chain.ron");
        let sets: Vec<Override> = ["warmup=19.9s", "duration=29s"]
            .iter()
            .map(|s| Override::parse_flag(s).unwrap())
            .collect();
        let exp = load_experiment(&path, &sets).unwrap();
        let cfg = &exp.runs[0];
        let mut sim = GraphSim::new(cfg);
        let mut t = Tracer::new(cfg, wanted);
        t.w.max_bytes = max_bytes;
        sim.tracer = Some(t);
        sim.start();
        let out = sim.run(cfg).unwrap();
        let text = out.trace.unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let sampled = doc["otherData"]["sampled_requests"].as_u64().unwrap() as u32;
        (text, sampled)
    }

    #[test]
    fn a_full_trace_samples_no_more_and_still_closes_every_span() {
        let (whole, all) = traced(crate::output::trace_format::MAX_TRACE_BYTES, 200);
        assert_eq!(all, 200);
        assert!(whole.contains("\"truncated\":false"));
        let (text, sampled) = traced(50_000, 200);
        assert!(text.contains("\"truncated\":true"));
        assert!(sampled > 0 && sampled < 200, "{sampled}");
        // The limit stops sampling, not the spans of requests already sampled.
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let events = doc["traceEvents"].as_array().unwrap();
        let count = |ph: &str| events.iter().filter(|e| e["ph"] == ph).count();
        assert_eq!(count("B"), count("E"));
        let requests = events
            .iter()
            .filter(|e| e["name"] == "request" && e["ph"] == "E")
            .count();
        assert_eq!(requests as u32, sampled);
        // Past the limit the text grows only by the closing of what was sampled.
        assert!(
            text.len() < whole.len() / 2,
            "{} vs {}",
            text.len(),
            whole.len()
        );
    }
}
