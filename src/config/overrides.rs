//! `--set path=value` overrides: any field of the resolved experiment or model, by its
//! dotted path (`duration`, `workload.rate_per_s`, `model.nodes.workers`, `faults.0.at`).
//!
//! Overrides are applied to a JSON tree of the raw configuration, which is then read back
//! through the same typed structs as a file, so a wrong value gets the same checks.
//! Values are written as in a RON file: `5`, `2.5`, `"250ms"` or `250ms`, `LeastConnections`,
//! `Exp(mean: "5ms")`, `None`, `[1, 2]`.

use serde_json::{Map, Value};

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

/// Applies `value_text` at dotted `path` in `tree`. The path must name an existing field;
/// enum variants are transparent (`workload.rate_per_s` reaches into `Open`).
pub fn apply(tree: &mut Value, path: &str, value_text: &str) -> Result<(), String> {
    let value = parse_value(value_text)?;
    let segments: Vec<&str> = path.split('.').collect();
    let mut node = tree;
    let mut walked = String::new();
    for (i, seg) in segments.iter().enumerate() {
        node = descend(node, seg, &walked)?;
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(seg);
        if i + 1 == segments.len() {
            *node = fit(node, value);
            return Ok(());
        }
    }
    Ok(())
}

/// Steps from `node` into its child `seg`, looking through a single-key enum wrapper.
fn descend<'a>(node: &'a mut Value, seg: &str, walked: &str) -> Result<&'a mut Value, String> {
    let where_ = if walked.is_empty() {
        "the top level".to_string()
    } else {
        format!("`{walked}`")
    };
    // An externally tagged enum variant `{"Open": {...}}` is looked through unless the
    // segment names the variant itself.
    let through_variant = match node {
        Value::Object(m) => {
            m.len() == 1
                && !m.contains_key(seg)
                && m.keys()
                    .next()
                    .is_some_and(|k| k.starts_with(|c: char| c.is_ascii_uppercase()))
        }
        _ => false,
    };
    let node = if through_variant {
        node.as_object_mut()
            .and_then(|m| m.values_mut().next())
            .expect("one entry")
    } else {
        node
    };
    match node {
        Value::Object(m) => {
            if m.contains_key(seg) {
                Ok(m.get_mut(seg).expect("checked"))
            } else {
                let names: Vec<&str> = m.keys().map(String::as_str).collect();
                let hint = super::error::did_you_mean(seg, &names)
                    .map(|s| format!(" Did you mean `{s}`?"))
                    .unwrap_or_default();
                Err(format!(
                    "there is no field `{seg}` in {where_}.{hint} Fields there: {}",
                    names.join(", ")
                ))
            }
        }
        Value::Array(a) => {
            let len = a.len();
            let idx: usize = seg.parse().map_err(|_| {
                format!("{where_} is a list: expected an index 0..{len}, found `{seg}`")
            })?;
            a.get_mut(idx)
                .ok_or_else(|| format!("{where_} has {len} entries: index {idx} does not exist"))
        }
        Value::Null => Err(format!(
            "{where_} is not set (None), so it has no field `{seg}`: set {where_} as a whole"
        )),
        _ => Err(format!(
            "{where_} is a single value, it has no field `{seg}`"
        )),
    }
}

/// Adapts a parsed value to the shape of the value it replaces: a number given where a
/// string was becomes a string; `Name(fields)` given for a plain struct loses its name.
fn fit(old: &Value, new: Value) -> Value {
    match (old, new) {
        (Value::String(_), Value::Number(n)) => Value::String(n.to_string()),
        (Value::String(_), Value::Bool(b)) => Value::String(b.to_string()),
        (Value::Object(o), Value::Object(mut n)) if n.len() == 1 => {
            let key = n.keys().next().expect("one").clone();
            let old_is_variant = o.len() == 1
                && o.keys()
                    .next()
                    .is_some_and(|k| k.starts_with(|c: char| c.is_ascii_uppercase()));
            if !old_is_variant && !o.contains_key(&key) && n[&key].is_object() {
                n.remove(&key).expect("present")
            } else {
                Value::Object(n)
            }
        }
        // An optional struct that was None: `HealthCheck(every: …)` is the struct itself.
        (Value::Null, Value::Object(mut n))
            if n.len() == 1 && STRUCT_NAMES.contains(&n.keys().next().expect("one").as_str()) =>
        {
            let key = n.keys().next().expect("one").clone();
            n.remove(&key).expect("present")
        }
        (_, n) => n,
    }
}

