//! Moving a request along its path: the only place that does. A client's attempt and a
//! service's call become visits to a service's instance; a visit's worker runs the rest of
//! its block as a task; a task's steps are calls, component steps and fan-outs. Outcomes
//! come back from the components as notices and go up: task → visit → call or request,
//! where the caller's timeout and retry policy decide what happens next.
//!
//! Every visit and task carries the time its last waiter stops waiting (its deadline: the
//! client's attempt timeout, tightened by each calling service's own call timeout). Work
//! finished after it is counted as wasted at that service or database. With the model's
//! `propagate_deadlines` the deadline travels as the request's deadline header would: a
//! task whose deadline has passed is dropped at its next step (a Call, a database or
//! component step, a fan-out) instead of going on, a calling service does not retry past
//! it, and every queue (services' and, with `deadline_check`, databases') sees it.

use super::components::database::WRITE;
use super::cx::{Cx, Notice};
use super::network::End;
use super::program::Step;
use super::registry::{Event, Kind};
use super::request::{
    dispatch_key, user_key, Call, Fanout, Origin, Parent, Request, Root, Task, Visit,
};
use super::GraphSim;
use crate::engine::SimTime;
use crate::graph::clients::RetryDecision;
use crate::graph::fail::FailReason;
use crate::graph::slab::Handle;

/// Whether a client (or a calling service) retries a failure: not a session's refusal,
/// which is no transient fault (the client shows the login page instead).
fn retryable(reason: FailReason) -> bool {
    !matches!(
        reason,
        FailReason::Unauthenticated | FailReason::LoginFailed | FailReason::LockedOut
    )
}

/// The path's own events.
#[derive(Clone, Copy, Debug)]
pub enum PathEvent {
    /// A visit reaches its service (after the network delay).
    Arrive { visit: Handle },
    /// A visit's answer reaches whoever waits for it.
    Answer {
        visit: Handle,
        result: Result<(), FailReason>,
    },
    /// A client stops waiting for attempt `attempt_no` of `request`.
    Timeout { request: Handle, attempt_no: u32 },
    /// A request's backoff is over.
    Retry { request: Handle },
    /// A calling service stops waiting for attempt `attempt_no` of `call`.
    CallTimeout { call: Handle, attempt_no: u32 },
    /// A call's backoff is over.
    CallRetry { call: Handle },
    /// A task's component step starts (after the network delay).
    StepAt { task: Handle },
}

impl GraphSim {
    /// Handles one of the path's events.
    pub(super) fn path_event(&mut self, now: SimTime, event: PathEvent) {
        match event {
            PathEvent::Arrive { visit } => self.arrive(now, visit),
            PathEvent::Answer { visit, result } => self.answer(now, visit, result),
            PathEvent::Timeout {
                request,
                attempt_no,
            } => {
                let waiting = self
                    .requests
                    .get(request)
                    .filter(|r| r.attempts == attempt_no)
                    .and_then(|r| r.current);
                if let Some(visit) = waiting {
                    self.trace_caller_left(now, visit);
                    self.give_up(visit);
                    if let Some(r) = self.requests.get_mut(request) {
                        r.current = None;
                    }
                    self.request_failed(now, request, FailReason::Timeout);
                }
            }
            PathEvent::Retry { request } => {
                if self.requests.get(request).is_some() {
                    self.send_attempt(now, request);
                }
            }
            PathEvent::CallTimeout { call, attempt_no } => {
                let waiting = self
                    .calls
                    .get(call)
                    .filter(|c| c.attempts == attempt_no)
                    .and_then(|c| c.current);
                if let Some(visit) = waiting {
                    self.trace_caller_left(now, visit);
                    self.give_up(visit);
                    if let Some(c) = self.calls.get_mut(call) {
                        c.current = None;
                    }
                    self.call_failed(now, call, FailReason::Timeout);
                }
            }
            PathEvent::CallRetry { call } => {
                if self.calls.get(call).is_some() {
                    self.send_call(now, call);
                }
            }
            PathEvent::StepAt { task } => self.start_pending(now, task),
        }
    }

