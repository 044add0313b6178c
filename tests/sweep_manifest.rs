//! `merge` and `--resume` check `sweep.json` before using it: an edited manifest (a
//! shortened list, another baseline, variant, axis or value) is refused with exit 2 and a
//! message naming the file, never a panic or CSVs whose header and rows disagree.

use scalesim::sweep::Manifest;
use serde_json::{json, Value};
use std::path::Path;

mod common;
use common::cli::{scalesim, scratch};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// One hand edit of the manifest's JSON.
type Edit = fn(&mut Value);

fn edits() -> Vec<(&'static str, Edit)> {
    vec![
        ("config_hashes shortened", |m| {
            m["config_hashes"].as_array_mut().unwrap().pop();
        }),
        ("a point's config_hashes shortened", |m| {
            m["config_hashes"][1].as_array_mut().unwrap().pop();
        }),
        ("points shortened", |m| {
            m["points"].as_array_mut().unwrap().pop();
        }),
        ("another baseline", |m| {
            m["baseline"] = json!("least-connections")
        }),
        ("no baseline", |m| m["baseline"] = Value::Null),
        ("a variant removed", |m| {
            m["variants"].as_array_mut().unwrap().pop();
        }),
        ("a variant renamed", |m| m["variants"][2] = json!("other")),
        ("an axis added", |m| {
            m["axes"]
                .as_array_mut()
                .unwrap()
                .push(json!("model.nodes.count"));
        }),
        ("an axis removed", |m| m["axes"] = json!([])),
        ("a value changed", |m| m["points"][0][0] = json!("950")),
        ("replications changed", |m| m["replications"] = json!(3)),
        ("the seed changed", |m| m["seed"] = json!(6)),
        ("checksum removed", |m| {
            m.as_object_mut().unwrap().remove("checksum");
        }),
        ("format changed", |m| m["format"] = json!(1)),
    ]
}

#[test]
fn an_edited_manifest_is_refused_by_merge_and_resume() {
    let d = scratch("edits");
    let sweep = d.join("sweep.ron");
    std::fs::write(
        &sweep,
        r#"Sweep(
    experiment: "experiments/balancer_policies.ron",
    seed: 5,
    replications: 2,
    axes: [Axis(path: "workload.rate_per_s", values: List([900, 1500]))],
    set: {"duration": "1s", "warmup": "500ms", "faults": "[]"},
)"#,
    )
    .unwrap();
    let sweep = sweep.display().to_string();
    let good = d.join("good");
    let out = scalesim(&[
        "sweep",
        &sweep,
        "--threads",
        "1",
        "--out",
        &good.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(good.join("sweep.json")).unwrap();
    let original: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(original["variants"].as_array().unwrap().len(), 3);
    assert_eq!(original["baseline"], json!("round-robin"));

    // Reformatted but unchanged: still accepted.
    let compact = d.join("compact");
    copy_dir(&good, &compact);
    std::fs::write(compact.join("sweep.json"), original.to_string()).unwrap();
    let merged = scalesim(&[
        "merge",
        &compact.display().to_string(),
        "--out",
        &d.join("compact-merged").display().to_string(),
    ]);
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(d.join("compact-merged/points.csv")).unwrap(),
        std::fs::read_to_string(good.join("points.csv")).unwrap()
    );

    for (i, (what, edit)) in edits().into_iter().enumerate() {
        let mut m = original.clone();
        edit(&mut m);
        assert_ne!(m, original, "{what}: the edit changes something");
        // Edited by hand (checksum stale), then the same edit re-sealed with a valid checksum
        // where serde can still read it: the shape check must catch what the checksum cannot.
        let mut versions = vec![("stale checksum", serde_json::to_string_pretty(&m).unwrap())];
        if let Ok(resealed) = serde_json::from_value::<Manifest>(m.clone()) {
            if resealed.check_shape().is_err() {
                versions.push(("fresh checksum", resealed.to_json()));
            }
        }
        for (j, (how, json_text)) in versions.into_iter().enumerate() {
            let dir = d.join(format!("edit{i}-{j}"));
            copy_dir(&good, &dir);
            std::fs::write(dir.join("sweep.json"), json_text).unwrap();
            let dir_s = dir.display().to_string();
            let merged_dir = d.join(format!("merged{i}-{j}"));
            let m = scalesim(&["merge", &dir_s, "--out", &merged_dir.display().to_string()]);
            let err = String::from_utf8_lossy(&m.stderr);
            assert_eq!(m.status.code(), Some(2), "merge, {what} ({how}): {err}");
            assert!(err.contains("sweep.json"), "merge, {what} ({how}): {err}");
            assert!(!err.contains("panicked"), "{what} ({how}): {err}");
            assert!(!merged_dir.join("points.csv").exists(), "{what} ({how})");
            let r = scalesim(&["sweep", &sweep, "--resume", "--out", &dir_s]);
            let err = String::from_utf8_lossy(&r.stderr);
            assert_eq!(r.status.code(), Some(2), "resume, {what} ({how}): {err}");
            assert!(!err.contains("panicked"), "{what} ({how}): {err}");
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_checksum_catches_an_edit_and_the_shape_check_a_resealed_one() {
    let text = |m: &Manifest| m.to_json();
    let m = Manifest {
        format: scalesim::sweep::layout::FORMAT,
        name: "s".into(),
        sweep_file: "s.ron".into(),
        experiment_file: "e.ron".into(),
        experiment: "e".into(),
        seed: 1,
        replications: 2,
        axes: vec!["a".into()],
        points: vec![vec!["1".into()], vec!["2".into()]],
        variants: vec!["x".into(), "y".into()],
        baseline: Some("x".into()),
        config_hashes: vec![vec!["h".into(), "h".into()], vec!["h".into(), "h".into()]],
        common_sets: vec![],
        precision: None,
        checksum: String::new(),
    };
    let back = Manifest::from_json(&text(&m)).expect("its own output reads back");
    assert!(back.same_sweep(&m));
    let edited = text(&m).replace("\"seed\": 1", "\"seed\": 2");
    assert!(Manifest::from_json(&edited)
        .unwrap_err()
        .contains("checksum"));
    let mut short = m.clone();
    short.config_hashes.pop();
    let err = Manifest::from_json(&text(&short)).unwrap_err();
    assert!(
        err.contains("1 row(s) of config_hashes for 2 point(s)"),
        "{err}"
    );
}
