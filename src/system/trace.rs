//! Request traces in the Chrome Trace Event format, for Perfetto and chrome://tracing.
//!
//! `scalesim run --trace N` samples N requests and records what happened to each, as begin
//! and end events written in the order of the clock: one track
//! per request with a `request` span, an `attempt k` span per try, inside it the attempt's
//! phases at the node (`queue wait`, `service`, `session store`, `cache`, `lock wait`,
//! `database`), `backoff` spans between attempts, and instant markers for timeouts, retries
//! and failures; one counter per instance with its busy workers while sampled requests are
//! in flight; faults as global instants.
//!
//! A client that stops waiting (a timeout) does not cancel the server's work: what is left
//! of that attempt moves to a track of its own, "attempt k after the client left", so every
//! track's spans nest and the request's attempts stay in order.
//!
//! Sampling is a seeded rule on the request's ordinal (the how-manieth request issued), not
//! on event order: a request issued at or after the warm-up is sampled when the hash of
//! (seed, ordinal) falls in one bucket of [`SAMPLE_ONE_IN`], until N are sampled. The same
//! seed samples the same requests every run; open-loop variants of one experiment issue the
//! same requests in the same order, so they sample the same ones too.
//!
//! The text, the sampling rule and the bounds are shared with the graph engine's tracer
//! (`graph::trace`) in `output::trace_format`.
//!
//! Events are written to the JSON text as they happen (a span when it closes), so the
//! trace costs its own size in memory and little more. That size is bounded: at most
//! [`MAX_REQUESTS`] requests, and once the text reaches [`MAX_TRACE_BYTES`] no new request is
//! sampled and the counters stop (the spans of requests already sampled still close);
//! `otherData.truncated` says so.

use super::node::Node;
use super::request::Handle;
use crate::engine::SimTime;
use crate::output::trace_format::{
    candidate, join_args, json_str, micros, TraceWriter, PID_REQUESTS,
};
use std::collections::BTreeMap;

pub use crate::output::trace_format::{MAX_REQUESTS, MAX_TRACE_BYTES, SAMPLE_ONE_IN};

/// A span opened and not yet closed on a track.
#[derive(Clone, Debug)]
struct Open {
    name: String,
    /// Args learnt while it was open, written with its end (viewers merge them).
    close_args: String,
}

/// A sampled request.
#[derive(Clone, Debug)]
struct RequestTrace {
    tid: u32,
    ordinal: u64,
    attempt_no: u32,
    /// Its latest attempt at a node, if the node has it.
    current: Option<Handle>,
}

/// An attempt of a sampled request, while a node has it.
#[derive(Clone, Debug)]
struct AttemptTrace {
    /// The track it is drawn on (the request's, or its own once the client left).
    tid: u32,
    /// Depth of its phase span on that track.
    phase_depth: usize,
    request_tid: u32,
    ordinal: u64,
    attempt_no: u32,
}

/// The tracer of one run: the sampled requests, their open spans and the event buffer.
pub struct Tracer {
    wanted: u32,
    sampled: u32,
    seed: u64,
    warmup: SimTime,
    ordinal: u64,
    next_tid: u32,
    requests: BTreeMap<(u32, u32), RequestTrace>,
    attempts: BTreeMap<(u32, u32), AttemptTrace>,
    tracks: BTreeMap<u32, Vec<Open>>,
    /// The JSON text so far.
    w: TraceWriter,
    /// Busy workers last written per instance (empty while no sampled request is in flight).
    last_busy: Vec<Option<u32>>,
}

fn key(h: Handle) -> (u32, u32) {
    (h.idx, h.gen)
}

impl Tracer {
    /// A tracer that samples `wanted` requests issued at or after `warmup` in run `seed`.
    pub fn new(wanted: u32, seed: u64, warmup: SimTime) -> Tracer {
        Tracer {
            wanted: wanted.min(MAX_REQUESTS),
            sampled: 0,
            seed,
            warmup,
            ordinal: 0,
            next_tid: 1,
            requests: BTreeMap::new(),
            attempts: BTreeMap::new(),
            tracks: BTreeMap::new(),
            w: TraceWriter::new(),
            last_busy: Vec::new(),
        }
    }

    fn instant(&mut self, now: SimTime, pid: u32, tid: u32, name: &str, args: String, scope: char) {
        self.w.instant(now, pid, tid, name, args, scope);
    }

