//! Reading a RON file into its raw struct, turning every failure into a `ConfigError`
//! that names the file, line and column and says what was expected.

use super::error::{did_you_mean, ConfigError, Origin};
use super::locate::{Locations, Pos};
use ron::extensions::Extensions;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A parsed file with what is needed to point back into it.
#[derive(Clone, Debug)]
pub struct Loaded<T> {
    /// The parsed raw struct.
    pub value: T,
    /// The path as the user gave it (or as resolved from another file).
    pub path: PathBuf,
    /// The file's text, kept for its comment block and for hashing.
    pub text: String,
    /// Where each field is written.
    pub locations: Locations,
}

impl<T> Loaded<T> {
    /// The origin of the field at `path` in this file (or of its nearest written ancestor).
    pub fn origin(&self, field: &str) -> Origin {
        match self.locations.find(field) {
            Some(pos) => Origin::File {
                path: self.path.clone(),
                line: pos.line,
                col: pos.col,
            },
            None => Origin::WholeFile(self.path.clone()),
        }
    }
}

/// The largest configuration file read, in bytes, unless `SCALESIM_MAX_FILE_BYTES` says
/// otherwise: a file is read whole and scanned into a table of positions, so its size
/// multiplies memory (a 4,000-variant experiment is about 0.5 MB; 16 MB is far beyond any
/// hand-written or generated configuration, and far below a machine's memory).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The environment variable that raises [`MAX_FILE_BYTES`].
pub const MAX_FILE_BYTES_VAR: &str = "SCALESIM_MAX_FILE_BYTES";

fn max_file_bytes() -> u64 {
    std::env::var(MAX_FILE_BYTES_VAR)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(MAX_FILE_BYTES)
}

/// Reads a file as UTF-8 text; says plainly when it is missing, a directory, not a regular
/// file (`/dev/zero`, a pipe), larger than [`MAX_FILE_BYTES`] or binary.
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read;
    if path.is_dir() {
        return Err(ConfigError::file(
            path,
            "is a directory, expected a .ron file",
        ));
    }
    let cannot = |e: std::io::Error| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        ConfigError::file(path, format!("cannot read the file: {why}"))
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(ConfigError::file(
            path,
            "is not a regular file (a device, pipe or socket): give the path of a .ron file",
        ));
    }
    let limit = max_file_bytes();
    // Read at most one byte past the limit, whatever the size the file claims (files in
    // /proc claim 0 and may be endless).
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(ConfigError::file(
            path,
            format!(
                "is larger than {limit} bytes, the limit for a configuration file; \
                 set {MAX_FILE_BYTES_VAR} to a larger number of bytes to read it anyway"
            ),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        ConfigError::file(
            path,
            format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    // A byte-order mark (some Windows editors write one) is not part of the text.
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// The RON options every file is read with: `Some(…)` may be left out around optional values.
pub fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME)
}

/// Parses `text` (read from `path`) as `T`.
pub fn parse_ron<T: DeserializeOwned + Serialize>(
    path: &Path,
    text: &str,
) -> Result<Loaded<T>, ConfigError> {
    // A byte-order mark (some Windows editors write one) is not part of the text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    super::work::add(text.len());
    match ron_options().from_str::<T>(text) {
        Ok(value) => {
            let loaded = Loaded {
                value,
                path: path.to_path_buf(),
                text: text.to_string(),
                locations: Locations::scan(text),
            };
            if let Some(d) = loaded.locations.duplicates().first() {
                let field = join_path(&d.within, &d.key);
                return Err(ConfigError::new(
                    Origin::File {
                        path: path.to_path_buf(),
                        line: d.second.line,
                        col: d.second.col,
                    },
                    Some(field),
                    format!(
                        "the key \"{}\" is written twice{}, at line {} and again at line {}: \
                         only one would be kept, so rename or remove one of them",
                        d.key,
                        within(&d.within),
                        d.first.line,
                        d.second.line
                    ),
                ));
            }
            if let Some((field, v)) = super::guard::first_non_finite(&loaded.value) {
                return Err(ConfigError::new(
                    loaded.origin(&field),
                    Some(field),
                    format!(
                        "must be a finite number, found {v} (NaN and infinities are not allowed)"
                    ),
                ));
            }
            Ok(loaded)
        }
        Err(e) => {
            let origin = Origin::File {
                path: path.to_path_buf(),
                line: e.position.line,
                col: e.position.col,
            };
            // The field the error is in (or just after): the innermost one written before it.
            let at = Pos {
                line: e.position.line,
                col: e.position.col,
            };
            let locations = Locations::scan(text);
            let field = locations.last_before(at).map(str::to_string);
            let message = match &e.code {
                ron::Error::DuplicateStructField { field: name, outer } => {
                    let twice = locations
                        .duplicates()
                        .iter()
                        .find(|d| d.key == *name && d.second.line <= at.line);
                    let lines = twice
                        .map(|d| {
                            format!(
                                ", at line {} and again at line {}",
                                d.first.line, d.second.line
                            )
                        })
                        .unwrap_or_default();
                    let within = outer
                        .as_ref()
                        .map(|o| format!(" in `{o}`"))
                        .unwrap_or_default();
                    format!("the field `{name}` is written twice{within}{lines}")
                }
                ron::Error::SuggestRawIdentifier(found) => {
                    positional_fields_hint::<T>(text, at, found)
                }
                other => describe_ron_error(other),
            };
            Err(ConfigError::new(origin, field, message))
        }
    }
}

fn join_path(within: &str, key: &str) -> String {
    if within.is_empty() {
        key.to_string()
    } else {
        format!("{within}.{key}")
    }
}

fn within(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" in `{path}`")
    }
}

