//! What a database's replicas have seen: each committed write reaches them after its own
//! replication lag; reads are routed by the database's `ReadRouting`, and a replica read
//! of a user whose latest write has not reached the replicas yet is stale. Lag draws come
//! from the stream `"db/<name>/lag"`, apart from the service times, so that adding
//! replicas leaves a database's service times as they were.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use crate::config::graph::DbReplicas;
use crate::config::model::ReadRouting;
use crate::engine::{stream, Distribution, SimTime, Stream};

/// A user's latest committed write.
#[derive(Clone, Copy, Debug)]
struct LastWrite {
    committed_at: SimTime,
    visible_at: SimTime,
}

/// The replication of one database.
pub struct Replication {
    count: usize,
    lag: Distribution,
    /// A lag spike's extra delay for writes committed now (zero without one).
    extra_lag: SimTime,
    routing: ReadRouting,
    next_replica: usize,
    rng: Stream,
    /// Each user's latest write, while it still matters (not yet on the replicas, or
    /// younger than the read-your-writes window).
    users: BTreeMap<u64, LastWrite>,
    /// When each entry of `users` may be forgotten, earliest first (an entry may be
    /// newer than its heap item: it is forgotten only when its own time has come).
    forget: BinaryHeap<Reverse<(SimTime, u64)>>,
    /// When each committed write reaches the replicas, for those that have not yet.
    in_flight: BinaryHeap<Reverse<SimTime>>,
}

impl Replication {
    /// The replication of database `name` in run `seed`.
    pub fn new(spec: &DbReplicas, name: &str, seed: u64) -> Replication {
        Replication {
            count: spec.count.max(1) as usize,
            lag: spec.lag.resolve(),
            extra_lag: SimTime::ZERO,
            routing: spec.reads.clone(),
            next_replica: 0,
            rng: stream(seed, &format!("db/{name}/lag")),
            users: BTreeMap::new(),
            forget: BinaryHeap::new(),
            in_flight: BinaryHeap::new(),
        }
    }

    /// How many replicas.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Where a read by `user` goes at `now`: `None` for the primary, else the replica
    /// (0-based), round-robin.
    pub fn route(&mut self, user: u64, now: SimTime) -> Option<usize> {
        self.prune(now);
        let to_replica = match self.routing {
            ReadRouting::Primary => false,
            ReadRouting::Replicas => true,
            ReadRouting::ReadYourWrites { window } => self
                .users
                .get(&user)
                .is_none_or(|w| now >= w.committed_at.saturating_add(window.0)),
        };
        if !to_replica {
            return None;
        }
        self.next_replica = (self.next_replica + 1) % self.count;
        Some(self.next_replica)
    }

    /// A write of `user` committed on the primary at `now`: it reaches the replicas
    /// after its lag (and a lag spike's extra).
    pub fn committed(&mut self, user: u64, now: SimTime) {
        self.prune(now);
        let lag = self
            .lag
            .sample(&mut self.rng)
            .saturating_add(self.extra_lag);
        let visible_at = now.saturating_add(lag);
        self.users.insert(
            user,
            LastWrite {
                committed_at: now,
                visible_at,
            },
        );
        self.forget
            .push(Reverse((self.forget_at(now, visible_at), user)));
        self.in_flight.push(Reverse(visible_at));
    }

    /// Whether a replica read by `user` at `now` misses that user's latest write.
    pub fn stale(&self, user: u64, now: SimTime) -> bool {
        self.users.get(&user).is_some_and(|w| now < w.visible_at)
    }

    /// A lag spike starts (`extra`) or ends (zero).
    pub fn set_extra_lag(&mut self, extra: SimTime) {
        self.extra_lag = extra;
    }

    /// The primary fails at `now` and a replica is promoted: every write it had not yet
    /// received is lost (returned: how many, and the users whose latest write is among
    /// them, in key order). The replicas are then as fresh as the primary: nobody's read
    /// is stale for a write that no longer exists.
    pub fn failover(&mut self, now: SimTime) -> (u64, Vec<u64>) {
        self.prune(now);
        let lost = self.in_flight.len() as u64;
        self.in_flight.clear();
        let mut users = Vec::new();
        for (&user, w) in self.users.iter_mut() {
            if w.visible_at > now {
                users.push(user);
            }
            w.visible_at = w.visible_at.min(now);
        }
        (lost, users)
    }

    /// When a write committed at `committed_at` stops mattering: once on the replicas,
    /// and once out of the read-your-writes window.
    fn forget_at(&self, committed_at: SimTime, visible_at: SimTime) -> SimTime {
        match self.routing {
            ReadRouting::ReadYourWrites { window } => {
                visible_at.max(committed_at.saturating_add(window.0))
            }
            _ => visible_at,
        }
    }

    /// Forgets what no longer matters at `now`: writes that reached the replicas, and
    /// users whose latest write is on the replicas and out of the window.
    fn prune(&mut self, now: SimTime) {
        while self.in_flight.peek().is_some_and(|Reverse(t)| *t <= now) {
            self.in_flight.pop();
        }
        while let Some(&Reverse((at, user))) = self.forget.peek() {
            if at > now {
                break;
            }
            self.forget.pop();
            let done = self
                .users
                .get(&user)
                .is_some_and(|w| self.forget_at(w.committed_at, w.visible_at) <= now);
            if done {
                self.users.remove(&user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DistSpec, Duration};

    fn replication(reads: ReadRouting) -> Replication {
        let spec = DbReplicas {
            count: 2,
            workers: 1,
            lag: DistSpec::Const {
                value: Duration(SimTime::from_millis(100)),
            },
            reads,
        };
        Replication::new(&spec, "main", 1)
    }

    fn ms(x: u64) -> SimTime {
        SimTime::from_millis(x)
    }

    #[test]
    fn a_replica_read_is_stale_until_the_lag_has_passed() {
        let mut r = replication(ReadRouting::Replicas);
        r.committed(7, ms(1000));
        assert!(r.stale(7, ms(1099)));
        assert!(!r.stale(7, ms(1100)));
        assert!(!r.stale(8, ms(1050)), "another user's write");
        assert_eq!(
            (r.route(7, ms(1001)), r.route(7, ms(1002))),
            (Some(1), Some(0))
        );
    }

    #[test]
    fn read_your_writes_keeps_a_writer_on_the_primary_for_its_window() {
        let window = Duration(ms(1000));
        let mut r = replication(ReadRouting::ReadYourWrites { window });
        r.committed(7, ms(1000));
        assert_eq!(r.route(7, ms(1999)), None);
        assert!(r.route(8, ms(1999)).is_some());
        assert!(r.route(7, ms(2000)).is_some());
        assert!(
            r.users.is_empty(),
            "forgotten once out of the window and replicated"
        );
    }

    #[test]
    fn a_failover_loses_exactly_the_writes_not_yet_replicated() {
        let mut r = replication(ReadRouting::Replicas);
        r.committed(1, ms(0));
        r.set_extra_lag(ms(500));
        r.committed(2, ms(50));
        r.committed(3, ms(60));
        // At 120 ms: user 1's write (visible at 100 ms) is on the replicas, 2's and 3's
        // (at 650 and 660 ms) are not.
        assert_eq!(r.failover(ms(120)), (2, vec![2, 3]));
        assert!(!r.stale(2, ms(130)), "the lost write no longer exists");
        assert_eq!(r.failover(ms(130)), (0, vec![]));
    }
}
