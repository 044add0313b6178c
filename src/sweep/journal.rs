//! The journal (`journal.tsv`): one line per finished run, appended as each run completes,
//! so a killed sweep loses nothing and `--resume` runs only what is missing.
//!
//! A line is `v2 TAB run TAB point TAB variant TAB replication TAB seed TAB config_hash TAB
//! name=value … TAB checksum`, figures written with Rust's shortest round-trip formatting
//! (read back to the same bits). The configuration hash lets a reader refuse a line that
//! another configuration wrote, even one with the same run, point and seed. A line is trusted only if it ends in a newline and its FNV-1a checksum
//! matches: a line torn by a kill is dropped, and its run is done again.

use crate::config::stable_hash_hex;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// The journal's file name in a sweep's output folder.
pub const FILE: &str = "journal.tsv";

/// One finished run.
#[derive(Clone, Debug)]
pub struct Record {
    /// Canonical run index.
    pub run: usize,
    /// Point index.
    pub point: usize,
    /// Variant name.
    pub variant: String,
    /// Replication, from 0.
    pub replication: u32,
    /// The run's seed.
    pub seed: u64,
    /// The hash of the run's resolved configuration without the seed.
    pub config_hash: String,
    /// Every figure of the run's summary, in the summary's order.
    pub figures: Vec<(String, f64)>,
}

impl Record {
    /// The record of run `id`, done with `cfg`, whose summary is `summary`.
    pub fn of_run(
        id: super::layout::RunId,
        cfg: &crate::config::RunConfig,
        summary: &crate::metrics::summary::Summary,
    ) -> Record {
        Record {
            run: id.run,
            point: id.point,
            variant: cfg.variant.clone(),
            replication: id.replication,
            seed: cfg.seed(),
            config_hash: cfg.config_hash.clone(),
            figures: summary.figures(),
        }
    }
}

impl Record {
    /// Whether two records hold the same results, bit for bit.
    pub fn same_results(&self, other: &Record) -> bool {
        self.seed == other.seed
            && self.config_hash == other.config_hash
            && self.figures.len() == other.figures.len()
            && self
                .figures
                .iter()
                .zip(&other.figures)
                .all(|((a, x), (b, y))| a == b && x.to_bits() == y.to_bits())
    }
}

/// The journal line of a record, newline included.
pub fn line(r: &Record) -> String {
    let mut s = format!(
        "v2\t{}\t{}\t{}\t{}\t{}\t{}",
        r.run, r.point, r.variant, r.replication, r.seed, r.config_hash
    );
    for (name, v) in &r.figures {
        s.push('\t');
        s.push_str(name);
        s.push('=');
        s.push_str(&format!("{v}"));
    }
    let sum = stable_hash_hex(s.as_bytes());
    s.push('\t');
    s.push_str(&sum);
    s.push('\n');
    s
}

/// Parses one line (without its newline); `None` if it is damaged.
pub fn parse_line(text: &str) -> Option<Record> {
    let (body, sum) = text.rsplit_once('\t')?;
    if stable_hash_hex(body.as_bytes()) != sum {
        return None;
    }
    let mut fields = body.split('\t');
    // `v1` lines (before the configuration hash) cannot be attributed: they are redone.
    if fields.next()? != "v2" {
        return None;
    }
    let run = fields.next()?.parse().ok()?;
    let point = fields.next()?.parse().ok()?;
    let variant = fields.next()?.to_string();
    let replication = fields.next()?.parse().ok()?;
    let seed = fields.next()?.parse().ok()?;
    let config_hash = fields.next()?.to_string();
    let figures = fields
        .map(|f| {
            let (n, v) = f.rsplit_once('=')?;
            Some((n.to_string(), v.parse::<f64>().ok()?))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Record {
        run,
        point,
        variant,
        replication,
        seed,
        config_hash,
        figures,
    })
}

/// What a journal holds: the intact records in file order, and how many lines were dropped.
#[derive(Debug, Default)]
pub struct Contents {
    /// Intact records.
    pub records: Vec<Record>,
    /// Lines dropped as torn or damaged.
    pub dropped: usize,
}

/// Reads the journal in `dir` (none yet: empty).
pub fn read(dir: &Path) -> std::io::Result<Contents> {
    let path = dir.join(FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::default()),
        Err(e) => return Err(e),
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut out = Contents::default();
    let mut pieces: Vec<&str> = text.split('\n').collect();
    // The piece after the last newline is empty, or a line torn before its newline.
    if pieces.pop().is_some_and(|tail| !tail.is_empty()) {
        out.dropped += 1;
    }
    for p in pieces {
        match parse_line(p) {
            Some(r) => out.records.push(r),
            None => out.dropped += 1,
        }
    }
    Ok(out)
}

/// Rewrites the journal with exactly `records` (dropping torn lines before appending).
pub fn rewrite(dir: &Path, records: &[Record]) -> Result<(), crate::output::OutputError> {
    let text: String = records.iter().map(line).collect();
    crate::output::write_atomic(&dir.join(FILE), text.as_bytes())
}

/// An open journal that finished runs are appended to, from any thread.
pub struct Journal {
    file: Mutex<File>,
}

impl Journal {
    /// Opens (creating if needed) the journal in `dir` for appending.
    pub fn open(dir: &Path) -> std::io::Result<Journal> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(FILE))?;
        Ok(Journal {
            file: Mutex::new(file),
        })
    }

    /// Appends one record as a single write.
    pub fn append(&self, r: &Record) -> std::io::Result<()> {
        let text = line(r);
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        f.write_all(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> Record {
        Record {
            run: 7,
            point: 2,
            variant: "least-conn".into(),
            replication: 1,
            seed: 12345,
            config_hash: "00112233aabbccdd".into(),
            figures: vec![
                ("a".into(), 0.1 + 0.2),
                ("b".into(), f64::NAN),
                ("c".into(), 1e300),
                ("d".into(), -3.0),
            ],
        }
    }

    #[test]
    fn lines_round_trip_exactly() {
        let l = line(&rec());
        let back = parse_line(l.trim_end_matches('\n')).unwrap();
        assert!(back.same_results(&rec()));
        assert_eq!(back.variant, "least-conn");
        assert_eq!(back.run, 7);
    }

    #[test]
    fn damaged_lines_are_refused() {
        let l = line(&rec());
        let l = l.trim_end_matches('\n');
        assert!(parse_line(&l[..l.len() - 5]).is_none());
        assert!(parse_line(&l.replace("a=", "x=")).is_none());
    }
}
