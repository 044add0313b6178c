//! Claims: what an experiment says its run shows, written as data and checked on the run.
//!
//! An experiment lists its claims in `expect: [...]`, each a comparison of summary figures:
//!
//! ```text
//! in-memory.sessions.spurious_logout_fraction > 0.7
//! sharded-16.locks.committed > 1.4 * global.locks.committed
//! *.requests.in_flight < 100
//! ```
//!
//! A side is a number or a reference `<variant>.<dotted summary.json path>`, optionally
//! multiplied by a number written first (`0.5 * a.x`); the operators are `<`, `<=`, `>`,
//! `>=`, `==` and `!=`, with spaces around them. The variant `*` stands for every variant
//! in turn (on both sides at once), and the claim holds only if it holds for each.
//!
//! Claims are checked at load time against the variants and the summary's shape
//! ([`parse_in`] with the variants' [`Shape`]: a graph variant's summary has its
//! components' figures, `db.main.peak_qps`), so a typo is an error naming the file and
//! line, and after the run ([`check`]): a claim that does not hold is a finding about the
//! run, not an error. A figure path walks `summary.json`, taking the longest run of
//! segments that is a key (`variant.db.main.peak_qps` reads `peak_qps` of `db.main`).

mod parse;
mod paths;

pub use parse::{parse, parse_in};
pub use paths::Shape;

use crate::metrics::Summary;
use serde::Serialize;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    fn holds(self, l: f64, r: f64) -> bool {
        match self {
            Op::Lt => l < r,
            Op::Le => l <= r,
            Op::Gt => l > r,
            Op::Ge => l >= r,
            Op::Eq => l == r,
            Op::Ne => l != r,
        }
    }
}

/// Which variant a reference reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VariantRef {
    /// The variant of that name.
    Named(String),
    /// Every variant in turn (`*`).
    Each,
}

/// One side of a claim: `factor × term`.
#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    /// The multiplier written before the term (1 when none is).
    pub factor: f64,
    /// A number or a figure.
    pub term: Term,
}

/// A number or a summary figure.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// A literal number.
    Number(f64),
    /// The figure at `path` (dotted, as in `summary.json`) of a variant.
    Figure {
        /// Whose summary.
        variant: VariantRef,
        /// The dotted path, e.g. `sessions.spurious_logouts`.
        path: String,
    },
}

/// A parsed, validated claim.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The claim as written.
    pub text: String,
    /// The left side.
    pub lhs: Side,
    /// The comparison.
    pub op: Op,
    /// The right side.
    pub rhs: Side,
}

/// What a claim came to on a run: the shape of each entry of `claims.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// The claim as written.
    pub text: String,
    /// Whether the run shows it.
    pub held: bool,
    /// The figures it compared, e.g. `in-memory: 0.87` (`absent` for a component the
    /// variant does not have).
    pub detail: String,
}

impl Claim {
    fn uses_each(&self) -> bool {
        [&self.lhs, &self.rhs].iter().any(|s| {
            matches!(
                &s.term,
                Term::Figure {
                    variant: VariantRef::Each,
                    ..
                }
            )
        })
    }

    /// Checks the claim on the summaries of one run of the experiment (one per variant).
    pub fn check(&self, summaries: &[Summary]) -> Outcome {
        let trees: Vec<(String, serde_json::Value)> = summaries
            .iter()
            .map(|s| {
                let tree = s.to_json_value();
                (s.variant.clone(), tree)
            })
            .collect();
        // Without `*` the claim is checked once; with it, once per variant.
        let instances: Vec<Option<&str>> = if self.uses_each() {
            trees.iter().map(|(v, _)| Some(v.as_str())).collect()
        } else {
            vec![None]
        };
        let many = instances.len() > 1;
        let mut held = !instances.is_empty();
        let mut detail: Vec<String> = Vec::new();
        for each in instances {
            let mut seen: Vec<(String, String)> = Vec::new();
            let mut value = |side: &Side| -> Option<f64> {
                let (variant, path) = match &side.term {
                    Term::Number(x) => return Some(side.factor * x),
                    Term::Figure { variant, path } => (variant, path),
                };
                let name = match variant {
                    VariantRef::Named(n) => n.as_str(),
                    VariantRef::Each => each.unwrap_or(""),
                };
                let raw = trees
                    .iter()
                    .find(|(v, _)| v == name)
                    .and_then(|(_, t)| paths::number_at(t, path));
                let shown = raw.map_or("absent".to_string(), show);
                match seen.last_mut() {
                    Some((v, text)) if v == name => *text = format!("{text} vs {shown}"),
                    _ => seen.push((name.to_string(), shown)),
                }
                raw.map(|x| side.factor * x)
            };
            let (l, r) = (value(&self.lhs), value(&self.rhs));
            let ok = matches!((l, r), (Some(l), Some(r)) if self.op.holds(l, r));
            held &= ok;
            for (i, (v, text)) in seen.iter().enumerate() {
                let mark = if many && !ok && i + 1 == seen.len() {
                    " ✗"
                } else {
                    ""
                };
                detail.push(format!("{v}: {text}{mark}"));
            }
        }
        Outcome {
            text: self.text.clone(),
            held,
            detail: detail.join(", "),
        }
    }
}

/// Checks every claim on the run's summaries, in the order they are written.
pub fn check(claims: &[Claim], summaries: &[Summary]) -> Vec<Outcome> {
    claims.iter().map(|c| c.check(summaries)).collect()
}

/// `claims.json`: `{"claims": [{"text": …, "held": …, "detail": …}, …]}`.
pub fn to_json(outcomes: &[Outcome]) -> serde_json::Value {
    serde_json::json!({ "claims": outcomes })
}

