//! Reading the CSV files `scalesim` wrote back into columns: the plots are drawn from the
//! files on disk, so `scalesim plot DIR` draws exactly what `scalesim run` drew.

use std::path::{Path, PathBuf};

/// A CSV file read into columns: numeric cells as `f64` (empty or non-numeric → NaN), and
/// the raw text kept for the columns that are text (e.g. `active_faults`, `variant`).
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Column names, in file order.
    pub columns: Vec<String>,
    /// The rows' cells as text, row-major.
    pub cells: Vec<Vec<String>>,
}

impl Table {
    /// Parses CSV text with a header line. Cells may be quoted (`"a,b"`, `""` for a quote).
    pub fn parse(text: &str) -> Table {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let columns = lines.next().map(split_csv_line).unwrap_or_default();
        let cells = lines.map(split_csv_line).collect();
        Table { columns, cells }
    }

    /// Reads and parses a CSV file.
    pub fn read(path: &Path) -> Result<Table, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Ok(Table::parse(&text))
    }

    /// The index of a column.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Whether the table has this column.
    pub fn has(&self, name: &str) -> bool {
        self.index(name).is_some()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// A column as numbers (NaN where a cell is empty or not a number); `None` if absent.
    pub fn numbers(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.index(name)?;
        Some(
            self.cells
                .iter()
                .map(|r| {
                    r.get(i)
                        .and_then(|c| c.trim().parse::<f64>().ok())
                        .unwrap_or(f64::NAN)
                })
                .collect(),
        )
    }

    /// A column as text; `None` if absent.
    pub fn texts(&self, name: &str) -> Option<Vec<&str>> {
        let i = self.index(name)?;
        Some(
            self.cells
                .iter()
                .map(|r| r.get(i).map(String::as_str).unwrap_or(""))
                .collect(),
        )
    }

    /// Whether a column exists and has a finite non-zero value.
    pub fn has_signal(&self, name: &str) -> bool {
        self.numbers(name)
            .is_some_and(|v| v.iter().any(|x| x.is_finite() && *x != 0.0))
    }
}

/// Splits one CSV line into cells, honouring double quotes.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Adds `rate` = `count` / interval when the file has `count` but not `rate`.
fn derive_rate(table: &mut Table, count: &str, rate: &str, interval_s: f64) {
    if table.has(rate) {
        return;
    }
    let Some(v) = table.numbers(count) else {
        return;
    };
    table.columns.push(rate.to_string());
    for (row, x) in table.cells.iter_mut().zip(v) {
        row.push(if x.is_finite() {
            format!("{}", x / interval_s)
        } else {
            String::new()
        });
    }
}

/// One variant's time series.
#[derive(Clone, Debug)]
pub struct VariantSeries {
    /// The variant's name (its folder's name).
    pub variant: String,
    /// Its `timeseries.csv`.
    pub table: Table,
    /// Simulated time of each row, seconds (`t_s`).
    pub t: Vec<f64>,
    /// The metrics interval, seconds (from consecutive `t_s`; 1 if a single row).
    pub interval_s: f64,
    /// Where each row is drawn: the end of its interval (`t_s + interval`), when its gauges
    /// were read and its counts complete, so lines and fault spans line up.
    pub x: Vec<f64>,
}

impl VariantSeries {
    /// A column, with `per_second` dividing counts per interval by the interval length.
    pub fn column(&self, name: &str, per_second: bool) -> Option<Vec<f64>> {
        let v = self.table.numbers(name)?;
        Some(if per_second {
            v.into_iter().map(|x| x / self.interval_s).collect()
        } else {
            v
        })
    }
}

/// A run's output directory read back: the variants in the order the run wrote them
/// (`comparison.csv`'s row order, else by name).
#[derive(Clone, Debug)]
pub struct RunDir {
    /// The directory.
    pub dir: PathBuf,
    /// `comparison.csv`, if present.
    pub comparison: Option<Table>,
    /// Each variant's series.
    pub variants: Vec<VariantSeries>,
}

impl RunDir {
    /// Reads `dir/comparison.csv` and every `dir/<variant>/timeseries.csv`.
    pub fn read(dir: &Path) -> Result<RunDir, String> {
        let comparison = Table::read(&dir.join("comparison.csv")).ok();
        let mut names: Vec<String> = comparison
            .as_ref()
            .and_then(|c| c.texts("variant"))
            .map(|v| v.into_iter().map(str::to_string).collect())
            .unwrap_or_default();
        if names.is_empty() {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
            names = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join("timeseries.csv").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
        }
        let mut variants = Vec::new();
        for name in names {
            let path = dir.join(&name).join("timeseries.csv");
            if !path.is_file() {
                continue;
            }
            let table = Table::read(&path)?;
            let t = table
                .numbers("t_s")
                .ok_or_else(|| format!("{}: no t_s column", path.display()))?;
            let interval_s = match (t.first(), t.get(1)) {
                (Some(a), Some(b)) if b > a => b - a,
                _ => 1.0,
            };
            let mut table = table;
            derive_rate(&mut table, "attempts", "attempts_rps", interval_s);
            let x = t.iter().map(|t| t + interval_s).collect();
            variants.push(VariantSeries {
                variant: name,
                table,
                t,
                interval_s,
                x,
            });
        }
        if variants.is_empty() {
            return Err(format!(
                "{}: no <variant>/timeseries.csv found (is this a `scalesim run` output?)",
                dir.display()
            ));
        }
        Ok(RunDir {
            dir: dir.to_path_buf(),
            comparison,
            variants,
        })
    }

    /// Whether any variant has this column with a non-zero value.
    pub fn has_signal(&self, column: &str) -> bool {
        self.variants.iter().any(|v| v.table.has_signal(column))
    }

    /// The time span covered, seconds: (first t, last t + interval).
    pub fn time_range(&self) -> (f64, f64) {
        let lo = self
            .variants
            .iter()
            .filter_map(|v| v.t.first().copied())
            .fold(f64::INFINITY, f64::min);
        let hi = self
            .variants
            .iter()
            .filter_map(|v| v.t.last().map(|t| t + v.interval_s))
            .fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() && hi > lo {
            (lo, hi)
        } else {
            (0.0, 1.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_cells_and_missing_numbers() {
        let t = Table::parse("a,b,c\n1,\"x,y\",\n2.5,z,3\n");
        assert_eq!(t.columns, ["a", "b", "c"]);
        assert_eq!(t.texts("b").unwrap(), ["x,y", "z"]);
        let c = t.numbers("c").unwrap();
        assert!(c[0].is_nan());
        assert_eq!(c[1], 3.0);
        assert!(t.has_signal("a"));
        assert!(!t.has("d"));
    }
}
