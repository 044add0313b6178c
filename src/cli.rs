//! The command-line interface's commands: parse with clap in `main.rs`, then these call the
//! library and print. Exit codes: 0 success, 1 output or internal failure, 2 bad input.

use crate::config::{self, ConfigError, Override};
use crate::output::{self, table};
use crate::report;
use crate::sweep;
use crate::validate::{self, QueueModel, ValidationParams};
use crate::Summary;
use clap::{Args, Parser, Subcommand};

pub mod console;
use std::path::{Path, PathBuf};

/// A deterministic discrete-event simulator of a horizontally scaled web system.
#[derive(Parser, Debug)]
#[command(name = "scalesim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run every variant of an experiment and compare them side by side.
    Run(RunArgs),
    /// Validate model or experiment files without running them.
    Check {
        /// The .ron files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the bundled models and experiments with a one-line description each.
    List {
        /// The project directory holding models/ and experiments/.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Compare a textbook queue (M/M/1, M/M/c, M/D/1) simulated by scalesim with theory.
    Validate(ValidateArgs),
    /// Run a parameter sweep (points × variants × seeds) on every core; write runs.csv and points.csv.
    Sweep(SweepArgs),
    /// Combine the output folders of a sweep's shards into one runs.csv and points.csv.
    Merge(MergeArgs),
    /// Find the smallest node count that meets a latency objective at a peak load.
    Plan(PlanArgs),
    /// Draw the plots and report.html of an existing run or sweep output directory.
    Plot(PlotArgs),
}

/// Arguments of `scalesim sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The sweep file (`Sweep(experiment: …, axes: […], replications: N, …)`).
    pub file: PathBuf,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output folder (default: out/sweeps/<sweep name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only the I-th of N disjoint slices of the runs (I from 1), e.g. --shard 2/8.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Continue an interrupted sweep in the output folder: run only the missing runs.
    #[arg(long)]
    pub resume: bool,
    /// Override a field at every point by dotted path, e.g. --set duration=30s (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Add batches of replications to each point until the figure's 95% half-width is
    /// within this share of its mean, e.g. 2% or wait_ms_mean:2% (default figure:
    /// latency_ms_mean).
    #[arg(long, value_name = "[FIGURE:]SHARE")]
    pub precision: Option<String>,
    /// With --precision: the most replications a point may take (default 200).
    #[arg(long, value_name = "N")]
    pub max_replications: Option<u32>,
}

/// Arguments of `scalesim merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The shards' output folders.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged folder (default: out/sweeps/<sweep name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Arguments of `scalesim plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// The output directory of `scalesim run` (or of a sweep: it holds points.csv).
    pub dir: PathBuf,
    /// Also write a PNG beside each SVG.
    #[arg(long)]
    pub png: bool,
    /// Also write DIR/animation.gif of the node queues (runs only).
    #[arg(long)]
    pub animate: bool,
    /// Sweeps: the axis column on the x axis (default: the first axis).
    #[arg(long)]
    pub x: Option<String>,
    /// Sweeps: the second axis, for heat maps (default: the second axis, if any).
    #[arg(long)]
    pub y: Option<String>,
    /// Sweeps: a figure to draw, e.g. goodput_rps (repeatable; default: the main figures).
    #[arg(long = "figure", value_name = "FIGURE")]
    pub figures: Vec<String>,
}

/// Arguments of `scalesim run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The experiment file.
    pub experiment: PathBuf,
    /// Run seed (overrides the experiment's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default: out/<experiment name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a field by dotted path, e.g. --set model.nodes.count=5 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Print one JSON object with every variant's summary to stdout, and nothing else.
    #[arg(long)]
    pub json: bool,
    /// Do not draw plots or write report.html.
    #[arg(long)]
    pub no_plots: bool,
    /// Also write a PNG beside each SVG plot.
    #[arg(long)]
    pub png: bool,
    /// Also write DIR/animation.gif of the node queues.
    #[arg(long)]
    pub animate: bool,
    /// Trace N sampled requests of every variant into DIR/<variant>/trace.json (Chrome Trace
    /// Event format: open in ui.perfetto.dev or chrome://tracing).
    #[arg(long, value_name = "N")]
    pub trace: Option<u64>,
}

