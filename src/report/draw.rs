//! Drawing a [`Plot`] with plotters on any backend (SVG text, PNG file, GIF frame): the
//! title, one or more stacked panels, fault spans shaded with their labels above the plot
//! area, and the legend in its own column on the right so it never covers a line.

use super::faults::{FaultSpan, SpanKind};
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Colour index meaning "black" (reference lines).
pub const BLACK_INDEX: usize = usize::MAX;

/// Tableau 10: distinct for the colour-blind in the common cases, readable on white.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of a line's index.
pub fn color(i: usize) -> RGBColor {
    if i == BLACK_INDEX {
        RGBColor(20, 20, 20)
    } else {
        PALETTE[i % PALETTE.len()]
    }
}

/// Width of every figure, pixels.
pub const WIDTH: u32 = 1100;
const LEGEND_W: u32 = 250;
const Y_LABEL_W: u32 = 80;
const FONT: &str = "sans-serif";

/// One line: points (NaN or, on a log axis, non-positive values break it), and an
/// optional band (low, high) drawn shaded behind it (a confidence interval).
#[derive(Clone, Debug)]
pub struct Line {
    /// Legend label.
    pub label: String,
    /// Colour index.
    pub color: usize,
    /// Dashed (reference lines, second figures).
    pub dashed: bool,
    /// x values.
    pub xs: Vec<f64>,
    /// y values.
    pub ys: Vec<f64>,
    /// A band around the line: (lower, upper) values at the same xs.
    pub band: Option<(Vec<f64>, Vec<f64>)>,
}

/// One panel: a title (the variant in stacked charts) and its lines.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Shown above the panel.
    pub title: Option<String>,
    /// Lines drawn.
    pub lines: Vec<Line>,
}

/// A figure: title, axes, panels sharing the axes' ranges, legend, fault spans.
#[derive(Clone, Debug)]
pub struct Plot {
    /// File stem.
    pub name: String,
    /// Title at the top.
    pub title: String,
    /// x axis description with unit.
    pub x_desc: String,
    /// y axis description with unit.
    pub y_desc: String,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// x range; from the data when `None`.
    pub x_range: Option<(f64, f64)>,
    /// Panels, top to bottom.
    pub panels: Vec<Panel>,
    /// Legend entries: (label, colour index, dashed).
    pub legend: Vec<(String, usize, bool)>,
    /// Faults drawn as shaded spans.
    pub spans: Vec<FaultSpan>,
}

impl Plot {
    /// Pixel size of the figure.
    pub fn size(&self) -> (u32, u32) {
        let n = self.panels.len().max(1) as u32;
        if n == 1 {
            (WIDTH, 460)
        } else {
            (WIDTH, 50 + n * 230)
        }
    }
}

/// Renders to SVG text.
pub fn render_svg(plot: &Plot) -> Result<String, String> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, plot.size()).into_drawing_area();
        draw_on(&root, plot)?;
        root.present().map_err(|e| format!("{e:?}"))?;
    }
    Ok(s)
}

/// Renders to a PNG file.
pub fn render_png(plot: &Plot, path: &std::path::Path) -> Result<(), String> {
    let root =
        super::raster::Raster::new(BitMapBackend::new(path, plot.size())).into_drawing_area();
    draw_on(&root, plot)?;
    root.present()
        .map_err(|e| format!("{}: {e:?}", path.display()))
}

macro_rules! tri {
    ($e:expr) => {
        $e.map_err(|e| format!("{e:?}"))?
    };
}

/// Formats an axis value briefly: `1500`, `2.5`, `0.01`, `1.2e6`.
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        trim(format!("{v:.3}"))
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn x_range(plot: &Plot) -> (f64, f64) {
    if let Some(r) = plot.x_range {
        return r;
    }
    let xs = plot
        .panels
        .iter()
        .flat_map(|p| &p.lines)
        .flat_map(|l| l.xs.iter().copied())
        .filter(|x| x.is_finite());
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    }
}

fn y_range(plot: &Plot) -> (f64, f64) {
    let ok = |y: &f64| y.is_finite() && (!plot.log_y || *y > 0.0);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for l in plot.panels.iter().flat_map(|p| &p.lines) {
        let band = l.band.iter().flat_map(|(a, b)| a.iter().chain(b.iter()));
        for y in l.ys.iter().chain(band).filter(|y| ok(y)) {
            lo = lo.min(*y);
            hi = hi.max(*y);
        }
    }
    if plot.log_y {
        if !lo.is_finite() {
            return (1.0, 10.0);
        }
        let lo = 10f64.powf(lo.log10().floor());
        let hi = 10f64.powf(hi.log10().ceil()).max(lo * 10.0);
        (lo, hi)
    } else {
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        let lo = lo.min(0.0);
        let hi = if hi > lo {
            hi + (hi - lo) * 0.05
        } else {
            lo + 1.0
        };
        (lo, hi)
    }
}

