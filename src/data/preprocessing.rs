//! Preprocessing as recorded data: every statistic learned from the training split that turns
//! a raw sample into model input (and a model output back into the target's units).
//!
//! It is fitted on the training split only, saved in the exported model's metadata, and
//! applied again by `predict` and `eval`, so a saved model works on raw input.

use serde::{Deserialize, Serialize};

use super::text::{tokenize, TextVectoriser};
use crate::spec::ActivationShape;

/// The recorded steps for the inputs and, for regression, the target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    pub input: InputPipeline,
    /// How regression targets were scaled for training; `None` for classification.
    pub target: Option<TargetScaling>,
}

impl Preprocessing {
    /// Whether data prepared this way and `other`'s way are the same samples. How a new
    /// picture is framed does not change the stored images, so a model saved before a
    /// framing changed still evaluates on its test split.
    pub fn same_samples_as(&self, other: &Self) -> bool {
        let unframed = |p: &Self| {
            let mut p = p.clone();
            if let InputPipeline::Image { framing, .. } = &mut p.input {
                *framing = ImageFraming::default();
            }
            p
        };
        unframed(self) == unframed(other)
    }
}

/// How images are framed before they are shown to the model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageFraming {
    /// MNIST's own preparation: the ink's bounding box scaled into 20x20, centred by its
    /// centre of mass in 28x28 (white ink on black).
    Digit,
    /// The picture resized to the model's size, light objects on a dark background as
    /// Fashion-MNIST stores them.
    #[default]
    Resize,
    /// Fashion-MNIST's own preparation: light object on dark (a light background is
    /// inverted), trimmed to the object, its longest edge scaled to the frame, centred.
    FitObject,
    /// The picture resized to the model's size and nothing else (a folder of one's own).
    Plain,
}

/// Raw input to model input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputPipeline {
    /// Images of `channels x height x width` grey levels `0..=max_level`, scaled to [0, 1].
    Image {
        channels: usize,
        height: usize,
        width: usize,
        max_level: u8,
        framing: ImageFraming,
    },
    /// Rows of named columns, each turned into one or more features.
    Table { columns: Vec<ColumnStep> },
}

impl InputPipeline {
    /// Shape of one model input.
    pub fn model_input_shape(&self) -> ActivationShape {
        match self {
            Self::Image {
                channels,
                height,
                width,
                ..
            } => ActivationShape::image(*channels, *height, *width),
            Self::Table { columns } => ActivationShape::Flat {
                features: columns.iter().map(ColumnStep::width).sum(),
            },
        }
    }

    /// One line per step, for `layerlab datasets` and the window.
    pub fn describe(&self) -> String {
        match self {
            Self::Image {
                channels,
                height,
                width,
                max_level,
                ..
            } => format!(
                "{channels}x{height}x{width} images, grey levels 0-{max_level} scaled to [0, 1]"
            ),
            Self::Table { columns } => {
                let count = |f: fn(&ColumnStep) -> bool| columns.iter().filter(|c| f(c)).count();
                format!(
                    "{} numeric (standardised), {} categorical (one-hot), {} text (bag of words), {} ignored columns",
                    count(|c| matches!(c, ColumnStep::Numeric { .. })),
                    count(|c| matches!(c, ColumnStep::Categorical { .. })),
                    count(|c| matches!(c, ColumnStep::Text { .. })),
                    count(|c| matches!(c, ColumnStep::Ignore { .. })),
                )
            }
        }
    }
}

/// What one input column becomes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnStep {
    /// `(value - mean) / std`; a missing value becomes the training mean (0 after scaling).
    Numeric { name: String, mean: f64, std: f64 },
    /// One-hot over the levels seen in training; an unseen level is all zeros. With `other`,
    /// only the most frequent levels were kept ([`MAX_CATEGORY_LEVELS`]) and every other
    /// value, seen or not, sets one more feature after them (scikit-learn's infrequent
    /// category); cards saved before it have none.
    Categorical {
        name: String,
        levels: Vec<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        other: bool,
    },
    /// Bag of words over a vocabulary fitted on the training split.
    Text {
        name: String,
        vectoriser: TextVectoriser,
    },
    /// Not used by the model (an identifier, or the user said so).
    Ignore { name: String },
}