    /// A notice from a component.
    pub(super) fn on_notice(&mut self, now: SimTime, notice: Notice) {
        match notice {
            Notice::Step { task, result } => self.step_ended(now, task, result),
            Notice::Worked { visit } => self.worked(now, visit),
            Notice::VisitFailed { visit, reason } => {
                self.trace_phase_over(now, visit);
                self.reply(now, visit, Err(reason));
            }
            Notice::Sub {
                task,
                kind,
                index,
                op,
                reply_kind,
                reply_index,
            } => {
                if let Some(t) = self.tasks.get_mut(task) {
                    t.sub = Some((reply_kind, reply_index));
                    t.pending = Some((kind, index, op));
                    self.begin_component_step(now, task);
                }
            }
            Notice::StaleRead { task } => {
                if let Some((kind, index)) = self.tasks.get(task).and_then(|t| t.sub) {
                    self.components.stale_read(kind, index, task);
                }
            }
            Notice::WriteLost { db, user } => {
                for s in &mut self.components.sessions {
                    s.write_lost(db, user);
                }
            }
            Notice::Connected { task } => {
                if let Some(t) = &mut self.tracer {
                    t.connected(now, task);
                }
                if let Some(t) = self.tasks.get_mut(task) {
                    if let Some((Kind::Db, db, _)) = t.pending {
                        t.conn = Some(db);
                    }
                    self.delay_then_start(now, task);
                }
            }
            Notice::Dispatch {
                kind,
                from,
                index,
                token,
            } => self.dispatch(now, kind, from, index, token),
            Notice::Own {
                service,
                placed,
                kind,
                index,
                op,
            } => {
                let task = self.tasks.insert(Task {
                    block: 0,
                    // Past the end of any block (paths are far shorter): the task ends
                    // when its one step does.
                    pos: u16::MAX - 1,
                    parent: Parent::Own,
                    service,
                    placed,
                    kind: 0,
                    user: 0,
                    conn: None,
                    pending: Some((kind, index, op)),
                    sub: None,
                    at: None,
                    // No client waits for it: it never expires.
                    deadline: SimTime::NEVER,
                    root: None,
                });
                self.begin_component_step(now, task);
            }
        }
    }

    /// A client of population `population` (user `user`, if a closed population) issues
    /// a new request.
    #[inline]
    pub(super) fn issue(&mut self, now: SimTime, population: u16, user: Option<u32>) {
        let p = &mut self.populations[population as usize];
        let kind = p.pick_kind(user);
        p.issued(now);
        self.recorder.issued();
        let request = self.requests.insert(Request {
            population,
            user,
            kind,
            issued_at: now,
            attempts: 0,
            current: None,
            last_backoff: SimTime::ZERO,
            deadline: SimTime::NEVER,
            wait: SimTime::ZERO,
            served: false,
        });
        if user.is_some() {
            // When the person meant it: the order a store may apply otherwise.
            let key = user_key(population, user, request);
            for s in &mut self.components.sessions {
                s.request_issued(key, now);
            }
        }
        if let Some(t) = &mut self.tracer {
            t.request_issued(now, request, population, user, kind);
        }
        self.send_attempt(now, request);
    }

    /// Sends the next attempt of `request` to the first service of its path.
    #[inline]
    fn send_attempt(&mut self, now: SimTime, request: Handle) {
        let Some(r) = self.requests.get_mut(request) else {
            return;
        };
        r.attempts += 1;
        let (attempt_no, pop, kind) = (r.attempts, r.population, r.kind);
        let key = r.user.unwrap_or(request.idx);
        let user = user_key(pop, r.user, request);
        let p = &mut self.populations[pop as usize];
        if p.clients.throttled(now) {
            self.end_request(now, request, Err(FailReason::Throttled));
            return;
        }
        self.recorder.attempt(attempt_no > 1);
        p.attempt(attempt_no == 1);
        let timeout = p.clients.timeout();
        let deadline = timeout.map_or(SimTime::NEVER, |t| now.saturating_add(t));
        let root = self.program.roots[kind as usize];
        let Step::Call { service } = self.program.blocks[root as usize][0] else {
            unreachable!("validated: a path starts with a call");
        };
        let visit = self.visits.insert(Visit {
            origin: Origin::Request(request),
            attempt_no,
            service,
            block: root,
            pos: 1,
            kind,
            key,
            user,
            placed: None,
            closed: false,
            deadline,
            own_deadline: deadline,
            root: Some((request, attempt_no)),
        });
        if let Some(t) = &mut self.tracer {
            t.attempt_sent(now, request, attempt_no);
            t.visit_sent(
                now,
                visit,
                Origin::Request(request),
                service,
                attempt_no,
                None,
            );
        }
        r.current = Some(visit);
        r.deadline = deadline;
        r.wait = SimTime::ZERO;
        if let Some(t) = timeout {
            let ev = PathEvent::Timeout {
                request,
                attempt_no,
            };
            // A population's timeouts all have one length, so they fall due in the order
            // they are set: the queue's FIFO lane keeps them out of the heap.
            self.queue.schedule_in_order(t, Event::Path(ev));
        }
        let d = self
            .network
            .delay(End::Population(pop), End::Service(service));
        self.after_delay(now, d, PathEvent::Arrive { visit });
    }