/// The names of the configuration's structs (as opposed to enum variants): a value written
/// `Name(…)` with one of these names is the struct, not a variant wrapping it.
const STRUCT_NAMES: &[&str] = &[
    "System",
    "Balancer",
    "HealthCheck",
    "Nodes",
    "Slowdown",
    "ColdStart",
    "Dependency",
    "Autoscaler",
    "Experiment",
    "Variant",
    "Clients",
    "Retry",
    "Throttle",
    "RandomFailures",
    "Limits",
    "Sessions",
    "Store",
    "Locks",
    "Replicas",
];

/// Parses a value written in RON syntax into JSON (externally tagged enums, as serde does).
pub fn parse_value(text: &str) -> Result<Value, String> {
    let mut p = ValueParser {
        s: text.as_bytes(),
        i: 0,
        text,
        depth: 0,
    };
    p.ws();
    if p.i == p.s.len() {
        return Err("the value is empty".to_string());
    }
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!(
            "unexpected text after the value: `{}`",
            &text[p.i..]
        ));
    }
    Ok(v)
}

struct ValueParser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
    /// Nesting depth: bounded, so a pathological value is an error, not a stack overflow.
    depth: usize,
}

/// The deepest nesting a value may have (the configuration needs a handful of levels).
const MAX_DEPTH: usize = 64;

impl ValueParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "expected `{}` at column {} of `{}`",
                c as char,
                self.i + 1,
                self.text
            ))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "the value is nested more than {MAX_DEPTH} levels deep"
            ));
        }
        let v = self.value_inner();
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self) -> Result<Value, String> {
        self.ws();
        match self.peek() {
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                        return Ok(Value::Array(items));
                    }
                    items.push(self.value()?);
                    self.ws();
                    if self.peek() == Some(b',') {
                        self.i += 1;
                    } else {
                        self.expect(b']')?;
                        return Ok(Value::Array(items));
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut map = Map::new();
                loop {
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(Value::Object(map));
                    }
                    let key = match self.value()? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    self.expect(b':')?;
                    let v = self.value()?;
                    map.insert(key, v);
                    self.ws();
                    if self.peek() == Some(b',') {
                        self.i += 1;
                    } else {
                        self.expect(b'}')?;
                        return Ok(Value::Object(map));
                    }
                }
            }
            Some(b'(') => {
                self.i += 1;
                self.parens()
            }
            Some(_) => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b')' | b']' | b'}' | b'(' | b':')
                        || c.is_ascii_whitespace()
                    {
                        break;
                    }
                    self.i += 1;
                }
                let word = &self.text[start..self.i];
                self.ws();
                if self.peek() == Some(b'(') {
                    self.i += 1;
                    let inner = self.parens()?;
                    if word == "Some" {
                        return Ok(match inner {
                            Value::Array(mut a) if a.len() == 1 => a.remove(0),
                            other => other,
                        });
                    }
                    let inner = match inner {
                        Value::Array(mut a) if a.len() == 1 => a.remove(0),
                        other => other,
                    };
                    let mut m = Map::new();
                    m.insert(word.to_string(), inner);
                    return Ok(Value::Object(m));
                }
                Ok(scalar(word))
            }
            None => Err(format!("`{}` ends where a value was expected", self.text)),
        }
    }

    /// After `(`: struct fields `a: 1, b: 2` → object, or tuple elements → array.
    fn parens(&mut self) -> Result<Value, String> {
        let mut fields = Map::new();
        let mut items = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(b')') {
                self.i += 1;
                break;
            }
            let save = self.i;
            let mut is_field = false;
            let start = self.i;
            while let Some(c) = self.peek() {
                if c.is_ascii_alphanumeric() || c == b'_' {
                    self.i += 1;
                } else {
                    break;
                }
            }
            if self.i > start {
                let name = self.text[start..self.i].to_string();
                self.ws();
                if self.peek() == Some(b':') {
                    self.i += 1;
                    fields.insert(name, self.value()?);
                    is_field = true;
                }
            }
            if !is_field {
                self.i = save;
                items.push(self.value()?);
            }
            self.ws();
            if self.peek() == Some(b',') {
                self.i += 1;
            } else {
                self.expect(b')')?;
                break;
            }
        }
        if !fields.is_empty() && !items.is_empty() {
            return Err(format!(
                "`{}` mixes named fields and plain values in one (…)",
                self.text
            ));
        }
        Ok(if items.is_empty() {
            Value::Object(fields)
        } else {
            Value::Array(items)
        })
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = String::new();
        let start = self.i;
        let mut escaped = false;
        while let Some(c) = self.peek() {
            self.i += 1;
            if escaped {
                escaped = false;
                continue;
            }
            match c {
                b'\\' => escaped = true,
                b'"' => {
                    let raw = &self.text[start..self.i - 1];
                    return serde_json::from_str::<String>(&format!("\"{raw}\""))
                        .map_err(|e| format!("bad string {raw:?}: {e}"))
                        .map(|s| {
                            out.push_str(&s);
                            out
                        });
                }
                _ => {}
            }
        }
        Err(format!("unterminated string in `{}`", self.text))
    }
}

