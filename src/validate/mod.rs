//! `scalesim validate`: builds a textbook queue through the same configuration and engine
//! as `run`, and sets the simulated mean wait and response beside the analytic answer,
//! with a 95% confidence interval from batch means.

pub mod batch_means;
pub mod theory;

use crate::config::{self, ConfigError};
use serde::Serialize;
use theory::Theory;

/// The textbook models `validate` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum QueueModel {
    /// One exponential server.
    Mm1,
    /// `servers` exponential servers sharing one FIFO queue (Erlang C).
    Mmc,
    /// One server with constant service time (Pollaczek–Khinchine).
    Md1,
}

impl QueueModel {
    /// The model's name as printed ("mm1", "mmc", "md1").
    pub fn name(self) -> &'static str {
        match self {
            QueueModel::Mm1 => "mm1",
            QueueModel::Mmc => "mmc",
            QueueModel::Md1 => "md1",
        }
    }
}

/// The parameters of one validation.
#[derive(Clone, Debug)]
pub struct ValidationParams {
    /// Which queue.
    pub model: QueueModel,
    /// Arrivals per second.
    pub rate_per_s: f64,
    /// Servers (forced to 1 for mm1 and md1).
    pub servers: u32,
    /// Mean service time, ms.
    pub service_mean_ms: f64,
    /// Customers to simulate; `None` chooses from the utilisation.
    pub customers: Option<u64>,
    /// The run seed.
    pub seed: u64,
}

/// Simulated figures with their interval.
#[derive(Clone, Debug, Serialize)]
pub struct SimFigures {
    /// Mean time waiting for a server, ms.
    pub mean_wait_ms: f64,
    /// Mean time in the system, ms.
    pub mean_response_ms: f64,
    /// 95% batch-means interval of the mean response, ms.
    pub ci95_response_ms: [f64; 2],
    /// 95% batch-means interval of the mean wait, ms.
    pub ci95_wait_ms: [f64; 2],
}

/// The result of `validate`, printed as a table or as one JSON object.
#[derive(Clone, Debug, Serialize)]
pub struct ValidationReport {
    /// "mm1", "mmc" or "md1".
    pub model: String,
    /// Arrivals per second.
    pub rate_per_s: f64,
    /// Servers.
    pub servers: u32,
    /// Mean service time, ms.
    pub service_mean_ms: f64,
    /// Offered utilisation per server, ρ = λ·S / c.
    pub utilisation: f64,
    /// Customers simulated.
    pub customers: u64,
    /// The simulated figures.
    pub sim: SimFigures,
    /// The analytic figures.
    pub theory: Theory,
    /// |simulated − analytic| / analytic, of the mean response.
    pub relative_error: f64,
    /// Whether the analytic mean response lies inside the 95% interval.
    pub theory_inside_ci: bool,
    /// Half-width of the response interval as a share of the simulated mean.
    pub ci_relative_half_width: f64,
    /// Customers simulated per wall-clock second (engine speed).
    pub customers_per_second: f64,
    /// The run seed.
    pub seed: u64,
}

/// The most servers `validate mmc` simulates.
pub const MAX_SERVERS: u32 = 100_000;

/// The most customers one validation simulates (the default is at most 100 million).
pub const MAX_CUSTOMERS: u64 = 1_000_000_000;

/// The longest run the clock represents: a duration may be at most 10^18 ns.
const MAX_HORIZON_NS: u64 = 1_000_000_000_000_000_000;

/// Customers needed for a 95% half-width under about 1% of the mean: the variance of a
/// queue's mean response grows like 1/(1 − ρ)², so the default grows with it.
pub fn default_customers(utilisation: f64) -> u64 {
    let slack = (1.0 - utilisation).max(0.02);
    let n = 300_000.0 / (slack * slack);
    (n as u64).clamp(1_000_000, 100_000_000)
}