    /// Runs `event` now, or after `delay` when there is one.
    #[inline]
    fn after_delay(&mut self, now: SimTime, delay: SimTime, event: PathEvent) {
        if delay == SimTime::ZERO {
            self.path_event(now, event);
        } else {
            self.queue.schedule_in(delay, Event::Path(event));
        }
    }

    /// A visit reaches its service: the balancer places it.
    #[inline]
    fn arrive(&mut self, now: SimTime, visit: Handle) {
        let propagate = self.ledger.propagate;
        let Some((origin, service, key, kind, deadline)) = self.visits.get(visit).map(|v| {
            // A service's queue knows its direct caller's deadline; the whole chain's only
            // when deadlines propagate.
            let deadline = if propagate {
                v.deadline
            } else {
                v.own_deadline
            };
            (v.origin, v.service as usize, v.key, v.kind, deadline)
        }) else {
            return;
        };
        let i = match self.components.services[service].pick(now, key) {
            Ok(i) => i,
            Err(reason) => return self.answer(now, visit, Err(reason)),
        };
        if self.served_before(origin) && !self.components.services[service].partitioned(i) {
            // The instance finds the retry's idempotency key in the service's record of
            // requests it has served: it answers without doing the work again (as a
            // single-tier node does).
            self.ledger.idempotent_replays += 1;
            return self.reply(now, visit, Ok(()));
        }
        let mut cx = Cx {
            now,
            queue: &mut self.queue,
            notices: &mut self.notices,
        };
        let placed = self.components.services[service].place(&mut cx, i, visit, kind, deadline);
        if let Some(v) = self.visits.get_mut(visit) {
            v.placed = Some(placed);
        }
        if let Some(t) = &mut self.tracer {
            t.visit_placed(now, visit, placed.instance);
        }
    }

    /// Whether a visit from `origin` is a keyed client's retry of a request whose path has
    /// already finished at this, its first, service.
    #[inline]
    fn served_before(&self, origin: Origin) -> bool {
        if !self.keyed_clients {
            return false;
        }
        let Origin::Request(r) = origin else {
            return false;
        };
        self.requests.get(r).is_some_and(|r| {
            r.served
                && self.populations[r.population as usize]
                    .clients
                    .idempotency_keys
        })
    }

    /// The service's own work on a visit is done: the rest of the block runs there.
    #[inline]
    fn worked(&mut self, now: SimTime, visit: Handle) {
        let Some(v) = self.visits.get(visit).copied() else {
            return;
        };
        let Some(placed) = v.placed else {
            return;
        };
        self.trace_phase_over(now, visit);
        self.add_wait(v.root, v.service, placed);
        if self.program.blocks[v.block as usize]
            .get(v.pos as usize)
            .is_none()
        {
            // Nothing follows the service's own work (as on every single-tier path): the
            // block is done, without a task that `run_task` would end at once.
            self.visit_block_done(now, visit, v.service, placed, v.deadline, Ok(()));
            return;
        }
        let task = self.tasks.insert(Task {
            block: v.block,
            pos: v.pos,
            parent: Parent::Visit(visit),
            service: v.service,
            placed,
            kind: v.kind,
            user: v.user,
            conn: None,
            pending: None,
            sub: None,
            at: None,
            deadline: v.deadline,
            root: v.root,
        });
        if let Some(t) = &mut self.tracer {
            t.task_started(task, visit);
        }
        self.run_task(now, task);
    }

    /// The queue wait of a visit placed at `placed` counts towards its client attempt's
    /// wait (`wait_ms`) while the client still waits for that attempt.
    #[inline]
    fn add_wait(
        &mut self,
        root: Option<Root>,
        service: u16,
        placed: super::components::service::Placed,
    ) {
        let Some((request, attempt_no)) = root else {
            return;
        };
        let waited = self.components.services[service as usize].queue_wait(placed.job);
        if let (Some(r), Some(w)) = (self.requests.get_mut(request), waited) {
            if r.attempts == attempt_no {
                r.wait = r.wait.saturating_add(w);
            }
        }
    }

