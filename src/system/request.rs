//! Requests and their attempts: every request has an id and ends exactly once —
//! succeeded, failed (with a reason) or still in flight when the run ends.
//!
//! Both live in slabs (id-indexed `Vec`s with free lists), so the hot path allocates
//! nothing per request once the slabs have grown, and iteration order is deterministic.

use super::sessions::SessionAction;
use crate::engine::SimTime;

/// A handle to a slot that may be reused: the generation tells a stale handle from a live one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    /// Slot index in the slab.
    pub idx: u32,
    /// Generation of the slot when the handle was made.
    pub gen: u32,
}

/// Why a request (or an attempt) failed; the summary counts each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailReason {
    /// The client gave up waiting.
    Timeout,
    /// A full queue (at a node or downstream) turned it away.
    Rejected,
    /// The node it was sent to was down and refused the connection.
    Refused,
    /// The node answered with an error (an injected failure).
    Error,
    /// The node it was on crashed while it was there.
    Crash,
    /// The balancer had no node to send it to.
    Unavailable,
    /// The client's own adaptive throttle refused to send it.
    Throttled,
    /// The node did not accept the request's session (the user is shown the login page).
    Unauthenticated,
    /// It waited too long for a row lock.
    LockTimeout,
    /// A login with a wrong password.
    LoginFailed,
    /// A login to an account locked after too many failed logins.
    LockedOut,
}

impl FailReason {
    /// Every reason, in the order columns and tables list them.
    pub const ALL: [FailReason; 11] = [
        FailReason::Timeout,
        FailReason::Rejected,
        FailReason::Refused,
        FailReason::Error,
        FailReason::Crash,
        FailReason::Unavailable,
        FailReason::Throttled,
        FailReason::Unauthenticated,
        FailReason::LockTimeout,
        FailReason::LoginFailed,
        FailReason::LockedOut,
    ];

    /// The name used in summaries and CSV columns.
    pub fn name(self) -> &'static str {
        match self {
            FailReason::Timeout => "timeout",
            FailReason::Rejected => "rejected",
            FailReason::Refused => "refused",
            FailReason::Error => "error",
            FailReason::Crash => "crash",
            FailReason::Unavailable => "unavailable",
            FailReason::Throttled => "throttled",
            FailReason::Unauthenticated => "unauthenticated",
            FailReason::LockTimeout => "lock_timeout",
            FailReason::LoginFailed => "login_failed",
            FailReason::LockedOut => "locked_out",
        }
    }

    /// Position in `ALL`, for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// No user: the request came from the open-loop source.
pub const NO_USER: u32 = u32::MAX;

/// What the client sees of one logical request.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// Its number among its user's requests (0 for open arrivals).
    pub seq: u32,
    /// When the user issued it (the start of its latency).
    pub issued_at: SimTime,
    /// The user who sent it, or `NO_USER`.
    pub user: u32,
    /// Its kind (index into the workload's mix).
    pub kind: u8,
    /// Attempts made so far (1 for the first try).
    pub attempts: u32,
    /// The attempt the client is waiting for, if any (none while backing off).
    pub current: Option<Handle>,
    /// Some node has completed its work (what an idempotency key lets a node recognise).
    pub served: bool,
    /// The previous backoff (for decorrelated jitter).
    pub last_backoff: SimTime,
    /// What it does with the user's session.
    pub action: SessionAction,
    /// The session it presents (for a login: the one created, once a node has).
    pub session: u32,
    /// When that session was issued (a token's issue time).
    pub session_issued: SimTime,
    /// A node has executed this login once already.
    pub login_done: bool,
}

