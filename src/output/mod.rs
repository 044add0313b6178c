//! Writing results: files are written to a temporary name and renamed into place, so an
//! interrupted run never leaves a half-written file; the side-by-side table and
//! `comparison.csv` put the variants of one experiment next to each other.

pub mod lock;
pub mod table;

use crate::metrics::Summary;
use crate::system::RunOutput;
use crate::RunConfig;
use std::io::Write;
use std::path::{Path, PathBuf};

/// An output problem: which path, and what the system said.
#[derive(Debug)]
pub struct OutputError {
    /// The file or directory that could not be written.
    pub path: PathBuf,
    /// The underlying error.
    pub source: std::io::Error,
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: cannot write: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for OutputError {}

/// Creates `dir` and its parents.
pub fn create_dir(dir: &Path) -> Result<(), OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError {
        path: dir.to_path_buf(),
        source,
    })
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename,
/// so readers see either the old file or the whole new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let err = |source| OutputError {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Writes one variant's `summary.json`, `timeseries.csv`, `config.json` (and `trace.json`
/// when the run was traced) under `dir/<variant>/`.
pub fn write_variant(dir: &Path, cfg: &RunConfig, out: &RunOutput) -> Result<PathBuf, OutputError> {
    let vdir = dir.join(&cfg.variant);
    create_dir(&vdir)?;
    let summary = serde_json::to_string_pretty(&out.summary).expect("summary serialises");
    write_atomic(&vdir.join("timeseries.csv"), out.series.to_csv().as_bytes())?;
    let config = serde_json::to_string_pretty(&cfg.resolved_json()).expect("config serialises");
    write_atomic(&vdir.join("config.json"), config.as_bytes())?;
    if let Some(trace) = &out.trace {
        write_atomic(&vdir.join("trace.json"), trace.as_bytes())?;
    }
    // The summary goes last: its presence says the variant's outputs are complete.
    write_atomic(&vdir.join("summary.json"), (summary + "\n").as_bytes())?;
    Ok(vdir)
}

/// `comparison.csv`: one row per variant, one column per figure (wall time left out, so
/// the file is identical for identical runs).
pub fn comparison_csv(summaries: &[Summary]) -> String {
    let mut out = String::new();
    let Some(first) = summaries.first() else {
        return out;
    };
    let names: Vec<String> = first.figures().into_iter().map(|(n, _)| n).collect();
    out.push_str("experiment,variant,seed,config_hash");
    for n in &names {
        out.push(',');
        out.push_str(n);
    }
    out.push('\n');
    for s in summaries {
        out.push_str(&format!(
            "{},{},{},{}",
            s.experiment, s.variant, s.seed, s.config_hash
        ));
        for (_, v) in s.figures() {
            out.push(',');
            out.push_str(&format_figure(v));
        }
        out.push('\n');
    }
    out
}

/// Formats a figure for CSV: integers without a fraction, others with 6 significant digits,
/// and a missing figure (NaN, e.g. `recovery_seconds` without a recovery) as an empty cell,
/// which pandas and polars read as missing.
pub fn format_figure(v: f64) -> String {
    if v.is_nan() {
        return String::new();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let digits = (5 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
        format!("{v:.digits$}")
    }
}
