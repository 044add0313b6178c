//! What both engines' request tracers share: the Chrome Trace Event text they write (for
//! Perfetto and chrome://tracing), the seeded sampling rule and the bounds.
//!
//! The engines differ in what they draw (a node's phases, a graph path's steps) but not
//! in how: events are written to the JSON text as they happen, so a trace costs its own
//! size in memory; at most [`MAX_REQUESTS`] requests are sampled, and once the text
//! reaches [`MAX_TRACE_BYTES`] no new request is sampled and the counters stop (the spans
//! of requests already sampled still close); `otherData.truncated` says so.

use crate::engine::rng::mix64;
use crate::engine::SimTime;

/// The largest `--trace N`.
pub const MAX_REQUESTS: u32 = 100_000;
/// The size of a variant's trace text after which sampling stops (about 100 bytes an event).
pub const MAX_TRACE_BYTES: usize = 128 << 20;
/// One request in this many (after the warm-up, by the seeded hash) is a candidate.
pub const SAMPLE_ONE_IN: u64 = 8;

/// Process id of the request tracks.
pub const PID_REQUESTS: u32 = 1;
/// Process id of the instance counters and fault markers.
pub const PID_INSTANCES: u32 = 2;

/// Whether the `ordinal`-th request issued (counting from 0) in run `seed` is a candidate
/// for sampling: the hash of (seed, ordinal) falls in one bucket of [`SAMPLE_ONE_IN`]. A
/// rule on the ordinal, not on event order, so the same seed samples the same requests
/// every run, and open-loop variants of one experiment sample the same ones.
pub fn candidate(seed: u64, ordinal: u64) -> bool {
    mix64(seed ^ mix64(ordinal)).is_multiple_of(SAMPLE_ONE_IN)
}

