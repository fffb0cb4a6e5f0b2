//! Random erasing (Zhong et al. 2017) as torchvision's `RandomErasing` draws it: up to 10
//! tries at a rectangle of a random share of the area (`scale`) and aspect ratio (`ratio`,
//! drawn on a log scale) that fits, filled with 0.

use rand::Rng;

/// Where a rectangle was erased: (top, left, height, width).
pub type Rectangle = (usize, usize, usize, usize);

/// Draws a rectangle as torchvision does; `None` when 10 tries found none that fits.
pub fn draw_rectangle(
    rng: &mut impl Rng,
    height: usize,
    width: usize,
    scale: [f32; 2],
    ratio: [f32; 2],
) -> Option<Rectangle> {
    let area = (height * width) as f32;
    let (log_low, log_high) = (ratio[0].ln(), ratio[1].ln());
    for _ in 0..10 {
        let erase_area = area * rng.gen_range(scale[0]..=scale[1]);
        let aspect = rng.gen_range(log_low..=log_high).exp();
        let h = (erase_area * aspect).sqrt().round() as usize;
        let w = (erase_area / aspect).sqrt().round() as usize;
        if h == 0 || w == 0 || h >= height || w >= width {
            continue;
        }
        let top = rng.gen_range(0..=height - h);
        let left = rng.gen_range(0..=width - w);
        return Some((top, left, h, w));
    }
    None
}

/// Sets the rectangle to 0 in every channel.
pub fn erase(pixels: &mut [f32], channels: usize, height: usize, width: usize, rect: Rectangle) {
    let (top, left, h, w) = rect;
    for channel in 0..channels {
        for row in top..top + h {
            let start = channel * height * width + row * width + left;
            pixels[start..start + w].fill(0.0);
        }
    }
}
