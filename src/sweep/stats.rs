//! Statistics across replications: mean, standard deviation and the 95% confidence
//! interval of a figure, and the paired (common random numbers) and unpaired intervals of
//! the difference between a variant and the baseline.
//!
//! Every sum runs in replication order, so the same samples give the same bits whatever
//! order the runs finished in.

use crate::validate::batch_means::t_975;

/// Mean, sample standard deviation and 95% Student-t interval of independent samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Number of samples.
    pub n: usize,
    /// Sample mean (NaN without samples).
    pub mean: f64,
    /// Sample standard deviation, divisor n − 1 (NaN with fewer than 2 samples).
    pub sd: f64,
    /// Half-width of the 95% interval: t(0.975, n − 1) · sd / √n (NaN with fewer than 2).
    pub half_width: f64,
}

impl Estimate {
    /// The estimate of `xs`.
    pub fn of(xs: &[f64]) -> Estimate {
        let n = xs.len();
        if n == 0 {
            return Estimate {
                n,
                mean: f64::NAN,
                sd: f64::NAN,
                half_width: f64::NAN,
            };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Estimate {
                n,
                mean,
                sd: f64::NAN,
                half_width: f64::NAN,
            };
        }
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        Estimate {
            n,
            mean,
            sd,
            half_width: t_975(n - 1) * sd / (n as f64).sqrt(),
        }
    }

    /// Lower end of the 95% interval.
    pub fn lo(&self) -> f64 {
        self.mean - self.half_width
    }

    /// Upper end of the 95% interval.
    pub fn hi(&self) -> f64 {
        self.mean + self.half_width
    }
}

/// The paired difference `xs[r] − base[r]` over the replications both have (common random
/// numbers: replication r of both ran on the same seed). `None` entries are missing runs.
pub fn paired_difference(xs: &[Option<f64>], base: &[Option<f64>]) -> Estimate {
    let d: Vec<f64> = xs
        .iter()
        .zip(base)
        .filter_map(|(x, b)| Some((*x)? - (*b)?))
        .collect();
    Estimate::of(&d)
}

/// The unpaired (Welch) interval of mean(xs) − mean(base), as if the two had been run on
/// independent seeds: the interval common random numbers improve on.
pub fn unpaired_difference(xs: &[f64], base: &[f64]) -> Estimate {
    let a = Estimate::of(xs);
    let b = Estimate::of(base);
    let mean = a.mean - b.mean;
    if a.n < 2 || b.n < 2 {
        return Estimate {
            n: a.n.min(b.n),
            mean,
            sd: f64::NAN,
            half_width: f64::NAN,
        };
    }
    let va = a.sd * a.sd / a.n as f64;
    let vb = b.sd * b.sd / b.n as f64;
    let se = (va + vb).sqrt();
    // Welch–Satterthwaite degrees of freedom, rounded down (conservative).
    let df = if va + vb == 0.0 {
        (a.n + b.n - 2) as f64
    } else {
        (va + vb).powi(2) / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64)
    };
    let df = (df.floor() as usize).max(1);
    Estimate {
        n: a.n.min(b.n),
        mean,
        sd: se * ((a.n.min(b.n)) as f64).sqrt(),
        half_width: t_975(df) * se,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sample() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample variance 32/7.
        let e = Estimate::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(e.mean, 5.0);
        assert!((e.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!((e.half_width - 2.365 * (32.0f64 / 7.0 / 8.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn one_sample_has_no_interval() {
        let e = Estimate::of(&[3.0]);
        assert_eq!(e.mean, 3.0);
        assert!(e.sd.is_nan() && e.half_width.is_nan());
    }

    #[test]
    fn pairing_removes_the_shared_noise() {
        // The variant is the baseline plus 1 in every replication: the paired interval is
        // exactly [1, 1]; the unpaired one is wide because the replications differ a lot.
        let base = [10.0, 20.0, 30.0, 40.0];
        let var: Vec<f64> = base.iter().map(|b| b + 1.0).collect();
        let p = paired_difference(
            &var.iter().map(|x| Some(*x)).collect::<Vec<_>>(),
            &base.iter().map(|x| Some(*x)).collect::<Vec<_>>(),
        );
        assert_eq!((p.mean, p.half_width), (1.0, 0.0));
        let u = unpaired_difference(&var, &base);
        assert_eq!(u.mean, 1.0);
        assert!(u.half_width > 10.0, "{u:?}");
    }
}
