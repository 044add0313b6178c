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
    let peak = |v: &Vec<Vec<Vec<f64>>>| {
        v.iter()
            .flatten()
            .flatten()
            .copied()
            .filter(|x| x.is_finite())
            .fold(1.0f64, f64::max)
            * 1.05
    };
    // Queues and busy workers differ by orders of magnitude: each has its own scale.
    let (qmax, bmax) = (peak(&queues), peak(&busy));
    let rows = run.variants.iter().map(|v| v.t.len()).max().unwrap_or(0);
    let step = rows.div_ceil(MAX_FRAMES).max(1);
    let n = run.variants.len() as u32;
    let size = (1000u32, 70 + 190 * n);
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
                "per node: queue length (left, blue) and busy workers (right, orange)",
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
                area.draw(&Text::new(
                    caption,
                    (70, 2),
                    ("sans-serif", 15).into_font().color(&BLACK),
                ))
                .map_err(e)?;
                let halves = area.margin(20, 0, 0, 0).split_evenly((1, 2));
                let parts = [
                    ("queue length", &queues[vi], qmax, RGBColor(31, 119, 180)),
                    ("busy workers", &busy[vi], bmax, RGBColor(255, 127, 14)),
                ];
                for (half, (what, data, ymax, colour)) in halves.iter().zip(parts) {
                    let mut chart = ChartBuilder::on(half)
                        .margin(6)
                        .x_label_area_size(if nodes > 8 { 38 } else { 24 })
                        .y_label_area_size(64)
                        .build_cartesian_2d(-0.5..nodes as f64 - 0.5, 0.0..ymax)
                        .map_err(e)?;
                    // Few nodes: "node 3" under each bar; many: the numbers plotters
                    // spaces out, under an axis named "node".
                    let many = nodes > 8;
                    let nf = |x: &f64| {
                        if (x - x.round()).abs() < 1e-6 && *x >= 0.0 {
                            if many {
                                format!("{}", x.round())
                            } else {
                                format!("node {}", x.round())
                            }
                        } else {
                            String::new()
                        }
                    };
                    let yf = |y: &f64| super::draw::fmt_num(*y);
                    chart
                        .configure_mesh()
                        .disable_x_mesh()
                        .x_labels(if many { 10 } else { nodes * 2 + 1 })
                        .x_label_formatter(&nf)
                        .x_desc(if many { "node" } else { "" })
                        .y_labels(4)
                        .y_label_formatter(&yf)
                        .y_desc(what)
                        .label_style(("sans-serif", 12))
                        .axis_desc_style(("sans-serif", 13))
                        .draw()
                        .map_err(e)?;
                    chart
                        .draw_series((0..nodes).map(|i| {
                            let y = data[i].get(r).copied().unwrap_or(0.0);
                            let x = i as f64;
                            Rectangle::new([(x - 0.3, 0.0), (x + 0.3, y)], colour.filled())
                        }))
                        .map_err(e)?;
                }
            }
            root.present().map_err(e)?;
        }
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}
