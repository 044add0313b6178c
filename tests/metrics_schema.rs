//! The metrics schema at the configuration's edge: a graph experiment's claims are checked,
//! when it loads, against its components' declared figures (`db.main.peak_qps`), keyed by
//! the names the model gives them; a single-tier experiment's claims keep their paths.

use scalesim::config::load_experiment;
use scalesim::metrics::schema::{graph_figure_paths, DATABASE, POPULATION, SERVICE};
use std::path::PathBuf;

const MODEL: &str = r#"System(
    services: { "web": Service(instances: 2, workers: 8, service: Exp(mean: "5ms")) },
    databases: { "main": Database(workers: 8, read: Exp(mean: "4ms"), write: Exp(mean: "9ms")) },
    requests: { "browse": [Call("web"), Read("main")] },
)
"#;

/// Writes the graph model and an experiment on it whose `expect` is `claim` (line 6).
fn experiment(name: &str, claim: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scalesim-schema-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.ron"), MODEL).unwrap();
    let text = format!(
        r#"Experiment(
    model: "model.ron",
    duration: "10s",
    populations: {{ "shoppers": Population(workload: Open(rate_per_s: 50.0), mix: {{"browse": 1.0}}) }},
    expect: [
        "{claim}",
    ],
)
"#
    );
    let path = dir.join("exp.ron");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_graph_experiments_claims_name_its_components_figures() {
    for claim in [
        "baseline.db.main.peak_qps > 10",
        "*.service.web.utilisation < 0.9",
        "baseline.population.shoppers.success_share >= 0.99",
        "baseline.requests.succeeded > 0.5 * baseline.requests.issued",
    ] {
        let exp = load_experiment(&experiment("ok", claim), &[])
            .unwrap_or_else(|e| panic!("{claim}: {e}"));
        assert_eq!(exp.claims.len(), 1, "{claim}");
        let paths = graph_figure_paths(&exp.runs[0].model, &["shoppers".into()]);
        assert_eq!(
            paths.len(),
            SERVICE.figures.len() + DATABASE.figures.len() + POPULATION.figures.len()
        );
    }
}

#[test]
fn a_claim_on_a_figure_the_graph_does_not_have_is_an_error_naming_the_line() {
    let cases = [
        ("baseline.db.main.peak_qsp > 10", "did you mean `peak_qps`?"),
        (
            "baseline.db.orders.peak_qps > 10",
            "no component `db.orders`; its `db` components: db.main",
        ),
        (
            "baseline.cache.catalog.hit_ratio > 0.5",
            "no `cache` component",
        ),
        (
            "baseline.availability.requests_share > 0.5",
            "has no `availability`",
        ),
        ("baseline.db.main > 10", "group of figures"),
    ];
    for (claim, says) in cases {
        let path = experiment("bad", claim);
        let e = load_experiment(&path, &[]).unwrap_err().to_string();
        assert!(e.contains(says), "{claim}: {e}");
        assert!(e.contains("exp.ron:6"), "{claim}: names the line: {e}");
    }
}

#[test]
fn the_readme_lists_the_schema_as_declared() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = scalesim::metrics::schema::reference_markdown();
    assert!(
        readme.contains(&table),
        "README.md's metrics schema differs from the code's; paste this in its place:\n{table}"
    );
}
