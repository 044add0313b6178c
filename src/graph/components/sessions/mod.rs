//! The user sessions a named service checks (`Service(sessions: Sessions(…))`): a
//! component of its own, one per service with sessions, keyed `sessions.<service>`.
//!
//! Why a component of its own rather than part of the service or of the population: the
//! sessions of a service are state that neither owns alone. Which instance holds a
//! session (in-memory design) is the service's business, whether the user is logged in
//! is the user's, and the session row lives in a database of the model. Kept apart, the
//! service stays a pool of instances, the population stays a source of requests, and the
//! store's work is done by the database through the path (`Notice::Sub`), like a
//! counter's writes: its workers, queue, connections and replicas with lag serve the
//! session reads and writes, and a read from a lagging replica is told back
//! (`Notice::StaleRead`) so that the check sees what that replica shows.
//!
//! Its step (op [`CHECK`]) is put by the program right after every `Call` to the service,
//! so it is the first thing a visit's worker does after the service's own work. Its `arg`
//! carries the user and the instance ([`step_arg`]). A request from a closed population's
//! user does what the user's session says (log in, browse, log out, or a stale tab's
//! request), decided once per request and kept for its retries; a request of an open
//! population or a burst has no user to log in and passes unchecked. The path tells the
//! component when a user's request has ended ([`Sessions::request_ended`]): only then
//! does the user know they are logged in or out.
//!
//! An instance crash (a `Crash` fault on the service) loses the sessions in its memory.
//! Counts are from the end of the warm-up (but see [`Sessions::count_from_start`]).
//! Draws come from `"sessions/<service>"`.
//!
//! The race of a login and a "log out of all devices" (`logout: AllDevices`): the path
//! tells the component when each request was issued ([`Sessions::request_issued`]), and
//! the store applies the two writes in the order they reach it, which may be the other
//! one (`race_login_survived_logout_all`, `race_login_lost_to_earlier_logout`).

mod users;

use std::collections::BTreeMap;

use crate::config::experiment::FaultSpec;
use crate::config::graph::{PopulationSpec, PopulationWorkload, ServiceSessionDesign};
use crate::config::model::{LogoutScope, OutagePolicy};
use crate::config::ModelSpec;
use crate::engine::keyed::KeyedDraws;
use crate::engine::{stream, Distribution, SimTime, Stream};
use crate::graph::component::Component;
use crate::graph::components::database::{READ, WRITE};
use crate::graph::cx::{Cx, Notice};
use crate::graph::fail::FailReason;
use crate::graph::names::Names;
use crate::graph::registry::{Event, Kind};
use crate::graph::slab::Handle;
use crate::metrics::schema::{ComponentFigures, ComponentSeries, SESSIONS};
use users::{wrong_password, Action, Pending, PopulationUsers};

/// Its step: check (or create, or end) the request's session.
pub const CHECK: u8 = 0;

/// Where a step's `arg` carries the instance (above the user key of a closed population).
const INSTANCE_SHIFT: u32 = 48;
/// User keys with any of these bits set are not a closed population's user.
const NOT_A_USER: u64 = 0b11 << 62;

/// The `arg` of a sessions step: the user key (see `request::user_key`) with the
/// instance the visit was placed on. A closed population's user key fits in 48 bits.
pub fn step_arg(user: u64, instance: u32) -> u64 {
    user | (u64::from(instance) << INSTANCE_SHIFT)
}

/// A sessions component's events.
#[derive(Clone, Copy, Debug)]
pub enum SessionsEvent {
    /// The extra work of a login (`login_service`) on `task` is done.
    LoginWorked { task: Handle },
}

/// Where a design keeps sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Design {
    InMemory,
    Externalized { fail_open: bool, writes: u32 },
    Token { ttl: SimTime, revocation: bool },
}

/// What a step waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    LoginWork,
    LoginWrite { left: u32 },
    LogoutWrite,
    Read,
}

/// A step in progress.
#[derive(Clone, Copy, Debug)]
struct Op {
    pop: usize,
    user: usize,
    entity: u64,
    instance: usize,
    /// The instance's memory epoch when the step began (a crash bumps it).
    epoch: u32,
    wait: Wait,
    /// The request's action and the session it presents (or, for a login, creates), as
    /// when the step began: the request may end (time out) before the step does.
    p: Pending,
    /// The read came from a replica behind the user's latest write.
    stale: bool,
}

