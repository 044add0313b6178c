//! Busy workers over time: how many are busy now, and the integral of that count, for a
//! server's utilisation (busy worker-time ÷ worker-time available).

use crate::engine::SimTime;

/// The busy-worker count of one pool of workers and its time integral.
#[derive(Clone, Debug, Default)]
pub struct BusyTime {
    busy: u32,
    busy_ns: u128,
    since: SimTime,
}

impl BusyTime {
    fn account(&mut self, now: SimTime) {
        self.busy_ns += self.busy as u128 * now.since(self.since).0 as u128;
        self.since = now;
    }

    /// Workers busy now.
    #[inline]
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// A worker becomes busy at `now`.
    #[inline]
    pub fn take(&mut self, now: SimTime) {
        self.account(now);
        self.busy += 1;
    }

    /// A worker becomes idle at `now`.
    #[inline]
    pub fn release(&mut self, now: SimTime) {
        debug_assert!(self.busy > 0, "a worker released with none busy");
        self.account(now);
        self.busy = self.busy.saturating_sub(1);
    }

    /// Busy worker-time until `now` ÷ the worker-time of `workers` workers since time zero.
    pub fn utilisation(&self, workers: u32, now: SimTime) -> f64 {
        let busy = self.busy_ns + self.busy as u128 * now.since(self.since).0 as u128;
        let avail = workers as u128 * now.0 as u128;
        if avail == 0 {
            0.0
        } else {
            busy as f64 / avail as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_the_busy_count() {
        let mut b = BusyTime::default();
        b.take(SimTime::from_secs(0));
        b.take(SimTime::from_secs(1));
        b.release(SimTime::from_secs(3));
        // 1 worker busy 0–4 s, another 1–3 s: 6 worker-seconds of 2 × 4.
        assert_eq!(b.busy(), 1);
        assert!((b.utilisation(2, SimTime::from_secs(4)) - 0.75).abs() < 1e-12);
    }
}
