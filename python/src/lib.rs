//! `pyscalesim._native`: the compiled half of the Python package. It loads experiments
//! and sweeps, runs them in process with the GIL released (the runs use rayon, one whole
//! simulation per task), and hands back plain Python values — the summaries as dicts,
//! the tables as a header and rows of typed cells — that `pyscalesim/__init__.py` turns
//! into data frames. No subprocess, no CSV text in between.

// pyo3 0.22's #[pyfunction] expansion converts PyErr into PyErr, which newer clippy flags.
#![allow(clippy::useless_conversion)]

mod tables;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;

create_exception!(
    _native,
    ScalesimError,
    PyException,
    "Bad input or a failed run: the message is the scalesim command's, without `error: `."
);

/// The CLI's message without its `error: ` prefix, as the exception's text.
fn failure(message: String) -> PyErr {
    let m = message
        .strip_prefix("error: ")
        .unwrap_or(&message)
        .to_string();
    ScalesimError::new_err(m)
}

/// A JSON value (a serialised summary) as the Python value `json.loads` would give.
fn json_to_py(py: Python<'_>, v: &serde_json::Value) -> PyObject {
    use serde_json::Value;
    match v {
        Value::Null => py.None(),
        Value::Bool(b) => b.into_py(py),
        Value::Number(n) => {
            if let Some(i) = n.as_u64().filter(|_| !n.is_f64()) {
                i.into_py(py)
            } else if let Some(i) = n.as_i64().filter(|_| !n.is_f64()) {
                i.into_py(py)
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_py(py)
            }
        }
        Value::String(s) => s.into_py(py),
        Value::Array(a) => PyList::new_bound(py, a.iter().map(|x| json_to_py(py, x))).into_py(py),
        Value::Object(o) => {
            let d = PyDict::new_bound(py);
            for (k, x) in o {
                d.set_item(k, json_to_py(py, x)).expect("a str key");
            }
            d.into_py(py)
        }
    }
}

/// Runs every variant of an experiment file. `sets` are `--set` flags (`"path=value"`),
/// applied after the file's own; `seed` overrides the experiment's. Returns a dict with
/// `experiment`, `description`, `seed`, `summaries` (variant → summary dict, as in
/// `scalesim run --json`), `timeseries` (a list of (variant, table)) and `comparison`
/// (a table); a table is a dict with `columns` and `rows`.
#[pyfunction]
#[pyo3(signature = (experiment, seed=None, sets=Vec::new()))]
fn run(
    py: Python<'_>,
    experiment: PathBuf,
    seed: Option<u64>,
    sets: Vec<String>,
) -> PyResult<PyObject> {
    let (exp, outputs) = py
        .allow_threads(|| -> Result<_, String> {
            let overrides = scalesim::cli::parse_sets(&sets, seed).map_err(|f| f.message)?;
            let exp = scalesim::load_experiment(&experiment, &overrides)
                .map_err(|e| format!("error: {e}"))?;
            let outputs = scalesim::run_experiment(&exp, |_, _| Ok(())).map_err(|e| match e {
                scalesim::RunError::Violation { variant, error } => {
                    format!("error: variant {variant}: {error}")
                }
                scalesim::RunError::Output(e) => format!("error: {e}"),
            })?;
            Ok((exp, outputs))
        })
        .map_err(failure)?;
    let result = PyDict::new_bound(py);
    result.set_item("experiment", &exp.name)?;
    result.set_item("description", &exp.description)?;
    result.set_item("seed", exp.runs.first().map(|r| r.seed()).unwrap_or(0))?;
    let summaries = PyDict::new_bound(py);
    let series = PyList::empty_bound(py);
    for out in &outputs {
        let s = &out.summary;
        let json = s.to_json_value();
        summaries.set_item(&s.variant, json_to_py(py, &json))?;
        let t = tables::timeseries(&out.series);
        series.append((s.variant.clone(), t.into_py(py)))?;
    }
    result.set_item("summaries", summaries)?;
    result.set_item("timeseries", series)?;
    let all: Vec<scalesim::Summary> = outputs.into_iter().map(|o| o.summary).collect();
    result.set_item("comparison", tables::comparison(&all).into_py(py))?;
    Ok(result.into_py(py))
}

/// Runs a whole sweep file in memory on `threads` threads (default: one per core).
/// Returns a dict with `name`, `axes`, `runs` and `points` (tables with the columns of
/// `runs.csv` and `points.csv`, the figures at full precision).
#[pyfunction]
#[pyo3(signature = (sweep_file, threads=None, sets=Vec::new()))]
fn sweep(
    py: Python<'_>,
    sweep_file: PathBuf,
    threads: Option<usize>,
    sets: Vec<String>,
) -> PyResult<PyObject> {
    if threads == Some(0) {
        return Err(failure(
            "threads=0: give at least 1 (or leave it out for one per core)".into(),
        ));
    }
    let (sw, records) = py
        .allow_threads(|| -> Result<_, String> {
            let overrides = scalesim::cli::parse_sets(&sets, None).map_err(|f| f.message)?;
            let sw = scalesim::sweep::load_sweep(&sweep_file, &overrides)
                .map_err(|e| format!("error: {e}"))?;
            let records =
                scalesim::sweep::memory::run_in_memory(&sw, threads).map_err(|e| e.to_string())?;
            Ok((sw, records))
        })
        .map_err(failure)?;
    let m = &sw.manifest;
    let (runs, points) = tables::sweep(m, &records);
    let result = PyDict::new_bound(py);
    result.set_item("name", &m.name)?;
    result.set_item("axes", m.axes.clone())?;
    result.set_item("runs", runs.into_py(py))?;
    result.set_item("points", points.into_py(py))?;
    Ok(result.into_py(py))
}

/// The compiled module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ScalesimError", m.py().get_type_bound::<ScalesimError>())?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    Ok(())
}