/// Arguments of `scalesim validate`.
#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// The queue: mm1, mmc or md1.
    #[arg(value_enum)]
    pub model: QueueModel,
    /// Arrivals per second.
    #[arg(long)]
    pub rate: f64,
    /// Servers (mmc only; mm1 and md1 have one).
    #[arg(long, default_value_t = 1)]
    pub servers: u32,
    /// Mean service time in milliseconds.
    #[arg(long = "service-mean-ms")]
    pub service_mean_ms: f64,
    /// Customers to simulate (default: chosen from the utilisation).
    #[arg(long)]
    pub customers: Option<u64>,
    /// Run seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `scalesim plan`.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The experiment file (its first variant is sized, or --variant).
    pub experiment: PathBuf,
    /// The objective: p99<200ms, p50<50ms, mean<100ms, or FIGURE<BOUND with a summary figure.
    #[arg(long)]
    pub slo: String,
    /// The peak arrival rate to size for, requests per second.
    #[arg(long = "peak-rps")]
    pub peak_rps: f64,
    /// The variant to size (default: the experiment's first).
    #[arg(long)]
    pub variant: Option<String>,
    /// Replications (seeds) per node count.
    #[arg(long, default_value_t = 3)]
    pub replications: u32,
    /// Headroom in the rule of thumb: 0.2 plans for 20% above the peak.
    #[arg(long, default_value_t = 0.2)]
    pub margin: f64,
    /// Share of requests that must succeed for a node count to meet the objective.
    #[arg(long = "min-success", default_value_t = 0.99)]
    pub min_success: f64,
    /// The largest node count tried.
    #[arg(long = "max-nodes", default_value_t = 256)]
    pub max_nodes: u32,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run seed (overrides the experiment's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a field by dotted path, e.g. --set duration=1m (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
}

/// A failure that ends the command: the message and the exit code.
pub struct Failure {
    /// What to print on stderr.
    pub message: String,
    /// The process exit code (never 101, a panic's).
    pub code: i32,
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure {
            message: format!("error: {e}"),
            code: 2,
        }
    }
}

impl From<sweep::SweepError> for Failure {
    fn from(e: sweep::SweepError) -> Self {
        let message = e.to_string();
        Failure {
            message: if message.starts_with("error:") {
                message
            } else {
                format!("error: {message}")
            },
            code: e.exit_code(),
        }
    }
}

impl From<output::OutputError> for Failure {
    fn from(e: output::OutputError) -> Self {
        Failure {
            message: format!("error: {e}"),
            code: 1,
        }
    }
}

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Run(args) => run(args),
        Command::Check { files } => check(&files),
        Command::List { dir } => list(&dir),
        Command::Validate(args) => validate_cmd(args),
        Command::Sweep(args) => sweep_cmd(args),
        Command::Merge(args) => merge_cmd(args),
        Command::Plan(args) => plan_cmd(args),
        Command::Plot(args) => plot(args),
    }
}

/// Parses `--set` flags and `--seed` into overrides, in the order given.
pub fn parse_sets(sets: &[String], seed: Option<u64>) -> Result<Vec<Override>, Failure> {
    let mut out = Vec::new();
    for s in sets {
        out.push(Override::parse_flag(s).map_err(|m| Failure {
            message: format!("error: {m}"),
            code: 2,
        })?);
    }
    if let Some(seed) = seed {
        out.push(Override {
            path: "seed".into(),
            value: seed.to_string(),
            source: config::overrides::OverrideSource::Flag,
        });
    }
    Ok(out)
}