/// One try of a request at a node: the server-side work, which may outlive the client's wait.
#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    /// Its request's number among its user's requests.
    pub seq: u32,
    /// The request this attempt serves (its slot may have been reused if the request ended).
    pub request: Handle,
    /// When the attempt reached the node's queue.
    pub enqueued_at: SimTime,
    /// When a worker took it.
    pub started_at: SimTime,
    /// When its client stops waiting for it (`SimTime::NEVER` without a timeout).
    pub deadline: SimTime,
    /// The node serving it.
    pub node: u32,
    /// The request's kind.
    pub kind: u8,
    /// An injected error will fail it when its service ends.
    pub failing: bool,
    /// The user who sent it (`NO_USER` for open-loop requests).
    pub user: u32,
    /// What it does with the session (copied from the request: a node acts on what it
    /// received, even after the client has given up).
    pub action: SessionAction,
    /// The session presented (for a login: the one this attempt created).
    pub session: u32,
    /// When that session was issued.
    pub session_issued: SimTime,
    /// The counter row whose lock it holds or waits for (`lock_path::NO_ROW`: none).
    pub lock_row: u32,
    /// Its counter increment is done (or batched): go on to the database.
    pub lock_done: bool,
    /// Writes of its login transaction still to do.
    pub writes_left: u8,
    /// When its request was issued (the order the user meant, for race accounting).
    pub issued_at: SimTime,
}

/// A slab of `T` addressed by generation-checked handles.
pub struct Slab<T> {
    items: Vec<(u32, Option<T>)>,
    free: Vec<u32>,
    live: usize,
}

impl<T: Copy> Default for Slab<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> Slab<T> {
    /// An empty slab.
    pub fn new() -> Self {
        Slab {
            items: Vec::with_capacity(1024),
            free: Vec::new(),
            live: 0,
        }
    }

    /// Stores `value`, reusing a free slot when there is one.
    #[inline]
    pub fn insert(&mut self, value: T) -> Handle {
        self.live += 1;
        if let Some(idx) = self.free.pop() {
            let slot = &mut self.items[idx as usize];
            slot.0 = slot.0.wrapping_add(1);
            slot.1 = Some(value);
            Handle { idx, gen: slot.0 }
        } else {
            let idx = self.items.len() as u32;
            self.items.push((0, Some(value)));
            Handle { idx, gen: 0 }
        }
    }

    /// The value behind `h`, if `h` is still live.
    #[inline]
    pub fn get(&self, h: Handle) -> Option<&T> {
        match self.items.get(h.idx as usize) {
            Some((gen, Some(v))) if *gen == h.gen => Some(v),
            _ => None,
        }
    }

    /// Mutable access to the value behind `h`, if live.
    #[inline]
    pub fn get_mut(&mut self, h: Handle) -> Option<&mut T> {
        match self.items.get_mut(h.idx as usize) {
            Some((gen, Some(v))) if *gen == h.gen => Some(v),
            _ => None,
        }
    }

    /// Removes and returns the value behind `h`, if live.
    #[inline]
    pub fn remove(&mut self, h: Handle) -> Option<T> {
        match self.items.get_mut(h.idx as usize) {
            Some((gen, slot @ Some(_))) if *gen == h.gen => {
                let v = slot.take();
                self.free.push(h.idx);
                self.live -= 1;
                v
            }
            _ => None,
        }
    }

    /// Values currently stored.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Live entries in slot order (deterministic).
    pub fn iter(&self) -> impl Iterator<Item = (Handle, &T)> {
        self.items.iter().enumerate().filter_map(|(i, (gen, v))| {
            v.as_ref().map(|v| {
                (
                    Handle {
                        idx: i as u32,
                        gen: *gen,
                    },
                    v,
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_handles_are_refused_after_reuse() {
        let mut s: Slab<u32> = Slab::new();
        let a = s.insert(1);
        assert_eq!(s.remove(a), Some(1));
        let b = s.insert(2);
        assert_eq!(a.idx, b.idx);
        assert_eq!(s.get(a), None);
        assert_eq!(s.get(b), Some(&2));
        assert_eq!(s.remove(a), None);
        assert_eq!(s.len(), 1);
    }
}
