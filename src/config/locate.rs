//! Finds where each field of a RON file is written, so that a rule checked after parsing
//! (min ≤ max, a referenced node exists) can still name the line and column.
//!
//! This is a forgiving scanner, not a second parser: it runs only on text that `ron` has
//! already accepted, and maps dotted paths (`nodes.workers`, `faults.0.at`) to positions.
//! Enum variant and struct names are transparent (`workload.rate_per_s`), and are also
//! recorded with the variant (`workload.Open.rate_per_s`), as are `Some(…)` wrappers.

use std::collections::BTreeMap;

/// A 1-based line and column in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub col: usize,
}

/// Dotted field path → where that field (or list element) is written.
#[derive(Clone, Debug, Default)]
pub struct Locations {
    map: BTreeMap<String, Pos>,
    duplicates: Vec<Duplicate>,
    spans: BTreeMap<String, (usize, usize)>,
}

/// A key written twice in one `{ … }` map, or a field written twice in one `( … )`.
///
/// serde's maps keep the last value of a repeated key without a word, so a copy-pasted
/// variant would silently disappear: the scanner reports every repeat instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// The dotted path of the map or struct (empty at the top level).
    pub within: String,
    /// The repeated key or field name.
    pub key: String,
    /// Where it is first written.
    pub first: Pos,
    /// Where it is written again.
    pub second: Pos,
}

impl Locations {
    /// Scans RON source text.
    pub fn scan(text: &str) -> Locations {
        let mut s = Scanner {
            chars: text.chars().collect(),
            i: 0,
            line: 1,
            col: 1,
            out: BTreeMap::new(),
            duplicates: Vec::new(),
            spans: BTreeMap::new(),
        };
        s.skip_ws();
        let start = s.pos();
        s.out.insert(String::new(), start);
        s.value("");
        Locations {
            map: s.out,
            duplicates: s.duplicates,
            spans: s.spans,
        }
    }

    /// Where the value of each field is written, as a range of character indices (start
    /// inclusive, end exclusive): what `--set` replaces.
    pub fn spans(&self) -> &BTreeMap<String, (usize, usize)> {
        &self.spans
    }

    /// Every key written twice in one map (or field twice in one struct), in file order.
    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }

    /// The innermost field written before `at`: the one a syntax error at `at` is in (or
    /// just after, as a missing comma is).
    pub fn last_before(&self, at: Pos) -> Option<&str> {
        let key = |p: &Pos| (p.line, p.col);
        self.map
            .iter()
            .filter(|(path, p)| !path.is_empty() && key(p) < key(&at))
            // The latest position; among aliases of one place (`workload.Open.rate_per_s`
            // and `workload.rate_per_s`) the one without the variant name.
            .max_by(|(pa, a), (pb, b)| key(a).cmp(&key(b)).then(pb.len().cmp(&pa.len())))
            .map(|(path, _)| path.as_str())
    }

    /// The position of `path`, or of its nearest ancestor that was found.
    pub fn find(&self, path: &str) -> Option<Pos> {
        let mut p = path;
        loop {
            if let Some(pos) = self.map.get(p) {
                return Some(*pos);
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => return self.map.get("").copied(),
            }
        }
    }

    /// The position of exactly `path`, if it is written in the file.
    pub fn exact(&self, path: &str) -> Option<Pos> {
        self.map.get(path).copied()
    }
}

struct Scanner {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
    out: BTreeMap<String, Pos>,
    duplicates: Vec<Duplicate>,
    spans: BTreeMap<String, (usize, usize)>,
}

fn join(path: &str, seg: &str) -> String {
    if path.is_empty() {
        seg.to_string()
    } else {
        format!("{path}.{seg}")
    }
}