/// Checks `--trace N`: at least one request, at most `trace::MAX_REQUESTS`.
fn trace_requests(n: Option<u64>) -> Result<Option<u32>, Failure> {
    let max = crate::output::trace_format::MAX_REQUESTS;
    match n {
        None => Ok(None),
        Some(n) if (1..=max as u64).contains(&n) => Ok(Some(n as u32)),
        Some(n) => Err(Failure {
            message: format!(
                "error: --trace {n}: the number of requests to trace must be between 1 and {max} (every traced request is kept in memory in each variant; trace fewer)"
            ),
            code: 2,
        }),
    }
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let trace = trace_requests(args.trace)?;
    let sets = parse_sets(&args.sets, args.seed)?;
    let exp = config::load_experiment(&args.experiment, &sets)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(&exp.name));
    output::create_dir(&dir)?;
    // One writer per folder: a second `run` (or a sweep) aimed here refuses while this runs.
    let _lock = output::lock::FolderLock::acquire(&dir).map_err(|e| Failure {
        code: if matches!(e, output::lock::LockError::Busy { .. }) {
            2
        } else {
            1
        },
        message: format!("error: {e}"),
    })?;
    if !args.json {
        crate::errln!(
            "running {} ({} variant(s), seed {}) …",
            exp.name,
            exp.runs.len(),
            exp.runs.first().map(|r| r.seed()).unwrap_or(0)
        );
    }
    // Ctrl-C / SIGTERM: the runs stop, write what they have and the command exits 130.
    crate::interrupt::install_handler();
    // A failing run says how to reproduce it: an invariant violation in its message, and a
    // panic (always a bug) after the panic's own report.
    let seed = exp.runs.first().map(|r| r.seed()).unwrap_or(0);
    let reproduce = rerun_command(&args, seed);
    let hook_reproduce = reproduce.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        crate::errln!(
            "this is a bug in scalesim (seed {seed}); reproduce with:\n  {hook_reproduce}"
        );
    }));
    // Each variant's files are written as soon as its run ends (an interrupted command
    // keeps every finished variant); results come back in variant order.
    let outputs = crate::run_experiment_traced(&exp, trace, |cfg, out| {
        output::write_variant(&dir, cfg, out).map(drop)
    })
    .map_err(|e| match e {
        crate::RunError::Violation { variant, error } => Failure {
            message: format!("error: variant {variant}: {error}\n  reproduce with: {reproduce}"),
            code: 1,
        },
        crate::RunError::Output(e) => Failure::from(e),
    })?;
    let summaries: Vec<Summary> = outputs.into_iter().map(|o| o.summary).collect();
    output::write_atomic(
        &dir.join("comparison.csv"),
        output::comparison_csv(&summaries).as_bytes(),
    )?;
    if summaries
        .iter()
        .any(|s| s.stopped_reason.as_deref() == Some(crate::interrupt::STOPPED_REASON))
    {
        return Err(Failure {
            message: format!(
                "interrupted: the figures up to the interruption are in {} (stopped_reason: \"interrupted\")",
                dir.display()
            ),
            code: crate::interrupt::EXIT_CODE,
        });
    }
    // A claim that does not hold is a finding about the run, not an error: exit 0.
    let claims = crate::claims::check(&exp.claims, &summaries);
    let claims_json = crate::claims::to_json(&claims);
    output::write_atomic(
        &dir.join("claims.json"),
        (serde_json::to_string_pretty(&claims_json).expect("serialises") + "\n").as_bytes(),
    )?;
    // Plots are drawn from the files just written, after them: they never change them.
    let plotted = if args.no_plots {
        None
    } else {
        let opts = report::PlotOptions {
            png: args.png,
            animate: args.animate,
            context: Some(report::ReportContext {
                comment: exp.comment.clone(),
                command: reproduce_command(&args, &exp, &dir),
            }),
        };
        Some(report::plot_run_dir(&dir, &opts).map_err(|m| Failure {
            message: format!("error: plotting: {m}"),
            code: 1,
        })?)
    };
    if args.json {
        let mut variants = serde_json::Map::new();
        for s in &summaries {
            variants.insert(s.variant.clone(), s.to_json_value());
        }
        let obj = serde_json::json!({
            "experiment": exp.name,
            "seed": exp.runs.first().map(|r| r.seed()).unwrap_or(0),
            "variants": variants,
            "claims": claims_json["claims"],
        });
        crate::outln!("{}", serde_json::to_string(&obj).expect("serialises"));
    } else {
        crate::outln!("{}", exp.name);
        if !exp.description.is_empty() {
            crate::outln!("{}", exp.description);
        }
        crate::outln!();
        crate::out!("{}", table::side_by_side(&summaries));
        let claims_text = crate::claims::render(&claims);
        if !claims_text.is_empty() {
            crate::out!("\n{claims_text}");
        }
        crate::outln!("\nwrote {}", dir.display());
        if let Some(p) = plotted {
            let n = p
                .files
                .iter()
                .filter(|f| f.extension().is_some_and(|e| e == "svg"))
                .count();
            crate::outln!(
                "wrote {} plot(s) in {} and {}",
                n,
                dir.join("plots").display(),
                dir.join("report.html").display()
            );
        }
    }
    Ok(())
}

