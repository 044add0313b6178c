//! A closed population of users: each thinks, sends one request, waits for its outcome
//! (success, or failure after its retries), and thinks again. The share of users active
//! follows a shape, so a population can ramp up for a "Black Friday".

use super::shape::Shape;
use crate::engine::{stream, Distribution, SimTime, Stream};

/// The users' think times, from the stream `"users"`.
pub struct Users {
    rng: Stream,
    count: u32,
    think: Distribution,
    shape: Shape,
}

impl Users {
    /// `count` users thinking `think` between requests, active by `shape`, in run `seed`.
    pub fn new(count: u32, think: Distribution, shape: Shape, seed: u64) -> Users {
        Users {
            rng: stream(seed, "users"),
            count,
            think,
            shape,
        }
    }

    /// Users in the population.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// A think time.
    #[inline]
    pub fn think(&mut self) -> SimTime {
        self.think.sample(&mut self.rng)
    }

    /// Whether user `id` is active at `now` (users 0..count × share are).
    #[inline]
    pub fn is_active(&self, id: u32, now: SimTime) -> bool {
        match self.shape {
            Shape::Constant => true,
            _ => self.shape.at(now) > self.level(id),
        }
    }

    /// The share of users active above which user `id` is active.
    fn level(&self, id: u32) -> f64 {
        id as f64 / self.count as f64
    }

    /// Whether user `id` is inactive at `now` and the shape never makes it active again: it
    /// sleeps for good, with no wake-up pending (traffic that stops).
    pub fn sleeps_for_good(&self, id: u32, now: SimTime) -> bool {
        !self.is_active(id, now) && self.shape.next_above(now.0, self.level(id)).is_none()
    }

    /// When inactive user `id` next wakes: a think time after the shape makes it active
    /// (with exponential think times, the same law as looking again after every think
    /// time, without an event per look), or `None` if the shape never will.
    pub fn next_wake(&mut self, id: u32, now: SimTime) -> Option<SimTime> {
        let active_at = self.shape.next_above(now.0, self.level(id))?;
        Some(SimTime(active_at).saturating_add(self.think()))
    }
}
