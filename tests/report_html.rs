//! Plots and report.html: structure checked without a browser (always), and rendered in
//! headless Chromium (ignored by default: needs `chromium`; `.ci/run` runs it with
//! `cargo test -- --ignored`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scalesim"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scalesim-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "scalesim failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Runs the balancer-policies experiment (3 variants, a crash) into `dir`.
fn run_into(dir: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        "experiments/balancer_policies.ron",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(bin().args(&args).output().unwrap());
}

fn svg_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("plots"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".svg").map(str::to_string))
        .collect();
    v.sort();
    v
}

#[test]
fn run_writes_plots_and_a_self_contained_report() {
    let dir = tmp("run");
    run_into(&dir, &[]);
    let names = svg_names(&dir);
    for expected in [
        "goodput",
        "load",
        "latency",
        "queue_len",
        "busy_workers",
        "errors",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "no {expected}.svg in {names:?}"
        );
    }
    // No chart for components the model does not have.
    for absent in ["cache_hit_ratio", "db_qps", "lock_waiters", "sessions"] {
        assert!(
            !names.iter().any(|n| n == absent),
            "{absent}.svg drawn without data"
        );
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        html.matches("<svg").count(),
        names.len(),
        "one inline svg per plot"
    );
    for n in &names {
        assert!(
            html.contains(&format!("id=\"fig-{n}\"")),
            "figure {n} missing"
        );
    }
    // Self-contained: no script, no stylesheet link, nothing loaded from anywhere.
    for banned in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(banned), "report.html contains {banned}");
    }
    // The experiment's words, the summary table, seed, config hash and the command.
    assert!(html.contains("What it shows"));
    assert!(html.contains("round-robin") && html.contains("least-conn"));
    assert!(html.contains("goodput_rps"));
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("round-robin/summary.json")).unwrap(),
    )
    .unwrap();
    assert!(html.contains(summary["config_hash"].as_str().unwrap()));
    assert!(html.contains(&format!("--seed {}", summary["seed"])));
    assert!(html.contains("scalesim run experiments/balancer_policies.ron"));
    // The crash is drawn as a labelled span.
    let busy = std::fs::read_to_string(dir.join("plots/busy_workers.svg")).unwrap();
    assert!(busy.contains("crash(node 1)"));
}

#[test]
fn plotting_never_changes_the_run_outputs() {
    let dir = tmp("unchanged");
    run_into(&dir, &["--no-plots"]);
    assert!(!dir.join("plots").exists() && !dir.join("report.html").exists());
    let files = [
        "comparison.csv",
        "round-robin/summary.json",
        "round-robin/timeseries.csv",
        "round-robin/config.json",
        "two-choices/summary.json",
    ];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    ok(bin()
        .args(["plot", dir.to_str().unwrap(), "--png"])
        .output()
        .unwrap());
    let after: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    assert_eq!(before, after, "scalesim plot changed a run output");
    assert!(dir.join("plots/goodput.svg").is_file());
    assert!(dir.join("plots/goodput.png").is_file());
    assert!(dir.join("report.html").is_file());
}

