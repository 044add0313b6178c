//! A service's balancer: picks an instance for each call, ranking instances by its *own*
//! open connections (from send until the answer or the caller's timeout), as real
//! balancers do; a partitioned instance then holds connections open and stops
//! attracting traffic. Draws from the service's stream.

use rand::Rng;

use crate::config::model::PolicySpec;
use crate::engine::rng::mix64;
use crate::engine::Stream;

/// The balancer's view of one instance.
#[derive(Clone, Copy, Debug, Default)]
pub struct Slot {
    /// The balancer sends to it (up, or at least not known to be down).
    pub routable: bool,
    /// Connections it has open to the instance.
    pub open: u32,
}

/// Picks instances by a policy.
pub struct Balancer {
    policy: PolicySpec,
    next: usize,
}

impl Balancer {
    /// A balancer with `policy`.
    pub fn new(policy: PolicySpec) -> Balancer {
        Balancer { policy, next: 0 }
    }

    /// The instance for a call from `user` (a user id or a request id), or `None` when
    /// none is routable.
    #[inline]
    pub fn pick(&mut self, slots: &[Slot], user: u32, rng: &mut Stream) -> Option<u32> {
        let n = slots.len();
        let routable = slots.iter().filter(|s| s.routable).count();
        if routable == 0 {
            return None;
        }
        let pick = match self.policy {
            PolicySpec::RoundRobin => {
                let mut i = self.next % n;
                while !slots[i].routable {
                    i = (i + 1) % n;
                }
                self.next = i + 1;
                i
            }
            PolicySpec::Random => nth_routable(slots, rng.random_range(0..routable)),
            PolicySpec::LeastConnections => {
                // Fewest open connections; ties go round the instances in turn, so that an
                // idle fleet is not all sent to instance 0.
                let start = self.next % n;
                self.next = start + 1;
                (0..n)
                    .map(|k| (start + k) % n)
                    .filter(|&i| slots[i].routable)
                    .min_by_key(|&i| slots[i].open)
                    .expect("one is routable")
            }
            PolicySpec::PowerOfTwoChoices => {
                let a = nth_routable(slots, rng.random_range(0..routable));
                let b = nth_routable(slots, rng.random_range(0..routable));
                if slots[b].open < slots[a].open {
                    b
                } else {
                    a
                }
            }
            // Sticky and consistent hashing by rendezvous hashing: each user goes to the
            // routable instance with the highest hash of (user, instance), so that losing
            // an instance moves only its own users.
            PolicySpec::Sticky | PolicySpec::ConsistentHash { .. } => (0..n)
                .filter(|&i| slots[i].routable)
                .max_by_key(|&i| mix64(((user as u64) << 32) ^ i as u64))
                .expect("one is routable"),
        };
        Some(pick as u32)
    }
}

fn nth_routable(slots: &[Slot], k: usize) -> usize {
    slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.routable)
        .nth(k)
        .map(|(i, _)| i)
        .expect("k < routable")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    fn slots(open: &[u32]) -> Vec<Slot> {
        open.iter()
            .map(|&open| Slot {
                routable: true,
                open,
            })
            .collect()
    }

    #[test]
    fn least_connections_avoids_the_instance_holding_connections() {
        let mut b = Balancer::new(PolicySpec::LeastConnections);
        let mut rng = stream(1, "t");
        let s = slots(&[0, 9, 0, 0]);
        for _ in 0..20 {
            assert_ne!(b.pick(&s, 0, &mut rng), Some(1));
        }
    }

    #[test]
    fn round_robin_skips_unroutable_and_hashing_is_stable() {
        let mut b = Balancer::new(PolicySpec::RoundRobin);
        let mut rng = stream(1, "t");
        let mut s = slots(&[0, 0, 0]);
        s[1].routable = false;
        let picks: Vec<_> = (0..4).map(|_| b.pick(&s, 0, &mut rng).unwrap()).collect();
        assert_eq!(picks, vec![0, 2, 0, 2]);
        let mut h = Balancer::new(PolicySpec::Sticky);
        let a = h.pick(&slots(&[0, 0, 0]), 42, &mut rng);
        assert_eq!(a, h.pick(&slots(&[5, 5, 5]), 42, &mut rng));
    }
}
