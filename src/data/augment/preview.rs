//! `layerlab augment-preview`: a grid with a row per training image, the original first and
//! then the copies training would see in successive epochs, so a person sees what an
//! augmentation setting asks for before training with it.

use image::{Rgb, RgbImage};

use super::{Augmentation, ImageShape, SampleDraw};
use crate::plot::text;

/// Screen pixels per image pixel, and the gap between images.
const ZOOM: u32 = 3;
const GAP: u32 = 4;
const HEADER: u32 = 14;

/// `count` training images of `train` picked by `seed` (as a run with that seed would shuffle
/// them first), with their indices: what [`preview_grid`] draws.
pub fn preview_images(
    train: &crate::data::Samples,
    seed: u64,
    count: usize,
) -> (Vec<u32>, Vec<Vec<f32>>) {
    let indices: Vec<u32> = crate::data::shuffled_indices(train.len(), seed)
        .into_iter()
        .take(count)
        .collect();
    let images = indices
        .iter()
        .map(|&index| {
            let mut pixels = Vec::new();
            train.fill_inputs(&[index], &mut pixels);
            pixels
        })
        .collect();
    (indices, images)
}

/// The grid for `images` (each `shape`, values in [0, 1]) with `copies` augmented copies
/// each, drawn as epochs 0, 1, ... of a run with `seed`; `indices` are the images' indices
/// in the training split (what the draws depend on).
pub fn preview_grid(
    augmentation: &Augmentation,
    shape: ImageShape,
    images: &[Vec<f32>],
    indices: &[u32],
    copies: usize,
    seed: u64,
) -> RgbImage {
    let (cell_w, cell_h) = (shape.width as u32 * ZOOM, shape.height as u32 * ZOOM);
    let columns = copies as u32 + 1;
    let width = columns * (cell_w + GAP) + GAP;
    let height = HEADER + images.len() as u32 * (cell_h + GAP) + GAP;
    let mut picture = RgbImage::from_pixel(width, height.max(HEADER + GAP), Rgb([245, 245, 245]));
    let ink = Rgb([40, 40, 40]);
    text(&mut picture, "original", GAP as i64, 3, ink);
    text(
        &mut picture,
        "epoch 1, 2, ... as training sees them",
        (cell_w + 2 * GAP) as i64,
        3,
        ink,
    );
    let mut scratch = Vec::new();
    for (row, (image, &index)) in images.iter().zip(indices).enumerate() {
        let top = HEADER + row as u32 * (cell_h + GAP);
        for column in 0..columns {
            let mut shown = image.clone();
            if column > 0 {
                let draw = SampleDraw {
                    seed,
                    epoch: column as usize - 1,
                    index,
                };
                augmentation.apply(&mut shown, shape, draw, &mut scratch);
            }
            let left = GAP + column * (cell_w + GAP);
            draw_image(&mut picture, &shown, shape, left, top);
        }
    }
    picture
}

/// One image at (left, top), each pixel a `ZOOM` square; grey, or colour from 3 channels.
fn draw_image(picture: &mut RgbImage, image: &[f32], shape: ImageShape, left: u32, top: u32) {
    let plane = shape.height * shape.width;
    for y in 0..shape.height {
        for x in 0..shape.width {
            let level = |channel: usize| {
                let value = image[channel.min(shape.channels - 1) * plane + y * shape.width + x];
                (value.clamp(0.0, 1.0) * 255.0).round() as u8
            };
            let colour = Rgb([level(0), level(1), level(2)]);
            for dy in 0..ZOOM {
                for dx in 0..ZOOM {
                    picture.put_pixel(
                        left + x as u32 * ZOOM + dx,
                        top + y as u32 * ZOOM + dy,
                        colour,
                    );
                }
            }
        }
    }
}
