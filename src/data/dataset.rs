//! A dataset that describes itself: its task, its fitted preprocessing and its two splits.

use serde::{Deserialize, Serialize};

use super::preprocessing::{Preprocessing, TargetScaling};
use crate::spec::ActivationShape;

/// What the model must predict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
    /// One of `class_names.len()` classes; the model outputs one logit per class.
    Classification { class_names: Vec<String> },
    /// One number, `target` measured in `unit` (empty when it has none); one model output.
    Regression { target: String, unit: String },
}

impl Task {
    /// Values the model's last layer must produce per sample.
    pub fn outputs(&self) -> usize {
        match self {
            Self::Classification { class_names } => class_names.len(),
            Self::Regression { .. } => 1,
        }
    }

    pub fn is_regression(&self) -> bool {
        matches!(self, Self::Regression { .. })
    }

    /// Class names; empty for regression.
    pub fn class_names(&self) -> &[String] {
        match self {
            Self::Classification { class_names } => class_names,
            Self::Regression { .. } => &[],
        }
    }

    /// "10-class classification" or "regression of Sale_Price (USD)".
    pub fn describe(&self) -> String {
        match self {
            Self::Classification { class_names } => {
                format!("{}-class classification", class_names.len())
            }
            Self::Regression { target, unit } if unit.is_empty() => {
                format!("regression of {target}")
            }
            Self::Regression { target, unit } => format!("regression of {target} ({unit})"),
        }
    }
}

/// Everything a trained model needs to know about its data besides the weights: stored in
/// exported files, so a saved model works on raw input (an image, a CSV row, a sentence).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataCard {
    /// The dataset the model was trained on ("mnist", "ames-housing", a file name).
    pub dataset: String,
    pub task: Task,
    pub preprocessing: Preprocessing,
    /// How a built-in dataset was prepared (split seed, generator settings), so `eval` can
    /// rebuild the same test split; `None` for data of the user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin_options: Option<super::DataOptions>,
}

impl DataCard {
    /// Shape of one model input after preprocessing.
    pub fn input_shape(&self) -> ActivationShape {
        self.preprocessing.input.model_input_shape()
    }
}

/// Why a split's samples do not agree with each other or with the task.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SamplesError {
    #[error("{targets} targets but {inputs} inputs")]
    Counts { targets: usize, inputs: usize },
    #[error("label {label} of sample {sample} is not one of the {classes} classes")]
    LabelOutsideClasses {
        label: u8,
        sample: usize,
        classes: usize,
    },
    #[error("the target of sample {sample} is not a number")]
    TargetNotANumber { sample: usize },
    #[error("the targets do not match the task")]
    WrongTask,
}

/// Why a point cannot be added to a 2-D set.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PointError {
    #[error("class {class} is not one of {dataset}'s {classes} classes")]
    NoSuchClass {
        class: u8,
        dataset: String,
        classes: usize,
    },
    #[error("a point needs finite coordinates")]
    NotFinite,
    #[error("points can only be added to a set of plain features, not {dataset}")]
    NotPlainFeatures { dataset: String },
    #[error("a point of {given} values does not fit samples of {width}")]
    Width { given: usize, width: usize },
}

/// Model-ready inputs of one split, kept compact.
#[derive(Clone, Debug, PartialEq)]
pub enum Inputs {
    /// Images as grey levels `0..=max_level` (255 for photographs, 16 for the 8x8 digits),
    /// channels-first, one sample after another; scaled to [0, 1] per batch.
    Pixels {
        values: Vec<u8>,
        sample_len: usize,
        max_level: u8,
    },
    /// Preprocessed features, `width` per sample.
    Dense { values: Vec<f32>, width: usize },
    /// Preprocessed features stored by row as (column, value) pairs: bag-of-words vectors,
    /// which are mostly zeros. `offsets[i]..offsets[i + 1]` are row i's entries.
    Sparse {
        offsets: Vec<usize>,
        entries: Vec<(u32, f32)>,
        width: usize,
    },
}

