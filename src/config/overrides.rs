//! `--set path=value` overrides: any field of the resolved experiment or model, by its
//! dotted path (`duration`, `workload.rate_per_s`, `model.nodes.workers`, `faults.0.at`).
//!
//! An override is applied by construction: the configuration is written out as RON, the
//! value's text replaces the field's text, and the whole is read back through the same
//! typed structs and options as a file. So `--set` accepts exactly what a file accepts at
//! that place (`Cache(…, keys: Keys(…))`, `None` for a jitter, `Some(3)` or `3`) and refuses
//! it with the same checks. Values are written as in a RON file: `5`, `2.5`, `"250ms"`,
//! `LeastConnections`, `Exp(mean: "5ms")`, `None`, `[1, 2]`; a bare word that is not valid
//! there is read as a string, so `250ms` is `"250ms"`.

use super::load::{describe_ron_error, ron_options};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// One override: the dotted path and the value text as the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// Dotted path, e.g. `model.nodes.workers`.
    pub path: String,
    /// The value, in RON syntax.
    pub value: String,
    /// Where it came from, for error messages: the flag text, or a file position.
    pub source: OverrideSource,
}

/// Where an override was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverrideSource {
    /// `--set path=value` on the command line.
    Flag,
    /// A `set: { … }` entry in an experiment file, at this path within that file.
    File(String),
}

impl Override {
    /// Parses `path=value` as given to `--set`.
    pub fn parse_flag(text: &str) -> Result<Override, String> {
        let Some((path, value)) = text.split_once('=') else {
            return Err(format!(
                "--set {text}: expected path=value, e.g. --set model.nodes.count=5"
            ));
        };
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(format!(
                "--set {text}: the path `{path}` is not a dotted field path such as model.nodes.count"
            ));
        }
        Ok(Override {
            path: path.to_string(),
            value: value.trim().to_string(),
            source: OverrideSource::Flag,
        })
    }
}

/// The fields read before any override applies, so `--set` cannot change them: what to
/// do instead is in [`structural_field`]'s message.
const STRUCTURAL: &[&str] = &["name", "description", "model", "variants", "set"];

