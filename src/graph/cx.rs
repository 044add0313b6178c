//! What a component sees of the engine while it handles an event or a step: the time,
//! a way to schedule its own events, and a way to tell the path what became of a task.

use super::registry::{Event, Kind};
use crate::engine::{EventQueue, SimTime};
use crate::graph::fail::FailReason;
use crate::graph::slab::Handle;

/// The engine's side of one handler call.
pub struct Cx<'a> {
    /// The simulated time of the event being handled.
    pub now: SimTime,
    pub(super) queue: &'a mut EventQueue<Event>,
    pub(super) notices: &'a mut Vec<Notice>,
}

impl Cx<'_> {
    /// Schedules `event` after `delay`.
    #[inline]
    pub fn after(&mut self, delay: SimTime, event: Event) {
        self.queue.schedule_in(delay, event);
    }

    /// Tells the path something happened to a task or a visit.
    #[inline]
    pub fn notify(&mut self, notice: Notice) {
        self.notices.push(notice);
    }

    /// The step `task` was on has ended.
    #[inline]
    pub fn step_done(&mut self, task: Handle, result: Result<(), FailReason>) {
        self.notices.push(Notice::Step { task, result });
    }
}

/// A component's message to the path (the only way components affect each other).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Notice {
    /// The step `task` was on has ended.
    Step {
        task: Handle,
        result: Result<(), FailReason>,
    },
    /// A visit's own work at a service instance is done: its path goes on there.
    Worked { visit: Handle },
    /// A visit failed at its instance (rejected, refused, crashed, an injected error).
    VisitFailed { visit: Handle, reason: FailReason },
    /// A component needs a step of another done for `task` first (a cache miss reads its
    /// database; a counter writes its row): run `op` of component (`kind`, `index`) for
    /// the task, then hand the outcome back to (`reply_kind`, `reply_index`).
    Sub {
        task: Handle,
        kind: Kind,
        index: u16,
        op: u8,
        reply_kind: Kind,
        reply_index: u16,
    },
    /// A component needs step `op` of component (`kind`, `index`) done on its own behalf,
    /// for no request, by instance `placed` of service `service` (a counter's batch write
    /// from the instance that added it up): the path runs it as a task of its own, which
    /// holds that instance's database connections like any other.
    Own {
        service: u16,
        placed: crate::graph::components::service::Placed,
        kind: Kind,
        index: u16,
        op: u8,
    },
    /// A component sends work of request kind `kind` to the service its path starts
    /// with (a topic delivering a message to its consumer): the outcome comes back to
    /// component (`from`, `index`) with `token` through `Component::answered`.
    Dispatch {
        kind: u16,
        from: Kind,
        index: u16,
        token: u64,
    },
    /// The read `task` is doing came from a replica behind the user's latest write (told
    /// just before its outcome): a component that asked for the read sees what the replica
    /// shows.
    StaleRead { task: Handle },
    /// Database `db` failed over and lost `user`'s latest write (it had not reached the
    /// replica promoted): what the user's state in it was before that write is back.
    WriteLost { db: u16, user: u64 },
    /// A connection of instance `instance` of `service` to a database is free again and
    /// goes to `task`, which waited for it: its query can be sent.
    Connected { task: Handle },
}
