//! The load balancer: picks a node for each attempt by its policy, among the nodes in its
//! pool that its health checks consider healthy. It reads nodes only through their public
//! methods, and draws from its own stream, `"balancer"`.

use super::node::Node;
use crate::config::model::PolicySpec;
use crate::engine::{rng::mix64, stream, SimTime, Stream};
use rand::Rng;

/// What the balancer believes about one node, from its health checks.
#[derive(Clone, Copy, Debug)]
struct Health {
    healthy: bool,
    fails: u32,
    oks: u32,
}

/// The balancer's state.
pub struct Balancer {
    policy: PolicySpec,
    cursor: usize,
    rng: Stream,
    health: Vec<Health>,
    unhealthy_after: u32,
    healthy_after: u32,
    pins: Vec<u32>,
    ring: Vec<(u64, u32)>,
    /// Slow start: a node that joined less than this long ago is picked with a chance
    /// growing linearly with its age (re-picking otherwise).
    pub slow_start: Option<SimTime>,
}

const UNPINNED: u32 = u32::MAX;

impl Balancer {
    /// A balancer over `nodes` nodes with `policy` in run `seed`; thresholds for health checks.
    pub fn new(
        policy: PolicySpec,
        nodes: usize,
        unhealthy_after: u32,
        healthy_after: u32,
        seed: u64,
    ) -> Balancer {
        let mut ring = Vec::new();
        if let PolicySpec::ConsistentHash { vnodes } = policy {
            for n in 0..nodes as u32 {
                for v in 0..vnodes {
                    ring.push((mix64(((n as u64) << 32) | v as u64), n));
                }
            }
            ring.sort_unstable();
        }
        Balancer {
            policy,
            cursor: 0,
            rng: stream(seed, "balancer"),
            health: vec![
                Health {
                    healthy: true,
                    fails: 0,
                    oks: 0
                };
                nodes
            ],
            unhealthy_after,
            healthy_after,
            pins: Vec::new(),
            ring,
            slow_start: None,
        }
    }

    #[inline]
    fn routable(&self, nodes: &[Node], i: usize) -> bool {
        nodes[i].in_pool() && self.health[i].healthy
    }

    /// A health probe of node `i` passed or failed.
    pub fn probe_result(&mut self, i: usize, ok: bool) {
        let h = &mut self.health[i];
        if ok {
            h.fails = 0;
            h.oks += 1;
            if !h.healthy && h.oks >= self.healthy_after {
                h.healthy = true;
            }
        } else {
            h.oks = 0;
            h.fails += 1;
            if h.healthy && h.fails >= self.unhealthy_after {
                h.healthy = false;
            }
        }
    }

    /// A node (re)joined the pool: it starts out healthy.
    pub fn node_joined(&mut self, i: usize) {
        self.health[i] = Health {
            healthy: true,
            fails: 0,
            oks: 0,
        };
    }

    /// `pick` with slow start: a young node (joined after the start, less than `slow_start`
    /// ago) keeps the pick with probability age ÷ slow_start, else the policy picks again
    /// (at most 8 times, then the last pick stands).
    #[inline]
    pub fn pick_at(&mut self, nodes: &[Node], user: u32, now: SimTime) -> Option<u32> {
        let mut pick = self.pick(nodes, user)?;
        let Some(ramp) = self.slow_start else {
            return Some(pick);
        };
        for _ in 0..8 {
            let since = nodes[pick as usize].up_since();
            let age = now.since(since);
            if since == SimTime::ZERO || age >= ramp {
                return Some(pick);
            }
            if self.rng.random::<f64>() < age.0 as f64 / ramp.0 as f64 {
                return Some(pick);
            }
            pick = self.pick(nodes, user)?;
        }
        Some(pick)
    }

    /// The node for the next attempt of `user`'s request, or `None` when none is routable.
    #[inline]
    pub fn pick(&mut self, nodes: &[Node], user: u32) -> Option<u32> {
        let n = nodes.len();
        match self.policy {
            PolicySpec::RoundRobin => self.round_robin(nodes),
            PolicySpec::Random => {
                let up = (0..n).filter(|&i| self.routable(nodes, i)).count();
                if up == 0 {
                    return None;
                }
                let k = self.rng.random_range(0..up);
                (0..n)
                    .filter(|&i| self.routable(nodes, i))
                    .nth(k)
                    .map(|i| i as u32)
            }
            // Ties go to the lowest index, deterministically.
            PolicySpec::LeastConnections => (0..n)
                .filter(|&i| self.routable(nodes, i))
                .min_by_key(|&i| (nodes[i].in_progress(), i))
                .map(|i| i as u32),
            PolicySpec::PowerOfTwoChoices => {
                let up: Vec<usize> = (0..n).filter(|&i| self.routable(nodes, i)).collect();
                match up.len() {
                    0 => None,
                    1 => Some(up[0] as u32),
                    m => {
                        let a = self.rng.random_range(0..m);
                        let mut b = self.rng.random_range(0..m - 1);
                        if b >= a {
                            b += 1;
                        }
                        let (a, b) = (up[a], up[b]);
                        Some(if nodes[b].in_progress() < nodes[a].in_progress() {
                            b
                        } else {
                            a
                        } as u32)
                    }
                }
            }
            PolicySpec::Sticky => {
                let u = user as usize;
                if u >= self.pins.len() {
                    self.pins.resize(u + 1, UNPINNED);
                }
                let pinned = self.pins[u];
                if pinned != UNPINNED && self.routable(nodes, pinned as usize) {
                    return Some(pinned);
                }
                // First visit, or the pinned node is gone: pin to the next in turn.
                let chosen = self.round_robin(nodes)?;
                self.pins[u] = chosen;
                Some(chosen)
            }
            PolicySpec::ConsistentHash { .. } => {
                if self.ring.is_empty() {
                    return None;
                }
                let h = mix64(user as u64 ^ 0x5bd1_e995);
                let start = self.ring.partition_point(|&(p, _)| p < h);
                (0..self.ring.len())
                    .map(|k| self.ring[(start + k) % self.ring.len()].1)
                    .find(|&node| self.routable(nodes, node as usize))
            }
        }
    }

    fn round_robin(&mut self, nodes: &[Node]) -> Option<u32> {
        let n = nodes.len();
        for _ in 0..n {
            let i = self.cursor % n;
            self.cursor = (self.cursor + 1) % n;
            if self.routable(nodes, i) {
                return Some(i as u32);
            }
        }
        None
    }

    /// The node `user` is pinned to, if any (sticky sessions).
    pub fn pinned(&self, user: u32) -> Option<u32> {
        self.pins
            .get(user as usize)
            .copied()
            .filter(|&p| p != UNPINNED)
    }
}
