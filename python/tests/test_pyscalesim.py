"""Tests of the Python package against the CLI: the same figures for the same seed.

Run from the project root, with the package installed and the CLI built:

    python -m pytest python/tests

The CLI is `target/release/scalesim` unless SCALESIM_BIN names another.
"""

import csv
import json
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import pyscalesim

CLI = os.environ.get("SCALESIM_BIN", "target/release/scalesim")


def cli(*args, check=True):
    p = subprocess.run([CLI, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"{CLI} {' '.join(args)} failed: {p.stderr}")
    return p


def without_wall(summary):
    return {k: v for k, v in summary.items() if k != "wall_seconds"}


def same(a, b):
    """Equal figures, NaN equal to NaN (a missing figure in both)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def test_run_gives_the_cli_figures_for_the_same_seed(tmp_path):
    sets = {"duration": "2m"}
    r = pyscalesim.run("experiments/retry_storm.ron", seed=11, set=sets)
    out = cli("run", "experiments/retry_storm.ron", "--seed", "11", "--set", "duration=2m",
              "--json", "--no-plots", "--out", str(tmp_path))
    want = json.loads(out.stdout)
    assert r.experiment == want["experiment"] == "retry_storm"
    assert r.seed == want["seed"] == 11
    # The CLI's JSON object sorts the variants; the package keeps their file order.
    assert sorted(r.summary) == sorted(want["variants"])
    assert r.variants[0] == "no-mitigation"
    for variant, s in want["variants"].items():
        assert without_wall(r.summary[variant]) == without_wall(s), variant
    # The comparison frame: comparison.csv's columns, the summaries' figures unrounded.
    cmp = r.comparison
    with open(tmp_path / "comparison.csv") as f:
        header = next(csv.reader(f))
    assert list(cmp.columns) == header
    assert list(cmp["variant"]) == r.variants
    by_variant = cmp.set_index("variant")
    for variant, s in want["variants"].items():
        assert by_variant.loc[variant, "goodput_rps"] == s["goodput_rps"]
        assert by_variant.loc[variant, "latency_ms_p99"] == s["latency_ms"]["p99"]
        assert by_variant.loc[variant, "retries"] == s["retries"]
    # The time series: timeseries.csv's columns and values (the file rounds to 3 places).
    ts = r.timeseries
    for variant in want["variants"]:
        file = pd.read_csv(tmp_path / variant / "timeseries.csv", keep_default_na=False)
        mine = ts[ts["variant"] == variant].drop(columns="variant").reset_index(drop=True)
        assert list(mine.columns) == list(file.columns)
        assert len(mine) == len(file) == 120
        for col in ["t_s", "offered", "succeeded", "goodput_rps", "latency_p99_ms",
                    "queue_len_total", "retries"]:
            assert (mine[col] - file[col]).abs().max() <= 0.0005 + 1e-9, (variant, col)
        assert list(mine["active_faults"]) == list(file["active_faults"])


def test_the_mm10_acceptance_command_prints_the_comparison():
    # The README's command: from the project root, in a fresh interpreter.
    p = subprocess.run(
        [sys.executable, "-c",
         "import pyscalesim; print(pyscalesim.run('experiments/mm10.ron').comparison)"],
        capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "mm10" in p.stdout and "baseline" in p.stdout
    r = pyscalesim.run("experiments/mm10.ron")
    want = json.loads(cli("run", "experiments/mm10.ron", "--json", "--no-plots",
                          "--out", "out/pytest-mm10").stdout)
    got = r.comparison.iloc[0]
    s = want["variants"]["baseline"]
    assert got["latency_ms_mean"] == s["latency_ms"]["mean"]
    assert got["wait_ms_mean"] == s["wait_ms"]["mean"]
    assert got["requests_succeeded"] == s["requests"]["succeeded"]
    # M/M/10 at 0.85: Erlang C's mean wait is 353 ms.
    assert abs(s["wait_ms"]["mean"] - 353) < 60


def test_the_warm_up_check_is_in_the_summary():
    r = pyscalesim.run("experiments/mm10.ron",
                       set={"warmup": "1s", "model.nodes.workers": 9})
    w = r.summary["baseline"]["warmup_check"]
    assert w["too_short"] is True and w["configured_s"] == 1.0


def test_sweep_gives_the_cli_points_and_runs(tmp_path):
    sets = {"duration": "20m"}
    points, runs = pyscalesim.sweep("experiments/sweeps/mm10_workers.ron", threads=2, set=sets)
    cli("sweep", "experiments/sweeps/mm10_workers.ron", "--threads", "1",
        "--set", "duration=20m", "--out", str(tmp_path))
    file_points = pd.read_csv(tmp_path / "points.csv")
    file_runs = pd.read_csv(tmp_path / "runs.csv")
    assert list(points.columns) == list(file_points.columns)
    assert list(runs.columns) == list(file_runs.columns)
    assert len(points) == len(file_points) == 6
    assert len(runs) == len(file_runs) == 48
    assert list(points["model.nodes.workers"]) == [9, 10, 11, 12, 13, 14]
    assert list(runs["seed"]) == list(file_runs["seed"])
    # The files keep 6 significant digits; the frames every bit.
    for col in ["latency_ms_p99_mean", "latency_ms_p99_ci95_lo", "wait_ms_mean_mean",
                "goodput_rps_sd", "requests_succeeded_mean"]:
        a, b = points[col].to_numpy(), file_points[col].to_numpy()
        assert ((a - b).__abs__() <= 1e-5 * abs(b) + 1e-9).all(), col
    # Determinism: another thread count gives the same bits.
    again, runs_again = pyscalesim.sweep("experiments/sweeps/mm10_workers.ron", threads=1,
                                         set=sets)
    pd.testing.assert_frame_equal(points, again)
    pd.testing.assert_frame_equal(runs, runs_again)


def test_bad_input_raises_the_cli_message(tmp_path):
    bad = tmp_path / "bad.ron"
    bad.write_text(Path("experiments/mm10.ron").read_text()
                   .replace('warmup: "10m"', 'warmup: "10m",\n    wrmup: "1m"'))
    with pytest.raises(pyscalesim.ScalesimError) as e:
        pyscalesim.run(bad)
    p = cli("run", str(bad), "--no-plots", "--out", str(tmp_path / "out"), check=False)
    assert p.returncode == 2
    assert p.stderr.strip() == f"error: {e.value}"
    # The line of the misspelt field, wherever the bundled file's comment puts it.
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "wrmup" in text)
    assert str(e.value).startswith(f"{bad}:{line}:") and "wrmup" in str(e.value)
    # A bad override and a missing file: the same messages as the flags' and files'.
    with pytest.raises(pyscalesim.ScalesimError, match="model.nodes.wrkers"):
        pyscalesim.run("experiments/mm10.ron", set={"model.nodes.wrkers": 3})
    with pytest.raises(pyscalesim.ScalesimError, match="nope.ron"):
        pyscalesim.sweep("nope.ron")


def test_runs_release_the_gil():
    ticks = 0
    done = threading.Event()

    def work():
        pyscalesim.run("experiments/mm10.ron", set={"duration": "48h"})
        done.set()

    t = threading.Thread(target=work)
    started = time.perf_counter()
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    elapsed = time.perf_counter() - started
    # With the GIL held for the whole run, this loop would not tick until the end.
    assert elapsed > 0.2 and ticks > 50, (elapsed, ticks)


def test_polars_frames_when_installed():
    pl = pytest.importorskip("polars")
    r = pyscalesim.run("experiments/mm10.ron", set={"duration": "1h"})
    df = r.comparison_polars()
    assert isinstance(df, pl.DataFrame) and df.height == 1
