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

    /// The segment of the shape that holds `t` (ns): the largest multiplier on it, and
    /// where it ends (`None`: the shape stays flat from here on). Linear pieces reach
    /// their largest value at an end, so this bounds the shape until the segment ends.
    #[inline]
    pub fn segment(&self, t: u64) -> (f64, Option<u64>) {
        match self {
            Shape::Constant => (1.0, None),
            Shape::Points(p) => {
                if t < p[0].0 {
                    return (p[0].1, Some(p[0].0));
                }
                let last = p[p.len() - 1];
                if t >= last.0 {
                    return (last.1, None);
                }
                let i = p.iter().position(|&(pt, _)| pt > t).unwrap_or(p.len() - 1);
                (p[i - 1].1.max(p[i].1), Some(p[i].0))
            }
        }
    }

    /// The first time at or after `t` (ns) when the multiplier exceeds `level`, or `None`
    /// if it never does again. Exact for the piecewise-linear shape (to the nanosecond).
    pub fn next_above(&self, t: u64, level: f64) -> Option<u64> {
        let mut t = t;
        loop {
            if self.at(SimTime(t)) > level {
                return Some(t);
            }
            // Flat from here on, and not above `level`: never again.
            let end = self.segment(t).1?;
            // The piece's last nanosecond (at `end` itself a step may already have dropped).
            let last = end - 1;
            let (x0, x1) = (self.at(SimTime(t)), self.at(SimTime(last)));
            if x1 > level {
                // The linear piece rises past `level` before `end`: find the crossing.
                let span = (last - t) as f64;
                let cross = t as f64 + span * (level - x0) / (x1 - x0);
                // The first whole nanosecond past the crossing (rounding may land one short).
                let mut c = (cross.floor() as u64).clamp(t, last);
                while c < last && self.at(SimTime(c)) <= level {
                    c += 1;
                }
                return Some(c);
            }
            t = end;
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

    #[test]
    fn next_above_finds_where_the_shape_rises_past_a_level() {
        let s = SimTime::from_secs;
        let ramp = Shape::new(&ShapeSpec::Piecewise {
            points: vec![
                (Duration::from_secs(0), 0.0),
                (Duration::from_secs(10), 0.0),
                (Duration::from_secs(20), 1.0),
                (Duration::from_secs(30), 0.0),
            ],
        });
        // 0 until 10 s, then up to 1 at 20 s: above 0.5 just after 15 s.
        let t = ramp.next_above(0, 0.5).unwrap();
        assert!(
            ramp.at(SimTime(t)) > 0.5 && ramp.at(SimTime(t - 1)) <= 0.5,
            "{t}"
        );
        assert_eq!(t / 1_000_000_000, 15);
        assert_eq!(ramp.next_above(s(16).0, 0.5), Some(s(16).0));
        // Back to 0 at 30 s and flat after it: never again.
        assert_eq!(ramp.next_above(s(26).0, 0.5), None);
        assert_eq!(ramp.next_above(s(40).0, 0.0), None);
        let stop = Shape::new(&ShapeSpec::Step {
            at: Duration::from_secs(5),
            factor: 0.0,
        });
        assert_eq!(stop.next_above(s(6).0, 0.0), None);
        assert_eq!(stop.next_above(0, 0.0), Some(0));
    }
}