/// What went right and wrong, from the end of the warm-up.
#[derive(Clone, Debug, Default)]
struct Counts {
    logins: u64,
    logouts: u64,
    authenticated: u64,
    rejected: u64,
    spurious_logouts: u64,
    lost_on_crash: u64,
    accepted_after_logout: u64,
    duplicate_sessions: u64,
    stale_reads: u64,
    race_login_survived_logout_all: u64,
    race_login_lost_to_earlier_logout: u64,
    failed_logins: u64,
    lockouts: u64,
    locked_out_logins: u64,
    ended_by_single_device: u64,
}

/// One service's sessions.
pub struct Sessions {
    index: u16,
    service: String,
    design: Design,
    /// The store's database index, if the design has one.
    store: Option<u16>,
    login_work: Option<Distribution>,
    logout_all: bool,
    single_device: bool,
    failed_login_share: f64,
    lockout_after: Option<u32>,
    lockout_for: SimTime,
    draws: KeyedDraws,
    rng: Stream,
    /// Closed populations' users, by population index (`None`: an open one).
    pops: Vec<Option<PopulationUsers>>,
    /// Each closed population's first user in the tables' numbering.
    offsets: Vec<usize>,
    /// Closed populations' users in all.
    total_users: usize,
    /// Per instance, per user (numbered by `offsets`): the session in its memory (0:
    /// none; in-memory design only).
    tables: Vec<Vec<u32>>,
    /// Instances the service started with (the tables are made once the users are known).
    instances: usize,
    /// Per instance: bumped at each crash (its memory is gone).
    epochs: Vec<u32>,
    ops: BTreeMap<(u32, u32), Op>,
    next_serial: u32,
    logged_in: u64,
    measured_from: SimTime,
    /// Counts from the start of the run, warm-up included (a single-tier file's
    /// `sessions` section: see [`Sessions::count_from_start`]).
    from_start: bool,
    counts: Counts,
    /// Whole-run counts at the last interval's end (for the per-interval columns).
    iv_base: Counts,
    all: Counts,
    rows: Vec<Vec<f64>>,
}

fn key(h: Handle) -> (u32, u32) {
    (h.idx, h.gen)
}

impl Sessions {
    fn new(
        index: u16,
        service: &str,
        spec: &crate::config::graph::ServiceSessionsSpec,
        instances: u32,
        names: &Names,
        seed: u64,
    ) -> Sessions {
        let design = match &spec.design {
            ServiceSessionDesign::InMemory => Design::InMemory,
            ServiceSessionDesign::Externalized {
                on_outage,
                writes_per_login,
                ..
            } => Design::Externalized {
                fail_open: *on_outage == OutagePolicy::FailOpen,
                writes: *writes_per_login,
            },
            ServiceSessionDesign::SignedToken {
                ttl,
                revocation_list,
            } => Design::Token {
                ttl: ttl.0,
                revocation: revocation_list.is_some(),
            },
        };
        Sessions {
            index,
            service: service.to_string(),
            design,
            store: spec.design.store().map(|db| names.databases[db]),
            login_work: spec.login_service.as_ref().map(|d| d.resolve()),
            logout_all: spec.logout == LogoutScope::AllDevices,
            single_device: spec.single_device,
            failed_login_share: spec.failed_login_share,
            lockout_after: spec.lockout_after,
            lockout_for: spec.lockout_for.0,
            draws: KeyedDraws::new(seed, &format!("sessions/{service}")),
            rng: stream(seed, &format!("sessions/{service}/work")),
            pops: Vec::new(),
            offsets: Vec::new(),
            total_users: 0,
            tables: Vec::new(),
            instances: instances as usize,
            epochs: vec![0; instances as usize],
            ops: BTreeMap::new(),
            next_serial: 1,
            logged_in: 0,
            measured_from: SimTime::ZERO,
            from_start: false,
            counts: Counts::default(),
            iv_base: Counts::default(),
            all: Counts::default(),
            rows: Vec::new(),
        }
    }

