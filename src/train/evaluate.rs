//! Loss and the task's metrics (accuracy, or RMSE/MAE/R² in the target's units) of a model on
//! a set of samples, without a tape.

use dfdx::prelude::*;

use super::LossKind;
use crate::data::{DataCard, Samples, Task};
use crate::model::{argmax_rows, softmax, InferenceModel, Model};

/// Samples per forward pass while evaluating (memory bound, no gradients kept).
const EVALUATION_BATCH: usize = 500;

/// Errors of a regression in the target's own units.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegressionMetrics {
    pub rmse: f32,
    pub mae: f32,
    /// Coefficient of determination, 1 - SS_res / SS_tot (1 is perfect; 0 is predicting the mean).
    pub r2: f32,
}

/// RMSE, MAE and R² of `predicted` against `actual`.
pub fn regression_metrics(predicted: &[f32], actual: &[f32]) -> RegressionMetrics {
    let n = actual.len().max(1) as f64;
    let mean = actual.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let (mut squared, mut absolute, mut total) = (0.0f64, 0.0f64, 0.0f64);
    for (&p, &a) in predicted.iter().zip(actual) {
        let error = f64::from(p) - f64::from(a);
        squared += error * error;
        absolute += error.abs();
        total += (f64::from(a) - mean).powi(2);
    }
    RegressionMetrics {
        rmse: (squared / n).sqrt() as f32,
        mae: (absolute / n) as f32,
        r2: if total > 0.0 {
            (1.0 - squared / total) as f32
        } else {
            0.0
        },
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Evaluation {
    /// Mean loss, as training computes it (on scaled targets for regression).
    pub loss: f32,
    /// Fraction classified correctly (classification only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f32>,
    /// Errors in the target's units (regression only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regression: Option<RegressionMetrics>,
    /// Predicted class of every evaluated sample, in the order of the indices given
    /// (classification).
    #[serde(skip)]
    pub predictions: Vec<u8>,
    /// Softmax probability of each predicted class, how sure the model was (classification).
    #[serde(skip)]
    pub confidences: Vec<f32>,
    /// Predicted value of every evaluated sample in the target's units (regression).
    #[serde(skip)]
    pub predicted_values: Vec<f32>,
}

impl Evaluation {
    /// The first metric that is not a number, by name, with its value.
    pub fn non_finite_metric(&self) -> Option<(&'static str, f32)> {
        let regression = self
            .regression
            .iter()
            .flat_map(|r| [("RMSE", r.rmse), ("MAE", r.mae), ("R²", r.r2)]);
        [("loss", self.loss)]
            .into_iter()
            .chain(self.accuracy.map(|a| ("accuracy", a)))
            .chain(regression)
            .find(|(_, value)| !value.is_finite())
    }

    /// "test_accuracy=0.9812 test_loss=0.0601" or "test_rmse=... test_mae=... test_r2=...".
    pub fn metrics_line(&self, prefix: &str) -> String {
        match (self.accuracy, self.regression) {
            (_, Some(r)) => format!(
                "{prefix}_rmse={:.4} {prefix}_mae={:.4} {prefix}_r2={:.4} {prefix}_loss={:.4}",
                r.rmse, r.mae, r.r2, self.loss
            ),
            (Some(accuracy), None) => {
                format!(
                    "{prefix}_accuracy={accuracy:.4} {prefix}_loss={:.4}",
                    self.loss
                )
            }
            (None, None) => format!("{prefix}_loss={:.4}", self.loss),
        }
    }
}

/// Mean loss of a batch as dfdx computes it for training.
pub fn batch_loss<T>(
    outputs: Tensor<(usize, usize), f32, Cpu, T>,
    targets: Tensor<(usize, usize), f32, Cpu>,
    loss: LossKind,
) -> Tensor<(), f32, Cpu, T>
where
    T: Tape<f32, Cpu>,
{
    match loss {
        LossKind::CrossEntropy => dfdx::losses::cross_entropy_with_logits_loss(outputs, targets),
        LossKind::Mse => dfdx::losses::mse_loss(outputs, targets),
        LossKind::L1 => dfdx::losses::mae_loss(outputs, targets),
        LossKind::Huber => dfdx::losses::huber_loss(outputs, targets, super::HUBER_DELTA),
    }
}

/// Evaluates `model` on `indices` of `set`, a split of the data `card` describes.
pub fn evaluate(
    model: &Model,
    card: &DataCard,
    set: &Samples,
    indices: &[u32],
    loss: LossKind,
) -> Evaluation {
    evaluate_with_progress(model, card, set, indices, loss, &mut |_, _| true)
        .unwrap_or_else(|| unreachable!("the progress callback never asks to stop"))
}

/// [`evaluate`], calling `progress(done, total)` after every chunk of samples; when it
/// returns false the evaluation stops there and the result is `None`.
pub fn evaluate_with_progress(
    model: &Model,
    card: &DataCard,
    set: &Samples,
    indices: &[u32],
    loss: LossKind,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Option<Evaluation> {
    let dev = model.device();
    let inference = InferenceModel::new(model);
    let outputs = card.task.outputs();
    let scaling = card.preprocessing.target.as_ref();
    let mut inputs = Vec::new();
    let mut total_loss = 0.0f64;
    let mut predictions = Vec::new();
    let mut confidences = Vec::new();
    let mut predicted_values = Vec::new();
    let mut done = 0;
    for chunk in indices.chunks(EVALUATION_BATCH) {
        set.fill_inputs(chunk, &mut inputs);
        let values = inference.predict(&inputs, chunk.len());
        match &card.task {
            Task::Classification { .. } => {
                for row in values.chunks_exact(outputs.max(1)) {
                    let probabilities = softmax(row);
                    let class = argmax_rows(&probabilities, outputs).next().unwrap_or(0);
                    predictions.push(class);
                    confidences.push(probabilities[class as usize]);
                }
            }
            Task::Regression { .. } => {
                predicted_values.extend(values.iter().map(|&v| scaling.map_or(v, |s| s.unscale(v))))
            }
        }
        // The loss through dfdx's own functions, exactly as training computes it.
        let targets = set.fill_targets(chunk, outputs, scaling);
        let outputs_tensor = dev.tensor_from_vec(values, (chunk.len(), outputs));
        let targets = dev.tensor_from_vec(targets, (chunk.len(), outputs));
        total_loss += batch_loss(outputs_tensor, targets, loss).array() as f64 * chunk.len() as f64;
        done += chunk.len();
        if !progress(done, indices.len()) {
            return None;
        }
    }
    let count = indices.len().max(1);
    let (accuracy, regression) = match &card.task {
        Task::Classification { .. } => {
            let labels = set.labels();
            let correct = predictions
                .iter()
                .zip(indices)
                .filter(|(p, &i)| **p == labels[i as usize])
                .count();
            (Some(correct as f32 / count as f32), None)
        }
        Task::Regression { .. } => {
            let actual: Vec<f32> = indices.iter().map(|&i| set.values()[i as usize]).collect();
            (None, Some(regression_metrics(&predicted_values, &actual)))
        }
    };
    Some(Evaluation {
        loss: (total_loss / count as f64) as f32,
        accuracy,
        regression,
        predictions,
        confidences,
        predicted_values,
    })
}

/// `matrix[true][predicted]` counts for the samples at `indices` of a set with `labels`.
pub fn confusion_matrix(
    labels: &[u8],
    indices: &[u32],
    predictions: &[u8],
    classes: usize,
) -> Vec<Vec<usize>> {
    let mut matrix = vec![vec![0; classes]; classes];
    for (&index, &predicted) in indices.iter().zip(predictions) {
        let truth = labels[index as usize] as usize;
        if truth < classes && (predicted as usize) < classes {
            matrix[truth][predicted as usize] += 1;
        }
    }
    matrix
}

/// Precision and recall of each class from a confusion matrix (`matrix[true][predicted]`);
/// a class never predicted (or never present) has precision (or recall) 0.
pub fn precision_recall(matrix: &[Vec<usize>]) -> Vec<(f32, f32)> {
    (0..matrix.len())
        .map(|class| {
            let true_positive = matrix[class][class] as f32;
            let predicted: usize = matrix.iter().map(|row| row[class]).sum();
            let actual: usize = matrix[class].iter().sum();
            let ratio = |d: usize| {
                if d == 0 {
                    0.0
                } else {
                    true_positive / d as f32
                }
            };
            (ratio(predicted), ratio(actual))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_matrix_counts_true_rows_and_predicted_columns() {
        let labels = [0u8, 1, 1, 2];
        let matrix = confusion_matrix(&labels, &[0, 1, 2, 3], &[0, 1, 2, 2], 3);
        assert_eq!(matrix, vec![vec![1, 0, 0], vec![0, 1, 1], vec![0, 0, 1]]);
        // Class 2: predicted twice, right once; present once, found once.
        assert_eq!(
            precision_recall(&matrix),
            [(1.0, 1.0), (1.0, 0.5), (0.5, 1.0)]
        );
    }

    #[test]
    fn regression_metrics_match_numbers_worked_by_hand() {
        // Errors 1, -2, 0, 3: squares 1 4 0 9 (mean 3.5), absolute mean 1.5.
        // Actual 2 4 6 8, mean 5: SS_tot = 9 + 1 + 1 + 9 = 20, SS_res = 14, R² = 0.3.
        let m = regression_metrics(&[3.0, 2.0, 6.0, 11.0], &[2.0, 4.0, 6.0, 8.0]);
        assert!((m.rmse - 3.5f32.sqrt()).abs() < 1e-6, "{m:?}");
        assert!((m.mae - 1.5).abs() < 1e-6);
        assert!((m.r2 - 0.3).abs() < 1e-6);
        let perfect = regression_metrics(&[1.0, 2.0], &[1.0, 2.0]);
        assert_eq!((perfect.rmse, perfect.r2), (0.0, 1.0));
    }
}
