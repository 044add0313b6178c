//! The autoscaler's rule: every `every`, it averages a metric over the last `window` and
//! adds or removes instances when the average crosses its thresholds, respecting a cooldown
//! and min/max. It sees the service only through the snapshots the service hands it
//! (`autoscaler.rs`).
//!
//! A window without data is "no data", never "idle" or "fast": until a whole window has
//! passed since the start, while no node was up to measure CPU on, or while no request
//! succeeded to measure latency on, it holds. Scale-in never takes the serving nodes (up,
//! not draining) below `min_nodes`, whatever is still draining.

use crate::config::model::{AutoscalerSpec, ScaleMetric};
use crate::engine::SimTime;
use std::collections::VecDeque;

/// What the autoscaler sees at an evaluation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Snapshot {
    /// Worker-ns held so far, summed over nodes.
    pub busy_ns: u128,
    /// Worker-ns available while up so far, summed over nodes.
    pub capacity_ns: u128,
    /// Requests waiting per serving node, now.
    pub queue_per_node: f64,
    /// p99 latency of successes since the previous evaluation, ms; `None` if none succeeded.
    pub latency_p99_ms: Option<f64>,
    /// Nodes provisioned or running (the autoscaler's count, pending ones included).
    pub nodes: u32,
    /// Nodes serving now: up and not draining (what `min_nodes` protects).
    pub serving: u32,
}

/// The autoscaler's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Add this many nodes.
    Out(u32),
    /// Remove one node.
    In,
    /// Leave things be.
    Hold,
}

/// The autoscaler's state.
pub struct Autoscaler {
    spec: AutoscalerSpec,
    history: VecDeque<(SimTime, Snapshot)>,
    last_change: Option<SimTime>,
    /// The last metric value it acted on (for the time series); kept while it has no data.
    pub last_metric: f64,
}

impl Autoscaler {
    /// The autoscaler of a model, which sees the system from `start` (all integrals zero).
    pub fn new(spec: &AutoscalerSpec) -> Autoscaler {
        let mut history = VecDeque::new();
        // The run's start is a measurement too: nothing has been busy yet, no latency seen.
        history.push_back((SimTime::ZERO, Snapshot::default()));
        Autoscaler {
            spec: spec.clone(),
            history,
            last_change: None,
            last_metric: 0.0,
        }
    }

    /// Time between evaluations.
    pub fn every(&self) -> SimTime {
        self.spec.every.0
    }

    /// The metric over the last window, or `None` when the window has no data.
    fn metric(&self, now: SimTime, snap: &Snapshot) -> Option<f64> {
        let (t0, first) = self.history[0];
        if now.since(t0) < self.spec.window.0 {
            return None; // less than a whole window measured so far
        }
        // The snapshots after the base: each covers the time since the one before it.
        let inside = self.history.iter().skip(1).map(|(_, s)| s);
        match self.spec.metric {
            ScaleMetric::Cpu => {
                let cap = snap.capacity_ns.saturating_sub(first.capacity_ns);
                if cap == 0 {
                    return None; // no node was up to be busy
                }
                Some(snap.busy_ns.saturating_sub(first.busy_ns) as f64 / cap as f64)
            }
            ScaleMetric::LatencyP99 => {
                let xs: Vec<f64> = inside.filter_map(|s| s.latency_p99_ms).collect();
                if xs.is_empty() {
                    return None; // nothing succeeded: no latency to judge
                }
                Some(xs.iter().sum::<f64>() / xs.len() as f64)
            }
            ScaleMetric::QueueLength => {
                let xs: Vec<f64> = inside.map(|s| s.queue_per_node).collect();
                Some(xs.iter().sum::<f64>() / xs.len().max(1) as f64)
            }
        }
    }

    /// Evaluates at `now` with the current snapshot.
    pub fn evaluate(&mut self, now: SimTime, snap: Snapshot) -> Decision {
        self.history.push_back((now, snap));
        // Keep as base the newest snapshot at or before the window's start, so the metric
        // always spans at least `window` (validation ensures window >= every).
        let window = self.spec.window.0;
        while self.history.len() > 2 && now.since(self.history[1].0) >= window {
            self.history.pop_front();
        }
        let Some(metric) = self.metric(now, &snap) else {
            return Decision::Hold;
        };
        self.last_metric = metric;
        if self
            .last_change
            .is_some_and(|t| now.since(t) < self.spec.cooldown.0)
        {
            return Decision::Hold;
        }
        if metric > self.spec.scale_out_above && snap.nodes < self.spec.max_nodes {
            self.last_change = Some(now);
            return Decision::Out(self.spec.step.min(self.spec.max_nodes - snap.nodes));
        }
        if metric < self.spec.scale_in_below
            && snap.nodes > self.spec.min_nodes
            && snap.serving > self.spec.min_nodes
        {
            self.last_change = Some(now);
            return Decision::In;
        }
        Decision::Hold
    }

    /// Time from a scale-out decision until the node starts booting.
    pub fn provisioning(&self) -> SimTime {
        self.spec.provisioning.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Duration;

    fn spec(metric: ScaleMetric, every_s: u64, window_s: u64) -> AutoscalerSpec {
        AutoscalerSpec {
            metric,
            scale_out_above: 0.5,
            scale_in_below: 0.2,
            every: Duration::from_secs(every_s),
            window: Duration::from_secs(window_s),
            cooldown: Duration::from_secs(0),
            min_nodes: 2,
            max_nodes: 10,
            step: 1,
            provisioning: Duration::from_secs(0),
        }
    }

    /// A snapshot of `nodes` nodes of one worker each, every one busy since the start.
    fn busy(now_s: u64, nodes: u32) -> Snapshot {
        let ns = now_s as u128 * 1_000_000_000 * nodes as u128;
        Snapshot {
            busy_ns: ns,
            capacity_ns: ns,
            nodes,
            serving: nodes,
            ..Default::default()
        }
    }

    #[test]
    fn holds_until_a_whole_window_is_measured_then_reads_the_real_cpu() {
        // Before: the first evaluation read 0 ("idle") and scaled in busy nodes.
        let mut a = Autoscaler::new(&spec(ScaleMetric::Cpu, 10, 20));
        let at = SimTime::from_secs;
        assert_eq!(a.evaluate(at(10), busy(10, 4)), Decision::Hold);
        assert_eq!(a.evaluate(at(20), busy(20, 4)), Decision::Out(1));
        assert!((a.last_metric - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_window_without_successes_is_no_data_not_fast() {
        let mut a = Autoscaler::new(&spec(ScaleMetric::LatencyP99, 10, 10));
        let mut snap = busy(10, 6);
        snap.latency_p99_ms = None;
        for t in [10, 20, 30, 40] {
            assert_eq!(a.evaluate(SimTime::from_secs(t), snap), Decision::Hold);
        }
        snap.latency_p99_ms = Some(0.1);
        assert_eq!(a.evaluate(SimTime::from_secs(50), snap), Decision::In);
    }

    #[test]
    fn scale_in_counts_only_serving_nodes() {
        let mut a = Autoscaler::new(&spec(ScaleMetric::QueueLength, 10, 10));
        // Six nodes on, four of them draining: two serve, which is min_nodes.
        let snap = Snapshot {
            nodes: 6,
            serving: 2,
            ..Default::default()
        };
        assert_eq!(a.evaluate(SimTime::from_secs(10), snap), Decision::Hold);
        let snap = Snapshot { serving: 3, ..snap };
        assert_eq!(a.evaluate(SimTime::from_secs(20), snap), Decision::In);
    }
}
