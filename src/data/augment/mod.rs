//! Image augmentation for training batches: a random affine warp (rotation, shift, zoom,
//! shear), elastic distortion, a horizontal flip, Gaussian noise and random erasing, in that
//! order, on pixels in [0, 1] with 0 (black) where nothing was.
//!
//! Every draw comes from a generator seeded by (run seed, epoch, sample index), so a sample
//! is augmented the same way in a resumed run, on any thread, in any batch. Only training
//! batches are augmented; validation, test and prediction never see it.

mod affine;
mod elastic;
mod erase;
mod preview;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

pub use affine::{warp, Affine};
pub use erase::{draw_rectangle, erase, Rectangle};
pub use preview::{preview_grid, preview_images};

/// What a training image may go through; every part is off at its default.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Augmentation {
    /// Rotation drawn from [-rotate, rotate] degrees.
    pub rotate: f32,
    /// Shift drawn from [-translate, translate] of the width (and of the height).
    pub translate: f32,
    /// Zoom drawn from [1 - scale, 1 + scale].
    pub scale: f32,
    /// Shear along x drawn from [-shear, shear] degrees.
    pub shear: f32,
    /// Elastic distortion's strength in pixels (Simard et al. use 34 on MNIST); 0: off.
    pub elastic_alpha: f32,
    /// Elastic distortion's smoothness in pixels (Simard et al.: 4).
    pub elastic_sigma: f32,
    /// Mirror left-right with probability 1/2 (never for digits: a mirrored 2 is no 2).
    pub flip: bool,
    /// Standard deviation of Gaussian noise added to every pixel (clipped to [0, 1]).
    pub noise: f32,
    /// Probability of erasing a rectangle (torchvision's RandomErasing `p`).
    pub erase: f32,
    /// The rectangle's share of the area, and its aspect ratio range (torchvision's).
    pub erase_scale: [f32; 2],
    pub erase_ratio: [f32; 2],
}

impl Default for Augmentation {
    fn default() -> Self {
        Self {
            rotate: 0.0,
            translate: 0.0,
            scale: 0.0,
            shear: 0.0,
            elastic_alpha: 0.0,
            elastic_sigma: 4.0,
            flip: false,
            noise: 0.0,
            erase: 0.0,
            erase_scale: [0.02, 0.33],
            erase_ratio: [0.3, 3.3],
        }
    }
}

/// The shape of one image: channels x height x width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl ImageShape {
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The keys `--augment` takes, with what each means.
pub const AUGMENT_KEYS: &str = "rotate=DEGREES, translate=FRACTION, scale=FRACTION, \
    shear=DEGREES, elastic=ALPHA, elastic_sigma=PIXELS, flip, noise=STD, erase=P";

/// Why an `--augment` setting was refused: a sentence naming the key and the value.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct AugmentError(pub String);

