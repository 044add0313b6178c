//! User sessions: who is logged in (the truth, as the users see it), where each design keeps
//! sessions (node memory, a shared store, or nowhere: a signed token), and the accounting of
//! what goes wrong: spurious logouts, sessions lost on a crash, requests accepted after their
//! user logged out, and duplicate sessions from retried logins. Its own stream: `"sessions"`.
//!
//! Sessions are numbered by a serial; 0 means "none". One session per user at a time (a new
//! login replaces the old one: single-device login).

use crate::config::model::{OutagePolicy, SessionDesign};
use crate::engine::SimTime;
use rand::Rng;

/// What a user's request does to or with its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SessionAction {
    /// No sessions in this model.
    #[default]
    None,
    /// Log in: create a session.
    Login,
    /// Log out: end the session presented.
    Logout,
    /// An authenticated request presenting the user's session.
    Browse,
    /// A request from a tab left open with a session its user has logged out of.
    StaleBrowse,
}

/// How the design checks a request's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Decided on the node, no call needed: accepted or not.
    Local(bool),
    /// The store must be read first.
    StoreRead,
}

/// Where sessions live and how they are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// In the memory of the node that created the session.
    InMemory,
    /// In the shared store.
    Externalized { fail_open: bool },
    /// A signed token valid for `ttl`; `revocation` when nodes check a revocation list.
    Token { ttl: SimTime, revocation: bool },
}

/// Counts of what went right and wrong with sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionCounts {
    /// Logins executed on a node.
    pub logins: u64,
    /// Logouts executed on a node.
    pub logouts: u64,
    /// Authenticated requests checked.
    pub authenticated: u64,
    /// Authenticated requests rejected (for any reason).
    pub rejected: u64,
    /// Valid sessions rejected: the user was logged out against their will.
    pub spurious_logouts: u64,
    /// Live sessions that disappeared with a node (crash, restart, scale-in).
    pub lost_on_crash: u64,
    /// Requests accepted with a session whose user had logged out (a security violation).
    pub accepted_after_logout: u64,
    /// Sessions created again for a login that had already created one (a retried login).
    pub duplicate_sessions: u64,
    /// Reads from a replica that had not yet caught up with the user's latest write.
    pub stale_reads: u64,
    /// Writes lost in a primary failover (committed, not yet on the promoted replica).
    pub lost_writes: u64,
    /// Logins that survived a "log out of all devices" issued after them, because the store
    /// applied the logout first (a session the person believes ended).
    pub race_login_survived_logout_all: u64,
    /// Logins wiped by a "log out of all devices" issued before them, because the store
    /// applied the login first (the person is logged out although they logged in after).
    pub race_login_lost_to_earlier_logout: u64,
    /// Logins with a wrong password.
    pub failed_logins: u64,
    /// Accounts locked after too many failed logins in a row.
    pub lockouts: u64,
    /// Logins refused because the account was locked.
    pub locked_out_logins: u64,
    /// Sessions on other devices ended by a single-device login.
    pub ended_by_single_device: u64,
}

/// The sessions of all users.
pub struct Sessions {
    design: Design,
    draws: crate::engine::keyed::KeyedDraws,
    logout_share: f64,
    stale_tab_share: f64,
    /// The session each user holds, as the user sees it (0: logged out).
    current: Vec<u32>,
    /// When the user's current session was created (a token's issue time).
    issued: Vec<SimTime>,
    /// A session the user logged out of, still open in a tab (0: none).
    stale: Vec<u32>,
    stale_issued: Vec<SimTime>,
    /// Per node, per user: the session held in that node's memory (in-memory design).
    node_tables: Vec<Vec<u32>>,
    /// Per user: the session in the store (externalized), or the revoked one (tokens).
    store: Vec<u32>,
    /// Per user: what the store held before its latest write (what a lagging replica shows).
    prev: Vec<u32>,
    /// Per user: when the latest write becomes visible on the replicas.
    visible_at: Vec<SimTime>,
    /// Per user: when the user last wrote the store (for read-your-writes routing).
    last_write: Vec<Option<SimTime>>,
    next_serial: u32,
    logged_in: u64,
    /// Devices per person (users are devices).
    devices: u32,
    /// A logout ends every device's session of the person.
    logout_all: bool,
    /// Per user: when the request whose write is current in the store was issued.
    store_issued: Vec<SimTime>,
    /// Per person: when the latest "log out of all devices" the store applied was issued.
    logout_all_issued: Vec<Option<SimTime>>,
    single_device: bool,
    failed_login_share: f64,
    lockout_after: Option<u32>,
    lockout_for: SimTime,
    /// Per user: failed logins in a row.
    failed_in_a_row: Vec<u32>,
    /// Per user: locked until then.
    locked_until: Vec<SimTime>,
    /// What happened.
    pub counts: SessionCounts,
}

