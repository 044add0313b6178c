//! Capacity planning: the smallest node count that meets a latency objective at a peak
//! load, found by simulation (with replications), beside the rule of thumb
//! `N = peak × (1 + margin) / (capacity per node × efficiency)`, with the capacity per node
//! and the scaling efficiency measured too, so the user sees where the formula is
//! optimistic (a shared bottleneck binding before the nodes do) or pessimistic (pooling).
//!
//! - Capacity per node: one node offered the peak; attempts served per simulated second
//!   divided by the share of worker time busy (the rate one node serves at 100% busy).
//! - Scaling efficiency at n = 1, 2, 4, 8…: n nodes offered n × capacity / (1 + margin),
//!   the load the formula plans for; efficiency = goodput / offered load.
//! - The search: node counts 1, 2, 4… at the peak until the objective is met, then a
//!   bisection between the last count that missed and the first that met. A count meets
//!   the objective when the figure's mean over the replications does, at least
//!   `min_success` of the requests succeed and no run was stopped early.

use super::seeds::run_seed;
use super::stats::Estimate;
use super::SweepError;
use crate::config::overrides::OverrideSource;
use crate::config::{load_experiment, Override, RunConfig};
use crate::{run_config, Summary};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The most replications per node count `plan` runs (each is held at once and multiplies
/// its run time).
pub const MAX_REPLICATIONS: u32 = 1000;

/// A service level objective: a summary figure, a bound and its direction.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// The figure's column name, e.g. `latency_ms_p99`.
    pub figure: String,
    /// The bound, in the figure's unit (ms for latencies).
    pub bound: f64,
    /// `true`: the figure must stay below the bound; `false`: above it.
    pub below: bool,
    /// The text the user wrote.
    pub text: String,
}

impl Objective {
    /// Parses `p99<200ms`, `p50<50ms`, `mean<0.1s`, `p999<1s`, or a figure name with a
    /// plain bound such as `wait_ms_mean<20` or `goodput_rps>900`.
    pub fn parse(text: &str) -> Result<Objective, String> {
        let bad = |why: &str| {
            format!("--slo {text}: {why}; write e.g. p99<200ms, p50<50ms, mean<100ms or wait_ms_mean<20")
        };
        let (name, rest, below) = if let Some((a, b)) = text.split_once('<') {
            (a, b.trim_start_matches('='), true)
        } else if let Some((a, b)) = text.split_once('>') {
            (a, b.trim_start_matches('='), false)
        } else {
            return Err(bad("expected FIGURE<BOUND"));
        };
        let name = name.trim();
        let rest = rest.trim();
        let latency = ["mean", "p50", "p95", "p99", "p999", "max"].contains(&name);
        let figure = if latency {
            format!("latency_ms_{name}")
        } else if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            name.to_string()
        } else {
            return Err(bad(&format!("`{name}` is not a figure")));
        };
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-' || c == '+'))
            .unwrap_or(rest.len());
        let (num, unit) = rest.split_at(split);
        let value: f64 = num
            .parse()
            .map_err(|_| bad(&format!("`{rest}` is not a number with an optional unit")))?;
        let scale = match unit.trim() {
            "" => 1.0,
            "ms" if figure.contains("_ms") => 1.0,
            "s" if figure.contains("_ms") => 1000.0,
            "us" if figure.contains("_ms") => 0.001,
            u => return Err(bad(&format!("the unit `{u}` does not fit `{figure}`"))),
        };
        if !value.is_finite() {
            return Err(bad("the bound must be a finite number"));
        }
        Ok(Objective {
            figure,
            bound: value * scale,
            below,
            text: text.to_string(),
        })
    }

    /// Whether `value` meets the objective.
    pub fn met_by(&self, value: f64) -> bool {
        if self.below {
            value < self.bound
        } else {
            value > self.bound
        }
    }
}

/// What to plan.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// The experiment file.
    pub experiment: PathBuf,
    /// The variant to size (default: the first).
    pub variant: Option<String>,
    /// Overrides applied to every run (the `--set` flags and `--seed`).
    pub sets: Vec<Override>,
    /// The objective.
    pub objective: Objective,
    /// The peak arrival rate, requests per second.
    pub peak_rps: f64,
    /// Replications per node count.
    pub replications: u32,
    /// Headroom the rule of thumb adds (0.2: 20%).
    pub margin: f64,
    /// The share of requests that must succeed for a node count to count as meeting it.
    pub min_success: f64,
    /// The largest node count tried.
    pub max_nodes: u32,
    /// Worker threads (`None`: one per core).
    pub threads: Option<usize>,
}

