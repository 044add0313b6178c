"""scalesim from Python: run experiments and sweeps in process, get data frames.

    import pyscalesim
    r = pyscalesim.run("experiments/mm10.ron", seed=3, set={"model.nodes.workers": 12})
    r.summary["baseline"]["latency_ms"]["p99"]   # the summary.json of each variant, as dicts
    r.comparison                                  # comparison.csv as a pandas DataFrame
    r.timeseries                                  # timeseries.csv of every variant, one frame
    points, runs = pyscalesim.sweep("experiments/sweeps/mm10_workers.ron", threads=2)

The simulations run in the compiled extension with the GIL released; the figures are the
ones `scalesim run --json` prints for the same seed. Bad input raises `ScalesimError` with
the CLI's message (file:line:column, the field, what was expected).
"""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional, Tuple

import pandas as pd

from ._native import ScalesimError
from ._native import run as _run
from ._native import sweep as _sweep

__all__ = ["run", "sweep", "Result", "ScalesimError"]


def _sets(set: Optional[Mapping[str, Any]]) -> list:
    """`{"path": value}` as `--set path=value` flags; values that are not strings are
    written as RON (numbers, booleans as `true`/`false`)."""
    flags = []
    for path, value in (set or {}).items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        flags.append(f"{path}={value}")
    return flags


def _frame(table: Dict[str, list]) -> pd.DataFrame:
    return pd.DataFrame.from_records(table["rows"], columns=table["columns"])


def _numeric_axes(df: pd.DataFrame, axes: list) -> pd.DataFrame:
    """Axis columns hold the value text of each point; make the numeric ones numbers."""
    for a in axes:
        try:
            df[a] = pd.to_numeric(df[a])
        except (ValueError, TypeError):
            pass
    return df


def _polars(df: pd.DataFrame):
    try:
        import polars as pl
    except ImportError as e:
        raise ImportError("polars is not installed: pip install polars") from e
    return pl.from_pandas(df)


class Result:
    """The outcome of `run`: every variant of one experiment on one seed."""

    def __init__(self, raw: Dict[str, Any]):
        self.experiment: str = raw["experiment"]
        self.description: str = raw["description"]
        self.seed: int = raw["seed"]
        #: variant name -> its summary (the `summary.json` of `scalesim run`) as a dict.
        self.summary: Dict[str, Dict[str, Any]] = raw["summaries"]
        self._series = raw["timeseries"]
        self._comparison = raw["comparison"]

    @property
    def variants(self) -> list:
        return list(self.summary)

    @property
    def comparison(self) -> pd.DataFrame:
        """One row per variant, the columns of `comparison.csv` (figures unrounded),
        indexed by the variant's name (so a printed frame names its rows)."""
        df = _frame(self._comparison)
        df.index = pd.Index(df["variant"].tolist())
        return df

    @property
    def timeseries(self) -> pd.DataFrame:
        """Every variant's `timeseries.csv` in one frame, with a leading `variant` column."""
        frames = []
        for variant, table in self._series:
            df = _frame(table)
            df.insert(0, "variant", variant)
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    def comparison_polars(self):
        """`comparison` as a polars DataFrame (needs polars)."""
        return _polars(self.comparison)

    def timeseries_polars(self):
        """`timeseries` as a polars DataFrame (needs polars)."""
        return _polars(self.timeseries)

    def __repr__(self) -> str:
        return f"Result({self.experiment!r}, seed={self.seed}, variants={self.variants})"


def run(
    experiment: "str | os.PathLike",
    seed: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
) -> Result:
    """Runs every variant of an experiment file, like `scalesim run EXPERIMENT [--seed N]
    [--set path=value]…`, without writing files. `set` maps dotted paths to values."""
    return Result(_run(os.fspath(experiment), seed, _sets(set)))


def sweep(
    sweep_file: "str | os.PathLike",
    threads: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """Runs a whole sweep in memory, like `scalesim sweep FILE [--threads N]`, and returns
    `(points, runs)`: the tables of `points.csv` and `runs.csv` as DataFrames; their
    `attrs["axes"]` names the axis columns."""
    raw = _sweep(os.fspath(sweep_file), threads, _sets(set))
    points = _numeric_axes(_frame(raw["points"]), raw["axes"])
    runs = _numeric_axes(_frame(raw["runs"]), raw["axes"])
    for df in (points, runs):
        df.attrs["axes"] = list(raw["axes"])  # the axis columns, in the sweep file's order
        df.attrs["sweep"] = raw["name"]
    return points, runs


def to_polars(df: pd.DataFrame):
    """Any frame of this package as a polars DataFrame (needs polars)."""
    return _polars(df)