    /// Meets the experiment's client populations (in the experiment's order): the users
    /// of each closed one, with their logout and stale-tab shares and devices.
    pub fn populations<'a>(&mut self, pops: impl Iterator<Item = &'a PopulationSpec>) {
        let pops: Vec<&PopulationSpec> = pops.collect();
        self.pops = pops
            .iter()
            .map(|p| match p.workload {
                PopulationWorkload::Users {
                    count,
                    logout_share,
                    stale_tab_share,
                    devices,
                    ..
                } => Some(PopulationUsers {
                    logout_share,
                    stale_tab_share,
                    devices,
                    users: vec![Default::default(); count as usize],
                    logout_all_issued: vec![None; count.div_ceil(devices.max(1)) as usize],
                }),
                _ => None,
            })
            .collect();
        let mut total = 0;
        self.offsets = self
            .pops
            .iter()
            .map(|p| {
                let at = total;
                total += p.as_ref().map_or(0, |p| p.users.len());
                at
            })
            .collect();
        self.total_users = total;
        if self.design == Design::InMemory {
            self.tables = vec![vec![0; total]; self.instances];
        }
    }

    /// The tables' number of user `u` of population `pop`.
    fn ordinal(&self, pop: usize, u: usize) -> usize {
        self.offsets[pop] + u
    }

    /// The population and user of a user key, if it is a closed population's user.
    fn locate(&self, entity: u64) -> Option<(usize, usize)> {
        if entity & NOT_A_USER != 0 {
            return None;
        }
        let pop = (entity >> 32) as usize;
        let user = (entity & 0xffff_ffff) as usize;
        let p = self.pops.get(pop)?.as_ref()?;
        (user < p.users.len()).then_some((pop, user))
    }

    /// Counts `f` in the whole-run counts, and after the warm-up in the measured ones.
    fn count(&mut self, now: SimTime, f: fn(&mut Counts)) {
        f(&mut self.all);
        if now >= self.measured_from {
            f(&mut self.counts);
        }
    }

    fn users(&mut self, pop: usize) -> &mut PopulationUsers {
        self.pops[pop].as_mut().expect("located")
    }

    fn sub(&self, cx: &mut Cx<'_>, task: Handle, op: u8) {
        cx.notify(Notice::Sub {
            task,
            kind: Kind::Db,
            index: self.store.expect("the design has a store"),
            op,
            reply_kind: Kind::Sessions,
            reply_index: self.index,
        });
    }

    /// A login's credentials are checked; then its extra work, then the session is made.
    fn login(&mut self, cx: &mut Cx<'_>, task: Handle, mut op: Op) {
        let n = op.p.n;
        let locked = self.users(op.pop).users[op.user].locked_until;
        if cx.now < locked {
            self.count(cx.now, |c| c.locked_out_logins += 1);
            cx.step_done(task, Err(FailReason::LockedOut));
            return;
        }
        if wrong_password(&self.draws, op.entity, n, self.failed_login_share) {
            self.count(cx.now, |c| c.failed_logins += 1);
            let (after, lock_for) = (self.lockout_after, self.lockout_for);
            let u = &mut self.users(op.pop).users[op.user];
            u.failed_in_a_row += 1;
            let lock = after.is_some_and(|k| u.failed_in_a_row >= k);
            if lock {
                u.failed_in_a_row = 0;
                u.locked_until = cx.now.saturating_add(lock_for);
                self.count(cx.now, |c| c.lockouts += 1);
            }
            cx.step_done(task, Err(FailReason::LoginFailed));
            return;
        }
        self.users(op.pop).users[op.user].failed_in_a_row = 0;
        match &self.login_work {
            Some(d) => {
                let t = d.sample(&mut self.rng);
                op.wait = Wait::LoginWork;
                self.ops.insert(key(task), op);
                let ev = SessionsEvent::LoginWorked { task };
                cx.after(t, Event::Sessions(self.index, ev));
            }
            None => self.create(cx, task, op),
        }
    }

    /// A login creates a session on its instance.
    fn create(&mut self, cx: &mut Cx<'_>, task: Handle, mut op: Op) {
        let s = self.next_serial;
        self.next_serial = self.next_serial.wrapping_add(1).max(1);
        self.count(cx.now, |c| c.logins += 1);
        let now = cx.now;
        op.p.session = s;
        op.p.issued = now;
        // The user's request, if it still waits, answers with this session; a login of
        // it that created one before was retried.
        let n = op.p.n;
        let pending = self.users(op.pop).users[op.user].pending.as_mut();
        let again = match pending.filter(|p| p.n == n) {
            Some(p) => {
                let again = p.created;
                p.created = true;
                p.session = s;
                p.issued = now;
                again
            }
            None => false,
        };
        if again {
            self.count(cx.now, |c| c.duplicate_sessions += 1);
        }
        match self.design {
            Design::InMemory => {
                // An instance that crashed meanwhile remembers nothing of this login.
                if self.epochs[op.instance] == op.epoch {
                    let o = self.ordinal(op.pop, op.user);
                    self.tables[op.instance][o] = s;
                }
                cx.step_done(task, Ok(()));
            }
            Design::Externalized { writes, .. } => {
                op.wait = Wait::LoginWrite { left: writes };
                self.ops.insert(key(task), op);
                self.sub(cx, task, WRITE);
            }
            Design::Token { .. } => cx.step_done(task, Ok(())),
        }
    }

    /// The store writes `value` for user `u` of population `pop`.
    fn store_write(&mut self, pop: usize, u: usize, value: u32) {
        let user = &mut self.users(pop).users[u];
        user.prev = user.store;
        user.store = value;
    }

    /// Deletes the store sessions of the person's other devices (a single-device login, or
    /// a logout of all devices); their next request goes to the login page. Returns how
    /// many it ended.
    fn end_other_devices(&mut self, pop: usize, u: usize) -> u64 {
        let mut ended = 0;
        for d in self.users(pop).other_devices(u) {
            if d == u || self.users(pop).users[d].store == 0 {
                continue;
            }
            self.store_write(pop, d, 0);
            ended += 1;
            let dev = &mut self.users(pop).users[d];
            if dev.current != 0 {
                dev.stale = dev.current;
                dev.stale_issued = dev.issued;
                dev.current = 0;
                self.logged_in -= 1;
            }
        }
        ended
    }

    /// The store applied the session row of a login of user `u` issued at `issued`: it
    /// survives a "log out of all devices" issued after it but applied before it (the
    /// person believes that session ended).
    fn login_applied(&mut self, now: SimTime, pop: usize, u: usize, issued: SimTime) {
        let users = self.users(pop);
        users.users[u].store_issued = issued;
        let person = users.person(u);
        if users.logout_all_issued[person].is_some_and(|t| t > issued) {
            self.count(now, |c| c.race_login_survived_logout_all += 1);
        }
    }

    /// The store applies a "log out of all devices" by user `u`, issued at `issued`: a
    /// login of another device issued after it but applied before it is wiped with the
    /// rest (the person is logged out of a login they made after).
    fn logout_all_applied(&mut self, now: SimTime, pop: usize, u: usize, issued: SimTime) {
        let users = self.users(pop);
        let person = users.person(u);
        let latest = &mut users.logout_all_issued[person];
        *latest = Some(latest.map_or(issued, |t| t.max(issued)));
        let lost = users
            .other_devices(u)
            .filter(|&d| d != u)
            .map(|d| users.users[d])
            .filter(|d| d.store != 0 && d.store_issued > issued)
            .count() as u64;
        self.all.race_login_lost_to_earlier_logout += lost;
        if now >= self.measured_from {
            self.counts.race_login_lost_to_earlier_logout += lost;
        }
    }

    /// A logout: in memory an instance can only forget its own copy; a store deletes the
    /// session (or, for tokens, lists it as revoked).
    fn logout(&mut self, cx: &mut Cx<'_>, task: Handle, mut op: Op) {
        let session = op.p.session;
        self.count(cx.now, |c| c.logouts += 1);
        match self.design {
            Design::InMemory => {
                let o = self.ordinal(op.pop, op.user);
                let slot = &mut self.tables[op.instance][o];
                if *slot == session {
                    *slot = 0;
                }
                cx.step_done(task, Ok(()));
            }
            Design::Externalized { .. }
            | Design::Token {
                revocation: true, ..
            } => {
                op.wait = Wait::LogoutWrite;
                self.ops.insert(key(task), op);
                self.sub(cx, task, WRITE);
            }
            Design::Token { .. } => cx.step_done(task, Ok(())),
        }
    }

    /// An authenticated request: checked on the instance, or by a store read.
    fn browse(&mut self, cx: &mut Cx<'_>, task: Handle, mut op: Op) {
        let (session, issued) = (op.p.session, op.p.issued);
        let local = match self.design {
            Design::InMemory => {
                let o = self.ordinal(op.pop, op.user);
                Some(session != 0 && self.tables[op.instance][o] == session)
            }
            Design::Externalized { .. } => None,
            Design::Token { ttl, revocation } => {
                let fresh = session != 0 && cx.now < issued.saturating_add(ttl);
                if !fresh {
                    Some(false)
                } else if revocation {
                    None
                } else {
                    Some(true)
                }
            }
        };
        match local {
            Some(ok) => self.verdict(cx, task, &op, ok),
            None => {
                op.wait = Wait::Read;
                self.ops.insert(key(task), op);
                self.sub(cx, task, READ);
            }
        }
    }

    /// The verdict on an authenticated request, against the truth: a rejected valid
    /// session is a spurious logout; an accepted session its user has left is an
    /// accepted-after-logout.
    fn verdict(&mut self, cx: &mut Cx<'_>, task: Handle, op: &Op, accepted: bool) {
        let user = self.users(op.pop).users[op.user];
        let p = op.p;
        let live = p.session != 0 && user.current == p.session;
        let expired = match self.design {
            Design::Token { ttl, .. } => cx.now >= p.issued.saturating_add(ttl),
            _ => false,
        };
        self.count(cx.now, |c| c.authenticated += 1);
        if !accepted {
            self.count(cx.now, |c| c.rejected += 1);
            if live && !expired {
                self.count(cx.now, |c| c.spurious_logouts += 1);
            }
            cx.step_done(task, Err(FailReason::Unauthenticated));
            return;
        }
        if !live {
            self.count(cx.now, |c| c.accepted_after_logout += 1);
        }
        cx.step_done(task, Ok(()));
    }

    /// Counts from the start of the run, warm-up included, as a single-tier file's
    /// `sessions` section does (its warm-up leaves out only latency figures): a
    /// single-tier file run as its graph (`graph::run_single_tier`) means what it says.
    /// Without it, counts are from the end of the warm-up, as every graph figure.
    pub fn count_from_start(&mut self) {
        self.from_start = true;
    }

    /// Database `db` failed over and lost `entity`'s latest write: if it is this store,
    /// the user's row is what it was before (a login lost this way logs its user out at
    /// the next check).
    pub fn write_lost(&mut self, db: u16, entity: u64) {
        if self.store != Some(db) {
            return;
        }
        if let Some((pop, u)) = self.locate(entity) {
            let user = &mut self.users(pop).users[u];
            user.store = user.prev;
        }
    }

    /// A user issued a request at `now`: it presents the session they hold now, and `now`
    /// is the order the person meant, which the store may apply otherwise (the race of a
    /// login and a logout of all devices).
    pub fn request_issued(&mut self, entity: u64, now: SimTime) {
        if let Some((pop, u)) = self.locate(entity) {
            let user = &mut self.users(pop).users[u];
            user.request_issued = now;
            user.held_at_issue = (user.current, user.issued);
        }
    }

    /// A user's request has ended (`result`): only now does the user know the outcome
    /// of a login or a logout, or that they were shown the login page.
    pub fn request_ended(&mut self, entity: u64, result: Result<(), FailReason>) {
        let Some((pop, u)) = self.locate(entity) else {
            return;
        };
        let user = &mut self.users(pop).users[u];
        let Some(p) = user.pending.take() else {
            return;
        };
        let was_in = user.current != 0;
        match (p.action, result) {
            (Action::Login, Ok(())) => {
                user.current = p.session;
                user.issued = p.issued;
            }
            (Action::Logout, Ok(())) => {
                user.stale = user.current;
                user.stale_issued = user.issued;
                user.current = 0;
            }
            (Action::Browse, Err(FailReason::Unauthenticated)) => user.current = 0,
            _ => {}
        }
        let is_in = user.current != 0;
        match (was_in, is_in) {
            (false, true) => self.logged_in += 1,
            (true, false) => self.logged_in -= 1,
            _ => {}
        }
    }

    /// Whether the instance `op` runs on crashed after the step began.
    fn crashed_since(&self, op: &Op) -> bool {
        self.epochs[op.instance] != op.epoch
    }

    /// An instance lost its memory: count the live sessions it held.
    fn instance_lost(&mut self, now: SimTime, i: usize) {
        if i >= self.epochs.len() {
            return;
        }
        self.epochs[i] += 1;
        let Some(table) = self.tables.get_mut(i) else {
            return;
        };
        let mut lost = 0;
        let mut o = 0;
        for p in self.pops.iter().flatten() {
            for user in &p.users {
                let s = std::mem::take(&mut table[o]);
                lost += u64::from(s != 0 && user.current == s);
                o += 1;
            }
        }
        self.all.lost_on_crash += lost;
        if now >= self.measured_from {
            self.counts.lost_on_crash += lost;
        }
    }
}

