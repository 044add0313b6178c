//! Every change of a service instance's life goes through [`Service::set_life`]: it keeps
//! the count of instances on (for
//! the cost and the autoscaler), the balancer's view, the CPU account and the schedule
//! of random failures in step.

use super::instance::Life;
use super::{Service, ServiceEvent};
use crate::engine::SimTime;
use crate::graph::cx::{Cx, Notice};
use crate::graph::fail::FailReason;
use crate::graph::registry::Event;
use crate::graph::slab::Handle;

/// The instances provisioned over time: what the cost is made of.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fleet {
    /// Instances on now (any life but off).
    pub on: u32,
    /// Since when `on` has had its value.
    since: SimTime,
    /// Instance-ns on before `since`.
    on_ns: u128,
    /// The most instances on at once.
    pub peak: u32,
    /// Instances up (serving) now.
    up: u32,
    /// Since when no instance has been up, while none is.
    down_since: Option<SimTime>,
    /// Time with no instance up, before `down_since`.
    down_ns: u128,
}

impl Fleet {
    /// A fleet of `on` instances at time zero.
    pub fn new(on: u32) -> Fleet {
        Fleet {
            on,
            peak: on,
            up: on,
            down_since: (on == 0).then_some(SimTime::ZERO),
            ..Default::default()
        }
    }

    /// An instance came up (`true`) or stopped serving.
    fn serving(&mut self, now: SimTime, up: bool) {
        if up {
            if let Some(since) = self.down_since.take() {
                self.down_ns += now.since(since).0 as u128;
            }
            self.up += 1;
        } else {
            self.up -= 1;
            if self.up == 0 {
                self.down_since = Some(now);
            }
        }
    }

    /// Seconds from the start until `now` with no instance up: the service was down.
    pub fn down_seconds(&self, now: SimTime) -> f64 {
        let open = self.down_since.map_or(0, |s| now.since(s).0 as u128);
        (self.down_ns + open) as f64 / 1e9
    }

    fn change(&mut self, now: SimTime, up: bool) {
        self.on_ns += self.on as u128 * now.since(self.since).0 as u128;
        self.since = now;
        if up {
            self.on += 1;
        } else {
            self.on -= 1;
        }
        self.peak = self.peak.max(self.on);
    }

    /// Instance-hours on from the start until `now`.
    pub fn instance_hours(&self, now: SimTime) -> f64 {
        let ns = self.on_ns + self.on as u128 * now.since(self.since).0 as u128;
        ns as f64 / 3.6e12
    }
}

impl Service {
    /// Moves instance `i` to `to` at `cx.now`.
    pub(super) fn set_life(&mut self, cx: &mut Cx<'_>, i: usize, to: Life) {
        let now = cx.now;
        let inst = &mut self.instances[i];
        let from = inst.life;
        inst.set_life(to, now);
        // A new life (ordered after being off) or the end of one (turned off): events
        // and work of the old life are void.
        if (from == Life::Off && to == Life::Provisioning) || to == Life::Off {
            inst.lifecycle += 1;
        }
        match to {
            Life::Up => {
                if !inst.in_pool {
                    // Joining the pool (again): the balancer starts it out healthy.
                    inst.in_pool = true;
                    inst.probe_streak = 0;
                    inst.out_of_rotation = false;
                }
                inst.up_since = now;
                inst.pool.restart(now);
                self.slots[i].ramp_from = now;
                let lifecycle = inst.lifecycle;
                self.schedule_failure(cx, i, lifecycle);
            }
            Life::Draining | Life::Off => inst.in_pool = false,
            _ => {}
        }
        if from.is_on() != to.is_on() {
            self.fleet.change(now, to.is_on());
        }
        if (from == Life::Up) != (to == Life::Up) {
            self.fleet.serving(now, to == Life::Up);
        }
        self.refresh_slot(i);
    }

    /// Turns a draining instance off once it holds no call.
    pub(super) fn off_if_drained(&mut self, cx: &mut Cx<'_>, i: usize) {
        let inst = &self.instances[i];
        if inst.life == Life::Draining && inst.idle() {
            self.set_life(cx, i, Life::Off);
            // Calls sent into a partition are all it could still hold: they reset.
            self.lose_jobs(cx, i, |_| true, FailReason::Crash);
            for c in &mut self.instances[i].conns {
                c.in_use = 0;
                c.waiters.clear();
            }
        }
    }

    /// Fails the service's calls held at instance `i` that `which` selects, in slot order.
    pub(super) fn lose_jobs(
        &mut self,
        cx: &mut Cx<'_>,
        i: usize,
        which: impl Fn(&super::Job) -> bool,
        reason: FailReason,
    ) {
        let lost: Vec<(Handle, Handle)> = self
            .jobs
            .iter()
            .filter(|(_, j)| j.instance == i as u32 && which(j))
            .map(|(h, j)| (h, j.visit))
            .collect();
        for (job, visit) in lost {
            self.jobs.remove(job);
            cx.notify(Notice::VisitFailed { visit, reason });
        }
    }

    /// Boots instance `i` (crashed or provisioned, in life `lifecycle`): it serves after
    /// the service's start-up time.
    pub(super) fn boot(&mut self, cx: &mut Cx<'_>, instance: u32, lifecycle: u32) {
        let inst = &self.instances[instance as usize];
        if inst.lifecycle != lifecycle || !matches!(inst.life, Life::Crashed | Life::Provisioning) {
            return;
        }
        self.set_life(cx, instance as usize, Life::Starting);
        let up = ServiceEvent::Up {
            instance,
            lifecycle,
        };
        cx.after(self.startup, Event::Service(self.index, up));
    }
}