impl Inputs {
    pub fn len(&self) -> usize {
        match self {
            Self::Pixels {
                values, sample_len, ..
            } => values.len() / (*sample_len).max(1),
            Self::Dense { values, width } => values.len() / (*width).max(1),
            Self::Sparse { offsets, .. } => offsets.len().saturating_sub(1),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per sample.
    pub fn width(&self) -> usize {
        match self {
            Self::Pixels { sample_len, .. } => *sample_len,
            Self::Dense { width, .. } | Self::Sparse { width, .. } => *width,
        }
    }

    /// Appends the model inputs of `index` to `out`.
    pub fn push_sample(&self, index: usize, out: &mut Vec<f32>) {
        match self {
            Self::Pixels {
                values,
                sample_len,
                max_level,
            } => {
                let scale = 1.0 / f32::from((*max_level).max(1));
                let pixels = &values[index * sample_len..(index + 1) * sample_len];
                out.extend(pixels.iter().map(|&p| f32::from(p) * scale));
            }
            Self::Dense { values, width } => {
                out.extend_from_slice(&values[index * width..(index + 1) * width])
            }
            Self::Sparse {
                offsets,
                entries,
                width,
            } => {
                let start = out.len();
                out.resize(start + width, 0.0);
                for &(column, value) in &entries[offsets[index]..offsets[index + 1]] {
                    out[start + column as usize] = value;
                }
            }
        }
    }

    /// Builds sparse inputs from rows of (column, value) pairs.
    pub fn sparse(rows: impl IntoIterator<Item = Vec<(u32, f32)>>, width: usize) -> Self {
        let mut offsets = vec![0];
        let mut entries = Vec::new();
        for row in rows {
            entries.extend(row);
            offsets.push(entries.len());
        }
        Self::Sparse {
            offsets,
            entries,
            width,
        }
    }
}

/// What each sample must be predicted as, in the data's own terms.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Class indices.
    Classes(Vec<u8>),
    /// Target values in their own units (never standardised here).
    Values(Vec<f32>),
}

impl Targets {
    pub fn len(&self) -> usize {
        match self {
            Self::Classes(labels) => labels.len(),
            Self::Values(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One split: inputs and targets of the same samples, plus what a person would read for each
/// (the review's text, the CSV row), when the inputs are not images.
#[derive(Clone, Debug, PartialEq)]
pub struct Samples {
    pub inputs: Inputs,
    pub targets: Targets,
    /// A readable form of each sample for tables and text (empty for images).
    pub raw: Vec<String>,
}

impl Samples {
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Class labels (empty for regression).
    pub fn labels(&self) -> &[u8] {
        match &self.targets {
            Targets::Classes(labels) => labels,
            Targets::Values(_) => &[],
        }
    }

    /// Target values in their units (empty for classification).
    pub fn values(&self) -> &[f32] {
        match &self.targets {
            Targets::Values(values) => values,
            Targets::Classes(_) => &[],
        }
    }

    /// The grey levels of image `index` (`None` when the inputs are not images).
    pub fn image(&self, index: usize) -> Option<&[u8]> {
        match &self.inputs {
            Inputs::Pixels {
                values, sample_len, ..
            } => values.get(index * sample_len..(index + 1) * sample_len),
            Inputs::Dense { .. } | Inputs::Sparse { .. } => None,
        }
    }

    /// Writes the model inputs of the samples at `indices` into `out`, row after row.
    pub fn fill_inputs(&self, indices: &[u32], out: &mut Vec<f32>) {
        out.clear();
        out.reserve(indices.len() * self.inputs.width());
        for &index in indices {
            self.inputs.push_sample(index as usize, out);
        }
    }

    /// Training targets of the samples at `indices`: one-hot rows of `outputs` values for
    /// classes, one scaled value per row for regression.
    pub fn fill_targets(
        &self,
        indices: &[u32],
        outputs: usize,
        scaling: Option<&TargetScaling>,
    ) -> Vec<f32> {
        match &self.targets {
            Targets::Classes(labels) => {
                let mut targets = vec![0.0; indices.len() * outputs];
                for (row, &index) in indices.iter().enumerate() {
                    let class = labels[index as usize] as usize;
                    if class < outputs {
                        targets[row * outputs + class] = 1.0;
                    }
                }
                targets
            }
            Targets::Values(values) => indices
                .iter()
                .map(|&i| {
                    let value = values[i as usize];
                    scaling.map_or(value, |s| s.scale(value))
                })
                .collect(),
        }
    }

    /// Samples per class, for `classes` classes.
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &label in self.labels() {
            if let Some(count) = counts.get_mut(label as usize) {
                *count += 1;
            }
        }
        counts
    }

    /// Whether inputs and targets agree and every label is a class of the task.
    pub fn check(&self, task: &Task) -> Result<(), SamplesError> {
        if self.inputs.len() != self.len() {
            return Err(SamplesError::Counts {
                targets: self.len(),
                inputs: self.inputs.len(),
            });
        }
        match (&self.targets, task) {
            (Targets::Classes(labels), Task::Classification { class_names }) => {
                match labels.iter().position(|&l| l as usize >= class_names.len()) {
                    Some(sample) => Err(SamplesError::LabelOutsideClasses {
                        label: labels[sample],
                        sample,
                        classes: class_names.len(),
                    }),
                    None => Ok(()),
                }
            }
            (Targets::Values(values), Task::Regression { .. }) => {
                match values.iter().position(|v| !v.is_finite()) {
                    Some(sample) => Err(SamplesError::TargetNotANumber { sample }),
                    None => Ok(()),
                }
            }
            (Targets::Classes(_), Task::Regression { .. })
            | (Targets::Values(_), Task::Classification { .. }) => Err(SamplesError::WrongTask),
        }
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[u32]) -> Self {
        let inputs = match &self.inputs {
            Inputs::Pixels {
                values,
                sample_len,
                max_level,
            } => Inputs::Pixels {
                values: indices
                    .iter()
                    .flat_map(|&i| &values[i as usize * sample_len..(i as usize + 1) * sample_len])
                    .copied()
                    .collect(),
                sample_len: *sample_len,
                max_level: *max_level,
            },
            Inputs::Dense { values, width } => Inputs::Dense {
                values: indices
                    .iter()
                    .flat_map(|&i| &values[i as usize * width..(i as usize + 1) * width])
                    .copied()
                    .collect(),
                width: *width,
            },
            Inputs::Sparse {
                offsets,
                entries,
                width,
            } => Inputs::sparse(
                indices
                    .iter()
                    .map(|&i| entries[offsets[i as usize]..offsets[i as usize + 1]].to_vec()),
                *width,
            ),
        };
        let targets = match &self.targets {
            Targets::Classes(labels) => {
                Targets::Classes(indices.iter().map(|&i| labels[i as usize]).collect())
            }
            Targets::Values(values) => {
                Targets::Values(indices.iter().map(|&i| values[i as usize]).collect())
            }
        };
        let raw = if self.raw.is_empty() {
            Vec::new()
        } else {
            indices
                .iter()
                .map(|&i| self.raw[i as usize].clone())
                .collect()
        };
        Self {
            inputs,
            targets,
            raw,
        }
    }

    /// The first `n` samples (all if `n` is larger).
    pub fn truncated(&self, n: usize) -> Self {
        let n = n.min(self.len()) as u32;
        self.select(&(0..n).collect::<Vec<_>>())
    }
}

/// A dataset ready to train on: its card (task and fitted preprocessing) and its splits.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// A readable name ("MNIST", "Ames housing").
    pub name: String,
    pub card: DataCard,
    pub train: Samples,
    pub test: Samples,
}

impl Dataset {
    /// Shape of one model input.
    pub fn input_shape(&self) -> ActivationShape {
        self.card.input_shape()
    }

    pub fn task(&self) -> &Task {
        &self.card.task
    }

    /// Values the model must output per sample.
    pub fn outputs(&self) -> usize {
        self.card.task.outputs()
    }

    /// Number of classes (0 for regression).
    pub fn classes(&self) -> usize {
        self.card.task.class_names().len()
    }

    /// Adds one training sample of dense features (a point of a 2-D set, in model
    /// coordinates) of `class`. It goes first, so it is trained on: validation is taken
    /// from the end of the training split.
    pub fn add_training_point(&mut self, features: &[f32], class: u8) -> Result<(), PointError> {
        if usize::from(class) >= self.classes() {
            return Err(PointError::NoSuchClass {
                class,
                dataset: self.name.clone(),
                classes: self.classes(),
            });
        }
        if features.iter().any(|v| !v.is_finite()) {
            return Err(PointError::NotFinite);
        }
        let (Inputs::Dense { values, width }, Targets::Classes(labels)) =
            (&mut self.train.inputs, &mut self.train.targets)
        else {
            return Err(PointError::NotPlainFeatures {
                dataset: self.name.clone(),
            });
        };
        if features.len() != *width {
            return Err(PointError::Width {
                given: features.len(),
                width: *width,
            });
        }
        values.splice(0..0, features.iter().copied());
        labels.insert(0, class);
        if !self.train.raw.is_empty() {
            self.train.raw.insert(0, String::new());
        }
        Ok(())
    }

    /// Samples held out of training for validation when the user does not say: MNIST's
    /// customary 5,000 for large image sets, a tenth of the training split otherwise.
    pub fn default_validation_size(&self) -> usize {
        let train = self.train.len();
        if train >= 50_000 {
            DEFAULT_VALIDATION_SIZE
        } else {
            train / 10
        }
    }
}

/// Images held out of the training set for validation by default: the last 5,000, the split
/// Keras and most MNIST tutorials use (55,000 train / 5,000 validation).
pub const DEFAULT_VALIDATION_SIZE: usize = 5_000;

/// Splits `0..len` into a seeded shuffled (train, test) pair with `test_fraction` in test,
/// as scikit-learn's `train_test_split(shuffle=True, random_state=seed)` does.
pub fn seeded_split(len: usize, test_fraction: f64, seed: u64) -> (Vec<u32>, Vec<u32>) {
    let order = super::shuffled_indices(len, seed);
    let test_len = ((len as f64) * test_fraction).ceil() as usize;
    let test_len = test_len.min(len.saturating_sub(1));
    let (test, train) = order.split_at(test_len);
    (train.to_vec(), test.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_rows_fill_dense_batches() {
        let samples = Samples {
            inputs: Inputs::sparse([vec![(0, 1.0), (3, 2.0)], vec![], vec![(2, 0.5)]], 4),
            targets: Targets::Classes(vec![0, 1, 1]),
            raw: Vec::new(),
        };
        let mut out = Vec::new();
        samples.fill_inputs(&[2, 0, 1], &mut out);
        assert_eq!(
            out,
            [0.0, 0.0, 0.5, 0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(samples.fill_targets(&[1], 2, None), [0.0, 1.0]);
        let picked = samples.select(&[2]);
        picked.fill_inputs(&[0], &mut out);
        assert_eq!(out, [0.0, 0.0, 0.5, 0.0]);
    }

    #[test]
    fn an_added_point_comes_first_so_it_is_trained_on_and_bad_points_are_refused() {
        let mut data = crate::data::toy_dataset(
            crate::data::ToyShape::Xor,
            crate::data::ToyOptions {
                samples: 50,
                noise: 0.1,
                seed: 1,
            },
        );
        let before = data.train.len();
        data.add_training_point(&[0.5, -1.5], 1).unwrap();
        assert_eq!(data.train.len(), before + 1);
        assert_eq!(data.train.labels()[0], 1);
        let mut first = Vec::new();
        data.train.inputs.push_sample(0, &mut first);
        assert_eq!(first, [0.5, -1.5]);
        assert!(data.add_training_point(&[0.0, 0.0], 2).is_err());
        assert!(data.add_training_point(&[0.0], 0).is_err());
        assert!(data.add_training_point(&[f32::NAN, 0.0], 0).is_err());
        assert_eq!(data.train.len(), before + 1);
    }

    #[test]
    fn seeded_split_is_a_partition_fixed_by_the_seed() {
        let (train, test) = seeded_split(10, 0.2, 3);
        assert_eq!((train.len(), test.len()), (8, 2));
        let mut all: Vec<u32> = train.iter().chain(&test).copied().collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(seeded_split(10, 0.2, 3), (train, test));
        assert_ne!(seeded_split(10, 0.2, 4).1, seeded_split(10, 0.2, 3).1);
    }
}
