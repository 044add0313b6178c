//! The rules both forms of a model share (the single-tier shorthand and the graph), each
//! written once: a run's duration, warm-up, metrics interval and limits; a distribution; a
//! retry policy with its budget; a client-side throttle; an open workload's rate and
//! shape; a balancer; a cold start; a key space. Every failure names the dotted path of
//! the field through [`Provenance::error`], so the message gives file, line and field.

use super::distribution::DistSpec;
use super::duration::Duration;
use super::error::ConfigError;
use super::experiment::{
    BackoffSpec, BudgetSpec, ExperimentSpec, JitterSpec, RetrySpec, ShapeSpec, ThrottleSpec,
};
use super::model::{BalancerSpec, ColdStartSpec, KeysSpec, PolicySpec, Popularity};
use super::resolve::Provenance;

/// The outcome of one rule.
pub type Checked = Result<(), ConfigError>;

/// The shortest period of a recurring event (health checks, autoscaler evaluations).
pub const MIN_PERIODIC_NS: u64 = 1_000_000;

/// The highest arrival rate an open workload may reach: one per nanosecond, the clock's tick.
pub const MAX_RATE_PER_S: f64 = 1e9;

/// The most keys a cache's key space may have (each is a slot in every cache instance).
pub const MAX_KEYS: u32 = 10_000_000;

/// The largest multiplier a shape reaches (1 for a constant shape).
pub fn shape_max(shape: &ShapeSpec) -> f64 {
    match shape {
        ShapeSpec::Constant => 1.0,
        ShapeSpec::Step { factor, .. } | ShapeSpec::Spike { factor, .. } => factor.max(1.0),
        ShapeSpec::Ramp { from, to, .. } => from.max(*to),
        ShapeSpec::Piecewise { points } => points.iter().map(|p| p.1).fold(0.0, f64::max),
    }
}

/// Whether `x` is a finite number above zero.
pub fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// The rules, bound to where the values came from (to point errors back at them).
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    prov: &'a Provenance<'a>,
}

impl<'a> Rules<'a> {
    /// The rules for the values of `prov`.
    pub fn new(prov: &'a Provenance<'a>) -> Self {
        Rules { prov }
    }

    /// An error about the value at `path`.
    pub fn error(&self, path: &str, msg: impl Into<String>) -> ConfigError {
        self.prov.error(path, msg)
    }

    /// Fails with an error about the value at `path`.
    pub fn fail(&self, path: &str, msg: impl Into<String>) -> Checked {
        Err(self.error(path, msg))
    }

    /// A percentage, 0 to 100.
    pub fn percent(&self, path: &str, percent: f64) -> Checked {
        if !percent.is_finite() || !(0.0..=100.0).contains(&percent) {
            return self.fail(path, format!("must be between 0 and 100, found {percent}"));
        }
        Ok(())
    }

    /// A distribution's own rules (the error names its field below `path`).
    pub fn dist(&self, path: &str, d: &DistSpec) -> Checked {
        match d.check() {
            Ok(()) => Ok(()),
            Err((field, msg)) => self.fail(&format!("{path}.{field}"), msg),
        }
    }

    /// `x` is finite and above zero.
    pub fn positive(&self, path: &str, x: f64, what: &str) -> Checked {
        if positive(x) {
            Ok(())
        } else {
            self.fail(
                path,
                format!("{what} must be a finite number greater than zero, found {x}"),
            )
        }
    }

    /// `x` is finite and not negative.
    pub fn not_negative(&self, path: &str, x: f64) -> Checked {
        if x.is_finite() && x >= 0.0 {
            Ok(())
        } else {
            self.fail(path, format!("must be finite and not negative, found {x}"))
        }
    }

    /// A duration above zero.
    pub fn nonzero(&self, path: &str, d: Duration) -> Checked {
        if d.ns() == 0 {
            self.fail(path, "must be greater than zero")
        } else {
            Ok(())
        }
    }

    /// A count of at least one.
    pub fn at_least_one(&self, path: &str, n: u32) -> Checked {
        if n == 0 {
            self.fail(path, "must be at least 1")
        } else {
            Ok(())
        }
    }

    /// A size bounded by `limit`: past it, the message says the limit, why it is there and
    /// how to go beyond it (`raise`).
    pub fn bounded(&self, path: &str, n: u64, limit: u64, what: &str, raise: &str) -> Checked {
        if n <= limit {
            return Ok(());
        }
        self.fail(
            path,
            format!(
                "{what} is {}, above the limit of {}: {raise}",
                super::budget::count_text(n as u128),
                super::budget::count_text(limit as u128)
            ),
        )
    }

