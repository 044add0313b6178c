//! The open-loop source: requests arrive as a Poisson process, whatever the system does.
//! (An open source keeps sending while the system struggles: the setting of a retry storm.)

use crate::config::experiment::WorkloadSpec;
use crate::engine::{stream, SimTime, Stream};
use rand_distr::{Distribution as _, Exp1};

/// Generates the gaps between arrivals from its own random stream, `"source"`.
pub struct Source {
    rng: Stream,
    mean_gap_ns: f64,
    remaining: Option<u64>,
}

impl Source {
    /// The source of `workload` in run `seed`.
    pub fn new(workload: &WorkloadSpec, seed: u64) -> Source {
        match *workload {
            WorkloadSpec::Open {
                rate_per_s,
                max_requests,
            } => Source {
                rng: stream(seed, "source"),
                mean_gap_ns: 1e9 / rate_per_s,
                remaining: max_requests,
            },
        }
    }

    /// The gap until the next arrival, or `None` once `max_requests` have been generated.
    #[inline]
    pub fn next_gap(&mut self) -> Option<SimTime> {
        if let Some(r) = &mut self.remaining {
            if *r == 0 {
                return None;
            }
            *r -= 1;
        }
        let e: f64 = Exp1.sample(&mut self.rng);
        Some(SimTime(crate::engine::time::secs_to_ns(
            e * self.mean_gap_ns / 1e9,
        )))
    }

    /// True once the source will generate nothing more.
    pub fn exhausted(&self) -> bool {
        self.remaining == Some(0)
    }
}
