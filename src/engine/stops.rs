//! The limits that end a run early, checked around every event by both engines: no
//! progress (too many events at one instant), too many requests in flight, too many events
//! in all or pending, and an interrupt (Ctrl-C, SIGTERM). Each gives the run's
//! `stopped_reason`; the figures then cover the run until that point.

use super::SimTime;

/// A run's stopping rules and the count of events at the current instant.
pub struct Stops {
    max_in_flight: u64,
    max_events: u64,
    max_pending_events: u64,
    max_at_instant: u64,
    instant: SimTime,
    at_instant: u64,
}

impl Stops {
    /// The rules of a run with these limits.
    pub fn new(
        max_in_flight: u64,
        max_events: u64,
        max_pending_events: u64,
        max_at_instant: u64,
    ) -> Stops {
        Stops {
            max_in_flight,
            max_events,
            max_pending_events,
            max_at_instant,
            instant: SimTime::ZERO,
            at_instant: 0,
        }
    }

    /// Before an event at `now` is handled: the reason to stop if the clock has not moved
    /// for too many events (a run whose clock stops would spin for ever).
    #[inline]
    pub fn before(&mut self, now: SimTime) -> Option<String> {
        if now != self.instant {
            (self.instant, self.at_instant) = (now, 1);
            return None;
        }
        self.at_instant += 1;
        (self.at_instant > self.max_at_instant).then(|| {
            format!(
                "no progress: more than {} events at {:.9}s without the clock moving (e.g. users with zero think time whose requests fail at once); figures cover the run until then",
                self.max_at_instant,
                now.as_secs_f64()
            )
        })
    }

    /// After an event at `now`: the reason to stop, given the requests in flight, the
    /// events processed and (looked at now and then) the events pending.
    #[inline]
    pub fn after(
        &self,
        now: SimTime,
        in_flight: u64,
        events: u64,
        pending: impl FnOnce() -> usize,
    ) -> Option<String> {
        if in_flight > self.max_in_flight {
            return Some(format!(
                "overload: more than {} requests in flight at {:.3}s (limits.max_in_flight)",
                self.max_in_flight,
                now.as_secs_f64()
            ));
        }
        if events >= self.max_events {
            return Some(format!(
                "limits.max_events: {} events processed at {:.3}s",
                self.max_events,
                now.as_secs_f64()
            ));
        }
        if events.is_multiple_of(crate::interrupt::CHECK_EVERY) {
            if pending() as u64 > self.max_pending_events {
                return Some(format!(
                    "overload: more than {} events pending at {:.3}s (limits.max_pending_events)",
                    self.max_pending_events,
                    now.as_secs_f64()
                ));
            }
            if crate::interrupt::requested() {
                return Some(crate::interrupt::STOPPED_REASON.to_string());
            }
        }
        None
    }
}
