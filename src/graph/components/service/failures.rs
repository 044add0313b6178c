//! Random failures of a service's instances: from
//! each coming up, an instance fails after a drawn time to failure, and boots again after
//! a drawn time to repair (then the service's start-up time). The draws are keyed by
//! (instance, its n-th draw) in `"failures/service/<name>"`, so they do not depend on
//! what else the run draws.

use super::instance::Life;
use super::{Service, ServiceEvent};
use crate::config::experiment::RandomFailuresSpec;
use crate::engine::keyed::KeyedDraws;
use crate::engine::{Distribution, SimTime};
use crate::graph::cx::Cx;
use crate::graph::registry::Event;

/// A service's random failures.
pub struct Failures {
    ttf: Distribution,
    ttr: Distribution,
    draws: KeyedDraws,
    /// Draws made so far, per instance.
    seq: Vec<u64>,
}

impl Failures {
    fn draw(&mut self, i: usize, repair: bool) -> SimTime {
        let mut rng = self.draws.rng(i as u64, self.seq[i]);
        self.seq[i] += 1;
        if repair {
            self.ttr.sample(&mut rng)
        } else {
            self.ttf.sample(&mut rng)
        }
    }
}

impl Service {
    /// Makes this service's instances fail at random in run `seed`, if `spec` names it
    /// (or names no service: then every service's instances fail).
    pub fn set_random_failures(&mut self, spec: Option<&RandomFailuresSpec>, seed: u64) {
        self.failures = spec
            .filter(|f| f.services.is_empty() || f.services.contains(&self.name))
            .map(|f| Failures {
                ttf: f.time_to_failure.resolve(),
                ttr: f.time_to_repair.resolve(),
                draws: KeyedDraws::new(seed, &format!("failures/service/{}", self.name)),
                seq: vec![0; self.instances.len()],
            });
    }

    /// Schedules the next random failure of instance `i`, which just came up in life
    /// `lifecycle`.
    pub(super) fn schedule_failure(&mut self, cx: &mut Cx<'_>, i: usize, lifecycle: u32) {
        if let Some(f) = &mut self.failures {
            let ttf = f.draw(i, false);
            let ev = ServiceEvent::Fail {
                instance: i as u32,
                lifecycle,
            };
            cx.after(ttf, Event::Service(self.index, ev));
        }
    }

    /// The first failures of the instances up at the start.
    pub(super) fn first_failures(&mut self) -> Vec<(SimTime, Event)> {
        let Some(f) = &mut self.failures else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, inst) in self.instances.iter().enumerate() {
            if inst.life == Life::Up {
                let ev = ServiceEvent::Fail {
                    instance: i as u32,
                    lifecycle: inst.lifecycle,
                };
                out.push((f.draw(i, false), Event::Service(self.index, ev)));
            }
        }
        out
    }

    /// Instance `instance` fails at random, if it still lives the life it was up in.
    pub(super) fn random_failure(&mut self, cx: &mut Cx<'_>, instance: u32, lifecycle: u32) {
        let i = instance as usize;
        let inst = &self.instances[i];
        if inst.lifecycle != lifecycle || inst.life != Life::Up {
            return;
        }
        let ttr = self.failures.as_mut().map(|f| f.draw(i, true));
        self.random_crashes += 1;
        self.crash(cx, i, ttr);
    }
}
