//! Draws keyed by what they are about: (run seed, component, entity, sequence number).
//!
//! A user's third think time, or the kind of its third request, must be the same in two
//! designs compared under one seed, whatever order the designs ask in (common random
//! numbers). A small counter-based generator seeded from the key gives that without a
//! stream per entity: SplitMix64, whose output passes BigCrush, started at the key's hash.

use super::rng::{mix64, stream_key};
use rand::RngCore;

/// The root of one component's keyed draws.
#[derive(Clone, Copy, Debug)]
pub struct KeyedDraws {
    root: u64,
}

impl KeyedDraws {
    /// The keyed draws of the component `name` in run `seed`.
    pub fn new(seed: u64, name: &str) -> KeyedDraws {
        let key = stream_key(seed, name);
        KeyedDraws {
            root: u64::from_le_bytes(key[..8].try_into().expect("8 bytes")),
        }
    }

    /// The generator for (`entity`, `seq`): e.g. (user, its n-th request).
    #[inline]
    pub fn rng(&self, entity: u64, seq: u64) -> SplitMix {
        SplitMix(mix64(mix64(self.root ^ entity) ^ seq.rotate_left(32)))
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a few draws from a keyed start.
pub struct SplitMix(u64);

impl RngCore for SplitMix {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn the_same_key_gives_the_same_draws_and_keys_differ() {
        let d = KeyedDraws::new(7, "population/shoppers");
        let a: f64 = d.rng(3, 1).random();
        assert_eq!(a, d.rng(3, 1).random::<f64>());
        assert_ne!(a, d.rng(3, 2).random::<f64>());
        assert_ne!(a, d.rng(4, 1).random::<f64>());
        assert_ne!(
            a,
            KeyedDraws::new(8, "population/shoppers")
                .rng(3, 1)
                .random::<f64>()
        );
    }

    #[test]
    fn keyed_uniforms_have_the_right_mean_and_spread() {
        let d = KeyedDraws::new(1, "x");
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|i| d.rng(i, 0).random::<f64>()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.002, "variance {var}");
    }
}
