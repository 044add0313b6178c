//! Reading a RON file into its raw struct, turning every failure into a `ConfigError`
//! that names the file, line and column and says what was expected.

use super::error::{did_you_mean, ConfigError, Origin};
use super::locate::Locations;
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

/// Reads a file as UTF-8 text; says plainly when it is missing, a directory or binary.
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    if path.is_dir() {
        return Err(ConfigError::file(
            path,
            "is a directory, expected a .ron file",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        ConfigError::file(path, format!("cannot read the file: {why}"))
    })?;
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
    match ron_options().from_str::<T>(text) {
        Ok(value) => {
            let loaded = Loaded {
                value,
                path: path.to_path_buf(),
                text: text.to_string(),
                locations: Locations::scan(text),
            };
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
            Err(ConfigError::new(origin, None, describe_ron_error(&e.code)))
        }
    }
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
    let direct = PathBuf::from(name);
    if direct.is_absolute() || direct.exists() {
        return direct;
    }
    if let Some(dir) = referrer.parent() {
        let beside = dir.join(name);
        if beside.exists() {
            return beside;
        }
        if let Some(up) = dir.parent() {
            let above = up.join(name);
            if above.exists() {
                return above;
            }
        }
    }
    direct
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
