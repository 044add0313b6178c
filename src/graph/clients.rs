//! The clients' side of a request: whether to retry a failed attempt and after how long
//! (backoff and jitter), the retry budget they share, and client-side adaptive throttling.
//! Draws from its own stream, `"clients"`.

use crate::config::experiment::{BackoffSpec, BudgetSpec, ClientsSpec, JitterSpec, RetrySpec};
use crate::engine::{stream, SimTime, Stream};
use rand::Rng;
use std::collections::VecDeque;

/// The clients' policy and shared state.
pub struct Clients {
    rng: Stream,
    timeout: Option<SimTime>,
    retry: Option<RetrySpec>,
    tokens: f64,
    token_cap: f64,
    tokens_at: SimTime,
    throttle: Option<Throttle>,
    /// Whether attempts carry idempotency keys.
    pub idempotency_keys: bool,
}

/// Google SRE adaptive throttling: per-second counts of requests and accepts over a window.
struct Throttle {
    k: f64,
    window_s: u64,
    buckets: VecDeque<(u64, u64, u64)>, // (second, requests, accepts)
    requests: u64,
    accepts: u64,
}

impl Throttle {
    fn roll(&mut self, now: SimTime) {
        let sec = now.0 / 1_000_000_000;
        while let Some(&(s, r, a)) = self.buckets.front() {
            if s + self.window_s <= sec {
                self.requests -= r;
                self.accepts -= a;
                self.buckets.pop_front();
            } else {
                break;
            }
        }
        if self.buckets.back().is_none_or(|b| b.0 != sec) {
            self.buckets.push_back((sec, 0, 0));
        }
    }

    fn add(&mut self, now: SimTime, request: bool, accept: bool) {
        self.roll(now);
        let b = self.buckets.back_mut().expect("rolled");
        if request {
            b.1 += 1;
            self.requests += 1;
        }
        if accept {
            b.2 += 1;
            self.accepts += 1;
        }
    }
}

/// What the client does after an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RetryDecision {
    /// Try again after this wait.
    RetryAfter(SimTime),
    /// No attempts left.
    Exhausted,
    /// The retry budget is spent.
    BudgetDenied,
}

impl Clients {
    /// The clients of an experiment in run `seed`.
    pub fn new(spec: &ClientsSpec, seed: u64) -> Clients {
        Clients::named(spec, seed, "clients")
    }

    /// Clients drawing from the stream `name` (a graph model's population has its own).
    pub fn named(spec: &ClientsSpec, seed: u64, name: &str) -> Clients {
        let (tokens, token_cap) = match spec.retry.as_ref().and_then(|r| r.budget.as_ref()) {
            Some(
                BudgetSpec::TokenBucket { capacity, .. }
                | BudgetSpec::EarnedPerSuccess { capacity, .. },
            ) => (*capacity, *capacity),
            // A ratio budget starts with a little credit, like gRPC's retry throttling.
            Some(BudgetSpec::Ratio { .. }) => (10.0, 100.0),
            None => (0.0, 0.0),
        };
        Clients {
            rng: stream(seed, name),
            timeout: spec.timeout.map(|t| t.0),
            retry: spec.retry.clone(),
            tokens,
            token_cap,
            tokens_at: SimTime::ZERO,
            throttle: spec.throttle.as_ref().map(|t| Throttle {
                k: t.k,
                window_s: (t.window.ns() / 1_000_000_000).max(1),
                buckets: VecDeque::new(),
                requests: 0,
                accepts: 0,
            }),
            idempotency_keys: spec.idempotency_keys,
        }
    }

    /// How long a client waits for one attempt.
    #[inline]
    pub fn timeout(&self) -> Option<SimTime> {
        self.timeout
    }

    /// Client-side throttling: true when the client refuses this attempt locally.
    #[inline]
    pub fn throttled(&mut self, now: SimTime) -> bool {
        let Some(t) = &mut self.throttle else {
            return false;
        };
        t.roll(now);
        let p = ((t.requests as f64 - t.k * t.accepts as f64) / (t.requests as f64 + 1.0)).max(0.0);
        t.add(now, true, false);
        p > 0.0 && self.rng.random::<f64>() < p
    }

