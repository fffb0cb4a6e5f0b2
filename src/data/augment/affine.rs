//! A random affine warp as the PyTorch reference does it (`F.affine_grid` then
//! `F.grid_sample`, bilinear, `align_corners=False`, zeros outside): each output pixel
//! samples the input where the inverse transform puts it.

/// One image's transform: degrees anticlockwise, a shear along x in degrees, a zoom factor,
/// and a shift as a fraction of the width and height.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    pub degrees: f32,
    pub shear_degrees: f32,
    pub scale: f32,
    pub translate: [f32; 2],
}

impl Affine {
    pub const IDENTITY: Self = Self {
        degrees: 0.0,
        shear_degrees: 0.0,
        scale: 1.0,
        translate: [0.0, 0.0],
    };

    /// `theta` of `F.affine_grid`: output coordinates (in [-1, 1]) to input ones.
    fn theta(&self) -> [[f32; 3]; 2] {
        let (sin, cos) = self.degrees.to_radians().sin_cos();
        let shear = self.shear_degrees.to_radians().tan();
        let s = self.scale;
        // Rotation times shear, divided by the zoom (a zoom of 1.1 samples a smaller area).
        [
            [cos / s, (cos * shear - sin) / s, 2.0 * self.translate[0]],
            [sin / s, (sin * shear + cos) / s, 2.0 * self.translate[1]],
        ]
    }
}

/// Warps each channel of the `channels x height x width` image `pixels` into `out`.
pub fn warp(
    pixels: &[f32],
    channels: usize,
    height: usize,
    width: usize,
    transform: &Affine,
    out: &mut [f32],
) {
    let theta = transform.theta();
    let (w, h) = (width as f32, height as f32);
    for row in 0..height {
        // Pixel centres in [-1, 1] (align_corners=False).
        let y = (2 * row + 1) as f32 / h - 1.0;
        for column in 0..width {
            let x = (2 * column + 1) as f32 / w - 1.0;
            let source_x = theta[0][0] * x + theta[0][1] * y + theta[0][2];
            let source_y = theta[1][0] * x + theta[1][1] * y + theta[1][2];
            // Back to pixel coordinates of the input.
            let px = ((source_x + 1.0) * w - 1.0) / 2.0;
            let py = ((source_y + 1.0) * h - 1.0) / 2.0;
            for channel in 0..channels {
                let plane = &pixels[channel * height * width..(channel + 1) * height * width];
                out[channel * height * width + row * width + column] =
                    bilinear(plane, height, width, px, py);
            }
        }
    }
}

/// The plane's value at (x, y) by bilinear interpolation, zero outside it.
pub fn bilinear(plane: &[f32], height: usize, width: usize, x: f32, y: f32) -> f32 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: f32, yi: f32| -> f32 {
        if xi < 0.0 || yi < 0.0 || xi >= width as f32 || yi >= height as f32 {
            0.0
        } else {
            plane[yi as usize * width + xi as usize]
        }
    };
    at(x0, y0) * (1.0 - fx) * (1.0 - fy)
        + at(x0 + 1.0, y0) * fx * (1.0 - fy)
        + at(x0, y0 + 1.0) * (1.0 - fx) * fy
        + at(x0 + 1.0, y0 + 1.0) * fx * fy
}
