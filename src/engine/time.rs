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
pub fn secs_to_ns(s: f64) -> u64 {
    let ns = (s * NS_PER_S as f64).round();
    if ns.is_nan() || ns <= 0.0 {
        0
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns as u64
    }
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
