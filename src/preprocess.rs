//! MNIST-style preprocessing for images people draw or pick: the same steps the MNIST authors
//! applied, so a drawn digit looks like the digits the model was trained on.
//!
//! 1. greyscale, white ink on black (inverted when the border is light: dark ink on paper);
//! 2. crop to the ink's bounding box;
//! 3. scale (anti-aliased) so the longer side is 20 pixels, keeping the aspect ratio;
//! 4. paste into 28x28 so the ink's centre of mass sits at the centre.
//!
//! Pure functions over `image` buffers; the canvas and `layerlab predict` both call
//! [`preprocess_digit`], so they cannot drift apart.

use image::{imageops, imageops::FilterType, DynamicImage, GrayImage, Luma};

/// Side of an MNIST image.
pub const MNIST_SIDE: usize = 28;
/// Side of the box the digit is scaled into (MNIST: 20x20, leaving a 4-pixel margin).
pub const DIGIT_BOX_SIDE: u32 = 20;
/// A pixel counts as ink above this grey level (of 255), after inversion.
const INK_THRESHOLD: u8 = 30;

/// Largest width or height of an image LayerLab opens (a 28x28 prediction never needs more).
pub const MAX_IMAGE_SIDE: u32 = 10_000;
/// Most memory the `image` crate may allocate to decode one image.
pub const MAX_IMAGE_ALLOC: u64 = 256 << 20;

/// Why an image file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ImageFileError {
    #[error("cannot read image {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error(
        "{path} is not an image LayerLab reads (PNG, JPEG, BMP or GIF, judged by its content)"
    )]
    UnknownFormat { path: String },
    #[error("{path} cannot be decoded: {reason}")]
    Decode { path: String, reason: String },
    #[error("{path} is cut short: the JPEG data ends before its end-of-image marker")]
    Truncated { path: String },
}

/// Opens an image by its content (not its extension), within size and memory limits, refusing
/// a truncated JPEG (whose decoder would fill the missing part with grey), with transparency
/// composited over a background that keeps the ink visible.
pub fn read_image(path: &std::path::Path) -> Result<DynamicImage, ImageFileError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|cause| ImageFileError::Read {
        path: name.clone(),
        cause,
    })?;
    decode_image(&bytes, &name)
}

/// [`read_image`] on bytes already in memory; `name` names them in errors.
pub fn decode_image(bytes: &[u8], name: &str) -> Result<DynamicImage, ImageFileError> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|cause| ImageFileError::Read {
            path: name.to_string(),
            cause,
        })?;
    let format = reader
        .format()
        .ok_or_else(|| ImageFileError::UnknownFormat {
            path: name.to_string(),
        })?;
    if format == image::ImageFormat::Jpeg {
        // A complete JPEG ends with FF D9 (some writers add a little padding after it).
        let tail = &bytes[bytes.len().saturating_sub(64)..];
        if !tail.windows(2).any(|w| w == [0xff, 0xd9]) {
            return Err(ImageFileError::Truncated {
                path: name.to_string(),
            });
        }
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_IMAGE_ALLOC);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| ImageFileError::Decode {
        path: name.to_string(),
        reason: e.to_string(),
    })?;
    Ok(flatten_alpha(image))
}

/// Composites a transparent image over a background: white, unless the visible pixels are
/// mostly light (white ink on transparency), then black. Opaque images pass unchanged.
pub fn flatten_alpha(image: DynamicImage) -> DynamicImage {
    if !image.color().has_alpha() {
        return image;
    }
    let rgba = image.to_rgba8();
    let (mut sum, mut weight) = (0.0f64, 0.0f64);
    for p in rgba.pixels() {
        let a = f64::from(p.0[3]) / 255.0;
        let luma =
            0.299 * f64::from(p.0[0]) + 0.587 * f64::from(p.0[1]) + 0.114 * f64::from(p.0[2]);
        sum += luma * a;
        weight += a;
    }
    let background = if weight > 0.0 && sum / weight > 127.0 {
        0.0
    } else {
        255.0
    };
    let flat = image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = f32::from(p[3]) / 255.0;
        image::Rgb([0, 1, 2].map(|c| (f32::from(p[c]) * a + background * (1.0 - a)).round() as u8))
    });
    DynamicImage::ImageRgb8(flat)
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PreprocessError {
    #[error("the image is empty (0 pixels)")]
    Empty,
    #[error("the image has no ink: draw or pick a digit first")]
    NoInk,
}

