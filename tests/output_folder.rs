//! One writer per output folder: a second `sweep`, `run` or `merge` aimed at a folder in use
//! refuses with the folder and the holder's pid, and a journal line written under another
//! configuration is never merged into a sweep's results.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::cli::{ok, scalesim, scratch, stderr, BIN, ROOT};

/// A small sweep: 1 rate × 3 variants × `reps` seeds of the balancer experiment.
fn small_sweep(dir: &Path, duration: &str, reps: u32) -> String {
    let path = dir.join("sweep.ron");
    std::fs::write(
        &path,
        format!(
            r#"Sweep(
    experiment: "experiments/balancer_policies.ron",
    seed: 5,
    replications: {reps},
    axes: [Axis(path: "workload.rate_per_s", values: List([900, 1500]))],
    set: {{"duration": "{duration}", "warmup": "500ms", "faults": "[]"}},
)"#
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Takes the folder's lock from the test, as another scalesim would, recording `pid`.
fn hold_lock(dir: &Path, pid: u32) -> File {
    std::fs::create_dir_all(dir).unwrap();
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join(".scalesim.lock"))
        .unwrap();
    f.try_lock().expect("the folder is free");
    writeln!(f, "{pid}").unwrap();
    f
}

#[test]
fn a_folder_in_use_is_refused_by_sweep_run_and_merge() {
    let d = scratch("held");
    let sweep = small_sweep(&d, "1s", 2);
    let out = d.join("out");
    let out_s = out.display().to_string();
    let lock = hold_lock(&out, 4242);

    let s = scalesim(&["sweep", &sweep, "--threads", "1", "--out", &out_s]);
    assert_eq!(s.status.code(), Some(2), "{}", stderr(&s));
    let err = stderr(&s);
    assert!(
        err.contains(&out_s) && err.contains("in use by another scalesim (pid 4242)"),
        "{err}"
    );
    assert!(!out.join("journal.tsv").exists(), "nothing written: {err}");
    assert!(!out.join("sweep.json").exists());

    let r = scalesim(&[
        "run",
        "experiments/mm10.ron",
        "--set",
        "duration=1m",
        "--set",
        "warmup=0s",
        "--no-plots",
        "--out",
        &out_s,
    ]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("pid 4242"), "{}", stderr(&r));
    assert!(!out.join("comparison.csv").exists());

    // Released (as when its holder dies): the same commands go through.
    drop(lock);
    let done = d.join("done").display().to_string();
    ok(&["sweep", &sweep, "--threads", "1", "--out", &done]);
    let lock = hold_lock(&out, 77);
    let m = scalesim(&["merge", &done, "--out", &out_s]);
    assert_eq!(m.status.code(), Some(2), "{}", stderr(&m));
    assert!(stderr(&m).contains("pid 77"), "{}", stderr(&m));
    drop(lock);
    ok(&["merge", &done, "--out", &out_s]);
    ok(&[
        "run",
        "experiments/mm10.ron",
        "--set",
        "duration=1m",
        "--set",
        "warmup=0s",
        "--no-plots",
        "--out",
        &d.join("run").display().to_string(),
    ]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_second_sweep_started_while_one_runs_refuses_and_names_its_pid() {
    let d = scratch("concurrent");
    // 2 rates × 3 variants × 20 seeds of 20 s each on one thread: a few seconds.
    let sweep = small_sweep(&d, "20s", 20);
    let out = d.join("out");
    let out_s = out.display().to_string();
    let mut first = Command::new(BIN)
        .args(["sweep", &sweep, "--threads", "1", "--out", &out_s])
        .current_dir(ROOT)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !out.join("journal.tsv").exists() {
        assert!(
            started.elapsed().as_secs() < 60,
            "the first sweep never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // The same sweep with another value: before the lock it mixed its rows into the first's.
    let second = scalesim(&[
        "sweep",
        &sweep,
        "--set",
        "warmup=1s",
        "--resume",
        "--out",
        &out_s,
    ]);
    let finished_first = first.try_wait().unwrap().is_some();
    first.kill().ok();
    first.wait().unwrap();
    assert!(
        !finished_first,
        "the first sweep ended before the second started"
    );
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains(&format!("in use by another scalesim (pid {})", first.id())),
        "{}",
        stderr(&second)
    );
    // Killed, the first one's lock is gone: resuming it works at once.
    ok(&[
        "sweep",
        &sweep,
        "--threads",
        "2",
        "--resume",
        "--out",
        &out_s,
    ]);
    assert!(out.join("points.csv").exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// The journal line of run `run` in `dir`.
fn journal_line(dir: &Path, run: usize) -> String {
    std::fs::read_to_string(dir.join("journal.tsv"))
        .unwrap()
        .lines()
        .find(|l| l.split('\t').nth(1) == Some(&run.to_string()))
        .unwrap_or_else(|| panic!("no run {run} in {}", dir.display()))
        .to_string()
}

#[test]
fn a_journal_line_of_another_configuration_is_never_merged() {
    let d = scratch("foreign");
    let sweep = small_sweep(&d, "1s", 2);
    let a = d.join("a");
    let b = d.join("b");
    let a_s = a.display().to_string();
    let b_s = b.display().to_string();
    ok(&["sweep", &sweep, "--threads", "1", "--out", &a_s]);
    // Same runs, points and seeds, another configuration (a longer warm-up).
    ok(&[
        "sweep",
        &sweep,
        "--threads",
        "1",
        "--set",
        "warmup=700ms",
        "--out",
        &b_s,
    ]);
    let own = journal_line(&a, 3);
    let foreign = journal_line(&b, 3);
    assert_ne!(own, foreign);
    let text = std::fs::read_to_string(a.join("journal.tsv")).unwrap();
    std::fs::write(a.join("journal.tsv"), text.replace(&own, &foreign)).unwrap();

    let m = scalesim(&["merge", &a_s, "--out", &d.join("m").display().to_string()]);
    assert_eq!(m.status.code(), Some(2), "{}", stderr(&m));
    assert!(stderr(&m).contains("run 3 ") && stderr(&m).contains("does not belong"));
    assert!(!d.join("m/runs.csv").exists());

    let r = scalesim(&["sweep", &sweep, "--resume", "--out", &a_s]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("does not belong"), "{}", stderr(&r));
    let _ = std::fs::remove_dir_all(&d);
}
