//! A validated sweep: the points (one value per axis), the variants, the replications and
//! one checked [`RunConfig`] per (point, variant). Every point is loaded and validated
//! before anything runs, so a bad value fails at once with the file, line and column.
//!
//! Runs are numbered in canonical order: point-major, then variant, then replication.
//! The [`Manifest`] is what the output folder keeps (`sweep.json`): enough to check that a
//! resumed or merged folder belongs to the same sweep and to write the result files.

use super::grid::{self, Axis};
use super::precision::{self, Precision};
use super::seeds::run_seed;
use super::shard::Shard;
use super::spec::SweepSpec;
use crate::config::budget::count_text;
use crate::config::load::{load_file, Loaded};
use crate::config::overrides::OverrideSource;
use crate::config::{load_experiment, ConfigError, Origin, Override, RunConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What a sweep's output folder records about it (`sweep.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The file format's version.
    pub format: u32,
    /// The sweep's name.
    pub name: String,
    /// The sweep file as given (informative: not compared between shards).
    pub sweep_file: String,
    /// The experiment file as resolved (informative: not compared between shards).
    pub experiment_file: String,
    /// The experiment's name.
    pub experiment: String,
    /// The sweep seed.
    pub seed: u64,
    /// Replications per point and variant; with a precision target, the batch size (at
    /// least 2) each point grows by.
    pub replications: u32,
    /// The axes' dotted paths, in file order (the CSV columns).
    pub axes: Vec<String>,
    /// Each point's value text on every axis.
    pub points: Vec<Vec<String>>,
    /// The variants run at every point, in order.
    pub variants: Vec<String>,
    /// The variant the others are compared with (with two or more variants).
    pub baseline: Option<String>,
    /// The resolved configuration's hash per point and variant (without the seed).
    pub config_hashes: Vec<Vec<String>>,
    /// The overrides common to every point (the sweep's `set` and `--set` flags), for the
    /// reproduce command.
    pub common_sets: Vec<(String, String)>,
    /// Replications until precise (`None`: exactly `replications` per point).
    #[serde(default)]
    pub precision: Option<Precision>,
    /// FNV-1a of the manifest's JSON with this field empty: `merge` and `--resume` refuse
    /// a manifest edited by hand, whose lists would no longer match the journal.
    #[serde(default)]
    pub checksum: String,
}

/// The manifest's current format: 2 added the checksum (and the journal's config hashes).
pub const FORMAT: u32 = 2;

/// Where run `run` sits: its point, variant and replication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunId {
    /// Canonical run index.
    pub run: usize,
    /// Point index.
    pub point: usize,
    /// Variant index.
    pub variant: usize,
    /// Replication, from 0.
    pub replication: u32,
}

impl Manifest {
    /// The replications a point may have: `replications`, or with a precision target its
    /// `max_replications` (run indices leave room for all of them).
    pub fn slots(&self) -> u32 {
        self.precision
            .as_ref()
            .map_or(self.replications, |p| p.max_replications)
    }

    /// The number of runs of the whole sweep; with a precision target, the most it can take.
    pub fn total_runs(&self) -> usize {
        self.points.len() * self.variants.len() * self.slots() as usize
    }

    /// Whether run `id` belongs to `shard`: runs are dealt round-robin by index, or with a
    /// precision target whole points are (a shard must see a point's every run to decide
    /// whether it needs another batch).
    pub fn in_shard(&self, shard: Shard, id: RunId) -> bool {
        if self.precision.is_some() {
            shard.contains(id.point)
        } else {
            shard.contains(id.run)
        }
    }

    /// Where run `run` sits.
    pub fn locate(&self, run: usize) -> RunId {
        let r = self.slots() as usize;
        let v = self.variants.len();
        RunId {
            run,
            point: run / (v * r),
            variant: (run / r) % v,
            replication: (run % r) as u32,
        }
    }

    /// The canonical index of (point, variant, replication).
    pub fn run_index(&self, point: usize, variant: usize, replication: u32) -> usize {
        (point * self.variants.len() + variant) * self.slots() as usize + replication as usize
    }

    /// The seed of a run: from the sweep seed, the point and the replication only.
    pub fn seed_of(&self, id: RunId) -> u64 {
        run_seed(self.seed, id.point, id.replication)
    }

    /// The baseline's variant index.
    pub fn baseline_index(&self) -> Option<usize> {
        let b = self.baseline.as_ref()?;
        self.variants.iter().position(|v| v == b)
    }

