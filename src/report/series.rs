//! Reading the CSV files `scalesim` wrote back into columns: the plots are drawn from the
//! files on disk, so `scalesim plot DIR` draws exactly what `scalesim run` drew.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The most rows of one time series kept for plotting. A longer series is decimated as it is
/// read: its rows are cut into `MAX_PLOT_ROWS / 2` consecutive buckets and each bucket becomes
/// two rows, the minimum and the maximum of every column, so a one-row spike stays visible
/// while a 10-million-row run is plotted from a few thousand points in a few megabytes.
/// Plots are at most about 750 pixels wide: 2,000 buckets are more than one per pixel.
pub const MAX_PLOT_ROWS: usize = 4000;

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

/// A time series read with at most [`MAX_PLOT_ROWS`] rows, and what was read.
#[derive(Clone, Debug)]
pub struct BoundedTable {
    /// The rows (decimated when the file had more than the limit).
    pub table: Table,
    /// The rows in the file.
    pub rows_in_file: usize,
    /// The time between the file's first two `t_s` values, seconds.
    pub interval_s: Option<f64>,
}

/// Reads a CSV time series, decimating it to at most `max_rows` rows (see [`MAX_PLOT_ROWS`])
/// without ever holding the whole file: one pass counts the rows, the second reads them
/// line by line into min/max buckets.
pub fn read_bounded(path: &Path, max_rows: usize) -> Result<BoundedTable, String> {
    let err = |e: std::io::Error| format!("{}: cannot read: {e}", path.display());
    let open = || std::fs::File::open(path).map(BufReader::new).map_err(err);
    let mut rows_in_file = 0usize;
    let mut header_seen = false;
    let mut buf = Vec::new();
    let mut reader = open()?;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(err)? == 0 {
            break;
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if header_seen {
            rows_in_file += 1;
        } else {
            header_seen = true;
        }
    }
    let max_rows = max_rows.max(2);
    // Rows per bucket: 1 keeps every row as it is.
    let per_bucket = if rows_in_file <= max_rows {
        1
    } else {
        rows_in_file.div_ceil(max_rows / 2)
    };
    let mut table = Table::default();
    let mut bucket: Vec<Vec<String>> = Vec::with_capacity(per_bucket);
    let mut t_index = None;
    let mut first_t: Vec<f64> = Vec::with_capacity(2);
    let mut line = String::new();
    let mut reader = open()?;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(err)? == 0 {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let cells = split_csv_line(line.trim_end_matches('\n'));
        if table.columns.is_empty() {
            t_index = cells.iter().position(|c| c == "t_s");
            table.columns = cells;
            continue;
        }
        if first_t.len() < 2 {
            if let Some(t) = t_index.and_then(|i| cells.get(i)?.trim().parse::<f64>().ok()) {
                first_t.push(t);
            }
        }
        if per_bucket == 1 {
            table.cells.push(cells);
            continue;
        }
        bucket.push(cells);
        if bucket.len() == per_bucket {
            push_min_max(&mut table.cells, &bucket, t_index);
            bucket.clear();
        }
    }
    if !bucket.is_empty() {
        push_min_max(&mut table.cells, &bucket, t_index);
    }
    let interval_s = match first_t[..] {
        [a, b, ..] if b > a => Some(b - a),
        _ => None,
    };
    Ok(BoundedTable {
        table,
        rows_in_file,
        interval_s,
    })
}

/// Appends two rows for a bucket of rows: every numeric column's minimum, then its maximum
/// (the time column: the bucket's first and last time); a text column (`active_faults`) gets
/// the `;`-joined labels seen anywhere in the bucket, in both rows, so a short fault still
/// shows as a span at least one bucket wide.
fn push_min_max(out: &mut Vec<Vec<String>>, bucket: &[Vec<String>], t_index: Option<usize>) {
    let width = bucket.iter().map(Vec::len).max().unwrap_or(0);
    let mut lo = Vec::with_capacity(width);
    let mut hi = Vec::with_capacity(width);
    for c in 0..width {
        let cell = |r: &Vec<String>| r.get(c).map(|s| s.trim().to_string()).unwrap_or_default();
        if Some(c) == t_index {
            lo.push(bucket.first().map(cell).unwrap_or_default());
            hi.push(bucket.last().map(cell).unwrap_or_default());
            continue;
        }
        let mut min: Option<(f64, String)> = None;
        let mut max: Option<(f64, String)> = None;
        let mut labels: Vec<String> = Vec::new();
        for r in bucket {
            let text = cell(r);
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    if min.as_ref().is_none_or(|(m, _)| v < *m) {
                        min = Some((v, text.clone()));
                    }
                    if max.as_ref().is_none_or(|(m, _)| v > *m) {
                        max = Some((v, text));
                    }
                }
                _ => {
                    for l in text.split(';').map(str::trim).filter(|l| !l.is_empty()) {
                        if !labels.iter().any(|x| x == l) {
                            labels.push(l.to_string());
                        }
                    }
                }
            }
        }
        match (min, max) {
            (Some((_, a)), Some((_, b))) => {
                lo.push(a);
                hi.push(b);
            }
            _ => {
                let joined = labels.join(";");
                lo.push(joined.clone());
                hi.push(joined);
            }
        }
    }
    out.push(lo);
    out.push(hi);
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
            let bounded = read_bounded(&path, MAX_PLOT_ROWS)?;
            let mut table = bounded.table;
            let t = table
                .numbers("t_s")
                .ok_or_else(|| format!("{}: no t_s column", path.display()))?;
            let interval_s = bounded.interval_s.unwrap_or(1.0);
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

    #[test]
    fn a_long_series_is_decimated_keeping_its_extremes() {
        let dir = std::env::temp_dir().join(format!("scalesim-series-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("timeseries.csv");
        let mut csv = String::from("t_s,goodput_rps,active_faults\n");
        for i in 0..100_000u32 {
            // A one-row spike at row 54,321 and a one-row fault at row 77,777.
            let g = if i == 54_321 { 9_000 } else { 100 + i % 7 };
            let f = if i == 77_777 { "flush" } else { "" };
            csv.push_str(&format!("{}.5,{g},{f}\n", i));
        }
        std::fs::write(&path, csv).unwrap();
        let b = read_bounded(&path, MAX_PLOT_ROWS).unwrap();
        assert_eq!(b.rows_in_file, 100_000);
        assert_eq!(b.interval_s, Some(1.0));
        assert!(b.table.len() <= MAX_PLOT_ROWS, "{} rows", b.table.len());
        let g = b.table.numbers("goodput_rps").unwrap();
        assert_eq!(g.iter().copied().fold(f64::MIN, f64::max), 9_000.0);
        assert_eq!(g.iter().copied().fold(f64::MAX, f64::min), 100.0);
        let t = b.table.numbers("t_s").unwrap();
        assert_eq!((t[0], *t.last().unwrap()), (0.5, 99_999.5));
        let faults = b.table.texts("active_faults").unwrap();
        assert_eq!(faults.iter().filter(|f| **f == "flush").count(), 2);
        // A short series is kept as it is.
        let short = read_bounded(&path, 200_000).unwrap();
        assert_eq!(short.table.len(), 100_000);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