/// Spelling of a missing value in a CSV cell.
pub fn is_missing(cell: &str) -> bool {
    matches!(
        cell.trim(),
        "" | "NA" | "N/A" | "na" | "n/a" | "NaN" | "nan" | "null" | "NULL" | "?"
    )
}

/// Levels a categorical column keeps, the most frequent first; the rest become "other". A
/// column of 40,000 levels one-hot encoded was 2.5 GB of zeros for a 329 KB file.
pub const MAX_CATEGORY_LEVELS: usize = 100;

/// The level recorded for a missing categorical cell.
pub const MISSING_LEVEL: &str = "(missing)";

/// Why a raw value cannot be turned into model input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("column {column}: {reason}")]
pub struct CellError {
    pub column: String,
    pub reason: String,
}

impl ColumnStep {
    pub fn name(&self) -> &str {
        match self {
            Self::Numeric { name, .. }
            | Self::Categorical { name, .. }
            | Self::Text { name, .. }
            | Self::Ignore { name } => name,
        }
    }

    /// Features this column contributes.
    pub fn width(&self) -> usize {
        match self {
            Self::Numeric { .. } => 1,
            Self::Categorical { levels, other, .. } => levels.len() + usize::from(*other),
            Self::Text { vectoriser, .. } => vectoriser.vocabulary.len(),
            Self::Ignore { .. } => 0,
        }
    }

    /// Appends this column's features for `cell` to `out` as (index, value) pairs, `offset`
    /// being the index of the column's first feature.
    pub fn encode(
        &self,
        cell: &str,
        offset: usize,
        out: &mut Vec<(u32, f32)>,
    ) -> Result<(), CellError> {
        match self {
            Self::Numeric { name, mean, std } => {
                let value = if is_missing(cell) {
                    *mean
                } else {
                    parse_number(cell).ok_or_else(|| CellError {
                        column: name.clone(),
                        reason: format!("{:?} is not a number", cell.trim()),
                    })?
                };
                out.push((offset as u32, ((value - mean) / std) as f32));
            }
            Self::Categorical { levels, other, .. } => {
                let level = if is_missing(cell) {
                    MISSING_LEVEL
                } else {
                    cell.trim()
                };
                match levels.binary_search_by(|l| l.as_str().cmp(level)) {
                    Ok(index) => out.push(((offset + index) as u32, 1.0)),
                    Err(_) if *other => out.push(((offset + levels.len()) as u32, 1.0)),
                    Err(_) => {}
                }
            }
            Self::Text { vectoriser, .. } => {
                out.extend(
                    vectoriser
                        .vectorise(&tokenize(cell))
                        .into_iter()
                        .map(|(i, v)| (offset as u32 + i, v)),
                );
            }
            Self::Ignore { .. } => {}
        }
        Ok(())
    }
}

/// Parses a numeric cell ("1,234" is not a number: CSV fields are split on commas already).
pub fn parse_number(cell: &str) -> Option<f64> {
    cell.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Encodes one raw row, given as a cell per step (in step order), into sparse features.
pub fn encode_row<'a>(
    columns: &[ColumnStep],
    cells: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<(u32, f32)>, CellError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (step, cell) in columns.iter().zip(cells) {
        step.encode(cell, offset, &mut out)?;
        offset += step.width();
    }
    Ok(out)
}

/// A target of zero or less where its logarithm is trained on.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("a log target needs positive values, found {found}; train without --log-target")]
pub struct NonPositiveLogTarget {
    pub found: f32,
}

/// How a regression target is scaled for training: optionally its logarithm, then
/// standardised with the training split's mean and standard deviation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetScaling {
    pub log: bool,
    pub mean: f64,
    pub std: f64,
}

