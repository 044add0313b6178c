//! Latency statistics: an exact mean (from the sum) and percentiles from an HDR histogram,
//! whose relative error is bounded (0.1%) whatever the range and the run length.

use hdrhistogram::Histogram;

/// Largest latency recorded exactly (about 2.8 hours in ns); larger values saturate.
const HIGHEST_NS: u64 = 10_000_000_000_000;

/// Latencies of one population of requests, in nanoseconds.
#[derive(Clone)]
pub struct LatencyStats {
    hist: Histogram<u64>,
    sum_ns: u128,
    count: u64,
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
            hist: Histogram::new_with_bounds(1, HIGHEST_NS, 3).expect("valid histogram bounds"),
            sum_ns: 0,
            count: 0,
            max_ns: 0,
        }
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.hist.saturating_record(ns.max(1));
        self.sum_ns += ns as u128;
        self.count += 1;
        self.max_ns = self.max_ns.max(ns);
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

    /// The `q` quantile (0..=1) in milliseconds (0 when empty).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.hist.value_at_quantile(q) as f64 / 1e6
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
            self.max_ns = 0;
        }
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
}
