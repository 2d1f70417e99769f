//! Training curves as an SVG picture (`dp train --plot`, the REPL's
//! `:plot`), drawn with plotters: each objective (and its validation mean)
//! against the epoch in one panel, each metric in a second one. The file
//! is rewritten atomically after every epoch, so a stopped run keeps the
//! picture of the epochs it finished.

use std::path::Path;

use plotters::prelude::*;

use super::EpochReport;
use crate::diagnostic::{Code, Diagnostic};

/// One curve: its name and its (epoch, value) points.
type Curve = (String, Vec<(f64, f64)>);

/// Width and height of one panel, in pixels.
const PANEL: (u32, u32) = (720, 300);

/// The curves of `reports` as an SVG document.
pub fn curves_svg(reports: &[EpochReport]) -> Result<String, String> {
    let objectives = objective_curves(reports);
    let metrics = metric_curves(reports);
    let panels = if metrics.is_empty() { 1 } else { 2 };
    let mut svg = String::new();
    {
        let size = (PANEL.0, PANEL.1 * panels);
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let areas = root.split_evenly((panels as usize, 1));
        // Objectives fall and metrics mostly rise: legends where the
        // curves usually are not.
        let upper = SeriesLabelPosition::UpperRight;
        panel(&areas[0], "objective", &objectives, upper)?;
        if let Some(area) = areas.get(1) {
            let lower = SeriesLabelPosition::LowerRight;
            panel(area, "metrics (validation data)", &metrics, lower)?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Write the curves of `reports` to `path` (atomically: the old picture
/// stays whole until the new one is complete).
pub fn write_curves(path: &Path, reports: &[EpochReport]) -> Result<(), Diagnostic> {
    let fail = |what: String| {
        Diagnostic::new(
            Code::Io,
            format!(
                "cannot write the training curves `{}`: {what}",
                path.display()
            ),
        )
    };
    let svg = curves_svg(reports).map_err(fail)?;
    crate::checkpoint::write_atomically(path, svg.as_bytes()).map_err(|e| fail(e.to_string()))
}

/// The training objective(s) and their validation means.
fn objective_curves(reports: &[EpochReport]) -> Vec<Curve> {
    let mut curves: Vec<Curve> = Vec::new();
    let mut add = |name: &str, epoch: usize, value: f64| {
        let point = (epoch as f64, value);
        match curves.iter_mut().find(|(n, _)| n == name) {
            Some((_, points)) => points.push(point),
            None => curves.push((name.to_string(), vec![point])),
        }
    };
    for r in reports {
        if r.each.is_empty() {
            add("objective", r.epoch, r.objective);
        }
        for (name, value) in &r.each {
            add(name, r.epoch, *value);
        }
        if r.valid_each.is_empty() {
            if let Some(v) = r.valid_objective {
                add("valid", r.epoch, v);
            }
        }
        for (name, value) in &r.valid_each {
            add(&format!("{name} (valid)"), r.epoch, *value);
        }
    }
    curves
}

/// Each metric's curve.
fn metric_curves(reports: &[EpochReport]) -> Vec<Curve> {
    let mut curves: Vec<Curve> = Vec::new();
    for r in reports {
        for (name, value) in &r.metrics {
            let point = (r.epoch as f64, *value);
            match curves.iter_mut().find(|(n, _)| n == name) {
                Some((_, points)) => points.push(point),
                None => curves.push((name.clone(), vec![point])),
            }
        }
    }
    curves
}

/// The x and y ranges of the finite points (a single epoch or a flat
/// curve still gets a range), and how many x labels to ask for: at most
/// one per epoch, so the labels fall on whole epochs.
fn ranges(curves: &[Curve]) -> (std::ops::Range<f64>, std::ops::Range<f64>, usize) {
    let points = curves
        .iter()
        .flat_map(|(_, p)| p.iter())
        .filter(|(_, y)| y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return (0.0..1.0, 0.0..1.0, 2);
    }
    let (x0, x1) = if x1 > x0 {
        (x0, x1)
    } else {
        (x0 - 1.0, x1 + 1.0)
    };
    let pad = ((y1 - y0) * 0.05).max(0.05 * y0.abs().max(y1.abs()).max(1e-3));
    let labels = ((x1 - x0) as usize + 1).min(10);
    (x0..x1, y0 - pad..y1 + pad, labels)
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    curves: &[Curve],
    legend: SeriesLabelPosition,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (xs, ys, x_labels) = ranges(curves);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(xs, ys)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels(x_labels)
        .x_label_formatter(&|x| format!("{x}"))
        .draw()
        .map_err(err)?;
    for (i, (name, points)) in curves.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let finite: Vec<(f64, f64)> = points
            .iter()
            .copied()
            .filter(|(_, y)| y.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(
                finite.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
        chart
            .draw_series(finite.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(legend)
        .draw()
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(epoch: usize, objective: f64, valid: f64, accuracy: f64) -> EpochReport {
        EpochReport {
            epoch,
            objective,
            each: Vec::new(),
            valid_objective: Some(valid),
            valid_each: Vec::new(),
            metrics: vec![("accuracy".into(), accuracy)],
            examples_per_second: 1000.0,
            grad_norm: None,
            learning_rate: 0.001,
        }
    }

    /// The texts of an SVG document, trimmed.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                Some(
                    t.split_once('>')?
                        .1
                        .split_once("</text>")?
                        .0
                        .trim()
                        .to_string(),
                )
            })
            .collect()
    }

    /// The picture names every curve, labels whole epochs only, and has a
    /// point per epoch and curve.
    #[test]
    fn curves_name_every_series() {
        let reports: Vec<EpochReport> = (1..=4)
            .map(|e| report(e, 1.0 / e as f64, 1.2 / e as f64, 0.5 + 0.1 * e as f64))
            .collect();
        let svg = curves_svg(&reports).expect("draws");
        assert!(svg.starts_with("<svg"), "{svg}");
        let texts = texts(&svg);
        for label in [
            "objective",
            "valid",
            "accuracy",
            "epoch",
            "metrics (validation data)",
        ] {
            assert!(
                texts.iter().any(|t| t == label),
                "no `{label}` in {texts:?}"
            );
        }
        for epoch in ["1", "2", "3", "4"] {
            let n = texts.iter().filter(|t| *t == epoch).count();
            assert_eq!(n, 2, "epoch {epoch} labelled once per panel: {texts:?}");
        }
        assert_eq!(svg.matches("<circle").count(), 12, "4 epochs x 3 curves");
    }

    /// One epoch, a non-finite value and no metrics still draw.
    #[test]
    fn odd_curves_still_draw() {
        let mut r = report(3, f64::NAN, 0.5, 0.0);
        r.metrics.clear();
        let svg = curves_svg(&[r]).expect("draws");
        assert!(!svg.contains("metrics"));
        assert!(texts(&svg).contains(&"valid".to_string()));
        assert!(curves_svg(&[]).is_ok());
    }
}
