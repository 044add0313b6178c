//! The one list of a graph model's component kinds. Adding a kind is one line in
//! `components!` below (and its folder under `components/`): the central `Event` enum,
//! the collection of every component, and the dispatch of events, steps, faults and
//! metrics are generated from it.

use super::component::Component;
use super::cx::Cx;
use super::path::PathEvent;
use super::population::PopulationEvent;
use crate::config::experiment::FaultSpec;
use crate::config::ModelSpec;
use crate::engine::SimTime;
use crate::graph::fail::FailReason;
use crate::graph::faults::FaultPhase;
use crate::graph::slab::Handle;
use crate::metrics::schema::{ComponentFigures, ComponentSeries};

macro_rules! components {
    ($( $kind:ident($event:ty) => $field:ident: $ty:ty ),* $(,)?) => {
        /// Everything that can happen in a graph run, as plain data: the engine's own
        /// events, and each component's by its index in the model.
        #[derive(Clone, Copy, Debug)]
        pub enum Event {
            /// A request moves along its path.
            Path(PathEvent),
            /// A client population's arrival, user or burst.
            Population(u16, PopulationEvent),
            /// A scheduled fault starts or ends.
            Fault(u32, FaultPhase),
            /// The end of a metrics interval.
            Tick,
            $(
                #[doc = concat!("An event of a ", stringify!($kind), " component.")]
                $kind(u16, $event),
            )*
        }

        /// The kind of a component, for steps and replies addressed by (kind, index).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Kind {
            $(
                #[doc = concat!("A ", stringify!($kind), ".")]
                $kind,
            )*
        }

        /// Every component of a model, by kind, each in the model's order.
        pub struct Components {
            $(
                #[doc = concat!("The ", stringify!($field), ".")]
                pub $field: Vec<$ty>,
            )*
        }

        impl Components {
            /// Builds every component of `model` in run `seed`.
            pub fn build(model: &ModelSpec, names: &super::names::Names, seed: u64) -> Components {
                Components {
                    $( $field: <$ty as Component>::build_all(model, names, seed), )*
                }
            }

            /// Hands a component's event to it; the engine's own events come back.
            #[inline]
            pub fn dispatch(&mut self, cx: &mut Cx<'_>, event: Event) -> Option<Event> {
                match event {
                    $( Event::$kind(i, e) => {
                        self.$field[i as usize].handle(cx, e);
                        None
                    } )*
                    other => Some(other),
                }
            }

            /// Runs step `op` of component (`kind`, `index`) for `task`.
            #[inline]
            pub fn step(&mut self, cx: &mut Cx<'_>, kind: Kind, index: u16, op: u8, task: Handle, arg: u64) {
                match kind {
                    $( Kind::$kind => self.$field[index as usize].step(cx, op, task, arg), )*
                }
            }

            /// Runs step `op` of component (`kind`, `index`) for `task`, which runs on
            /// instance `placed` of service `service` (see `Component::running_at`).
            #[inline]
            #[allow(clippy::too_many_arguments)]
            pub fn step_at(&mut self, cx: &mut Cx<'_>, kind: Kind, index: u16, op: u8, task: Handle, arg: u64, service: u16, placed: super::components::service::Placed) {
                match kind {
                    $( Kind::$kind => {
                        let c = &mut self.$field[index as usize];
                        c.running_at(service, placed);
                        c.step(cx, op, task, arg);
                    } )*
                }
            }

            /// Hands component (`kind`, `index`) the outcome of the step it asked for.
            #[inline]
            pub fn reply(&mut self, cx: &mut Cx<'_>, kind: Kind, index: u16, task: Handle, result: Result<(), FailReason>) {
                match kind {
                    $( Kind::$kind => self.$field[index as usize].reply(cx, task, result), )*
                }
            }

            /// Hands component (`kind`, `index`) the outcome of work it dispatched.
            #[inline]
            pub fn answered(&mut self, cx: &mut Cx<'_>, kind: Kind, index: u16, token: u64, result: Result<(), FailReason>) {
                match kind {
                    $( Kind::$kind => self.$field[index as usize].answered(cx, token, result), )*
                }
            }

            /// Tells component (`kind`, `index`) that the read it asked for `task` came
            /// from a replica behind the user's latest write.
            #[inline]
            pub fn stale_read(&mut self, kind: Kind, index: u16, task: Handle) {
                match kind {
                    $( Kind::$kind => self.$field[index as usize].stale_read(task), )*
                }
            }

            /// Starts or ends a fault on whichever component it names; false if none does.
            pub fn fault(&mut self, cx: &mut Cx<'_>, fault: &FaultSpec, start: bool) -> bool {
                let mut hit = false;
                $( for c in &mut self.$field { hit |= c.fault(cx, fault, start); } )*
                hit
            }

            /// Closes a metrics interval that started at `start` on every component.
            pub fn close_interval(&mut self, now: SimTime, interval_s: f64) {
                $( for c in &mut self.$field { c.close_interval(now, interval_s); } )*
            }

            /// Every component's time series, in registry then model order.
            pub fn series(&self) -> Vec<ComponentSeries> {
                let mut all = Vec::new();
                $( for c in &self.$field { all.push(c.series()); } )*
                all
            }

            /// Every component's summary figures over the measured window.
            pub fn figures(&self, now: SimTime, measured_s: f64) -> Vec<ComponentFigures> {
                let mut all = Vec::new();
                $( for c in &self.$field { all.push(c.figures(now, measured_s)); } )*
                all
            }

            /// Panics (debug builds) on any component's broken invariant.
            pub fn check_invariants(&self) {
                $( for c in &self.$field { c.check_invariants(); } )*
            }

            /// The warm-up is over: every component restarts its measured figures.
            pub fn warmup_over(&mut self, now: SimTime) {
                $( for c in &mut self.$field { c.warmup_over(now); } )*
            }
        }
    };
}

components! {
    Service(super::components::service::ServiceEvent) => services: super::components::service::Service,
    Db(super::components::database::DbEvent) => databases: super::components::database::Database,
    Cache(super::components::cache::CacheEvent) => caches: super::components::cache::Cache,
    Counter(super::components::counter::CounterEvent) => counters: super::components::counter::Counter,
    Topic(super::components::topic::TopicEvent) => topics: super::components::topic::Topic,
    Sessions(super::components::sessions::SessionsEvent) => sessions: super::components::sessions::Sessions,
}