/// The 28x28 input a model sees, values in [0, 1], row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitInput {
    pub pixels: Vec<f32>,
}

impl DigitInput {
    /// As an 8-bit image, to show what the model sees.
    pub fn to_image(&self) -> GrayImage {
        let side = MNIST_SIDE as u32;
        GrayImage::from_fn(side, side, |x, y| {
            let v = self.pixels[(y * side + x) as usize];
            Luma([(v.clamp(0.0, 1.0) * 255.0).round() as u8])
        })
    }
}

/// A stroke drawn with the mouse: the pointer's positions in canvas coordinates (both axes
/// in [0, 1], y down) as sampled, and whether it paints ink or erases it. One point is a dot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stroke {
    pub points: Vec<[f32; 2]>,
    pub erase: bool,
}

impl Stroke {
    pub fn ink(points: Vec<[f32; 2]>) -> Self {
        Self {
            points,
            erase: false,
        }
    }

    /// The stroke as drawn: the sampled points joined by a Catmull-Rom spline, so a curve
    /// sampled sparsely (a fast hand, a slow frame) comes out round instead of as a polygon.
    /// Consecutive points are at most `step` apart; the samples themselves are kept.
    pub fn smoothed(&self, step: f32) -> Vec<[f32; 2]> {
        smooth_polyline(&self.points, step)
    }
}

/// Catmull-Rom spline (uniform, tangents from the neighbours; the end points are repeated)
/// through `points`, subdivided so consecutive points are at most `step` apart.
pub fn smooth_polyline(points: &[[f32; 2]], step: f32) -> Vec<[f32; 2]> {
    if points.len() < 3 || step <= 0.0 || !step.is_finite() {
        return points.to_vec();
    }
    let at = |i: isize| points[i.clamp(0, points.len() as isize - 1) as usize];
    let mut out = vec![points[0]];
    for i in 0..points.len() as isize - 1 {
        let (p0, p1, p2, p3) = (at(i - 1), at(i), at(i + 1), at(i + 2));
        let length = ((p2[0] - p1[0]).powi(2) + (p2[1] - p1[1]).powi(2)).sqrt();
        // Bounded: a segment crosses the canvas at most ~1.5 times its side.
        let pieces = ((length / step).ceil() as usize).clamp(1, 4_096);
        for k in 1..pieces {
            let t = k as f32 / pieces as f32;
            let (t2, t3) = (t * t, t * t * t);
            let coordinate = |c: usize| {
                0.5 * (2.0 * p1[c]
                    + (p2[c] - p0[c]) * t
                    + (2.0 * p0[c] - 5.0 * p1[c] + 4.0 * p2[c] - p3[c]) * t2
                    + (3.0 * p1[c] - p0[c] - 3.0 * p2[c] + p3[c]) * t3)
            };
            out.push([coordinate(0), coordinate(1)]);
        }
        out.push(p2); // the sample itself, exactly
    }
    out
}

/// Side in pixels strokes are rasterised at before preprocessing: ten times MNIST's, enough
/// for smooth anti-aliased edges after scaling down, and independent of the screen's size.
pub const RASTER_SIDE: u32 = 280;

