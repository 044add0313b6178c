//! Axes into points: each axis's values as override texts, combined as a full grid or
//! zipped. A point is one assignment of a value to every axis; its index is its position
//! in this order (the last axis varies fastest), which fixes its seeds.

use super::spec::{AxisSpec, Combine, ValueSpec, ValuesSpec};

/// One axis with its values expanded to the texts given to the override mechanism.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// The dotted parameter path (also its column name in the CSV files).
    pub path: String,
    /// The values, as override texts.
    pub values: Vec<String>,
}

/// Formats a generated number: integers without a fraction, others exactly enough to
/// read back the same value.
fn number_text(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        // Keep 12 significant digits: removes the 0.1 + 0.2 noise of generated steps.
        let s = format!("{:.*e}", 11, v);
        let back: f64 = s.parse().unwrap_or(v);
        let plain = format!("{back}");
        if plain.len() <= 20 {
            plain
        } else {
            format!("{back:e}")
        }
    }
}

fn finish(mut values: Vec<f64>, integer: bool) -> Vec<String> {
    if integer {
        for v in &mut values {
            *v = v.round();
        }
        values.dedup();
    }
    values.into_iter().map(number_text).collect()
}

/// How many values an axis has (before integer rounding drops repeats), computed without
/// making them: a size to check before anything is allocated.
pub fn count(spec: &ValuesSpec) -> u128 {
    match spec {
        ValuesSpec::List(items) => items.len() as u128,
        ValuesSpec::Linear { steps, .. } | ValuesSpec::Geometric { steps, .. } => *steps as u128,
        ValuesSpec::Range { from, to, step } => {
            let n = (to - from) / step;
            if n.is_finite() && n >= 0.0 {
                // Saturates for huge ratios, which the bound then refuses.
                (n + 1e-9).floor() as u128 + 1
            } else {
                // Not finite or the wrong sign: `expand` says why.
                1
            }
        }
    }
}

/// The error for an axis with more values, or a grid with more points, than the sweep
/// may run: `what` is "values" or "points".
pub fn too_many(subject: &str, n: u128, what: &str, max: u128) -> String {
    format!(
        "{subject} has {} {what}, more than the {} the sweep's run limit leaves for it (max_runs ÷ replications): use fewer, or raise `max_runs` in the sweep file",
        crate::config::budget::count_text(n),
        crate::config::budget::count_text(max)
    )
}

/// Expands an axis's values, refusing more than `max_values` before making any; the error
/// says what is wrong with them.
pub fn expand(spec: &ValuesSpec, max_values: u128) -> Result<Vec<String>, String> {
    let n = count(spec);
    if n > max_values {
        return Err(too_many("the axis", n, "values", max_values));
    }
    let finite = |name: &str, v: f64| {
        if v.is_finite() {
            Ok(())
        } else {
            Err(format!("`{name}` must be a finite number, found {v}"))
        }
    };
    let out = match spec {
        ValuesSpec::List(items) => items
            .iter()
            .map(|v| match v {
                ValueSpec::Int(i) => i.to_string(),
                ValueSpec::Float(f) => number_text(*f),
                ValueSpec::Bool(b) => b.to_string(),
                ValueSpec::Text(t) => t.clone(),
            })
            .collect(),
        ValuesSpec::Linear {
            from,
            to,
            steps,
            integer,
        } => {
            finite("from", *from)?;
            finite("to", *to)?;
            let n = *steps as usize;
            if n == 0 {
                return Err("`steps` must be at least 1".into());
            }
            let vals = (0..n)
                .map(|i| {
                    if n == 1 {
                        *from
                    } else {
                        from + (to - from) * i as f64 / (n - 1) as f64
                    }
                })
                .collect();
            finish(vals, *integer)
        }
        ValuesSpec::Geometric {
            from,
            to,
            steps,
            integer,
        } => {
            finite("from", *from)?;
            finite("to", *to)?;
            if *from <= 0.0 || *to <= 0.0 {
                return Err(format!(
                    "a geometric axis needs `from` and `to` above 0, found {from} and {to}"
                ));
            }
            let n = *steps as usize;
            if n == 0 {
                return Err("`steps` must be at least 1".into());
            }
            let ratio = to / from;
            let vals = (0..n)
                .map(|i| {
                    if i == 0 {
                        *from
                    } else if i == n - 1 {
                        *to
                    } else {
                        from * ratio.powf(i as f64 / (n - 1) as f64)
                    }
                })
                .collect();
            finish(vals, *integer)
        }
        ValuesSpec::Range { from, to, step } => {
            finite("from", *from)?;
            finite("to", *to)?;
            finite("step", *step)?;
            if *step == 0.0 || (to - from) / step < 0.0 {
                return Err(format!(
                    "`step` {step} never leads from {from} to {to}: give it the sign of to − from and a size above 0"
                ));
            }
            let count = n as usize;
            finish((0..count).map(|i| from + step * i as f64).collect(), false)
        }
    };
    if out.is_empty() {
        return Err("the axis has no values".into());
    }
    Ok(out)
}

