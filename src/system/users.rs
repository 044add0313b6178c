//! A closed population of users: each thinks, sends one request, waits for its outcome
//! (success, or failure after its retries), and thinks again. The share of users active
//! follows a shape, so a population can ramp up for a "Black Friday".

use super::shape::Shape;
use crate::engine::keyed::KeyedDraws;
use crate::engine::{Distribution, SimTime};

/// The users' think times, keyed by (run seed, `"users"`, user, request number): a user's
/// n-th think time is the same in every design compared under one seed.
pub struct Users {
    draws: KeyedDraws,
    count: u32,
    think: Distribution,
    shape: Shape,
    /// Requests each user has issued.
    seq: Vec<u32>,
}

/// Keys of a user's draws that are not after a request.
const FIRST_WAKE: u64 = u64::MAX;
const WAKE_AFTER_SLEEP: u64 = 1 << 40;

impl Users {
    /// `count` users thinking `think` between requests, active by `shape`, in run `seed`.
    pub fn new(count: u32, think: Distribution, shape: Shape, seed: u64) -> Users {
        Users {
            draws: KeyedDraws::new(seed, "users"),
            count,
            think,
            shape,
            seq: vec![0; count as usize],
        }
    }

    /// Users in the population.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// When user `id` first wakes: a point of its first think time, so that users are
    /// not in step.
    pub fn first_wake(&self, id: u32) -> SimTime {
        self.think
            .sample(&mut self.draws.rng(id as u64, FIRST_WAKE))
    }

    /// User `id` issues a request: its number (0 for the first).
    #[inline]
    pub fn next_request(&mut self, id: u32) -> u32 {
        let n = &mut self.seq[id as usize];
        *n += 1;
        *n - 1
    }

    /// User `id`'s think time after its latest request.
    #[inline]
    pub fn think(&self, id: u32) -> SimTime {
        let n = self.seq[id as usize] as u64;
        self.think.sample(&mut self.draws.rng(id as u64, n))
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
        let n = WAKE_AFTER_SLEEP | self.seq[id as usize] as u64;
        let think = self.think.sample(&mut self.draws.rng(id as u64, n));
        Some(SimTime(active_at).saturating_add(think))
    }
}
