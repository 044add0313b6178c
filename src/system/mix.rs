//! The request mix: which kind each new request is ("browse", "checkout", …), drawn from
//! the workload's shares with its own stream, `"mix"`.

use crate::engine::keyed::KeyedDraws;
use crate::engine::{stream, Stream};
use indexmap::IndexMap;
use rand::Rng;

/// Kind names and their cumulative shares.
pub struct Mix {
    rng: Stream,
    draws: KeyedDraws,
    names: Vec<String>,
    cumulative: Vec<f64>,
}

impl Mix {
    /// The mix of `shares` in run `seed`; an empty map means one kind, "default".
    pub fn new(shares: &IndexMap<String, f64>, seed: u64) -> Mix {
        let total: f64 = shares.values().sum();
        let mut acc = 0.0;
        let mut cumulative = Vec::new();
        for w in shares.values() {
            acc += w / total;
            cumulative.push(acc);
        }
        Mix {
            rng: stream(seed, "mix"),
            draws: KeyedDraws::new(seed, "mix"),
            names: shares.keys().cloned().collect(),
            cumulative,
        }
    }

    /// The kinds' names, in the order of their indices.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// A kind index for a new request (always 0 with no mix, without drawing).
    #[inline]
    pub fn pick(&mut self) -> u8 {
        if self.names.len() <= 1 {
            return 0;
        }
        let u: f64 = self.rng.random();
        self.kind_at(u)
    }

    /// The kind of request number `n` of user `user`, keyed by both (common random numbers).
    #[inline]
    pub fn pick_for(&self, user: u32, n: u32) -> u8 {
        if self.names.len() <= 1 {
            return 0;
        }
        let u: f64 = self.draws.rng(user as u64, n as u64).random();
        self.kind_at(u)
    }

    fn kind_at(&self, u: f64) -> u8 {
        self.cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.names.len() - 1) as u8
    }
}
