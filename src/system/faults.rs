//! Faults scheduled by simulated time: which are active, and their labels for the time series.

use crate::config::experiment::FaultSpec;
use crate::engine::SimTime;

/// A fault's start or end, as an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultPhase {
    /// The fault begins.
    Start,
    /// The fault is over (e.g. the crashed node restarts).
    End,
}

/// The experiment's scheduled faults and which of them are active.
pub struct Faults {
    specs: Vec<FaultSpec>,
    active: Vec<bool>,
}

impl Faults {
    /// The faults of an experiment.
    pub fn new(specs: &[FaultSpec]) -> Faults {
        Faults {
            specs: specs.to_vec(),
            active: vec![false; specs.len()],
        }
    }

    /// Each fault's (index, start time, optional end time), in file order.
    pub fn schedule(&self) -> Vec<(u32, SimTime, Option<SimTime>)> {
        self.specs
            .iter()
            .enumerate()
            .map(|(i, f)| match f {
                FaultSpec::Crash {
                    at, restart_after, ..
                } => (
                    i as u32,
                    at.0,
                    restart_after.map(|r| at.0.saturating_add(r.0)),
                ),
            })
            .collect()
    }

    /// The fault at `index`.
    pub fn spec(&self, index: u32) -> &FaultSpec {
        &self.specs[index as usize]
    }

    /// Marks a fault active or over.
    pub fn set_active(&mut self, index: u32, active: bool) {
        self.active[index as usize] = active;
    }

    /// A short label of a fault, e.g. `crash(node 1)`.
    pub fn label(&self, index: u32) -> String {
        match &self.specs[index as usize] {
            FaultSpec::Crash { node, .. } => format!("crash(node {node})"),
        }
    }

    /// The labels of the faults active now, `;`-separated.
    pub fn active_labels(&self) -> String {
        (0..self.specs.len() as u32)
            .filter(|&i| self.active[i as usize])
            .map(|i| self.label(i))
            .collect::<Vec<_>>()
            .join(";")
    }
}