impl Component for Sessions {
    type Event = SessionsEvent;

    fn build_all(model: &ModelSpec, names: &Names, seed: u64) -> Vec<Self> {
        model
            .services
            .iter()
            .filter_map(|(name, s)| s.sessions.as_ref().map(|spec| (name, s, spec)))
            .enumerate()
            .map(|(i, (name, s, spec))| {
                Sessions::new(i as u16, name, spec, s.instances, names, seed)
            })
            .collect()
    }

    fn handle(&mut self, cx: &mut Cx<'_>, event: SessionsEvent) {
        let SessionsEvent::LoginWorked { task } = event;
        if let Some(op) = self.ops.remove(&key(task)) {
            if self.crashed_since(&op) {
                cx.step_done(task, Err(FailReason::Crash));
                return;
            }
            self.create(cx, task, op);
        }
    }

    fn step(&mut self, cx: &mut Cx<'_>, _op: u8, task: Handle, arg: u64) {
        let entity = arg & !(0x3fff << INSTANCE_SHIFT);
        let instance = ((arg >> INSTANCE_SHIFT) & 0x3fff) as usize;
        let Some((pop, u)) = self.locate(entity) else {
            // No user to log in (an open population, a burst, a topic's message).
            cx.step_done(task, Ok(()));
            return;
        };
        if instance >= self.epochs.len() {
            // An instance added after the start (an autoscaler): memory of its own.
            self.epochs.resize(instance + 1, 0);
            if self.design == Design::InMemory {
                self.tables.resize(instance + 1, vec![0; self.total_users]);
            }
        }
        let users = self.pops[pop].as_mut().expect("located");
        let p = match users.users[u].pending {
            Some(p) => p,
            None => {
                let p = users.next_action(&self.draws, entity, u);
                users.users[u].pending = Some(p);
                p
            }
        };
        let op = Op {
            pop,
            user: u,
            entity,
            instance,
            epoch: self.epochs[instance],
            wait: Wait::Read,
            p,
            stale: false,
        };
        match p.action {
            Action::Login => self.login(cx, task, op),
            Action::Logout => self.logout(cx, task, op),
            Action::Browse | Action::StaleBrowse => self.browse(cx, task, op),
        }
    }

