//! The look-aside cache on the request path: after the node's own work (and the session
//! check), a data request looks its key up. A hit answers after the hit time, with no
//! database call; a miss queries the database after the miss time and fills the cache when
//! the answer comes; with coalescing, a miss for a key being fetched waits for that fetch
//! (holding its worker) and is answered with it. A write goes to the database and then
//! invalidates its key. The component itself is in `cache.rs`.
//!
//! A known simplification: when a coalesced fetch vanishes without an answer (its node
//! crashed, the database rejected it, a propagated deadline dropped it), its waiters keep
//! waiting until the next miss of that key takes the fetch over (at once for a hot key).

use super::cache::{Answered, Lookup};
use super::request::{Attempt, Handle};
use super::{Event, Simulation};
use crate::engine::SimTime;

impl Simulation {
    /// Looks the request's data up in the cache; true when the cache has taken the attempt
    /// over (a hit being answered, a miss being fetched, a wait) and will continue it later.
    #[inline]
    pub(super) fn cache_step(
        &mut self,
        now: SimTime,
        node: u32,
        attempt: Handle,
        _a: Attempt,
    ) -> bool {
        let Some(cache) = &mut self.cache else {
            return false;
        };
        if let Some(t) = &mut self.tracer {
            t.phase(now, attempt, "cache");
        }
        let attempts = &self.attempts;
        match cache.lookup(node, attempt, now, |h| attempts.get(h).is_some()) {
            Lookup::Hit(t) => self.queue.schedule_in(t, Event::CacheHit { node, attempt }),
            Lookup::Miss(t) => self
                .queue
                .schedule_in(t, Event::CacheMiss { node, attempt }),
            Lookup::Wait => {}
            Lookup::Retry(t) => self
                .queue
                .schedule_in(t, Event::CacheRetry { node, attempt }),
            Lookup::Write => {
                // Writes go on to the row locks and the database like any uncached request.
                cache.query_sent();
                return false;
            }
        }
        true
    }

    /// A lease-holder's wait is over: look the same key up again.
    pub(super) fn cache_retry(&mut self, now: SimTime, node: u32, attempt: Handle) {
        let Some(a) = self.attempts.get(attempt).copied() else {
            return;
        };
        let Some(cache) = &mut self.cache else {
            return;
        };
        let attempts = &self.attempts;
        match cache.relookup(node, attempt, now, |h| attempts.get(h).is_some()) {
            Lookup::Hit(t) => self.queue.schedule_in(t, Event::CacheHit { node, attempt }),
            Lookup::Miss(t) => self
                .queue
                .schedule_in(t, Event::CacheMiss { node, attempt }),
            Lookup::Retry(t) => self
                .queue
                .schedule_in(t, Event::CacheRetry { node, attempt }),
            Lookup::Wait => {}
            Lookup::Write => self.database(now, node, attempt, a),
        }
    }

    /// The hit's lookup time is over: the node answers (unless it crashed meanwhile).
    pub(super) fn cache_hit(&mut self, now: SimTime, node: u32, attempt: Handle) {
        if self.attempts.get(attempt).is_some() {
            self.complete_at_node(now, node, attempt);
        }
    }

    /// The miss is known: the node queries the database, through the lock step.
    pub(super) fn cache_miss(&mut self, now: SimTime, node: u32, attempt: Handle) {
        let Some(a) = self.attempts.get(attempt).copied() else {
            return;
        };
        if let Some(c) = &mut self.cache {
            c.query_sent();
        }
        if self.lock_step(now, node, attempt, a) {
            return;
        }
        self.database(now, node, attempt, a);
    }

    /// The database answered `attempt`: fill or invalidate the cache, and answer the
    /// attempts that waited for this fetch (before the fetcher itself is answered).
    pub(super) fn cache_answered(&mut self, now: SimTime, attempt: Handle) {
        let Some(c) = &mut self.cache else {
            return;
        };
        if let Answered::Filled(waiters) = c.answered(attempt, now) {
            for w in waiters {
                // A waiter whose node crashed is gone already.
                if let Some(node) = self.attempts.get(w).map(|a| a.node) {
                    self.complete_at_node(now, node, w);
                }
            }
        }
    }
}
