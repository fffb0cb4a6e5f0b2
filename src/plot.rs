//! Line charts drawn as pictures for the command line (`layerlab lr-find --out lr.png`):
//! axes with ticks and numbers, lines, and labelled vertical markers. Text is the 8x8 bitmap
//! font of `font8x8`, so nothing here needs a font file or a window.

use font8x8::{UnicodeFonts, BASIC_FONTS};
use image::{Rgb, RgbImage};

/// One line of the chart.
#[derive(Clone, Debug)]
pub struct Series {
    pub points: Vec<(f64, f64)>,
    pub colour: [u8; 3],
    pub label: String,
}

/// A vertical line at `x` with its label.
#[derive(Clone, Debug)]
pub struct Marker {
    pub x: f64,
    pub colour: [u8; 3],
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// A base-10 logarithmic x axis (ticks at powers of ten).
    pub log_x: bool,
    pub series: Vec<Series>,
    pub markers: Vec<Marker>,
}

const WIDTH: u32 = 720;
const HEIGHT: u32 = 440;
const LEFT: u32 = 70;
const RIGHT: u32 = 20;
const TOP: u32 = 34;
const BOTTOM: u32 = 50;
const GLYPH: u32 = 8;
const INK: Rgb<u8> = Rgb([40, 40, 40]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);

impl LineChart {
    /// The chart as a picture; the y range covers every finite point.
    pub fn render(&self) -> RgbImage {
        let mut picture = RgbImage::from_pixel(WIDTH, HEIGHT, Rgb([255, 255, 255]));
        let x_of = |x: f64| if self.log_x { x.log10() } else { x };
        let finite = |(x, y): (f64, f64)| {
            let x = x_of(x);
            (x.is_finite() && y.is_finite()).then_some((x, y))
        };
        let points: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied().filter_map(finite))
            .collect();
        let range = |values: &mut dyn Iterator<Item = f64>| {
            let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            if lo.is_finite() && hi > lo {
                (lo, hi)
            } else if lo.is_finite() {
                (lo - 0.5, lo + 0.5)
            } else {
                (0.0, 1.0)
            }
        };
        let (x_lo, x_hi) = range(&mut points.iter().map(|p| p.0));
        let (y_lo, y_hi) = range(&mut points.iter().map(|p| p.1));
        let (plot_w, plot_h) = (
            (WIDTH - LEFT - RIGHT) as f64,
            (HEIGHT - TOP - BOTTOM) as f64,
        );
        let px = |x: f64| LEFT as f64 + (x - x_lo) / (x_hi - x_lo) * plot_w;
        let py = |y: f64| TOP as f64 + (y_hi - y) / (y_hi - y_lo) * plot_h;

        // Grid and tick numbers.
        for (x, label) in x_ticks(x_lo, x_hi, self.log_x) {
            let at = px(x) as i64;
            vertical(&mut picture, at, TOP, HEIGHT - BOTTOM, GRID);
            text(
                &mut picture,
                &label,
                at - label.len() as i64 * 4,
                (HEIGHT - BOTTOM + 6) as i64,
                INK,
            );
        }
        for y in nice_ticks(y_lo, y_hi) {
            let at = py(y) as i64;
            horizontal(&mut picture, at, LEFT, WIDTH - RIGHT, GRID);
            let label = format_number(y);
            text(
                &mut picture,
                &label,
                LEFT as i64 - 6 - label.len() as i64 * 8,
                at - 4,
                INK,
            );
        }
        // Axes.
        vertical(&mut picture, LEFT as i64, TOP, HEIGHT - BOTTOM, INK);
        horizontal(
            &mut picture,
            (HEIGHT - BOTTOM) as i64,
            LEFT,
            WIDTH - RIGHT,
            INK,
        );
        text(&mut picture, &self.title, LEFT as i64, 10, INK);
        let x_label_at = (LEFT + (WIDTH - LEFT - RIGHT) / 2) as i64 - self.x_label.len() as i64 * 4;
        text(
            &mut picture,
            &self.x_label,
            x_label_at,
            (HEIGHT - 20) as i64,
            INK,
        );
        text(&mut picture, &self.y_label, 6, TOP as i64 - 14, INK);

