//! Turning the Inside view's numbers into pictures: mosaics of maps (feature maps, kernels,
//! templates), colour scales, and which map a click landed on.

use eframe::egui::{self, Color32, ColorImage, TextureHandle, TextureOptions};

/// Maps shown per layer at most (the rest are counted, not drawn).
pub const MAX_MAPS: usize = 64;
/// Tallest a mosaic is drawn, in points (a layer of 32 maps of 26x26 filled the tab).
pub const MAX_HEIGHT: f32 = 240.0;
/// Colour of the gaps between maps.
const GAP_COLOUR: Color32 = Color32::from_gray(60);

/// How values become colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Black (0) to white (the largest value); negatives black.
    Grey { largest: f32 },
    /// Blue (negative) through black to orange (positive), by magnitude.
    Diverging { largest: f32 },
}

impl Scale {
    /// Grey when no value is negative, diverging otherwise; scaled by the largest magnitude.
    pub fn fitting<'a>(values: impl IntoIterator<Item = &'a f32>) -> Self {
        let (mut low, mut largest) = (0.0f32, 0.0f32);
        for &v in values {
            if v.is_finite() {
                low = low.min(v);
                largest = largest.max(v.abs());
            }
        }
        let largest = largest.max(1e-12);
        if low < 0.0 {
            Self::Diverging { largest }
        } else {
            Self::Grey { largest }
        }
    }

    pub fn colour(self, v: f32) -> Color32 {
        match self {
            Self::Grey { largest } => {
                Color32::from_gray((v / largest).clamp(0.0, 1.0).mul_add(255.0, 0.0) as u8)
            }
            Self::Diverging { largest } => {
                let t = (v / largest).clamp(-1.0, 1.0);
                let level = |max: f32| (t.abs() * max) as u8;
                if t >= 0.0 {
                    Color32::from_rgb(level(255.0), level(140.0), level(40.0))
                } else {
                    Color32::from_rgb(level(40.0), level(120.0), level(255.0))
                }
            }
        }
    }
}

/// Maps of `height x width` laid out in rows of `columns`, a one-pixel gap between them.
#[derive(Clone)]
pub struct Mosaic {
    pub texture: TextureHandle,
    pub count: usize,
    pub columns: usize,
    pub height: usize,
    pub width: usize,
    pub gap: usize,
}

impl Mosaic {
    /// Draws `maps` (each `height * width` values) with `scale`; at most [`MAX_MAPS`].
    pub fn new<'a>(
        ctx: &egui::Context,
        name: &str,
        maps: impl Iterator<Item = &'a [f32]>,
        height: usize,
        width: usize,
        scale: Scale,
    ) -> Self {
        let maps: Vec<&[f32]> = maps.take(MAX_MAPS).collect();
        let count = maps.len().max(1);
        // Roughly square, wider than tall.
        let columns = (count as f32).sqrt().ceil().max(1.0) as usize;
        let columns = (columns * 3).div_ceil(2).min(count);
        let rows = count.div_ceil(columns);
        let gap = usize::from(height * width > 1);
        let image_width = columns * (width + gap) - gap;
        let image_height = rows * (height + gap) - gap;
        let mut image = ColorImage::filled([image_width, image_height], GAP_COLOUR);
        for (index, map) in maps.iter().enumerate() {
            let (left, top) = (
                (index % columns) * (width + gap),
                (index / columns) * (height + gap),
            );
            for y in 0..height {
                for x in 0..width {
                    let value = map.get(y * width + x).copied().unwrap_or(0.0);
                    image.pixels[(top + y) * image_width + left + x] = scale.colour(value);
                }
            }
        }
        Self {
            texture: ctx.load_texture(name, image, TextureOptions::NEAREST),
            count: maps.len(),
            columns,
            height,
            width,
            gap,
        }
    }

    /// Shows the mosaic at most `largest` points wide and [`MAX_HEIGHT`] tall (and at most
    /// 6 points per pixel); returns the map clicked and the position in it (`y * width + x`).
    pub fn ui(&self, ui: &mut egui::Ui, largest: f32, hover: &str) -> Option<(usize, usize)> {
        let size = self.texture.size_vec2();
        let zoom = (largest / size.x).min(MAX_HEIGHT / size.y).clamp(0.5, 6.0);
        let response = ui
            .add(
                egui::Image::new(&self.texture)
                    .fit_to_exact_size(size * zoom)
                    .sense(egui::Sense::click()),
            )
            .on_hover_text(hover);
        if !response.clicked() {
            return None;
        }
        let position = response.interact_pointer_pos()? - response.rect.min;
        let (x, y) = ((position.x / zoom) as usize, (position.y / zoom) as usize);
        let map = self.map_at(x, y)?;
        let inside = |p: usize, side: usize| (p % (side + self.gap)).min(side - 1);
        Some((
            map,
            inside(y, self.height) * self.width + inside(x, self.width),
        ))
    }

    /// The map under texture pixel `(x, y)`, if any (a gap counts with the map left of or
    /// above it).
    pub fn map_at(&self, x: usize, y: usize) -> Option<usize> {
        let (column, row) = (x / (self.width + self.gap), y / (self.height + self.gap));
        let index = row * self.columns + column;
        (column < self.columns && index < self.count).then_some(index)
    }
}