/// An error for a path that names one of the experiment's structural fields (`variants`,
/// `variants.a.set.x`, `set`, `name`, `description`, the `model` file), which are read before
/// any override is applied, so an override there would do nothing.
pub fn structural_field(path: &str) -> Option<String> {
    // Variant names are transparent (`Experiment.variants` is `variants`), as in `apply_typed`.
    let bare: Vec<&str> = path
        .split('.')
        .filter(|seg| !seg.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect();
    let first = bare.first().copied().unwrap_or(path);
    if !STRUCTURAL.contains(&first) || (first == "model" && bare.len() > 1) {
        return None;
    }
    Some(format!(
        "`{first}` cannot be overridden: the experiment's name, description, model file, \
         variants and `set` lists are read before any override is applied. An override \
         changes a field of the experiment (duration, warmup, seed, workload.…, clients.…, \
         faults.…, limits.…) or of its model (model.nodes.count, model.balancer.policy, …) \
         in every variant; to change one variant, edit its `set` in the file"
    ))
}

/// The deepest nesting a value may have (the configuration needs a handful of levels).
const MAX_DEPTH: usize = 64;

/// Applies `value_text` at dotted `path` of `value` (a whole experiment or model) and
/// returns the result, read back as `T`. The path must name a field that is written when
/// `value` is serialised (every field is); enum variant names are transparent
/// (`workload.rate_per_s` reaches into `Open`, as does `workload.Open.rate_per_s`).
pub fn apply_typed<T: Serialize + DeserializeOwned>(
    value: &T,
    path: &str,
    value_text: &str,
) -> Result<T, String> {
    let value_text = value_text.trim();
    if value_text.is_empty() {
        return Err("the value is empty".to_string());
    }
    check_depth(value_text)?;
    let text = ron_options()
        .to_string(value)
        .map_err(|e| format!("the configuration cannot be written as RON: {e}"))?;
    super::work::add(2 * text.len());
    let locations = super::locate::Locations::scan(&text);
    let chars: Vec<char> = text.chars().collect();
    // Enum variant names may be written (`workload.Open.mix.a`) or not (`workload.mix.a`).
    let bare_path: String = path
        .split('.')
        .filter(|seg| !seg.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect::<Vec<_>>()
        .join(".");
    let spans = locations.spans();
    let Some(&(start, end)) = spans.get(path).or_else(|| spans.get(&bare_path)) else {
        // A field left out when it has its default (`skip_serializing_if`) is written into
        // its struct instead, and read back as a file with that field would be.
        if let Some(v) = insert_field::<T>(spans, &chars, &bare_path, value_text) {
            return Ok(v);
        }
        return Err(missing_path(&locations, &chars, &bare_path));
    };
    let mut end = end;
    while end > start && chars[end - 1].is_whitespace() {
        end -= 1;
    }
    let splice = |v: &str| -> String {
        let mut t: String = chars[..start].iter().collect();
        t.push_str(v);
        t.extend(&chars[end..]);
        t
    };
    let as_written = ron_options().from_str::<T>(&splice(value_text));
    let err = match as_written {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    // A bare word (`250ms`, `5`) where a string is expected: read it as that string.
    let bare = !value_text.contains(['"', '(', ')', '[', ']', '{', '}', ',', '\'']);
    if bare {
        let quoted = serde_json::to_string(value_text).expect("a string serialises");
        if let Ok(v) = ron_options().from_str::<T>(&splice(&quoted)) {
            return Ok(v);
        }
    }
    // A value that is not RON on its own (`3 4`) is a syntax error in the value; otherwise
    // it is RON of the wrong kind for this field, as the typed read says.
    if !bare {
        if let Err(e) = ron_options().from_str::<ron::Value>(value_text) {
            return Err(format!(
                "`{value_text}` is not a valid RON value (at column {}): {}",
                e.position.col,
                describe_ron_error(&e.code)
            ));
        }
    }
    Err(format!(
        "`{value_text}` is not a valid value here: {}",
        describe_ron_error(&err.code)
    ))
}

/// Writes `field: value` at the start of the struct at the parent of `path`, if that reads
/// back as `T`: for fields the serialiser leaves out while they hold their default.
fn insert_field<T: DeserializeOwned>(
    spans: &std::collections::BTreeMap<String, (usize, usize)>,
    chars: &[char],
    path: &str,
    value_text: &str,
) -> Option<T> {
    let (parent, field) = match path.rsplit_once('.') {
        Some((p, f)) => (p, f),
        None => ("", path),
    };
    if !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let &(start, end) = spans.get(parent)?;
    let open = (start..end).find(|&i| chars[i] == '(')?;
    if !chars[start..open]
        .iter()
        .all(|c| c.is_alphanumeric() || *c == '_')
    {
        return None;
    }
    let mut text: String = chars[..=open].iter().collect();
    text.push_str(&format!("{field}: {value_text},"));
    text.extend(&chars[open + 1..]);
    ron_options().from_str::<T>(&text).ok()
}

/// Refuses a value nested more than [`MAX_DEPTH`] levels deep (a pathological value is an
/// error, not a stack overflow in the parser).
fn check_depth(text: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!(
                        "the value is nested more than {MAX_DEPTH} levels deep"
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if depth > 0 || in_string {
        return Err(format!(
            "`{text}` ends before the value is complete: is a `)`, `]`, `}}` or closing quote missing?"
        ));
    }
    Ok(())
}

/// Says why `path` names no field: the nearest part of it that exists, and what is there.
fn missing_path(locations: &super::locate::Locations, chars: &[char], path: &str) -> String {
    let spans = locations.spans();
    let segments: Vec<&str> = path.split('.').collect();
    let mut known = 0;
    for i in (1..segments.len()).rev() {
        if spans.contains_key(&segments[..i].join(".")) {
            known = i;
            break;
        }
    }
    let walked = segments[..known].join(".");
    let seg = segments[known];
    let where_ = if walked.is_empty() {
        "the top level".to_string()
    } else {
        format!("`{walked}`")
    };
    let prefix = if walked.is_empty() {
        String::new()
    } else {
        format!("{walked}.")
    };
    // The fields directly under `walked`, without the aliases that name an enum variant.
    let names: Vec<&str> = spans
        .keys()
        .filter_map(|k| k.strip_prefix(&prefix))
        .filter(|rest| !rest.is_empty() && !rest.contains('.'))
        .filter(|rest| !rest.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect();
    let text_at = spans
        .get(&walked)
        .map(|&(s, e)| chars[s..e].iter().collect::<String>().trim().to_string());
    if text_at.as_deref() == Some("None") {
        return format!(
            "{where_} is not set (None), so it has no field `{seg}`: set {where_} as a whole"
        );
    }
    let is_list = text_at.as_deref().is_some_and(|t| t.starts_with('['));
    if is_list {
        let len = names.len();
        return match seg.parse::<usize>() {
            Ok(idx) => format!("{where_} has {len} entries: index {idx} does not exist"),
            Err(_) => format!("{where_} is a list: expected an index 0..{len}, found `{seg}`"),
        };
    }
    if names.is_empty() {
        return format!("{where_} is a single value, it has no field `{seg}`");
    }
    let hint = super::error::did_you_mean(seg, &names)
        .map(|s| format!(" Did you mean `{s}`?"))
        .unwrap_or_default();
    format!(
        "there is no field `{seg}` in {where_}.{hint} Fields there: {}",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ExperimentSpec, ModelSpec};

    fn exp() -> ExperimentSpec {
        ron_options()
            .from_str(
                r#"Experiment(duration: "10s", workload: Open(rate_per_s: 1.0, mix: {"a": 1.0}),
                   clients: Clients(retry: Retry(max_attempts: 3, backoff: Constant(delay: "1s"), jitter: Full)),
                   faults: [Crash(node: 0, at: "1s")])"#,
            )
            .unwrap()
    }

    #[test]
    fn applies_through_enum_variants_and_lists() {
        let e = apply_typed(&exp(), "workload.rate_per_s", "9").unwrap();
        let e = apply_typed(&e, "faults.0.node", "2").unwrap();
        let e = apply_typed(&e, "workload.Open.mix.a", "0.5").unwrap();
        let e = apply_typed(&e, "duration", "30s").unwrap();
        let e = apply_typed(&e, "warmup", "\"2s\"").unwrap();
        let want: ExperimentSpec = ron_options()
            .from_str(
                r#"Experiment(duration: "30s", warmup: "2s", workload: Open(rate_per_s: 9.0, mix: {"a": 0.5}),
                   clients: Clients(retry: Retry(max_attempts: 3, backoff: Constant(delay: "1s"), jitter: Full)),
                   faults: [Crash(node: 2, at: "1s")])"#,
            )
            .unwrap();
        assert_eq!(e, want);
    }

    #[test]
    fn accepts_what_a_file_accepts_none_for_a_unit_variant_and_named_structs() {
        let e = apply_typed(&exp(), "clients.retry.jitter", "None").unwrap();
        let e = apply_typed(&e, "clients.retry.backoff", "None").unwrap();
        let r = e.clients.retry.as_ref().unwrap();
        assert_eq!(r.jitter, crate::config::experiment::JitterSpec::None);
        assert_eq!(r.backoff, crate::config::experiment::BackoffSpec::None);
        // A field the serialiser leaves out at its default is still reachable.
        let e = apply_typed(&e, "expect", r#"["a.goodput_rps > 0"]"#).unwrap();
        assert_eq!(e.expect, vec!["a.goodput_rps > 0".to_string()]);
        let e = apply_typed(&e, "clients.retry", "None").unwrap();
        assert!(e.clients.retry.is_none());
        let e = apply_typed(&e, "clients.timeout", "Some(\"2s\")").unwrap();
        assert_eq!(
            e.clients.timeout,
            Some(crate::config::Duration::from_secs(2))
        );
        let m: ModelSpec = ron_options()
            .from_str(r#"System(nodes: Nodes(count: 1, workers: 1, service: Exp(mean: "1ms")), dependency: Dependency(workers: 1, service: Exp(mean: "1ms")))"#)
            .unwrap();
        let m = apply_typed(
            &m,
            "cache",
            r#"Cache(placement: Shared, capacity_keys: 10, ttl: "1s", hit: Const(value: "1ms"), keys: Keys(count: 10, popularity: Zipf(s: 1.1)))"#,
        )
        .unwrap();
        assert_eq!(m.cache.unwrap().keys.count, 10);
    }

    #[test]
    fn unknown_paths_and_bad_values_are_errors_with_suggestions() {
        let e = exp();
        let msg = apply_typed(&e, "clients.retry.max_attempt", "5").unwrap_err();
        assert!(
            msg.contains("no field `max_attempt`") && msg.contains("Did you mean `max_attempts`?"),
            "{msg}"
        );
        let msg = apply_typed(&e, "duration.x", "5").unwrap_err();
        assert!(msg.contains("single value"), "{msg}");
        let msg = apply_typed(&e, "faults.3.at", "5s").unwrap_err();
        assert!(
            msg.contains("has 1 entries: index 3 does not exist"),
            "{msg}"
        );
        let msg = apply_typed(&e, "clients.throttle.k", "5").unwrap_err();
        assert!(msg.contains("is not set (None)"), "{msg}");
        let msg = apply_typed(&e, "clients.retry.max_attempts", "many").unwrap_err();
        assert!(msg.contains("`many` is not a valid value here"), "{msg}");
        let msg = apply_typed(&e, "clients.retry.max_attempts", "[3 4]").unwrap_err();
        assert!(msg.contains("is not a valid RON value"), "{msg}");
        let msg = apply_typed(&e, "clients.retry", "Retry(max_attempts: ").unwrap_err();
        assert!(msg.contains("ends before the value is complete"), "{msg}");
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(apply_typed(&e, "faults", &deep)
            .unwrap_err()
            .contains("nested"));
        assert!(Override::parse_flag("model.nodes.workers").is_err());
        assert!(Override::parse_flag("model..workers=3").is_err());
    }

    #[test]
    fn structural_fields_are_named_with_what_can_be_set() {
        for p in [
            "variants",
            "variants.a.set.x",
            "set",
            "set.duration",
            "name",
            "model",
            "Experiment.variants",
            "Experiment.set.duration",
        ] {
            let msg = structural_field(p).unwrap_or_else(|| panic!("{p}"));
            assert!(
                msg.contains("cannot be overridden") && msg.contains("model.nodes.count"),
                "{msg}"
            );
        }
        for p in ["model.nodes.count", "duration", "workload.mix.a", "models"] {
            assert_eq!(structural_field(p), None, "{p}");
        }
    }
}
