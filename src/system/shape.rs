//! Load shapes: a multiplier of the base rate (or of the active users) over simulated time.

use crate::config::experiment::ShapeSpec;
use crate::engine::SimTime;

/// A load multiplier as a function of time, resolved to nanoseconds.
#[derive(Clone, Debug)]
pub enum Shape {
    /// Always 1.
    Constant,
    /// Piecewise-linear through sorted (time ns, multiplier) points, flat outside them.
    Points(Vec<(u64, f64)>),
}

impl Shape {
    /// Resolves a shape as written in a file. Steps and spikes become steep piecewise
    /// segments (one nanosecond wide), so every shape is evaluated the same way.
    pub fn new(spec: &ShapeSpec) -> Shape {
        match spec {
            ShapeSpec::Constant => Shape::Constant,
            ShapeSpec::Step { at, factor } => {
                let t = at.ns();
                Shape::Points(vec![(t.saturating_sub(1), 1.0), (t, *factor)])
            }
            ShapeSpec::Spike {
                at,
                lasting,
                factor,
            } => {
                let (a, b) = (at.ns(), at.ns().saturating_add(lasting.ns()));
                Shape::Points(vec![
                    (a.saturating_sub(1), 1.0),
                    (a, *factor),
                    (b.saturating_sub(1), *factor),
                    (b, 1.0),
                ])
            }
            ShapeSpec::Ramp { from, to, over } => Shape::Points(vec![(0, *from), (over.ns(), *to)]),
            ShapeSpec::Piecewise { points } => {
                Shape::Points(points.iter().map(|(t, x)| (t.ns(), *x)).collect())
            }
        }
    }

    /// The multiplier at `t`.
    #[inline]
    pub fn at(&self, t: SimTime) -> f64 {
        match self {
            Shape::Constant => 1.0,
            Shape::Points(p) => {
                let t = t.0;
                if t <= p[0].0 {
                    return p[0].1;
                }
                let last = p[p.len() - 1];
                if t >= last.0 {
                    return last.1;
                }
                // Few points: a linear scan is faster than a binary search here.
                let i = p.iter().position(|&(pt, _)| pt > t).unwrap_or(p.len() - 1);
                let (t0, x0) = p[i - 1];
                let (t1, x1) = p[i];
                if t1 == t0 {
                    return x1;
                }
                x0 + (x1 - x0) * ((t - t0) as f64 / (t1 - t0) as f64)
            }
        }
    }

    /// The largest multiplier ever reached (for thinning a Poisson process).
    pub fn max(&self) -> f64 {
        match self {
            Shape::Constant => 1.0,
            Shape::Points(p) => p.iter().map(|&(_, x)| x).fold(0.0, f64::max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Duration;

    #[test]
    fn shapes_evaluate_as_written() {
        let ramp = Shape::new(&ShapeSpec::Ramp {
            from: 0.2,
            to: 1.0,
            over: Duration::from_secs(100),
        });
        assert_eq!(ramp.at(SimTime::ZERO), 0.2);
        assert!((ramp.at(SimTime::from_secs(50)) - 0.6).abs() < 1e-12);
        assert_eq!(ramp.at(SimTime::from_secs(500)), 1.0);
        let spike = Shape::new(&ShapeSpec::Spike {
            at: Duration::from_secs(10),
            lasting: Duration::from_secs(5),
            factor: 4.0,
        });
        assert_eq!(spike.at(SimTime::from_secs(9)), 1.0);
        assert_eq!(spike.at(SimTime::from_secs(12)), 4.0);
        assert_eq!(spike.at(SimTime::from_secs(15)), 1.0);
        assert_eq!(spike.max(), 4.0);
        let step = Shape::new(&ShapeSpec::Step {
            at: Duration::from_secs(1),
            factor: 0.5,
        });
        assert_eq!(step.at(SimTime::from_secs(2)), 0.5);
    }
}