/// Microseconds with three decimals, exactly, from integer nanoseconds.
pub fn micros(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

/// `s` as a JSON string literal.
pub fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// One trace event, on its way to the text.
#[derive(Clone, Debug)]
pub struct TraceEvent {
    /// 'B' begin, 'E' end, 'i' instant, 'C' counter, 'M' metadata.
    pub ph: char,
    /// When, in simulated nanoseconds (ignored for metadata).
    pub ts_ns: u64,
    /// Process id ([`PID_REQUESTS`] or [`PID_INSTANCES`]).
    pub pid: u32,
    /// Track (thread) id.
    pub tid: u32,
    /// The event's name.
    pub name: String,
    /// The `args` object's members, already JSON (`"k":v,…`), or empty.
    pub args: String,
    /// Instant scope: 't' thread, 'g' global.
    pub scope: char,
}

/// The trace text being written: the header, the events so far, and whether the text
/// reached its size bound.
pub struct TraceWriter {
    out: String,
    /// No event written yet (the next one needs no separating comma).
    empty: bool,
    truncated: bool,
    /// The text's size at which sampling stops ([`MAX_TRACE_BYTES`]; smaller in tests).
    pub max_bytes: usize,
}

impl Default for TraceWriter {
    fn default() -> Self {
        TraceWriter::new()
    }
}

impl TraceWriter {
    /// A trace with its header and the names of the two processes and the faults' track.
    pub fn new() -> TraceWriter {
        let mut w = TraceWriter {
            out: String::from("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n"),
            empty: true,
            truncated: false,
            max_bytes: MAX_TRACE_BYTES,
        };
        w.meta(PID_REQUESTS, 0, "process_name", "requests");
        w.meta(PID_INSTANCES, 0, "process_name", "instances");
        w.meta(PID_INSTANCES, 0, "thread_name", "faults");
        w
    }

    /// Whether the text reached [`TraceWriter::max_bytes`]: sample no more.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Writes one event (metadata events may come anywhere in the array).
    pub fn push(&mut self, e: TraceEvent) {
        use std::fmt::Write;
        let out = &mut self.out;
        if !self.empty {
            out.push_str(",\n");
        }
        self.empty = false;
        let _ = write!(
            out,
            "{{\"ph\":\"{}\",\"pid\":{},\"tid\":{},\"name\":{}",
            e.ph,
            e.pid,
            e.tid,
            json_str(&e.name)
        );
        if e.ph != 'M' {
            let _ = write!(out, ",\"ts\":{}", micros(e.ts_ns));
        }
        if e.ph == 'i' {
            let _ = write!(out, ",\"s\":\"{}\"", e.scope);
        }
        let _ = write!(out, ",\"args\":{{{}}}}}", e.args);
        if out.len() >= self.max_bytes {
            self.truncated = true;
        }
    }

    /// A metadata event `what` (`process_name`, `thread_name`) naming `name`.
    pub fn meta(&mut self, pid: u32, tid: u32, what: &str, name: &str) {
        self.push(TraceEvent {
            ph: 'M',
            ts_ns: 0,
            pid,
            tid,
            name: what.to_string(),
            args: format!("\"name\":{}", json_str(name)),
            scope: 't',
        });
    }

    /// Names request track `tid` and sorts it at `sort_index`.
    pub fn name_track(&mut self, tid: u32, name: &str, sort_index: u64) {
        self.meta(PID_REQUESTS, tid, "thread_name", name);
        self.push(TraceEvent {
            ph: 'M',
            ts_ns: 0,
            pid: PID_REQUESTS,
            tid,
            name: "thread_sort_index".into(),
            args: format!("\"sort_index\":{sort_index}"),
            scope: 't',
        });
    }

    /// An instant marker.
    pub fn instant(
        &mut self,
        now: SimTime,
        pid: u32,
        tid: u32,
        name: &str,
        args: String,
        scope: char,
    ) {
        self.push(TraceEvent {
            ph: 'i',
            ts_ns: now.0,
            pid,
            tid,
            name: name.to_string(),
            args,
            scope,
        });
    }

    /// A begin ('B') or end ('E') event on request track `tid`.
    pub fn span_event(&mut self, ph: char, now: SimTime, tid: u32, name: String, args: String) {
        self.push(TraceEvent {
            ph,
            ts_ns: now.0,
            pid: PID_REQUESTS,
            tid,
            name,
            args,
            scope: 't',
        });
    }

    /// A busy-workers counter sample named `name`.
    pub fn busy_counter(&mut self, now: SimTime, name: String, busy: u32) {
        self.push(TraceEvent {
            ph: 'C',
            ts_ns: now.0,
            pid: PID_INSTANCES,
            tid: 0,
            name,
            args: format!("\"busy\":{busy}"),
            scope: 't',
        });
    }

    /// A fault starts or ends: a global marker named after the fault's kind, with the
    /// fault as written in the experiment (`spec`) in its args.
    pub fn fault(&mut self, now: SimTime, start: bool, spec: &serde_json::Value) {
        let kind = match spec {
            serde_json::Value::Object(m) => m.keys().next().cloned().unwrap_or_default(),
            serde_json::Value::String(s) => s.clone(),
            _ => String::new(),
        };
        let name = format!("{kind} {}", if start { "starts" } else { "ends" });
        let args = format!("\"fault\":{spec}");
        self.instant(now, PID_INSTANCES, 0, &name, args, 'g');
    }

    /// The finished text, with `sampled` requests said in `otherData`.
    pub fn finish(self, sampled: u32) -> String {
        let mut out = self.out;
        out.push_str(&format!(
            "\n],\"otherData\":{{\"sampled_requests\":{},\"sample_one_in\":{},\"truncated\":{}}}}}\n",
            sampled, SAMPLE_ONE_IN, self.truncated
        ));
        out
    }
}

/// Joins two `args` member lists (`"k":v,…`), either possibly empty.
pub fn join_args(a: String, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a,
        (true, false) => b.to_string(),
        (false, false) => format!("{a},{b}"),
    }
}
