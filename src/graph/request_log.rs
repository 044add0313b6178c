//! The request log: one record per client request that ended, in the order they ended,
//! when a run is asked for it ([`super::run::RunOptions::request_log`]). It is for tests and
//! research that compare what the users did across variants (common random numbers); the
//! CLI never keeps it, since it grows with the run.

use crate::engine::SimTime;
use crate::graph::fail::FailReason;

/// One client request, from its issue to its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// Its population (index in the experiment's `populations`).
    pub population: u16,
    /// Its user, in a closed population.
    pub user: Option<u32>,
    /// Its kind (index in the model's `requests`: a login and a logout are kinds too).
    pub kind: u16,
    /// When it was issued.
    pub issued_at: SimTime,
    /// When it ended (succeeded, or failed for good).
    pub ended_at: SimTime,
    /// How it ended.
    pub outcome: Result<(), FailReason>,
}