/// Runs one validation.
pub fn validate(p: &ValidationParams) -> Result<ValidationReport, ConfigError> {
    let servers = match p.model {
        QueueModel::Mmc => p.servers,
        _ => 1,
    };
    let bad = |flag: &str, msg: String| {
        Err(ConfigError::new(
            config::Origin::Flag(flag.into()),
            None,
            msg,
        ))
    };
    if !p.rate_per_s.is_finite() || p.rate_per_s <= 0.0 {
        return bad(
            "--rate",
            format!(
                "must be a finite number greater than zero, found {}",
                p.rate_per_s
            ),
        );
    }
    if !p.service_mean_ms.is_finite() || p.service_mean_ms <= 0.0 {
        return bad(
            "--service-mean-ms",
            format!("must be greater than zero, found {}", p.service_mean_ms),
        );
    }
    if servers == 0 {
        return bad("--servers", "must be at least 1".into());
    }
    if servers > MAX_SERVERS {
        return bad(
            "--servers",
            format!("at most {MAX_SERVERS} servers (each is a worker the engine tracks), found {servers}"),
        );
    }
    // The service time is written in whole nanoseconds, the engine's clock tick.
    let service_ns = (p.service_mean_ms * 1e6).round();
    if service_ns < 1.0 {
        return bad(
            "--service-mean-ms",
            format!(
                "must be at least 0.000001 ms (1 ns, the clock's resolution), found {}",
                p.service_mean_ms
            ),
        );
    }
    let utilisation = p.rate_per_s * p.service_mean_ms / 1000.0 / servers as f64;
    if utilisation >= 1.0 {
        return bad(
            "--rate",
            format!("utilisation λ·S/c = {utilisation:.3} ≥ 1: the queue grows without bound and has no steady state"),
        );
    }
    let customers = p
        .customers
        .unwrap_or_else(|| default_customers(utilisation));
    if customers < 1000 {
        return bad(
            "--customers",
            format!("must be at least 1000 for a meaningful interval, found {customers}"),
        );
    }
    if customers > MAX_CUSTOMERS {
        return bad(
            "--customers",
            format!(
                "at most {MAX_CUSTOMERS} (minutes of wall time already; for a tighter interval \
                 compare several --seed runs), found {customers}"
            ),
        );
    }
    // The run lasts until the customers have drained, with room for the randomness of the
    // arrivals (ten times the expected span, plus an hour), but never beyond the longest
    // duration the clock represents: the expected span itself must fit well inside that.
    let expected_s = customers as f64 / p.rate_per_s;
    let max_s = MAX_HORIZON_NS as f64 / 1e9;
    if expected_s * 2.0 > max_s {
        let flag = if p.customers.is_some() {
            "--customers"
        } else {
            "--rate"
        };
        return bad(
            flag,
            format!(
                "{customers} customers at {} per second arrive over about {expected_s:.3e} simulated \
                 seconds, longer than the simulator can represent ({:.1e} s, about 15 years, \
                 with room to drain): raise --rate or give fewer --customers",
                p.rate_per_s,
                max_s / 2.0
            ),
        );
    }
    let service = match p.model {
        QueueModel::Md1 => format!("Const(value: \"{}ns\")", service_ns as u64),
        _ => format!("Exp(mean: \"{}ns\")", service_ns as u64),
    };
    let model_text = format!(
        "System(description: \"{} validation queue\", nodes: Nodes(count: 1, workers: {servers}, service: {service}))",
        p.model.name()
    );
    // The run lasts until the customers have drained; the warm-up drops about the first 5%.
    // The queue is stable (ρ < 1), so its mean length is ρ/(1 − ρ), about 100 at ρ = 0.99: a
    // limit of 10 M in flight is never reached, and keeps the memory estimate's ceiling for
    // requests in flight (10 M × ~150 B) well inside the default memory limit.
    let horizon_ns = ((expected_s * 10.0 + 3600.0) * 1e9).min(MAX_HORIZON_NS as f64) as u64;
    let warmup_ns = (expected_s * 0.05 * 1e9) as u64;
    let exp_text = format!(
        "Experiment(name: \"validate-{name}\", duration: \"{horizon_ns}ns\", warmup: \"{warmup_ns}ns\", \
         metrics_interval: \"{horizon_ns}ns\", seed: {seed}, \
         workload: Open(rate_per_s: {rate:?}, max_requests: {customers}), \
         limits: (max_in_flight: 10000000))",
        name = p.model.name(),
        seed = p.seed,
        rate = p.rate_per_s,
    );
    // The flags were checked above; anything the configuration still refuses is reported
    // against the command line, not against a text the user never wrote.
    let cfg = config::single_run_from_texts(&exp_text, &model_text).map_err(|e| {
        ConfigError::new(
            config::Origin::Flag(format!(
                "validate {} --rate {} --servers {servers} --service-mean-ms {} --customers {customers}",
                p.model.name(),
                p.rate_per_s,
                p.service_mean_ms
            )),
            e.field,
            e.message,
        )
    })?;
    // The single-tier queue runs as its graph, as `run` runs it, with batch means on.
    let violation = |e: crate::graph::output::InvariantViolation| {
        ConfigError::new(config::Origin::Flag("validate".into()), None, e.to_string())
    };
    let graph = crate::single_tier_graph(&cfg).map_err(violation)?;
    let options = crate::graph::RunOptions {
        batch_means: true,
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let out = crate::graph::run_single_tier_with(&cfg, &graph, options).map_err(violation)?;
    let wall = started.elapsed().as_secs_f64();
    let summary = out.summary;
    let batches = out.batches.unwrap_or_default();

    let theory = match p.model {
        QueueModel::Mm1 | QueueModel::Mmc => theory::mmc(p.rate_per_s, servers, p.service_mean_ms),
        QueueModel::Md1 => theory::mg1(
            p.rate_per_s,
            p.service_mean_ms,
            p.service_mean_ms * p.service_mean_ms,
        ),
    };
    // The point estimates are the exact means over every customer after the warm-up; the
    // batches (whole batches only) give the interval's half-width.
    let r_half = batches.interval_a().map_or(f64::INFINITY, |(_, h)| h);
    let w_half = batches.interval_b().map_or(f64::INFINITY, |(_, h)| h);
    let mean_response = summary.latency_ms.mean;
    let mean_wait = summary.wait_ms.mean;
    Ok(ValidationReport {
        model: p.model.name().into(),
        rate_per_s: p.rate_per_s,
        servers,
        service_mean_ms: p.service_mean_ms,
        utilisation,
        customers,
        sim: SimFigures {
            mean_wait_ms: mean_wait,
            mean_response_ms: mean_response,
            ci95_response_ms: [mean_response - r_half, mean_response + r_half],
            ci95_wait_ms: [mean_wait - w_half, mean_wait + w_half],
        },
        relative_error: (mean_response - theory.mean_response_ms).abs() / theory.mean_response_ms,
        theory_inside_ci: (mean_response - theory.mean_response_ms).abs() <= r_half,
        ci_relative_half_width: r_half / mean_response,
        theory,
        customers_per_second: customers as f64 / wall.max(1e-9),
        seed: p.seed,
    })
}

impl ValidationReport {
    /// A readable table of the comparison.
    pub fn to_table(&self) -> String {
        format!(
            "validate {model}: λ = {rate}/s, c = {c}, S = {s} ms, ρ = {rho:.3}, {n} customers, seed {seed}\n\
             {h:<22}{a:>14}{b:>14}\n\
             {w:<22}{ws:>14.4}{wt:>14.4}\n\
             {r:<22}{rs:>14.4}{rt:>14.4}\n\
             95% CI of response     [{lo:.4}, {hi:.4}] ms (half-width {hw:.2}% of the mean; theory {inside})\n\
             relative error         {err:.3}%\n\
             speed                  {cps:.0} customers/s\n",
            model = self.model,
            rate = self.rate_per_s,
            c = self.servers,
            s = self.service_mean_ms,
            rho = self.utilisation,
            n = self.customers,
            seed = self.seed,
            h = "",
            a = "simulated",
            b = "theory",
            w = "mean wait (ms)",
            ws = self.sim.mean_wait_ms,
            wt = self.theory.mean_wait_ms,
            r = "mean response (ms)",
            rs = self.sim.mean_response_ms,
            rt = self.theory.mean_response_ms,
            lo = self.sim.ci95_response_ms[0],
            hi = self.sim.ci95_response_ms[1],
            hw = self.ci_relative_half_width * 100.0,
            inside = if self.theory_inside_ci { "inside" } else { "OUTSIDE" },
            err = self.relative_error * 100.0,
            cps = self.customers_per_second,
        )
    }
}
