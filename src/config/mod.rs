//! Configuration: raw serde structs for models and experiments, and their validation into
//! run configurations.
//!
//! Parsing happens in two stages (as ripgrep's flags do): RON → raw structs with
//! `deny_unknown_fields`, then overrides and cross-field checks → [`RunConfig`]s. Every
//! error names the file, line and column (or the flag) and says what was expected.

pub mod budget;
pub mod distribution;
pub mod duration;
pub mod error;
pub mod experiment;
mod fault;
pub mod graph;
pub mod guard;
pub mod load;
pub mod locate;
pub mod model;
pub mod overrides;
pub mod resolve;
pub mod rules;
pub mod shorthand;
pub mod work;

pub use distribution::DistSpec;
pub use duration::Duration;
pub use error::{ConfigError, Origin};
pub use experiment::ExperimentSpec;
pub use model::ModelSpec;
pub use overrides::Override;

use load::{load_file, parse_ron, read_text, resolve_relative, Loaded};
use overrides::OverrideSource;
use resolve::Provenance;
use std::path::{Path, PathBuf};

/// One resolved, validated (experiment, variant): everything a run needs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The experiment's name.
    pub experiment: String,
    /// The variant's name ("baseline" when the experiment has no variants).
    pub variant: String,
    /// The experiment after every override.
    pub spec: ExperimentSpec,
    /// The variant's model after every override.
    pub model: ModelSpec,
    /// The model file the variant was built from.
    pub model_path: PathBuf,
    /// A stable hash of the resolved configuration without the seed (FNV-1a, hex).
    pub config_hash: String,
}

impl RunConfig {
    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.spec.seed
    }

    /// The same configuration under another seed (the hash does not change: it excludes
    /// the seed, so replications of one configuration share it).
    pub fn with_seed(&self, seed: u64) -> RunConfig {
        let mut c = self.clone();
        c.spec.seed = seed;
        c
    }

    /// The resolved configuration as JSON (written beside the summary).
    pub fn resolved_json(&self) -> serde_json::Value {
        let mut tree = serde_json::to_value(&self.spec).expect("serialises");
        tree["model"] = serde_json::to_value(&self.model).expect("serialises");
        tree
    }
}

/// A loaded experiment: its variants, each a validated [`RunConfig`], in file order.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The experiment's name (its `name` field, or the file name without `.ron`).
    pub name: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// Its `description`, or else the first line of its leading comment block.
    pub description: String,
    /// The leading `//` comment block: what it shows and what to look for.
    pub comment: String,
    /// One validated configuration per variant.
    pub runs: Vec<RunConfig>,
    /// Its `expect` claims, validated against its variants and the summary's shape.
    pub claims: Vec<crate::claims::Claim>,
}

