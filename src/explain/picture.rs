//! Explanations as pictures (the `image` crate): saliency maps over the input, and every
//! layer's activations as a grid. `layerlab explain` writes them as PNG files.

use image::{Rgb, RgbImage};

use super::LayerActivation;
use crate::spec::ActivationShape;

/// Pixels per input pixel in the saliency panels.
const SCALE: u32 = 8;
/// Pixels per activation value in the activations grid.
const CELL: u32 = 4;
const GAP: u32 = 6;

/// A grey `height x width` picture of `values` in [0, 1], scaled up.
fn grey_panel(values: &[f32], height: usize, width: usize, scale: u32) -> RgbImage {
    RgbImage::from_fn(width as u32 * scale, height as u32 * scale, |x, y| {
        let v = values[(y / scale) as usize * width + (x / scale) as usize];
        let g = (v.clamp(0.0, 1.0) * 255.0) as u8;
        Rgb([g, g, g])
    })
}

/// `map` over the grey input: red where the map is positive (supports the class), blue where
/// negative, stronger for more; scaled by the map's largest magnitude. A map of another size
/// (Grad-CAM's coarser grid) is stretched over the input.
pub fn overlay(
    input: &[f32],
    height: usize,
    width: usize,
    map: &[f32],
    map_height: usize,
    map_width: usize,
) -> RgbImage {
    let largest = map.iter().fold(1e-12f32, |m, v| m.max(v.abs()));
    RgbImage::from_fn(width as u32 * SCALE, height as u32 * SCALE, |x, y| {
        let (ix, iy) = ((x / SCALE) as usize, (y / SCALE) as usize);
        let grey = input[iy * width + ix].clamp(0.0, 1.0) * 0.6;
        let (mx, my) = (
            (x as usize * map_width) / (width * SCALE as usize),
            (y as usize * map_height) / (height * SCALE as usize),
        );
        let m = map.get(my * map_width + mx).copied().unwrap_or(0.0) / largest;
        let (r, b) = if m >= 0.0 { (m, 0.0) } else { (0.0, -m) };
        let channel = |extra: f32| ((grey + extra).clamp(0.0, 1.0) * 255.0) as u8;
        Rgb([channel(r), channel(0.0), channel(b)])
    })
}

/// Panels side by side with a gap.
pub fn side_by_side(panels: &[RgbImage]) -> RgbImage {
    let width = panels
        .iter()
        .map(|p| p.width() + GAP)
        .sum::<u32>()
        .saturating_sub(GAP)
        .max(1);
    let height = panels.iter().map(RgbImage::height).max().unwrap_or(1);
    let mut out = RgbImage::from_pixel(width, height, Rgb([32, 32, 32]));
    let mut left = 0;
    for panel in panels {
        image::imageops::overlay(&mut out, panel, i64::from(left), 0);
        left += panel.width() + GAP;
    }
    out
}

/// The input (first channel) as a grey panel, at the saliency panels' scale.
pub fn input_panel(input: &[f32], height: usize, width: usize) -> RgbImage {
    grey_panel(input, height, width, SCALE)
}

/// Every layer's activations, one row per layer: an image-shaped output as its maps side by
/// side (at most `max_maps`), a flat one as a strip of cells; each row scaled to its own
/// largest magnitude.
pub fn activation_grid(layers: &[LayerActivation], max_maps: usize) -> RgbImage {
    let rows: Vec<RgbImage> = layers
        .iter()
        .map(|layer| {
            let largest = layer.values.iter().fold(1e-12f32, |m, v| m.max(v.abs()));
            let scaled: Vec<f32> = layer.values.iter().map(|v| v.abs() / largest).collect();
            match layer.shape {
                ActivationShape::Spatial {
                    channels,
                    height,
                    width,
                } => {
                    let maps: Vec<RgbImage> = (0..channels.min(max_maps))
                        .map(|c| {
                            let start = c * height * width;
                            grey_panel(&scaled[start..start + height * width], height, width, CELL)
                        })
                        .collect();
                    side_by_side(&maps)
                }
                ActivationShape::Flat { features } => {
                    let shown = features.min(256);
                    RgbImage::from_fn(shown as u32 * CELL, CELL * 3, |x, _| {
                        let g = (scaled[(x / CELL) as usize] * 255.0) as u8;
                        Rgb([g, g, g])
                    })
                }
            }
        })
        .collect();
    let width = rows.iter().map(RgbImage::width).max().unwrap_or(1);
    let height = rows.iter().map(|r| r.height() + GAP).sum::<u32>().max(1);
    let mut out = RgbImage::from_pixel(width, height, Rgb([32, 32, 32]));
    let mut top = 0;
    for row in &rows {
        image::imageops::overlay(&mut out, row, 0, i64::from(top));
        top += row.height() + GAP;
    }
    out
}