/// Draws strokes in order as white, anti-aliased round-capped lines on black (an erasing
/// stroke paints black over what came before). `brush_radius` is a fraction of the canvas
/// side; an eraser is [`ERASER_SCALE`] times as wide.
pub fn rasterise_strokes(strokes: &[Stroke], brush_radius: f32, side: u32) -> GrayImage {
    let mut image = GrayImage::new(side, side);
    let scale = side as f32;
    for stroke in strokes {
        let width_scale = if stroke.erase { ERASER_SCALE } else { 1.0 };
        let radius = (brush_radius * width_scale * scale).max(0.5);
        // Spline samples about a pixel apart at this resolution.
        let points: Vec<[f32; 2]> = stroke
            .smoothed(1.0 / scale)
            .iter()
            .map(|p| [p[0] * scale, p[1] * scale])
            .collect();
        let segments: Vec<([f32; 2], [f32; 2])> = match points.len() {
            0 => continue,
            1 => vec![(points[0], points[0])],
            _ => points.windows(2).map(|w| (w[0], w[1])).collect(),
        };
        for (a, b) in segments {
            stamp_segment(&mut image, a, b, radius, stroke.erase);
        }
    }
    image
}

/// How much wider than the brush the eraser is.
pub const ERASER_SCALE: f32 = 2.0;