/// The figures of one node count at one offered load, over the replications.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// Nodes.
    pub nodes: u32,
    /// Offered load, requests per second.
    pub offered_rps: f64,
    /// Goodput over the replications.
    pub goodput: Estimate,
    /// The objective's figure over the replications.
    pub figure: Estimate,
    /// Mean share of finished requests that succeeded.
    pub success: f64,
    /// Whether any replication was stopped early (overload).
    pub stopped_early: bool,
    /// Service capacity of node 0 (served per second ÷ busy share), mean over replications.
    pub node_capacity_rps: f64,
}

/// The plan: measurements and the two answers.
#[derive(Clone, Debug)]
pub struct PlanReport {
    /// The experiment's name.
    pub experiment: String,
    /// The variant sized.
    pub variant: String,
    /// Faults in the experiment that were left out (they name nodes by index).
    pub faults_dropped: usize,
    /// Whether the model's autoscaler was left out (the plan fixes the node count).
    pub autoscaler_dropped: bool,
    /// Capacity per node, requests per second.
    pub capacity_per_node: f64,
    /// The scaling series at n = 1, 2, 4…, with the efficiency of each.
    pub scaling: Vec<(Measurement, f64)>,
    /// The node counts tried at the peak, in the order tried.
    pub search: Vec<(Measurement, bool)>,
    /// The smallest node count that met the objective (None: none up to `max_nodes`).
    pub smallest: Option<u32>,
    /// When more nodes stopped adding goodput: the best goodput and the node count it was at.
    pub plateau: Option<(f64, u32)>,
    /// The node count before efficiency: peak × (1 + margin) / capacity.
    pub formula_ideal: f64,
    /// The efficiency used in the formula (interpolated at `formula_ideal` nodes).
    pub efficiency: f64,
    /// The rule of thumb's node count (not rounded).
    pub formula: f64,
}

struct Planner<'a> {
    opts: &'a PlanOptions,
    pool: rayon::ThreadPool,
    seed: u64,
    cache: BTreeMap<(u32, u64), Measurement>,
}

fn set(path: &str, value: String) -> Override {
    Override {
        path: path.into(),
        value,
        source: OverrideSource::Flag,
    }
}

impl Planner<'_> {
    fn config(&self, nodes: u32, rate: f64) -> Result<RunConfig, SweepError> {
        // Fixed node counts without faults: the plan sizes steady operation.
        let mut sets = vec![
            set("faults", "[]".into()),
            set("model.autoscaler", "None".into()),
        ];
        sets.extend(self.opts.sets.iter().cloned());
        sets.push(set("model.nodes.count", nodes.to_string()));
        sets.push(set("workload.rate_per_s", format!("{rate}")));
        let exp = load_experiment(&self.opts.experiment, &sets).map_err(|e| {
            if e.field.as_deref() == Some("workload.rate_per_s") {
                SweepError::Input(format!(
                    "{}: plan sets the arrival rate through `workload.rate_per_s`, which this experiment's workload does not have ({})",
                    self.opts.experiment.display(),
                    e.message
                ))
            } else {
                SweepError::Config(e)
            }
        })?;
        let cfg = match &self.opts.variant {
            None => exp
                .runs
                .into_iter()
                .next()
                .expect("an experiment has a variant"),
            Some(v) => {
                let names: Vec<String> = exp.runs.iter().map(|r| r.variant.clone()).collect();
                exp.runs
                    .into_iter()
                    .find(|r| &r.variant == v)
                    .ok_or_else(|| {
                        SweepError::Input(format!(
                            "--variant {v}: the experiment has no such variant; it has: {}",
                            names.join(", ")
                        ))
                    })?
            }
        };
        Ok(cfg)
    }

    /// Measures every (nodes, rate) not measured yet, all replications in parallel.
    fn measure(&mut self, wanted: &[(u32, f64)]) -> Result<Vec<Measurement>, SweepError> {
        let mut tasks = Vec::new();
        for &(n, rate) in wanted {
            if !self.cache.contains_key(&(n, rate.to_bits())) {
                let cfg = self.config(n, rate)?;
                for r in 0..self.opts.replications {
                    tasks.push(((n, rate), cfg.with_seed(run_seed(self.seed, 0, r))));
                }
            }
        }
        let results: Vec<_> = self.pool.install(|| {
            tasks
                .par_iter()
                .with_max_len(1)
                .map(|(key, cfg)| (*key, run_config(cfg).map(|o| o.summary)))
                .collect()
        });
        let mut grouped: BTreeMap<(u32, u64), Vec<Summary>> = BTreeMap::new();
        for ((n, rate), s) in results {
            let s = s.map_err(|e| SweepError::Failed(format!("error: {e}")))?;
            grouped.entry((n, rate.to_bits())).or_default().push(s);
        }
        for ((n, bits), summaries) in grouped {
            let m = self.summarise(n, f64::from_bits(bits), &summaries)?;
            self.cache.insert((n, bits), m);
        }
        Ok(wanted
            .iter()
            .map(|&(n, rate)| self.cache[&(n, rate.to_bits())].clone())
            .collect())
    }

    fn summarise(&self, n: u32, rate: f64, runs: &[Summary]) -> Result<Measurement, SweepError> {
        let fig = &self.opts.objective.figure;
        let mut values = Vec::new();
        for s in runs {
            let v = s
                .figures()
                .into_iter()
                .find(|(name, _)| name == fig)
                .map(|(_, v)| v)
                .ok_or_else(|| {
                    let names: Vec<String> = s.figures().into_iter().map(|(n, _)| n).collect();
                    SweepError::Input(format!(
                        "--slo {}: the summary has no figure `{fig}`; it has: {}",
                        self.opts.objective.text,
                        names.join(", ")
                    ))
                })?;
            values.push(v);
        }
        let success = runs
            .iter()
            .map(|s| {
                let done = s.requests.succeeded + s.requests.failed;
                if done == 0 {
                    0.0
                } else {
                    s.requests.succeeded as f64 / done as f64
                }
            })
            .sum::<f64>()
            / runs.len() as f64;
        let caps: Vec<f64> = runs
            .iter()
            .filter_map(|s| {
                let node = s.nodes.first()?;
                (node.utilisation > 0.0 && s.sim_seconds > 0.0)
                    .then(|| node.served as f64 / s.sim_seconds / node.utilisation)
            })
            .collect();
        Ok(Measurement {
            nodes: n,
            offered_rps: rate,
            goodput: Estimate::of(&runs.iter().map(|s| s.goodput_rps).collect::<Vec<_>>()),
            figure: Estimate::of(&values),
            success,
            stopped_early: runs.iter().any(|s| s.stopped_reason.is_some()),
            node_capacity_rps: Estimate::of(&caps).mean,
        })
    }

    fn meets(&self, m: &Measurement) -> bool {
        self.opts.objective.met_by(m.figure.mean)
            && m.success >= self.opts.min_success
            && !m.stopped_early
    }
}

