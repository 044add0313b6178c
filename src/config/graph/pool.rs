//! What every pool of workers shares, whether it serves a service's instance or a
//! database: its queue and how it slows down under load.

use serde::{Deserialize, Serialize};

use crate::config::model::{DisciplineSpec, QueueFullSpec};

/// The queue in front of a pool's workers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Queue")]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// Requests that may wait for a worker; `None` is unbounded.
    #[serde(default)]
    pub limit: Option<u32>,
    /// What a full queue does with one more request.
    #[serde(default)]
    pub full: QueueFullSpec,
    /// Which waiting request a free worker takes.
    #[serde(default)]
    pub discipline: DisciplineSpec,
}

/// Service time grows with the pool's utilisation u (busy workers ÷ workers, or
/// connections in use ÷ the connection cap where the pool has one), sampled when service
/// starts; the factor is at most `max_factor`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Slowdown {
    /// 1 + k·u.
    Linear {
        k: f64,
        #[serde(default = "default_max_factor")]
        max_factor: f64,
    },
    /// e^(k·u).
    Exponential {
        k: f64,
        #[serde(default = "default_max_factor")]
        max_factor: f64,
    },
    /// 1 + k·u^n.
    Polynomial {
        k: f64,
        n: f64,
        #[serde(default = "default_max_factor")]
        max_factor: f64,
    },
}

fn default_max_factor() -> f64 {
    100.0
}

impl Slowdown {
    /// The service-time factor at utilisation `u` (clamped to 0..1).
    pub fn factor(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let (f, max) = match *self {
            Slowdown::Linear { k, max_factor } => (1.0 + k * u, max_factor),
            Slowdown::Exponential { k, max_factor } => ((k * u).exp(), max_factor),
            Slowdown::Polynomial { k, n, max_factor } => (1.0 + k * u.powf(n), max_factor),
        };
        f.clamp(1.0, max.max(1.0))
    }
}