    /// Whether `other` describes the same sweep (file paths may differ between machines).
    pub fn same_sweep(&self, other: &Manifest) -> bool {
        let strip = |m: &Manifest| Manifest {
            sweep_file: String::new(),
            experiment_file: String::new(),
            checksum: String::new(),
            ..m.clone()
        };
        strip(self) == strip(other)
    }

    /// The command that reruns one run's point on its seed (every variant, like `run` does).
    pub fn reproduce(&self, id: RunId) -> String {
        let mut cmd = format!(
            "scalesim run {} --seed {}",
            self.experiment_file,
            self.seed_of(id)
        );
        let sets = self
            .common_sets
            .iter()
            .map(|(p, v)| (p.as_str(), v.as_str()))
            .chain(
                self.axes
                    .iter()
                    .zip(&self.points[id.point])
                    .map(|(p, v)| (p.as_str(), v.as_str())),
            );
        for (p, v) in sets {
            cmd.push_str(&format!(" --set '{p}={v}'"));
        }
        cmd
    }

    /// The checksum of the manifest's contents (every field but the checksum).
    fn compute_checksum(&self) -> String {
        let bare = Manifest {
            checksum: String::new(),
            ..self.clone()
        };
        let text = serde_json::to_string(&bare).expect("manifest serialises");
        crate::config::stable_hash_hex(text.as_bytes())
    }

    /// The manifest as pretty JSON, with its checksum.
    pub fn to_json(&self) -> String {
        let sealed = Manifest {
            checksum: self.compute_checksum(),
            ..self.clone()
        };
        serde_json::to_string_pretty(&sealed).expect("manifest serialises") + "\n"
    }

    /// Reads a manifest written by [`Manifest::to_json`], refusing one of another format,
    /// one whose checksum does not match (edited or damaged), and one whose lists do not
    /// fit together (so nothing that indexes them can go out of bounds).
    pub fn from_json(text: &str) -> Result<Manifest, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("is not JSON: {e}"))?;
        match value.get("format").and_then(|f| f.as_u64()) {
            Some(f) if f == u64::from(FORMAT) => {}
            Some(f) => {
                return Err(format!(
                    "was written in format {f} by another version of scalesim (this one reads format {FORMAT}); run the sweep again into a new folder"
                ))
            }
            None => return Err("is not a scalesim sweep manifest (no `format`)".into()),
        }
        let m: Manifest = serde_json::from_value(value)
            .map_err(|e| format!("is not a scalesim sweep manifest: {e}"))?;
        if m.checksum != m.compute_checksum() {
            return Err(format!(
                "was edited or damaged: its checksum ({}) does not match its contents, so the journal's runs cannot be placed; restore the file or run the sweep again into a new folder",
                if m.checksum.is_empty() { "missing" } else { &m.checksum }
            ));
        }
        m.check_shape().map_err(|why| {
            format!("is inconsistent ({why}); run the sweep again into a new folder")
        })?;
        Ok(m)
    }

    /// Checks that the manifest's lists fit together: what every reader of it relies on.
    pub fn check_shape(&self) -> Result<(), String> {
        if self.replications == 0 {
            return Err("replications is 0".into());
        }
        if let Some(p) = &self.precision {
            if self.replications < 2 {
                return Err("a precision target with batches of fewer than 2 replications".into());
            }
            p.check(self.replications)?;
        }
        if self.variants.is_empty() {
            return Err("no variants".into());
        }
        for (i, v) in self.variants.iter().enumerate() {
            if self.variants[..i].contains(v) {
                return Err(format!("the variant `{v}` is listed twice"));
            }
        }
        for (i, a) in self.axes.iter().enumerate() {
            if self.axes[..i].contains(a) {
                return Err(format!("the axis `{a}` is listed twice"));
            }
        }
        if self.points.is_empty() {
            return Err("no points".into());
        }
        if let Some(p) = self.points.iter().position(|p| p.len() != self.axes.len()) {
            return Err(format!(
                "point {p} has {} value(s) for {} axis/axes",
                self.points[p].len(),
                self.axes.len()
            ));
        }
        if self.config_hashes.len() != self.points.len() {
            return Err(format!(
                "{} row(s) of config_hashes for {} point(s)",
                self.config_hashes.len(),
                self.points.len()
            ));
        }
        if let Some(p) = self
            .config_hashes
            .iter()
            .position(|row| row.len() != self.variants.len())
        {
            return Err(format!(
                "config_hashes of point {p} has {} hash(es) for {} variant(s)",
                self.config_hashes[p].len(),
                self.variants.len()
            ));
        }
        match &self.baseline {
            Some(b) if !self.variants.contains(b) => {
                return Err(format!("the baseline `{b}` is not one of the variants"))
            }
            None if self.variants.len() > 1 => {
                return Err("no baseline for two or more variants".into())
            }
            _ => {}
        }
        self.points
            .len()
            .checked_mul(self.variants.len())
            .and_then(|n| n.checked_mul(self.slots() as usize))
            .ok_or("more runs than can be counted")?;
        Ok(())
    }
}

