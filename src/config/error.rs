//! Configuration errors that name where the problem is: the file, line and column (or the
//! command-line flag), the field, and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A position in a file (1-based line and column).
    File {
        path: PathBuf,
        line: usize,
        col: usize,
    },
    /// A file as a whole (it could not be read, or the position is unknown).
    WholeFile(PathBuf),
    /// A command-line flag such as `--set model.nodes.count=0`.
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line, col } => write!(f, "{}:{}:{}", path.display(), line, col),
            Origin::WholeFile(path) => write!(f, "{}", path.display()),
            Origin::Flag(flag) => write!(f, "the flag {flag}"),
        }
    }
}

/// A problem with the user's configuration: always a clear message, never a panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the offending value is.
    pub origin: Origin,
    /// The dotted path of the field, when one is known (e.g. `model.nodes.workers`).
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl ConfigError {
    /// An error at a known place.
    pub fn new(origin: Origin, field: Option<String>, message: impl Into<String>) -> Self {
        ConfigError {
            origin,
            field,
            message: message.into(),
        }
    }

    /// An error about a file as a whole (unreadable, missing, a directory…).
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        ConfigError::new(Origin::WholeFile(path.to_path_buf()), None, message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.origin)?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The Levenshtein distance between two short names, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest of `candidates` to `found`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(found: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let close = candidates
        .iter()
        .map(|c| (edit_distance(found, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c);
    // A name without its unit (`rate` for `rate_per_s`, `timeout` for `timeout_ms`) is
    // a prefix of the one it meant.
    close.or_else(|| {
        let mut prefixed = candidates
            .iter()
            .filter(|c| found.len() >= 3 && c.starts_with(found));
        match (prefixed.next(), prefixed.next()) {
            (Some(c), None) => Some(*c),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            did_you_mean("worker", &["workers", "count"]),
            Some("workers")
        );
        assert_eq!(
            did_you_mean("queue_limt", &["queue_limit", "service"]),
            Some("queue_limit")
        );
        assert_eq!(did_you_mean("zebra", &["workers", "count"]), None);
        assert_eq!(
            did_you_mean("rate", &["max_requests", "rate_per_s"]),
            Some("rate_per_s")
        );
    }

    #[test]
    fn displays_file_line_column_and_field() {
        let e = ConfigError::new(
            Origin::File {
                path: "models/a.ron".into(),
                line: 3,
                col: 14,
            },
            Some("nodes.workers".into()),
            "must be at least 1",
        );
        assert_eq!(
            e.to_string(),
            "models/a.ron:3:14: field `nodes.workers`: must be at least 1"
        );
    }
}
