//! `--animate`: a GIF of the node queues during a run, one panel per variant: each node's
//! queue length and busy workers as bars, the time, goodput against offered load and the
//! active faults above. A teacher's picture of a storm unfolding.

use super::faults::FaultSpan;
use super::series::RunDir;
use super::PlotError;
use plotters::prelude::*;
use std::path::Path;

/// At most this many frames (rows are sampled evenly), 8 frames per second.
const MAX_FRAMES: usize = 160;
const FRAME_MS: u32 = 125;

/// Writes the animation of `run` to `path` (through a temporary file and a rename).
pub fn animate_run(run: &RunDir, _spans: &[FaultSpan], path: &Path) -> Result<(), PlotError> {
    super::init_fonts();
    let nodes = run
        .variants
        .iter()
        .map(|v| {
            v.table
                .columns
                .iter()
                .filter(|c| c.starts_with("queue_len_node"))
                .count()
        })
        .max()
        .unwrap_or(0);
    if nodes == 0 {
        return Err("no queue_len_node<i> columns to animate".into());
    }
    let col =
        |v: &super::series::VariantSeries, name: &str| v.table.numbers(name).unwrap_or_default();
    let queues: Vec<Vec<Vec<f64>>> = run
        .variants
        .iter()
        .map(|v| {
            (0..nodes)
                .map(|i| col(v, &format!("queue_len_node{i}")))
                .collect()
        })
        .collect();
    let busy: Vec<Vec<Vec<f64>>> = run
        .variants
        .iter()
        .map(|v| {
            (0..nodes)
                .map(|i| col(v, &format!("busy_workers_node{i}")))
                .collect()
        })
        .collect();
    let ymax = queues
        .iter()
        .chain(&busy)
        .flatten()
        .flatten()
        .copied()
        .filter(|x| x.is_finite())
        .fold(1.0f64, f64::max)
        * 1.05;
    let rows = run.variants.iter().map(|v| v.t.len()).max().unwrap_or(0);
    let step = rows.div_ceil(MAX_FRAMES).max(1);
    let n = run.variants.len() as u32;
    let size = (900u32, 70 + 200 * n);
    let tmp = path.with_extension(format!("tmp{}.gif", std::process::id()));
    let e = |e: DrawingAreaErrorKind<<BitMapBackend as DrawingBackend>::ErrorType>| {
        format!("{}: {e:?}", path.display())
    };
    {
        let gif = BitMapBackend::gif(&tmp, size, FRAME_MS)
            .map_err(|e| format!("{}: {e:?}", path.display()))?;
        let root = super::raster::Raster::new(gif).into_drawing_area();
        for r in (0..rows).step_by(step) {
            root.fill(&WHITE).map_err(e)?;
            let first = &run.variants[0];
            let t = first.x.get(r).copied().unwrap_or(0.0);
            let faults = first
                .table
                .texts("active_faults")
                .and_then(|f| f.get(r).map(|s| s.replace(';', ", ")))
                .unwrap_or_default();
            let head = if faults.is_empty() {
                format!("t = {t:.0} s")
            } else {
                format!("t = {t:.0} s    faults: {faults}")
            };
            root.draw(&Text::new(
                head,
                (15, 10),
                ("sans-serif", 22).into_font().color(&BLACK),
            ))
            .map_err(e)?;
            root.draw(&Text::new(
                "bars per node: blue = queue length, orange = busy workers",
                (15, 40),
                ("sans-serif", 14).into_font().color(&RGBColor(90, 90, 90)),
            ))
            .map_err(e)?;
            let body = root.margin(65, 0, 0, 0);
            let panels = body.split_evenly((run.variants.len(), 1));
            for (vi, (v, area)) in run.variants.iter().zip(&panels).enumerate() {
                let get = |name: &str| {
                    v.table
                        .numbers(name)
                        .and_then(|c| c.get(r).copied())
                        .unwrap_or(f64::NAN)
                };
                let caption = format!(
                    "{}: goodput {:.0}/s of {:.0}/s offered, {:.0} in flight",
                    v.variant,
                    get("goodput_rps"),
                    get("offered_rps"),
                    get("in_flight")
                );
                let mut chart = ChartBuilder::on(area)
                    .margin(8)
                    .caption(caption, ("sans-serif", 15))
                    .x_label_area_size(28)
                    .y_label_area_size(60)
                    .build_cartesian_2d(-0.5..nodes as f64 - 0.5, 0.0..ymax)
                    .map_err(e)?;
                let nf = |x: &f64| {
                    if (x - x.round()).abs() < 1e-6 && *x >= 0.0 {
                        format!("node {}", x.round())
                    } else {
                        String::new()
                    }
                };
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .x_labels(nodes * 2 + 1)
                    .x_label_formatter(&nf)
                    .y_labels(4)
                    .y_desc("requests")
                    .label_style(("sans-serif", 12))
                    .draw()
                    .map_err(e)?;
                for i in 0..nodes {
                    let q = queues[vi][i].get(r).copied().unwrap_or(0.0);
                    let b = busy[vi][i].get(r).copied().unwrap_or(0.0);
                    let x = i as f64;
                    chart
                        .draw_series([
                            Rectangle::new(
                                [(x - 0.35, 0.0), (x, q)],
                                RGBColor(31, 119, 180).filled(),
                            ),
                            Rectangle::new(
                                [(x, 0.0), (x + 0.35, b)],
                                RGBColor(255, 127, 14).filled(),
                            ),
                        ])
                        .map_err(e)?;
                }
            }
            root.present().map_err(e)?;
        }
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}