impl Sessions {
    /// Sessions for `users` users and `nodes` nodes in run `seed`.
    pub fn new(
        design: &SessionDesign,
        users: u32,
        nodes: usize,
        logout_share: f64,
        stale_tab_share: f64,
        seed: u64,
    ) -> Sessions {
        let design = match design {
            SessionDesign::InMemory => Design::InMemory,
            SessionDesign::Externalized { on_outage, .. } => Design::Externalized {
                fail_open: *on_outage == OutagePolicy::FailOpen,
            },
            SessionDesign::SignedToken {
                ttl,
                revocation_list,
            } => Design::Token {
                ttl: ttl.0,
                revocation: revocation_list.is_some(),
            },
        };
        let n = users as usize;
        Sessions {
            design,
            draws: crate::engine::keyed::KeyedDraws::new(seed, "sessions"),
            logout_share,
            stale_tab_share,
            current: vec![0; n],
            issued: vec![SimTime::ZERO; n],
            stale: vec![0; n],
            stale_issued: vec![SimTime::ZERO; n],
            node_tables: if design == Design::InMemory {
                vec![vec![0; n]; nodes]
            } else {
                Vec::new()
            },
            store: vec![0; n],
            prev: vec![0; n],
            visible_at: vec![SimTime::ZERO; n],
            last_write: vec![None; n],
            next_serial: 1,
            logged_in: 0,
            devices: 1,
            logout_all: false,
            store_issued: vec![SimTime::ZERO; n],
            logout_all_issued: vec![None; n],
            single_device: false,
            failed_login_share: 0.0,
            lockout_after: None,
            lockout_for: SimTime::ZERO,
            failed_in_a_row: vec![0; n],
            locked_until: vec![SimTime::ZERO; n],
            counts: SessionCounts::default(),
        }
    }

    /// Login checks: single-device login, wrong passwords and account lock-out.
    pub fn with_login_rules(mut self, spec: &crate::config::model::SessionsSpec) -> Sessions {
        self.single_device = spec.single_device;
        self.failed_login_share = spec.failed_login_share;
        self.lockout_after = spec.lockout_after;
        self.lockout_for = spec.lockout_for.0;
        self
    }

    /// A node checks a login's credentials at `now`: `Ok` to create the session, or why not
    /// (`Err(true)`: the account is locked). Failed logins in a row lock it for a while.
    pub fn check_credentials(&mut self, user: u32, n: u32, now: SimTime) -> Result<(), bool> {
        let u = user as usize;
        let mut rng = self.draws.rng(user as u64 | 1 << 40, n as u64);
        if now < self.locked_until[u] {
            self.counts.locked_out_logins += 1;
            return Err(true);
        }
        if self.failed_login_share > 0.0 && rng.random::<f64>() < self.failed_login_share {
            self.counts.failed_logins += 1;
            self.failed_in_a_row[u] += 1;
            if self
                .lockout_after
                .is_some_and(|k| self.failed_in_a_row[u] >= k)
            {
                self.counts.lockouts += 1;
                self.failed_in_a_row[u] = 0;
                self.locked_until[u] = now.saturating_add(self.lockout_for);
            }
            return Err(false);
        }
        self.failed_in_a_row[u] = 0;
        Ok(())
    }

    /// Users are devices, `devices` per person; with `logout_all` a logout ends them all.
    pub fn with_devices(mut self, devices: u32, logout_all: bool) -> Sessions {
        self.devices = devices.max(1);
        self.logout_all = logout_all;
        self
    }

    /// The design.
    pub fn design(&self) -> Design {
        self.design
    }

    /// The user's next action and the session (serial, issue time) it presents.
    pub fn next_action(&mut self, user: u32, n: u32) -> (SessionAction, u32, SimTime) {
        let u = user as usize;
        // Keyed by (user, request number): the same user does the same in every design.
        let mut rng = self.draws.rng(user as u64, n as u64);
        if self.current[u] == 0 {
            if self.stale[u] != 0 && rng.random::<f64>() < self.stale_tab_share {
                let s = std::mem::take(&mut self.stale[u]);
                return (SessionAction::StaleBrowse, s, self.stale_issued[u]);
            }
            self.stale[u] = 0;
            return (SessionAction::Login, 0, SimTime::ZERO);
        }
        if self.logout_share > 0.0 && rng.random::<f64>() < self.logout_share {
            return (SessionAction::Logout, self.current[u], self.issued[u]);
        }
        (SessionAction::Browse, self.current[u], self.issued[u])
    }