    /// Begins a span on track `tid` (written at once: the events of a track are in the
    /// order of the clock, as the format asks of begin and end events).
    fn open(&mut self, now: SimTime, tid: u32, name: String, args: String) {
        self.w.span_event('B', now, tid, name.clone(), args);
        self.tracks.entry(tid).or_default().push(Open {
            name,
            close_args: String::new(),
        });
    }

    /// Closes the spans of track `tid` deeper than `depth` (the innermost first), adding
    /// `extra` to the args of the one at `depth` itself.
    fn close_to(&mut self, now: SimTime, tid: u32, depth: usize, extra: &str) {
        let Some(stack) = self.tracks.get_mut(&tid) else {
            return;
        };
        let mut closed = Vec::new();
        while stack.len() > depth {
            let o = stack.pop().expect("non-empty");
            let last = stack.len() == depth;
            closed.push((o, last));
        }
        if stack.is_empty() {
            self.tracks.remove(&tid);
        }
        for (o, last) in closed {
            let args = if last {
                join_args(o.close_args, extra)
            } else {
                o.close_args
            };
            self.w.span_event('E', now, tid, o.name, args);
        }
    }

    fn depth(&self, tid: u32) -> usize {
        self.tracks.get(&tid).map_or(0, |s| s.len())
    }

    /// A request is issued: it is sampled (and gets its track) if the rule picks it.
    pub fn request_issued(&mut self, now: SimTime, request: Handle, user: u32, kind: u8) {
        let ordinal = self.ordinal;
        self.ordinal += 1;
        if now < self.warmup || self.sampled >= self.wanted || self.w.truncated() {
            return;
        }
        if !candidate(self.seed, ordinal) {
            return;
        }
        self.sampled += 1;
        let tid = self.next_tid;
        self.next_tid += 1;
        self.w
            .name_track(tid, &format!("request #{ordinal}"), tid as u64 * 1000);
        let who = if user == super::request::NO_USER {
            String::new()
        } else {
            format!(",\"user\":{user}")
        };
        self.open(
            now,
            tid,
            "request".into(),
            format!("\"ordinal\":{ordinal},\"kind\":{kind}{who}"),
        );
        self.requests.insert(
            key(request),
            RequestTrace {
                tid,
                ordinal,
                attempt_no: 0,
                current: None,
            },
        );
    }

    /// The client sends attempt `attempt_no` (its backoff, if any, is over).
    pub fn attempt_sent(&mut self, now: SimTime, request: Handle, attempt_no: u32) {
        let Some(r) = self.requests.get_mut(&key(request)) else {
            return;
        };
        r.attempt_no = attempt_no;
        r.current = None;
        let tid = r.tid;
        self.close_to(now, tid, 1, "");
        self.open(now, tid, format!("attempt {attempt_no}"), String::new());
    }

    /// The node `node` has the request's attempt `attempt` (queued or in service).
    pub fn attempt_created(&mut self, request: Handle, attempt: Handle, node: u32) {
        let Some(r) = self.requests.get_mut(&key(request)) else {
            return;
        };
        r.current = Some(attempt);
        let (tid, ordinal, attempt_no) = (r.tid, r.ordinal, r.attempt_no);
        if let Some(stack) = self.tracks.get_mut(&tid) {
            if let Some(o) = stack.last_mut() {
                o.close_args = format!("\"instance\":{node}");
            }
        }
        self.attempts.insert(
            key(attempt),
            AttemptTrace {
                tid,
                phase_depth: 2,
                request_tid: tid,
                ordinal,
                attempt_no,
            },
        );
    }

    /// The attempt enters phase `name` at its node (the previous phase ends).
    pub fn phase(&mut self, now: SimTime, attempt: Handle, name: &str) {
        let Some(a) = self.attempts.get(&key(attempt)) else {
            return;
        };
        let (tid, depth) = (a.tid, a.phase_depth);
        self.close_to(now, tid, depth, "");
        if self.depth(tid) == depth {
            self.open(now, tid, name.to_string(), String::new());
        }
    }