    /// The store's answer to a session read or write. A write the store failed (down,
    /// failing over, its queue full, its connection reset) fails the request with an
    /// `error`, whatever the store's reason: the instance could not record the session
    /// and answers with a server error.
    fn reply(&mut self, cx: &mut Cx<'_>, task: Handle, result: Result<(), FailReason>) {
        let Some(mut op) = self.ops.remove(&key(task)) else {
            return;
        };
        if self.crashed_since(&op) {
            // Its visit failed with the instance: nothing of it is counted or kept.
            cx.step_done(task, Err(FailReason::Crash));
            return;
        }
        let p = op.p;
        match op.wait {
            Wait::LoginWork => unreachable!("a login's work is its own event"),
            Wait::LoginWrite { left } => {
                if result.is_err() {
                    cx.step_done(task, Err(FailReason::Error));
                    return;
                }
                let writes = match self.design {
                    Design::Externalized { writes, .. } => writes,
                    _ => 1,
                };
                if left == writes {
                    // The session row is the transaction's first write.
                    self.store_write(op.pop, op.user, p.session);
                    self.login_applied(cx.now, op.pop, op.user, p.request_issued);
                    if self.single_device {
                        let ended = self.end_other_devices(op.pop, op.user);
                        self.all.ended_by_single_device += ended;
                        if cx.now >= self.measured_from {
                            self.counts.ended_by_single_device += ended;
                        }
                    }
                }
                if left > 1 {
                    op.wait = Wait::LoginWrite { left: left - 1 };
                    self.ops.insert(key(task), op);
                    self.sub(cx, task, WRITE);
                } else {
                    cx.step_done(task, Ok(()));
                }
            }
            Wait::LogoutWrite => {
                if result.is_err() {
                    cx.step_done(task, Err(FailReason::Error));
                    return;
                }
                match self.design {
                    Design::Externalized { .. } => {
                        if self.users(op.pop).users[op.user].store == p.session {
                            self.store_write(op.pop, op.user, 0);
                        }
                        if self.logout_all {
                            self.logout_all_applied(cx.now, op.pop, op.user, p.request_issued);
                            self.end_other_devices(op.pop, op.user);
                        }
                    }
                    _ => self.store_write(op.pop, op.user, p.session),
                }
                cx.step_done(task, Ok(()));
            }
            Wait::Read => {
                let user = self.users(op.pop).users[op.user];
                let value = if op.stale && user.prev != user.store {
                    self.count(cx.now, |c| c.stale_reads += 1);
                    user.prev
                } else {
                    user.store
                };
                let up = result.is_ok();
                let accepted = match self.design {
                    Design::Externalized { fail_open, .. } => {
                        if up {
                            value == p.session
                        } else {
                            fail_open
                        }
                    }
                    // The list holds the revoked session; down: trust the signature (a
                    // revocation list that fails closed would log everybody out).
                    _ => !up || value != p.session,
                };
                op.stale = false;
                self.verdict(cx, task, &op, accepted);
            }
        }
    }