        for series in &self.series {
            let colour = Rgb(series.colour);
            let mut last: Option<(f64, f64)> = None;
            for point in series.points.iter().copied().map(finite) {
                if let (Some((x0, y0)), Some((x1, y1))) = (last, point) {
                    line(&mut picture, (px(x0), py(y0)), (px(x1), py(y1)), colour);
                }
                last = point;
            }
        }
        for marker in &self.markers {
            let x = x_of(marker.x);
            if x.is_finite() {
                vertical(
                    &mut picture,
                    px(x) as i64,
                    TOP,
                    HEIGHT - BOTTOM,
                    Rgb(marker.colour),
                );
            }
        }
        // Legend: series then markers, top right.
        let mut legend_y = TOP as i64 + 6;
        let legend = self
            .series
            .iter()
            .map(|s| (&s.label, s.colour))
            .chain(self.markers.iter().map(|m| (&m.label, m.colour)));
        for (label, colour) in legend {
            let x = (WIDTH - RIGHT) as i64 - 8 * label.len() as i64 - 26;
            horizontal(
                &mut picture,
                legend_y + 4,
                x as u32,
                x as u32 + 14,
                Rgb(colour),
            );
            text(&mut picture, label, x + 20, legend_y, INK);
            legend_y += 14;
        }
        picture
    }
}

/// Tick positions and labels: powers of ten on a log axis, round numbers otherwise.
fn x_ticks(lo: f64, hi: f64, log: bool) -> Vec<(f64, String)> {
    if log {
        let step = ((hi - lo) / 8.0).ceil().max(1.0);
        let mut ticks = Vec::new();
        let mut power = (lo / step).ceil() * step;
        while power <= hi + 1e-9 {
            ticks.push((power, format!("1e{}", power as i64)));
            power += step;
        }
        return ticks;
    }
    nice_ticks(lo, hi)
        .into_iter()
        .map(|t| (t, format_number(t)))
        .collect()
}

/// About six round numbers (1, 2 or 5 times a power of ten apart) within [lo, hi].
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(magnitude * 10.0);
    let mut ticks = Vec::new();
    let mut tick = (lo / step).ceil() * step;
    while tick <= hi + step * 1e-9 && ticks.len() < 20 {
        ticks.push(tick);
        tick += step;
    }
    ticks
}

fn format_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-3..1e5).contains(&magnitude) {
        format!("{value:.0e}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One pixel, when it lies inside the picture.
pub fn put(picture: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < picture.width() && (y as u32) < picture.height() {
        picture.put_pixel(x as u32, y as u32, colour);
    }
}

fn vertical(picture: &mut RgbImage, x: i64, from: u32, to: u32, colour: Rgb<u8>) {
    for y in from..=to {
        put(picture, x, y as i64, colour);
    }
}

fn horizontal(picture: &mut RgbImage, y: i64, from: u32, to: u32, colour: Rgb<u8>) {
    for x in from..=to {
        put(picture, x as i64, y, colour);
    }
}

/// A line two pixels thick, stepped along its longer extent.
fn line(picture: &mut RgbImage, from: (f64, f64), to: (f64, f64), colour: Rgb<u8>) {
    let steps = (to.0 - from.0)
        .abs()
        .max((to.1 - from.1).abs())
        .ceil()
        .max(1.0) as usize;
    for i in 0..=steps {
        let t = i as f64 / steps as f64;
        let x = (from.0 + (to.0 - from.0) * t).round() as i64;
        let y = (from.1 + (to.1 - from.1) * t).round() as i64;
        put(picture, x, y, colour);
        put(picture, x, y + 1, colour);
    }
}

/// `label` in the 8x8 font with its top left at (x, y); characters it lacks are skipped.
pub fn text(picture: &mut RgbImage, label: &str, x: i64, y: i64, colour: Rgb<u8>) {
    for (index, character) in label.chars().enumerate() {
        let Some(glyph) = BASIC_FONTS.get(character) else {
            continue;
        };
        let left = x + (index as u32 * GLYPH) as i64;
        for (row, bits) in glyph.iter().enumerate() {
            for column in 0..8 {
                if bits & (1 << column) != 0 {
                    put(picture, left + column, y + row as i64, colour);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside_the_range() {
        assert_eq!(
            nice_ticks(0.0, 1.0),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let decades: Vec<String> = x_ticks(-7.0, 1.0, true).into_iter().map(|t| t.1).collect();
        assert_eq!(
            decades,
            ["1e-7", "1e-6", "1e-5", "1e-4", "1e-3", "1e-2", "1e-1", "1e0", "1e1"]
        );
    }

    #[test]
    fn lines_and_markers_are_drawn_in_their_colours() {
        let chart = LineChart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            log_x: true,
            series: vec![Series {
                points: vec![(1e-3, 1.0), (1e-2, 0.5), (1e-1, f64::NAN), (1.0, 2.0)],
                colour: [0, 0, 200],
                label: "loss".into(),
            }],
            markers: vec![Marker {
                x: 1e-2,
                colour: [200, 0, 0],
                label: "here".into(),
            }],
        };
        let picture = chart.render();
        let count = |c: [u8; 3]| picture.pixels().filter(|p| p.0 == c).count();
        assert!(count([0, 0, 200]) > 100);
        assert!(count([200, 0, 0]) > (HEIGHT - TOP - BOTTOM) as usize);
    }
}