    /// The node is done with the attempt: answered (`outcome` "ok") or failed.
    pub fn attempt_ended(&mut self, now: SimTime, attempt: Handle, outcome: &str) {
        let Some(a) = self.attempts.remove(&key(attempt)) else {
            return;
        };
        if outcome != "ok" {
            self.instant(
                now,
                PID_REQUESTS,
                a.tid,
                outcome,
                format!("\"attempt\":{}", a.attempt_no),
                't',
            );
        }
        if a.tid == a.request_tid {
            self.close_to(now, a.tid, a.phase_depth, "");
        } else {
            let extra = format!("\"outcome\":{}", json_str(outcome));
            self.close_to(now, a.tid, 0, &extra);
        }
    }

    /// The client stops waiting for the current attempt while a node still has it: what
    /// is left of the attempt moves to a track of its own.
    fn client_left(&mut self, now: SimTime, attempt: Handle) {
        let Some(a) = self.attempts.get(&key(attempt)).cloned() else {
            return;
        };
        if a.tid != a.request_tid {
            return;
        }
        let phase = self
            .tracks
            .get(&a.tid)
            .and_then(|s| s.get(a.phase_depth))
            .map(|o| o.name.clone());
        self.close_to(now, a.tid, a.phase_depth, "\"client_left\":true");
        let tid = self.next_tid;
        self.next_tid += 1;
        self.w.name_track(
            tid,
            &format!(
                "request #{} attempt {} after the client left",
                a.ordinal, a.attempt_no
            ),
            a.request_tid as u64 * 1000 + a.attempt_no.min(999) as u64,
        );
        self.open(
            now,
            tid,
            format!("attempt {} (client left)", a.attempt_no),
            String::new(),
        );
        if let Some(p) = phase {
            self.open(now, tid, p, String::new());
        }
        self.attempts.insert(
            key(attempt),
            AttemptTrace {
                tid,
                phase_depth: 1,
                ..a
            },
        );
    }

    /// The client's attempt failed with `reason` (a timeout, or a failure the node reported).
    pub fn client_failed(&mut self, now: SimTime, request: Handle, reason: &str) {
        let Some(r) = self.requests.get_mut(&key(request)) else {
            return;
        };
        let (tid, current, attempt_no) = (r.tid, r.current.take(), r.attempt_no);
        if let Some(att) = current {
            self.client_left(now, att);
        }
        if reason == "timeout" {
            self.instant(
                now,
                PID_REQUESTS,
                tid,
                "timeout",
                format!("\"attempt\":{attempt_no}"),
                't',
            );
        }
        if self.depth(tid) > 1 {
            self.close_to(now, tid, 1, &format!("\"result\":{}", json_str(reason)));
        }
    }

    /// The client will retry after `wait`.
    pub fn backoff(&mut self, now: SimTime, request: Handle, wait: SimTime) {
        let Some(r) = self.requests.get(&key(request)) else {
            return;
        };
        let (tid, next) = (r.tid, r.attempt_no + 1);
        self.instant(
            now,
            PID_REQUESTS,
            tid,
            "retry",
            format!("\"next_attempt\":{next},\"backoff_us\":{}", micros(wait.0)),
            't',
        );
        self.close_to(now, tid, 1, "");
        self.open(now, tid, "backoff".into(), String::new());
    }

    /// An instant marker `what` on the request's track.
    pub fn mark(&mut self, now: SimTime, request: Handle, what: &str) {
        if let Some(tid) = self.requests.get(&key(request)).map(|r| r.tid) {
            self.instant(now, PID_REQUESTS, tid, what, String::new(), 't');
        }
    }

    /// The request ends: succeeded (`outcome` "ok") or failed with the reason named.
    pub fn request_ended(&mut self, now: SimTime, request: Handle, outcome: &str) {
        let Some(r) = self.requests.remove(&key(request)) else {
            return;
        };
        if let Some(att) = r.current {
            self.client_left(now, att);
        }
        if self.depth(r.tid) > 1 {
            self.close_to(now, r.tid, 1, &format!("\"result\":{}", json_str(outcome)));
        }
        let extra = format!(
            "\"outcome\":{},\"attempts\":{}",
            json_str(outcome),
            r.attempt_no
        );
        self.close_to(now, r.tid, 0, &extra);
    }

    /// A fault starts or ends (or a node fails at random): a global marker named after the
    /// fault's kind, with the fault as written in the experiment (`spec`) in its args.
    pub fn fault(&mut self, now: SimTime, start: bool, spec: &serde_json::Value) {
        self.w.fault(now, start, spec);
    }

