//! Sweep plots from `DIR/points.csv`: each chosen figure against a sweep axis, one line per
//! variant with its confidence band; and, for two axes, a heat map per variant (e.g. the
//! share of runs that never recovered over trigger length × load: the metastability
//! boundary).
//!
//! What is assumed of `points.csv` (one row per sweep point):
//! - a figure `F` has the column `F_mean`, and optionally `F_ci95_lo` and `F_ci95_hi` (the
//!   95% confidence band, as `scalesim sweep` writes it; the older `F_ci_lo`/`F_ci_hi` are
//!   read too) and `F_sd`;
//! - an axis cell is a number, a duration with its unit (`"500ms"`, drawn in seconds) or a
//!   text (drawn in order of first appearance);
//! - a `variant` column, if present, names the variant (one line per variant);
//! - the axis columns are listed in `DIR/sweep.json` as `{"axes": ["a", "b"]}` (strings, or
//!   objects with a `name`); without that file, every other numeric column with more than
//!   one distinct value is an axis, except `seed`, `n`, `runs`, `replications`; `--x` and
//!   `--y` choose the axes explicitly;
//! - axes whose values move together (`combine: Zip`: each value of one goes with exactly
//!   one value of the other) are one curve against the first of them, not a grid;
//! - with more than two axes, the points at the first value of the other axes are drawn.

use super::draw::{self, Line, Panel, Plot};
use super::series::Table;
use super::{html, init_fonts, write_png, PlotError, PlotOutcome};
use crate::output::{self, write_atomic};
use plotters::prelude::*;
use std::path::Path;

/// The statistic suffixes of a figure's columns.
const STAT_SUFFIXES: [&str; 8] = [
    "_mean", "_sd", "_ci95_lo", "_ci95_hi", "_ci_lo", "_ci_hi", "_n", "_median",
];
/// Columns that are never axes.
const NOT_AXES: [&str; 7] = [
    "point",
    "variant",
    "seed",
    "n",
    "runs",
    "replications",
    "experiment",
];
/// The figures drawn when none is asked for (those present; all figures if none is).
const PREFERRED: [&str; 7] = [
    "goodput_rps",
    "latency_ms_p99",
    "recovery_seconds",
    "never_recovered",
    "retry_amplification",
    "availability_requests_share",
    "cost_total",
];

/// What to draw from a sweep.
#[derive(Clone, Debug, Default)]
pub struct SweepOptions {
    /// The x axis column (default: the first axis).
    pub x: Option<String>,
    /// The second axis for heat maps (default: the second axis, if any).
    pub y: Option<String>,
    /// Figures to draw (default: [`PREFERRED`] present, else all).
    pub figures: Vec<String>,
}

/// The axes of a sweep: from `sweep.json`, else detected from `points.csv`.
pub fn axes(dir: &Path, points: &Table) -> Vec<String> {
    if let Ok(text) = std::fs::read_to_string(dir.join("sweep.json")) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            let names: Vec<String> = match &v["axes"] {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| {
                        x.as_str()
                            .or_else(|| x["name"].as_str())
                            .or_else(|| x["path"].as_str())
                            .map(str::to_string)
                    })
                    .collect(),
                serde_json::Value::Object(m) => m.keys().cloned().collect(),
                _ => Vec::new(),
            };
            let names: Vec<String> = names.into_iter().filter(|n| points.has(n)).collect();
            if !names.is_empty() {
                return names;
            }
        }
    }
    points
        .columns
        .iter()
        .filter(|c| !NOT_AXES.contains(&c.as_str()))
        .filter(|c| !STAT_SUFFIXES.iter().any(|s| c.ends_with(s)))
        .filter(|c| AxisColumn::read(points, c).is_some_and(|a| distinct(&a.values).len() > 1))
        .cloned()
        .collect()
}

/// A sweep axis read back from `points.csv`, as numbers to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisColumn {
    /// The axis' description on a plot (the column, with `(s)` for durations).
    pub desc: String,
    /// One value per row: the number, the duration in seconds, or the index of the text in
    /// order of first appearance.
    pub values: Vec<f64>,
}