/// Paints the capsule of `radius` around segment `a`-`b`: ink keeps the brighter value,
/// an eraser the darker.
fn stamp_segment(image: &mut GrayImage, a: [f32; 2], b: [f32; 2], radius: f32, erase: bool) {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let reach = radius + 1.0;
    let x0 = ((a[0].min(b[0]) - reach).floor() as i64).clamp(0, w);
    let x1 = ((a[0].max(b[0]) + reach).ceil() as i64).clamp(0, w);
    let y0 = ((a[1].min(b[1]) - reach).floor() as i64).clamp(0, h);
    let y1 = ((a[1].max(b[1]) + reach).ceil() as i64).clamp(0, h);
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let length_sq = dx * dx + dy * dy;
    for y in y0..y1 {
        for x in x0..x1 {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let t = if length_sq > 0.0 {
                (((px - a[0]) * dx + (py - a[1]) * dy) / length_sq).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (cx, cy) = (a[0] + t * dx - px, a[1] + t * dy - py);
            let distance = (cx * cx + cy * cy).sqrt();
            let coverage = (radius + 0.5 - distance).clamp(0.0, 1.0);
            if coverage > 0.0 {
                let pixel = image.get_pixel_mut(x as u32, y as u32);
                let value = (coverage * 255.0).round() as u8;
                pixel.0[0] = if erase {
                    pixel.0[0].min(255 - value)
                } else {
                    pixel.0[0].max(value)
                };
            }
        }
    }
}

/// Rasterises strokes and preprocesses them exactly like a loaded image.
pub fn preprocess_strokes(
    strokes: &[Stroke],
    brush_radius: f32,
) -> Result<DigitInput, PreprocessError> {
    let raster = rasterise_strokes(strokes, brush_radius, RASTER_SIDE);
    preprocess_digit(&DynamicImage::ImageLuma8(raster))
}

/// Turns any image of a single digit into MNIST's format.
pub fn preprocess_digit(image: &DynamicImage) -> Result<DigitInput, PreprocessError> {
    let mut grey = image.to_luma8();
    if grey.width() == 0 || grey.height() == 0 {
        return Err(PreprocessError::Empty);
    }
    // A flat picture (black, white or any grey) has nothing drawn on it: ink is what stands
    // out from the rest, not a grey level (a flat grey of 100 is above the ink threshold).
    let (darkest, lightest) = grey
        .pixels()
        .fold((u8::MAX, u8::MIN), |(lo, hi), Luma([v])| {
            (lo.min(*v), hi.max(*v))
        });
    if lightest - darkest <= INK_THRESHOLD {
        return Err(PreprocessError::NoInk);
    }
    if border_mean(&grey) > 127.0 {
        imageops::invert(&mut grey);
    }
    let (x0, y0, x1, y1) = ink_bounds(&grey).ok_or(PreprocessError::NoInk)?;
    let cropped = imageops::crop_imm(&grey, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image();
    let (w, h) = cropped.dimensions();
    let scale = DIGIT_BOX_SIDE as f32 / w.max(h) as f32;
    let new_w = ((w as f32 * scale).round() as u32).clamp(1, DIGIT_BOX_SIDE);
    let new_h = ((h as f32 * scale).round() as u32).clamp(1, DIGIT_BOX_SIDE);
    let digit = imageops::resize(&cropped, new_w, new_h, FilterType::Triangle);

    // Place the digit so its centre of mass lands on the image centre.
    let (com_x, com_y) = centre_of_mass(&digit);
    let centre = (MNIST_SIDE as f32 - 1.0) / 2.0;
    let offset_x = (centre - com_x).round() as i64;
    let offset_y = (centre - com_y).round() as i64;
    let mut pixels = vec![0.0f32; MNIST_SIDE * MNIST_SIDE];
    for (x, y, Luma([v])) in digit.enumerate_pixels() {
        let (tx, ty) = (x as i64 + offset_x, y as i64 + offset_y);
        if (0..MNIST_SIDE as i64).contains(&tx) && (0..MNIST_SIDE as i64).contains(&ty) {
            pixels[ty as usize * MNIST_SIDE + tx as usize] = *v as f32 / 255.0;
        }
    }
    Ok(DigitInput { pixels })
}

fn border_mean(image: &GrayImage) -> f32 {
    let (w, h) = image.dimensions();
    let mut sum = 0u64;
    let mut count = 0u64;
    for (x, y, Luma([v])) in image.enumerate_pixels() {
        if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
            sum += *v as u64;
            count += 1;
        }
    }
    sum as f32 / count.max(1) as f32
}

/// Inclusive bounding box `(x0, y0, x1, y1)` of the ink, if there is any.
fn ink_bounds(image: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    image
        .enumerate_pixels()
        .filter(|(_, _, Luma([v]))| *v > INK_THRESHOLD)
        .fold(None, |bounds, (x, y, _)| {
            Some(match bounds {
                None => (x, y, x, y),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            })
        })
}

/// Intensity-weighted centre `(x, y)` in pixel-index coordinates.
fn centre_of_mass(image: &GrayImage) -> (f32, f32) {
    let (mut sum, mut sum_x, mut sum_y) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y, Luma([v])) in image.enumerate_pixels() {
        let v = *v as f64;
        sum += v;
        sum_x += v * x as f64;
        sum_y += v * y as f64;
    }
    if sum == 0.0 {
        let (w, h) = image.dimensions();
        return ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0);
    }
    ((sum_x / sum) as f32, (sum_y / sum) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(image: &DynamicImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        image
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .unwrap();
        bytes
    }

    #[test]
    fn black_ink_on_a_transparent_png_is_ink() {
        // A black bar, opaque, on fully transparent black pixels.
        let image = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(100, 100, |x, y| {
            if (45..55).contains(&x) && (10..90).contains(&y) {
                image::Rgba([0, 0, 0, 255])
            } else {
                image::Rgba([0, 0, 0, 0])
            }
        }));
        let decoded = decode_image(&png_bytes(&image), "ink.png").unwrap();
        let digit = preprocess_digit(&decoded).unwrap();
        assert!(digit.pixels.iter().any(|&v| v > 0.5));
        // And white ink on transparency stays ink too.
        let white = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(100, 100, |x, y| {
            let on = (45..55).contains(&x) && (10..90).contains(&y);
            image::Rgba([255, 255, 255, if on { 255 } else { 0 }])
        }));
        let decoded = decode_image(&png_bytes(&white), "white.png").unwrap();
        assert!(preprocess_digit(&decoded)
            .unwrap()
            .pixels
            .iter()
            .any(|&v| v > 0.5));
    }

    #[test]
    fn truncated_jpegs_huge_images_and_misnamed_files_are_handled() {
        let image =
            DynamicImage::ImageLuma8(GrayImage::from_fn(64, 64, |x, _| Luma([x as u8 * 4])));
        let mut jpeg = Vec::new();
        image
            .write_to(
                &mut std::io::Cursor::new(&mut jpeg),
                image::ImageFormat::Jpeg,
            )
            .unwrap();
        assert!(decode_image(&jpeg, "whole.jpg").is_ok());
        let err = decode_image(&jpeg[..jpeg.len() / 2], "half.jpg").unwrap_err();
        assert!(err.to_string().contains("half.jpg is cut short"), "{err}");
        // The format comes from the content: a PNG named .jpg opens.
        assert!(decode_image(&png_bytes(&image), "really-a-png.jpg").is_ok());
        let err = decode_image(b"hello, not an image", "notes.png").unwrap_err();
        assert!(
            err.to_string().contains("not an image LayerLab reads"),
            "{err}"
        );
        // A 20000x20000 PNG header is refused before any pixel memory is allocated.
        let huge = png_bytes(&DynamicImage::ImageLuma8(GrayImage::new(20_000, 1)));
        let err = decode_image(&huge, "wide.png").unwrap_err();
        assert!(
            err.to_string().contains("wide.png cannot be decoded"),
            "{err}"
        );
    }

    /// Dark ink (a 60x120 bar) on white paper, off-centre in a 300x200 image.
    fn paper_with_bar() -> DynamicImage {
        DynamicImage::ImageLuma8(GrayImage::from_fn(300, 200, |x, y| {
            if (200..260).contains(&x) && (20..140).contains(&y) {
                Luma([0])
            } else {
                Luma([255])
            }
        }))
    }

    #[test]
    fn dark_ink_on_paper_becomes_a_centred_white_digit_in_a_20_pixel_box() {
        let input = preprocess_digit(&paper_with_bar()).unwrap();
        let image = input.to_image();
        let (x0, y0, x1, y1) = ink_bounds(&image).unwrap();
        // 120 tall -> 20 tall; 60 wide -> 10 wide.
        assert_eq!(y1 - y0 + 1, 20);
        assert_eq!(x1 - x0 + 1, 10);
        let (cx, cy) = centre_of_mass(&image);
        assert!(
            (cx - 13.5).abs() <= 0.5 && (cy - 13.5).abs() <= 0.5,
            "{cx} {cy}"
        );
        assert!(input.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
        // Background is black, ink is white (MNIST's polarity).
        assert_eq!(input.pixels[0], 0.0);
        assert!(input.pixels.iter().cloned().fold(0.0, f32::max) > 0.9);
    }

    #[test]
    fn light_ink_on_dark_gives_the_same_result_as_dark_on_light() {
        let mut inverted = paper_with_bar().to_luma8();
        imageops::invert(&mut inverted);
        assert_eq!(
            preprocess_digit(&DynamicImage::ImageLuma8(inverted)).unwrap(),
            preprocess_digit(&paper_with_bar()).unwrap()
        );
    }

    #[test]
    fn blank_images_are_refused() {
        // Flat white, black and every grey alike: no ink (a flat grey of 100 was a "digit").
        for level in [0, 31, 100, 127, 128, 200, 255] {
            let flat = DynamicImage::ImageLuma8(GrayImage::from_pixel(50, 50, Luma([level])));
            assert_eq!(
                preprocess_digit(&flat),
                Err(PreprocessError::NoInk),
                "{level}"
            );
        }
        let empty = DynamicImage::ImageLuma8(GrayImage::new(0, 0));
        assert_eq!(preprocess_digit(&empty), Err(PreprocessError::Empty));
    }

    #[test]
    fn strokes_rasterise_to_anti_aliased_white_lines() {
        // A vertical line near the middle (x = 50.3 px), brush radius 2% of the side (2 px).
        let stroke = Stroke::ink(vec![[0.503, 0.2], [0.503, 0.8]]);
        let image = rasterise_strokes(std::slice::from_ref(&stroke), 0.02, 100);
        assert_eq!(image.get_pixel(50, 50).0[0], 255);
        assert_eq!(image.get_pixel(10, 50).0[0], 0);
        assert_eq!(image.get_pixel(50, 5).0[0], 0);
        // The edge is partly covered: anti-aliased, not a hard step.
        let edge = image.get_pixel(52, 50).0[0];
        assert!(edge > 0 && edge < 255, "{edge}");
        // Through the same preprocessing as a file: a tall thin digit, centred.
        let input = preprocess_strokes(&[stroke], 0.02).unwrap();
        let (_, y0, _, y1) = ink_bounds(&input.to_image()).unwrap();
        assert_eq!(y1 - y0 + 1, 20);
        assert_eq!(preprocess_strokes(&[], 0.02), Err(PreprocessError::NoInk));
    }

    #[test]
    fn a_one_point_stroke_is_a_dot_of_ink() {
        let dot = Stroke::ink(vec![[0.5, 0.5]]);
        let image = rasterise_strokes(std::slice::from_ref(&dot), 0.045, RASTER_SIDE);
        assert_eq!(image.get_pixel(140, 140).0[0], 255);
        let input = preprocess_strokes(&[dot], 0.045).unwrap();
        assert!(input.pixels.iter().filter(|&&v| v > 0.5).count() > 20);
    }

    #[test]
    fn an_erasing_stroke_removes_ink_drawn_before_it_only() {
        let bar = Stroke::ink(vec![[0.2, 0.5], [0.8, 0.5]]);
        let eraser = Stroke {
            points: vec![[0.5, 0.3], [0.5, 0.7]],
            erase: true,
        };
        let image = rasterise_strokes(&[bar.clone(), eraser.clone()], 0.03, 100);
        assert_eq!(image.get_pixel(50, 50).0[0], 0, "erased in the middle");
        assert_eq!(image.get_pixel(25, 50).0[0], 255, "kept at the ends");
        // Ink drawn after the eraser stays.
        let image = rasterise_strokes(&[eraser, bar], 0.03, 100);
        assert_eq!(image.get_pixel(50, 50).0[0], 255);
    }

    #[test]
    fn a_sparsely_sampled_circle_is_drawn_round() {
        // Eight samples of a circle (a fast "0"): the spline between them stays near the
        // circle, where straight segments would cut the corners by r(1 - cos 22.5deg) = 7.6%.
        let (cx, cy, r) = (0.5f32, 0.5f32, 0.3f32);
        let samples: Vec<[f32; 2]> = (0..=8)
            .map(|k| {
                let angle = k as f32 * std::f32::consts::TAU / 8.0;
                [cx + r * angle.cos(), cy + r * angle.sin()]
            })
            .collect();
        let curve = smooth_polyline(&samples, 0.005);
        assert!(curve.len() > 100);
        assert_eq!(curve[0], samples[0]);
        assert_eq!(*curve.last().unwrap(), *samples.last().unwrap());
        let error =
            |p: &[f32; 2]| (((p[0] - cx).powi(2) + (p[1] - cy).powi(2)).sqrt() - r).abs() / r;
        // Away from the stroke's two ends (where the spline has one neighbour only), uniform
        // Catmull-Rom through 8 samples stays within 1% of the radius.
        let interior = curve
            .iter()
            .filter(|p| (p[1] - cy).atan2(p[0] - cx).abs() > std::f32::consts::FRAC_PI_4 + 0.01)
            .map(error)
            .fold(0.0f32, f32::max);
        assert!(
            interior < 0.01,
            "farthest from the circle: {interior:.4} of r"
        );
        let worst = curve.iter().map(error).fold(0.0f32, f32::max);
        assert!(
            worst < 0.05,
            "farthest from the circle near the ends: {worst:.4} of r"
        );
        // Two points stay a straight line, one point a dot.
        assert_eq!(smooth_polyline(&samples[..2], 0.005), samples[..2].to_vec());
    }

    #[test]
    fn a_single_dot_is_scaled_up_without_panicking() {
        let mut dot = GrayImage::from_pixel(10, 10, Luma([0]));
        dot.put_pixel(3, 7, Luma([255]));
        let input = preprocess_digit(&DynamicImage::ImageLuma8(dot)).unwrap();
        assert!(input.pixels.iter().any(|&v| v > 0.5));
    }
}