    /// The backend accepted an attempt (it answered, successfully): the throttle counts
    /// an accept, and a budget earned per success earns its tokens.
    #[inline]
    pub fn accepted(&mut self, now: SimTime) {
        if let Some(t) = &mut self.throttle {
            t.add(now, false, true);
        }
        if let Some(RetrySpec {
            budget: Some(BudgetSpec::EarnedPerSuccess { per_success, .. }),
            ..
        }) = &self.retry
        {
            self.tokens = (self.tokens + per_success).min(self.token_cap);
        }
    }

    /// A first attempt was sent: a ratio budget earns credit.
    #[inline]
    pub fn first_attempt(&mut self) {
        if let Some(RetrySpec {
            budget: Some(BudgetSpec::Ratio { ratio }),
            ..
        }) = &self.retry
        {
            self.tokens = (self.tokens + ratio).min(self.token_cap);
        }
    }

    /// Attempt number `attempts` (1-based) of a request failed at `now`: retry or give up?
    /// `prev_wait` is the previous backoff (for decorrelated jitter).
    pub fn after_failure(
        &mut self,
        attempts: u32,
        prev_wait: SimTime,
        now: SimTime,
    ) -> RetryDecision {
        let Some(r) = &self.retry else {
            return RetryDecision::Exhausted;
        };
        if attempts >= r.max_attempts {
            return RetryDecision::Exhausted;
        }
        match &r.budget {
            Some(BudgetSpec::TokenBucket { refill_per_s, .. }) => {
                let dt = now.since(self.tokens_at).as_secs_f64();
                self.tokens = (self.tokens + dt * refill_per_s).min(self.token_cap);
                self.tokens_at = now;
                if self.tokens < 1.0 {
                    return RetryDecision::BudgetDenied;
                }
                self.tokens -= 1.0;
            }
            Some(BudgetSpec::Ratio { .. } | BudgetSpec::EarnedPerSuccess { .. }) => {
                if self.tokens < 1.0 {
                    return RetryDecision::BudgetDenied;
                }
                self.tokens -= 1.0;
            }
            None => {}
        }
        let retry_no = attempts; // the first retry follows attempt 1
        let (base, cap, backoff) = match r.backoff {
            BackoffSpec::None => (0.0, 0.0, 0.0),
            BackoffSpec::Constant { delay } => {
                let d = delay.ns() as f64;
                (d, d, d)
            }
            BackoffSpec::Exponential { base, cap } => {
                let b = base.ns() as f64;
                let c = cap.ns() as f64;
                (
                    b,
                    c,
                    (b * 2f64.powi(retry_no.saturating_sub(1).min(60) as i32)).min(c),
                )
            }
        };
        let wait = match r.jitter {
            JitterSpec::None => backoff,
            JitterSpec::Full => self.rng.random::<f64>() * backoff,
            JitterSpec::Equal => backoff / 2.0 + self.rng.random::<f64>() * backoff / 2.0,
            JitterSpec::Decorrelated => {
                let hi = (3.0 * (prev_wait.0 as f64).max(base)).max(base);
                (base + self.rng.random::<f64>() * (hi - base)).min(cap)
            }
        };
        RetryDecision::RetryAfter(SimTime(wait.max(0.0).round() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Duration;

    fn clients(backoff: BackoffSpec, jitter: JitterSpec, budget: Option<BudgetSpec>) -> Clients {
        Clients::new(
            &ClientsSpec {
                timeout: Some(Duration::from_secs(1)),
                retry: Some(RetrySpec {
                    max_attempts: 4,
                    backoff,
                    jitter,
                    budget,
                }),
                throttle: None,
                idempotency_keys: false,
            },
            1,
        )
    }

    #[test]
    fn exponential_backoff_doubles_up_to_the_cap() {
        let exp = BackoffSpec::Exponential {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(250),
        };
        let mut c = clients(exp, JitterSpec::None, None);
        let now = SimTime::ZERO;
        assert_eq!(
            c.after_failure(1, SimTime::ZERO, now),
            RetryDecision::RetryAfter(SimTime::from_millis(100))
        );
        assert_eq!(
            c.after_failure(2, SimTime::ZERO, now),
            RetryDecision::RetryAfter(SimTime::from_millis(200))
        );
        assert_eq!(
            c.after_failure(3, SimTime::ZERO, now),
            RetryDecision::RetryAfter(SimTime::from_millis(250))
        );
        assert_eq!(
            c.after_failure(4, SimTime::ZERO, now),
            RetryDecision::Exhausted
        );
    }

    #[test]
    fn jitter_stays_in_its_range() {
        let exp = BackoffSpec::Exponential {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
        };
        for (jitter, lo, hi) in [(JitterSpec::Full, 0, 400), (JitterSpec::Equal, 200, 400)] {
            let mut c = clients(exp.clone(), jitter, None);
            let mut seen = Vec::new();
            for _ in 0..1000 {
                let RetryDecision::RetryAfter(w) = c.after_failure(3, SimTime::ZERO, SimTime::ZERO)
                else {
                    panic!()
                };
                assert!(
                    (SimTime::from_millis(lo)..=SimTime::from_millis(hi)).contains(&w),
                    "{jitter:?} {w}"
                );
                seen.push(w);
            }
            seen.sort();
            seen.dedup();
            assert!(seen.len() > 900, "{jitter:?} waits are spread");
        }
    }

    #[test]
    fn token_bucket_denies_when_empty_and_refills() {
        let mut c = clients(
            BackoffSpec::None,
            JitterSpec::None,
            Some(BudgetSpec::TokenBucket {
                capacity: 2.0,
                refill_per_s: 1.0,
            }),
        );
        let t0 = SimTime::ZERO;
        assert!(matches!(
            c.after_failure(1, t0, t0),
            RetryDecision::RetryAfter(_)
        ));
        assert!(matches!(
            c.after_failure(1, t0, t0),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(c.after_failure(1, t0, t0), RetryDecision::BudgetDenied);
        assert!(matches!(
            c.after_failure(1, t0, SimTime::from_secs(1)),
            RetryDecision::RetryAfter(_)
        ));
    }

    #[test]
    fn a_budget_earned_per_success_stops_retries_when_nothing_succeeds() {
        let mut c = clients(
            BackoffSpec::None,
            JitterSpec::None,
            Some(BudgetSpec::EarnedPerSuccess {
                capacity: 2.0,
                per_success: 0.5,
            }),
        );
        let t = SimTime::from_secs(1);
        // Full at the start: two retries, then none however long one waits.
        assert!(matches!(
            c.after_failure(1, SimTime::ZERO, t),
            RetryDecision::RetryAfter(_)
        ));
        assert!(matches!(
            c.after_failure(1, SimTime::ZERO, t),
            RetryDecision::RetryAfter(_)
        ));
        let later = SimTime::from_secs(1000);
        assert_eq!(
            c.after_failure(1, SimTime::ZERO, later),
            RetryDecision::BudgetDenied
        );
        // Two successes earn one retry.
        c.accepted(later);
        c.accepted(later);
        assert!(matches!(
            c.after_failure(1, SimTime::ZERO, later),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(
            c.after_failure(1, SimTime::ZERO, later),
            RetryDecision::BudgetDenied
        );
    }

    #[test]
    fn ratio_budget_earns_credit_from_first_attempts() {
        let mut c = clients(
            BackoffSpec::None,
            JitterSpec::None,
            Some(BudgetSpec::Ratio { ratio: 0.1 }),
        );
        let t = SimTime::ZERO;
        let mut granted = 0;
        for _ in 0..1000 {
            c.first_attempt();
            if matches!(c.after_failure(1, t, t), RetryDecision::RetryAfter(_)) {
                granted += 1;
            }
        }
        // 10 tokens of initial credit plus 0.1 per first attempt.
        assert!((105..=111).contains(&granted), "{granted}");
    }
}