    /// Whether `task`'s deadline has passed and deadlines propagate: nobody waits for what
    /// it would do next.
    #[inline]
    fn expired(&self, now: SimTime, t: &Task) -> bool {
        self.ledger.propagate && now >= t.deadline
    }

    /// Drops `task` at its next step because nobody waits for it any more: its worker is
    /// freed (as shed, not as an error) and its parent hears a timeout. `counted`: the
    /// drop starts here (it is not the echo of a call that was dropped further down).
    fn shed_task(&mut self, now: SimTime, task: Handle, counted: bool) {
        let Some(t) = self.tasks.remove(task) else {
            return;
        };
        if let Some(tr) = &mut self.tracer {
            tr.task_ended(now, task, Err(FailReason::Timeout));
        }
        if counted && now >= self.warmup {
            self.ledger.service_shed[t.service as usize] += 1;
        }
        match t.parent {
            Parent::Visit(visit) => {
                let mut cx = Cx {
                    now,
                    queue: &mut self.queue,
                    notices: &mut self.notices,
                };
                self.components.services[t.service as usize].release_shed(&mut cx, t.placed.job);
                self.reply(now, visit, Err(FailReason::Timeout));
            }
            Parent::Branch(fanout) => self.branch_done(now, fanout, Err(FailReason::Timeout)),
            // A component's own work has no deadline; nothing waits for it.
            Parent::Own => {}
        }
    }

    /// Runs a task's steps until one has to wait.
    fn run_task(&mut self, now: SimTime, task: Handle) {
        let Some(t) = self.tasks.get(task).copied() else {
            return;
        };
        let block = &self.program.blocks[t.block as usize];
        let Some(&step) = block.get(t.pos as usize) else {
            self.task_done(now, task, Ok(()));
            return;
        };
        if self.expired(now, &t) {
            self.shed_task(now, task, true);
            return;
        }
        match step {
            Step::Call { service } => {
                let call = self.calls.insert(Call {
                    caller: task,
                    from: t.service,
                    service,
                    block: t.block,
                    pos: t.pos + 1,
                    attempts: 0,
                    current: None,
                    last_backoff: SimTime::ZERO,
                });
                if let Some(tr) = &mut self.tracer {
                    tr.call_started(now, task, call, service);
                }
                self.send_call(now, call);
            }
            Step::Component { kind, index, op } => {
                if let Some(t) = self.tasks.get_mut(task) {
                    t.pending = Some((kind, index, op));
                }
                self.begin_component_step(now, task);
            }
            Step::Parallel {
                first,
                branches,
                need,
            } => {
                let fanout = self.fanouts.insert(Fanout {
                    task,
                    need,
                    total: branches,
                    ok: 0,
                    failed: 0,
                    reason: None,
                    resolved: false,
                });
                if let Some(tr) = &mut self.tracer {
                    tr.fanout_started(now, task, fanout, branches, need);
                }
                for b in 0..branches as u32 {
                    let branch = self.tasks.insert(Task {
                        block: first + b,
                        pos: 0,
                        parent: Parent::Branch(fanout),
                        conn: None,
                        pending: None,
                        sub: None,
                        at: None,
                        ..t
                    });
                    if let Some(tr) = &mut self.tracer {
                        tr.branch_started(now, fanout, branch, b);
                    }
                    self.run_task(now, branch);
                }
            }
        }
    }

    /// A task's pending component step: take a connection of its instance first when it
    /// is a database step and the service limits them.
    fn begin_component_step(&mut self, now: SimTime, task: Handle) {
        let Some(t) = self.tasks.get(task).copied() else {
            return;
        };
        if let (Some(tr), Some((kind, index, op))) = (&mut self.tracer, t.pending) {
            tr.step_started(now, task, kind, index, op);
        }
        if let Some((Kind::Db, db, _)) = t.pending {
            let s = &mut self.components.services[t.service as usize];
            if !s.acquire_connection(t.placed, db, task) {
                if let Some(tr) = &mut self.tracer {
                    tr.connection_wait(now, task);
                }
                return; // told by Notice::Connected
            }
            if let Some(t) = self.tasks.get_mut(task) {
                t.conn = Some(db);
            }
        }
        self.delay_then_start(now, task);
    }

    /// Starts a task's pending step after the network's round trip to a database.
    #[inline]
    fn delay_then_start(&mut self, now: SimTime, task: Handle) {
        let Some(t) = self.tasks.get(task).copied() else {
            return;
        };
        let delay = match t.pending {
            Some((Kind::Db, db, _)) => {
                let (a, b) = (End::Service(t.service), End::Database(db));
                let there = self.network.delay(a, b);
                there.saturating_add(self.network.delay(b, a))
            }
            _ => SimTime::ZERO,
        };
        self.after_delay(now, delay, PathEvent::StepAt { task });
    }