/// A validated sweep: its manifest and one configuration per (point, variant).
#[derive(Clone, Debug)]
pub struct Sweep {
    /// What the output folder records.
    pub manifest: Manifest,
    /// `configs[point][variant]`, with the experiment's seed (each run replaces it).
    pub configs: Vec<Vec<RunConfig>>,
    /// Its `description`, or else the first line of its leading comment.
    pub description: String,
}

/// Whether a file's text is a sweep (`Sweep(…)` after any leading comments).
pub fn is_sweep_text(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with("//"))
        .is_some_and(|l| {
            l.starts_with("Sweep") && !l[5..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        })
}

impl Sweep {
    /// Applies `--precision [FIGURE:]SHARE` (parsed: the figure if named, and the share)
    /// and `--max-replications N` over the sweep file's `precision`.
    pub fn override_precision(
        &mut self,
        flag: Option<(Option<String>, f64)>,
        max_replications: Option<u32>,
    ) -> Result<(), String> {
        let m = &mut self.manifest;
        let mut target = match (flag, m.precision.take()) {
            (Some((figure, within)), file) => Precision {
                figure: figure
                    .or_else(|| file.as_ref().map(|f| f.figure.clone()))
                    .unwrap_or_else(|| precision::DEFAULT_FIGURE.into()),
                within,
                max_replications: file
                    .map_or(precision::DEFAULT_MAX_REPLICATIONS, |f| f.max_replications),
            },
            (None, Some(file)) => file,
            (None, None) => {
                if max_replications.is_some() {
                    return Err(
                        "--max-replications bounds --precision: give --precision too (e.g. --precision 2%), or set `replications` in the sweep file".into(),
                    );
                }
                return Ok(());
            }
        };
        if let Some(n) = max_replications {
            target.max_replications = n;
        }
        m.replications = m.replications.max(2);
        target
            .check(m.replications)
            .map_err(|e| format!("--precision: {e}"))?;
        m.precision = Some(target);
        Ok(())
    }

    /// The configuration of run `id`, with its seed.
    pub fn config(&self, id: RunId) -> RunConfig {
        self.configs[id.point][id.variant].with_seed(self.manifest.seed_of(id))
    }
}

/// Finds the experiment a sweep names: as given, then beside the sweep file, then in each
/// folder above it (so `experiments/x.ron` works from `experiments/sweeps/`).
fn find_experiment(sweep_path: &Path, name: &str) -> PathBuf {
    let direct = PathBuf::from(name);
    if direct.is_absolute() || direct.exists() {
        return direct;
    }
    let mut dir = sweep_path.parent();
    while let Some(d) = dir {
        let candidate = d.join(name);
        if candidate.exists() {
            return candidate;
        }
        dir = d.parent().filter(|p| !p.as_os_str().is_empty());
    }
    direct
}

fn flag_origin(o: &Override) -> Origin {
    Origin::Flag(format!("--set {}={}", o.path, o.value))
}

/// The points the run limit leaves room for: `max_runs ÷ replications`, or an error when
/// the replications alone exceed it.
fn runs_left(spec: &SweepSpec) -> Result<u128, String> {
    let (max, reps) = (spec.max_runs as u128, spec.replications as u128);
    if reps > max {
        return Err(format!(
            "{} replications alone exceed the sweep's limit of {} runs: use fewer, or raise the limit with `max_runs: {}` in the sweep file",
            count_text(reps),
            count_text(max),
            reps
        ));
    }
    Ok(max / reps.max(1))
}

/// Checks the whole sweep's runs (points × variants × replications) against `max_runs`.
fn check_runs(
    spec: &SweepSpec,
    points: usize,
    variants: usize,
) -> Result<(), (&'static str, String)> {
    let runs = points as u128 * variants as u128 * spec.replications as u128;
    if runs > spec.max_runs as u128 {
        let field = if spec.variants.is_some() {
            "variants"
        } else {
            "replications"
        };
        return Err((
            field,
            format!(
                "the sweep has {} runs ({points} point(s) × {variants} variant(s) × {} replication(s)), more than its limit of {}: run fewer, or raise the limit with `max_runs: {runs}` in the sweep file",
                count_text(runs),
                spec.replications,
                count_text(spec.max_runs as u128),
            ),
        ));
    }
    Ok(())
}

