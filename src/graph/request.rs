//! A request's life in a graph run: the request a client sends (with its attempts), the
//! calls a service makes to another (with their own attempts), the visits (one attempt
//! at one service instance), the tasks (a path block running on a worker) and fan-outs.
//! All live in generation-checked slabs, so a stale reference is recognised, never followed.

use crate::engine::SimTime;
use crate::graph::components::service::Placed;
use crate::graph::fail::FailReason;
use crate::graph::registry::Kind;
use crate::graph::slab::Handle;

/// A client's request.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// Its population.
    pub population: u16,
    /// Its user (closed populations), if any.
    pub user: Option<u32>,
    /// Its kind (index in the model's `requests`).
    pub kind: u16,
    /// When it was issued.
    pub issued_at: SimTime,
    /// Attempts sent so far.
    pub attempts: u32,
    /// The visit of the attempt the client waits for, if it waits.
    pub current: Option<Handle>,
    /// The previous backoff (for decorrelated jitter).
    pub last_backoff: SimTime,
    /// When the client stops waiting for its current attempt (`SimTime::NEVER`: never).
    pub deadline: SimTime,
    /// Queue wait of its current attempt's visits at service instances so far (every hop,
    /// every call and branch of that attempt, summed).
    pub wait: SimTime,
    /// One of its attempts' paths has finished at its first service (whether or not the
    /// client still waited for it).
    pub served: bool,
}

/// The client's attempt a piece of work is for: its request and the attempt's number.
pub type Root = (Handle, u32);

/// The user a client's request is for, as components see it: one key per user of a
/// closed population (kept apart between populations), one per request otherwise (its
/// slot and generation, so a reused slot is a new user).
pub fn user_key(population: u16, user: Option<u32>, request: Handle) -> u64 {
    match user {
        Some(u) => (u64::from(population) << 32) | u64::from(u),
        None => OPEN_USER | (u64::from(request.gen & 0x3fff_ffff) << 32) | u64::from(request.idx),
    }
}

/// The user key of work a component dispatched with `token` (a topic's message).
pub fn dispatch_key(token: u64) -> u64 {
    DISPATCHED | (token & (DISPATCHED - 1))
}

/// Marks the user key of a request of an open population.
const OPEN_USER: u64 = 1 << 63;
/// Marks the user key of a component's dispatched work.
const DISPATCHED: u64 = 1 << 62;

/// A call from a task on one service's worker to another service.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// The task that made it (it ends when the call does).
    pub caller: Handle,
    /// The calling service (its `calls` policy applies).
    pub from: u16,
    /// The called service.
    pub service: u16,
    /// Where the rest of the path continues on the callee: block and step.
    pub block: u32,
    /// The first step there.
    pub pos: u16,
    /// Attempts sent so far.
    pub attempts: u32,
    /// The visit the caller waits for.
    pub current: Option<Handle>,
    /// The previous backoff.
    pub last_backoff: SimTime,
}

/// Who waits for a visit's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A client's request.
    Request(Handle),
    /// A service's call.
    Call(Handle),
    /// Work a component dispatched (a topic's delivery of a message to its consumer).
    Component { kind: Kind, index: u16, token: u64 },
}

/// One attempt at one service.
#[derive(Clone, Copy, Debug)]
pub struct Visit {
    /// Who waits for it.
    pub origin: Origin,
    /// Which attempt of its origin it is.
    pub attempt_no: u32,
    /// The service.
    pub service: u16,
    /// The block and step the path continues with there.
    pub block: u32,
    /// The first step there.
    pub pos: u16,
    /// The request kind (for the service's own work).
    pub kind: u16,
    /// Key for the balancer's hashing (a user, or the request).
    pub key: u32,
    /// Whom the work is for (see [`user_key`]): the `arg` of its component steps.
    pub user: u64,
    /// Where it was placed, once it was.
    pub placed: Option<Placed>,
    /// The balancer's connection is closed (answered, or the caller gave up).
    pub closed: bool,
    /// When the last one waiting up the chain stops waiting (its direct caller, or any
    /// caller above): work for it finished later is wasted. `SimTime::NEVER`: never.
    pub deadline: SimTime,
    /// When its direct caller stops waiting (what the service's queue knows without
    /// propagated deadlines).
    pub own_deadline: SimTime,
    /// The client's attempt it is part of (`None`: a component's dispatched work).
    pub root: Option<Root>,
}

