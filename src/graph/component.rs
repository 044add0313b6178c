//! What every component of a graph model can do: the calls the registry makes on it.
//! Static dispatch only (the registry's `match`), so the hot path has no trait objects.

use super::components::service::Placed;
use super::cx::Cx;
use super::names::Names;
use crate::config::experiment::FaultSpec;
use crate::config::ModelSpec;
use crate::engine::SimTime;
use crate::graph::fail::FailReason;
use crate::graph::slab::Handle;
use crate::metrics::schema::{ComponentFigures, ComponentSeries};

/// A component kind: services, databases, caches, counters, topics.
pub trait Component: Sized {
    /// Its own events.
    type Event;

    /// Every component of this kind in `model`, in the model's order, in run `seed`.
    fn build_all(model: &ModelSpec, names: &Names, seed: u64) -> Vec<Self>;

    /// Handles one of its events.
    fn handle(&mut self, cx: &mut Cx<'_>, event: Self::Event);

    /// Does its step `op` for `task` (`arg`: the user it is for, see `request::user_key`). The
    /// outcome is told to the path with [`Cx::step_done`] (now or later).
    fn step(&mut self, cx: &mut Cx<'_>, op: u8, task: Handle, arg: u64);

    /// The task of the `step` called next runs on instance `placed` of service `service`
    /// (a component that keeps state per instance, like a per-instance cache, notes it).
    fn running_at(&mut self, service: u16, placed: Placed) {
        let _ = (service, placed);
    }

    /// The outcome of a step it asked another component for (see `Notice::Sub`).
    fn reply(&mut self, cx: &mut Cx<'_>, task: Handle, result: Result<(), FailReason>) {
        let _ = (cx, task, result);
    }

    /// The read it asked for `task` (see `Notice::Sub`) came from a replica that had not
    /// yet seen the user's latest write (see `Notice::StaleRead`); its outcome follows.
    fn stale_read(&mut self, task: Handle) {
        let _ = task;
    }

    /// The outcome of work it dispatched (see `Notice::Dispatch`) with `token`.
    fn answered(&mut self, cx: &mut Cx<'_>, token: u64, result: Result<(), FailReason>) {
        let _ = (cx, token, result);
    }

    /// Starts or ends `fault` if it names this component; true if it did.
    fn fault(&mut self, cx: &mut Cx<'_>, fault: &FaultSpec, start: bool) -> bool;

    /// Closes a metrics interval at `now` (the interval lasted `interval_s`).
    fn close_interval(&mut self, now: SimTime, interval_s: f64);

    /// Its time series so far.
    fn series(&self) -> ComponentSeries;

    /// Its summary figures over the measured window of `measured_s` ending at `now`.
    fn figures(&self, now: SimTime, measured_s: f64) -> ComponentFigures;

    /// The warm-up is over at `now`: measured figures start from here.
    fn warmup_over(&mut self, now: SimTime);

    /// Panics (debug builds) on a broken invariant.
    fn check_invariants(&self);
}