    fn start_pending(&mut self, now: SimTime, task: Handle) {
        let Some(t) = self.tasks.get_mut(task) else {
            return;
        };
        let Some((kind, index, op)) = t.pending.take() else {
            return;
        };
        t.at = Some((kind, index, op));
        let t = *t;
        let replay = kind == Kind::Db && op == WRITE && self.keyed(&t) && self.applied(&t);
        if replay {
            // Answered from the record: no query runs (nor is counted as one).
            if let Some(t) = self.tasks.get_mut(task) {
                t.at = None;
            }
        }
        let user = match kind {
            // Sessions go by the instance too (its memory holds them).
            Kind::Sessions => {
                crate::graph::components::sessions::step_arg(t.user, t.placed.instance)
            }
            _ => t.user,
        };
        let mut cx = Cx {
            now,
            queue: &mut self.queue,
            notices: &mut self.notices,
        };
        if kind != Kind::Db {
            self.components
                .step_at(&mut cx, kind, index, op, task, user, t.service, t.placed);
            return;
        }
        if replay {
            // The database finds the write's idempotency key in its record: it answers
            // without applying the write again.
            self.ledger.idempotent_replays += 1;
            cx.step_done(task, Ok(()));
            return;
        }
        // A database knows the client's deadline only when it travels with the request.
        let deadline = if self.ledger.propagate {
            t.deadline
        } else {
            SimTime::NEVER
        };
        self.components.databases[index as usize].query(&mut cx, op, task, t.user, deadline);
    }

    /// Whether `t` is for a client whose attempts carry idempotency keys.
    #[inline]
    fn keyed(&self, t: &Task) -> bool {
        t.root
            .and_then(|(r, _)| self.requests.get(r))
            .is_some_and(|r| {
                self.populations[r.population as usize]
                    .clients
                    .idempotency_keys
            })
    }

    /// Whether the write `t` is on has been applied for its request already.
    fn applied(&self, t: &Task) -> bool {
        t.root.is_some_and(|(r, _)| {
            self.ledger
                .applied
                .contains(&(r.idx, r.gen, t.block, t.pos))
        })
    }

    /// A database step of `t` ended with `result`: work finished after the deadline is
    /// wasted, and a write's effect is applied once per request and step — again on a
    /// retry without an idempotency key (a duplicate), not again with one.
    fn db_step_ended(&mut self, now: SimTime, t: &Task, db: u16, op: u8, ok: bool) {
        if !ok {
            return;
        }
        if now >= t.deadline && now >= self.warmup {
            self.ledger.db_wasted[db as usize] += 1;
        }
        let Some((r, _)) = t.root else {
            return;
        };
        if op != WRITE || !self.ledger.track_writes || self.requests.get(r).is_none() {
            return;
        }
        if !self.ledger.applied.insert((r.idx, r.gen, t.block, t.pos)) {
            if self.keyed(t) {
                self.ledger.idempotent_replays += 1;
            } else {
                self.ledger.duplicate_executions += 1;
            }
        }
    }

    /// A component ended a task's step.
    fn step_ended(&mut self, now: SimTime, task: Handle, result: Result<(), FailReason>) {
        if let Some(tr) = &mut self.tracer {
            tr.step_ended(now, task, result);
        }
        let Some(t) = self.tasks.get_mut(task) else {
            return;
        };
        let (service, placed) = (t.service, t.placed);
        let conn = t.conn.take();
        let sub = t.sub.take();
        let at = t.at.take();
        if let Some((kind, index)) = sub {
            // Back to waiting for the component that asked for the step.
            t.at = Some((kind, index, 0));
        }
        let t = *t;
        if let Some((Kind::Db, db, op)) = at {
            self.db_step_ended(now, &t, db, op, result.is_ok());
        }
        if let Some(db) = conn {
            let mut cx = Cx {
                now,
                queue: &mut self.queue,
                notices: &mut self.notices,
            };
            self.components.services[service as usize].release_connection(&mut cx, placed, db);
        }
        if let Some((kind, index)) = sub {
            let mut cx = Cx {
                now,
                queue: &mut self.queue,
                notices: &mut self.notices,
            };
            self.components.reply(&mut cx, kind, index, task, result);
            return;
        }
        match result {
            Ok(()) => {
                if let Some(t) = self.tasks.get_mut(task) {
                    t.pos += 1;
                }
                self.run_task(now, task);
            }
            Err(reason) => self.task_done(now, task, Err(reason)),
        }
    }