/// The lines `scalesim run` prints: a count, then each claim with ✓ or ✗ and its figures.
/// Empty when there are no claims.
pub fn render(outcomes: &[Outcome]) -> String {
    if outcomes.is_empty() {
        return String::new();
    }
    let held = outcomes.iter().filter(|o| o.held).count();
    let mut out = format!("claims: {held} of {} held", outcomes.len());
    if held < outcomes.len() {
        out.push_str(&format!(
            " — {} NOT held (a finding about this run, not an error)",
            outcomes.len() - held
        ));
    }
    out.push('\n');
    let width = outcomes
        .iter()
        .map(|o| o.text.chars().count())
        .max()
        .unwrap_or(0);
    for o in outcomes {
        let mark = if o.held { "✓" } else { "✗" };
        out.push_str(&format!("  {mark} {:<width$}  ({})\n", o.text, o.detail));
    }
    out
}

/// A figure as the detail shows it: integers whole, others to 4 significant digits.
fn show(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
        format!("{x:.digits$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(variant: &str, in_flight: u64) -> Summary {
        let mut s = Summary {
            variant: variant.into(),
            ..Default::default()
        };
        s.requests.in_flight = in_flight;
        s.requests.issued = 1000;
        s
    }

    fn claim(text: &str) -> Claim {
        parse(text, &["a".into(), "b.v2".into(), "b".into()]).unwrap()
    }

    #[test]
    fn a_named_claim_reports_its_figures() {
        let runs = [summary("a", 3), summary("b", 7), summary("b.v2", 9)];
        let o = claim("a.requests.in_flight < b.requests.in_flight").check(&runs);
        assert!(o.held);
        assert_eq!(o.detail, "a: 3, b: 7");
        let o = claim("b.v2.requests.in_flight <= 0.5 * b.requests.in_flight").check(&runs);
        assert!(!o.held);
        assert_eq!(o.detail, "b.v2: 9, b: 7");
        let o = claim("a.requests.in_flight == 3").check(&runs);
        assert!(o.held, "{o:?}");
        assert_eq!(o.detail, "a: 3");
    }

    #[test]
    fn each_variant_must_hold_and_the_failing_one_is_marked() {
        let runs = [summary("a", 3), summary("b", 7), summary("b.v2", 9)];
        let o = claim("*.requests.in_flight < 8").check(&runs);
        assert!(!o.held);
        assert_eq!(o.detail, "a: 3, b: 7, b.v2: 9 ✗");
        let o = claim("*.requests.in_flight < 0.01 * *.requests.issued").check(&runs);
        assert!(o.held, "{o:?}");
        assert_eq!(o.detail, "a: 3 vs 1000, b: 7 vs 1000, b.v2: 9 vs 1000");
    }

    #[test]
    fn an_absent_component_does_not_hold_either_way() {
        let runs = [summary("a", 3)];
        for text in ["a.locks.lost_updates == 0", "a.locks.lost_updates != 0"] {
            let o = claim(text).check(&runs);
            assert!(!o.held, "{text}");
            assert_eq!(o.detail, "a: absent");
        }
    }

    #[test]
    fn a_graph_components_figure_resolves_through_its_dotted_key() {
        use crate::metrics::fixture::graph_summary_of;
        let runs = [graph_summary_of("a", 12.0), graph_summary_of("b.v2", 8.0)];
        let shape = Shape::default()
            .with_graph(
                "a",
                crate::metrics::schema::DATABASE
                    .figures
                    .iter()
                    .map(|m| format!("db.main.{}", m.name))
                    .collect(),
            )
            .with_graph("b.v2", vec!["db.main.peak_qps".into()]);
        let claim = |t: &str| parse_in(t, &["a".into(), "b.v2".into()], &shape).unwrap();
        let o = claim("a.db.main.peak_qps > 10").check(&runs);
        assert!(o.held, "{o:?}");
        assert_eq!(o.detail, "a: 12");
        let o = claim("*.db.main.peak_qps > 10").check(&runs);
        assert!(!o.held);
        assert_eq!(o.detail, "a: 12, b.v2: 8 ✗");
        let o = claim("b.v2.db.main.peak_qps < 0.7 * a.db.main.peak_qps").check(&runs);
        assert!(o.held, "{o:?}");
        // Not measurable (null in the JSON): the claim does not hold either way.
        for t in ["a.db.main.wait_ms_p99 < 5", "a.db.main.wait_ms_p99 >= 5"] {
            let o = claim(t).check(&runs);
            assert!(!o.held && o.detail == "a: absent", "{t}: {o:?}");
        }
        // Request-level figures are where they always were.
        assert!(claim("a.requests.issued == 3000").check(&runs).held);
    }

    #[test]
    fn the_rendering_counts_and_marks() {
        let runs = [summary("a", 3)];
        let out = check(
            &[
                claim("a.requests.in_flight == 3"),
                claim("a.requests.in_flight > 3"),
            ],
            &runs,
        );
        let text = render(&out);
        assert!(
            text.starts_with("claims: 1 of 2 held — 1 NOT held"),
            "{text}"
        );
        assert!(
            text.contains("✓ a.requests.in_flight == 3  (a: 3)"),
            "{text}"
        );
        assert!(
            text.contains("✗ a.requests.in_flight > 3   (a: 3)"),
            "{text}"
        );
        assert_eq!(
            to_json(&out)["claims"][1],
            serde_json::json!({"text": "a.requests.in_flight > 3", "held": false, "detail": "a: 3"})
        );
    }
}