/// Whom a task tells when its block ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parent {
    /// The visit whose worker runs it.
    Visit(Handle),
    /// A fan-out it is a branch of.
    Branch(Handle),
    /// Nobody: a component's own step (see `Notice::Own`).
    Own,
}

/// A block of a path running on one worker.
#[derive(Clone, Copy, Debug)]
pub struct Task {
    /// The block.
    pub block: u32,
    /// The step it is on.
    pub pos: u16,
    /// Whom it tells when done.
    pub parent: Parent,
    /// The service whose worker runs it.
    pub service: u16,
    /// Where on that service.
    pub placed: Placed,
    /// The request kind.
    pub kind: u16,
    /// Whom the work is for (its visit's `user`): the `arg` of its component steps, so
    /// that a database can route and check a user's reads against that user's writes.
    pub user: u64,
    /// The database whose connection it holds for its current step.
    pub conn: Option<u16>,
    /// A component step waiting to start (for a connection, or a network delay).
    pub pending: Option<(Kind, u16, u8)>,
    /// Its current step's outcome goes to this component (it asked for the step).
    pub sub: Option<(Kind, u16)>,
    /// The component step under way (sent, not yet answered): what it waits for.
    pub at: Option<(Kind, u16, u8)>,
    /// Its visit's deadline (see [`Visit::deadline`]).
    pub deadline: SimTime,
    /// Its visit's client attempt.
    pub root: Option<Root>,
}

/// A `Parallel` step waiting for its branches.
#[derive(Clone, Copy, Debug)]
pub struct Fanout {
    /// The task waiting.
    pub task: Handle,
    /// Successes needed.
    pub need: u16,
    /// Branches in all.
    pub total: u16,
    /// Successes so far.
    pub ok: u16,
    /// Failures so far.
    pub failed: u16,
    /// The first failure's reason.
    pub reason: Option<FailReason>,
    /// The waiting task has been told.
    pub resolved: bool,
}

/// What the path counts about work and its effects, beyond the clients' outcomes: work
/// finished for nobody (wasted) and work dropped because nobody waits for it any more
/// (shed), by service and database (measured from the end of the warm-up), and the
/// effects of writes a retry made again (whole run, as the single-tier form counts them).
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// Whether deadlines travel with requests (the model's `propagate_deadlines`).
    pub propagate: bool,
    /// Whether a write can be sent again for the same request (something retries): only
    /// then are applied writes recorded.
    pub track_writes: bool,
    /// By service: visits whose path finished there after their deadline.
    pub service_wasted: Vec<u64>,
    /// By service: visits dropped at a step because their deadline had passed.
    pub service_shed: Vec<u64>,
    /// By database: queries answered after their task's deadline.
    pub db_wasted: Vec<u64>,
    /// Writes applied, by (request slot, generation, block, step), of requests in flight
    /// that may send their write again (a retry at any layer).
    pub applied: std::collections::BTreeSet<(u32, u32, u32, u16)>,
    /// Writes applied a second time for the same request and step (no idempotency key).
    pub duplicate_executions: u64,
    /// Writes recognised by their idempotency key and not applied again.
    pub idempotent_replays: u64,
    /// Client attempts whose path finished at their first service after the warm-up,
    /// useful or not (the single-tier form's attempts completed by nodes).
    pub attempts_completed: u64,
}

impl Ledger {
    /// An empty ledger for `services` services and `databases` databases.
    pub fn new(propagate: bool, services: usize, databases: usize, track_writes: bool) -> Ledger {
        Ledger {
            propagate,
            track_writes,
            service_wasted: vec![0; services],
            service_shed: vec![0; services],
            db_wasted: vec![0; databases],
            ..Default::default()
        }
    }

    /// Forgets the writes of a request that ended (its slot may be reused).
    pub fn forget(&mut self, request: Handle) {
        if self.applied.is_empty() {
            return;
        }
        let from = (request.idx, request.gen, 0, 0);
        let to = (request.idx, request.gen, u32::MAX, u16::MAX);
        // One key at a time: a request has a write or two at most, and collecting them
        // first would allocate for every request that ends.
        while let Some(&k) = self.applied.range(from..=to).next() {
            self.applied.remove(&k);
        }
    }
}
