//! A log-linear histogram of non-negative integers with three significant digits: the
//! bucket layout of an HDR histogram (`hdrhistogram::Histogram::new_with_bounds(1, high,
//! 3)`), recorded and read the same way, so its quantiles are the ones an HDR histogram
//! gives for the same values, to the nanosecond (a test compares the two on random data).
//!
//! Why not the crate itself: every finished request records its latency twice (the whole
//! run's and its interval's), and the crate's general record path (any precision, any
//! counter type, resizing) was a tenth of a simple model's run time. This one has its
//! layout fixed at compile time and records with a shift, an add and a bounds check.

/// Values below 2 × 10³ are kept exactly; each power of two above is split in 1024.
const SUB_BUCKET_HALF_MAGNITUDE: u32 = 10;
const SUB_BUCKET_HALF_COUNT: u64 = 1 << SUB_BUCKET_HALF_MAGNITUDE;
const SUB_BUCKET_COUNT: u64 = SUB_BUCKET_HALF_COUNT * 2;
const SUB_BUCKET_MASK: u64 = SUB_BUCKET_COUNT - 1;
/// 64 − log2(sub-bucket count): the leading zeros of a value in the first bucket.
const LEADING_ZERO_COUNT_BASE: u32 = 64 - (SUB_BUCKET_HALF_MAGNITUDE + 1);

/// Counts of values by bucket, up to a highest trackable value; larger values count as it.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    highest: u64,
}

impl Histogram {
    /// An empty histogram tracking values up to `highest` (at least 2).
    pub fn new(highest: u64) -> Histogram {
        assert!(highest >= 2, "a histogram tracks at least 0..=2");
        // Buckets to cover `highest`: each one doubles the range of the one before.
        let mut buckets = 1u32;
        let mut untrackable = SUB_BUCKET_COUNT;
        while untrackable <= highest {
            if untrackable > u64::MAX / 2 {
                buckets += 1;
                break;
            }
            untrackable <<= 1;
            buckets += 1;
        }
        let len = (buckets as usize + 1) << SUB_BUCKET_HALF_MAGNITUDE;
        Histogram {
            counts: vec![0; len],
            total: 0,
            highest,
        }
    }

    /// The bucket (power of two above the first) that holds `value`.
    #[inline]
    fn bucket_of(value: u64) -> u32 {
        LEADING_ZERO_COUNT_BASE - (value | SUB_BUCKET_MASK).leading_zeros()
    }

    #[inline]
    fn index_of(value: u64) -> usize {
        let bucket = Self::bucket_of(value);
        let sub_bucket = value >> bucket;
        (((bucket as u64 + 1) << SUB_BUCKET_HALF_MAGNITUDE) + sub_bucket - SUB_BUCKET_HALF_COUNT)
            as usize
    }

    /// The lowest value counted at `index`.
    fn value_at_index(index: usize) -> u64 {
        let mut bucket = (index >> SUB_BUCKET_HALF_MAGNITUDE) as i64 - 1;
        let mut sub_bucket = (index as u64 & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
        if bucket < 0 {
            sub_bucket -= SUB_BUCKET_HALF_COUNT;
            bucket = 0;
        }
        sub_bucket << bucket
    }

    fn lowest_equivalent(value: u64) -> u64 {
        let bucket = Self::bucket_of(value);
        (value >> bucket) << bucket
    }

    fn highest_equivalent(value: u64) -> u64 {
        if value == u64::MAX {
            return u64::MAX;
        }
        let range = 1u64 << Self::bucket_of(value);
        Self::lowest_equivalent(value).saturating_add(range) - 1
    }

    /// Counts `value` `n` times (a value past the highest trackable counts as that).
    #[inline]
    pub fn record_n(&mut self, value: u64, n: u64) {
        let mut index = Self::index_of(value);
        if index >= self.counts.len() {
            index = Self::index_of(self.highest);
        }
        self.counts[index] = self.counts[index].saturating_add(n);
        self.total = self.total.saturating_add(n);
    }

    /// Values counted.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when nothing is counted.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The value at quantile `q` (0..=1): the top of the bucket the `⌈q·n⌉`-th value falls
    /// in (its bottom for `q` = 0), or 0 when empty.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        let q = q.min(1.0);
        let target = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                let value = Self::value_at_index(i);
                return if q == 0.0 {
                    Self::lowest_equivalent(value)
                } else {
                    Self::highest_equivalent(value)
                };
            }
        }
        0
    }

    /// Forgets every count.
    pub fn reset(&mut self) {
        if self.total > 0 {
            self.counts.fill(0);
            self.total = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HIGHEST: u64 = 10_000_000_000_000;

    /// A fixed spread of values over every magnitude, a few past the highest trackable.
    fn values(n: usize, mut bits: u64) -> Vec<u64> {
        (0..n)
            .map(|_| {
                bits ^= bits << 13;
                bits ^= bits >> 7;
                bits ^= bits << 17;
                (bits >> (bits % 64)) % (HIGHEST * 3)
            })
            .collect()
    }

    #[test]
    fn quantiles_match_an_hdr_histogram_of_the_same_values() {
        let quantiles = [
            0.0, 1e-9, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0, 1.5,
        ];
        for (seed, n) in [(1u64, 1usize), (2, 7), (3, 1000), (4, 100_000)] {
            let mut ours = Histogram::new(HIGHEST);
            let mut hdr = hdrhistogram::Histogram::<u64>::new_with_bounds(1, HIGHEST, 3).unwrap();
            assert_eq!(ours.counts.len(), hdr.distinct_values());
            for v in values(n, seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)) {
                let v = v.max(1);
                ours.record_n(v, 1);
                hdr.saturating_record(v);
            }
            ours.record_n(1, 5);
            hdr.saturating_record_n(1, 5);
            assert_eq!(ours.len(), hdr.len());
            for q in quantiles {
                assert_eq!(
                    ours.value_at_quantile(q),
                    hdr.value_at_quantile(q),
                    "{n} values, quantile {q}"
                );
            }
        }
    }

    #[test]
    fn small_values_are_exact_and_reset_empties_it() {
        let mut h = Histogram::new(HIGHEST);
        for v in 1..=2000 {
            h.record_n(v, 1);
        }
        assert_eq!(h.value_at_quantile(0.5), 1000);
        assert_eq!(h.value_at_quantile(1.0), 2000);
        h.reset();
        assert!(h.is_empty());
        assert_eq!(h.value_at_quantile(0.5), 0);
    }
}
