//! After a run: test accuracy, the confusion matrix and the test digits the model got wrong.

use eframe::egui::{self, Color32, RichText, TextureHandle};

use super::data_panel::digit_texture;
use super::tokens;
use crate::data::Dataset;
use crate::train::{confusion_matrix, RunSummary};

/// Misclassified digits shown at most.
const MAX_MISTAKES_SHOWN: usize = 48;

pub struct EvaluationView {
    pub test_accuracy: f32,
    pub test_loss: f32,
    pub tested: usize,
    pub matrix: Vec<Vec<usize>>,
    /// `(test index, true label, predicted label)`.
    pub mistakes: Vec<(usize, u8, u8)>,
    textures: Vec<TextureHandle>,
}

impl EvaluationView {
    pub fn new(ctx: &egui::Context, summary: &RunSummary, dataset: &Dataset) -> Self {
        let predictions = &summary.test_predictions;
        let indices: Vec<u32> = (0..predictions.len() as u32).collect();
        let matrix = confusion_matrix(&dataset.test.labels, &indices, predictions, dataset.classes);
        let mistakes: Vec<(usize, u8, u8)> = predictions
            .iter()
            .enumerate()
            .filter(|(i, p)| dataset.test.labels[*i] != **p)
            .map(|(i, p)| (i, dataset.test.labels[i], *p))
            .collect();
        let textures = mistakes
            .iter()
            .take(MAX_MISTAKES_SHOWN)
            .map(|(i, _, _)| digit_texture(ctx, &format!("mistake-{i}"), &dataset.test, *i))
            .collect();
        Self {
            test_accuracy: summary.test_accuracy,
            test_loss: summary.test_loss,
            tested: predictions.len(),
            matrix,
            mistakes,
            textures,
        }
    }
}

pub fn evaluation_ui(ui: &mut egui::Ui, view: Option<&EvaluationView>) {
    let Some(view) = view else {
        ui.label("Train a model (or let a run finish) to see its test accuracy, confusion matrix and mistakes.");
        return;
    };
    ui.heading(format!(
        "Test accuracy {:.2}%  (loss {:.4}, {} test images, {} wrong)",
        view.test_accuracy * 100.0,
        view.test_loss,
        view.tested,
        view.mistakes.len()
    ));
    ui.label(RichText::new("Confusion matrix (rows: true, columns: predicted)").strong());
    confusion_matrix_ui(ui, &view.matrix);
    ui.separator();
    ui.label(
        RichText::new(format!(
            "Misclassified test digits, true -> predicted (first {} of {})",
            view.textures.len(),
            view.mistakes.len()
        ))
        .strong(),
    );
    let cell = tokens::THUMBNAIL_SIDE + 8.0;
    let columns = ((ui.available_width() / cell).floor() as usize).max(1);
    egui::Grid::new("mistakes")
        .spacing([4.0, 4.0])
        .show(ui, |ui| {
            for (i, (texture, (_, truth, predicted))) in
                view.textures.iter().zip(&view.mistakes).enumerate()
            {
                ui.vertical(|ui| {
                    ui.add(
                        egui::Image::new(texture)
                            .fit_to_exact_size(egui::Vec2::splat(tokens::THUMBNAIL_SIDE)),
                    );
                    ui.label(format!("{truth} -> {predicted}"));
                });
                if i % columns == columns - 1 {
                    ui.end_row();
                }
            }
        });
}

fn confusion_matrix_ui(ui: &mut egui::Ui, matrix: &[Vec<usize>]) {
    let largest_error = matrix
        .iter()
        .enumerate()
        .flat_map(|(t, row)| {
            row.iter()
                .enumerate()
                .filter(move |(p, _)| *p != t)
                .map(|(_, &c)| c)
        })
        .max()
        .unwrap_or(0)
        .max(1);
    egui::Grid::new("confusion")
        .spacing([2.0, 2.0])
        .show(ui, |ui| {
            ui.label("");
            for predicted in 0..matrix.len() {
                ui.label(RichText::new(predicted.to_string()).strong());
            }
            ui.end_row();
            for (truth, row) in matrix.iter().enumerate() {
                ui.label(RichText::new(truth.to_string()).strong());
                for (predicted, &count) in row.iter().enumerate() {
                    let colour = if truth == predicted {
                        tokens::OK.gamma_multiply(0.35)
                    } else if count > 0 {
                        tokens::ERROR
                            .gamma_multiply(0.15 + 0.85 * count as f32 / largest_error as f32)
                    } else {
                        Color32::TRANSPARENT
                    };
                    egui::Frame::new()
                        .fill(colour)
                        .inner_margin(2.0)
                        .show(ui, |ui| {
                            ui.set_min_width(34.0);
                            ui.label(count.to_string());
                        });
                }
                ui.end_row();
            }
        });
}