    /// A node executes a login for `user` at `now`: a new session. `again` when this request
    /// had already created one (a retried login without an idempotency key).
    pub fn create(&mut self, user: u32, node: u32, again: bool) -> u32 {
        let s = self.next_serial;
        self.next_serial = self.next_serial.wrapping_add(1).max(1);
        self.counts.logins += 1;
        if again {
            self.counts.duplicate_sessions += 1;
        }
        if self.design == Design::InMemory {
            self.node_tables[node as usize][user as usize] = s;
        }
        s
    }

    /// The primary records a write of `value` for `user` at `now`, visible on the replicas
    /// from `visible_at`.
    fn store_write(&mut self, user: u32, value: u32, now: SimTime, visible_at: SimTime) {
        let u = user as usize;
        self.prev[u] = self.store[u];
        self.store[u] = value;
        self.visible_at[u] = visible_at;
        self.last_write[u] = Some(now);
    }

    /// The store records `user`'s new session (externalized design); the login request was
    /// issued at `issued`.
    pub fn store_login(
        &mut self,
        user: u32,
        session: u32,
        now: SimTime,
        visible_at: SimTime,
        issued: SimTime,
    ) {
        if matches!(self.design, Design::Externalized { .. }) {
            self.store_write(user, session, now, visible_at);
            self.store_issued[user as usize] = issued;
            if self.single_device {
                let ended = self.end_other_devices(user, now, visible_at);
                self.counts.ended_by_single_device += ended.len() as u64;
            }
            let person = (user / self.devices) as usize;
            if self.logout_all_issued[person].is_some_and(|t| t > issued) {
                self.counts.race_login_survived_logout_all += 1;
            }
        }
    }

    /// Deletes the store sessions of the person's other devices (a single-device login, or a
    /// logout of all devices); returns those devices. Their next request goes to the login page.
    fn end_other_devices(&mut self, user: u32, now: SimTime, visible_at: SimTime) -> Vec<u32> {
        let person = user / self.devices;
        let others: Vec<u32> = (person * self.devices..(person + 1) * self.devices)
            .filter(|&d| d != user && self.store[d as usize] != 0)
            .collect();
        for &d in &others {
            self.store_write(d, 0, now, visible_at);
            let du = d as usize;
            if self.current[du] != 0 {
                self.logged_in -= 1;
                self.stale[du] = self.current[du];
                self.stale_issued[du] = self.issued[du];
                self.current[du] = 0;
            }
        }
        others
    }

    /// A node executes a logout of `session` for `user`: in node memory it can only forget
    /// the copy it holds; the store deletes (or, for tokens, revokes) it.
    pub fn logout_local(&mut self, user: u32, node: u32, session: u32) {
        self.counts.logouts += 1;
        if self.design == Design::InMemory {
            let slot = &mut self.node_tables[node as usize][user as usize];
            if *slot == session {
                *slot = 0;
            }
        }
    }

    /// The store applies a logout issued at `issued`: of this device's session, or of every
    /// device's session of the person.
    pub fn store_logout(
        &mut self,
        user: u32,
        session: u32,
        now: SimTime,
        visible_at: SimTime,
        issued: SimTime,
    ) {
        match self.design {
            Design::Externalized { .. } => {
                if self.store[user as usize] == session {
                    self.store_write(user, 0, now, visible_at);
                }
                if self.logout_all {
                    let person = user / self.devices;
                    let slot = &mut self.logout_all_issued[person as usize];
                    *slot = Some(slot.map_or(issued, |t| t.max(issued)));
                    for d in self.end_other_devices(user, now, visible_at) {
                        // A login issued after this logout, but applied before it, is wiped.
                        if self.store_issued[d as usize] > issued {
                            self.counts.race_login_lost_to_earlier_logout += 1;
                        }
                    }
                }
            }
            Design::Token { .. } => self.store_write(user, session, now, visible_at),
            Design::InMemory => {}
        }
    }

    /// The primary fails at `now` and a replica is promoted: every write it had not yet
    /// received is lost (the store goes back to the value before it).
    pub fn failover(&mut self, now: SimTime) {
        for u in 0..self.store.len() {
            if self.visible_at[u] > now && self.prev[u] != self.store[u] {
                self.store[u] = self.prev[u];
                self.visible_at[u] = now;
                self.counts.lost_writes += 1;
            }
        }
    }