    fn stale_read(&mut self, task: Handle) {
        if let Some(op) = self.ops.get_mut(&key(task)) {
            op.stale = true;
        }
    }

    fn fault(&mut self, cx: &mut Cx<'_>, fault: &FaultSpec, start: bool) -> bool {
        if let FaultSpec::Crash {
            service: Some(s),
            instance,
            ..
        } = fault
        {
            if start && *s == self.service {
                match instance {
                    Some(i) => self.instance_lost(cx.now, *i as usize),
                    None => (0..self.epochs.len()).for_each(|i| self.instance_lost(cx.now, i)),
                }
            }
        }
        // The service is the fault's target; its sessions only lose their memory.
        false
    }

    fn close_interval(&mut self, _now: SimTime, interval_s: f64) {
        if cfg!(debug_assertions) {
            let holding: u64 = self
                .pops
                .iter()
                .flatten()
                .map(|p| p.users.iter().filter(|u| u.current != 0).count() as u64)
                .sum();
            assert_eq!(
                holding, self.logged_in,
                "sessions {}: users logged in",
                self.service
            );
        }
        let (a, b) = (&self.all, &self.iv_base);
        let per_s = |x: u64, y: u64| (x - y) as f64 / interval_s;
        self.rows.push(vec![
            self.logged_in as f64,
            per_s(a.logins, b.logins),
            per_s(a.spurious_logouts, b.spurious_logouts),
            (a.lost_on_crash - b.lost_on_crash) as f64,
            per_s(a.accepted_after_logout, b.accepted_after_logout),
        ]);
        self.iv_base = self.all.clone();
    }

