//! A service's balancer: picks an instance for each call, ranking instances by its *own*
//! open connections (from send until the answer or the caller's timeout), as real
//! balancers do; a partitioned instance then holds connections open and stops
//! attracting traffic. With slow start, an instance that has just come up (or back into
//! rotation) gets a share of new calls growing linearly from 0 to full over the ramp.
//! Draws from the service's stream.

use rand::Rng;

use crate::config::model::PolicySpec;
use crate::engine::rng::mix64;
use crate::engine::{SimTime, Stream};

/// The balancer's view of one instance.
#[derive(Clone, Copy, Debug, Default)]
pub struct Slot {
    /// The balancer sends to it (up, or at least not known to be down).
    pub routable: bool,
    /// Connections it has open to the instance.
    pub open: u32,
    /// When it last came up or back into rotation (zero: routable from the start), for
    /// slow start.
    pub ramp_from: SimTime,
}

/// Picks instances by a policy.
pub struct Balancer {
    policy: PolicySpec,
    next: usize,
    slow_start: Option<SimTime>,
}

/// How often slow start re-picks at most before the last pick stands (as the
/// single-tier balancer).
const RAMP_REPICKS: u32 = 8;

impl Balancer {
    /// A balancer with `policy`, ramping new instances over `slow_start` if set.
    pub fn new(policy: PolicySpec, slow_start: Option<SimTime>) -> Balancer {
        Balancer {
            policy,
            next: 0,
            slow_start,
        }
    }

    /// [`Balancer::pick`] with slow start at `now`: a young instance (that came up or back
    /// into rotation after the start, less than the ramp ago) keeps the pick with
    /// probability age ÷ ramp, else the policy picks again (at most [`RAMP_REPICKS`]
    /// times, then the last pick stands). Without slow start, `pick`.
    #[inline]
    pub fn pick_at(
        &mut self,
        slots: &[Slot],
        user: u32,
        rng: &mut Stream,
        now: SimTime,
    ) -> Option<u32> {
        let mut pick = self.pick(slots, user, rng)?;
        let Some(ramp) = self.slow_start else {
            return Some(pick);
        };
        for _ in 0..RAMP_REPICKS {
            let since = slots[pick as usize].ramp_from;
            let age = now.since(since);
            if since == SimTime::ZERO || age >= ramp {
                return Some(pick);
            }
            if rng.random::<f64>() < age.0 as f64 / ramp.0 as f64 {
                return Some(pick);
            }
            pick = self.pick(slots, user, rng)?;
        }
        Some(pick)
    }

    /// The instance for a call from `user` (a user id or a request id), or `None` when
    /// none is routable.
    #[inline]
    pub fn pick(&mut self, slots: &[Slot], user: u32, rng: &mut Stream) -> Option<u32> {
        let n = slots.len();
        if self.policy == PolicySpec::RoundRobin {
            // The next routable instance in turn: no count of the routable ones needed.
            let mut i = self.next % n.max(1);
            for _ in 0..n {
                if slots[i].routable {
                    self.next = i + 1;
                    return Some(i as u32);
                }
                i = if i + 1 == n { 0 } else { i + 1 };
            }
            return None;
        }
        let routable = slots.iter().filter(|s| s.routable).count();
        if routable == 0 {
            return None;
        }
        let pick = match self.policy {
            PolicySpec::RoundRobin => unreachable!("picked above"),
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
            // Two *different* routable instances, the one with fewer open connections
            // (ties to the first): drawn with replacement, a third of the picks among three
            // instances would compare an instance with itself and look at no load at all.
            PolicySpec::PowerOfTwoChoices if routable == 1 => nth_routable(slots, 0),
            PolicySpec::PowerOfTwoChoices => {
                let a = rng.random_range(0..routable);
                let mut b = rng.random_range(0..routable - 1);
                if b >= a {
                    b += 1;
                }
                let (a, b) = (nth_routable(slots, a), nth_routable(slots, b));
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
                ramp_from: SimTime::ZERO,
            })
            .collect()
    }

    #[test]
    fn least_connections_avoids_the_instance_holding_connections() {
        let mut b = Balancer::new(PolicySpec::LeastConnections, None);
        let mut rng = stream(1, "t");
        let s = slots(&[0, 9, 0, 0]);
        for _ in 0..20 {
            assert_ne!(b.pick(&s, 0, &mut rng), Some(1));
        }
    }

    /// Power of two choices compares two different instances: the one instance of three
    /// with no open connections wins whenever it is one of the pair, 2/3 of the picks (with
    /// replacement it was 5/9: a third of the pairs were one instance twice).
    #[test]
    fn two_choices_compares_two_different_instances() {
        let mut b = Balancer::new(PolicySpec::PowerOfTwoChoices, None);
        let s = slots(&[0, 5, 5]);
        for seed in 1..=5 {
            let mut rng = stream(seed, "t");
            let n = 30_000;
            let idle = (0..n)
                .filter(|_| b.pick(&s, 0, &mut rng) == Some(0))
                .count();
            let share = idle as f64 / n as f64;
            assert!((share - 2.0 / 3.0).abs() < 0.01, "seed {seed}: {share}");
        }
        // With one routable instance, that one.
        let mut one = slots(&[3, 0, 0]);
        one[1].routable = false;
        one[2].routable = false;
        let mut rng = stream(1, "t");
        assert!((0..10).all(|_| b.pick(&one, 0, &mut rng) == Some(0)));
    }

    #[test]
    fn round_robin_skips_unroutable_and_hashing_is_stable() {
        let mut b = Balancer::new(PolicySpec::RoundRobin, None);
        let mut rng = stream(1, "t");
        let mut s = slots(&[0, 0, 0]);
        s[1].routable = false;
        let picks: Vec<_> = (0..4).map(|_| b.pick(&s, 0, &mut rng).unwrap()).collect();
        assert_eq!(picks, vec![0, 2, 0, 2]);
        let mut h = Balancer::new(PolicySpec::Sticky, None);
        let a = h.pick(&slots(&[0, 0, 0]), 42, &mut rng);
        assert_eq!(a, h.pick(&slots(&[5, 5, 5]), 42, &mut rng));
    }

    #[test]
    fn slow_start_gives_a_young_instance_a_share_growing_with_its_age() {
        // Instance 1 came up at 10 s with a 10 s ramp; round robin alone gives it half.
        let share_at = |age_s: u64| {
            let mut b = Balancer::new(PolicySpec::RoundRobin, Some(SimTime::from_secs(10)));
            let mut rng = stream(3, "t");
            let mut s = slots(&[0, 0]);
            s[1].ramp_from = SimTime::from_secs(10);
            let now = SimTime::from_secs(10 + age_s);
            let n = 20_000;
            let ones = (0..n)
                .filter(|_| b.pick_at(&s, 0, &mut rng, now) == Some(1))
                .count();
            ones as f64 / n as f64
        };
        // A refused pick of 1 is re-picked as 0 and round robin offers 1 again on the
        // next call: with keep probability p = age/ramp its share is p/(1+p).
        assert!(share_at(0) < 0.001, "{}", share_at(0));
        assert!((share_at(5) - 1.0 / 3.0).abs() < 0.02, "{}", share_at(5));
        assert!((share_at(10) - 0.5).abs() < 1e-9, "{}", share_at(10));
    }
}
