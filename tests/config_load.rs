//! Loading configuration through the library: `--set` accepts every value a file accepts,
//! and loading work grows linearly with the number of variants.

use scalesim::config::load::{load_file, read_text};
use scalesim::config::locate::Locations;
use scalesim::config::overrides::OverrideSource;
use scalesim::config::{self, ExperimentSpec, ModelSpec, Override};
use std::path::{Path, PathBuf};

fn bundled(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no files in {dir}");
    files
}

/// The bundled files of `kind` (`models`, `experiments`) and the graph fixtures of that
/// kind (the graph form's files, until the engine runs them and they are bundled).
fn every(kind: &str) -> Vec<PathBuf> {
    let mut files = bundled(kind);
    files.extend(bundled(&format!("tests/fixtures/graph/{kind}")));
    files
}

/// Every top-level field written in `text`, with its value exactly as written.
fn top_level_fields(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    Locations::scan(text)
        .spans()
        .iter()
        .filter(|(path, _)| !path.is_empty() && !path.contains('.'))
        .map(|(path, &(s, e))| (path.clone(), chars[s..e].iter().collect::<String>()))
        .collect()
}

fn flag(path: &str, value: &str) -> Override {
    Override {
        path: path.to_string(),
        value: value.trim().to_string(),
        source: OverrideSource::Flag,
    }
}

/// The parts of a run configuration an override could change.
fn resolved(r: &config::RunConfig) -> (String, ExperimentSpec, ModelSpec, String) {
    (
        r.variant.clone(),
        r.spec.clone(),
        r.model.clone(),
        r.config_hash.clone(),
    )
}

/// Whether the file's own `set` lists (the experiment's, or the variant's) change `field`:
/// a `--set` of the field replaces what they set, so those runs may differ.
fn set_in_file(spec: &ExperimentSpec, variant: &str, field: &str) -> bool {
    // Variant names in a path are transparent (`model.System.caches` is `model.caches`).
    let bare = |p: &str| {
        p.split('.')
            .filter(|seg| !seg.starts_with(|c: char| c.is_ascii_uppercase()))
            .collect::<Vec<_>>()
            .join(".")
    };
    let field = bare(field);
    let touches = |p: &String| {
        let p = bare(p);
        p == field || p.starts_with(&format!("{field}."))
    };
    spec.set.keys().any(touches)
        || spec
            .variants
            .get(variant)
            .is_some_and(|v| v.set.keys().any(touches))
}