/// Interpolates the efficiency at `n` nodes from the series, linearly in log2(n).
fn efficiency_at(series: &[(Measurement, f64)], n: f64) -> f64 {
    let pts: Vec<(f64, f64)> = series
        .iter()
        .map(|(m, e)| ((m.nodes as f64).log2(), *e))
        .collect();
    let x = n.max(1.0).log2();
    match pts.iter().position(|(px, _)| *px >= x) {
        None => pts.last().map_or(1.0, |p| p.1),
        Some(0) => pts[0].1,
        Some(i) => {
            let (x0, y0) = pts[i - 1];
            let (x1, y1) = pts[i];
            y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        }
    }
}

/// Runs the plan.
pub fn plan(opts: &PlanOptions) -> Result<PlanReport, SweepError> {
    if !(opts.peak_rps > 0.0 && opts.peak_rps.is_finite()) {
        return Err(SweepError::Input(format!(
            "--peak-rps {}: must be a number above 0",
            opts.peak_rps
        )));
    }
    if opts.replications == 0 || opts.max_nodes == 0 || opts.margin.is_nan() || opts.margin < 0.0 {
        return Err(SweepError::Input(
            "--replications and --max-nodes must be at least 1, --margin at least 0".into(),
        ));
    }
    // Every replication of a node count is a configuration held at once, and each
    // multiplies the plan's run time.
    if opts.replications > MAX_REPLICATIONS {
        return Err(SweepError::Input(format!(
            "--replications {}: a plan runs that many seeds of every node count it tries, at once; at most {MAX_REPLICATIONS}",
            opts.replications
        )));
    }
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = opts.threads {
        b = b.num_threads(n);
    }
    let pool = b
        .build()
        .map_err(|e| SweepError::Failed(format!("cannot start the worker threads: {e}")))?;
    let mut p = Planner {
        opts,
        pool,
        seed: 0,
        cache: BTreeMap::new(),
    };
    let probe = p.config(1, opts.peak_rps)?;
    p.seed = probe.seed();
    // The faults and autoscaler as written (the plan's runs leave them out).
    let written = load_experiment(&opts.experiment, &opts.sets).ok();
    let written = written.as_ref().and_then(|e| e.runs.first());
    let faults_dropped = written.map_or(0, |r| r.spec.faults.len());
    let autoscaler_dropped = written.is_some_and(|r| r.model.autoscaler.is_some());

    // Capacity per node: one node offered the peak.
    let one = p.measure(&[(1, opts.peak_rps)])?.remove(0);
    let capacity = one.node_capacity_rps;
    if !(capacity > 0.0 && capacity.is_finite()) {
        return Err(SweepError::Failed(
            "the single node served nothing at the peak load: its capacity cannot be measured"
                .into(),
        ));
    }
    let ideal = opts.peak_rps * (1.0 + opts.margin) / capacity;

    // Search the node counts at the peak: doubling, then bisection. Doubling stops early
    // when two doublings in a row did not raise the best goodput by 2%: a shared limit
    // binds, and more nodes will not meet the objective.
    let mut search: Vec<(Measurement, bool)> = Vec::new();
    let mut last_miss = 0u32;
    let mut first_meet = None;
    let mut plateau = None;
    let (mut best, mut best_at, mut stale) = (0.0f64, 0u32, 0);
    let mut n = 1u32;
    while n <= opts.max_nodes {
        let m = p.measure(&[(n, opts.peak_rps)])?.remove(0);
        let ok = p.meets(&m);
        search.push((m, ok));
        if ok {
            first_meet = Some(n);
            break;
        }
        last_miss = n;
        let g = search.last().map_or(0.0, |(m, _)| m.goodput.mean);
        if g > best * 1.02 {
            (best, best_at, stale) = (g, n, 0);
        } else {
            stale += 1;
            if stale == 2 {
                plateau = Some((best, best_at));
                break;
            }
        }
        if n == opts.max_nodes {
            break;
        }
        n = n.saturating_mul(2).min(opts.max_nodes);
    }
    if let Some(mut hi) = first_meet {
        let mut lo = last_miss;
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let m = p.measure(&[(mid, opts.peak_rps)])?.remove(0);
            let ok = p.meets(&m);
            search.push((m, ok));
            if ok {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        first_meet = Some(hi);
    }

    // Scaling efficiency at 1, 2, 4… up to beyond both answers.
    let top = ideal
        .ceil()
        .max(first_meet.unwrap_or(1) as f64)
        .max(search.last().map_or(1, |(m, _)| m.nodes) as f64)
        .max(1.0) as u32;
    let mut counts = vec![1u32];
    while *counts.last().expect("one") < top.min(opts.max_nodes) {
        let next = counts.last().expect("one").saturating_mul(2);
        counts.push(next.min(opts.max_nodes.max(1)));
    }
    counts.dedup();
    let wanted: Vec<(u32, f64)> = counts
        .iter()
        .map(|&n| (n, n as f64 * capacity / (1.0 + opts.margin)))
        .collect();
    let scaling: Vec<(Measurement, f64)> = p
        .measure(&wanted)?
        .into_iter()
        .map(|m| {
            let e = m.goodput.mean / m.offered_rps;
            (m, e)
        })
        .collect();
    let efficiency = efficiency_at(&scaling, ideal);
    Ok(PlanReport {
        experiment: probe.experiment.clone(),
        variant: probe.variant.clone(),
        faults_dropped,
        autoscaler_dropped,
        capacity_per_node: capacity,
        scaling,
        search,
        smallest: first_meet,
        plateau,
        formula_ideal: ideal,
        efficiency,
        formula: ideal / efficiency,
    })
}

/// A figure for reading: 6 significant digits, without trailing zeros.
fn fmt(v: f64) -> String {
    let s = crate::output::format_figure(v);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

impl PlanReport {
    /// The report as text: the measurements, then both answers side by side.
    pub fn to_text(&self, opts: &PlanOptions) -> String {
        let o = &opts.objective;
        let mut s = format!(
            "plan for {} (variant {}): peak {} req/s, objective {} ({} {} {}), {} replication(s) per count\n",
            self.experiment,
            self.variant,
            fmt(opts.peak_rps),
            o.text,
            o.figure,
            if o.below { "<" } else { ">" },
            fmt(o.bound),
            opts.replications
        );
        if self.faults_dropped > 0 {
            s.push_str(&format!(
                "note: the experiment's {} fault(s) are left out: plan sizes for steady operation\n",
                self.faults_dropped
            ));
        }
        if self.autoscaler_dropped {
            s.push_str("note: the model's autoscaler is left out: the plan fixes the node count\n");
        }
        s.push_str(&format!(
            "\ncapacity per node: {} req/s (one node offered the peak: served per second ÷ share of worker time busy)\n",
            fmt(self.capacity_per_node)
        ));
        s.push_str(&format!(
            "\nscaling: n nodes offered n × capacity / (1 + margin {})\n",
            fmt(opts.margin)
        ));
        s.push_str(&format!(
            "{:>7}  {:>12}  {:>12}  {:>10}  {:>12}\n",
            "nodes", "offered/s", "goodput/s", "efficiency", o.figure
        ));
        for (m, e) in &self.scaling {
            s.push_str(&format!(
                "{:>7}  {:>12}  {:>12}  {:>10}  {:>12}\n",
                m.nodes,
                fmt(m.offered_rps),
                fmt(m.goodput.mean),
                format!("{e:.3}"),
                fmt(m.figure.mean)
            ));
        }
        s.push_str(&format!(
            "\nnode counts at the peak ({} req/s), in the order tried:\n",
            fmt(opts.peak_rps)
        ));
        s.push_str(&format!(
            "{:>7}  {:>24}  {:>9}  {:>12}  {}\n",
            "nodes",
            format!("{} (95% CI)", o.figure),
            "success",
            "goodput/s",
            "meets"
        ));
        for (m, ok) in &self.search {
            let ci = if m.figure.half_width.is_nan() {
                fmt(m.figure.mean)
            } else {
                format!("{} ± {}", fmt(m.figure.mean), fmt(m.figure.half_width))
            };
            let why = if *ok {
                "yes".to_string()
            } else if m.stopped_early {
                "no (overloaded: stopped early)".to_string()
            } else if m.success < opts.min_success {
                format!("no (success below {})", fmt(opts.min_success))
            } else {
                "no".to_string()
            };
            s.push_str(&format!(
                "{:>7}  {:>24}  {:>9}  {:>12}  {}\n",
                m.nodes,
                ci,
                format!("{:.4}", m.success),
                fmt(m.goodput.mean),
                why
            ));
        }
        s.push('\n');
        match self.smallest {
            Some(n) => s.push_str(&format!(
                "simulated:     the smallest node count meeting {} at {} req/s is {n}\n",
                o.text,
                fmt(opts.peak_rps)
            )),
            None => match self.plateau {
                Some((g, at)) => s.push_str(&format!(
                    "simulated:     no node count meets {} at {} req/s: goodput peaks at {} req/s with {at} nodes and more nodes add none (a shared limit binds)\n",
                    o.text,
                    fmt(opts.peak_rps),
                    fmt(g)
                )),
                None => s.push_str(&format!(
                    "simulated:     no node count up to {} meets {} at {} req/s\n",
                    opts.max_nodes,
                    o.text,
                    fmt(opts.peak_rps)
                )),
            },
        }
        let rounded = self.formula.ceil();
        s.push_str(&format!(
            "rule of thumb: N = peak × (1 + margin) / (capacity per node × efficiency)\n               = {} × {} / ({} × {:.3}) = {:.2} → {}\n",
            fmt(opts.peak_rps),
            fmt(1.0 + opts.margin),
            fmt(self.capacity_per_node),
            self.efficiency,
            self.formula,
            rounded
        ));
        if let Some(n) = self.smallest {
            let f = rounded as i64;
            let n = n as i64;
            let verdict = match f.cmp(&n) {
                std::cmp::Ordering::Less => format!(
                    "the formula is optimistic: it asks for {f}, the objective needs {n} (the tail, not the mean load, decides; or a shared limit binds first)"
                ),
                std::cmp::Ordering::Greater => format!(
                    "the formula is pessimistic: it asks for {f}, {n} already meet the objective (its margin is more than this objective needs)"
                ),
                std::cmp::Ordering::Equal => "the formula and the simulation agree".to_string(),
            };
            s.push_str(&format!("               {verdict}\n"));
        } else {
            s.push_str(&format!(
                "               the formula is optimistic: it asks for {rounded}, but no node count meets the objective — it assumes capacity grows with the nodes\n"
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_parse() {
        let o = Objective::parse("p99<200ms").unwrap();
        assert_eq!(
            (o.figure.as_str(), o.bound, o.below),
            ("latency_ms_p99", 200.0, true)
        );
        assert_eq!(Objective::parse("mean<0.1s").unwrap().bound, 100.0);
        assert_eq!(Objective::parse("p50<=50").unwrap().bound, 50.0);
        let t = Objective::parse("goodput_rps>900").unwrap();
        assert!(!t.below && t.met_by(901.0) && !t.met_by(899.0));
        assert!(Objective::parse("p99=200ms").is_err());
        assert!(Objective::parse("p99<fast").is_err());
        assert!(Objective::parse("goodput_rps<5s").is_err());
    }
}
