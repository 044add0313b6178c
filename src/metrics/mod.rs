//! Metrics: counters, latency histograms, per-interval time series and the run summary.

pub mod busy;
pub mod latency;
pub mod recorder;
pub mod recovery;
pub mod schema;
pub mod summary;
pub mod timeseries;
pub mod warmup;

pub use latency::LatencyStats;
pub use recorder::Recorder;
pub use summary::Summary;
pub use timeseries::{Gauges, SeriesRow, TimeSeries};
