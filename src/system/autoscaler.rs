//! The autoscaler: every `every`, it averages a metric over `window` and adds or removes
//! nodes when the average crosses its thresholds, respecting a cooldown and min/max.
//! It sees the system only through the snapshots the wiring hands it.

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
    /// p99 latency of successes since the previous evaluation, ms (0 if none).
    pub latency_p99_ms: f64,
    /// Nodes provisioned or running (the autoscaler's count, pending ones included).
    pub nodes: u32,
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
    /// The last metric value it acted on (for the time series).
    pub last_metric: f64,
}

impl Autoscaler {
    /// The autoscaler of a model.
    pub fn new(spec: &AutoscalerSpec) -> Autoscaler {
        Autoscaler {
            spec: spec.clone(),
            history: VecDeque::new(),
            last_change: None,
            last_metric: 0.0,
        }
    }

    /// Time between evaluations.
    pub fn every(&self) -> SimTime {
        self.spec.every.0
    }

    /// Evaluates at `now` with the current snapshot.
    pub fn evaluate(&mut self, now: SimTime, snap: Snapshot) -> Decision {
        self.history.push_back((now, snap));
        let window = self.spec.window.0;
        while self.history.len() > 1 && now.since(self.history[0].0) > window {
            self.history.pop_front();
        }
        let (t0, first) = self.history[0];
        let metric = match self.spec.metric {
            ScaleMetric::Cpu => {
                let cap = snap.capacity_ns.saturating_sub(first.capacity_ns);
                if t0 == now || cap == 0 {
                    0.0
                } else {
                    snap.busy_ns.saturating_sub(first.busy_ns) as f64 / cap as f64
                }
            }
            ScaleMetric::LatencyP99 => {
                let xs: Vec<f64> = self.history.iter().map(|(_, s)| s.latency_p99_ms).collect();
                xs.iter().sum::<f64>() / xs.len() as f64
            }
            ScaleMetric::QueueLength => {
                let xs: Vec<f64> = self.history.iter().map(|(_, s)| s.queue_per_node).collect();
                xs.iter().sum::<f64>() / xs.len() as f64
            }
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
        if metric < self.spec.scale_in_below && snap.nodes > self.spec.min_nodes {
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