/// Expands every axis, each to at most `max_values` values (errors carry the axis index).
pub fn axes(specs: &[AxisSpec], max_values: u128) -> Result<Vec<Axis>, (usize, String)> {
    specs
        .iter()
        .enumerate()
        .map(|(i, a)| {
            expand(&a.values, max_values)
                .map(|values| Axis {
                    path: a.path.clone(),
                    values,
                })
                .map_err(|m| (i, m))
        })
        .collect()
}

/// The number of points of axes with these value counts, computed without making them
/// (`None`: zipped axes of different lengths, which [`points`] explains).
pub fn point_count(counts: &[u128], combine: Combine) -> Option<u128> {
    match combine {
        Combine::Zip => match counts.first() {
            None => Some(1),
            Some(&n) => counts.iter().all(|&c| c == n).then_some(n),
        },
        Combine::Grid => Some(counts.iter().fold(1u128, |acc, &c| acc.saturating_mul(c))),
    }
}

/// The points: for each, the index of its value on every axis. No axes: one point. More
/// than `max_points` are refused before any is made.
pub fn points(
    axes: &[Axis],
    combine: Combine,
    max_points: u128,
) -> Result<Vec<Vec<usize>>, String> {
    match combine {
        Combine::Zip => {
            let Some(first) = axes.first() else {
                return Ok(vec![vec![]]);
            };
            let n = first.values.len();
            if let Some(a) = axes.iter().find(|a| a.values.len() != n) {
                return Err(format!(
                    "zipped axes need the same number of values: `{}` has {n}, `{}` has {}",
                    first.path,
                    a.path,
                    a.values.len()
                ));
            }
            Ok((0..n).map(|i| vec![i; axes.len()]).collect())
        }
        Combine::Grid => {
            let counts: Vec<u128> = axes.iter().map(|a| a.values.len() as u128).collect();
            let total = point_count(&counts, Combine::Grid).expect("a grid always has a count");
            if total > max_points {
                return Err(too_many("the grid", total, "points", max_points));
            }
            let total = total as usize;
            let mut out = Vec::with_capacity(total);
            for mut k in 0..total {
                let mut idx = vec![0; axes.len()];
                for (j, a) in axes.iter().enumerate().rev() {
                    idx[j] = k % a.values.len();
                    k /= a.values.len();
                }
                out.push(idx);
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_geometric_range() {
        let lin = ValuesSpec::Linear {
            from: 500.0,
            to: 2000.0,
            steps: 4,
            integer: false,
        };
        assert_eq!(expand(&lin, 100).unwrap(), ["500", "1000", "1500", "2000"]);
        let geo = ValuesSpec::Geometric {
            from: 1.0,
            to: 64.0,
            steps: 7,
            integer: true,
        };
        assert_eq!(
            expand(&geo, 100).unwrap(),
            ["1", "2", "4", "8", "16", "32", "64"]
        );
        let r = ValuesSpec::Range {
            from: 0.1,
            to: 0.5,
            step: 0.1,
        };
        assert_eq!(
            expand(&r, 100).unwrap(),
            ["0.1", "0.2", "0.3", "0.4", "0.5"]
        );
        let frac = ValuesSpec::Linear {
            from: 0.0,
            to: 1.0,
            steps: 4,
            integer: false,
        };
        assert_eq!(
            expand(&frac, 100).unwrap(),
            ["0", "0.333333333333", "0.666666666667", "1"]
        );
    }

    #[test]
    fn grid_and_zip() {
        let a = Axis {
            path: "a".into(),
            values: vec!["1".into(), "2".into()],
        };
        let b = Axis {
            path: "b".into(),
            values: vec!["x".into(), "y".into(), "z".into()],
        };
        let g = points(&[a.clone(), b.clone()], Combine::Grid, 100).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g[1], [0, 1]);
        assert_eq!(g[3], [1, 0]);
        assert!(points(&[a.clone(), b], Combine::Zip, 100).is_err());
        assert_eq!(
            points(&[a.clone(), a], Combine::Zip, 100).unwrap(),
            [[0, 0], [1, 1]]
        );
        assert_eq!(
            points(&[], Combine::Grid, 100).unwrap(),
            [Vec::<usize>::new()]
        );
    }
}
