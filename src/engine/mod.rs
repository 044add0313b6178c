//! The discrete-event engine: integer simulated time, the (time, sequence) event queue,
//! per-component random streams and the service-time distributions sampled from them.
//!
//! The engine knows nothing about web systems: it orders plain-data events and hands
//! out reproducible randomness. `crate::system` gives the events their meaning.

pub mod distribution;
pub mod keyed;
pub mod queue;
pub mod rng;
pub mod stops;
pub mod time;

pub use distribution::Distribution;
pub use queue::EventQueue;
pub use rng::{stream, Stream};
pub use time::SimTime;
