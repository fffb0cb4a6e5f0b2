//! The 2-D classification sets TensorFlow Playground offers, generated from a seed.

use rand::{rngs::StdRng, Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::dataset::{seeded_split, DataCard, Dataset, Inputs, Samples, Targets, Task};
use super::preprocessing::{mean_and_std, ColumnStep, InputPipeline, Preprocessing};

/// Most points a toy set may have (the window redraws them all).
pub const MAX_TOY_SAMPLES: usize = 100_000;

/// Which 2-D pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum ToyShape {
    /// A disc inside a ring.
    Circles,
    /// Opposite quadrants share a class.
    Xor,
    /// Two interleaved spirals.
    Spiral,
    /// Two Gaussian blobs.
    Gaussian,
}

impl ToyShape {
    pub const ALL: [ToyShape; 4] = [Self::Circles, Self::Xor, Self::Spiral, Self::Gaussian];

    /// The shape called `name` ("spiral"), if it is one.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Circles => "circles",
            Self::Xor => "xor",
            Self::Spiral => "spiral",
            Self::Gaussian => "gaussian",
        }
    }
}

/// Size and noise of a generated set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToyOptions {
    pub samples: usize,
    /// 0 (clean) to 1 (very noisy), as the Playground's noise slider (0-50%).
    pub noise: f32,
    pub seed: u64,
}

impl Default for ToyOptions {
    fn default() -> Self {
        Self {
            samples: 1_000,
            noise: 0.1,
            seed: 0,
        }
    }
}

/// `(x, y, class)` points of `shape`, the same for the same options. Coordinates lie in
/// roughly [-6, 6] as in the Playground.
pub fn generate_points(shape: ToyShape, options: ToyOptions) -> Vec<(f32, f32, u8)> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let n = options.samples;
    let noise = options.noise.clamp(0.0, 1.0);
    let normal = Normal::new(0.0f32, 1.0).unwrap_or_else(|_| unreachable!("unit normal"));
    let mut points = Vec::with_capacity(n);
    for i in 0..n {
        let class = (i % 2) as u8;
        let point = match shape {
            ToyShape::Circles => {
                let radius = if class == 0 {
                    rng.gen_range(0.0..2.5)
                } else {
                    rng.gen_range(3.5..5.0)
                };
                let angle = rng.gen_range(0.0..std::f32::consts::TAU);
                let jitter = noise * 5.0;
                (
                    radius * angle.cos() + jitter * normal.sample(&mut rng) * 0.5,
                    radius * angle.sin() + jitter * normal.sample(&mut rng) * 0.5,
                )
            }
            ToyShape::Xor => {
                let pad = 0.3;
                let mut x: f32 = rng.gen_range(-5.0..5.0);
                let mut y: f32 = rng.gen_range(-5.0..5.0);
                x += if x > 0.0 { pad } else { -pad };
                y += if y > 0.0 { pad } else { -pad };
                let label = u8::from(x * y < 0.0);
                let jitter = noise * 5.0;
                points.push((
                    x + jitter * rng.gen_range(-1.0..1.0),
                    y + jitter * rng.gen_range(-1.0..1.0),
                    label,
                ));
                continue;
            }
            ToyShape::Spiral => {
                let t = (i / 2) as f32 / (n / 2).max(1) as f32;
                let radius = t * 5.0;
                let angle =
                    1.75 * t * std::f32::consts::TAU + f32::from(class) * std::f32::consts::PI;
                (
                    radius * angle.sin() + noise * rng.gen_range(-1.0..1.0),
                    radius * angle.cos() + noise * rng.gen_range(-1.0..1.0),
                )
            }
            ToyShape::Gaussian => {
                let centre = if class == 0 { 2.0 } else { -2.0 };
                let spread = 0.5 + noise * 3.5;
                (
                    centre + spread * normal.sample(&mut rng),
                    centre + spread * normal.sample(&mut rng),
                )
            }
        };
        points.push((point.0, point.1, class));
    }
    points
}

/// A generated set as a dataset: features x and y (standardised on the training split),
/// two classes, a seeded 80/20 split.
pub fn toy_dataset(shape: ToyShape, options: ToyOptions) -> Dataset {
    let samples = options.samples.clamp(10, MAX_TOY_SAMPLES);
    let points = generate_points(shape, ToyOptions { samples, ..options });
    let (train_rows, test_rows) = seeded_split(points.len(), 0.2, options.seed);
    let fit = |axis: fn(&(f32, f32, u8)) -> f32| {
        let values: Vec<f64> = train_rows
            .iter()
            .map(|&i| f64::from(axis(&points[i as usize])))
            .collect();
        mean_and_std(&values)
    };
    let ((x_mean, x_std), (y_mean, y_std)) = (fit(|p| p.0), fit(|p| p.1));
    let columns = vec![
        ColumnStep::Numeric {
            name: "x".into(),
            mean: x_mean,
            std: x_std,
        },
        ColumnStep::Numeric {
            name: "y".into(),
            mean: y_mean,
            std: y_std,
        },
    ];
    let split = |rows: &[u32]| {
        let mut values = Vec::with_capacity(rows.len() * 2);
        let mut labels = Vec::with_capacity(rows.len());
        let mut raw = Vec::with_capacity(rows.len());
        for &row in rows {
            let (x, y, class) = points[row as usize];
            values.push(((f64::from(x) - x_mean) / x_std) as f32);
            values.push(((f64::from(y) - y_mean) / y_std) as f32);
            labels.push(class);
            raw.push(format!("x: {x:.3} | y: {y:.3}"));
        }
        Samples {
            inputs: Inputs::Dense { values, width: 2 },
            targets: Targets::Classes(labels),
            raw,
        }
    };
    Dataset {
        name: format!("{} (2-D)", shape.name()),
        card: DataCard {
            dataset: shape.name().into(),
            task: Task::Classification {
                class_names: vec!["orange".into(), "blue".into()],
            },
            preprocessing: Preprocessing {
                input: InputPipeline::Table { columns },
                target: None,
            },
            builtin_options: None,
        },
        train: split(&train_rows),
        test: split(&test_rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_points_and_classes_are_balanced() {
        for shape in ToyShape::ALL {
            let options = ToyOptions {
                samples: 200,
                noise: 0.2,
                seed: 5,
            };
            let a = generate_points(shape, options);
            assert_eq!(a, generate_points(shape, options), "{shape:?}");
            assert_ne!(
                a,
                generate_points(shape, ToyOptions { seed: 6, ..options }),
                "{shape:?}"
            );
            let ones = a.iter().filter(|p| p.2 == 1).count();
            assert!((60..=140).contains(&ones), "{shape:?}: {ones}");
            assert!(a.iter().all(|p| p.0.abs() < 12.0 && p.1.abs() < 12.0));
            let data = toy_dataset(shape, options);
            assert_eq!((data.train.len(), data.test.len()), (160, 40));
        }
    }

    #[test]
    fn circles_put_the_inner_class_nearer_the_centre() {
        let points = generate_points(
            ToyShape::Circles,
            ToyOptions {
                noise: 0.0,
                ..Default::default()
            },
        );
        for (x, y, class) in points {
            let r = (x * x + y * y).sqrt();
            assert!(if class == 0 { r < 2.5 } else { r >= 3.5 }, "{r} {class}");
        }
    }
}