    /// `name`, written at `path`, is one of `names` (the `what` of the model): otherwise an
    /// error that lists them and suggests the closest.
    pub fn known<'n>(
        &self,
        path: &str,
        name: &str,
        what: &str,
        names: impl IntoIterator<Item = &'n String>,
    ) -> Checked {
        let names: Vec<&str> = names.into_iter().map(String::as_str).collect();
        if names.contains(&name) {
            return Ok(());
        }
        let hint = super::error::did_you_mean(name, &names)
            .map(|s| format!(" Did you mean `{s}`?"))
            .unwrap_or_default();
        let listed = if names.is_empty() {
            format!("the model has no {what}")
        } else {
            format!("{what}: {}", names.join(", "))
        };
        self.fail(path, format!("`{name}` is not one of the {listed}.{hint}"))
    }

    /// What every run needs, whichever form its model takes: a duration, a warm-up
    /// shorter than it, a metrics interval and limits of at least one.
    pub fn head(&self, e: &ExperimentSpec) -> Checked {
        if e.duration.ns() == 0 {
            return self.fail("duration", "must be greater than zero, e.g. \"10m\"");
        }
        if e.warmup >= e.duration {
            return self.fail(
                "warmup",
                format!(
                    "the warm-up ({}) must be shorter than the duration ({})",
                    e.warmup, e.duration
                ),
            );
        }
        self.nonzero("metrics_interval", e.metrics_interval)?;
        if e.limits.max_in_flight == 0 {
            return self.fail("limits.max_in_flight", "must be at least 1");
        }
        if e.limits.max_pending_events == 0 {
            return self.fail("limits.max_pending_events", "must be at least 1");
        }
        if e.limits.max_events == Some(0) {
            return self.fail(
                "limits.max_events",
                "must be at least 1 (or None for no limit)",
            );
        }
        Ok(())
    }

    /// A retry policy at `path`: attempts, backoff, jitter and budget.
    pub fn retry(&self, path: &str, r: &RetrySpec) -> Checked {
        if r.max_attempts == 0 {
            return self.fail(
                &format!("{path}.max_attempts"),
                "must be at least 1 (1 means no retries)",
            );
        }
        if let BackoffSpec::Exponential { base, cap } = r.backoff {
            self.nonzero(&format!("{path}.backoff.base"), base)?;
            if cap < base {
                return self.fail(
                    &format!("{path}.backoff.cap"),
                    format!("the cap ({cap}) must not be less than the base ({base})"),
                );
            }
        }
        if r.jitter == JitterSpec::Decorrelated
            && !matches!(r.backoff, BackoffSpec::Exponential { .. })
        {
            return self.fail(
                &format!("{path}.jitter"),
                "Decorrelated jitter needs an Exponential backoff (its base and cap)",
            );
        }
        match &r.budget {
            Some(BudgetSpec::TokenBucket {
                capacity,
                refill_per_s,
            }) => {
                self.positive(
                    &format!("{path}.budget.capacity"),
                    *capacity,
                    "the capacity",
                )?;
                if !refill_per_s.is_finite() || *refill_per_s < 0.0 {
                    return self.fail(
                        &format!("{path}.budget.refill_per_s"),
                        "must be finite and not negative",
                    );
                }
                Ok(())
            }
            Some(BudgetSpec::Ratio { ratio }) => {
                self.positive(&format!("{path}.budget.ratio"), *ratio, "the ratio")
            }
            Some(BudgetSpec::EarnedPerSuccess {
                capacity,
                per_success,
            }) => {
                self.positive(
                    &format!("{path}.budget.capacity"),
                    *capacity,
                    "the capacity",
                )?;
                self.positive(
                    &format!("{path}.budget.per_success"),
                    *per_success,
                    "per_success",
                )
            }
            None => Ok(()),
        }
    }

    /// Client-side adaptive throttling at `path`.
    pub fn throttle(&self, path: &str, t: &ThrottleSpec) -> Checked {
        self.positive(&format!("{path}.k"), t.k, "k")?;
        self.nonzero(&format!("{path}.window"), t.window)
    }

    /// An open workload's rate at `path` with its shape: positive, and at its peak at most
    /// one arrival per nanosecond.
    pub fn open_rate(&self, path: &str, rate_per_s: f64, shape: &ShapeSpec) -> Checked {
        self.positive(path, rate_per_s, "the rate")?;
        // The clock ticks in nanoseconds: past one arrival per nanosecond arrivals cannot
        // be told apart, and every one of them is an event.
        let peak = rate_per_s * shape_max(shape);
        if peak > MAX_RATE_PER_S {
            return self.fail(
                path,
                format!("the peak rate ({rate_per_s}/s × the shape's largest multiplier) is {peak:e} requests/s, above the limit of 1e9/s: the clock ticks in nanoseconds, so faster arrivals cannot be told apart"),
            );
        }
        Ok(())
    }

    /// A load shape at `path`; `at_most_one` for the share of a closed population active.
    pub fn shape(&self, path: &str, shape: &ShapeSpec, at_most_one: bool) -> Checked {
        let mult = |p: &str, x: f64| -> Checked {
            if !x.is_finite() || x < 0.0 {
                return self.fail(
                    p,
                    format!("a load multiplier must be finite and not negative, found {x}"),
                );
            }
            if at_most_one && x > 1.0 {
                return self.fail(
                    p,
                    format!("the share of users active must be at most 1, found {x}"),
                );
            }
            Ok(())
        };
        match shape {
            ShapeSpec::Constant => Ok(()),
            ShapeSpec::Step { factor, .. } => mult(&format!("{path}.factor"), *factor),
            ShapeSpec::Spike {
                factor, lasting, ..
            } => {
                self.nonzero(&format!("{path}.lasting"), *lasting)?;
                mult(&format!("{path}.factor"), *factor)
            }
            ShapeSpec::Ramp { from, to, over } => {
                self.nonzero(&format!("{path}.over"), *over)?;
                mult(&format!("{path}.from"), *from)?;
                mult(&format!("{path}.to"), *to)
            }
            ShapeSpec::Piecewise { points } => {
                if points.is_empty() {
                    return self.fail(
                        &format!("{path}.points"),
                        "needs at least one (time, multiplier) point",
                    );
                }
                for (i, (t, x)) in points.iter().enumerate() {
                    mult(&format!("{path}.points.{i}"), *x)?;
                    if i > 0 && *t < points[i - 1].0 {
                        return self.fail(
                            &format!("{path}.points.{i}"),
                            format!(
                                "points must be in time order: {t} comes after {}",
                                points[i - 1].0
                            ),
                        );
                    }
                }
                Ok(())
            }
        }
    }

    /// A balancer at `path`: its policy's ring and its health checks.
    pub fn balancer(&self, path: &str, b: &BalancerSpec) -> Checked {
        if let PolicySpec::ConsistentHash { vnodes } = b.policy {
            if vnodes == 0 || vnodes > 10_000 {
                return self.fail(
                    &format!("{path}.policy.vnodes"),
                    format!("must be between 1 and 10000, found {vnodes}"),
                );
            }
        }
        if let Some(h) = &b.health_check {
            let every = format!("{path}.health_check.every");
            self.nonzero(&every, h.every)?;
            // Each probe of each node is an event: at nanosecond spacing a run would do
            // nothing but probe. Real balancers probe every few seconds.
            if h.every.ns() < MIN_PERIODIC_NS {
                return self.fail(
                    &every,
                    format!("must be at least 1ms, found {}: every probe of every node is an event, so a shorter period makes the run do nothing but probe (balancers probe every few seconds)", h.every),
                );
            }
            self.nonzero(&format!("{path}.health_check.timeout"), h.timeout)?;
            if h.unhealthy_after == 0 || h.healthy_after == 0 {
                return self.fail(
                    &format!("{path}.health_check"),
                    "unhealthy_after and healthy_after must be at least 1",
                );
            }
        }
        Ok(())
    }

    /// A cold start at `path`: a factor of at least 1 over a time above zero.
    pub fn cold_start(&self, path: &str, c: &ColdStartSpec) -> Checked {
        if !c.factor.is_finite() || c.factor < 1.0 {
            return self.fail(
                &format!("{path}.factor"),
                format!("must be at least 1, found {}", c.factor),
            );
        }
        self.nonzero(&format!("{path}.lasting"), c.lasting)
    }

    /// A cache's key space at `path`.
    pub fn keys(&self, path: &str, k: &KeysSpec) -> Checked {
        if k.count == 0 || k.count > MAX_KEYS {
            return self.fail(
                &format!("{path}.count"),
                format!("must be between 1 and {MAX_KEYS}, found {}", k.count),
            );
        }
        if let Popularity::Zipf { s } = k.popularity {
            if !s.is_finite() || !(0.0..=10.0).contains(&s) {
                return self.fail(
                    &format!("{path}.popularity.s"),
                    format!("must be between 0 and 10, found {s}"),
                );
            }
        }
        Ok(())
    }

    /// A cache's TTL jitter at `path`: a share in [0, 1).
    pub fn ttl_jitter(&self, path: &str, jitter: f64) -> Checked {
        if !jitter.is_finite() || !(0.0..1.0).contains(&jitter) {
            return self.fail(
                path,
                format!("must be at least 0 and below 1, found {jitter}"),
            );
        }
        Ok(())
    }

    /// The price of a node (or an instance) for an hour, at `path`.
    pub fn price(&self, path: &str, price: f64) -> Checked {
        // Bounded so that the cost (price × node-seconds over years of simulated time on
        // 1,000 nodes) stays a finite number in the summary and the CSVs.
        if !price.is_finite() || !(0.0..=MAX_PRICE_PER_NODE_HOUR).contains(&price) {
            return self.fail(
                path,
                format!(
                    "must be between 0 and {MAX_PRICE_PER_NODE_HOUR} (per node-hour), found {price:?}"
                ),
            );
        }
        Ok(())
    }

    /// The memory and periodic-event budget of a configuration whose values are valid.
    pub fn budget(&self, e: &ExperimentSpec, m: &super::ModelSpec) -> Checked {
        super::budget::check(e, m).or_else(|(field, msg)| self.fail(&field, msg))
    }
}

/// The highest price per node-hour: far above any real machine, and low enough that a cost
/// over the longest run on the most nodes is a finite number.
pub const MAX_PRICE_PER_NODE_HOUR: f64 = 1e9;
