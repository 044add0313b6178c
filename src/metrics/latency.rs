//! Latency statistics: an exact mean (from the sum) and percentiles from a log-linear histogram
//! with an HDR histogram's layout ([`super::histogram`]),
//! whose relative error is bounded (0.1%) whatever the range and the run length.
//!
//! A histogram quantile is the top of its bucket, so it can lie up to 0.1% above the largest
//! value recorded (a p99 of 3001.02 ms beside a max of 2999.9998 ms); quantiles are clamped to
//! the exact minimum and maximum, so `min <= p50 <= ... <= max` always holds.

use super::histogram::Histogram;

/// Largest latency recorded exactly (about 2.8 hours in ns); larger values saturate.
const HIGHEST_NS: u64 = 10_000_000_000_000;

/// Latencies of one population of requests, in nanoseconds.
#[derive(Clone)]
pub struct LatencyStats {
    hist: Histogram,
    sum_ns: u128,
    count: u64,
    min_ns: u64,
    max_ns: u64,
}

impl Default for LatencyStats {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyStats {
    /// Empty statistics with 3 significant digits.
    pub fn new() -> LatencyStats {
        LatencyStats {
            hist: Histogram::new(HIGHEST_NS),
            sum_ns: 0,
            count: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.hist.record_n(ns.max(1), 1);
        self.sum_ns += ns as u128;
        self.count += 1;
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Records `n` latencies of zero at once: the same as `n` calls of `record(0)`.
    fn record_zeros(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        self.hist.record_n(1, n);
        self.count += n;
        self.min_ns = 0;
    }

    /// How many latencies were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The exact mean in milliseconds (0 when empty).
    pub fn mean_ms(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ns as f64 / self.count as f64 / 1e6
        }
    }

    /// The `q` quantile (0..=1) in milliseconds (0 when empty), within the exact minimum and
    /// maximum recorded (the histogram's bucket top may lie above the maximum).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            let ns = self
                .hist
                .value_at_quantile(q)
                .clamp(self.min_ns, self.max_ns);
            ns as f64 / 1e6
        }
    }

    /// The exact minimum in milliseconds (0 when empty).
    pub fn min_ms(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.min_ns as f64 / 1e6
        }
    }

    /// The exact maximum in milliseconds.
    pub fn max_ms(&self) -> f64 {
        self.max_ns as f64 / 1e6
    }

    /// Forgets everything (for per-interval statistics); cheap when nothing was recorded.
    pub fn reset(&mut self) {
        if self.count > 0 {
            self.hist.reset();
            self.sum_ns = 0;
            self.count = 0;
            self.min_ns = u64::MAX;
            self.max_ns = 0;
        }
    }
}

/// Queue waits: latencies most of which are zero (a worker was free on arrival). The
/// zeros are only counted, which is far cheaper than a histogram record, and are added
/// when a quantile is read: the statistics then hold exactly what recording each zero
/// would have given (a histogram's counts do not depend on the order of records).
#[derive(Clone, Default)]
pub struct WaitStats {
    /// Every wait that was not zero.
    nonzero: LatencyStats,
    /// How many waits were zero.
    zeros: u64,
}

impl WaitStats {
    /// Empty statistics.
    pub fn new() -> WaitStats {
        WaitStats::default()
    }

    /// Records one wait.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        if ns == 0 {
            self.zeros += 1;
        } else {
            self.nonzero.record(ns);
        }
    }

    /// How many waits were recorded.
    pub fn count(&self) -> u64 {
        self.nonzero.count + self.zeros
    }

    /// Every wait, as [`LatencyStats`] (the histogram is copied when some were zero).
    pub fn stats(&self) -> std::borrow::Cow<'_, LatencyStats> {
        if self.zeros == 0 {
            return std::borrow::Cow::Borrowed(&self.nonzero);
        }
        let mut all = self.nonzero.clone();
        all.record_zeros(self.zeros);
        std::borrow::Cow::Owned(all)
    }

    /// The `q` quantile (0..=1) in milliseconds, as [`LatencyStats::quantile_ms`].
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.stats().quantile_ms(q)
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.nonzero.reset();
        self.zeros = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_is_exact_and_quantiles_are_close() {
        let mut l = LatencyStats::new();
        for ms in 1..=1000u64 {
            l.record(ms * 1_000_000);
        }
        assert_eq!(l.count(), 1000);
        assert!((l.mean_ms() - 500.5).abs() < 1e-9);
        assert!(
            (l.quantile_ms(0.5) / 500.0 - 1.0).abs() < 0.002,
            "{}",
            l.quantile_ms(0.5)
        );
        assert!((l.quantile_ms(0.99) / 990.0 - 1.0).abs() < 0.002);
        assert_eq!(l.max_ms(), 1000.0);
        l.reset();
        assert_eq!(l.count(), 0);
        assert_eq!(l.quantile_ms(0.5), 0.0);
    }

    #[test]
    fn wait_stats_equal_recording_every_zero() {
        // Zeros mixed with waits, as a queue sees them: every figure must equal plain
        // LatencyStats fed the same values (here most waits are zero, so the p50 is one).
        let mut plain = LatencyStats::new();
        let mut waits = WaitStats::new();
        for i in 0..10_000u64 {
            let ns = if i % 3 == 0 { i * 7_919 } else { 0 };
            plain.record(ns);
            waits.record(ns);
        }
        let all = waits.stats();
        assert_eq!(waits.count(), plain.count());
        assert_eq!(all.min_ms(), 0.0);
        assert_eq!(all.max_ms(), plain.max_ms());
        assert_eq!(all.mean_ms(), plain.mean_ms());
        for q in [0.0, 0.5, 0.66, 0.67, 0.9, 0.99, 1.0] {
            assert_eq!(waits.quantile_ms(q), plain.quantile_ms(q), "q {q}");
        }
        // The histogram holds a zero as 1 ns (its lowest value), as `record` does.
        assert_eq!(waits.quantile_ms(0.5), 1e-6);
        assert!(
            waits.quantile_ms(0.99) > 70.0,
            "{}",
            waits.quantile_ms(0.99)
        );
        waits.reset();
        assert_eq!(waits.count(), 0);
    }

    #[test]
    fn quantiles_never_lie_outside_the_exact_min_and_max() {
        // The retry_storm `deadlines` case: every latency just under 3 s. The histogram's
        // bucket for 2999.9998 ms tops out at 3001.02 ms; the quantile must not exceed max.
        let mut l = LatencyStats::new();
        for _ in 0..100 {
            l.record(2_999_999_800);
        }
        assert_eq!(l.max_ms(), 2999.9998);
        for q in [0.0, 0.5, 0.95, 0.99, 0.999, 1.0] {
            assert_eq!(l.quantile_ms(q), 2999.9998, "q {q}");
        }
        // And from below: a single small value's bucket bottom is not below the min.
        let mut l = LatencyStats::new();
        for ns in [123_456_789u64, 123_456_789, 987_654_321] {
            l.record(ns);
        }
        assert_eq!(l.min_ms(), 123.456789);
        assert!(l.quantile_ms(0.0) >= l.min_ms(), "{}", l.quantile_ms(0.0));
        assert!(l.quantile_ms(1.0) <= l.max_ms(), "{}", l.quantile_ms(1.0));
        let qs: Vec<f64> = [0.5, 0.95, 0.99, 0.999]
            .iter()
            .map(|&q| l.quantile_ms(q))
            .collect();
        assert!(qs.windows(2).all(|w| w[0] <= w[1]), "{qs:?}");
        assert!(l.min_ms() <= qs[0] && qs[3] <= l.max_ms(), "{qs:?}");
    }
}