/// For each top-level field of each bundled experiment and of the model it names, setting
/// the field through `--set` to its own text in the file leaves every run unchanged (but
/// those whose `set` in the file changes that field, which the flag overrides).
#[test]
fn every_field_of_every_bundled_experiment_round_trips_through_set() {
    let mut checked = 0;
    let mut graphs = 0;
    for path in every("experiments") {
        let base = config::load_experiment(&path, &[]).unwrap();
        graphs += usize::from(base.runs[0].model.is_graph());
        let want: Vec<_> = base.runs.iter().map(resolved).collect();
        let text = read_text(&path).unwrap();
        let spec: ExperimentSpec = load_file(&path).unwrap().value;
        for (field, value) in top_level_fields(&text) {
            if config::overrides::structural_field(&field).is_some() {
                continue;
            }
            let got = config::load_experiment(&path, &[flag(&field, &value)])
                .unwrap_or_else(|e| panic!("{}: --set {field}={value}: {e}", path.display()));
            for (g, (b, w)) in got.runs.iter().zip(base.runs.iter().zip(&want)) {
                if !set_in_file(&spec, &b.variant, &field) {
                    assert_eq!(&resolved(g), w, "{}: --set {field}", path.display());
                    checked += 1;
                }
            }
        }
        // The model's fields, in the variants built from the experiment's own model.
        let Some(model) = spec.model.clone() else {
            continue;
        };
        let model_path = config::load::resolve_relative(&path, &model);
        let model_text = read_text(&model_path).unwrap();
        let own_models = base.runs.iter().any(|r| r.model_path != model_path);
        for (field, value) in top_level_fields(&model_text) {
            let got =
                match config::load_experiment(&path, &[flag(&format!("model.{field}"), &value)]) {
                    Ok(got) => got,
                    // A `--set model.…` reaches every variant, also those built from a model of
                    // their own, where the experiment's model's value may not fit (the two-database
                    // shop's requests name a database the one-database shop's `databases` lacks).
                    Err(e) if own_models && e.to_string().contains("model.") => continue,
                    Err(e) => panic!("{}: --set model.{field}={value}: {e}", path.display()),
                };
            for (g, (b, w)) in got.runs.iter().zip(base.runs.iter().zip(&want)) {
                if b.model_path == model_path
                    && !set_in_file(&spec, &b.variant, &format!("model.{field}"))
                {
                    assert_eq!(&resolved(g), w, "{}: --set model.{field}", path.display());
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} fields checked");
    assert!(graphs > 0, "no experiment on a graph model");
}

/// The same for every bundled model, each in the minimal experiment `check` gives it.
#[test]
fn every_field_of_every_bundled_model_round_trips_through_set() {
    let mut graphs = 0;
    for path in every("models") {
        let text = read_text(&path).unwrap();
        let model: ModelSpec = load_file(&path).unwrap().value;
        graphs += usize::from(model.is_graph());
        let exp = config::check_experiment_text(&model);
        let base = config::single_run_with_overrides(&exp, &text, &[]).unwrap();
        let fields = top_level_fields(&text);
        assert!(fields.len() >= 2, "{}", path.display());
        for (field, value) in fields {
            let o = flag(&format!("model.{field}"), &value);
            let got = config::single_run_with_overrides(&exp, &text, &[o])
                .unwrap_or_else(|e| panic!("{}: --set model.{field}={value}: {e}", path.display()));
            assert_eq!(
                resolved(&got),
                resolved(&base),
                "{}: {field}",
                path.display()
            );
        }
    }
    assert!(graphs > 0, "no graph model");
}

/// Every value written in `text` (a field, a list entry, a map entry, an enum variant's
/// contents, at any depth), by its dotted path, with its text as written.
fn every_value(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    Locations::scan(text)
        .spans()
        .iter()
        .filter(|(path, _)| !path.is_empty())
        .map(|(path, &(s, e))| (path.clone(), chars[s..e].iter().collect::<String>()))
        .collect()
}

/// Deeper than the top level: every value of the graph fixtures, down to a step of a path
/// (`model.requests.search.2.branches.1.0`), a link (`model.network.links.api->main`), a
/// population's burst and a fault's instance, set through `--set` to its own text, leaves
/// every run unchanged.
#[test]
fn every_value_of_the_graph_fixtures_round_trips_through_set() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/graph/experiments/graph_example.ron");
    let base = config::load_experiment(&path, &[]).unwrap();
    let want: Vec<_> = base.runs.iter().map(resolved).collect();
    let spec: ExperimentSpec = load_file(&path).unwrap().value;
    let model_path = config::load::resolve_relative(&path, spec.model.as_deref().unwrap());
    let mut fields: Vec<(String, String)> = every_value(&read_text(&path).unwrap())
        .into_iter()
        .filter(|(f, _)| config::overrides::structural_field(f).is_none())
        .collect();
    let model_fields = every_value(&read_text(&model_path).unwrap());
    fields.extend(
        model_fields
            .into_iter()
            .map(|(f, v)| (format!("model.{f}"), v)),
    );
    for must in [
        "model.requests.search.2.branches.1.0",
        "model.requests.search.2.Parallel.wait_for",
        "model.network.links.api->main",
        "model.services.api.slowdown.Linear.k",
        "model.counters.orders.rows.buckets",
        "populations.crawler.workload.Burst.count",
        "populations.shoppers.workload.Users.shape",
        "populations.shoppers.workload.shape.Ramp.from",
        "faults.0.instance",
    ] {
        assert!(fields.iter().any(|(f, _)| f == must), "{must} not scanned");
    }
    let mut checked = 0;
    for (field, value) in &fields {
        let got = config::load_experiment(&path, &[flag(field, value)])
            .unwrap_or_else(|e| panic!("--set {field}={value}: {e}"));
        for (g, (b, w)) in got.runs.iter().zip(base.runs.iter().zip(&want)) {
            if !set_in_file(&spec, &b.variant, field) {
                assert_eq!(&resolved(g), w, "--set {field}={value}");
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} values checked");
}

/// `--set` changes a graph model's values deep inside, and the same rules then apply to
/// them as in a file.
#[test]
fn set_changes_graph_values_and_checks_them() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/graph/experiments/graph_example.ron");
    let load = |sets: &[(&str, &str)]| {
        let flags: Vec<Override> = sets.iter().map(|(p, v)| flag(p, v)).collect();
        config::load_experiment(&path, &flags)
    };
    use scalesim::config::graph::{PopulationWorkload, StepSpec, WaitFor};
    let e = load(&[
        ("model.services.api.instances", "3"),
        ("model.requests.browse.2", "Read(\"main\")"),
        ("model.requests.search.2.wait_for", "All"),
        ("populations.crawler.workload.count", "10"),
        ("faults.0.instance", "2"),
        ("model.network.links.api->main", "Exp(mean: \"1ms\")"),
    ])
    .unwrap();
    let run = &e.runs[0];
    let m = &run.model;
    assert_eq!(m.services["api"].instances, 3);
    assert_eq!(m.requests["browse"][2], StepSpec::Read("main".into()));
    assert!(matches!(
        m.requests["search"][2],
        StepSpec::Parallel {
            wait_for: WaitFor::All,
            ..
        }
    ));
    assert!(matches!(
        run.spec.populations["crawler"].workload,
        PopulationWorkload::Burst { count: 10, .. }
    ));
    assert_eq!(
        m.network.links["api->main"],
        scalesim::config::DistSpec::Exp {
            mean: config::Duration::from_millis(1)
        }
    );
    // The fault's instance 2 exists only because api now has 3.
    let err = load(&[("faults.0.instance", "2")]).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("faults.0.instance"), "{err}");
    assert!(
        err.message
            .contains("`api` has 2 instance(s), numbered 0 to 1"),
        "{err}"
    );
    assert!(
        err.to_string().contains("--set faults.0.instance=2"),
        "{err}"
    );
    let err = load(&[("model.requests.browse.0", "Get(\"catalog\")")]).unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("model.requests.browse.0"),
        "{err}"
    );
    assert!(err.message.contains("the first step must be Call"), "{err}");
    let err = load(&[("model.caches.catalog.database", "\"mian\"")]).unwrap_err();
    assert!(err.message.contains("Did you mean `main`?"), "{err}");
}

/// An experiment with `n` variants, each with its own `set`.
fn many_variants(dir: &Path, n: usize) -> PathBuf {
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/three_nodes.ron"),
        dir.join("m.ron"),
    )
    .unwrap();
    let variants: Vec<String> = (0..n)
        .map(|i| format!("    \"v{i}\": Variant(set: {{\"seed\": \"{i}\", \"model.nodes.workers\": \"{}\"}}),", 1 + i % 7))
        .collect();
    let text = format!(
        "Experiment(\n  model: \"m.ron\",\n  duration: \"10s\",\n  workload: Open(rate_per_s: 10.0),\n  variants: {{\n{}\n  }},\n)\n",
        variants.join("\n")
    );
    let path = dir.join(format!("many_{n}.ron"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Loading 4,000 variants took 20 s and 2.8 GB: every variant's configuration held, and
/// every resolution serialised, a copy of all the variants. The work (bytes of
/// configuration written and read while loading) and what the loaded runs hold must grow
/// linearly: doubling the variants may at most double them, with a little slack.
#[test]
fn loading_work_and_memory_grow_linearly_with_the_number_of_variants() {
    let dir = std::env::temp_dir().join(format!("scalesim-many-variants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let measure = |n: usize| {
        let path = many_variants(&dir, n);
        let before = config::work::bytes();
        let exp = config::load_experiment(&path, &[]).unwrap();
        let work = config::work::bytes() - before;
        assert_eq!(exp.runs.len(), n);
        assert_eq!(exp.runs[n - 1].seed(), (n - 1) as u64);
        assert_eq!(
            exp.runs[n - 1].model.tier().workers,
            1 + ((n - 1) % 7) as u32
        );
        let held: usize = exp
            .runs
            .iter()
            .map(|r| serde_json::to_string(&r.spec).unwrap().len())
            .sum();
        (work, held)
    };
    let (work_1k, held_1k) = measure(1000);
    let (work_2k, held_2k) = measure(2000);
    let _ = std::fs::remove_dir_all(&dir);
    let work_ratio = work_2k as f64 / work_1k as f64;
    let held_ratio = held_2k as f64 / held_1k as f64;
    assert!(
        work_ratio < 2.2,
        "work {work_1k} → {work_2k} bytes (×{work_ratio:.2})"
    );
    assert!(
        held_ratio < 2.2,
        "held {held_1k} → {held_2k} bytes (×{held_ratio:.2})"
    );
}