/// A bare word: number, boolean, `None` (null), or otherwise a string (`250ms`, `Lifo`).
fn scalar(word: &str) -> Value {
    match word {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "None" => return Value::Null,
        _ => {}
    }
    let digits: String = word.chars().filter(|&c| c != '_').collect();
    if let Ok(i) = digits.parse::<u64>() {
        return Value::from(i);
    }
    if let Ok(i) = digits.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(f) = digits.parse::<f64>() {
        if let Some(n) = serde_json::Number::from_f64(f) {
            return Value::Number(n);
        }
        // NaN and infinities have no JSON form: keep the word, so the typed read refuses it.
    }
    Value::String(word.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_ron_values() {
        assert_eq!(parse_value("5").unwrap(), json!(5));
        assert_eq!(parse_value("-2.5").unwrap(), json!(-2.5));
        assert_eq!(parse_value("250ms").unwrap(), json!("250ms"));
        assert_eq!(parse_value("\"250ms\"").unwrap(), json!("250ms"));
        assert_eq!(parse_value("Lifo").unwrap(), json!("Lifo"));
        assert_eq!(parse_value("None").unwrap(), json!(null));
        assert_eq!(parse_value("Some(3)").unwrap(), json!(3));
        assert_eq!(
            parse_value("Exp(mean: \"5ms\")").unwrap(),
            json!({"Exp": {"mean": "5ms"}})
        );
        assert_eq!(parse_value("[1, 2]").unwrap(), json!([1, 2]));
        assert_eq!(parse_value("{\"a\": 1}").unwrap(), json!({"a": 1}));
        assert!(parse_value("Exp(mean: ").is_err());
        assert!(parse_value("").is_err());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_value(&deep).unwrap_err().contains("nested"));
    }

    #[test]
    fn applies_through_enum_variants_and_lists() {
        let mut t =
            json!({"workload": {"Open": {"rate_per_s": 1.0}}, "faults": [{"Crash": {"node": 0}}]});
        apply(&mut t, "workload.rate_per_s", "9").unwrap();
        apply(&mut t, "faults.0.node", "2").unwrap();
        assert_eq!(
            t,
            json!({"workload": {"Open": {"rate_per_s": 9}}, "faults": [{"Crash": {"node": 2}}]})
        );
        apply(&mut t, "workload.Open.rate_per_s", "3.5").unwrap();
        assert_eq!(t["workload"]["Open"]["rate_per_s"], json!(3.5));
    }

    #[test]
    fn unknown_paths_are_errors_with_suggestions() {
        let mut t = json!({"model": {"nodes": {"workers": 4, "count": 1}}});
        let e = apply(&mut t, "model.nodes.worker", "5").unwrap_err();
        assert!(
            e.contains("no field `worker`") && e.contains("Did you mean `workers`?"),
            "{e}"
        );
        let e = apply(&mut t, "model.nodes.workers.x", "5").unwrap_err();
        assert!(e.contains("single value"), "{e}");
        assert!(Override::parse_flag("model.nodes.workers").is_err());
        assert!(Override::parse_flag("model..workers=3").is_err());
    }
}