impl AxisColumn {
    /// Reads the axis column `name`; `None` if absent or with an empty cell.
    pub fn read(points: &Table, name: &str) -> Option<AxisColumn> {
        let cells = points.texts(name)?;
        if cells.iter().any(|c| c.trim().is_empty()) {
            return None;
        }
        let numbers: Option<Vec<f64>> = cells
            .iter()
            .map(|c| c.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect();
        if let Some(values) = numbers {
            return Some(AxisColumn {
                desc: name.to_string(),
                values,
            });
        }
        // A duration axis ("500ms", "2s"): the sweep writes the values as the file had them.
        let secs: Option<Vec<f64>> = cells
            .iter()
            .map(|c| crate::config::Duration::parse(c).ok().map(|d| d.secs_f64()))
            .collect();
        if let Some(values) = secs {
            return Some(AxisColumn {
                desc: format!("{name} (s)"),
                values,
            });
        }
        let mut order: Vec<&str> = Vec::new();
        let values = cells
            .iter()
            .map(|c| match order.iter().position(|o| o == c) {
                Some(i) => i as f64,
                None => {
                    order.push(c);
                    (order.len() - 1) as f64
                }
            })
            .collect();
        let key: Vec<String> = order
            .iter()
            .enumerate()
            .map(|(i, o)| format!("{i} = {o}"))
            .collect();
        Some(AxisColumn {
            desc: format!("{name} ({})", key.join(", ")),
            values,
        })
    }
}

/// Whether two axes move together: each value of `a` appears with exactly one value of `b`
/// and the other way round (a zipped sweep), so they make one curve, not a grid.
pub fn zipped(a: &[f64], b: &[f64]) -> bool {
    let mut pairs: Vec<(f64, f64)> = a.iter().copied().zip(b.iter().copied()).collect();
    pairs.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1)));
    pairs.dedup();
    let n = pairs.len();
    n > 1 && distinct(a).len() == n && distinct(b).len() == n
}

/// The figures of `points.csv`: every `F` with an `F_mean` column.
pub fn figures(points: &Table) -> Vec<String> {
    points
        .columns
        .iter()
        .filter_map(|c| c.strip_suffix("_mean"))
        .map(str::to_string)
        .collect()
}

fn distinct(v: &[f64]) -> Vec<f64> {
    let mut d: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    d.sort_by(f64::total_cmp);
    d.dedup();
    d
}

/// A figure's confidence band edge (`lo` or `hi`): `F_ci95_lo` as `scalesim sweep` writes
/// it, else the older `F_ci_lo`.
fn band_column(points: &Table, figure: &str, edge: &str) -> Option<Vec<f64>> {
    points
        .numbers(&format!("{figure}_ci95_{edge}"))
        .or_else(|| points.numbers(&format!("{figure}_ci_{edge}")))
}

fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Draws a sweep directory's plots into `dir/plots/` and a `dir/report.html` showing them.
pub fn plot_sweep_dir(
    dir: &Path,
    opts: &SweepOptions,
    png: bool,
) -> Result<PlotOutcome, PlotError> {
    init_fonts();
    let points = Table::read(&dir.join("points.csv"))?;
    let all_axes = axes(dir, &points);
    let x = opts
        .x
        .clone()
        .or_else(|| all_axes.first().cloned())
        .ok_or_else(|| format!("{}: no sweep axis found; pass --x COLUMN", dir.display()))?;
    let x_axis = AxisColumn::read(&points, &x).ok_or_else(|| {
        format!(
            "{}: no column {x:?} in points.csv, or an empty cell in it",
            dir.display()
        )
    })?;
    let xs = x_axis.values.clone();
    // The other axes, and which of them move together with x (a zipped sweep).
    let others: Vec<(String, AxisColumn)> = all_axes
        .iter()
        .filter(|a| **a != x)
        .filter_map(|a| AxisColumn::read(&points, a).map(|c| (a.clone(), c)))
        .collect();
    let with_x: Vec<&str> = others
        .iter()
        .filter(|(_, c)| zipped(&xs, &c.values))
        .map(|(a, _)| a.as_str())
        .collect();
    let y = match &opts.y {
        Some(y) => Some(y.clone()),
        None => others
            .iter()
            .map(|(a, _)| a)
            .find(|a| !with_x.contains(&a.as_str()))
            .cloned(),
    };
    let y_axis = match &y {
        Some(c) => Some(AxisColumn::read(&points, c).ok_or_else(|| {
            format!(
                "{}: no column {c:?} in points.csv, or an empty cell in it",
                dir.display()
            )
        })?),
        None => None,
    };
    let x_desc = if with_x.is_empty() {
        x_axis.desc.clone()
    } else {
        format!("{} (with {} zipped)", x_axis.desc, with_x.join(", "))
    };
    let available = figures(&points);
    let chosen: Vec<String> = if !opts.figures.is_empty() {
        for f in &opts.figures {
            if !available.contains(f) {
                return Err(format!(
                    "{}: no figure {f:?} (no {f}_mean column); figures: {}",
                    dir.display(),
                    available.join(", ")
                ));
            }
        }
        opts.figures.clone()
    } else {
        let p: Vec<String> = PREFERRED
            .iter()
            .map(|s| s.to_string())
            .filter(|f| available.contains(f))
            .collect();
        if p.is_empty() {
            available.clone()
        } else {
            p
        }
    };
    // Rows at the first value of the axes not drawn (those zipped with x move with it).
    let fixed: Vec<usize> = {
        let held: Vec<(&[f64], f64)> = others
            .iter()
            .filter(|(a, _)| Some(a) != y.as_ref() && !with_x.contains(&a.as_str()))
            .filter_map(|(_, c)| Some((c.values.as_slice(), *distinct(&c.values).first()?)))
            .collect();
        (0..points.len())
            .filter(|&i| held.iter().all(|(v, f)| v[i] == *f))
            .collect()
    };
    let variants: Vec<String> = match points.texts("variant") {
        Some(v) => {
            let mut out: Vec<String> = Vec::new();
            for s in v {
                if !out.iter().any(|o| o == s) {
                    out.push(s.to_string());
                }
            }
            out
        }
        None => vec![String::new()],
    };
    let variant_col: Vec<String> = points
        .texts("variant")
        .map(|v| v.into_iter().map(str::to_string).collect())
        .unwrap_or_else(|| vec![String::new(); points.len()]);
    let ys = y_axis.as_ref().map(|a| a.values.clone());
    let plots_dir = dir.join("plots");
    output::create_dir(&plots_dir).map_err(|e| e.to_string())?;
    let mut outcome = PlotOutcome::default();
    let mut figs = Vec::new();
    for f in &chosen {
        let mean = points.numbers(&format!("{f}_mean")).unwrap_or_default();
        let lo = band_column(&points, f, "lo");
        let hi = band_column(&points, f, "hi");
        // One axis: one panel, one line per variant. Two axes: one panel per variant, one
        // line per value of the second axis (colours would not tell variant × value apart).
        let y_values = ys
            .as_ref()
            .map(|v| distinct(v))
            .unwrap_or_else(|| vec![f64::NAN]);
        let mut panels = Vec::new();
        let mut legend = Vec::new();
        for (vi, v) in variants.iter().enumerate() {
            let mut lines = Vec::new();
            for (yi, yv) in y_values.iter().enumerate() {
                let mut idx: Vec<usize> = fixed
                    .iter()
                    .copied()
                    .filter(|&i| variant_col[i] == *v)
                    .filter(|&i| ys.as_ref().is_none_or(|c| c[i] == *yv))
                    .collect();
                idx.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
                if idx.is_empty() {
                    continue;
                }
                let (label, color) = match &y {
                    Some(yc) => {
                        let unit = match &y_axis {
                            Some(a) if a.desc.ends_with("(s)") => " s",
                            _ => "",
                        };
                        (format!("{yc} = {}{unit}", draw::fmt_num(*yv)), yi)
                    }
                    None if v.is_empty() => (f.clone(), vi),
                    None => (v.clone(), vi),
                };
                let pick = |c: &[f64]| idx.iter().map(|&i| c[i]).collect::<Vec<f64>>();
                if !legend.iter().any(|(l, _, _)| *l == label) {
                    legend.push((label.clone(), color, false));
                }
                lines.push(Line {
                    label,
                    color,
                    dashed: false,
                    xs: pick(&xs),
                    ys: pick(&mean),
                    band: match (&lo, &hi) {
                        (Some(l), Some(h)) => Some((pick(l), pick(h))),
                        _ => None,
                    },
                });
            }
            if y.is_some() {
                panels.push(Panel {
                    title: Some(if v.is_empty() { f.clone() } else { v.clone() }),
                    lines,
                });
            } else if panels.is_empty() {
                panels.push(Panel { title: None, lines });
            } else {
                panels[0].lines.extend(lines);
            }
        }
        let plot = Plot {
            name: format!("sweep_{}_vs_{}", file_safe(f), file_safe(&x)),
            title: format!("{f} against {x}: mean and 95% confidence band"),
            x_desc: x_desc.clone(),
            y_desc: f.clone(),
            log_y: false,
            x_range: None,
            panels,
            legend,
            spans: Vec::new(),
        };
        let svg = draw::render_svg(&plot)?;
        let path = plots_dir.join(format!("{}.svg", plot.name));
        write_atomic(&path, svg.as_bytes()).map_err(|e| e.to_string())?;
        outcome.files.push(path);
        if png {
            outcome.files.push(write_png(&plot, &plots_dir)?);
        }
        figs.push(html::Figure {
            name: plot.name.clone(),
            title: plot.title.clone(),
            svg,
        });
        // Heat maps over the two axes, one per variant.
        if let (Some(yc), Some(yv)) = (&y, &ys) {
            for v in &variants {
                let idx: Vec<usize> = fixed
                    .iter()
                    .copied()
                    .filter(|&i| variant_col[i] == *v)
                    .collect();
                let hm = HeatMap {
                    name: format!(
                        "heatmap_{}_{}_{}{}",
                        file_safe(f),
                        file_safe(&x),
                        file_safe(yc),
                        if v.is_empty() {
                            String::new()
                        } else {
                            format!("_{}", file_safe(v))
                        }
                    ),
                    title: if v.is_empty() {
                        format!("{f} (mean) over {x} × {yc}")
                    } else {
                        format!("{f} (mean) over {x} × {yc}: {v}")
                    },
                    x_desc: x_desc.clone(),
                    y_desc: y_axis
                        .as_ref()
                        .map_or_else(|| yc.clone(), |a| a.desc.clone()),
                    cells: idx.iter().map(|&i| (xs[i], yv[i], mean[i])).collect(),
                };
                let svg = heatmap_svg(&hm)?;
                let path = plots_dir.join(format!("{}.svg", hm.name));
                write_atomic(&path, svg.as_bytes()).map_err(|e| e.to_string())?;
                outcome.files.push(path);
                if png {
                    let p = plots_dir.join(format!("{}.png", hm.name));
                    {
                        let root = super::raster::Raster::new(BitMapBackend::new(&p, HEAT_SIZE))
                            .into_drawing_area();
                        draw_heatmap(&root, &hm)?;
                        root.present().map_err(|e| format!("{e:?}"))?;
                    }
                    outcome.files.push(p);
                }
                figs.push(html::Figure {
                    name: hm.name.clone(),
                    title: hm.title.clone(),
                    svg,
                });
            }
        }
    }
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>scalesim sweep</title>");
    page.push_str("<style>body{font-family:sans-serif;margin:2em auto;max-width:1150px}svg{max-width:100%;height:auto}</style></head><body>\n");
    page.push_str(&format!(
        "<h1>Sweep: {}</h1><p>Axes: {}. Figures: {}.</p>\n",
        html::esc(&dir.display().to_string()),
        html::esc(&all_axes.join(", ")),
        html::esc(&chosen.join(", "))
    ));
    for f in &figs {
        html::push_figure(&mut page, f);
    }
    page.push_str("</body></html>\n");
    let path = dir.join("report.html");
    write_atomic(&path, page.as_bytes()).map_err(|e| e.to_string())?;
    outcome.files.push(path);
    Ok(outcome)
}

