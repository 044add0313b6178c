//! Simulated time: an integer count of nanoseconds since the start of a run.
//!
//! Floats appear only while a distribution is sampled and are rounded once, so two runs
//! never disagree about the order of two events because of rounding.

use std::fmt;
use std::ops::{Add, Sub};

/// A point in simulated time, in nanoseconds since the run started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// Nanoseconds in one millisecond.
pub const NS_PER_MS: u64 = 1_000_000;
/// Nanoseconds in one second.
pub const NS_PER_S: u64 = 1_000_000_000;

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// A time no run reaches; used for "never".
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// Whole seconds, for building times in tests and defaults.
    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s * NS_PER_S)
    }

    /// Whole milliseconds.
    pub const fn from_millis(ms: u64) -> SimTime {
        SimTime(ms * NS_PER_MS)
    }

    /// Rounds a non-negative number of seconds to the nearest nanosecond (saturating).
    pub fn from_secs_f64(s: f64) -> SimTime {
        SimTime(secs_to_ns(s))
    }

    /// The time in seconds, for reporting only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }

    /// The time in milliseconds, for reporting only.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / NS_PER_MS as f64
    }

    /// `self + d`, saturating at `NEVER` instead of wrapping.
    pub fn saturating_add(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// `self - earlier`, or zero when `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(earlier.0))
    }
}

/// Rounds seconds to nanoseconds once; negative and NaN become 0, huge values saturate.
#[inline]
pub fn secs_to_ns(s: f64) -> u64 {
    f64_ns_to_ns(s * NS_PER_S as f64)
}

/// Rounds a duration in (fractional) nanoseconds to whole ones; negative and NaN become
/// 0, huge values saturate.
#[inline]
pub fn f64_ns_to_ns(ns: f64) -> u64 {
    if ns.is_nan() || ns <= 0.0 {
        0
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        round_to_u64(ns)
    }
}

/// `x.round() as u64` for `x` in `[0, 2^64)`, without the library call `f64::round` is
/// on targets without SSE4.1 (a few percent of a simple model's run): the truncation and
/// the fraction it leaves are exact (below 2^52 the fraction is representable; above,
/// every double is a whole number), so halves round away from zero as `round` does.
#[inline]
pub fn round_to_u64(x: f64) -> u64 {
    debug_assert!((0.0..u64::MAX as f64).contains(&x), "out of range: {x}");
    let whole = x as u64;
    whole + u64::from(x - whole as f64 >= 0.5)
}

impl Add for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimTime) -> SimTime {
        SimTime(self.0 + rhs.0)
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimTime) -> SimTime {
        SimTime(self.0 - rhs.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_to_u64_agrees_with_round_on_halves_edges_and_random_values() {
        let mut cases = vec![
            0.0,
            0.4999999999999999,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            4503599627370495.5,
            4503599627370496.0,
            9007199254740993.0,
            1.8e19,
        ];
        // A fixed sequence of values spread over every magnitude up to 2^64.
        let mut bits: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..100_000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let x = (bits >> 11) as f64 / (1u64 << 53) as f64 * 2f64.powi((bits % 64) as i32);
            cases.push(x);
        }
        for x in cases {
            assert_eq!(round_to_u64(x), x.round() as u64, "{x}");
        }
    }

    #[test]
    fn rounding_happens_once_and_saturates() {
        assert_eq!(SimTime::from_secs_f64(0.0000000014).0, 1);
        assert_eq!(SimTime::from_secs_f64(-3.0).0, 0);
        assert_eq!(SimTime::from_secs_f64(f64::NAN).0, 0);
        assert_eq!(SimTime::from_secs_f64(1e30), SimTime::NEVER);
        assert_eq!(SimTime::from_millis(250).as_secs_f64(), 0.25);
        assert_eq!(
            SimTime::from_secs(2).since(SimTime::from_secs(3)),
            SimTime::ZERO
        );
    }
}
