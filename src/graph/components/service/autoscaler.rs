//! A service's autoscaler: its rule ([`Autoscaler`]: every `every`,
//! the metric averaged over `window` against the thresholds, with cooldown and min/max)
//! applied to the service's own instances and its own metric: the busy share of the
//! workers of its serving instances, the p99 of its recent visits (arrival at an
//! instance to the end of the path there), or the calls waiting per instance up.
//!
//! A scale-out orders the lowest-numbered instances that are off: each is provisioning
//! for `provisioning`, then boots for the service's `startup`, then serves, cold if the
//! service has a cold start. A scale-in drains the highest-numbered instance up: the
//! balancer sends it nothing new, it finishes what it holds, then turns off.

use super::autoscaler_rule::{Autoscaler, Decision, Snapshot};
use super::instance::Life;
use super::{Service, ServiceEvent};
use crate::config::model::AutoscalerSpec;
use crate::engine::SimTime;
use crate::graph::cx::Cx;
use crate::graph::registry::Event;
use crate::metrics::latency::LatencyStats;

/// A service's autoscaler and what it measures between evaluations.
pub struct Scaling {
    rule: Autoscaler,
    /// Durations of the visits that succeeded since the last evaluation.
    recent: LatencyStats,
}

impl Scaling {
    /// The autoscaler of `spec`.
    pub fn new(spec: &AutoscalerSpec) -> Scaling {
        Scaling {
            rule: Autoscaler::new(spec),
            recent: LatencyStats::new(),
        }
    }

    /// A visit succeeded after `took` at its instance.
    #[inline]
    pub fn visit_done(&mut self, took: SimTime) {
        self.recent.record(took.0);
    }
}

impl Service {
    /// The metric its autoscaler saw at its last evaluation (0 before the first, and
    /// without an autoscaler).
    pub fn autoscaler_metric(&self) -> f64 {
        self.scaling.as_ref().map_or(0.0, |s| s.rule.last_metric)
    }

    /// The autoscaler's first evaluation, if the service has one.
    pub(super) fn first_evaluation(&self) -> Option<(SimTime, Event)> {
        let s = self.scaling.as_ref()?;
        Some((
            s.rule.every(),
            Event::Service(self.index, ServiceEvent::Autoscale),
        ))
    }

    /// Evaluates the autoscaler at `cx.now` and acts on its decision.
    pub(super) fn autoscale(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now;
        let (mut busy, mut cap) = (0u128, 0u128);
        let mut queued = 0usize;
        let mut serving = 0u32;
        for inst in &self.instances {
            let (b, c) = inst.cpu(now);
            busy += b;
            cap += c;
            queued += inst.pool.queue_len();
            serving += u32::from(inst.life == Life::Up);
        }
        let Some(s) = self.scaling.as_mut() else {
            return;
        };
        let snapshot = Snapshot {
            busy_ns: busy,
            capacity_ns: cap,
            queue_per_node: queued as f64 / serving.max(1) as f64,
            latency_p99_ms: (s.recent.count() > 0).then(|| s.recent.quantile_ms(0.99)),
            nodes: self.fleet.on,
            serving,
        };
        s.recent.reset();
        let decision = s.rule.evaluate(now, snapshot);
        let provisioning = s.rule.provisioning();
        let every = s.rule.every();
        match decision {
            Decision::Out(k) => {
                let off: Vec<usize> = (0..self.instances.len())
                    .filter(|&i| self.instances[i].life == Life::Off)
                    .take(k as usize)
                    .collect();
                for i in off {
                    self.set_life(cx, i, Life::Provisioning);
                    let ev = ServiceEvent::Boot {
                        instance: i as u32,
                        lifecycle: self.instances[i].lifecycle,
                    };
                    cx.after(provisioning, Event::Service(self.index, ev));
                }
            }
            Decision::In => {
                let victim = (0..self.instances.len())
                    .rev()
                    .find(|&i| self.instances[i].life == Life::Up);
                if let Some(i) = victim {
                    self.set_life(cx, i, Life::Draining);
                    self.off_if_drained(cx, i);
                }
            }
            Decision::Hold => {}
        }
        cx.after(every, Event::Service(self.index, ServiceEvent::Autoscale));
    }
}