/// The command that reproduces a run's outputs: the experiment, its seed, every `--set`.
fn reproduce_command(args: &RunArgs, exp: &config::Experiment, dir: &Path) -> String {
    use report::html::shell_word;
    let mut c = format!(
        "scalesim run {} --seed {}",
        shell_word(&args.experiment.to_string_lossy()),
        exp.runs.first().map(|r| r.seed()).unwrap_or(0)
    );
    for s in &args.sets {
        c.push_str(&format!(" --set {}", shell_word(s)));
    }
    c.push_str(&format!(" --out {}", shell_word(&dir.to_string_lossy())));
    c
}

fn plot(args: PlotArgs) -> Result<(), Failure> {
    if !args.dir.is_dir() {
        return Err(Failure {
            message: format!("error: {}: not a directory", args.dir.display()),
            code: 2,
        });
    }
    let fail = |m: String| Failure {
        message: format!("error: {m}"),
        code: 1,
    };
    let outcome = if args.dir.join("points.csv").is_file() {
        let opts = report::sweep::SweepOptions {
            x: args.x,
            y: args.y,
            figures: args.figures,
        };
        report::sweep::plot_sweep_dir(&args.dir, &opts, args.png).map_err(fail)?
    } else {
        let opts = report::PlotOptions {
            png: args.png,
            animate: args.animate,
            context: None,
        };
        report::plot_run_dir(&args.dir, &opts).map_err(fail)?
    };
    for f in &outcome.files {
        crate::outln!("wrote {}", f.display());
    }
    if !outcome.skipped.is_empty() {
        crate::outln!("no data for: {}", outcome.skipped.join(", "));
    }
    Ok(())
}

/// The exact command that repeats this run: the same file, overrides and seed.
fn rerun_command(args: &RunArgs, seed: u64) -> String {
    let mut cmd = format!(
        "scalesim run {}",
        quote(&args.experiment.display().to_string())
    );
    for s in &args.sets {
        cmd.push_str(&format!(" --set {}", quote(s)));
    }
    cmd.push_str(&format!(" --seed {seed}"));
    cmd
}

/// Quotes a shell word when it needs it.
fn quote(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain && !word.is_empty() {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn check(files: &[PathBuf]) -> Result<(), Failure> {
    let mut failures = Vec::new();
    for f in files {
        // Read once, bounded, to tell a sweep from the rest (and to refuse `/dev/zero`).
        let text = match config::load::read_text(f) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("error: {e}"));
                continue;
            }
        };
        if sweep::is_sweep_text(&text) {
            match sweep::load_sweep(f, &[]) {
                Ok(s) => crate::outln!(
                    "ok    {}: sweep of {} point(s) × {} variant(s) × {} replication(s) = {} runs{}",
                    f.display(),
                    s.manifest.points.len(),
                    s.manifest.variants.len(),
                    s.manifest.replications,
                    s.manifest.total_runs(),
                    if s.description.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", s.description)
                    }
                ),
                Err(e) => failures.push(format!("error: {e}")),
            }
            continue;
        }
        match config::check_file(f) {
            Ok(what) => crate::outln!("ok    {}: {what}", f.display()),
            Err(e) => failures.push(format!("error: {e}")),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failure {
            message: failures.join("\n"),
            code: 2,
        })
    }
}

fn list(dir: &Path) -> Result<(), Failure> {
    for (kind, sub) in [
        ("models", "models"),
        ("experiments", "experiments"),
        ("sweeps", "experiments/sweeps"),
    ] {
        let folder = dir.join(sub);
        if kind == "sweeps" && !folder.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map_err(|e| Failure {
                message: format!("error: {}: cannot list: {e}", folder.display()),
                code: 2,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "ron"))
            .collect();
        files.sort();
        crate::outln!("{kind}:");
        let width = files
            .iter()
            .map(|p| p.file_name().map(|n| n.len()).unwrap_or(0))
            .max()
            .unwrap_or(0);
        for f in files {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let desc = config::load::read_text(&f)
                .map(|t| describe(&t))
                .unwrap_or_else(|e| format!("(unreadable: {})", e.message));
            crate::outln!("  {name:<width$}  {desc}");
        }
    }
    Ok(())
}