    /// Writes each instance's busy workers when it changed, while a sampled request (or
    /// work left by one) is in flight; called after every event.
    pub fn sample_busy(&mut self, now: SimTime, nodes: &[Node]) {
        if self.requests.is_empty() && self.attempts.is_empty() || self.w.truncated() {
            self.last_busy.clear();
            return;
        }
        if self.last_busy.len() != nodes.len() {
            self.last_busy = vec![None; nodes.len()];
        }
        for (i, n) in nodes.iter().enumerate() {
            let busy = n.busy();
            if self.last_busy[i] != Some(busy) {
                self.last_busy[i] = Some(busy);
                self.w
                    .busy_counter(now, format!("instance {i} busy workers"), busy);
            }
        }
    }

    /// Closes every span still open at the end of the run (marked `unfinished`) and
    /// returns the trace as Chrome Trace Event JSON.
    pub fn finish(mut self, now: SimTime) -> String {
        let tids: Vec<u32> = self.tracks.keys().copied().collect();
        for tid in tids {
            // One at a time, the innermost first, so that each is marked.
            for depth in (0..self.depth(tid)).rev() {
                self.close_to(now, tid, depth, "\"unfinished\":true");
            }
        }
        self.w.finish(self.sampled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(idx: u32) -> Handle {
        Handle { idx, gen: 0 }
    }

    /// Issues `n` requests one microsecond apart, each answered at once.
    fn drive(t: &mut Tracer, n: u32) {
        for i in 0..n {
            let now = SimTime(1000 * i as u64);
            t.request_issued(now, h(i), super::super::request::NO_USER, 0);
            t.attempt_sent(now, h(i), 1);
            t.attempt_created(h(i), h(i), 0);
            t.phase(now, h(i), "service");
            t.attempt_ended(now, h(i), "ok");
            t.request_ended(now, h(i), "ok");
        }
    }

    #[test]
    fn sampling_is_a_seeded_one_in_eight_and_stops_at_n() {
        let mut t = Tracer::new(10, 7, SimTime::ZERO);
        drive(&mut t, 80);
        assert_eq!(t.sampled, 10);
        let mut t = Tracer::new(1000, 7, SimTime::ZERO);
        drive(&mut t, 8000);
        // One in eight of 8000, give or take the hash's spread.
        assert!((900..=1100).contains(&t.sampled), "{}", t.sampled);
        let again = {
            let mut u = Tracer::new(1000, 7, SimTime::ZERO);
            drive(&mut u, 8000);
            u.finish(SimTime(8_000_000))
        };
        assert_eq!(t.finish(SimTime(8_000_000)), again);
    }

    #[test]
    fn a_full_trace_samples_no_more_and_stays_valid_json() {
        let mut t = Tracer::new(MAX_REQUESTS, 7, SimTime::ZERO);
        t.w.max_bytes = 10_000;
        drive(&mut t, 8000);
        assert!(t.w.truncated());
        let sampled = t.sampled;
        assert!(sampled > 5 && sampled < 100, "{sampled}");
        // A request already sampled still closes its spans after the limit.
        let text = t.finish(SimTime(8_000_000));
        let doc: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(doc["otherData"]["truncated"], true);
        assert_eq!(doc["otherData"]["sampled_requests"], sampled);
        let requests = doc["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["name"] == "request" && e["ph"] == "E")
            .count();
        assert_eq!(requests as u32, sampled);
    }

    #[test]
    fn spans_still_open_at_the_end_close_marked_unfinished() {
        let mut t = Tracer::new(MAX_REQUESTS, 7, SimTime::ZERO);
        // Find a sampled request, and leave it in its queue wait.
        let mut i = 0;
        while t.sampled == 0 {
            t.request_issued(SimTime::ZERO, h(i), 0, 0);
            i += 1;
        }
        let r = h(i - 1);
        t.attempt_sent(SimTime::ZERO, r, 1);
        t.attempt_created(r, h(99), 0);
        t.phase(SimTime(5), h(99), "queue wait");
        let doc: serde_json::Value = serde_json::from_str(&t.finish(SimTime(2_000))).unwrap();
        let open: Vec<_> = doc["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["args"]["unfinished"] == true)
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_string(),
                    e["ts"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            open,
            vec![
                ("queue wait".to_string(), 2.0),
                ("attempt 1".to_string(), 2.0),
                ("request".to_string(), 2.0)
            ]
        );
    }
}
