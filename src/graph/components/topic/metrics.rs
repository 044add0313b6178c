//! A topic's figures and time series (the `QUEUE` schema): what was published, consumed,
//! handled twice and redelivered, the backlog and the consumer lag.

use super::partition::Handled;
use crate::engine::SimTime;

/// Counts over the measured window (from the end of the warm-up) and per interval.
#[derive(Clone, Debug, Default)]
pub struct Meter {
    measured_from: SimTime,
    published: u64,
    consumed: u64,
    duplicates: u64,
    redelivered: u64,
    peak_backlog: u64,
    lag_max_ns: u64,
    iv_published: u64,
    iv_consumed: u64,
    rows: Vec<Vec<f64>>,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

impl Meter {
    fn measured(&self, now: SimTime) -> bool {
        now >= self.measured_from
    }

    /// A message was appended at `now`; `backlog` counts it.
    pub fn published(&mut self, now: SimTime, backlog: u64) {
        self.iv_published += 1;
        if self.measured(now) {
            self.published += 1;
            self.peak_backlog = self.peak_backlog.max(backlog);
        }
    }

    /// A message's handler succeeded at `now`.
    pub fn handled(&mut self, now: SimTime, handled: Handled) {
        let measured = u64::from(self.measured(now));
        match handled {
            Handled::First => {
                self.iv_consumed += 1;
                self.consumed += measured;
            }
            Handled::Again => self.duplicates += measured,
        }
    }

    /// A message delivered before was sent to the consumer again at `now`.
    pub fn redelivered(&mut self, now: SimTime) {
        self.redelivered += u64::from(self.measured(now));
    }

    /// The consumer lag at `now` (`lag_ns`: since the oldest uncommitted message's
    /// publish time).
    pub fn lag(&mut self, now: SimTime, lag_ns: u64) {
        if self.measured(now) {
            self.lag_max_ns = self.lag_max_ns.max(lag_ns);
        }
    }

    /// Closes an interval at `now` of `interval_s` with this backlog and lag.
    pub fn close_interval(&mut self, now: SimTime, interval_s: f64, backlog: u64, lag_ns: u64) {
        self.lag(now, lag_ns);
        self.rows.push(vec![
            backlog as f64,
            self.iv_published as f64 / interval_s,
            self.iv_consumed as f64 / interval_s,
            ms(lag_ns),
        ]);
        self.iv_published = 0;
        self.iv_consumed = 0;
    }

    /// The rows of the time series so far.
    pub fn rows(&self) -> &[Vec<f64>] {
        &self.rows
    }

    /// The summary figures, in the schema's order, with the lag at the end (`lag_ns` at
    /// `now`) counted too.
    pub fn figures(&self, now: SimTime, lag_ns: u64) -> Vec<f64> {
        let lag_max = if self.measured(now) {
            self.lag_max_ns.max(lag_ns)
        } else {
            self.lag_max_ns
        };
        vec![
            self.published as f64,
            self.consumed as f64,
            self.duplicates as f64,
            self.peak_backlog as f64,
            ms(lag_max),
            self.redelivered as f64,
        ]
    }

    /// The measured window starts at `now`, with `backlog` messages waiting.
    pub fn warmup_over(&mut self, now: SimTime, backlog: u64) {
        self.measured_from = now;
        self.published = 0;
        self.consumed = 0;
        self.duplicates = 0;
        self.redelivered = 0;
        self.peak_backlog = backlog;
        self.lag_max_ns = 0;
    }
}