    fn series(&self) -> ComponentSeries {
        ComponentSeries {
            key: format!("sessions.{}", self.service),
            schema: &SESSIONS,
            rows: self.rows.clone(),
        }
    }

    fn figures(&self, _now: SimTime, _measured_s: f64) -> ComponentFigures {
        let c = &self.counts;
        let fraction = if c.authenticated == 0 {
            0.0
        } else {
            c.spurious_logouts as f64 / c.authenticated as f64
        };
        ComponentFigures {
            key: format!("sessions.{}", self.service),
            schema: &SESSIONS,
            values: vec![
                c.logins as f64,
                c.logouts as f64,
                c.authenticated as f64,
                c.rejected as f64,
                c.spurious_logouts as f64,
                fraction,
                c.lost_on_crash as f64,
                c.accepted_after_logout as f64,
                c.duplicate_sessions as f64,
                c.stale_reads as f64,
                c.race_login_survived_logout_all as f64,
                c.race_login_lost_to_earlier_logout as f64,
                c.failed_logins as f64,
                c.lockouts as f64,
                c.locked_out_logins as f64,
                c.ended_by_single_device as f64,
                self.logged_in as f64,
            ],
        }
    }

    fn warmup_over(&mut self, now: SimTime) {
        if self.from_start {
            return;
        }
        self.measured_from = now;
        self.counts = Counts::default();
    }

    fn check_invariants(&self) {
        // Per event: only what is cheap. The count of users logged in is checked against
        // every user at each interval's end (`close_interval`).
    }
}
