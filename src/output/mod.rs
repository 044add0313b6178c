//! Writing results: files are written to a temporary name and renamed into place, so an
//! interrupted run never leaves a half-written file; the side-by-side table and
//! `comparison.csv` put the variants of one experiment next to each other.

pub mod lock;
pub mod sections;
pub mod table;
pub mod trace_format;

use crate::graph::output::RunOutput;
use crate::metrics::Summary;
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
    let summary = out.summary.to_json_text();
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
/// the file is identical for identical runs). Variants of a graph model may have different
/// components: every variant's figures get a column, empty where a variant lacks it.
pub fn comparison_csv(summaries: &[Summary]) -> String {
    let mut out = String::new();
    if summaries.is_empty() {
        return out;
    }
    let figures: Vec<Vec<(String, f64)>> = summaries.iter().map(Summary::figures).collect();
    let names = figure_columns(figures.iter().map(Vec::as_slice));
    out.push_str("experiment,variant,seed,config_hash");
    for n in &names {
        out.push(',');
        out.push_str(n);
    }
    out.push('\n');
    for (s, f) in summaries.iter().zip(&figures) {
        out.push_str(&format!(
            "{},{},{},{}",
            s.experiment, s.variant, s.seed, s.config_hash
        ));
        for n in &names {
            out.push(',');
            out.push_str(&format_figure(figure_value(f, n)));
        }
        out.push('\n');
    }
    out
}

/// The figure names of several runs in one stable order: the first run's order, with
/// names only later runs have slotted in after the name they follow there (so variants
/// with the same figures, as single-tier ones always have, give the first's order).
pub fn figure_columns<'a>(runs: impl IntoIterator<Item = &'a [(String, f64)]>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for figures in runs {
        let mut after: Option<usize> = None;
        for (n, _) in figures {
            match names.iter().position(|x| x == n) {
                Some(i) => after = Some(i),
                None => {
                    let at = after.map_or(0, |i| i + 1);
                    names.insert(at, n.clone());
                    after = Some(at);
                }
            }
        }
    }
    names
}

/// The figure `name` of one run's figures; NaN (an empty cell) when the run lacks it.
pub fn figure_value(figures: &[(String, f64)], name: &str) -> f64 {
    figures
        .iter()
        .find(|(n, _)| n == name)
        .map_or(f64::NAN, |(_, v)| *v)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixture::graph_summary_of;

    #[test]
    fn variants_with_different_components_each_get_their_columns() {
        let a = graph_summary_of("a", 12.0);
        let mut b = graph_summary_of("b", 30.5);
        b.components.shift_remove("cache.catalog");
        b.components
            .insert("db.replica".into(), [("peak_qps".to_string(), 4.0)].into());
        let csv = comparison_csv(&[a, b]);
        let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
        let col = |name: &str| lines[0].iter().position(|c| *c == name).unwrap();
        assert_eq!(lines[1][col("db.main.peak_qps")], "12");
        assert_eq!(lines[2][col("db.main.peak_qps")], "30.5000");
        assert_eq!(lines[1][col("cache.catalog.hit_ratio")], "0.750000");
        assert_eq!(
            lines[2][col("cache.catalog.hit_ratio")],
            "",
            "b has no cache"
        );
        assert_eq!(lines[1][col("db.replica.peak_qps")], "", "a has no replica");
        assert_eq!(lines[2][col("db.replica.peak_qps")], "4");
        assert_eq!(lines[1][col("db.main.wait_ms_p99")], "", "not measurable");
        assert!(!lines[0]
            .iter()
            .any(|c| c.starts_with("availability") || *c == "cost_total"));
        assert!(lines.iter().all(|l| l.len() == lines[0].len()));
    }

    #[test]
    fn single_tier_variants_keep_the_first_ones_column_order() {
        let s = Summary::default();
        let names: Vec<String> = s.figures().into_iter().map(|(n, _)| n).collect();
        let twice = [s.figures(), s.figures()];
        assert_eq!(figure_columns(twice.iter().map(Vec::as_slice)), names);
    }
}