/// A file's one-line description: its `description: "…"` field, else its first comment line.
fn describe(text: &str) -> String {
    if let Some(i) = text.find("description:") {
        let rest = &text[i + "description:".len()..];
        if let Some(start) = rest.find('"') {
            if let Some(len) = rest[start + 1..].find('"') {
                let d = &rest[start + 1..start + 1 + len];
                if !d.trim().is_empty() {
                    return d.trim().to_string();
                }
            }
        }
    }
    config::leading_comment(text)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

fn validate_cmd(a: ValidateArgs) -> Result<(), Failure> {
    if a.model != QueueModel::Mmc && a.servers != 1 {
        return Err(Failure {
            message: format!(
                "error: the flag --servers {}: {} has exactly one server; use mmc for several",
                a.servers,
                a.model.name()
            ),
            code: 2,
        });
    }
    let report = validate::validate(&ValidationParams {
        model: a.model,
        rate_per_s: a.rate,
        servers: a.servers,
        service_mean_ms: a.service_mean_ms,
        customers: a.customers,
        seed: a.seed,
    })?;
    if a.json {
        let v = serde_json::json!({
            "model": report.model,
            "customers": report.customers,
            "sim": report.sim,
            "theory": report.theory,
            "relative_error": report.relative_error,
            "customers_per_second": report.customers_per_second,
            "utilisation": report.utilisation,
            "servers": report.servers,
            "rate_per_s": report.rate_per_s,
            "service_mean_ms": report.service_mean_ms,
            "theory_inside_ci": report.theory_inside_ci,
            "ci_relative_half_width": report.ci_relative_half_width,
            "seed": report.seed,
        });
        crate::outln!("{}", serde_json::to_string(&v).expect("serialises"));
    } else {
        crate::out!("{}", report.to_table());
    }
    Ok(())
}

fn sweep_cmd(args: SweepArgs) -> Result<(), Failure> {
    let sets = parse_sets(&args.sets, None)?;
    // Ctrl-C / SIGTERM: running simulations stop, nothing new starts, finished runs stay in
    // the journal, and the command exits 130; `--resume` then runs only what is missing.
    crate::interrupt::install_handler();
    let shard = match &args.shard {
        Some(s) => s.parse::<sweep::Shard>().map_err(|m| Failure {
            message: format!("error: {m}"),
            code: 2,
        })?,
        None => sweep::Shard::ALL,
    };
    if args.threads == Some(0) {
        return Err(Failure {
            message: "error: --threads 0: give at least 1 (or leave it out for one per core)"
                .into(),
            code: 2,
        });
    }
    let mut sw = sweep::load_sweep(&args.file, &sets)?;
    let bad = |message: String| Failure {
        message: format!("error: {message}"),
        code: 2,
    };
    let precision_flag = match &args.precision {
        Some(text) => Some(sweep::precision::parse_flag(text).map_err(bad)?),
        None => None,
    };
    sw.override_precision(precision_flag, args.max_replications)
        .map_err(bad)?;
    let m = &sw.manifest;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join("sweeps").join(&m.name));
    let replications = match &m.precision {
        None => format!(
            "{} replication(s) = {} runs",
            m.replications,
            m.total_runs()
        ),
        Some(p) => format!(
            "batches of {} replications until ±{}% of {} (at most {} per point, {} runs)",
            m.replications,
            p.within * 100.0,
            p.figure,
            p.max_replications,
            m.total_runs()
        ),
    };
    crate::errln!(
        "sweep {}: {} point(s) × {} variant(s) × {replications}{}",
        m.name,
        m.points.len(),
        m.variants.len(),
        if shard == sweep::Shard::ALL {
            String::new()
        } else {
            format!(", shard {shard}")
        }
    );
    let report = sweep::run_sweep(
        &sw,
        &sweep::SweepOptions {
            threads: args.threads,
            out,
            shard,
            resume: args.resume,
            progress: true,
        },
    )?;
    let rate = if report.wall_seconds > 0.0 {
        report.ran as f64 / report.wall_seconds
    } else {
        0.0
    };
    crate::errln!(
        "ran {} run(s) in {:.2} s ({:.1} runs/s, {} thread(s)); {} already done{}",
        report.ran,
        report.wall_seconds,
        rate,
        report.threads,
        report.already_done,
        if report.dropped_lines > 0 {
            format!(
                "; {} torn journal line(s) dropped and redone",
                report.dropped_lines
            )
        } else {
            String::new()
        }
    );
    if let (Some(p), Some(progress)) = (&sw.manifest.precision, &report.progress) {
        let met = progress.iter().filter(|x| x.met).count();
        let reps = progress.iter().map(|x| x.replications);
        crate::errln!(
            "precision: {met} of {} point(s) reached ±{}% of {} ({}–{} replications per point, in points.csv `runs`){}",
            progress.len(),
            p.within * 100.0,
            p.figure,
            reps.clone().min().unwrap_or(0),
            reps.max().unwrap_or(0),
            if met < progress.len() {
                format!(
                    "; {} stopped at --max-replications {}",
                    progress.len() - met,
                    p.max_replications
                )
            } else {
                String::new()
            }
        );
    }
    if report.complete {
        crate::outln!(
            "wrote {} and {}",
            report.out.join("runs.csv").display(),
            report.out.join("points.csv").display()
        );
    } else {
        crate::outln!(
            "shard {shard} done: {} of the sweep's {} runs are in {}; combine the shards with `scalesim merge DIR…`",
            report.in_shard,
            report.total,
            report.out.display()
        );
    }
    Ok(())
}

