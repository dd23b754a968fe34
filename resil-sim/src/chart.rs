//! Charts over time, drawn by `plotters` into SVG strings.
//!
//! Why SVG strings? The report is one self-contained HTML file: each chart
//! is inlined, so the report can be mailed or attached to an issue and
//! still show everything. `plotters` is built without fonts (text is left
//! to the browser's SVG renderer), which keeps it small.

use core::time::Duration;

use plotters::prelude::*;

/// One line of a chart: a name and `(seconds, value)` points; `None`
/// values break the line (a bucket with nothing to measure).
#[derive(Clone, Debug)]
pub struct Line {
    /// The legend entry.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, Option<f64>)>,
}

/// What a chart shows.
#[derive(Clone, Debug)]
pub struct Chart<'a> {
    /// The title.
    pub title: &'a str,
    /// The y axis' label.
    pub y_label: &'a str,
    /// The x axis' end (seconds).
    pub x_max: f64,
    /// The y axis' end; `None` fits the data.
    pub y_max: Option<f64>,
    /// Shaded intervals: the faults.
    pub shade: &'a [(Duration, Duration)],
    /// The lines.
    pub lines: &'a [Line],
}

/// Line colours, one per client configuration (colour-blind-safe
/// Okabe–Ito palette).
const COLOURS: [RGBColor; 7] = [
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(204, 121, 167),
];

impl Chart<'_> {
    /// The chart as an SVG document, or an error message from `plotters`.
    pub fn svg(&self) -> Result<String, String> {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (760, 300)).into_drawing_area();
            self.draw(&root).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(out)
    }

    fn draw(
        &self,
        root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), DrawingAreaErrorKind<<SVGBackend<'_> as DrawingBackend>::ErrorType>> {
        root.fill(&WHITE)?;
        let data_max = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().filter_map(|p| p.1))
            .fold(0.0f64, f64::max);
        let y_max = self
            .y_max
            .unwrap_or(if data_max > 0.0 { data_max * 1.1 } else { 1.0 });
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..self.x_max, 0f64..y_max)?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc(self.y_label)
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        let shade = RGBColor(255, 200, 200).mix(0.5);
        chart.draw_series(self.shade.iter().map(|&(s, e)| {
            Rectangle::new(
                [(s.as_secs_f64(), 0.0), (e.as_secs_f64(), y_max)],
                shade.filled(),
            )
        }))?;
        for (i, line) in self.lines.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let style = colour.stroke_width(2);
            // One series per unbroken run of points.
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for &(x, y) in &line.points {
                match y {
                    Some(y) => runs.last_mut().map_or((), |r| r.push((x, y))),
                    None => runs.push(Vec::new()),
                }
            }
            let mut first = true;
            for run in runs.into_iter().filter(|r| !r.is_empty()) {
                let series = chart.draw_series(LineSeries::new(run, style))?;
                if std::mem::take(&mut first) {
                    series.label(line.name.as_str()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
                    });
                }
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_an_svg_with_its_title_and_legend() {
        let lines = [Line {
            name: "naive retries".into(),
            points: vec![(0.0, Some(1.0)), (1.0, None), (2.0, Some(3.0))],
        }];
        let svg = Chart {
            title: "attempts",
            y_label: "per second",
            x_max: 3.0,
            y_max: None,
            shade: &[(Duration::from_secs(1), Duration::from_secs(2))],
            lines: &lines,
        }
        .svg()
        .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("attempts") && svg.contains("naive retries"));
    }
}
