//! Batch means: a confidence interval for the mean of a correlated output (successive
//! response times in a queue are correlated, so the naive i.i.d. interval is too narrow).
//!
//! Observations are grouped into consecutive batches whose means are nearly independent.
//! The number of batches stays between 32 and 64: when 64 are full, neighbours are merged
//! and the batch size doubles, so no run length has to be known in advance.

/// Batch-mean accumulator for two paired outputs (response and wait).
#[derive(Clone, Debug)]
pub struct BatchMeans {
    batch_size: u64,
    in_batch: u64,
    sum_a: f64,
    sum_b: f64,
    batches_a: Vec<f64>,
    batches_b: Vec<f64>,
}

const MAX_BATCHES: usize = 64;

impl Default for BatchMeans {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchMeans {
    /// An empty accumulator (batch size starts at 1 and doubles as needed).
    pub fn new() -> BatchMeans {
        BatchMeans {
            batch_size: 1,
            in_batch: 0,
            sum_a: 0.0,
            sum_b: 0.0,
            batches_a: Vec::with_capacity(MAX_BATCHES),
            batches_b: Vec::with_capacity(MAX_BATCHES),
        }
    }

    /// Adds one observation of each output.
    #[inline]
    pub fn record(&mut self, a: f64, b: f64) {
        self.sum_a += a;
        self.sum_b += b;
        self.in_batch += 1;
        if self.in_batch == self.batch_size {
            self.batches_a.push(self.sum_a / self.batch_size as f64);
            self.batches_b.push(self.sum_b / self.batch_size as f64);
            self.sum_a = 0.0;
            self.sum_b = 0.0;
            self.in_batch = 0;
            if self.batches_a.len() == MAX_BATCHES {
                merge_pairs(&mut self.batches_a);
                merge_pairs(&mut self.batches_b);
                self.batch_size *= 2;
            }
        }
    }

    /// (mean, half-width of the 95% interval) of output a over the full batches.
    pub fn interval_a(&self) -> Option<(f64, f64)> {
        interval(&self.batches_a)
    }

    /// (mean, half-width of the 95% interval) of output b over the full batches.
    pub fn interval_b(&self) -> Option<(f64, f64)> {
        interval(&self.batches_b)
    }

    /// Full batches so far.
    pub fn batches(&self) -> usize {
        self.batches_a.len()
    }
}

fn merge_pairs(v: &mut Vec<f64>) {
    let merged: Vec<f64> = v.chunks(2).map(|c| (c[0] + c[1]) / 2.0).collect();
    *v = merged;
}

/// Mean and 95% half-width (Student t) of independent samples; `None` with fewer than 2.
pub fn interval(xs: &[f64]) -> Option<(f64, f64)> {
    let k = xs.len();
    if k < 2 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / k as f64;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (k - 1) as f64;
    Some((mean, t_975(k - 1) * (var / k as f64).sqrt()))
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom.
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    if df == 0 {
        return f64::INFINITY;
    }
    if df <= 30 {
        return TABLE[df - 1];
    }
    // Cornish–Fisher expansion around the normal quantile; error < 1e-4 for df > 30.
    let z = 1.959_963_984_540_054_f64;
    let d = df as f64;
    z + (z.powi(3) + z) / (4.0 * d)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        assert_eq!(t_975(1), 12.706);
        assert!((t_975(40) - 2.0211).abs() < 1e-3, "{}", t_975(40));
        assert!((t_975(120) - 1.9799).abs() < 1e-3);
    }

    #[test]
    fn interval_of_a_known_sample() {
        // Mean 3, sample sd sqrt(2.5), n = 5: half-width = 2.776 * sqrt(2.5 / 5).
        let (m, h) = interval(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(m, 3.0);
        assert!((h - 2.776 * 0.5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn batches_stay_between_32_and_64_and_keep_the_mean() {
        let mut b = BatchMeans::new();
        for i in 0..100_000u64 {
            b.record(i as f64, 1.0);
        }
        assert!((32..64).contains(&b.batches()), "{}", b.batches());
        let (m, _) = b.interval_b().unwrap();
        assert_eq!(m, 1.0);
    }
}