/// Assigns each span's label a row so that no two labels overlap: (row, px offset of the
/// label's left edge from the plot's left edge). Rows above 2 are dropped (label omitted).
fn label_rows(spans: &[FaultSpan], x: (f64, f64), plot_w: f64) -> Vec<Option<(usize, f64)>> {
    let mut row_end: Vec<f64> = Vec::new();
    let mut out = Vec::new();
    for s in spans {
        let w = s.label.chars().count() as f64 * 6.8 + 6.0;
        let mut px = (s.start_s - x.0) / (x.1 - x.0) * plot_w;
        if px + w > plot_w {
            px = (plot_w - w).max(0.0);
        }
        let row = row_end.iter().position(|&end| px >= end + 8.0);
        let row = match row {
            Some(r) => r,
            None if row_end.len() < 3 => {
                row_end.push(f64::NEG_INFINITY);
                row_end.len() - 1
            }
            None => {
                out.push(None);
                continue;
            }
        };
        row_end[row] = px + w;
        out.push(Some((row, px)));
    }
    out
}

/// Draws the plot on a drawing area.
pub fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot,
) -> Result<(), String> {
    tri!(root.fill(&WHITE));
    let area = tri!(root.titled(&plot.title, (FONT, 22)));
    let (plot_area, legend_area) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_W);
    let panels = plot_area.split_evenly((plot.panels.len().max(1), 1));
    let xr = x_range(plot);
    let yr = y_range(plot);
    let plot_w = (plot_area.dim_in_pixel().0 - Y_LABEL_W - 20) as f64;
    let rows = label_rows(&plot.spans, xr, plot_w);
    let label_rows_used = rows.iter().flatten().map(|(r, _)| r + 1).max().unwrap_or(0);
    for (panel, area) in plot.panels.iter().zip(&panels) {
        let title_h = if panel.title.is_some() { 20 } else { 0 };
        let top = 6 + title_h + 15 * label_rows_used as u32;
        if let Some(t) = &panel.title {
            tri!(area.draw(&Text::new(
                t.clone(),
                (Y_LABEL_W as i32, 4),
                (FONT, 16).into_font().color(&BLACK),
            )));
        }
        let mut b = ChartBuilder::on(area);
        b.margin(10)
            .margin_top(top)
            .x_label_area_size(45)
            .y_label_area_size(Y_LABEL_W);
        if plot.log_y {
            let chart = tri!(b.build_cartesian_2d(xr.0..xr.1, (yr.0..yr.1).log_scale()));
            fill_panel(root, chart, plot, panel, &rows, yr)?;
        } else {
            let chart = tri!(b.build_cartesian_2d(xr.0..xr.1, yr.0..yr.1));
            fill_panel(root, chart, plot, panel, &rows, yr)?;
        }
    }
    draw_legend(&legend_area, &plot.legend)
}