/// The byte offset of a 1-based (line, column-in-characters) position.
fn offset_of(text: &str, at: Pos) -> usize {
    let mut line = 1;
    let mut col = 1;
    for (i, c) in text.char_indices() {
        if line == at.line && col == at.col {
            return i;
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    text.len()
}

/// For `Zipf(1.1)`, where `Zipf(s: 1.1)` is meant: ron suggests a "raw identifier", which
/// is not the problem. Says that the value takes named fields, and which (found by reading
/// the text again with a made-up field name at that place, which ron then lists against).
fn positional_fields_hint<T: DeserializeOwned>(text: &str, at: Pos, found: &str) -> String {
    let end = offset_of(text, at).min(text.len());
    let before = &text[..end];
    let Some(open) = before.rfind(['(', ',']) else {
        return format!("expected a field name (`name: value`), found `{found}`");
    };
    let paren = before[..=open].rfind('(').unwrap_or(open);
    let name: String = before[..paren]
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let probe = format!("{} __field__: {}", &text[..=open], &text[open + 1..]);
    let expected = match ron_options().from_str::<T>(&probe) {
        Err(ron::error::SpannedError {
            code: ron::Error::NoSuchStructField {
                expected, found, ..
            },
            ..
        }) if found == "__field__" => {
            Some(expected.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        }
        _ => None,
    };
    let value = text[open + 1..]
        .trim_start()
        .split([',', ')'])
        .next()
        .unwrap_or(found)
        .trim()
        .to_string();
    let name = if name.is_empty() {
        "the value".to_string()
    } else {
        format!("`{name}(…)`")
    };
    match expected.as_deref() {
        Some([one]) => format!(
            "{name} takes its field by name: write `{one}: {value}` (found `{value}` alone)"
        ),
        Some(many) if !many.is_empty() => format!(
            "{name} takes named fields ({}): write `name: value` for each (found `{value}` alone)",
            list_owned(many)
        ),
        _ => format!("{name} takes named fields: write `name: value` (found `{value}` alone)"),
    }
}

fn list_owned(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads and parses a file.
pub fn load_file<T: DeserializeOwned + Serialize>(path: &Path) -> Result<Loaded<T>, ConfigError> {
    let text = read_text(path)?;
    parse_ron(path, &text)
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Says what went wrong in words a user can act on, with a "did you mean" where it helps.
pub fn describe_ron_error(e: &ron::Error) -> String {
    match e {
        ron::Error::NoSuchStructField {
            expected,
            found,
            outer,
        } => {
            let within = outer
                .as_ref()
                .map(|o| format!(" in `{o}`"))
                .unwrap_or_default();
            let hint = did_you_mean(found, expected)
                .map(|s| format!(" Did you mean `{s}`?"))
                .unwrap_or_default();
            format!(
                "unknown field `{found}`{within}.{hint} Expected one of: {}",
                list(expected)
            )
        }
        ron::Error::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => {
            let within = outer
                .as_ref()
                .map(|o| format!(" for `{o}`"))
                .unwrap_or_default();
            let hint = did_you_mean(found, expected)
                .map(|s| format!(" Did you mean `{s}`?"))
                .unwrap_or_default();
            format!(
                "unknown variant `{found}`{within}.{hint} Expected one of: {}",
                list(expected)
            )
        }
        ron::Error::MissingStructField { field, outer } => {
            let within = outer
                .as_ref()
                .map(|o| format!(" in `{o}`"))
                .unwrap_or_default();
            format!("missing field `{field}`{within}: it has no default, so it must be written")
        }
        ron::Error::DuplicateStructField { field, outer } => {
            let within = outer
                .as_ref()
                .map(|o| format!(" in `{o}`"))
                .unwrap_or_default();
            format!("the field `{field}` is written twice{within}")
        }
        ron::Error::ExpectedStringEnd => "a string is not closed: a `\"` is missing".to_string(),
        ron::Error::Eof => "the file ends before the value is complete: \
                            is a `)`, `]`, `}` or closing quote missing?"
            .to_string(),
        other => format!("{other}"),
    }
}

/// Resolves a file named inside another file: first as given (relative to the current
/// directory), then relative to the referring file's directory and that directory's parent,
/// so `model: "models/x.ron"` works from the project root and from `experiments/`.
pub fn resolve_relative(referrer: &Path, name: &str) -> PathBuf {
    candidates(referrer, name)
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// The places [`resolve_relative`] looks, in order (for an error that lists them).
pub fn candidates(referrer: &Path, name: &str) -> Vec<PathBuf> {
    let direct = PathBuf::from(name);
    if direct.is_absolute() {
        return vec![direct];
    }
    let mut out = vec![direct];
    if let Some(dir) = referrer.parent() {
        out.push(dir.join(name));
        if let Some(up) = dir.parent() {
            out.push(up.join(name));
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::ModelSpec;

    #[test]
    fn unknown_field_names_the_line_and_suggests() {
        let text = "System(\n  nodes: Nodes(count: 1, worker: 4, service: Exp(mean: \"1ms\")),\n)";
        let e = parse_ron::<ModelSpec>(Path::new("m.ron"), text).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("m.ron:2:"), "{msg}");
        assert!(msg.contains("unknown field `worker`"), "{msg}");
        assert!(msg.contains("Did you mean `workers`?"), "{msg}");
    }

    #[test]
    fn malformed_ron_names_the_position() {
        let text = "System(\n  nodes: Nodes(count: 1,, ";
        let e = parse_ron::<ModelSpec>(Path::new("m.ron"), text).unwrap_err();
        assert!(matches!(e.origin, Origin::File { line: 2, .. }), "{e}");
    }

    #[test]
    fn missing_file_and_directory_are_plain_errors() {
        let e = load_file::<ModelSpec>(Path::new("/nonexistent/x.ron")).unwrap_err();
        assert!(e.to_string().contains("no such file"), "{e}");
        let e = load_file::<ModelSpec>(Path::new("/")).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
    }
}
