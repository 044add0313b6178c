//! One instance of a service: its workers and queue (a [`Pool`]), its life (up, crashed,
//! starting), its cold start, its injected faults and its connection pools to databases.

use std::collections::VecDeque;

use crate::config::model::ColdStartSpec;
use crate::engine::SimTime;
use crate::graph::pool::Pool;
use crate::graph::slab::Handle;

/// Where an instance is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    /// Serving.
    Up,
    /// Booting after a restart or a scale-out: refuses calls.
    Starting,
    /// Crashed: refuses calls until restarted.
    Crashed,
    /// Not provisioned (beyond the autoscaler's current count): costs nothing.
    Off,
    /// Ordered by the autoscaler, not yet booting: costs money, serves nothing.
    Provisioning,
    /// Taken out by scale-in: finishes the calls it holds, then turns off.
    Draining,
}

impl Life {
    /// Whether the instance is provisioned, and so costs money.
    pub fn is_on(self) -> bool {
        self != Life::Off
    }

    /// Whether its workers count as capacity (for utilisation and the CPU metric).
    pub fn serves(self) -> bool {
        matches!(self, Life::Up | Life::Draining)
    }
}

/// Connections of one instance to one database.
#[derive(Clone, Debug, Default)]
pub struct ConnPool {
    /// The most it holds; `u32::MAX`: no per-instance limit.
    pub size: u32,
    /// In use now.
    pub in_use: u32,
    /// Tasks waiting for one, in order.
    pub waiters: VecDeque<Handle>,
}

/// One instance.
pub struct Instance {
    /// Its workers and queue.
    pub pool: Pool,
    /// Its state.
    pub life: Life,
    /// Bumped at every crash: work and connections of an older life are void.
    pub lifecycle: u32,
    /// When it last came up (for the cold start).
    pub up_since: SimTime,
    /// Calls sent to it get no answer (a network partition).
    pub partitioned: bool,
    /// Share of calls it fails fast.
    pub fail_share: f64,
    /// Connections the service's balancer has open to it.
    pub open: u32,
    /// Its connection pools, by database index.
    pub conns: Vec<ConnPool>,
    /// Recent outcomes, for a deep health check.
    pub recent_ok: u32,
    /// Recent errors, for a deep health check.
    pub recent_err: u32,
    /// Consecutive failed (negative) or passed (positive) probes.
    pub probe_streak: i32,
    /// The health check has taken it out of rotation.
    pub out_of_rotation: bool,
    /// Calls it finished serving, over the whole run.
    pub served: u64,
    /// Calls that failed at it (an injected error, or downstream), over the whole run.
    pub errors: u64,
    /// Calls its full queue turned away, over the whole run.
    pub rejected: u64,
    /// The balancer may send to it: from its first coming up until it drains or turns
    /// off (a crashed instance stays in the pool, and refuses).
    pub in_pool: bool,
    /// Worker-ns busy and available while it served, up to `cpu_mark`'s time.
    cpu_sum: (u128, u128),
    /// The pool's integrals when its life last changed.
    cpu_mark: (u128, u128),
}

impl Instance {
    /// A fresh instance at time zero: up and warm, or (`on` false) off until the
    /// autoscaler orders it.
    pub fn new(pool: Pool, conns: Vec<ConnPool>, on: bool) -> Instance {
        Instance {
            pool,
            life: if on { Life::Up } else { Life::Off },
            lifecycle: 0,
            up_since: SimTime::ZERO,
            partitioned: false,
            fail_share: 0.0,
            open: 0,
            conns,
            recent_ok: 0,
            recent_err: 0,
            probe_streak: 0,
            out_of_rotation: false,
            served: 0,
            errors: 0,
            rejected: 0,
            in_pool: on,
            cpu_sum: (0, 0),
            cpu_mark: (0, 0),
        }
    }

    /// Worker-ns busy and worker-ns available, counted only while it served (up or
    /// draining), from the start until `now`.
    pub fn cpu(&self, now: SimTime) -> (u128, u128) {
        if !self.life.serves() {
            return self.cpu_sum;
        }
        let (b, c) = self.pool.integrals(now);
        (
            self.cpu_sum.0 + (b - self.cpu_mark.0),
            self.cpu_sum.1 + (c - self.cpu_mark.1),
        )
    }

    /// Moves it to `life` at `now`, closing the CPU account of the life it leaves.
    pub fn set_life(&mut self, life: Life, now: SimTime) {
        self.cpu_sum = self.cpu(now);
        self.cpu_mark = self.pool.integrals(now);
        self.life = life;
    }

    /// Whether it holds no call: no worker busy and none waiting (a draining instance
    /// turns off then).
    pub fn idle(&self) -> bool {
        self.pool.busy() == 0 && self.pool.queue_len() == 0
    }

    /// The cold-start factor at `now`: `factor` right after a restart, falling linearly
    /// to 1 over `lasting`. Instances up from the start are warm.
    pub fn cold_factor(&self, cold: Option<&ColdStartSpec>, now: SimTime) -> f64 {
        match cold {
            Some(c) if self.lifecycle > 0 => {
                let age = now.since(self.up_since).0 as f64;
                let span = c.lasting.ns().max(1) as f64;
                if age >= span {
                    1.0
                } else {
                    c.factor + (1.0 - c.factor) * age / span
                }
            }
            _ => 1.0,
        }
    }
}