    /// A task's block ended: tell its parent.
    fn task_done(&mut self, now: SimTime, task: Handle, result: Result<(), FailReason>) {
        let Some(t) = self.tasks.remove(task) else {
            return;
        };
        if let Some(tr) = &mut self.tracer {
            tr.task_ended(now, task, result);
        }
        match t.parent {
            Parent::Visit(visit) => {
                self.visit_block_done(now, visit, t.service, t.placed, t.deadline, result)
            }
            Parent::Branch(fanout) => self.branch_done(now, fanout, result),
            Parent::Own => {}
        }
    }

    /// The block `visit` runs at instance `placed` of `service` ended with `result`: the
    /// worker is released and the caller (waiting until `deadline`) hears the outcome.
    #[inline]
    fn visit_block_done(
        &mut self,
        now: SimTime,
        visit: Handle,
        service: u16,
        placed: super::components::service::Placed,
        deadline: SimTime,
        result: Result<(), FailReason>,
    ) {
        if result.is_ok() {
            let origin = self.visits.get(visit).map(|v| v.origin);
            if now >= self.warmup {
                if now >= deadline {
                    // Nobody waits for this answer any more.
                    self.ledger.service_wasted[service as usize] += 1;
                }
                let client = matches!(origin, Some(Origin::Request(_)));
                self.ledger.attempts_completed += u64::from(client);
            }
            if let Some(Origin::Request(r)) = origin {
                self.served(r);
            }
        }
        let mut cx = Cx {
            now,
            queue: &mut self.queue,
            notices: &mut self.notices,
        };
        self.components.services[service as usize].release(&mut cx, placed.job, result.is_ok());
        self.reply(now, visit, result);
    }

    /// A client attempt's path finished at its first service: its request is served (the
    /// record a keyed retry is answered from). The single-tier form counts a node's work
    /// for a request already served as a duplicate execution (its node's work is the
    /// request's effect); a graph counts only writes applied again.
    #[inline]
    fn served(&mut self, request: Handle) {
        if let Some(r) = self.requests.get_mut(request) {
            if r.served && self.single_tier {
                self.ledger.duplicate_executions += 1;
            }
            r.served = true;
        }
    }

    fn branch_done(&mut self, now: SimTime, fanout: Handle, result: Result<(), FailReason>) {
        let Some(f) = self.fanouts.get_mut(fanout) else {
            return;
        };
        match result {
            Ok(()) => f.ok += 1,
            Err(r) => {
                f.failed += 1;
                f.reason.get_or_insert(r);
            }
        }
        let f = *f;
        if f.ok + f.failed == f.total {
            self.fanouts.remove(fanout);
        }
        if f.resolved {
            return;
        }
        if f.ok >= f.need {
            self.resolve(now, fanout, true);
            if let Some(t) = self.tasks.get_mut(f.task) {
                t.pos += 1;
            }
            self.run_task(now, f.task);
        } else if f.failed > f.total - f.need {
            self.resolve(now, fanout, false);
            let reason = f.reason.unwrap_or(FailReason::Error);
            self.task_done(now, f.task, Err(reason));
        }
    }

    fn resolve(&mut self, now: SimTime, fanout: Handle, ok: bool) {
        if let Some(t) = &mut self.tracer {
            t.fanout_resolved(now, fanout, ok);
        }
        if let Some(f) = self.fanouts.get_mut(fanout) {
            f.resolved = true;
        }
    }

    /// A visit's outcome goes back to its caller over the network.
    #[inline]
    fn reply(&mut self, now: SimTime, visit: Handle, result: Result<(), FailReason>) {
        let Some((origin, service)) = self.visits.get(visit).map(|v| (v.origin, v.service)) else {
            return;
        };
        let d = if self.network.is_instant() {
            SimTime::ZERO
        } else {
            let to = match origin {
                Origin::Request(r) => self.requests.get(r).map(|r| End::Population(r.population)),
                Origin::Call(c) => self.calls.get(c).map(|c| End::Service(c.from)),
                Origin::Component { .. } => None,
            };
            match to {
                Some(to) => self.network.delay(End::Service(service), to),
                None => SimTime::ZERO,
            }
        };
        self.after_delay(now, d, PathEvent::Answer { visit, result });
    }

