//! Row locks on the request path (not yet modelled: every request goes on).

use super::request::{Attempt, Handle};
use super::Simulation;
use crate::engine::SimTime;

impl Simulation {
    /// Takes the row lock a write needs; true when the lock step has taken the attempt over.
    #[inline]
    pub(super) fn lock_step(
        &mut self,
        _now: SimTime,
        _node: u32,
        _attempt: Handle,
        _a: Attempt,
    ) -> bool {
        false
    }
}
