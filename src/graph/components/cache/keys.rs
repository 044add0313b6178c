//! Which key a lookup asks for, by the keys' popularity.

use crate::config::model::Popularity;

/// Draws keys by popularity: uniform, or Zipf through a precomputed CDF and binary search.
#[derive(Clone, Debug)]
pub struct KeyPicker {
    count: u32,
    cdf: Option<Vec<f64>>,
}

impl KeyPicker {
    /// A picker over `count` keys.
    pub fn new(count: u32, popularity: Popularity) -> KeyPicker {
        let cdf = match popularity {
            Popularity::Uniform => None,
            Popularity::Zipf { s } => {
                let mut acc = 0.0;
                let mut cdf: Vec<f64> = (0..count)
                    .map(|k| {
                        acc += 1.0 / ((k + 1) as f64).powf(s);
                        acc
                    })
                    .collect();
                for c in &mut cdf {
                    *c /= acc;
                }
                Some(cdf)
            }
        };
        KeyPicker { count, cdf }
    }

    /// The key for a uniform draw `u` in [0, 1).
    #[inline]
    pub fn key_for(&self, u: f64) -> u32 {
        match &self.cdf {
            None => ((u * self.count as f64) as u32).min(self.count - 1),
            Some(cdf) => (cdf.partition_point(|&c| c <= u) as u32).min(self.count - 1),
        }
    }

    /// The share of requests that ask for `key`.
    pub fn share(&self, key: u32) -> f64 {
        match &self.cdf {
            None => 1.0 / self.count as f64,
            Some(cdf) => cdf[key as usize] - if key == 0 { 0.0 } else { cdf[key as usize - 1] },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;
    use rand::Rng;

    #[test]
    fn zipf_shares_follow_the_power_law() {
        let p = KeyPicker::new(100, Popularity::Zipf { s: 1.0 });
        let h: f64 = (1..=100).map(|k| 1.0 / k as f64).sum();
        assert!((p.share(0) - 1.0 / h).abs() < 1e-12);
        assert!((p.share(9) - 0.1 / h).abs() < 1e-12);
        // Draws land where the CDF says, and a fixed stream gives fixed keys.
        let mut rng = stream(1, "test");
        let mut counts = [0u32; 100];
        for _ in 0..100_000 {
            counts[p.key_for(rng.random()) as usize] += 1;
        }
        let share0 = counts[0] as f64 / 100_000.0;
        assert!((share0 - 1.0 / h).abs() < 0.01, "{share0}");
        assert!(counts[0] > counts[1] && counts[1] > counts[10]);
        assert_eq!(p.key_for(0.0), 0);
        assert_eq!(p.key_for(0.999_999_999), 99);
    }

    #[test]
    fn uniform_keys_cover_the_range() {
        let p = KeyPicker::new(4, Popularity::Uniform);
        assert_eq!(p.key_for(0.0), 0);
        assert_eq!(p.key_for(0.3), 1);
        assert_eq!(p.key_for(0.99), 3);
        assert!((p.share(2) - 0.25).abs() < 1e-12);
    }
}