/// The leading `//` comment block of a file, without the slashes.
pub fn leading_comment(text: &str) -> String {
    text.lines()
        .take_while(|l| l.trim_start().starts_with("//") || l.trim().is_empty())
        .filter_map(|l| l.trim_start().strip_prefix("//"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn first_sentence(description: &str, comment: &str) -> String {
    if !description.trim().is_empty() {
        return description.trim().to_string();
    }
    comment
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// FNV-1a 64 over bytes, as 16 hex digits: stable across platforms and Rust versions.
pub fn stable_hash_hex(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn config_hash(spec: &ExperimentSpec, model: &ModelSpec) -> String {
    let mut tree = serde_json::to_value(spec).expect("serialises");
    let obj = tree.as_object_mut().expect("a struct");
    for key in [
        "seed",
        "name",
        "description",
        "variants",
        "set",
        "model",
        "expect",
    ] {
        obj.remove(key);
    }
    // The memory and periodic-event limits at their defaults hash as before they existed
    // (golden hashes stay valid); raised, they are part of the configuration.
    if let Some(l) = obj.get_mut("limits").and_then(|l| l.as_object_mut()) {
        let defaults = budget::default_limit_values();
        for (key, default) in defaults {
            if l.get(key).and_then(|v| v.as_u64()) == Some(default) {
                l.remove(key);
            }
        }
    }
    let mut model = serde_json::to_value(model).expect("serialises");
    if let Some(m) = model.as_object_mut() {
        m.remove("description");
        // No cache hashes as before caches existed (golden hashes stay valid).
        if m.get("cache").is_some_and(|c| c.is_null()) {
            m.remove("cache");
        }
        if let Some(b) = m.get_mut("balancer").and_then(|b| b.as_object_mut()) {
            if b.get("slow_start").is_some_and(|s| s.is_null()) {
                b.remove("slow_start");
            }
        }
    }
    tree["model"] = model;
    let text = tree.to_string();
    work::add(text.len());
    stable_hash_hex(text.as_bytes())
}

/// Loads an experiment file, its models, applies the file's and the command line's
/// overrides (`cli_sets`, in order) and validates every variant.
pub fn load_experiment(path: &Path, cli_sets: &[Override]) -> Result<Experiment, ConfigError> {
    let mut exp: Loaded<ExperimentSpec> = load_file(path)?;
    let name = exp.value.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "experiment".into())
    });
    if let Err(msg) = resolve::check_variant_name(&name) {
        return Err(ConfigError::new(
            exp.origin("name"),
            Some("name".into()),
            msg,
        ));
    }
    let comment = leading_comment(&exp.text);
    let description = first_sentence(&exp.value.description, &comment);

    // The variants are taken out of the experiment each of them is resolved against: a
    // copy of all of them in every variant's configuration made loading quadratic in
    // their number (4,000 variants: 20 s and 2.8 GB).
    let mut variants: Vec<(String, experiment::VariantSpec, String)> =
        std::mem::take(&mut exp.value.variants)
            .into_iter()
            .map(|(k, v)| {
                let at = format!("variants.{k}");
                (k, v, at)
            })
            .collect();
    if variants.is_empty() {
        variants.push(("baseline".into(), Default::default(), String::new()));
    }

    // Each model file is read once, however many variants share it.
    let mut models: std::collections::BTreeMap<PathBuf, Loaded<ModelSpec>> = Default::default();
    let mut runs = Vec::with_capacity(variants.len());
    for (vname, variant, vpath) in variants {
        if let Err(msg) = resolve::check_variant_name(&vname) {
            return Err(ConfigError::new(exp.origin(&vpath), Some(vpath), msg));
        }
        let (model_name, model_field) = match (&variant.model, &exp.value.model) {
            (Some(m), _) => (m.clone(), format!("{vpath}.model")),
            (None, Some(m)) => (m.clone(), "model".to_string()),
            (None, None) => {
                return Err(ConfigError::new(
                    exp.origin("model"),
                    Some("model".into()),
                    format!(
                        "variant \"{vname}\" has no model: give the experiment a `model: \"models/….ron\"` or the variant its own"
                    ),
                ))
            }
        };
        let model_path = resolve_relative(path, &model_name);
        if !models.contains_key(&model_path) {
            let model_text = read_text(&model_path).map_err(|e| {
                let tried = if model_path.exists() {
                    String::new()
                } else {
                    let places: Vec<String> = load::candidates(path, &model_name)
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect();
                    format!(" (looked for {})", places.join(", "))
                };
                ConfigError::new(
                    exp.origin(&model_field),
                    Some(model_field.clone()),
                    format!(
                        "the model \"{model_name}\" cannot be loaded: {}{tried}",
                        e.message
                    ),
                )
            })?;
            let loaded: Loaded<ModelSpec> = parse_ron(&model_path, &model_text)?;
            models.insert(model_path.clone(), loaded);
        }
        let model = &models[&model_path];

        let mut overrides = Vec::new();
        for (p, v) in &exp.value.set {
            overrides.push(Override {
                path: p.clone(),
                value: v.clone(),
                source: OverrideSource::File(format!("set.{p}")),
            });
        }
        for (p, v) in &variant.set {
            overrides.push(Override {
                path: p.clone(),
                value: v.clone(),
                source: OverrideSource::File(format!("{vpath}.set.{p}")),
            });
        }
        overrides.extend(cli_sets.iter().cloned());

        let prov = Provenance {
            experiment: &exp,
            model,
            overrides: &overrides,
        };
        let (spec, model_spec) = resolve::resolve(&prov)?;
        let config_hash = config_hash(&spec, &model_spec);
        runs.push(RunConfig {
            experiment: name.clone(),
            variant: vname,
            spec,
            model: model_spec,
            model_path,
            config_hash,
        });
    }
    // `run` runs the variants side by side: together they must fit too.
    if let Err(msg) = budget::check_together(&runs) {
        return Err(ConfigError::new(
            exp.origin("variants"),
            Some("variants".into()),
            msg,
        ));
    }
    let names: Vec<String> = runs.iter().map(|r| r.variant.clone()).collect();
    let shape = crate::claims::Shape::of(&runs);
    let mut claims = Vec::with_capacity(exp.value.expect.len());
    for (i, text) in exp.value.expect.iter().enumerate() {
        let field = format!("expect.{i}");
        let claim = crate::claims::parse_in(text, &names, &shape).map_err(|m| {
            ConfigError::new(
                exp.origin(&field),
                Some(field.clone()),
                format!("claim \"{text}\": {m}"),
            )
        })?;
        claims.push(claim);
    }
    Ok(Experiment {
        name,
        path: path.to_path_buf(),
        description,
        comment,
        runs,
        claims,
    })
}

/// What kind of file a `.ron` file is, judged by its top-level struct name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `System(…)`: a model.
    Model,
    /// `Experiment(…)`: an experiment.
    Experiment,
}

/// Judges a file's kind from its first identifier, else from its folder.
pub fn file_kind(path: &Path, text: &str) -> FileKind {
    let body: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let ident: String = body
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    match ident.as_str() {
        "System" => FileKind::Model,
        "Experiment" => FileKind::Experiment,
        _ if path.components().any(|c| c.as_os_str() == "models") => FileKind::Model,
        _ => FileKind::Experiment,
    }
}

/// Validates a model or experiment file without running it; returns a one-line description.
pub fn check_file(path: &Path) -> Result<String, ConfigError> {
    let text = read_text(path)?;
    match file_kind(path, &text) {
        FileKind::Model => {
            // A model alone is checked against a minimal experiment so its cross-field rules run.
            let model: Loaded<ModelSpec> = parse_ron(path, &text)?;
            let exp_text = check_experiment_text(&model.value).replacen(
                "Experiment(",
                &format!("Experiment(model: {:?}, ", path.display().to_string()),
                1,
            );
            let exp: Loaded<ExperimentSpec> = parse_ron(Path::new("(built-in check)"), &exp_text)?;
            let prov = Provenance {
                experiment: &exp,
                model: &model,
                overrides: &[],
            };
            resolve::resolve(&prov)?;
            let description = first_sentence(&model.value.description, &leading_comment(&text));
            Ok(match describe_graph(&model.value) {
                Some(parts) => format!("graph model ({parts}): {description}"),
                None => format!("model: {description}"),
            })
        }
        FileKind::Experiment => {
            let e = load_experiment(path, &[])?;
            Ok(format!(
                "experiment with {} variant(s): {}",
                e.runs.len(),
                e.description
            ))
        }
    }
}

/// The minimal experiment a model alone is checked in (by `scalesim check` and the
/// tests): one second, with every request kind the model names given a share, so that
/// its own references to them are checked. A single-tier model gets a closed population of
/// ten users; a graph model one open population per client named as the start of a
/// network link (else one called `clients`), sending each request kind.
pub fn check_experiment_text(m: &ModelSpec) -> String {
    let shares = |kinds: &[&String]| -> String {
        let mix: Vec<String> = kinds.iter().map(|k| format!("{k:?}: 1.0")).collect();
        format!("{{{}}}", mix.join(", "))
    };
    if !m.is_graph() {
        let mut kinds: Vec<&String> = m
            .nodes
            .iter()
            .flat_map(|n| n.service_by_kind.keys())
            .collect();
        if let Some(l) = &m.locks {
            kinds.push(&l.kind);
        }
        return format!(
            "Experiment(duration: \"1s\", workload: Users(count: 10, think: Exp(mean: \"1s\"), mix: {}))",
            shares(&kinds)
        );
    }
    let kinds: Vec<&String> = m.requests.keys().collect();
    let mut clients: Vec<&str> = Vec::new();
    for link in m.network.links.keys() {
        if let Some((from, _)) = link.split_once("->") {
            if !m.services.contains_key(from) && !clients.contains(&from) {
                clients.push(from);
            }
        }
    }
    if clients.is_empty() {
        // A name no service or database has: the three share one namespace.
        let free = ["clients", "check_clients", "model_check_clients"]
            .into_iter()
            .find(|c| !m.services.contains_key(*c) && !m.databases.contains_key(*c));
        clients.push(free.unwrap_or("clients"));
    }
    let populations: Vec<String> = clients
        .iter()
        .map(|c| {
            format!(
                "{c:?}: Population(workload: Open(rate_per_s: 1.0), mix: {})",
                shares(&kinds)
            )
        })
        .collect();
    format!(
        "Experiment(duration: \"1s\", populations: {{{}}})",
        populations.join(", ")
    )
}

/// A graph model's components in a few words: "services web ×4, api ×2; databases main;
/// caches catalog"; `None` for a single-tier model.
pub fn describe_graph(m: &ModelSpec) -> Option<String> {
    if !m.is_graph() {
        return None;
    }
    let services: Vec<String> = m
        .services
        .iter()
        .map(|(name, s)| format!("{name} ×{}", s.instances))
        .collect();
    let mut parts = vec![format!("services {}", services.join(", "))];
    let names = |what: &str, keys: Vec<&String>| {
        (!keys.is_empty()).then(|| {
            let keys: Vec<&str> = keys.into_iter().map(String::as_str).collect();
            format!("{what} {}", keys.join(", "))
        })
    };
    parts.extend(names("databases", m.databases.keys().collect()));
    parts.extend(names("caches", m.caches.keys().collect()));
    parts.extend(names("counters", m.counters.keys().collect()));
    parts.extend(names("queues", m.queues.keys().collect()));
    Some(parts.join("; "))
}

/// Builds one run from RON texts of an experiment and a model (used by `validate`, which
/// composes its textbook queue through the same parsing and checks as a file would get).
pub fn single_run_from_texts(
    experiment_text: &str,
    model_text: &str,
) -> Result<RunConfig, ConfigError> {
    single_run_with_overrides(experiment_text, model_text, &[])
}

/// [`single_run_from_texts`] with overrides applied as `--set` flags would be (used by the
/// property tests and the fuzz target).
pub fn single_run_with_overrides(
    experiment_text: &str,
    model_text: &str,
    overrides: &[Override],
) -> Result<RunConfig, ConfigError> {
    let exp: Loaded<ExperimentSpec> =
        parse_ron(Path::new("(built-in experiment)"), experiment_text)?;
    let model: Loaded<ModelSpec> = parse_ron(Path::new("(built-in model)"), model_text)?;
    let prov = Provenance {
        experiment: &exp,
        model: &model,
        overrides,
    };
    let (spec, model_spec) = resolve::resolve(&prov)?;
    Ok(RunConfig {
        experiment: spec.name.clone().unwrap_or_else(|| "built-in".into()),
        variant: "baseline".into(),
        config_hash: config_hash(&spec, &model_spec),
        spec,
        model: model_spec,
        model_path: PathBuf::from("(built-in model)"),
    })
}
