//! Charts as inline SVG drawn on the server (no script; colours come from the stylesheet's
//! classes, the CSP allows no inline style).

use maud::{html, Markup};

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 120.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 18.0;

/// One line of a chart: its stylesheet class, its label, its values (oldest first).
pub(crate) struct Line<'a> {
    pub(crate) class: &'static str,
    pub(crate) label: &'static str,
    pub(crate) values: &'a [i64],
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn points(values: &[i64], max: i64) -> String {
    let step = (WIDTH - LEFT) / (values.len().max(2) - 1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, &value)| {
            let x = LEFT + step * i as f64;
            let y = (HEIGHT - BOTTOM) * (1.0 - value as f64 / max as f64);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A line chart of counts per bucket, `first` and `last` labelling the time axis.
pub(crate) fn lines(title: &str, lines: &[Line<'_>], first: &str, last: &str) -> Markup {
    let max = lines
        .iter()
        .flat_map(|line| line.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    html! {
        figure.chart {
            figcaption {
                (title) " "
                @for line in lines {
                    span class={ "key " (line.class) } { (line.label) } " "
                }
            }
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(title) {
                line.axis x1=(LEFT) y1=(HEIGHT - BOTTOM) x2=(WIDTH) y2=(HEIGHT - BOTTOM) {}
                line.axis x1=(LEFT) y1="0" x2=(LEFT) y2=(HEIGHT - BOTTOM) {}
                text x=(LEFT - 4.0) y="10" text-anchor="end" { (max) }
                text x=(LEFT - 4.0) y=(HEIGHT - BOTTOM) text-anchor="end" { "0" }
                text x=(LEFT) y=(HEIGHT - 2.0) { (first) }
                text x=(WIDTH) y=(HEIGHT - 2.0) text-anchor="end" { (last) }
                @for line in lines {
                    polyline class={ "series " (line.class) } points=(points(line.values, max)) {}
                }
            }
        }
    }
}

/// A bar chart: one bar per (label, count).
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
pub(crate) fn bars(title: &str, bars: &[(String, i64)]) -> Markup {
    let max = bars
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = (WIDTH - LEFT) / bars.len().max(1) as f64;
    html! {
        figure.chart {
            figcaption { (title) }
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(title) {
                line.axis x1=(LEFT) y1=(HEIGHT - BOTTOM) x2=(WIDTH) y2=(HEIGHT - BOTTOM) {}
                text x=(LEFT - 4.0) y="10" text-anchor="end" { (max) }
                @for (i, (label, count)) in bars.iter().enumerate() {
                    @let height = (HEIGHT - BOTTOM - 12.0) * (*count as f64 / max as f64);
                    @let x = LEFT + slot * i as f64;
                    rect.bar x=(format!("{:.1}", x + slot * 0.15)) y=(format!("{:.1}", HEIGHT - BOTTOM - height))
                        width=(format!("{:.1}", slot * 0.7)) height=(format!("{:.1}", height)) {}
                    text x=(format!("{:.1}", x + slot * 0.5)) y=(format!("{:.1}", HEIGHT - BOTTOM - height - 2.0)) text-anchor="middle" { (count) }
                    text x=(format!("{:.1}", x + slot * 0.5)) y=(HEIGHT - 2.0) text-anchor="middle" { (label) }
                }
            }
        }
    }
}
