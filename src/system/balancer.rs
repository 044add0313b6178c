//! The load balancer: picks a node for each attempt according to its policy, among the
//! nodes it believes are up. It reads the nodes only through their public methods.

use super::node::Node;
use crate::config::model::PolicySpec;
use crate::engine::{stream, Stream};
use rand::Rng;

/// The balancer's state: its policy, round-robin cursor and random stream `"balancer"`.
pub struct Balancer {
    policy: PolicySpec,
    cursor: usize,
    rng: Stream,
}

impl Balancer {
    /// A balancer with `policy` in run `seed`.
    pub fn new(policy: PolicySpec, seed: u64) -> Balancer {
        Balancer {
            policy,
            cursor: 0,
            rng: stream(seed, "balancer"),
        }
    }

    /// The node for the next attempt, or `None` when no node is routable.
    #[inline]
    pub fn pick(&mut self, nodes: &[Node]) -> Option<u32> {
        let n = nodes.len();
        if n == 1 {
            return nodes[0].is_routable().then_some(0);
        }
        match self.policy {
            PolicySpec::RoundRobin => {
                for _ in 0..n {
                    let i = self.cursor % n;
                    self.cursor = (self.cursor + 1) % n;
                    if nodes[i].is_routable() {
                        return Some(i as u32);
                    }
                }
                None
            }
            PolicySpec::Random => {
                let up = nodes.iter().filter(|x| x.is_routable()).count();
                if up == 0 {
                    return None;
                }
                let k = self.rng.random_range(0..up);
                nodes
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.is_routable())
                    .nth(k)
                    .map(|(i, _)| i as u32)
            }
            PolicySpec::LeastConnections => nodes
                .iter()
                .enumerate()
                .filter(|(_, x)| x.is_routable())
                // Ties go to the lowest index, deterministically.
                .min_by_key(|(i, x)| (x.in_progress(), *i))
                .map(|(i, _)| i as u32),
            PolicySpec::PowerOfTwoChoices => {
                let up: Vec<usize> = (0..n).filter(|&i| nodes[i].is_routable()).collect();
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
        }
    }
}
