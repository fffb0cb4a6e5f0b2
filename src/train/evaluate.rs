//! Loss, accuracy and predictions of a model on a set of samples, without a tape.

use dfdx::prelude::*;

use super::LossKind;
use crate::data::{fill_batch, one_hot, ImageSet};
use crate::model::{InferenceModel, Model};

/// Samples per forward pass while evaluating (memory bound, no gradients kept).
const EVALUATION_BATCH: usize = 500;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Evaluation {
    pub loss: f32,
    pub accuracy: f32,
    /// Predicted class of every evaluated sample, in the order of the indices given.
    #[serde(skip)]
    pub predictions: Vec<u8>,
}

/// Mean loss of a batch as dfdx computes it for training, plus the number of correct argmaxes.
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
    }
}

/// Index of the largest value in each row of `classes` values.
pub fn argmax_rows(values: &[f32], classes: usize) -> impl Iterator<Item = u8> + '_ {
    values.chunks_exact(classes).map(|row| {
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

/// Evaluates `model` on `indices` of `set`.
pub fn evaluate(
    model: &Model,
    set: &ImageSet,
    indices: &[u32],
    classes: usize,
    loss: LossKind,
) -> Evaluation {
    let finished = evaluate_with_progress(model, set, indices, classes, loss, &mut |_, _| true);
    // The callback never asks to stop, so the evaluation always completes.
    finished.unwrap_or(Evaluation {
        loss: f32::NAN,
        accuracy: 0.0,
        predictions: Vec::new(),
    })
}

/// [`evaluate`], calling `progress(done, total)` after every chunk of samples; when it
/// returns false the evaluation stops there and the result is `None`.
pub fn evaluate_with_progress(
    model: &Model,
    set: &ImageSet,
    indices: &[u32],
    classes: usize,
    loss: LossKind,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Option<Evaluation> {
    let dev = model.device();
    let inference = InferenceModel::new(model);
    let mut inputs = Vec::new();
    let mut total_loss = 0.0f64;
    let mut predictions = Vec::with_capacity(indices.len());
    for chunk in indices.chunks(EVALUATION_BATCH) {
        fill_batch(set, chunk, &mut inputs);
        let values = inference.predict(&inputs, chunk.len());
        predictions.extend(argmax_rows(&values, classes));
        // The loss through dfdx's own functions, exactly as training computes it.
        let outputs = dev.tensor_from_vec(values, (chunk.len(), classes));
        let targets = dev.tensor_from_vec(one_hot(set, chunk, classes), (chunk.len(), classes));
        total_loss += batch_loss(outputs, targets, loss).array() as f64 * chunk.len() as f64;
        if !progress(predictions.len(), indices.len()) {
            return None;
        }
    }
    let correct = predictions
        .iter()
        .zip(indices)
        .filter(|(p, &i)| **p == set.labels[i as usize])
        .count();
    let count = indices.len().max(1);
    Some(Evaluation {
        loss: (total_loss / count as f64) as f32,
        accuracy: correct as f32 / count as f32,
        predictions,
    })
}

/// Softmax of one row of logits (numerically stable).
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_survives_large_logits() {
        let p = softmax(&[1000.0, 1000.0, -1000.0]);
        assert!((p[0] - 0.5).abs() < 1e-6 && (p[1] - 0.5).abs() < 1e-6 && p[2] == 0.0);
    }

    #[test]
    fn confusion_matrix_counts_true_rows_and_predicted_columns() {
        let labels = [0u8, 1, 1, 2];
        let matrix = confusion_matrix(&labels, &[0, 1, 2, 3], &[0, 1, 2, 2], 3);
        assert_eq!(matrix, vec![vec![1, 0, 0], vec![0, 1, 1], vec![0, 0, 1]]);
    }

    #[test]
    fn argmax_takes_the_first_of_equal_maxima() {
        assert_eq!(
            argmax_rows(&[0.1, 0.7, 0.7, 0.2, 0.0, 0.0], 3).collect::<Vec<_>>(),
            [1, 0]
        );
    }
}
