//! A named message-queue topic (Kafka-like, at-least-once): its step is `Produce` (op 0).
//!
//! - **Publishing.** A `Produce` step appends its message to the next partition in turn
//!   (round-robin: messages carry no key) after the topic's publish time, and ends; the
//!   producer never waits for the message to be consumed.
//! - **Consuming.** Each partition is consumed in order by the topic's consumer service,
//!   one message at a time: the message goes to the service as work of the `handler`
//!   request kind (`Notice::Dispatch`), through its balancer, and its outcome comes back
//!   in `answered`. The consumer group is the service as a whole: the partition is not
//!   pinned to an instance, its next message goes wherever the balancer sends it.
//! - **Committing.** The consumer's position in every partition is committed every
//!   `commit_every`, on a fixed grid of simulated time (Kafka's auto-commit), not per
//!   message; a commit is only scheduled while there is something to commit.
//! - **Redelivery.** A delivery that fails (the instance crashed mid-message, refused it
//!   because it is down, rejected it, or the handler's path failed) rewinds its partition
//!   to the committed offset, and delivery starts again from there after `retry_after`:
//!   messages handled since the last commit are handled again (`duplicates`), and every
//!   message sent a second time is `redelivered`. While the consumer is down the backoff
//!   keeps retrying, so the backlog is replayed as soon as it is back. With a `timeout`,
//!   a delivery unanswered that long fails too (Kafka's `max.poll.interval.ms`: the
//!   consumer is taken for dead) and its late answer is ignored; without one, a message
//!   sent where no answer comes holds its partition.
//! - **Lag.** The consumer lag is the age of the oldest uncommitted message (now − its
//!   publish time); the backlog is the messages not committed yet.
//!
//! Its figures count what happens in the measured window (after the warm-up): a message
//! published during the warm-up and consumed after it counts as consumed, not published.
//! `duplicates` counts every success of a handler beyond a message's first.
//!
//! Draws the publish time from its own stream, `"topic/<name>"`.

mod delivery;
mod metrics;
mod partition;

use crate::config::experiment::FaultSpec;
use crate::config::graph::TopicSpec;
use crate::config::ModelSpec;
use crate::engine::{stream, Distribution, SimTime, Stream};
use crate::graph::component::Component;
use crate::graph::cx::{Cx, Notice};
use crate::graph::fail::FailReason;
use crate::graph::names::Names;
use crate::graph::registry::{Event, Kind};
use crate::graph::slab::Handle;
use crate::metrics::schema::{ComponentFigures, ComponentSeries, QUEUE};
use metrics::Meter;
use partition::Partition;

/// A topic's events.
#[derive(Clone, Copy, Debug)]
pub enum TopicEvent {
    /// The message `task` publishes is stored: its step ends.
    Stored { task: Handle },
    /// A failed delivery's backoff is over: `partition` is delivered again.
    Redeliver { partition: u32 },
    /// The consumer commits its position in every partition.
    Commit,
    /// Delivery `number` of `partition` has been out for the topic's `timeout`.
    Timeout { partition: u32, number: u32 },
}

/// One topic.
pub struct Topic {
    index: u16,
    name: String,
    /// The request kind that handles one message.
    handler: u16,
    partitions: Vec<Partition>,
    /// The partition the next message goes to.
    next_partition: u32,
    /// Time to store a published message; `None`: at once.
    publish: Option<Distribution>,
    commit_every: SimTime,
    retry_after: SimTime,
    /// A delivery not answered within this long is given up.
    timeout: Option<SimTime>,
    /// A `Commit` event is scheduled.
    commit_due: bool,
    /// Messages published and not committed, over every partition.
    backlog: u64,
    rng: Stream,
    meter: Meter,
}

impl Topic {
    fn new(index: u16, name: &str, spec: &TopicSpec, names: &Names, seed: u64) -> Topic {
        Topic {
            index,
            name: name.to_string(),
            handler: names.kinds[&spec.handler],
            partitions: vec![Partition::default(); spec.partitions as usize],
            next_partition: 0,
            publish: spec.publish.as_ref().map(|d| d.resolve()),
            commit_every: spec.commit_every.0,
            retry_after: spec.retry_after.0,
            timeout: spec.timeout.map(|t| t.0),
            commit_due: false,
            backlog: 0,
            rng: stream(seed, &format!("topic/{name}")),
            meter: Meter::default(),
        }
    }

    /// Stores a message published now, and delivers it if its partition is idle.
    fn store(&mut self, cx: &mut Cx<'_>) {
        let p = self.next_partition;
        self.next_partition = (p + 1) % self.partitions.len() as u32;
        self.partitions[p as usize].append(cx.now);
        self.backlog += 1;
        self.meter.published(cx.now, self.backlog);
        self.deliver(cx, p);
    }