/// Runs a small real sweep of the retry storm (stall length × load, 2 variants, 2 seeds,
/// 60 s runs) into `dir` with `scalesim sweep`: the plots are tested on what the sweep
/// writes, not on a hand-written file.
fn sweep_into(dir: &Path, combine: &str, rates: &str) {
    let experiment = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/retry_storm.ron");
    let file = dir.join("small.ron");
    std::fs::write(
        &file,
        format!(
            r#"Sweep(
    description: "a small retry-storm sweep for the plot tests",
    experiment: "{}",
    seed: 1,
    replications: 2,
    combine: {combine},
    variants: ["no-mitigation", "retry-budget"],
    axes: [
        Axis(path: "faults.0.lasting", values: List(["500ms", "2s", "4s"])),
        Axis(path: "workload.rate_per_s", values: {rates}),
    ],
    baseline: "no-mitigation",
    set: {{"duration": "60s", "warmup": "10s", "faults.0.at": "20s"}},
)
"#,
            experiment.display()
        ),
    )
    .unwrap();
    let out = dir.join("out");
    ok(bin()
        .args([
            "sweep",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap());
}

/// The data lines of an SVG plot (stroke width 2): each line's points as (x, y) pixels.
fn data_lines(svg: &str) -> Vec<Vec<(i64, i64)>> {
    svg.split("<polyline")
        .skip(1)
        .filter(|e| e.contains("stroke-width=\"2\""))
        .map(points_of)
        .collect()
}

fn points_of(element: &str) -> Vec<(i64, i64)> {
    let start = element.find("points=\"").unwrap() + 8;
    let end = start + element[start..].find('"').unwrap();
    element[start..end]
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

fn distinct<T: Ord + Copy>(v: impl IntoIterator<Item = T>) -> usize {
    let mut v: Vec<T> = v.into_iter().collect();
    v.sort();
    v.dedup();
    v.len()
}

/// An attribute of an SVG element as a number.
fn attr(element: &str, name: &str) -> i64 {
    let key = format!(" {name}=\"");
    let start = element.find(&key).unwrap() + key.len();
    let end = start + element[start..].find('"').unwrap();
    element[start..end].parse().unwrap()
}

#[test]
fn plot_draws_a_real_sweep_with_bands_and_a_duration_axis() {
    let dir = tmp("sweep");
    sweep_into(&dir, "Grid", "List([500.0, 900.0])");
    let out = dir.join("out");
    ok(bin()
        .args(["plot", out.to_str().unwrap()])
        .output()
        .unwrap());
    let names = svg_names(&out);
    assert!(
        names.contains(&"sweep_never_recovered_vs_faults_0_lasting".to_string()),
        "{names:?}"
    );
    // Lines against the duration axis: a panel per variant, a line per load, each with the
    // 3 stall lengths as 3 distinct x positions, and each with its 95% band behind it.
    let svg = std::fs::read_to_string(out.join("plots/sweep_goodput_rps_vs_faults_0_lasting.svg"))
        .unwrap();
    let lines = data_lines(&svg);
    assert_eq!(lines.len(), 4, "2 variants × 2 loads");
    for l in &lines {
        assert_eq!(distinct(l.iter().map(|p| p.0)), 3, "x positions of {l:?}");
    }
    assert_eq!(svg.matches("<polygon").count(), 4, "one band per line");
    assert!(
        svg.contains("faults.0.lasting (s)"),
        "axis named with its unit"
    );
    // The heat map: 3 stall lengths × 2 loads, not one collapsed row.
    let hm = std::fs::read_to_string(out.join(
        "plots/heatmap_never_recovered_faults_0_lasting_workload_rate_per_s_no-mitigation.svg",
    ))
    .unwrap();
    let cells: Vec<&str> = hm
        .split("<rect")
        .skip(1)
        .filter(|r| attr(r, "width") > 30 && attr(r, "width") < 900)
        .collect();
    assert_eq!(cells.len(), 6, "heat-map cells");
    assert_eq!(distinct(cells.iter().map(|r| attr(r, "x"))), 3);
    assert_eq!(distinct(cells.iter().map(|r| attr(r, "y"))), 2);
    // Choosing the figure and axes explicitly.
    let dir2 = tmp("sweep2");
    for f in ["points.csv", "sweep.json"] {
        std::fs::copy(out.join(f), dir2.join(f)).unwrap();
    }
    ok(bin()
        .args([
            "plot",
            dir2.to_str().unwrap(),
            "--x",
            "workload.rate_per_s",
            "--figure",
            "goodput_rps",
        ])
        .output()
        .unwrap());
    assert_eq!(
        svg_names(&dir2),
        [
            "heatmap_goodput_rps_workload_rate_per_s_faults_0_lasting_no-mitigation",
            "heatmap_goodput_rps_workload_rate_per_s_faults_0_lasting_retry-budget",
            "sweep_goodput_rps_vs_workload_rate_per_s"
        ]
    );
    let bad = bin()
        .args(["plot", dir2.to_str().unwrap(), "--figure", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn zipped_axes_plot_as_one_curve() {
    let dir = tmp("zip");
    sweep_into(&dir, "Zip", "List([500.0, 700.0, 900.0])");
    let out = dir.join("out");
    ok(bin()
        .args(["plot", out.to_str().unwrap()])
        .output()
        .unwrap());
    let names = svg_names(&out);
    assert!(
        !names.iter().any(|n| n.starts_with("heatmap_")),
        "a zipped sweep has no grid to map: {names:?}"
    );
    let svg = std::fs::read_to_string(out.join("plots/sweep_goodput_rps_vs_faults_0_lasting.svg"))
        .unwrap();
    let lines = data_lines(&svg);
    assert_eq!(lines.len(), 2, "one curve per variant");
    for l in &lines {
        assert_eq!(distinct(l.iter().map(|p| p.0)), 3, "{l:?}");
    }
    assert!(!svg.contains("<circle"), "isolated dots drawn");
    assert!(svg.contains("with workload.rate_per_s zipped"));
}

/// Renders report.html in headless Chromium: no console message, every plot in the DOM.
#[test]
#[ignore = "needs chromium (run by .ci/run with `cargo test -- --ignored`)"]
fn report_renders_in_headless_chromium() {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("no chromium on PATH");
    let dir = tmp("chromium");
    run_into(&dir, &[]);
    let names = svg_names(&dir);
    let profile = tmp("chromium-profile");
    let url = format!(
        "file://{}",
        dir.join("report.html").canonicalize().unwrap().display()
    );
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.display()),
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        dom.matches("<svg").count(),
        names.len(),
        "svg elements in the DOM"
    );
    for n in &names {
        assert!(
            dom.contains(&format!("id=\"fig-{n}\"")),
            "figure {n} not in the DOM"
        );
    }
    // The headline figures come before the first plot in the rendered page.
    let headline = dom
        .find("id=\"headline\"")
        .expect("headline section in the DOM");
    assert!(
        headline < dom.find("<svg").unwrap(),
        "a plot above the headline"
    );
}

/// Plotting a 10-minute run (death_spiral: 600 intervals, 2 variants) takes under 2 s.
#[test]
#[ignore = "timing (run by .ci/run with `cargo test -- --ignored`)"]
fn plotting_a_ten_minute_run_is_quick() {
    let dir = tmp("timing");
    ok(bin()
        .args([
            "run",
            "experiments/death_spiral.ron",
            "--no-plots",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap());
    let t = std::time::Instant::now();
    ok(bin()
        .args(["plot", dir.to_str().unwrap()])
        .output()
        .unwrap());
    let s = t.elapsed().as_secs_f64();
    assert!(s < 2.0, "plotting took {s:.2} s");
}

/// Charts follow the columns: a shared-state column the lead's components will write
/// (cache_hit_ratio) gets its chart; an all-zero one (db_qps) and an absent one do not.
#[test]
fn charts_follow_the_columns_present() {
    let dir = tmp("columns");
    let v = dir.join("baseline");
    std::fs::create_dir_all(&v).unwrap();
    let mut csv = String::from(
        "t_s,offered_rps,goodput_rps,latency_p50_ms,latency_p99_ms,cache_hit_ratio,db_qps,active_faults\n",
    );
    for i in 0..30 {
        let fault = if (10..15).contains(&i) {
            "crash(node 0)"
        } else {
            ""
        };
        csv.push_str(&format!(
            "{i},100,{},5,50,{},0,{fault}\n",
            if fault.is_empty() { 100 } else { 40 },
            0.5 + i as f64 / 100.0
        ));
    }
    std::fs::write(v.join("timeseries.csv"), csv).unwrap();
    ok(bin()
        .args(["plot", dir.to_str().unwrap()])
        .output()
        .unwrap());
    let names = svg_names(&dir);
    assert!(names.contains(&"cache_hit_ratio".to_string()), "{names:?}");
    assert!(names.contains(&"goodput".to_string()));
    assert!(
        !names.contains(&"db_qps".to_string()),
        "all-zero column drawn"
    );
    assert!(
        !names.contains(&"queue_len".to_string()),
        "absent columns drawn"
    );
    let goodput = std::fs::read_to_string(dir.join("plots/goodput.svg")).unwrap();
    assert!(
        goodput.contains("crash(node 0)"),
        "fault span label missing"
    );
    assert!(dir.join("report.html").is_file());
}

/// A long run is plotted from a bounded number of points (issue 14): 500,000 intervals of
/// goodput with a one-interval outage give a goodput line of at most a few thousand points,
/// and the outage still reaches the bottom of the plot.
#[test]
fn a_long_series_plots_from_a_bounded_number_of_points() {
    let dir = tmp("long");
    let v = dir.join("baseline");
    std::fs::create_dir_all(&v).unwrap();
    let rows = 500_000u32;
    let mut csv = String::with_capacity(rows as usize * 24);
    csv.push_str("t_s,offered_rps,goodput_rps,active_faults\n");
    for i in 0..rows {
        let g = if i == 123_457 { 0 } else { 100 + i % 5 };
        csv.push_str(&format!("{i},105,{g},\n"));
    }
    std::fs::write(v.join("timeseries.csv"), csv).unwrap();
    ok(bin()
        .args(["plot", dir.to_str().unwrap()])
        .output()
        .unwrap());
    let svg = std::fs::read_to_string(dir.join("plots/goodput.svg")).unwrap();
    let lines = data_lines(&svg);
    assert!(!lines.is_empty());
    // The goodput line is the one long polyline (the offered load is dashed: short pieces).
    let goodput = lines.iter().max_by_key(|l| l.len()).unwrap();
    assert!(
        goodput.len() > 1_000 && goodput.len() <= 4_000,
        "{} points drawn for {rows} rows (limit 4,000 per series)",
        goodput.len()
    );
    // The outage (goodput 0) is drawn: the line reaches the plot's lowest pixel, y = 0.
    let bottom = goodput.iter().map(|p| p.1).max().unwrap();
    let top = goodput.iter().map(|p| p.1).min().unwrap();
    assert!(bottom - top > 200, "outage lost: y from {top} to {bottom}");
}

/// report.html puts the headline figures first, then the claims (when the run wrote
/// `claims.json`), then the plots, then every figure grouped by component; a component the
/// model does not have shows nowhere, not as zeros.
#[test]
fn report_puts_headline_and_claims_first_and_hides_absent_components() {
    let dir = tmp("layout");
    run_into(&dir, &[]);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let pos = |s: &str| {
        html.find(s)
            .unwrap_or_else(|| panic!("{s} not in report.html"))
    };
    assert!(pos("id=\"headline\"") < pos("id=\"plots\""));
    assert!(pos("id=\"plots\"") < pos("id=\"summary\""));
    assert!(
        pos("id=\"headline\"") < pos("<svg"),
        "a plot before the headline"
    );
    // The run checked the experiment's claims and wrote claims.json: the report shows them.
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("claims.json")).unwrap()).unwrap();
    let claims = written["claims"].as_array().unwrap();
    let held = claims.iter().filter(|c| c["held"] == true).count();
    assert!(html.contains(&format!("Claims: {held} of {} held", claims.len())));
    // Without claims.json, no claims section.
    std::fs::remove_file(dir.join("claims.json")).unwrap();
    ok(bin()
        .args(["plot", dir.to_str().unwrap()])
        .output()
        .unwrap());
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        !html.contains("id=\"claims\""),
        "claims without claims.json"
    );
    let pos = |s: &str| {
        html.find(s)
            .unwrap_or_else(|| panic!("{s} not in report.html"))
    };
    // The headline table: goodput and the success share of each variant.
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("round-robin/summary.json")).unwrap(),
    )
    .unwrap();
    let headline = &html[pos("id=\"headline\"")..pos("id=\"plots\"")];
    assert!(headline.contains("goodput (req/s)") && headline.contains("success share"));
    let share = summary["availability"]["requests_share"].as_f64().unwrap() * 100.0;
    assert!(
        headline.contains(&format!("{share:.1}%")) || headline.contains(&format!("{share:.3}%")),
        "success share {share} not in {headline}"
    );
    // balancer_policies has no sessions, locks, cache or dependency: no row of theirs.
    for absent in [
        "spurious",
        "lost_updates",
        "hit_ratio",
        "peak_qps",
        "accepted after",
    ] {
        assert!(
            !html.contains(absent),
            "{absent} shown for an absent component"
        );
    }
    // The full table is grouped by component.
    let table = &html[pos("id=\"summary\"")..];
    for group in ["run", "requests", "latency_ms", "availability", "nodes"] {
        assert!(
            table.contains(&format!(
                "<tr class=\"group\"><th colspan=\"4\">{group}</th>"
            )),
            "no group {group}"
        );
    }
    // Claims, as the run writes them: first, with what held and what did not.
    std::fs::write(
        dir.join("claims.json"),
        r#"{"claims": [
            {"text": "least-conn.latency_ms.p99 < round-robin.latency_ms.p99", "held": true, "detail": "least-conn: 41.2, round-robin: 97.5"},
            {"text": "round-robin.requests.failed == 0", "held": false, "detail": "round-robin: 12"}
        ]}"#,
    )
    .unwrap();
    ok(bin()
        .args(["plot", dir.to_str().unwrap()])
        .output()
        .unwrap());
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let claims = html.find("id=\"claims\"").expect("claims section");
    assert!(html.find("id=\"headline\"").unwrap() < claims);
    assert!(claims < html.find("id=\"plots\"").unwrap());
    assert!(html.contains("Claims: 1 of 2 held"));
    assert!(html.contains(
        "✓ held</b> <code>least-conn.latency_ms.p99 &lt; round-robin.latency_ms.p99</code>"
    ));
    assert!(html.contains("✗ not held</b> <code>round-robin.requests.failed == 0</code>"));
    assert!(html.contains("(round-robin: 12)"));
}

