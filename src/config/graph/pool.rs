//! What every pool of workers shares, whether it serves a service's instance or a
//! database: its queue and how it slows down under load.

use serde::{Deserialize, Serialize};

use super::bounds::{raise, MAX_WORKERS};
use crate::config::model::{DisciplineSpec, QueueFullSpec};
use crate::config::rules::{Checked, Rules};

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
    /// A free worker drops a waiting request whose deadline has passed instead of serving
    /// it (its caller has stopped waiting): a service's instance knows its caller's
    /// deadline; a database knows one only when the model propagates deadlines.
    #[serde(default)]
    pub deadline_check: bool,
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
    /// 1 + `per_busy_worker` × busy workers + `per_queued` × waiting requests, counted in
    /// the pool (the single-tier form's `SlowdownSpec`: GC pressure from work in memory).
    PerWork {
        per_busy_worker: f64,
        per_queued: f64,
        #[serde(default = "default_max_factor")]
        max_factor: f64,
    },
}

fn default_max_factor() -> f64 {
    100.0
}

impl Slowdown {
    /// The service-time factor at utilisation `u` (clamped to 0..1), with `busy` workers
    /// and `queued` requests in the pool.
    pub fn factor(&self, u: f64, busy: u32, queued: usize) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let (f, max) = match *self {
            Slowdown::Linear { k, max_factor } => (1.0 + k * u, max_factor),
            Slowdown::Exponential { k, max_factor } => ((k * u).exp(), max_factor),
            Slowdown::Polynomial { k, n, max_factor } => (1.0 + k * u.powf(n), max_factor),
            Slowdown::PerWork {
                per_busy_worker,
                per_queued,
                max_factor,
            } => (
                1.0 + per_busy_worker * busy as f64 + per_queued * queued as f64,
                max_factor,
            ),
        };
        f.clamp(1.0, max.max(1.0))
    }
}

impl Slowdown {
    /// Checks the slowdown written at `path`: k finite and not negative, n above zero,
    /// and a ceiling of at least 1 (the factor never speeds service up).
    pub fn validate(&self, r: &Rules<'_>, path: &str) -> Checked {
        let (k, max_factor) = match *self {
            Slowdown::Linear { k, max_factor } | Slowdown::Exponential { k, max_factor } => {
                (k, max_factor)
            }
            Slowdown::Polynomial { k, n, max_factor } => {
                r.positive(&format!("{path}.n"), n, "the exponent n")?;
                (k, max_factor)
            }
            Slowdown::PerWork {
                per_busy_worker,
                per_queued,
                max_factor,
            } => {
                r.not_negative(&format!("{path}.per_busy_worker"), per_busy_worker)?;
                r.not_negative(&format!("{path}.per_queued"), per_queued)?;
                (0.0, max_factor)
            }
        };
        r.not_negative(&format!("{path}.k"), k)?;
        if !max_factor.is_finite() || max_factor < 1.0 {
            return r.fail(
                &format!("{path}.max_factor"),
                format!("must be a finite number of at least 1, found {max_factor}"),
            );
        }
        Ok(())
    }
}

/// Checks the workers of a pool (a service instance or a database) written at `path`.
pub fn workers(r: &Rules<'_>, path: &str, workers: u32) -> Checked {
    r.at_least_one(path, workers)?;
    r.bounded(
        path,
        workers as u64,
        MAX_WORKERS as u64,
        "the worker count",
        &format!(
            "each worker is a slot the pool tracks; model a bigger pool as more instances, or {}",
            raise("MAX_WORKERS")
        ),
    )
}