    /// Sends partition `p`'s next message to the consumer, if it can have one.
    fn deliver(&mut self, cx: &mut Cx<'_>, p: u32) {
        let Some(d) = self.partitions[p as usize].next_delivery() else {
            return;
        };
        if d.again {
            self.meter.redelivered(cx.now);
        }
        cx.notify(Notice::Dispatch {
            kind: self.handler,
            from: Kind::Topic,
            index: self.index,
            token: delivery::token(p, d.number),
        });
        if let Some(t) = self.timeout {
            let ev = TopicEvent::Timeout {
                partition: p,
                number: d.number,
            };
            cx.after(t, Event::Topic(self.index, ev));
        }
    }

    /// Partition `p`'s delivery out failed (or was given up): it rewinds to its committed
    /// offset and is delivered again after the backoff.
    fn failed(&mut self, cx: &mut Cx<'_>, p: u32) {
        self.partitions[p as usize].failed();
        let ev = TopicEvent::Redeliver { partition: p };
        cx.after(self.retry_after, Event::Topic(self.index, ev));
    }

    /// A handled message leaves something to commit: commit at once (`commit_every` of
    /// zero), or at the next point of the commit grid if no commit is due yet.
    fn after_handled(&mut self, cx: &mut Cx<'_>) {
        if self.commit_every == SimTime::ZERO {
            self.commit(cx.now);
            return;
        }
        if self.commit_due {
            return;
        }
        self.commit_due = true;
        let every = self.commit_every.0;
        let next = SimTime((cx.now.0 / every).saturating_add(1).saturating_mul(every));
        cx.after(
            next.since(cx.now),
            Event::Topic(self.index, TopicEvent::Commit),
        );
    }

    /// Commits every partition's position at `now`.
    fn commit(&mut self, now: SimTime) {
        let lag = self.lag_ns(now);
        self.meter.lag(now, lag);
        for p in &mut self.partitions {
            self.backlog -= p.commit();
        }
    }

    /// Age of the oldest uncommitted message of any partition at `now`; 0 if none.
    fn lag_ns(&self, now: SimTime) -> u64 {
        self.partitions
            .iter()
            .filter_map(Partition::oldest)
            .min()
            .map_or(0, |t| now.since(t).0)
    }
}

impl Component for Topic {
    type Event = TopicEvent;

    fn build_all(model: &ModelSpec, names: &Names, seed: u64) -> Vec<Self> {
        model
            .queues
            .iter()
            .enumerate()
            .map(|(i, (name, spec))| Topic::new(i as u16, name, spec, names, seed))
            .collect()
    }

    fn handle(&mut self, cx: &mut Cx<'_>, event: TopicEvent) {
        match event {
            TopicEvent::Stored { task } => {
                self.store(cx);
                cx.step_done(task, Ok(()));
            }
            TopicEvent::Redeliver { partition } => {
                self.partitions[partition as usize].backoff_over();
                self.deliver(cx, partition);
            }
            TopicEvent::Commit => {
                self.commit_due = false;
                self.commit(cx.now);
            }
            TopicEvent::Timeout { partition, number } => {
                if self.partitions[partition as usize].is_out(number) {
                    self.failed(cx, partition);
                }
            }
        }
    }

    fn step(&mut self, cx: &mut Cx<'_>, _op: u8, task: Handle, _arg: u64) {
        match &self.publish {
            None => {
                self.store(cx);
                cx.step_done(task, Ok(()));
            }
            Some(d) => {
                let t = d.sample(&mut self.rng);
                cx.after(t, Event::Topic(self.index, TopicEvent::Stored { task }));
            }
        }
    }

    fn answered(&mut self, cx: &mut Cx<'_>, token: u64, result: Result<(), FailReason>) {
        let (p, number) = delivery::delivery(token);
        let partition = &mut self.partitions[p as usize];
        if !partition.is_out(number) {
            return; // a late answer to a delivery given up at its timeout
        }
        match result {
            Ok(()) => {
                let handled = partition.succeeded();
                self.meter.handled(cx.now, handled);
                self.after_handled(cx);
                self.deliver(cx, p);
            }
            Err(_) => self.failed(cx, p),
        }
    }

    fn fault(&mut self, _cx: &mut Cx<'_>, _fault: &FaultSpec, _start: bool) -> bool {
        false // faults reach a topic through its consumer service
    }

    fn close_interval(&mut self, now: SimTime, interval_s: f64) {
        let lag = self.lag_ns(now);
        self.meter
            .close_interval(now, interval_s, self.backlog, lag);
    }

    fn series(&self) -> ComponentSeries {
        ComponentSeries {
            key: format!("queue.{}", self.name),
            schema: &QUEUE,
            rows: self.meter.rows().to_vec(),
        }
    }

    fn figures(&self, now: SimTime, _measured_s: f64) -> ComponentFigures {
        ComponentFigures {
            key: format!("queue.{}", self.name),
            schema: &QUEUE,
            values: self.meter.figures(now, self.lag_ns(now)),
        }
    }

    fn warmup_over(&mut self, now: SimTime) {
        self.meter.warmup_over(now, self.backlog);
    }

    fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        let mut backlog = 0;
        for (i, p) in self.partitions.iter().enumerate() {
            p.check(&self.name, i);
            backlog += p.backlog();
        }
        assert_eq!(backlog, self.backlog, "topic {}: backlog", self.name);
    }
}