/// A heat map: (x, y, value) cells on the grid of distinct x and y values.
struct HeatMap {
    name: String,
    title: String,
    x_desc: String,
    y_desc: String,
    cells: Vec<(f64, f64, f64)>,
}

const HEAT_SIZE: (u32, u32) = (900, 620);

fn heatmap_svg(hm: &HeatMap) -> Result<String, PlotError> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, HEAT_SIZE).into_drawing_area();
        draw_heatmap(&root, hm)?;
        root.present().map_err(|e| format!("{e:?}"))?;
    }
    Ok(s)
}

/// Viridis, sampled: dark blue (low) → yellow (high); readable in grey scale too.
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 5] = [
        (68, 1, 84),
        (59, 82, 139),
        (33, 145, 140),
        (94, 201, 98),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let p = t * (STOPS.len() - 1) as f64;
    let i = (p.floor() as usize).min(STOPS.len() - 2);
    let f = p - i as f64;
    let lerp = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    hm: &HeatMap,
) -> Result<(), PlotError> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
    root.fill(&WHITE).map_err(e)?;
    let area = root.titled(&hm.title, ("sans-serif", 20)).map_err(e)?;
    let (main, bar) = area.split_horizontally(area.dim_in_pixel().0 - 130);
    let xv = distinct(&hm.cells.iter().map(|c| c.0).collect::<Vec<_>>());
    let yv = distinct(&hm.cells.iter().map(|c| c.1).collect::<Vec<_>>());
    let vals: Vec<f64> = hm
        .cells
        .iter()
        .map(|c| c.2)
        .filter(|v| v.is_finite())
        .collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() {
        (lo, if hi > lo { hi } else { lo + 1.0 })
    } else {
        (0.0, 1.0)
    };
    let nx = xv.len().max(1);
    let ny = yv.len().max(1);
    let mut chart = ChartBuilder::on(&main)
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)
        .map_err(e)?;
    let at = |vals: &[f64], v: f64| {
        let r = v.round();
        if (v - r).abs() < 1e-6 && r >= 0.0 && (r as usize) < vals.len() {
            draw::fmt_num(vals[r as usize])
        } else {
            String::new()
        }
    };
    let xf = |v: &f64| at(&xv, *v);
    let yf = |v: &f64| at(&yv, *v);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(nx.min(20) * 2 + 1)
        .y_labels(ny.min(20) * 2 + 1)
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .x_desc(hm.x_desc.as_str())
        .y_desc(hm.y_desc.as_str())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    let index = |vals: &[f64], v: f64| vals.iter().position(|&a| a == v).unwrap_or(0) as f64;
    for &(x, y, v) in &hm.cells {
        let (i, j) = (index(&xv, x), index(&yv, y));
        let c = if v.is_finite() {
            viridis((v - lo) / (hi - lo))
        } else {
            RGBColor(220, 220, 220)
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(i - 0.5, j - 0.5), (i + 0.5, j + 0.5)],
                c.filled(),
            )))
            .map_err(e)?;
        if nx <= 12 && ny <= 12 && v.is_finite() {
            let t = (v - lo) / (hi - lo);
            let fg = if t > 0.6 { BLACK } else { WHITE };
            let (px, py) = chart.backend_coord(&(i, j));
            root.draw(&Text::new(
                draw::fmt_num(v),
                (px - 14, py - 7),
                ("sans-serif", 12).into_font().color(&fg),
            ))
            .map_err(e)?;
        }
    }
    // Colour bar.
    let (_, bh) = bar.dim_in_pixel();
    let top = 30i32;
    let bottom = bh as i32 - 70;
    let steps = 50;
    for k in 0..steps {
        let t0 = k as f64 / steps as f64;
        let y0 = bottom - ((bottom - top) as f64 * (t0 + 1.0 / steps as f64)) as i32;
        let y1 = bottom - ((bottom - top) as f64 * t0) as i32;
        bar.draw(&Rectangle::new(
            [(20, y0 - 1), (45, y1)],
            viridis(t0 + 0.5 / steps as f64).filled(),
        ))
        .map_err(e)?;
    }
    for (t, v) in [(0.0, lo), (0.5, (lo + hi) / 2.0), (1.0, hi)] {
        let y = bottom - ((bottom - top) as f64 * t) as i32;
        bar.draw(&Text::new(
            draw::fmt_num(v),
            (52, y - 7),
            ("sans-serif", 13),
        ))
        .map_err(e)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_axes_and_figures_without_sweep_json() {
        let t = Table::parse(
            "variant,load,trigger_s,seed,goodput_rps_mean,goodput_rps_ci_lo,goodput_rps_ci_hi,n\n\
             a,0.5,1,7,10,9,11,5\na,0.9,1,7,8,7,9,5\na,0.5,5,7,9,8,10,5\n",
        );
        assert_eq!(axes(Path::new("/nonexistent"), &t), ["load", "trigger_s"]);
        assert_eq!(figures(&t), ["goodput_rps"]);
    }

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
    }
}