fn merge_cmd(args: MergeArgs) -> Result<(), Failure> {
    let first = sweep::runner::read_manifest(&args.dirs[0])?;
    let out = match (&args.out, first) {
        (Some(o), _) => o.clone(),
        (None, Some(m)) => Path::new("out").join("sweeps").join(&m.name),
        (None, None) => args.dirs[0].clone(),
    };
    let report = sweep::merge(&args.dirs, &out)?;
    if report.dropped_lines > 0 {
        crate::errln!(
            "note: {} torn journal line(s) skipped (their runs were found elsewhere)",
            report.dropped_lines
        );
    }
    crate::outln!(
        "merged {} runs of {} from {} folder(s): wrote {} and {}",
        report.runs,
        report.manifest.name,
        args.dirs.len(),
        out.join("runs.csv").display(),
        out.join("points.csv").display()
    );
    Ok(())
}

fn plan_cmd(args: PlanArgs) -> Result<(), Failure> {
    let objective = sweep::plan::Objective::parse(&args.slo).map_err(|m| Failure {
        message: format!("error: {m}"),
        code: 2,
    })?;
    if args.threads == Some(0) {
        return Err(Failure {
            message: "error: --threads 0: give at least 1 (or leave it out for one per core)"
                .into(),
            code: 2,
        });
    }
    check_plan_flags(&args)?;
    let opts = sweep::plan::PlanOptions {
        experiment: args.experiment.clone(),
        variant: args.variant.clone(),
        sets: parse_sets(&args.sets, args.seed)?,
        objective,
        peak_rps: args.peak_rps,
        replications: args.replications,
        margin: args.margin,
        min_success: args.min_success,
        max_nodes: args.max_nodes,
        threads: args.threads,
    };
    crate::errln!("planning {} …", args.experiment.display());
    let report = sweep::plan::plan(&opts)?;
    crate::out!("{}", report.to_text(&opts));
    Ok(())
}

/// Refuses `plan` flags that would give a wrong conclusion or an endless search: a share
/// given as a percentage (`--min-success 99` for 0.99), a margin that is not a number.
fn check_plan_flags(args: &PlanArgs) -> Result<(), Failure> {
    let bad = |flag: String, msg: &str| Failure {
        message: format!("error: the flag {flag}: {msg}"),
        code: 2,
    };
    if !(0.0..=1.0).contains(&args.min_success) {
        let hint = if (1.0..=100.0).contains(&args.min_success) {
            format!(
                " (a share, not a percentage: {} is --min-success {})",
                args.min_success,
                args.min_success / 100.0
            )
        } else {
            String::new()
        };
        return Err(bad(
            format!("--min-success {}", args.min_success),
            &format!("must be a share between 0 and 1{hint}"),
        ));
    }
    if !args.margin.is_finite() || !(0.0..=10.0).contains(&args.margin) {
        return Err(bad(
            format!("--margin {}", args.margin),
            "must be a share between 0 and 10 (0.2 plans for 20% above the peak)",
        ));
    }
    if args.replications == 0 || args.replications > crate::sweep::plan::MAX_REPLICATIONS {
        return Err(bad(
            format!("--replications {}", args.replications),
            &format!(
                "must be between 1 and {}",
                crate::sweep::plan::MAX_REPLICATIONS
            ),
        ));
    }
    if args.max_nodes == 0 || args.max_nodes > 1000 {
        return Err(bad(
            format!("--max-nodes {}", args.max_nodes),
            "must be between 1 and 1000 (the most nodes a model may have)",
        ));
    }
    if !(args.peak_rps.is_finite() && args.peak_rps > 0.0) {
        return Err(bad(
            format!("--peak-rps {}", args.peak_rps),
            "must be a finite number of requests per second above 0",
        ));
    }
    Ok(())
}
