//! Reading a claim: `side op side`, where a side is `[number *] (number | variant.path)`.

use super::{paths, Claim, Op, Side, Term, VariantRef};

const OPS: [(&str, Op); 6] = [
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("==", Op::Eq),
    ("!=", Op::Ne),
    ("<", Op::Lt),
    (">", Op::Gt),
];

const FORM: &str = "write `<variant>.<summary path> <op> <number or variant.path>`, with an \
                    optional factor (`0.5 * variant.path`) and spaces around the operator \
                    (< <= > >= == !=)";

/// Parses `text` against the experiment's variant names, each a single-tier run. The
/// error says what is wrong (and not where: the caller knows the file and line).
pub fn parse(text: &str, variants: &[String]) -> Result<Claim, String> {
    parse_in(text, variants, &paths::Shape::default())
}

/// Parses `text` against the experiment's variant names and the shape of their summaries
/// (graph variants have their components' figures, single-tier ones the fixed parts).
pub fn parse_in(text: &str, variants: &[String], shape: &paths::Shape) -> Result<Claim, String> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let op_at: Vec<usize> = tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| OPS.iter().any(|(o, _)| o == *t))
        .map(|(i, _)| i)
        .collect();
    let i = match op_at.as_slice() {
        [i] => *i,
        [] => {
            let glued = OPS.iter().find(|(o, _)| text.contains(o));
            return Err(match glued {
                Some((o, _)) => format!("put spaces around `{o}`; {FORM}"),
                None => format!("no comparison; {FORM}"),
            });
        }
        _ => return Err(format!("more than one comparison; {FORM}")),
    };
    let op = OPS
        .iter()
        .find(|(o, _)| *o == tokens[i])
        .map(|(_, op)| *op)
        .expect("found above");
    let lhs = side(&tokens[..i], variants, shape)?;
    let rhs = side(&tokens[i + 1..], variants, shape)?;
    if matches!(lhs.term, Term::Number(_)) && matches!(rhs.term, Term::Number(_)) {
        return Err(format!("it compares two numbers: name a figure; {FORM}"));
    }
    Ok(Claim {
        text: text.trim().to_string(),
        lhs,
        op,
        rhs,
    })
}

fn side(tokens: &[&str], variants: &[String], shape: &paths::Shape) -> Result<Side, String> {
    match tokens {
        [t] => Ok(Side {
            factor: 1.0,
            term: term(t, variants, shape)?,
        }),
        [f, "*", t] => {
            let factor = number(f).ok_or_else(|| format!("`{f}` is not a number; {FORM}"))?;
            Ok(Side {
                factor,
                term: term(t, variants, shape)?,
            })
        }
        [] => Err(format!("a side of the comparison is empty; {FORM}")),
        _ => Err(format!("`{}` is not one side; {FORM}", tokens.join(" "))),
    }
}

fn number(t: &str) -> Option<f64> {
    t.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn term(t: &str, variants: &[String], shape: &paths::Shape) -> Result<Term, String> {
    // The longest variant name the token starts with (names may contain dots).
    let named = variants
        .iter()
        .filter(|v| {
            t.len() > v.len() + 1 && t.starts_with(v.as_str()) && t[v.len()..].starts_with('.')
        })
        .max_by_key(|v| v.len());
    let (variant, path) = if let Some(v) = named {
        (VariantRef::Named(v.clone()), &t[v.len() + 1..])
    } else if let Some(path) = t.strip_prefix("*.") {
        (VariantRef::Each, path)
    } else if let Some(x) = number(t) {
        return Ok(Term::Number(x));
    } else {
        let given = t.split('.').next().unwrap_or(t);
        let names: Vec<&str> = variants.iter().map(String::as_str).collect();
        let hint = crate::config::error::did_you_mean(given, &names)
            .map(|v| format!(" (did you mean `{v}`?)"))
            .unwrap_or_default();
        return Err(format!(
            "`{t}` names no variant of this experiment{hint}: it has {}, or `*` for each",
            names.join(", ")
        ));
    };
    let which = match &variant {
        VariantRef::Named(v) => Some(v.as_str()),
        VariantRef::Each => None,
    };
    shape.check(which, path)?;
    Ok(Term::Figure {
        variant,
        path: path.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vs() -> Vec<String> {
        ["in-memory", "sharded", "sharded.16"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn the_forms_parse() {
        let c = parse(
            "sharded.16.locks.committed > 1.5 * sharded.locks.committed",
            &vs(),
        )
        .unwrap();
        assert_eq!(
            c.lhs.term,
            Term::Figure {
                variant: VariantRef::Named("sharded.16".into()),
                path: "locks.committed".into()
            }
        );
        assert_eq!(c.op, Op::Gt);
        assert_eq!(c.rhs.factor, 1.5);
        let c = parse("0 == *.requests.in_flight", &vs()).unwrap();
        assert_eq!(c.lhs.term, Term::Number(0.0));
        assert!(matches!(
            c.rhs.term,
            Term::Figure {
                variant: VariantRef::Each,
                ..
            }
        ));
    }

    #[test]
    fn mistakes_are_named() {
        let err = |t: &str| parse(t, &vs()).unwrap_err();
        assert!(err("in-memory.goodput_rps>5").contains("put spaces around `>`"));
        assert!(err("in-memory.goodput_rps 5").contains("no comparison"));
        assert!(err("in-memory.goodput_rps > 5 > 3").contains("more than one"));
        let e = err("in-memroy.goodput_rps > 5");
        assert!(
            e.contains("names no variant") && e.contains("did you mean `in-memory`"),
            "{e}"
        );
        assert!(err("in-memory.goodput > 5").contains("has no `goodput`"));
        assert!(err("1 < 2").contains("two numbers"));
        assert!(err("x * in-memory.goodput_rps > 5").contains("`x` is not a number"));
        assert!(err("in-memory.goodput_rps >").contains("empty"));
    }
}
