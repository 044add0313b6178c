//! The look-aside cache on the request path (not yet modelled: every request goes on).

use super::request::{Attempt, Handle};
use super::Simulation;
use crate::engine::SimTime;

impl Simulation {
    /// Looks the request's data up in the cache; true when the cache has taken the attempt
    /// over (a miss being fetched, say) and will continue it later.
    #[inline]
    pub(super) fn cache_step(
        &mut self,
        _now: SimTime,
        _node: u32,
        _attempt: Handle,
        _a: Attempt,
    ) -> bool {
        false
    }
}
