//! A model's outputs read back into what they mean: class probabilities (softmax) and the
//! predicted class, or a value in the target's units, through the data card.

use serde::Serialize;

use crate::data::{DataCard, Task};

/// Softmax of one row of logits (numerically stable).
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

/// Index of the largest value in each row of `classes` values.
pub fn argmax_rows(values: &[f32], classes: usize) -> impl Iterator<Item = u8> + '_ {
    values.chunks_exact(classes.max(1)).map(|row| {
        row.iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                if v > best.1 {
                    (i, v)
                } else {
                    best
                }
            })
            .0 as u8
    })
}

/// What one sample's outputs mean.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Prediction {
    Class {
        class: usize,
        label: String,
        probabilities: Vec<f32>,
    },
    Value {
        value: f32,
        target: String,
        unit: String,
    },
}

impl Prediction {
    /// Reads one sample's outputs through the card: softmax and the class name, or the value
    /// turned back into the target's units.
    pub fn from_outputs(card: &DataCard, outputs: &[f32]) -> Self {
        match &card.task {
            Task::Classification { class_names } => {
                let probabilities = softmax(outputs);
                let class = argmax_rows(&probabilities, probabilities.len())
                    .next()
                    .map_or(0, usize::from);
                Self::Class {
                    class,
                    label: class_names.get(class).cloned().unwrap_or_default(),
                    probabilities,
                }
            }
            Task::Regression { target, unit } => {
                let raw = outputs.first().copied().unwrap_or(f32::NAN);
                let value = card
                    .preprocessing
                    .target
                    .map_or(raw, |scaling| scaling.unscale(raw));
                Self::Value {
                    value,
                    target: target.clone(),
                    unit: unit.clone(),
                }
            }
        }
    }

    /// "class=7 (7)" or "Sale_Price=181234.50 USD".
    pub fn summary(&self) -> String {
        match self {
            Self::Class { class, label, .. } => format!("class={class} ({label})"),
            Self::Value {
                value,
                target,
                unit,
            } => format!("{target}={value:.2} {unit}").trim_end().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_survives_large_logits() {
        let p = softmax(&[1000.0, 1000.0, -1000.0]);
        assert!((p[0] - 0.5).abs() < 1e-6 && (p[1] - 0.5).abs() < 1e-6 && p[2] == 0.0);
    }

    #[test]
    fn argmax_takes_the_first_of_equal_maxima() {
        assert_eq!(
            argmax_rows(&[0.1, 0.7, 0.7, 0.2, 0.0, 0.0], 3).collect::<Vec<_>>(),
            [1, 0]
        );
    }
}