fn fill_panel<DB: DrawingBackend, Y>(
    root: &DrawingArea<DB, Shift>,
    mut chart: ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    plot: &Plot,
    panel: &Panel,
    rows: &[Option<(usize, f64)>],
    yr: (f64, f64),
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let fmt = |v: &f64| fmt_num(*v);
    tri!(chart
        .configure_mesh()
        .x_desc(plot.x_desc.as_str())
        .y_desc(plot.y_desc.as_str())
        .x_labels(12)
        .y_labels(if plot.log_y { 10 } else { 6 })
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(205, 205, 205))
        .draw());
    // Fault spans and workload events behind the lines, labels above the plot area: a fault
    // is shaded red, a change of the offered load shaded blue, an instant is a line.
    let red = RGBColor(214, 39, 40);
    let blue = RGBColor(31, 119, 180);
    for (s, row) in plot.spans.iter().zip(rows) {
        let (tint, text) = match s.kind {
            SpanKind::Fault | SpanKind::Instant => (red, RGBColor(170, 20, 20)),
            SpanKind::Workload => (blue, RGBColor(20, 80, 150)),
        };
        match s.kind {
            SpanKind::Fault | SpanKind::Workload => {
                let alpha = if s.kind == SpanKind::Fault {
                    0.13
                } else {
                    0.08
                };
                tri!(chart.draw_series(std::iter::once(Rectangle::new(
                    [(s.start_s, yr.0), (s.end_s, yr.1)],
                    tint.mix(alpha).filled(),
                ))));
                tri!(chart.draw_series(std::iter::once(PathElement::new(
                    vec![(s.start_s, yr.0), (s.start_s, yr.1)],
                    tint.mix(0.6).stroke_width(1),
                ))));
            }
            SpanKind::Instant => {
                tri!(chart.draw_series(std::iter::once(PathElement::new(
                    vec![(s.start_s, yr.0), (s.start_s, yr.1)],
                    tint.mix(0.9).stroke_width(2),
                ))));
            }
        }
        if let Some((row, px)) = row {
            let (left, top) = chart.backend_coord(&(chart.x_range().start, yr.1));
            let pos = (left + *px as i32, top - 4 - 15 * *row as i32 - 12);
            tri!(root.draw(&Text::new(
                s.label.clone(),
                pos,
                (FONT, 12).into_font().color(&text),
            )));
        }
    }
    for line in &panel.lines {
        let c = color(line.color);
        if let Some((lo, hi)) = &line.band {
            for seg in band_segments(&line.xs, lo, hi, plot.log_y) {
                // The band: the upper edge forward, then the lower edge back.
                let mut poly: Vec<(f64, f64)> = seg.iter().map(|&(x, _, h)| (x, h)).collect();
                poly.extend(seg.iter().rev().map(|&(x, l, _)| (x, l)));
                tri!(chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.18)))));
            }
        }
        let style = c.stroke_width(2);
        for seg in segments(&line.xs, &line.ys, plot.log_y) {
            if seg.len() == 1 {
                tri!(chart.draw_series(std::iter::once(Circle::new(seg[0], 2, c.filled()))));
            } else if line.dashed {
                tri!(chart.draw_series(DashedLineSeries::new(seg, 8, 5, style)));
            } else {
                tri!(chart.draw_series(LineSeries::new(seg, style)));
            }
        }
    }
    Ok(())
}

/// Splits a line into runs of drawable points (finite; positive on a log axis).
fn segments(xs: &[f64], ys: &[f64], log: bool) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for (&x, &y) in xs.iter().zip(ys) {
        if x.is_finite() && y.is_finite() && (!log || y > 0.0) {
            cur.push((x, y));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Runs of points where both band edges are drawable: (x, low, high).
fn band_segments(xs: &[f64], lo: &[f64], hi: &[f64], log: bool) -> Vec<Vec<(f64, f64, f64)>> {
    let ok = |y: f64| y.is_finite() && (!log || y > 0.0);
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for ((&x, &l), &h) in xs.iter().zip(lo).zip(hi) {
        if x.is_finite() && ok(l) && ok(h) {
            cur.push((x, l, h));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.retain(|s| s.len() > 1);
    out
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, usize, bool)],
) -> Result<(), String> {
    let mut y = 40;
    for (label, ci, dashed) in entries {
        let c = color(*ci);
        if *dashed {
            for k in 0..3 {
                let x0 = 10 + k * 11;
                tri!(area.draw(&PathElement::new(
                    vec![(x0, y + 7), (x0 + 7, y + 7)],
                    c.stroke_width(3)
                )));
            }
        } else {
            tri!(area.draw(&PathElement::new(
                vec![(10, y + 7), (40, y + 7)],
                c.stroke_width(3)
            )));
        }
        let text: String = if label.chars().count() > 28 {
            label.chars().take(27).chain(std::iter::once('…')).collect()
        } else {
            label.clone()
        };
        tri!(area.draw(&Text::new(
            text,
            (48, y),
            (FONT, 14).into_font().color(&BLACK)
        )));
        y += 22;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(fmt_num(1500.0), "1500");
        assert_eq!(fmt_num(2.5), "2.5");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(2_000_000.0), "2.0e6");
    }

    #[test]
    fn overlapping_labels_go_to_another_row() {
        let span = |l: &str, s: f64| FaultSpan {
            label: l.into(),
            start_s: s,
            end_s: s + 1.0,
            ..FaultSpan::default()
        };
        let spans = [
            span("crash(node 1)", 10.0),
            span("crash(node 2)", 11.0),
            span("x", 90.0),
        ];
        let rows = label_rows(&spans, (0.0, 100.0), 800.0);
        assert_eq!(rows[0].unwrap().0, 0);
        assert_eq!(rows[1].unwrap().0, 1);
        assert_eq!(rows[2].unwrap().0, 0);
    }
}