/// An instantaneous fault (thundering_herd's FlushCache at 60 s) is a line at its time, not a
/// span shaded to the end of the run.
#[test]
fn an_instant_fault_is_a_line() {
    let dir = tmp("instant");
    ok(bin()
        .args([
            "run",
            "experiments/thundering_herd.ron",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap());
    let svg = std::fs::read_to_string(dir.join("plots/db_qps.svg")).unwrap();
    assert!(svg.contains("flush-cache"));
    let lines: Vec<Vec<(i64, i64)>> = svg
        .split("<polyline")
        .skip(1)
        .filter(|e| e.contains("opacity=\"0.9\" stroke=\"#D62728\" stroke-width=\"2\""))
        .map(points_of)
        .collect();
    assert_eq!(lines.len(), 1, "one line for the flush");
    assert_eq!(lines[0][0].0, lines[0][1].0, "vertical");
    assert!(
        !svg.split("<rect").any(|r| r.contains("fill=\"#D62728\"")),
        "the flush is shaded as a span"
    );
}

/// The sessions plots show requests accepted after logout, and the workload's ramp is a
/// labelled span (logout_storm, shortened to 90 s).
#[test]
fn sessions_plots_show_accepted_after_logout() {
    let dir = tmp("sessions");
    ok(bin()
        .args([
            "run",
            "experiments/logout_storm.ron",
            "--set",
            "duration=90s",
            "--set",
            "faults.0.at=30s",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap());
    let sessions = std::fs::read_to_string(dir.join("plots/sessions.svg")).unwrap();
    assert!(sessions.contains("accepted after logout"));
    let own = std::fs::read_to_string(dir.join("plots/accepted_after_logout.svg")).unwrap();
    assert!(own.contains("signed-token"));
    assert!(
        own.contains("ramp x0.3→x1"),
        "the workload ramp is not marked"
    );
}