impl Augmentation {
    /// Parses `rotate=10,translate=0.1,scale=0.1,erase=0.25` (see [`AUGMENT_KEYS`]), or
    /// `none`.
    pub fn parse(text: &str) -> Result<Self, AugmentError> {
        let mut augmentation = Self::default();
        // What `describe` writes for nothing on.
        if text.trim() == "none" {
            return Ok(augmentation);
        }
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let number = || -> Result<f32, AugmentError> {
                value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        AugmentError(format!(
                            "{key} needs a number, as in {key}=0.1 (got {value:?})"
                        ))
                    })
            };
            match key.trim().replace('-', "_").as_str() {
                "rotate" => augmentation.rotate = number()?,
                "translate" => augmentation.translate = number()?,
                "scale" => augmentation.scale = number()?,
                "shear" => augmentation.shear = number()?,
                "elastic" => augmentation.elastic_alpha = number()?,
                "elastic_sigma" => augmentation.elastic_sigma = number()?,
                "flip" => {
                    augmentation.flip = match value.trim() {
                        "" | "1" | "true" | "yes" => true,
                        "0" | "false" | "no" => false,
                        other => {
                            return Err(AugmentError(format!("flip is on or off, not {other:?}")))
                        }
                    }
                }
                "noise" => augmentation.noise = number()?,
                "erase" => augmentation.erase = number()?,
                other => {
                    return Err(AugmentError(format!(
                        "unknown augmentation {other:?}; known: {AUGMENT_KEYS}"
                    )))
                }
            }
        }
        augmentation.validate()?;
        Ok(augmentation)
    }

    /// Checks each setting's range.
    pub fn validate(&self) -> Result<(), AugmentError> {
        let within = |name: &str, value: f32, low: f32, high: f32| {
            if value.is_finite() && (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(AugmentError(format!(
                    "{name} must be between {low} and {high}, not {value}"
                )))
            }
        };
        within("rotate", self.rotate, 0.0, 180.0)?;
        within("translate", self.translate, 0.0, 0.5)?;
        within("scale", self.scale, 0.0, 0.9)?;
        within("shear", self.shear, 0.0, 60.0)?;
        within("elastic", self.elastic_alpha, 0.0, 100.0)?;
        within("elastic_sigma", self.elastic_sigma, 0.5, 20.0)?;
        within("noise", self.noise, 0.0, 1.0)?;
        within("erase", self.erase, 0.0, 1.0)?;
        let [low, high] = self.erase_scale;
        if !(0.0 < low && low <= high && high < 1.0) {
            return Err(AugmentError(format!(
                "the erased share must lie in (0, 1), not {low}..{high}"
            )));
        }
        let [low, high] = self.erase_ratio;
        if !(0.0 < low && low <= high) {
            return Err(AugmentError(format!(
                "the erased aspect ratio must be positive, not {low}..{high}"
            )));
        }
        Ok(())
    }

    /// Whether anything is on.
    pub fn is_active(&self) -> bool {
        self.affine_on()
            || self.elastic_alpha > 0.0
            || self.flip
            || self.noise > 0.0
            || self.erase > 0.0
    }

    fn affine_on(&self) -> bool {
        self.rotate > 0.0 || self.translate > 0.0 || self.scale > 0.0 || self.shear > 0.0
    }

    /// A short description, the keys `--augment` takes.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (name, value) in [
            ("rotate", self.rotate),
            ("translate", self.translate),
            ("scale", self.scale),
            ("shear", self.shear),
            ("elastic", self.elastic_alpha),
            ("noise", self.noise),
            ("erase", self.erase),
        ] {
            if value > 0.0 {
                parts.push(format!("{name}={value}"));
            }
        }
        if self.elastic_alpha > 0.0 {
            parts.push(format!("elastic_sigma={}", self.elastic_sigma));
        }
        if self.flip {
            parts.push("flip".into());
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(",")
        }
    }

    /// Augments one image in place, its draws from (seed, epoch, index); `scratch` is a
    /// buffer of the image's size reused between calls.
    pub fn apply(
        &self,
        image: &mut [f32],
        shape: ImageShape,
        draw: SampleDraw,
        scratch: &mut Vec<f32>,
    ) {
        let mut rng = draw.rng();
        let ImageShape {
            channels,
            height,
            width,
        } = shape;
        scratch.resize(image.len(), 0.0);
        if self.affine_on() {
            let transform = Affine {
                degrees: symmetric(&mut rng, self.rotate),
                shear_degrees: symmetric(&mut rng, self.shear),
                scale: 1.0 + symmetric(&mut rng, self.scale),
                translate: [
                    symmetric(&mut rng, self.translate),
                    symmetric(&mut rng, self.translate),
                ],
            };
            warp(image, channels, height, width, &transform, scratch);
            image.copy_from_slice(scratch);
        }
        if self.elastic_alpha > 0.0 {
            elastic::distort(
                &mut rng,
                image,
                channels,
                height,
                width,
                self.elastic_alpha,
                self.elastic_sigma,
                scratch,
            );
            image.copy_from_slice(scratch);
        }
        if self.flip && rng.gen_bool(0.5) {
            for row in image.chunks_mut(width) {
                row.reverse();
            }
        }
        if self.noise > 0.0 {
            for pixel in image.iter_mut() {
                let normal: f32 = rng.sample(rand_distr::StandardNormal);
                *pixel = (*pixel + self.noise * normal).clamp(0.0, 1.0);
            }
        }
        if self.erase > 0.0 && rng.gen::<f32>() < self.erase {
            if let Some(rect) =
                draw_rectangle(&mut rng, height, width, self.erase_scale, self.erase_ratio)
            {
                erase(image, channels, height, width, rect);
            }
        }
    }

    /// Augments each image of a batch (`indices` are the samples' indices in the training
    /// split, in the batch's order).
    pub fn apply_batch(
        &self,
        inputs: &mut [f32],
        shape: ImageShape,
        seed: u64,
        epoch: usize,
        indices: &[u32],
    ) {
        let mut scratch = Vec::new();
        for (image, &index) in inputs.chunks_mut(shape.len()).zip(indices) {
            let draw = SampleDraw { seed, epoch, index };
            self.apply(image, shape, draw, &mut scratch);
        }
    }
}

/// Whose draws: one sample in one epoch of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleDraw {
    pub seed: u64,
    pub epoch: usize,
    pub index: u32,
}

impl SampleDraw {
    fn rng(&self) -> SmallRng {
        // SplitMix64 over the three, so neighbouring indices or epochs share nothing.
        let mut state = self.seed ^ 0x6175_676d_656e_7421; // "augment!"
        for value in [self.epoch as u64, u64::from(self.index)] {
            state = splitmix(state ^ value);
        }
        SmallRng::seed_from_u64(state)
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A value drawn from [-limit, limit] (0 when the limit is 0, without a draw's randomness
/// mattering: the draw is still taken so the sequence stays the same).
fn symmetric(rng: &mut SmallRng, limit: f32) -> f32 {
    let unit: f32 = rng.gen_range(-1.0..=1.0);
    unit * limit
}

#[cfg(test)]
mod tests;