/// Loads a sweep file, expands its axes and validates every point (with `cli_sets`
/// applied to every point, after the sweep's own `set`).
pub fn load_sweep(path: &Path, cli_sets: &[Override]) -> Result<Sweep, ConfigError> {
    let file: Loaded<SweepSpec> = load_file(path)?;
    let spec = &file.value;
    let err =
        |field: &str, msg: String| ConfigError::new(file.origin(field), Some(field.into()), msg);

    let name = spec.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sweep".into())
    });
    crate::config::resolve::check_variant_name(&name)
        .map_err(|m| err("name", m.replace("variant name", "sweep name")))?;
    if spec.replications == 0 {
        return Err(err("replications", "must be at least 1".into()));
    }
    // With a precision target, `replications` is the batch size: at least 2 for an interval.
    let replications = if spec.precision.is_some() {
        spec.replications.max(2)
    } else {
        spec.replications
    };
    let precision = match &spec.precision {
        None => None,
        Some(p) => {
            let target = Precision {
                figure: p
                    .figure
                    .clone()
                    .unwrap_or_else(|| precision::DEFAULT_FIGURE.into()),
                within: p.within,
                max_replications: p
                    .max_replications
                    .unwrap_or(precision::DEFAULT_MAX_REPLICATIONS),
            };
            target.check(replications).map_err(|m| {
                let field = m.split(':').next().unwrap_or("within").to_string();
                err(&format!("precision.{field}"), m)
            })?;
            Some(target)
        }
    };

    // Axis paths: well formed, distinct, and not also set by a flag.
    let mut seen = BTreeSet::new();
    for (i, a) in spec.axes.iter().enumerate() {
        let field = format!("axes.{i}.path");
        Override::parse_flag(&format!("{}=0", a.path)).map_err(|_| {
            err(
                &field,
                format!(
                    "`{}` is not a dotted field path such as model.nodes.count",
                    a.path
                ),
            )
        })?;
        if !seen.insert(a.path.clone()) {
            return Err(err(&field, format!("the path `{}` is swept twice", a.path)));
        }
        if let Some(o) = cli_sets.iter().find(|o| o.path == a.path) {
            return Err(ConfigError::new(
                flag_origin(o),
                Some(o.path.clone()),
                "this path is an axis of the sweep: its value comes from the axis, so it cannot also be set",
            ));
        }
    }
    // Sizes first, before any value or point is made: runs = points × variants × replications.
    let max_points = runs_left(spec).map_err(|m| err("replications", m))?;
    let axes: Vec<Axis> =
        grid::axes(&spec.axes, max_points).map_err(|(i, m)| err(&format!("axes.{i}.values"), m))?;
    let counts: Vec<u128> = axes.iter().map(|a| a.values.len() as u128).collect();
    if let Some(n) = grid::point_count(&counts, spec.combine).filter(|&n| n > max_points) {
        return Err(err(
            "axes",
            grid::too_many("the grid", n, "points", max_points),
        ));
    }
    let points = grid::points(&axes, spec.combine, max_points).map_err(|m| err("combine", m))?;

    let exp_path = find_experiment(path, &spec.experiment);
    // A missing or unreadable experiment is reported at the sweep's `experiment:` field.
    if let Err(e) = crate::config::load::read_text(&exp_path) {
        let tried = if exp_path.exists() {
            String::new()
        } else {
            let mut places = vec![PathBuf::from(&spec.experiment)];
            let mut dir = path.parent();
            while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
                places.push(d.join(&spec.experiment));
                dir = d.parent();
            }
            let places: Vec<String> = places.iter().map(|p| p.display().to_string()).collect();
            format!(" (looked for {})", places.join(", "))
        };
        return Err(err(
            "experiment",
            format!(
                "the experiment \"{}\" cannot be loaded: {}{tried}",
                spec.experiment, e.message
            ),
        ));
    }
    // Overrides common to every point: the sweep's `set`, then the flags.
    let mut common: Vec<(Override, Option<String>)> = spec
        .set
        .iter()
        .map(|(p, v)| {
            (
                Override {
                    path: p.clone(),
                    value: v.clone(),
                    source: OverrideSource::Flag,
                },
                Some(format!("set.{p}")),
            )
        })
        .collect();
    common.extend(cli_sets.iter().map(|o| (o.clone(), None)));

    let mut configs = Vec::with_capacity(points.len());
    let mut variants: Option<Vec<String>> = None;
    let mut experiment_name = String::new();
    for (pi, point) in points.iter().enumerate() {
        // (override, where the sweep file wrote it) — errors point back at the sweep file.
        let mut sets = common.clone();
        for (ai, &vi) in point.iter().enumerate() {
            sets.push((
                Override {
                    path: axes[ai].path.clone(),
                    value: axes[ai].values[vi].clone(),
                    source: OverrideSource::Flag,
                },
                Some(format!("axes.{ai}.values")),
            ));
        }
        let overrides: Vec<Override> = sets.iter().map(|(o, _)| o.clone()).collect();
        let exp = load_experiment(&exp_path, &overrides).map_err(|mut e| {
            if let Origin::Flag(text) = &e.origin {
                if let Some((o, Some(at))) = sets
                    .iter()
                    .rev()
                    .find(|(o, _)| format!("--set {}={}", o.path, o.value) == *text)
                {
                    e.origin = file.origin(at);
                    e.message = format!("{} = {}: {}", o.path, o.value, e.message);
                }
            }
            if !point.is_empty() {
                let at: Vec<String> = axes
                    .iter()
                    .zip(point)
                    .map(|(a, &vi)| format!("{}={}", a.path, a.values[vi]))
                    .collect();
                e.message = format!("{} (at point {pi}: {})", e.message, at.join(", "));
            }
            e
        })?;
        if pi == 0 {
            experiment_name = exp.name.clone();
            let all: Vec<String> = exp.runs.iter().map(|r| r.variant.clone()).collect();
            let chosen = match &spec.variants {
                None => all.clone(),
                Some(list) => {
                    if list.is_empty() {
                        return Err(err(
                            "variants",
                            "name at least one variant, or leave `variants` out to run them all"
                                .into(),
                        ));
                    }
                    for (i, v) in list.iter().enumerate() {
                        if !all.contains(v) {
                            return Err(err(
                                &format!("variants.{i}"),
                                format!(
                                    "the experiment has no variant \"{v}\"; it has: {}",
                                    all.join(", ")
                                ),
                            ));
                        }
                        if list[..i].contains(v) {
                            return Err(err(
                                &format!("variants.{i}"),
                                format!("\"{v}\" is listed twice"),
                            ));
                        }
                    }
                    list.clone()
                }
            };
            check_runs(spec, points.len(), chosen.len()).map_err(|(f, m)| err(f, m))?;
            let first = &exp.runs[0];
            let json_bytes = first.resolved_json().to_string().len();
            let pv = points.len() as u128 * chosen.len() as u128;
            let est = crate::config::budget::sweep_estimate(
                pv * spec.replications as u128,
                pv,
                axes.len(),
                json_bytes,
            );
            crate::config::budget::check_sweep(&est, first.spec.limits.max_memory_mb)
                .map_err(|(f, m)| err(&f, m))?;
            variants = Some(chosen);
        }
        let chosen = variants.as_ref().expect("set at the first point");
        let row: Vec<RunConfig> = chosen
            .iter()
            .map(|v| {
                exp.runs
                    .iter()
                    .find(|r| &r.variant == v)
                    .cloned()
                    .expect("variants are the same at every point")
            })
            .collect();
        configs.push(row);
    }
    let variants = variants.expect("there is always at least one point");
    let baseline = match &spec.baseline {
        Some(b) if !variants.contains(b) => {
            return Err(err(
                "baseline",
                format!(
                    "\"{b}\" is not one of the sweep's variants: {}",
                    variants.join(", ")
                ),
            ))
        }
        Some(b) => Some(b.clone()),
        None if variants.len() > 1 => Some(variants[0].clone()),
        None => None,
    };
    let manifest = Manifest {
        format: FORMAT,
        name,
        sweep_file: path.display().to_string(),
        experiment_file: exp_path.display().to_string(),
        experiment: experiment_name,
        seed: spec.seed,
        replications,
        axes: axes.iter().map(|a| a.path.clone()).collect(),
        points: points
            .iter()
            .map(|p| {
                p.iter()
                    .enumerate()
                    .map(|(ai, &vi)| axes[ai].values[vi].clone())
                    .collect()
            })
            .collect(),
        variants,
        baseline,
        config_hashes: configs
            .iter()
            .map(|row| row.iter().map(|c| c.config_hash.clone()).collect())
            .collect(),
        common_sets: common
            .iter()
            .map(|(o, _)| (o.path.clone(), o.value.clone()))
            .collect(),
        precision,
        checksum: String::new(),
    };
    let description = if spec.description.trim().is_empty() {
        crate::config::leading_comment(&file.text)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    } else {
        spec.description.trim().to_string()
    };
    Ok(Sweep {
        manifest,
        configs,
        description,
    })
}
