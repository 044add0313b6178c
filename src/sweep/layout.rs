//! A validated sweep: the points (one value per axis), the variants, the replications and
//! one checked [`RunConfig`] per (point, variant). Every point is loaded and validated
//! before anything runs, so a bad value fails at once with the file, line and column.
//!
//! Runs are numbered in canonical order: point-major, then variant, then replication.
//! The [`Manifest`] is what the output folder keeps (`sweep.json`): enough to check that a
//! resumed or merged folder belongs to the same sweep and to write the result files.

use super::grid::{self, Axis};
use super::seeds::run_seed;
use super::spec::SweepSpec;
use crate::config::load::{load_file, Loaded};
use crate::config::overrides::OverrideSource;
use crate::config::{load_experiment, ConfigError, Origin, Override, RunConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What a sweep's output folder records about it (`sweep.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Replications per point and variant.
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
}

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
    /// The number of runs of the whole sweep.
    pub fn total_runs(&self) -> usize {
        self.points.len() * self.variants.len() * self.replications as usize
    }

    /// Where run `run` sits.
    pub fn locate(&self, run: usize) -> RunId {
        let r = self.replications as usize;
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
        (point * self.variants.len() + variant) * self.replications as usize + replication as usize
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

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("manifest serialises") + "\n"
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
    let axes: Vec<Axis> =
        grid::axes(&spec.axes).map_err(|(i, m)| err(&format!("axes.{i}.values"), m))?;
    let points = grid::points(&axes, spec.combine).map_err(|m| err("combine", m))?;

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
        format: 1,
        name,
        sweep_file: path.display().to_string(),
        experiment_file: exp_path.display().to_string(),
        experiment: experiment_name,
        seed: spec.seed,
        replications: spec.replications,
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
