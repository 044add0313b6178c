//! Plots and the HTML report, drawn from the files a run or a sweep wrote (never from
//! the simulation's memory), so `scalesim plot DIR` redraws exactly what `scalesim run`
//! drew, and drawing never changes a run's outputs: plots go to `DIR/plots/`, the report to
//! `DIR/report.html`; `summary.json`, `timeseries.csv` and `comparison.csv` are only read.
//!
//! - [`series`] reads the CSV files back (a long series decimated to a few thousand rows);
//!   [`faults`] turns `active_faults` into spans, and `config.json` into instantaneous
//!   faults and workload events;
//! - [`charts`] is the table of run charts, each drawn only where its columns have data;
//!   [`component_charts`] adds a graph run's, one per component kind and schema column;
//! - [`draw`] draws a figure with plotters (SVG by default, PNG on request);
//! - [`sweep`] draws a sweep's `points.csv` (lines with confidence bands, heat maps);
//! - [`headline`] picks the figures at the top of the report and groups the full table;
//! - [`html`] writes the self-contained report; [`animate`] the optional GIF.

pub mod animate;
pub mod charts;
pub mod component_charts;
pub mod draw;
pub mod faults;
pub mod headline;
pub mod html;
pub mod raster;
pub mod series;
pub mod sweep;

use crate::output::{self, write_atomic};
use std::path::{Path, PathBuf};
use std::sync::Once;

/// DejaVu Sans (Bitstream Vera licence, see `assets/fonts/LICENSE-DejaVu.txt`): bundled
/// so text layout needs no system fonts or fontconfig.
pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the bundled font as plotters' `sans-serif` (once per process).
pub fn init_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(
            "sans-serif",
            plotters::style::FontStyle::Normal,
            FONT_BYTES,
        )
        .is_err()
        {
            // The font is compiled in; failing to parse it is a build defect.
            panic!("the bundled DejaVuSans.ttf cannot be parsed");
        }
    });
}

/// What to draw besides the SVG charts.
#[derive(Clone, Debug, Default)]
pub struct PlotOptions {
    /// Also write a PNG beside each SVG.
    pub png: bool,
    /// Also write `DIR/animation.gif` of the node queues (runs only).
    pub animate: bool,
    /// What the report says about the experiment; when `None`, it is looked up from the
    /// outputs (`experiments/<name>.ron` under the current directory, else config.json).
    pub context: Option<ReportContext>,
}

/// The experiment's words and the command that reproduces the run.
#[derive(Clone, Debug, Default)]
pub struct ReportContext {
    /// The experiment file's leading comment block (what it shows, what to look for).
    pub comment: String,
    /// A shell command that reproduces the outputs.
    pub command: String,
}

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct PlotOutcome {
    /// Files written, in order.
    pub files: Vec<PathBuf>,
    /// Charts of the table left out because the run has no data for them.
    pub skipped: Vec<String>,
}

/// A problem while plotting: the message (names the path where there is one).
pub type PlotError = String;

fn out_err(e: output::OutputError) -> PlotError {
    e.to_string()
}

/// Plots whatever `dir` holds: a sweep (`points.csv`) or a run (`<variant>/timeseries.csv`).
pub fn plot_dir(dir: &Path, opts: &PlotOptions) -> Result<PlotOutcome, PlotError> {
    if dir.join("points.csv").is_file() {
        sweep::plot_sweep_dir(dir, &sweep::SweepOptions::default(), opts.png)
    } else {
        plot_run_dir(dir, opts)
    }
}

/// Draws every chart a run's outputs support into `dir/plots/` and writes `dir/report.html`.
pub fn plot_run_dir(dir: &Path, opts: &PlotOptions) -> Result<PlotOutcome, PlotError> {
    init_fonts();
    let run = series::RunDir::read(dir)?;
    let spans = faults::run_spans(&run);
    let plots_dir = dir.join("plots");
    output::create_dir(&plots_dir).map_err(out_err)?;
    let mut outcome = PlotOutcome::default();
    let mut plots = Vec::new();
    for spec in charts::CHARTS {
        match charts::plan(spec, &run, &spans) {
            Some(plot) => plots.push(plot),
            None => outcome.skipped.push(spec.name.to_string()),
        }
    }
    // A graph run's components: a chart per kind and column with data, after the others.
    plots.extend(component_charts::plans(&run, &spans));
    let mut figures = Vec::new();
    for plot in plots {
        let svg = draw::render_svg(&plot)?;
        let path = plots_dir.join(format!("{}.svg", plot.name));
        write_atomic(&path, svg.as_bytes()).map_err(out_err)?;
        outcome.files.push(path);
        if opts.png {
            outcome.files.push(write_png(&plot, &plots_dir)?);
        }
        figures.push(html::Figure {
            name: plot.name.clone(),
            title: plot.title.clone(),
            svg,
        });
    }
    if opts.animate {
        let path = dir.join("animation.gif");
        animate::animate_run(&run, &spans, &path)?;
        outcome.files.push(path);
    }
    let context = match &opts.context {
        Some(c) => c.clone(),
        None => html::context_from_outputs(dir),
    };
    let page = html::run_report(dir, &run, &figures, &context)?;
    let path = dir.join("report.html");
    write_atomic(&path, page.as_bytes()).map_err(out_err)?;
    outcome.files.push(path);
    Ok(outcome)
}

/// Writes `plot` as `dir/<name>.png` through a temporary file and a rename.
pub(crate) fn write_png(plot: &draw::Plot, dir: &Path) -> Result<PathBuf, PlotError> {
    let path = dir.join(format!("{}.png", plot.name));
    let tmp = dir.join(format!(".{}.tmp{}.png", plot.name, std::process::id()));
    draw::render_png(plot, &tmp)?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    Ok(path)
}