    /// The caller stopped waiting for `visit` (timeout): its connection closes now.
    #[inline]
    fn give_up(&mut self, visit: Handle) {
        if let Some(v) = self.visits.get_mut(visit) {
            if let (Some(p), false) = (v.placed, v.closed) {
                v.closed = true;
                self.components.services[v.service as usize].close(p);
            }
        }
    }

    /// A visit's answer reaches its caller.
    #[inline]
    fn answer(&mut self, now: SimTime, visit: Handle, result: Result<(), FailReason>) {
        let Some(v) = self.visits.remove(visit) else {
            return;
        };
        // Its connection closes now (unless the caller gave up on it already).
        if let (Some(p), false) = (v.placed, v.closed) {
            self.components.services[v.service as usize].close(p);
        }
        if let Some(t) = &mut self.tracer {
            t.visit_answered(now, visit, result);
        }
        match v.origin {
            Origin::Request(request) => {
                let pop = match self.requests.get_mut(request) {
                    Some(r) if r.current == Some(visit) => {
                        r.current = None;
                        r.population
                    }
                    _ => {
                        self.wasted += u64::from(result.is_ok());
                        return;
                    }
                };
                match result {
                    Ok(()) => {
                        self.populations[pop as usize].clients.accepted(now);
                        self.end_request(now, request, Ok(()));
                    }
                    Err(reason) => self.request_failed(now, request, reason),
                }
            }
            Origin::Call(call) => {
                let current = self
                    .calls
                    .get(call)
                    .is_some_and(|c| c.current == Some(visit));
                if !current {
                    self.wasted += u64::from(result.is_ok());
                    return;
                }
                if let Some(c) = self.calls.get_mut(call) {
                    c.current = None;
                }
                match result {
                    Ok(()) => {
                        let c = self.calls.remove(call).expect("live");
                        if let Some(cl) = &mut self.call_clients[c.from as usize] {
                            cl.accepted(now);
                        }
                        // The call took the rest of the caller's block: it is done too.
                        self.task_done(now, c.caller, Ok(()));
                    }
                    Err(reason) => self.call_failed(now, call, reason),
                }
            }
            Origin::Component { kind, index, token } => {
                let mut cx = Cx {
                    now,
                    queue: &mut self.queue,
                    notices: &mut self.notices,
                };
                self.components
                    .answered(&mut cx, kind, index, token, result);
            }
        }
    }

    /// Sends the next attempt of a service's call.
    fn send_call(&mut self, now: SimTime, call: Handle) {
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        c.attempts += 1;
        let c = *c;
        let Some(caller) = self.tasks.get(c.caller).copied() else {
            // The caller is gone (its own visit failed): nothing waits for this call.
            self.calls.remove(call);
            return;
        };
        if self.expired(now, &caller) {
            // A retry after the deadline: nobody would wait for its answer.
            self.calls.remove(call);
            self.shed_task(now, c.caller, true);
            return;
        }
        let timeout = self.call_clients[c.from as usize]
            .as_ref()
            .and_then(|cl| cl.timeout());
        let own_deadline = timeout.map_or(SimTime::NEVER, |t| now.saturating_add(t));
        let visit = self.visits.insert(Visit {
            origin: Origin::Call(call),
            attempt_no: c.attempts,
            service: c.service,
            block: c.block,
            pos: c.pos,
            kind: caller.kind,
            key: call.idx,
            user: caller.user,
            placed: None,
            closed: false,
            deadline: own_deadline.min(caller.deadline),
            own_deadline,
            root: caller.root,
        });
        if let Some(t) = &mut self.tracer {
            let origin = Origin::Call(call);
            t.visit_sent(now, visit, origin, c.service, c.attempts, Some(c.from));
        }
        if let Some(cm) = self.calls.get_mut(call) {
            cm.current = Some(visit);
        }
        if let Some(t) = timeout {
            let ev = PathEvent::CallTimeout {
                call,
                attempt_no: c.attempts,
            };
            // A service's call timeouts have one length too; one that would break the
            // lane's order (another caller's, a population's) goes to the heap instead.
            self.queue.schedule_in_order(t, Event::Path(ev));
        }
        let d = self
            .network
            .delay(End::Service(c.from), End::Service(c.service));
        self.after_delay(now, d, PathEvent::Arrive { visit });
    }