    /// When `user` last wrote the store (for read-your-writes routing).
    pub fn last_write(&self, user: u32) -> Option<SimTime> {
        self.last_write[user as usize]
    }

    /// Whether a login or logout needs a store write.
    pub fn writes_store(&self) -> bool {
        matches!(
            self.design,
            Design::Externalized { .. }
                | Design::Token {
                    revocation: true,
                    ..
                }
        )
    }

    /// Whether logins write the store (tokens only write revocations).
    pub fn login_writes_store(&self) -> bool {
        matches!(self.design, Design::Externalized { .. })
    }

    /// How an authenticated request presenting `session` (issued at `issued`) is checked at `node`.
    pub fn check(
        &self,
        user: u32,
        node: u32,
        session: u32,
        issued: SimTime,
        now: SimTime,
    ) -> Check {
        match self.design {
            Design::InMemory => Check::Local(
                session != 0 && self.node_tables[node as usize][user as usize] == session,
            ),
            Design::Externalized { .. } => Check::StoreRead,
            Design::Token { ttl, revocation } => {
                let fresh = session != 0 && now < issued.saturating_add(ttl);
                if !fresh {
                    Check::Local(false)
                } else if revocation {
                    Check::StoreRead
                } else {
                    Check::Local(true)
                }
            }
        }
    }

    /// The store's answer for `session` (`store_up` false when the store is down), read from
    /// a replica when `replica`: a replica behind the user's latest write shows the value
    /// before it (a stale read).
    pub fn store_verdict(
        &mut self,
        user: u32,
        session: u32,
        store_up: bool,
        replica: bool,
        now: SimTime,
    ) -> bool {
        let u = user as usize;
        let value = if replica && now < self.visible_at[u] {
            if self.prev[u] != self.store[u] {
                self.counts.stale_reads += 1;
            }
            self.prev[u]
        } else {
            self.store[u]
        };
        match self.design {
            Design::Externalized { fail_open } => {
                if store_up {
                    value == session
                } else {
                    fail_open
                }
            }
            // The store holds the revoked session; down: trust the signature (fail open) —
            // a revocation list that fails closed would log everybody out.
            Design::Token { .. } => !store_up || value != session,
            Design::InMemory => false,
        }
    }

    /// Records the verdict on an authenticated request and says whether the user's session was
    /// valid (the truth): a rejected valid session is a spurious logout; an accepted
    /// session the user had left is an accepted-after-logout.
    pub fn record_verdict(
        &mut self,
        user: u32,
        session: u32,
        issued: SimTime,
        accepted: bool,
        now: SimTime,
    ) {
        self.counts.authenticated += 1;
        let u = user as usize;
        let live = session != 0 && self.current[u] == session;
        let expired = match self.design {
            Design::Token { ttl, .. } => now >= issued.saturating_add(ttl),
            _ => false,
        };
        if !accepted {
            self.counts.rejected += 1;
            if live && !expired {
                self.counts.spurious_logouts += 1;
            }
        } else if !live {
            self.counts.accepted_after_logout += 1;
        }
    }

    /// The user got an answer to a request: update what they hold.
    pub fn user_outcome(
        &mut self,
        user: u32,
        action: SessionAction,
        session: u32,
        issued: SimTime,
        ok: bool,
        unauthenticated: bool,
    ) {
        let u = user as usize;
        match action {
            SessionAction::Login if ok => {
                if self.current[u] == 0 {
                    self.logged_in += 1;
                }
                self.current[u] = session;
                self.issued[u] = issued;
            }
            SessionAction::Logout if ok => {
                if self.current[u] != 0 {
                    self.logged_in -= 1;
                }
                self.stale[u] = self.current[u];
                self.stale_issued[u] = self.issued[u];
                self.current[u] = 0;
            }
            SessionAction::Browse if unauthenticated => {
                // Shown the login page: the user logs in again next time.
                if self.current[u] != 0 {
                    self.logged_in -= 1;
                }
                self.current[u] = 0;
            }
            _ => {}
        }
    }

    /// A node lost its memory (crash, restart, scale-in): count the live sessions it held.
    pub fn node_lost(&mut self, node: u32) {
        if self.design != Design::InMemory {
            return;
        }
        let table = &mut self.node_tables[node as usize];
        let mut lost = 0;
        for (u, s) in table.iter_mut().enumerate() {
            if *s != 0 && self.current[u] == *s {
                lost += 1;
            }
            *s = 0;
        }
        self.counts.lost_on_crash += lost;
    }

    /// Users logged in now.
    pub fn logged_in(&self) -> u64 {
        self.logged_in
    }
}
