//! What each user of a closed population holds of one service's sessions (the truth, as
//! the users see it), what the session store holds for them, and the user's next action.
//! The draws are keyed by (user, request number) from the stream `"sessions/<service>"`,
//! so the same user does the same in every design compared under one seed.

use rand::Rng;

use crate::engine::keyed::KeyedDraws;
use crate::engine::SimTime;

/// What a user's request does to or with its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Log in: create a session.
    Login,
    /// Log out: end the session presented.
    Logout,
    /// An authenticated request presenting the user's session.
    Browse,
    /// A request from a tab left open with a session its user has logged out of.
    StaleBrowse,
}

/// The action of the request a user has in flight, decided at its first session step and
/// kept for its retries (a retried login creates a session again).
#[derive(Clone, Copy, Debug)]
pub struct Pending {
    /// What it does.
    pub action: Action,
    /// The session it presents (0: none), or, for a login, the one it last created.
    pub session: u32,
    /// When that session was created (a token's issue time).
    pub issued: SimTime,
    /// The user's request number (the key of its draws).
    pub n: u32,
    /// A login of this request has created a session already.
    pub created: bool,
    /// When the user issued the request (the order the person meant, for the race of a
    /// login and a logout of all devices).
    pub request_issued: SimTime,
}

/// One user (a device).
#[derive(Clone, Copy, Debug, Default)]
pub struct User {
    /// The session the user holds (0: logged out).
    pub current: u32,
    /// When it was created.
    pub issued: SimTime,
    /// A session the user logged out of, still open in a tab (0: none).
    pub stale: u32,
    /// When that one was created.
    pub stale_issued: SimTime,
    /// Requests that reached the service's session check so far.
    pub n: u32,
    /// The request in flight, once it reached the session check.
    pub pending: Option<Pending>,
    /// When the user issued their latest request.
    pub request_issued: SimTime,
    /// The session the user held when they issued it, and when that was created: what
    /// the request presents, although another device's "log out of all devices" may end
    /// it before the request reaches the check.
    pub held_at_issue: (u32, SimTime),
    /// What the store holds for the user: the session (externalized), or the revoked one
    /// (a revocation list).
    pub store: u32,
    /// What it held before the latest write (what a lagging replica still shows).
    pub prev: u32,
    /// When the login whose session the store holds was issued.
    pub store_issued: SimTime,
    /// Failed logins in a row.
    pub failed_in_a_row: u32,
    /// Locked out until then.
    pub locked_until: SimTime,
}

/// The users of one closed population, as one service's sessions see them.
pub struct PopulationUsers {
    /// The chance that a logged-in user's next action is a logout.
    pub logout_share: f64,
    /// The chance that a logged-out user's next action comes from a stale tab.
    pub stale_tab_share: f64,
    /// Devices per person.
    pub devices: u32,
    /// Its users, by index.
    pub users: Vec<User>,
    /// Per person (`devices` users in a row): when the latest "log out of all devices"
    /// the store applied was issued.
    pub logout_all_issued: Vec<Option<SimTime>>,
}

impl PopulationUsers {
    /// Decides the next action of user `u` (its `n`-th request) and the session it presents.
    pub fn next_action(&mut self, draws: &KeyedDraws, entity: u64, u: usize) -> Pending {
        let user = &mut self.users[u];
        let n = user.n;
        user.n += 1;
        let mut rng = draws.rng(entity, n as u64);
        let request_issued = user.request_issued;
        let pending = |action, session, issued| Pending {
            action,
            session,
            issued,
            n,
            created: false,
            request_issued,
        };
        // The request presents what the user held when they sent it.
        let (current, issued) = user.held_at_issue;
        if current == 0 {
            if user.stale != 0 && rng.random::<f64>() < self.stale_tab_share {
                let s = std::mem::take(&mut user.stale);
                return pending(Action::StaleBrowse, s, user.stale_issued);
            }
            user.stale = 0;
            return pending(Action::Login, 0, SimTime::ZERO);
        }
        if self.logout_share > 0.0 && rng.random::<f64>() < self.logout_share {
            return pending(Action::Logout, current, issued);
        }
        pending(Action::Browse, current, issued)
    }

    /// The users (devices) of the same person as user `u`, `u` itself included.
    pub fn other_devices(&self, u: usize) -> std::ops::Range<usize> {
        let d = self.devices.max(1) as usize;
        let person = u / d;
        person * d..((person + 1) * d).min(self.users.len())
    }

    /// The person user `u` is a device of.
    pub fn person(&self, u: usize) -> usize {
        u / self.devices.max(1) as usize
    }
}

/// Whether the credentials of login `n` of a user are right: a keyed draw, so a retried
/// login has the same password as its first attempt.
pub fn wrong_password(draws: &KeyedDraws, entity: u64, n: u32, share: f64) -> bool {
    share > 0.0 && draws.rng(entity | 1 << 61, n as u64).random::<f64>() < share
}
