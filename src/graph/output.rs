//! What a run gives back: its summary, its time series and what else was asked for, or the
//! invariant it broke.

use crate::metrics::{Summary, TimeSeries};
use crate::validate::batch_means::BatchMeans;

/// The result of one run: its summary and its time series.
pub struct RunOutput {
    /// The figures of the run.
    pub summary: Summary,
    /// One row per metrics interval.
    pub series: TimeSeries,
    /// Batch means of response and wait, when they were asked for (validate).
    pub batches: Option<BatchMeans>,
    /// The request trace (Chrome Trace Event JSON), when one was asked for (`--trace`).
    pub trace: Option<String>,
    /// Every client request that ended, in the order they ended, when asked for
    /// ([`super::run::RunOptions::request_log`]).
    pub request_log: Option<Vec<super::request_log::RequestRecord>>,
}

/// A bug in the simulator found at the end of a run (never a user error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvariantViolation(pub String);

impl std::fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "internal invariant violated (this is a bug in scalesim): {}",
            self.0
        )
    }
}

impl std::error::Error for InvariantViolation {}