impl Scanner {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('/'), Some('/')) => {
                    while let Some(c) = self.bump() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                (Some('/'), Some('*')) => {
                    self.bump();
                    self.bump();
                    let mut depth = 1;
                    while depth > 0 {
                        match (self.bump(), self.peek()) {
                            (None, _) => return,
                            (Some('*'), Some('/')) => {
                                self.bump();
                                depth -= 1;
                            }
                            (Some('/'), Some('*')) => {
                                self.bump();
                                depth += 1;
                            }
                            _ => {}
                        }
                    }
                }
                _ => return,
            }
        }
    }

    fn ident(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' || c == '#' {
                s.push(c);
                self.bump();
            } else {
                break;
            }
        }
        s
    }

    fn string(&mut self) -> String {
        // Handles "…" with escapes and raw strings r#"…"#.
        let mut s = String::new();
        if self.peek() == Some('r') {
            self.bump();
            let mut hashes = 0;
            while self.peek() == Some('#') {
                self.bump();
                hashes += 1;
            }
            self.bump(); // opening quote
            'outer: while let Some(c) = self.bump() {
                if c == '"' {
                    let mut n = 0;
                    while n < hashes && self.peek() == Some('#') {
                        self.bump();
                        n += 1;
                    }
                    if n == hashes {
                        break 'outer;
                    }
                    s.push('"');
                    s.extend(std::iter::repeat_n('#', n));
                } else {
                    s.push(c);
                }
            }
            return s;
        }
        self.bump(); // opening quote
        while let Some(c) = self.bump() {
            match c {
                '\\' => {
                    if let Some(e) = self.bump() {
                        s.push(e);
                    }
                }
                '"' => break,
                _ => s.push(c),
            }
        }
        s
    }

    /// Scans one value whose dotted path is `path`, and records its span.
    fn value(&mut self, path: &str) {
        self.skip_ws();
        let start = self.i;
        self.value_inner(path);
        // The outermost value of a path wins: `Some(x)` and `Open(x)` keep the path of x.
        self.spans.insert(path.to_string(), (start, self.i));
    }

    fn value_inner(&mut self, path: &str) {
        match self.peek() {
            None => {}
            Some('"') => {
                self.string();
            }
            Some('r') if matches!(self.peek_at(1), Some('"') | Some('#')) => {
                self.string();
            }
            Some('\'') => {
                self.bump();
                while let Some(c) = self.bump() {
                    if c == '\\' {
                        self.bump();
                    } else if c == '\'' {
                        break;
                    }
                }
            }
            Some('[') => {
                self.bump();
                self.sequence(path, ']');
            }
            Some('{') => {
                self.bump();
                self.map(path);
            }
            Some('(') => {
                self.bump();
                self.parens(path, None);
            }
            Some(c) if c.is_alphabetic() || c == '_' => {
                let name = self.ident();
                self.skip_ws();
                if self.peek() == Some('(') {
                    self.bump();
                    self.parens(path, Some(&name));
                }
            }
            Some(_) => {
                // A number or another scalar: consume up to a delimiter.
                while let Some(c) = self.peek() {
                    if c == ',' || c == ')' || c == ']' || c == '}' || c.is_whitespace() {
                        break;
                    }
                    self.bump();
                }
            }
        }
    }

    /// Inside `( … )`: struct fields `name: value` or tuple elements.
    /// Notes `key` at `pos` among the keys already seen in one map or struct.
    fn seen(&mut self, keys: &mut BTreeMap<String, Pos>, within: &str, key: &str, pos: Pos) {
        match keys.get(key) {
            Some(first) => self.duplicates.push(Duplicate {
                within: within.to_string(),
                key: key.to_string(),
                first: *first,
                second: pos,
            }),
            None => {
                keys.insert(key.to_string(), pos);
            }
        }
    }

    fn parens(&mut self, path: &str, name: Option<&str>) {
        let variant_path = name.filter(|n| *n != "Some").map(|n| join(path, n));
        let mut index = 0;
        let mut fields = BTreeMap::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return,
                Some(')') => {
                    self.bump();
                    return;
                }
                Some(',') => {
                    self.bump();
                    continue;
                }
                _ => {}
            }
            // A struct field is an identifier followed by ':' (but not '::').
            let save = (self.i, self.line, self.col);
            let field_pos = self.pos();
            let mut is_field = false;
            if self.peek().is_some_and(|c| c.is_alphabetic() || c == '_') {
                let field = self.ident();
                self.skip_ws();
                if self.peek() == Some(':') {
                    self.bump();
                    is_field = true;
                    self.seen(&mut fields, path, &field, field_pos);
                    let p = join(path, &field);
                    self.out.entry(p.clone()).or_insert(field_pos);
                    if let Some(vp) = &variant_path {
                        self.out.entry(join(vp, &field)).or_insert(field_pos);
                    }
                    self.value(&p);
                    if let Some(vp) = &variant_path {
                        let span = self.spans[&p];
                        self.spans.insert(join(vp, &field), span);
                    }
                }
            }
            if !is_field {
                (self.i, self.line, self.col) = save;
                let elem_pos = self.pos();
                // A newtype (`Some(x)`, `Open(x)`) is transparent: its single element keeps the path.
                let p = if name.is_some() && index == 0 {
                    path.to_string()
                } else {
                    join(path, &index.to_string())
                };
                self.out.entry(p.clone()).or_insert(elem_pos);
                self.value(&p);
                index += 1;
            }
        }
    }

    fn sequence(&mut self, path: &str, close: char) {
        let mut index = 0;
        loop {
            self.skip_ws();
            match self.peek() {
                None => return,
                Some(c) if c == close => {
                    self.bump();
                    return;
                }
                Some(',') => {
                    self.bump();
                    continue;
                }
                _ => {}
            }
            let p = join(path, &index.to_string());
            let pos = self.pos();
            self.out.entry(p.clone()).or_insert(pos);
            let before = self.i;
            self.value(&p);
            if self.i == before {
                self.bump(); // never loop on text the scanner does not understand
            }
            index += 1;
        }
    }

    fn map(&mut self, path: &str) {
        let mut keys = BTreeMap::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return,
                Some('}') => {
                    self.bump();
                    return;
                }
                Some(',') => {
                    self.bump();
                    continue;
                }
                _ => {}
            }
            let pos = self.pos();
            let key = match self.peek() {
                Some('"') => self.string(),
                _ => {
                    let start = self.i;
                    while let Some(c) = self.peek() {
                        if c == ':' || c.is_whitespace() {
                            break;
                        }
                        self.bump();
                    }
                    if self.i == start {
                        self.bump();
                    }
                    self.chars[start..self.i].iter().collect()
                }
            };
            self.skip_ws();
            if self.peek() == Some(':') {
                self.bump();
            }
            self.seen(&mut keys, path, &key, pos);
            let p = join(path, &key);
            self.out.entry(p.clone()).or_insert(pos);
            self.value(&p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"// a comment with (parens: "and quotes"
System(
    nodes: Nodes(count: 3, workers: 32,
        service: Exp(mean: "12ms")),
    /* block */ faults: [Crash(node: 1, at: "8m"), Slow(node: 2, factor: 3.0)],
    variants: { "in-memory": Variant(model: "a.ron"), sticky: Variant(set: {"x.y": "1"}) },
    limit: Some(256),
)"#;

    #[test]
    fn finds_fields_elements_and_map_keys() {
        let l = Locations::scan(TEXT);
        assert_eq!(l.exact("nodes"), Some(Pos { line: 3, col: 5 }));
        assert_eq!(l.exact("nodes.workers"), Some(Pos { line: 3, col: 28 }));
        assert_eq!(
            l.exact("nodes.service.mean"),
            Some(Pos { line: 4, col: 22 })
        );
        assert_eq!(
            l.exact("nodes.service.Exp.mean"),
            Some(Pos { line: 4, col: 22 })
        );
        assert_eq!(l.exact("faults.1.factor"), Some(Pos { line: 5, col: 66 }));
        assert_eq!(
            l.exact("variants.in-memory.model"),
            Some(Pos { line: 6, col: 38 })
        );
        assert_eq!(
            l.exact("variants.sticky.set.x.y"),
            Some(Pos { line: 6, col: 77 })
        );
        assert_eq!(l.exact("limit"), Some(Pos { line: 7, col: 5 }));
    }

    #[test]
    fn reports_keys_written_twice_in_one_map_with_both_places() {
        let text = "Experiment(\n  variants: {\n    \"a\": Variant(),\n    \"a\": Variant(set: {\"x\": \"1\", x: \"2\"}),\n  },\n  mix: {\"a\": 1.0},\n)";
        let l = Locations::scan(text);
        let d = l.duplicates();
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!((d[0].within.as_str(), d[0].key.as_str()), ("variants", "a"));
        assert_eq!((d[0].first.line, d[0].second.line), (3, 4));
        assert_eq!(
            d[1],
            Duplicate {
                within: "variants.a.set".into(),
                key: "x".into(),
                first: Pos { line: 4, col: 24 },
                second: Pos { line: 4, col: 34 },
            }
        );
        // The same key in two different maps is not a repeat.
        assert!(Locations::scan(TEXT).duplicates().is_empty());
    }

    #[test]
    fn records_the_span_of_every_value() {
        let text = r#"E(a: Some(3), w: Open(rate: 2.5, mix: {"x": 1.0}), f: [C(n: 1), "s"])"#;
        let l = Locations::scan(text);
        let span = |p: &str| {
            let (s, e) = l.spans()[p];
            text.chars().skip(s).take(e - s).collect::<String>()
        };
        assert_eq!(span("a"), "Some(3)");
        assert_eq!(span("w"), "Open(rate: 2.5, mix: {\"x\": 1.0})");
        assert_eq!(span("w.rate"), "2.5");
        assert_eq!(span("w.Open.rate"), "2.5");
        assert_eq!(span("w.mix.x"), "1.0");
        assert_eq!(span("f.0.n"), "1");
        assert_eq!(span("f.1"), "\"s\"");
        assert_eq!(span(""), text);
    }

    #[test]
    fn names_the_field_a_position_is_in() {
        let l = Locations::scan(TEXT);
        assert_eq!(
            l.last_before(Pos { line: 3, col: 31 }),
            Some("nodes.workers")
        );
        assert_eq!(l.last_before(Pos { line: 3, col: 28 }), Some("nodes.count"));
        assert_eq!(
            l.last_before(Pos { line: 4, col: 30 }),
            Some("nodes.service.mean")
        );
    }

    #[test]
    fn finds_steps_branches_links_and_fault_targets_of_a_graph() {
        let text = r#"System(
    services: {"web": Service(instances: 2, workers: 8, service: Exp(mean: "5ms"))},
    requests: {
        "browse": [Call("web"), Parallel(branches: [[Get("c")], [Read("db"), Write("db")]], wait_for: First(1))],
    },
    network: Network(links: {"shoppers->web": Const(value: "1ms")}),
    faults: [Crash(service: "web", instance: 1, at: "2s")],
)"#;
        let l = Locations::scan(text);
        let at = |line, col| Some(Pos { line, col });
        assert_eq!(l.exact("services.web.workers"), at(2, 45));
        assert_eq!(l.exact("requests.browse.0"), at(4, 20));
        assert_eq!(l.exact("requests.browse.1"), at(4, 33));
        assert_eq!(l.exact("requests.browse.1.branches.0.0"), at(4, 54));
        assert_eq!(l.exact("requests.browse.1.branches.1.1"), at(4, 78));
        assert_eq!(l.exact("requests.browse.1.Parallel.wait_for"), at(4, 93));
        assert_eq!(l.exact("network.links.shoppers->web"), at(6, 30));
        assert_eq!(l.exact("faults.0.instance"), at(7, 36));
        // The contents of a newtype variant keep its path: `Call("web")` is the step.
        let (s, e) = l.spans()["requests.browse.0"];
        assert_eq!(
            text.chars().skip(s).take(e - s).collect::<String>(),
            "Call(\"web\")"
        );
    }

    #[test]
    fn falls_back_to_the_nearest_ancestor() {
        let l = Locations::scan(TEXT);
        assert_eq!(l.find("nodes.queue_limit"), l.exact("nodes"));
        assert_eq!(l.find("nothing.here"), Some(Pos { line: 2, col: 1 }));
    }
}
