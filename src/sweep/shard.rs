//! Shards: `--shard I/N` runs the I-th of N disjoint slices of a sweep's runs (I from 1).
//! Runs are dealt round-robin by their canonical index, so every shard gets a similar mix
//! of cheap and expensive points; with a precision target whole points are dealt instead
//! ([`super::layout::Manifest::in_shard`]).

use std::fmt;
use std::str::FromStr;

/// One slice of a sweep: shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, from 1 to `count`.
    pub index: usize,
    /// How many slices.
    pub count: usize,
}

impl Shard {
    /// The whole sweep as one shard.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Whether run `run` (canonical index) belongs to this shard.
    pub fn contains(&self, run: usize) -> bool {
        run % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!("--shard {s}: expected I/N with 1 ≤ I ≤ N, e.g. --shard 2/8 (shards are numbered from 1)")
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_runs() {
        let shards: Vec<Shard> = (1..=3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for run in 0..50 {
            assert_eq!(shards.iter().filter(|s| s.contains(run)).count(), 1);
        }
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("1-3".parse::<Shard>().is_err());
    }
}
