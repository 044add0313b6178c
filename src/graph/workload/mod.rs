//! What a population's workload draws from: an open-loop source of arrivals and the shape
//! its rate or its active users follow over time.

pub mod shape;
pub mod source;
