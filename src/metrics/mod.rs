//! Metrics: counters, latency histograms, per-interval time series and the run summary,
//! and the schema through which a graph model's components declare their columns and
//! figures ([`schema`]).

pub mod busy;
#[cfg(test)]
pub(crate) mod fixture;
pub mod histogram;
pub mod latency;
pub mod recorder;
pub mod recovery;
pub mod schema;
pub mod summary;
pub mod summary_json;
pub mod timeseries;
pub mod warmup;

pub use latency::LatencyStats;
pub use recorder::Recorder;
pub use schema::{ComponentFigures, ComponentSeries, Measure, Schema};
pub use summary::Summary;
pub use timeseries::{Gauges, SeriesRow, TimeSeries};
