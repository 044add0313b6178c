//! Faults: the experiment's scheduled faults (which are active, their labels for the time
//! series). Instances failing at random are a service's (`components::service::failures`).

use crate::config::experiment::FaultSpec;
use crate::engine::SimTime;

/// A fault's start or end, as an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultPhase {
    /// The fault begins.
    Start,
    /// The fault is over.
    End,
}

/// The experiment's scheduled faults and which of them are active.
pub struct Faults {
    specs: Vec<FaultSpec>,
    /// The faults' labels when they are not their specs' own (a single-tier model run as its
    /// graph labels its faults as its file wrote them, not as the graph names them).
    labels: Option<Vec<String>>,
    /// Each fault's last start and, once over, its end (equal for an instantaneous fault).
    spans: Vec<Option<(SimTime, Option<SimTime>)>>,
    random_down: usize,
}

impl Faults {
    /// The faults of an experiment.
    pub fn new(specs: &[FaultSpec]) -> Faults {
        Faults {
            specs: specs.to_vec(),
            labels: None,
            spans: vec![None; specs.len()],
            random_down: 0,
        }
    }

    /// Each fault's (index, start, end if it ends), in file order.
    pub fn schedule(&self) -> Vec<(u32, SimTime, Option<SimTime>)> {
        self.specs
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (at, lasting) = (f.at(), f.lasting());
                (i as u32, at, lasting.map(|l| at.saturating_add(l)))
            })
            .collect()
    }

    /// When the last scheduled fault ends (its trigger is over), if there are faults.
    pub fn trigger_end(&self) -> Option<SimTime> {
        self.schedule()
            .iter()
            .map(|&(_, s, e)| e.unwrap_or(s))
            .max()
    }

    /// The fault at `index`.
    pub fn spec(&self, index: u32) -> &FaultSpec {
        &self.specs[index as usize]
    }

    /// Marks a fault active or over at `now`.
    pub fn set_active(&mut self, index: u32, active: bool, now: SimTime) {
        let i = index as usize;
        if active {
            // An instantaneous fault (a cache flush) ends where it begins.
            let end = self.is_instant(index).then_some(now);
            self.spans[i] = Some((now, end));
        } else if let Some((_, end)) = &mut self.spans[i] {
            *end = Some(now);
        }
    }

    /// Whether the fault happens at one instant rather than over a span of time.
    fn is_instant(&self, index: u32) -> bool {
        matches!(
            self.specs[index as usize],
            FaultSpec::FlushCache { .. } | FaultSpec::Flush { .. }
        )
    }

    /// The labels of the faults that were active at some time in the metrics interval
    /// [`start`, `end`), `;`-separated: a fault starting at `end` belongs to the next
    /// interval, one ending at `start` to the previous, and an instantaneous one to the
    /// interval it happened in only.
    pub fn interval_labels(&self, start: SimTime, end: SimTime) -> String {
        let mut labels: Vec<String> = (0..self.specs.len() as u32)
            .filter(|&i| match self.spans[i as usize] {
                None => false,
                Some((from, None)) => from < end,
                Some((from, Some(to))) if from == to => from >= start && from < end,
                Some((from, Some(to))) => from < end && to > start,
            })
            .map(|i| self.label(i))
            .collect();
        if self.random_down > 0 {
            labels.push(format!("random-failures({} down)", self.random_down));
        }
        labels.join(";")
    }

    /// A random failure began (+1) or was repaired (−1).
    pub fn random_failure(&mut self, began: bool) {
        if began {
            self.random_down += 1;
        } else {
            self.random_down = self.random_down.saturating_sub(1);
        }
    }

    /// A short label of a fault, e.g. `crash(node 1)`.
    pub fn label(&self, index: u32) -> String {
        match &self.labels {
            Some(l) => l[index as usize].clone(),
            None => self.specs[index as usize].label(),
        }
    }

    /// Labels the faults as `originals` (one per fault, in order) would be labelled: the
    /// single-tier faults a graph's faults were translated from.
    pub fn label_as(&mut self, originals: &[FaultSpec]) {
        assert_eq!(originals.len(), self.specs.len(), "one original per fault");
        self.labels = Some(originals.iter().map(FaultSpec::label).collect());
    }
}