/// An RGB picture (from `explain::picture`) as a texture.
pub fn rgb_texture(ctx: &egui::Context, name: &str, picture: &image::RgbImage) -> TextureHandle {
    let size = [picture.width() as usize, picture.height() as usize];
    ctx.load_texture(
        name,
        ColorImage::from_rgb(size, picture.as_raw()),
        TextureOptions::NEAREST,
    )
}

/// Bars of `values` (one per unit) filling `width`; returns the unit clicked.
pub fn bars_ui(ui: &mut egui::Ui, values: &[f32], width: f32, hover: &str) -> Option<usize> {
    let height = 56.0;
    let (response, painter) = ui.allocate_painter(egui::vec2(width, height), egui::Sense::click());
    let rect = response.rect;
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let largest = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(1e-12f32, |m, v| m.max(v.abs()));
    let signed = values.iter().any(|&v| v < 0.0);
    let baseline = if signed {
        rect.center().y
    } else {
        rect.bottom()
    };
    let span = if signed { height / 2.0 } else { height };
    let bar = rect.width() / values.len().max(1) as f32;
    let scale = if signed {
        Scale::Diverging { largest }
    } else {
        Scale::Grey { largest }
    };
    for (index, &v) in values.iter().enumerate() {
        let left = rect.left() + index as f32 * bar;
        let top = baseline - (v / largest).clamp(-1.0, 1.0) * span;
        let colour = if signed {
            scale.colour(v)
        } else {
            crate::app::views::tokens::PREDICTED_BAR
        };
        painter.rect_filled(
            egui::Rect::from_x_y_ranges(
                left..=(left + (bar - 1.0).max(1.0)),
                top.min(baseline)..=top.max(baseline),
            ),
            0.0,
            colour,
        );
    }
    let response = response.on_hover_text(hover);
    let pointer = response.hover_pos();
    if let Some(pointer) = pointer {
        let index = ((pointer.x - rect.left()) / bar) as usize;
        if let Some(v) = values.get(index) {
            painter.text(
                rect.left_top() + egui::vec2(4.0, 2.0),
                egui::Align2::LEFT_TOP,
                format!("unit {index}: {v:.3}"),
                egui::FontId::monospace(11.0),
                ui.visuals().strong_text_color(),
            );
        }
    }
    if response.clicked() {
        let pointer = response.interact_pointer_pos()?;
        let index = ((pointer.x - rect.left()) / bar) as usize;
        return (index < values.len()).then_some(index);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_fits_the_values_and_clamps() {
        assert_eq!(Scale::fitting(&[0.0, 2.0]), Scale::Grey { largest: 2.0 });
        assert_eq!(
            Scale::fitting(&[-3.0, 2.0]),
            Scale::Diverging { largest: 3.0 }
        );
        let grey = Scale::Grey { largest: 2.0 };
        assert_eq!(grey.colour(2.0), Color32::from_gray(255));
        assert_eq!(grey.colour(-1.0), Color32::from_gray(0));
        let diverging = Scale::Diverging { largest: 1.0 };
        assert_eq!(diverging.colour(1.0), Color32::from_rgb(255, 140, 40));
        assert_eq!(diverging.colour(-5.0), Color32::from_rgb(40, 120, 255));
    }

    #[test]
    fn a_click_finds_the_map_under_it() {
        let ctx = egui::Context::default();
        let maps = vec![vec![0.5f32; 4]; 20];
        // 20 maps of 2x2: ceil(sqrt 20) = 5, widened by half to 8 columns, 3 rows; gap 1.
        let mosaic = Mosaic::new(
            &ctx,
            "test",
            maps.iter().map(Vec::as_slice),
            2,
            2,
            Scale::Grey { largest: 1.0 },
        );
        assert_eq!((mosaic.count, mosaic.columns), (20, 8));
        assert_eq!(mosaic.texture.size(), [8 * 3 - 1, 3 * 3 - 1]);
        assert_eq!(mosaic.map_at(0, 0), Some(0));
        assert_eq!(mosaic.map_at(4, 1), Some(1));
        assert_eq!(mosaic.map_at(0, 3), Some(8));
        assert_eq!(mosaic.map_at(3 * 3, 3 * 2), Some(19));
        // Past the last map, and past the right edge.
        assert_eq!(mosaic.map_at(3 * 4, 3 * 2), None);
        assert_eq!(mosaic.map_at(3 * 8, 0), None);
    }
}