    /// A call's attempt failed: retry by the calling service's policy, or fail its task.
    fn call_failed(&mut self, now: SimTime, call: Handle, reason: FailReason) {
        let Some(c) = self.calls.get(call).copied() else {
            return;
        };
        let caller_expired = self
            .tasks
            .get(c.caller)
            .is_some_and(|t| self.expired(now, t));
        if caller_expired {
            // Nobody waits for the caller's answer: no retry, its task is dropped (counted
            // where the call failed, not again here).
            self.calls.remove(call);
            self.shed_task(now, c.caller, false);
            return;
        }
        let decision = match &mut self.call_clients[c.from as usize] {
            Some(cl) if retryable(reason) => cl.after_failure(c.attempts, c.last_backoff, now),
            _ => RetryDecision::Exhausted,
        };
        match decision {
            RetryDecision::RetryAfter(wait) => {
                if let Some(c) = self.calls.get_mut(call) {
                    c.last_backoff = wait;
                }
                if let Some(t) = &mut self.tracer {
                    t.call_backoff(now, call, c.attempts + 1, wait);
                }
                self.queue
                    .schedule_in(wait, Event::Path(PathEvent::CallRetry { call }));
            }
            RetryDecision::BudgetDenied | RetryDecision::Exhausted => {
                self.calls.remove(call);
                self.task_done(now, c.caller, Err(reason));
            }
        }
    }

    /// A request's attempt failed: retry by its population's policy, or end it.
    fn request_failed(&mut self, now: SimTime, request: Handle, reason: FailReason) {
        let Some(r) = self.requests.get(request).copied() else {
            return;
        };
        if let Some(t) = &mut self.tracer {
            t.attempt_failed(now, request, reason);
        }
        if !retryable(reason) {
            self.end_request(now, request, Err(reason));
            return;
        }
        let clients = &mut self.populations[r.population as usize].clients;
        match clients.after_failure(r.attempts, r.last_backoff, now) {
            RetryDecision::RetryAfter(wait) => {
                if let Some(r) = self.requests.get_mut(request) {
                    r.last_backoff = wait;
                }
                if let Some(t) = &mut self.tracer {
                    t.backoff(now, request, wait);
                }
                self.queue
                    .schedule_in(wait, Event::Path(PathEvent::Retry { request }));
            }
            RetryDecision::BudgetDenied => {
                self.recorder.budget_denied += 1;
                if let Some(t) = &mut self.tracer {
                    t.mark(now, request, "retry denied by the budget");
                }
                self.end_request(now, request, Err(reason));
            }
            RetryDecision::Exhausted => self.end_request(now, request, Err(reason)),
        }
    }

    /// Ends a request exactly once; a user thinks and comes back.
    #[inline]
    fn end_request(&mut self, now: SimTime, request: Handle, result: Result<(), FailReason>) {
        let Some(r) = self.requests.remove(request) else {
            return;
        };
        if let Some(t) = &mut self.tracer {
            t.request_ended(now, request, result.err().map_or("ok", FailReason::name));
        }
        self.ledger.forget(request);
        if let Some(log) = &mut self.request_log {
            log.push(super::request_log::RequestRecord {
                population: r.population,
                user: r.user,
                kind: r.kind,
                issued_at: r.issued_at,
                ended_at: now,
                outcome: result,
            });
        }
        match result {
            Ok(()) => self.recorder.succeeded(r.issued_at, now, r.wait),
            Err(reason) => self.recorder.failed(reason, r.issued_at, now),
        }
        let p = &mut self.populations[r.population as usize];
        p.ended(r.issued_at, now, result.is_ok());
        if let Some(user) = r.user {
            let key = user_key(r.population, r.user, request);
            for s in &mut self.components.sessions {
                s.request_ended(key, result);
            }
            let t = p.think(user);
            let ev = super::population::PopulationEvent::Wake { user };
            self.queue
                .schedule_in(t, Event::Population(r.population, ev));
        }
    }

    /// A component's work of request kind `kind` goes to the first service of its path
    /// (its steps after that run there, as for a client's request).
    fn dispatch(&mut self, now: SimTime, kind: u16, from: Kind, index: u16, token: u64) {
        let root = self.program.roots[kind as usize];
        let Step::Call { service } = self.program.blocks[root as usize][0] else {
            unreachable!("validated: a path starts with a call");
        };
        let visit = self.visits.insert(Visit {
            origin: Origin::Component {
                kind: from,
                index,
                token,
            },
            attempt_no: 1,
            service,
            block: root,
            pos: 1,
            kind,
            key: token as u32,
            user: dispatch_key(token),
            placed: None,
            closed: false,
            deadline: SimTime::NEVER,
            own_deadline: SimTime::NEVER,
            root: None,
        });
        self.arrive(now, visit);
    }
}