impl TargetScaling {
    /// Fits the scaling on training targets. With `log`, every target must be positive.
    pub fn fit(values: &[f32], log: bool) -> Result<Self, NonPositiveLogTarget> {
        if log {
            if let Some(&found) = values.iter().find(|v| **v <= 0.0) {
                return Err(NonPositiveLogTarget { found });
            }
        }
        let transformed: Vec<f64> = values
            .iter()
            .map(|&v| if log { f64::from(v).ln() } else { f64::from(v) })
            .collect();
        let (mean, std) = mean_and_std(&transformed);
        Ok(Self { log, mean, std })
    }

    /// Target in its units -> training target.
    pub fn scale(&self, value: f32) -> f32 {
        let v = if self.log {
            f64::from(value).ln()
        } else {
            f64::from(value)
        };
        ((v - self.mean) / self.std) as f32
    }

    /// Model output -> target in its units.
    pub fn unscale(&self, output: f32) -> f32 {
        let v = f64::from(output) * self.std + self.mean;
        (if self.log { v.exp() } else { v }) as f32
    }
}

/// Mean and population standard deviation (as scikit-learn's `StandardScaler`); a constant
/// column gets a standard deviation of 1 so that it scales to zeros instead of NaN.
pub fn mean_and_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 1.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let std = variance.sqrt();
    (mean, if std > 1e-12 { std } else { 1.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_and_categorical_columns_encode_as_scikit_learn_would() {
        let columns = vec![
            ColumnStep::Numeric {
                name: "area".into(),
                mean: 10.0,
                std: 2.0,
            },
            ColumnStep::Categorical {
                name: "street".into(),
                levels: vec![MISSING_LEVEL.into(), "Grvl".into(), "Pave".into()],
                other: false,
            },
            ColumnStep::Ignore { name: "id".into() },
        ];
        assert_eq!(
            encode_row(&columns, ["14", "Pave", "x17"]).unwrap(),
            [(0, 2.0), (3, 1.0)]
        );
        // Missing numbers take the training mean; missing levels are a level of their own;
        // a level never seen in training is all zeros.
        assert_eq!(
            encode_row(&columns, ["NA", "", "x"]).unwrap(),
            [(0, 0.0), (1, 1.0)]
        );
        assert_eq!(
            encode_row(&columns, ["8", "Dirt", "x"]).unwrap(),
            [(0, -1.0)]
        );
        let err = encode_row(&columns, ["abc", "Pave", "x"]).unwrap_err();
        assert_eq!(err.to_string(), "column area: \"abc\" is not a number");
        assert_eq!(
            InputPipeline::Table { columns }.model_input_shape(),
            ActivationShape::Flat { features: 4 }
        );
    }

    #[test]
    fn target_scaling_round_trips_and_refuses_a_log_of_zero() {
        let values = [100.0, 200.0, 400.0];
        for log in [false, true] {
            let scaling = TargetScaling::fit(&values, log).unwrap();
            let scaled: Vec<f32> = values.iter().map(|&v| scaling.scale(v)).collect();
            let mean = scaled.iter().sum::<f32>() / 3.0;
            assert!(mean.abs() < 1e-5, "{scaled:?}");
            for (&v, &s) in values.iter().zip(&scaled) {
                assert!((scaling.unscale(s) - v).abs() < 1e-2);
            }
        }
        // ln: mean of ln(100), ln(200), ln(400) is ln(200).
        let log = TargetScaling::fit(&values, true).unwrap();
        assert!((log.mean - 200f64.ln()).abs() < 1e-9);
        assert!(TargetScaling::fit(&[0.0, 1.0], true).is_err());
    }

    #[test]
    fn a_constant_column_scales_to_zero_not_nan() {
        assert_eq!(mean_and_std(&[3.0, 3.0]), (3.0, 1.0));
        assert_eq!(mean_and_std(&[1.0, 3.0]), (2.0, 1.0));
    }
}
