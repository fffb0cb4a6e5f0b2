//! A model's test results: accuracy, per-class precision/recall/F1, the confusion matrix,
//! and the test digits it got wrong. Clicking a cell of the matrix shows exactly those
//! samples; the gallery scrolls through all of them, making thumbnails only for what is seen.

use std::collections::HashMap;
use std::sync::Arc;

use eframe::egui::{self, Color32, RichText, TextureHandle};

use crate::app::views::data_panel::digit_texture;
use crate::app::views::text_measure::text_width;
use crate::app::views::{plot_axes, tokens};
use crate::data::Dataset;
use crate::display::{decimal, thousands};
use crate::export::SavedModel;
use crate::train::{confusion_matrix, Evaluation};

/// Per-class precision, recall and F1 from a confusion matrix (`matrix[true][predicted]`).
/// A class never predicted (or never present) has 0 for what cannot be computed, as
/// scikit-learn's `zero_division=0`.
pub fn per_class_scores(matrix: &[Vec<usize>]) -> Vec<[f32; 3]> {
    (0..matrix.len())
        .map(|c| {
            let true_positive = matrix[c][c] as f32;
            let predicted: usize = matrix.iter().map(|row| row[c]).sum();
            let actual: usize = matrix[c].iter().sum();
            let ratio = |n: f32, d: usize| if d == 0 { 0.0 } else { n / d as f32 };
            let precision = ratio(true_positive, predicted);
            let recall = ratio(true_positive, actual);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            [precision, recall, f1]
        })
        .collect()
}

pub struct EvaluationView {
    /// The model these results belong to; shown only while it is the current model.
    pub model: Arc<SavedModel>,
    pub test_accuracy: f32,
    pub test_loss: f32,
    pub tested: usize,
    pub matrix: Vec<Vec<usize>>,
    pub scores: Vec<[f32; 3]>,
    /// `(test index, true label, predicted label)`.
    pub mistakes: Vec<(usize, u8, u8)>,
    /// The confusion cell `(true, predicted)` the gallery is filtered to.
    pub filter: Option<(u8, u8)>,
    textures: HashMap<usize, TextureHandle>,
    pub class_names: Vec<String>,
    /// How sure the model was of each test prediction (its softmax probability).
    pub confidences: Vec<f32>,
    /// Set for regression: metrics in the target's units and the points to plot.
    pub regression: Option<RegressionView>,
}

/// A regression model's test results.
pub struct RegressionView {
    pub metrics: crate::train::RegressionMetrics,
    /// "Sale_Price (USD)".
    pub target: String,
    /// `[actual, predicted]` of every test sample.
    pub points: Vec<[f64; 2]>,
    /// `(test index, actual, predicted)` of the largest errors, largest first.
    pub largest_errors: Vec<(usize, f32, f32)>,
}

impl EvaluationView {
    /// Results of `model` on the first `evaluation.predictions.len()` test samples.
    pub fn new(model: Arc<SavedModel>, evaluation: &Evaluation, dataset: &Dataset) -> Self {
        let predictions = &evaluation.predictions;
        let indices: Vec<u32> = (0..predictions.len() as u32).collect();
        let labels = dataset.test.labels();
        let matrix = confusion_matrix(labels, &indices, predictions, dataset.classes());
        let mistakes: Vec<(usize, u8, u8)> = predictions
            .iter()
            .enumerate()
            .filter(|(i, p)| labels.get(*i).is_some_and(|l| l != *p))
            .map(|(i, p)| (i, labels[i], *p))
            .collect();
        let regression = evaluation.regression.map(|metrics| {
            let actual = dataset.test.values();
            let mut errors: Vec<(usize, f32, f32)> = evaluation
                .predicted_values
                .iter()
                .enumerate()
                .filter_map(|(i, &p)| actual.get(i).map(|&a| (i, a, p)))
                .collect();
            let points = errors
                .iter()
                .map(|&(_, a, p)| [f64::from(a), f64::from(p)])
                .collect();
            errors.sort_by(|x, y| (y.2 - y.1).abs().total_cmp(&(x.2 - x.1).abs()));
            errors.truncate(20);
            let target = match dataset.task() {
                crate::data::Task::Regression { target, unit } if !unit.is_empty() => {
                    format!("{target} ({unit})")
                }
                crate::data::Task::Regression { target, .. } => target.clone(),
                crate::data::Task::Classification { .. } => String::new(),
            };
            RegressionView {
                metrics,
                target,
                points,
                largest_errors: errors,
            }
        });
        Self {
            class_names: dataset.task().class_names().to_vec(),
            confidences: evaluation.confidences.clone(),
            regression,
            model,
            test_accuracy: evaluation.accuracy.unwrap_or(0.0),
            test_loss: evaluation.loss,
            tested: predictions.len(),
            scores: per_class_scores(&matrix),
            matrix,
            mistakes,
            filter: None,
            textures: HashMap::new(),
        }
    }

    /// The name of class `class` ("Ankle boot"), or its number.
    pub fn class_name(&self, class: u8) -> String {
        self.class_names
            .get(class as usize)
            .cloned()
            .unwrap_or_else(|| class.to_string())
    }

    /// " 58%": how sure the model was of test sample `index`'s prediction.
    fn sureness(&self, index: usize) -> String {
        self.confidences
            .get(index)
            .map_or_else(String::new, |p| format!(" {:.0}%", p * 100.0))
    }

    /// The mistakes the gallery shows (all, or those of the chosen cell).
    pub fn shown_mistakes(&self) -> Vec<(usize, u8, u8)> {
        self.mistakes
            .iter()
            .filter(|(_, t, p)| self.filter.is_none_or(|cell| cell == (*t, *p)))
            .copied()
            .collect()
    }
}

pub fn evaluation_ui(
    ui: &mut egui::Ui,
    view: Option<&mut EvaluationView>,
    dataset: Option<&Dataset>,
) {
    let Some(view) = view else {
        ui.label(
            "No test results for the current model. A run that finishes is evaluated \
             automatically; for a stopped run or a loaded model, press \"Evaluate on test set\".",
        );
        return;
    };
    if let Some(regression) = &view.regression {
        return regression_ui(ui, regression, dataset);
    }
    ui.heading(format!(
        "Test accuracy {:.2}%  (loss {:.4}, {} test samples, {} wrong)",
        view.test_accuracy * 100.0,
        view.test_loss,
        thousands(view.tested),
        thousands(view.mistakes.len())
    ));
    matrix_and_scores_ui(ui, view);
    ui.separator();
    let shown = view.shown_mistakes();
    mistakes_title_ui(ui, view, shown.len());
    let Some(dataset) = dataset else {
        return;
    };
    if dataset.test.raw.is_empty() {
        mistaken_images_ui(ui, view, &shown, dataset);
    } else {
        // Tables and text: the mistaken rows themselves, not thumbnails.
        mistaken_rows_ui(ui, view, &shown, dataset);
    }
}

/// The confusion matrix (a click on a cell picks its samples) and the per-class scores.
/// Wide: the scores are the matrix rows' last three columns (each row is a true class).
/// Narrow (1000x640): the matrix's cells shrink to fit and the scores go under it, so
/// neither the matrix's last columns nor the F1 column is ever cut.
fn matrix_and_scores_ui(ui: &mut egui::Ui, view: &mut EvaluationView) {
    let layout = MatrixLayout::for_width(ui, &view.class_names, view.matrix.len());
    let mut matrix_and_scores = |ui: &mut egui::Ui| {
        ui.label(RichText::new("Confusion matrix (rows: true class, columns: predicted)").strong());
        ui.weak("Click a cell to see those test samples.");
        let scores = layout.scores_beside.then_some(view.scores.as_slice());
        if let Some(cell) = confusion_matrix_ui(
            ui,
            &view.matrix,
            &view.class_names,
            scores,
            &layout,
            view.filter,
        ) {
            view.filter = if view.filter == Some(cell) {
                None
            } else {
                Some(cell)
            };
        }
        if !layout.scores_beside {
            ui.add_space(8.0);
            ui.label(RichText::new("Per class").strong());
            scores_ui(ui, &view.scores, &view.class_names);
        }
    };
    egui::ScrollArea::vertical()
        .id_salt("matrix-and-scores")
        .max_height((ui.available_height() * 0.6).max(160.0))
        .auto_shrink([false, true])
        .show(ui, |ui| matrix_and_scores(ui));
}

/// What the gallery below shows, and the way back to all mistakes.
fn mistakes_title_ui(ui: &mut egui::Ui, view: &mut EvaluationView, shown: usize) {
    ui.horizontal(|ui| {
        let title = match view.filter {
            Some((t, p)) if t == p => format!(
                "{} test samples of {} classified correctly (not shown)",
                view.matrix[t as usize][p as usize],
                view.class_name(t)
            ),
            Some((t, p)) => format!(
                "{shown} test samples of {} taken for {}",
                view.class_name(t),
                view.class_name(p)
            ),
            None => format!("All {shown} misclassified test samples, true -> predicted"),
        };
        ui.label(RichText::new(title).strong());
        if view.filter.is_some() && ui.button("Show all mistakes").clicked() {
            view.filter = None;
        }
    });
}

/// The mistaken test images as thumbnails, each under "truth -> predicted (sure)".
fn mistaken_images_ui(
    ui: &mut egui::Ui,
    view: &mut EvaluationView,
    shown: &[(usize, u8, u8)],
    dataset: &Dataset,
) {
    // Wide enough for "T-shirt/top ->" over "Pullover (87% sure)": the label is never cut.
    let label_width = thumbnail_label_width(ui, &view.class_names);
    let cell = label_width + 8.0;
    let columns = ((ui.available_width() / cell).floor() as usize).max(1);
    let rows = shown.len().div_ceil(columns);
    let row_height =
        tokens::THUMBNAIL_SIDE + 3.0 * ui.text_style_height(&egui::TextStyle::Small) + 8.0;
    egui::ScrollArea::vertical()
        .id_salt("mistakes")
        .max_height(ui.available_height().max(200.0))
        .auto_shrink([false, true])
        .show_rows(ui, row_height, rows, |ui, visible| {
            for row in visible {
                ui.horizontal(|ui| {
                    for &mistake in shown.iter().skip(row * columns).take(columns) {
                        mistake_thumbnail_ui(ui, view, mistake, dataset, label_width);
                    }
                });
            }
        });
}

fn mistake_thumbnail_ui(
    ui: &mut egui::Ui,
    view: &mut EvaluationView,
    (index, truth, predicted): (usize, u8, u8),
    dataset: &Dataset,
    label_width: f32,
) {
    if let std::collections::hash_map::Entry::Vacant(slot) = view.textures.entry(index) {
        if let Some(texture) = digit_texture(
            ui.ctx(),
            &format!("mistake-{index}"),
            dataset,
            &dataset.test,
            index,
        ) {
            slot.insert(texture);
        }
    }
    let texture = view.textures.get(&index);
    ui.vertical(|ui| {
        ui.set_width(label_width);
        if let Some(texture) = texture {
            ui.add(
                egui::Image::new(texture)
                    .fit_to_exact_size(egui::Vec2::splat(tokens::THUMBNAIL_SIDE)),
            )
            .on_hover_text(format!("test image {index}"));
        }
        let sure = match view.sureness(index) {
            sure if sure.is_empty() => sure,
            sure => format!(" ({} sure)", sure.trim()),
        };
        let text = format!(
            "{} ->\n{}{sure}",
            view.class_name(truth),
            view.class_name(predicted)
        );
        let label = ui
            .add(egui::Label::new(egui::RichText::new(&text).small()).wrap())
            .on_hover_text(text.replace('\n', " "));
        if let Some(raw) = dataset.test.raw.get(index) {
            label.on_hover_text(raw.as_str());
        }
    });
}

/// Width of a score column (precision, recall, F1) beside the matrix, with its gap.
const SCORE_COLUMN_WIDTH: f32 = 52.0 + SCORE_GAP;
/// Space before each score column.
const SCORE_GAP: f32 = 8.0;
/// Most a class name takes as a matrix row's heading before it is cut (full on hover).
const ROW_NAME_WIDTH: f32 = 110.0;
/// Space between the matrix's cells.
const CELL_GAP: f32 = 2.0;

/// How the matrix fits the width it has.
struct MatrixLayout {
    heading_width: f32,
    cell_width: f32,
    /// Counts in small text (narrow cells).
    small: bool,
    /// Precision, recall and F1 as the rows' last columns, or in a table of their own.
    scores_beside: bool,
}

impl MatrixLayout {
    fn for_width(ui: &egui::Ui, names: &[String], classes: usize) -> Self {
        let available = ui.available_width() - 16.0; // the scroll bar
        let widest_heading = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                text_width(
                    ui,
                    &crate::app::views::data_panel::class_heading(i, name),
                    egui::TextStyle::Body,
                )
            })
            .fold(12.0, f32::max);
        let heading_width = widest_heading.min(ROW_NAME_WIDTH).min(available * 0.25);
        let per_cell = tokens::CONFUSION_CELL_WIDTH + 4.0 + CELL_GAP;
        let full = heading_width + classes as f32 * per_cell;
        let scores_beside = full + 3.0 * SCORE_COLUMN_WIDTH <= available;
        let cell_width = if full <= available {
            tokens::CONFUSION_CELL_WIDTH
        } else {
            let fits = (available - heading_width) / classes.max(1) as f32 - 4.0 - CELL_GAP;
            fits.clamp(20.0, tokens::CONFUSION_CELL_WIDTH)
        };
        Self {
            heading_width,
            cell_width,
            small: cell_width < 30.0,
            scores_beside,
        }
    }
}

/// The width of one thumbnail's cell: the thumbnail, or the longest class name in small text.
fn thumbnail_label_width(ui: &egui::Ui, names: &[String]) -> f32 {
    let longest = names
        .iter()
        .map(|name| text_width(ui, &format!("{name} (100% sure)"), egui::TextStyle::Small))
        .fold(0.0, f32::max);
    (longest + 4.0).clamp(tokens::THUMBNAIL_SIDE + 4.0, 2.5 * tokens::THUMBNAIL_SIDE)
}

/// A score column's cell beside the matrix, set off from its neighbour ("precision" and
/// "recall" ran together).
fn score_cell(ui: &mut egui::Ui, text: RichText) {
    ui.horizontal(|ui| {
        ui.add_space(SCORE_GAP);
        ui.label(text);
    });
}

fn scores_ui(ui: &mut egui::Ui, scores: &[[f32; 3]], names: &[String]) {
    egui::Grid::new("per-class-scores")
        .striped(true)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            for title in ["class", "precision", "recall", "F1"] {
                ui.label(RichText::new(title).strong());
            }
            ui.end_row();
            for (class, [precision, recall, f1]) in scores.iter().enumerate() {
                ui.label(
                    names
                        .get(class)
                        .cloned()
                        .unwrap_or_else(|| class.to_string()),
                );
                for value in [precision, recall, f1] {
                    ui.label(format!("{:.3}", value));
                }
                ui.end_row();
            }
        });
}

/// Draws the matrix; returns the cell clicked, if any.
fn confusion_matrix_ui(
    ui: &mut egui::Ui,
    matrix: &[Vec<usize>],
    names: &[String],
    scores: Option<&[[f32; 3]]>,
    layout: &MatrixLayout,
    selected: Option<(u8, u8)>,
) -> Option<(u8, u8)> {
    let name = |class: usize| {
        names
            .get(class)
            .cloned()
            .unwrap_or_else(|| class.to_string())
    };
    let heading_width = layout.heading_width;
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
    let largest_correct = (0..matrix.len())
        .map(|i| matrix[i][i])
        .max()
        .unwrap_or(0)
        .max(1);
    let mut clicked = None;
    egui::Grid::new("confusion")
        .spacing([CELL_GAP, 2.0])
        // egui's default (the interaction width, 40) would keep narrow cells wide.
        .min_col_width(layout.cell_width)
        .show(ui, |ui| {
            ui.label("");
            for predicted in 0..matrix.len() {
                ui.label(RichText::new(predicted.to_string()).strong())
                    .on_hover_text(format!("predicted {}", name(predicted)));
            }
            if scores.is_some() {
                for title in ["precision", "recall", "F1"] {
                    score_cell(ui, RichText::new(title).strong());
                }
            }
            ui.end_row();
            for (truth, row) in matrix.iter().enumerate() {
                let heading = crate::app::views::data_panel::class_heading(truth, &name(truth));
                ui.allocate_ui(egui::vec2(heading_width, 0.0), |ui| {
                    ui.add(egui::Label::new(RichText::new(&heading).strong()).truncate())
                        .on_hover_text(format!("true {}", name(truth)));
                });
                for (predicted, &count) in row.iter().enumerate() {
                    // Shade by count: green on the diagonal, red off it, nothing for 0.
                    let colour = if count == 0 {
                        Color32::TRANSPARENT
                    } else if truth == predicted {
                        tokens::OK
                            .gamma_multiply(0.15 + 0.5 * count as f32 / largest_correct as f32)
                    } else {
                        tokens::ERROR
                            .gamma_multiply(0.15 + 0.85 * count as f32 / largest_error as f32)
                    };
                    let cell = (truth as u8, predicted as u8);
                    let stroke = if selected == Some(cell) {
                        ui.visuals().selection.stroke
                    } else {
                        egui::Stroke::NONE
                    };
                    let response = egui::Frame::new()
                        .fill(colour)
                        .stroke(stroke)
                        .inner_margin(2.0)
                        .show(ui, |ui| {
                            ui.set_min_width(layout.cell_width);
                            let text = RichText::new(count.to_string());
                            ui.label(if layout.small { text.small() } else { text });
                        })
                        .response
                        .interact(egui::Sense::click())
                        .on_hover_text(format!(
                            "{count} test samples of {} predicted as {}",
                            name(truth),
                            name(predicted)
                        ));
                    response.widget_info(|| {
                        egui::WidgetInfo::labeled(
                            egui::Role::Button,
                            true,
                            format!("true {truth} predicted {predicted}"),
                        )
                    });
                    if response.clicked() {
                        clicked = Some(cell);
                    }
                }
                if let Some(class_scores) = scores.and_then(|s| s.get(truth)) {
                    for value in class_scores {
                        score_cell(ui, RichText::new(format!("{value:.3}")));
                    }
                }
                ui.end_row();
            }
        });
    clicked
}

/// `bins` equal-width bins of `predicted - actual` over `points` (`[actual, predicted]`):
/// each bin's centre and count, and the bin width.
pub fn residual_histogram(points: &[[f64; 2]], bins: usize) -> (Vec<(f64, usize)>, f64) {
    let residuals: Vec<f64> = points.iter().map(|[a, p]| p - a).collect();
    let (low, high) = residuals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
            (lo.min(r), hi.max(r))
        });
    if residuals.is_empty() || !low.is_finite() || !high.is_finite() {
        return (Vec::new(), 1.0);
    }
    let bins = bins.max(1);
    let width = ((high - low) / bins as f64).max(f64::EPSILON);
    let mut counts = vec![0usize; bins];
    for r in residuals {
        let index = (((r - low) / width) as usize).min(bins - 1);
        counts[index] += 1;
    }
    let centres = counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| (low + (i as f64 + 0.5) * width, count))
        .collect();
    (centres, width)
}

/// The mistaken test rows of a table or text set, with what was predicted.
fn mistaken_rows_ui(
    ui: &mut egui::Ui,
    view: &EvaluationView,
    shown: &[(usize, u8, u8)],
    dataset: &Dataset,
) {
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    egui::ScrollArea::vertical()
        .id_salt("mistaken-rows")
        .max_height(ui.available_height().max(200.0))
        .auto_shrink([false, true])
        .show_rows(ui, row_height, shown.len(), |ui, visible| {
            for &(index, truth, predicted) in &shown[visible] {
                let raw = dataset.test.raw.get(index).map_or("", String::as_str);
                let sure = view.sureness(index);
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(format!(
                            "{} -> {}{sure}",
                            view.class_name(truth),
                            view.class_name(predicted)
                        ))
                        .strong(),
                    );
                    ui.add(egui::Label::new(RichText::new(raw).small()).truncate())
                        .on_hover_text(raw);
                });
            }
        });
}

/// A regression's results: RMSE, MAE and R² in the target's units, predicted against actual
/// with the identity line, and the test rows with the largest errors.
fn regression_ui(ui: &mut egui::Ui, view: &RegressionView, dataset: Option<&Dataset>) {
    let m = view.metrics;
    ui.heading(format!(
        "Test RMSE {}, MAE {}, R² {:.3}  ({}, {} test samples)",
        decimal(f64::from(m.rmse), 2),
        decimal(f64::from(m.mae), 2),
        m.r2,
        view.target,
        thousands(view.points.len())
    ));
    let (low, high) = view
        .points
        .iter()
        .flat_map(|p| p.iter().copied())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    ui.label(RichText::new("Predicted against actual (the line is a perfect prediction)").strong());
    egui_plot::Plot::new("predicted-vs-actual")
        .height(320.0)
        .data_aspect(1.0)
        .x_grid_spacer(plot_axes::labelled_marks)
        .x_axis_label(format!("actual {}", view.target))
        .y_axis_label("predicted")
        .show(ui, |plot| {
            if low.is_finite() && high.is_finite() {
                plot.line(
                    egui_plot::Line::new("identity", vec![[low, low], [high, high]])
                        .color(tokens::OK),
                );
            }
            plot.points(
                egui_plot::Points::new("test samples", view.points.clone())
                    .radius(2.0)
                    .color(tokens::PREDICTED_BAR),
            );
        });
    ui.label(RichText::new("Residuals (predicted - actual)").strong());
    let (bins, width) = residual_histogram(&view.points, 30);
    egui_plot::Plot::new("residuals")
        .height(160.0)
        .x_grid_spacer(plot_axes::labelled_marks)
        .x_axis_label(format!("error {}", view.target))
        .y_axis_label("test samples")
        .show(ui, |plot| {
            plot.bar_chart(
                egui_plot::BarChart::new(
                    "residuals",
                    bins.iter()
                        .map(|&(centre, count)| {
                            egui_plot::Bar::new(centre, count as f64).width(width)
                        })
                        .collect(),
                )
                .color(tokens::PREDICTED_BAR),
            );
        });
    ui.label(RichText::new("Largest errors").strong());
    egui::Grid::new("largest-errors")
        .striped(true)
        .show(ui, |ui| {
            for title in ["test row", "actual", "predicted", "sample"] {
                ui.label(RichText::new(title).strong());
            }
            ui.end_row();
            for &(index, actual, predicted) in &view.largest_errors {
                ui.label(index.to_string());
                ui.label(decimal(f64::from(actual), 2));
                ui.label(decimal(f64::from(predicted), 2));
                let raw = dataset
                    .and_then(|d| d.test.raw.get(index))
                    .map_or("", String::as_str);
                let short: String = raw.chars().take(90).collect();
                ui.small(short).on_hover_text(raw);
                ui.end_row();
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residuals_fall_into_equal_bins_covering_their_range() {
        // Residuals -2, 0, 0, 2 in 2 bins of width 2: [-2, 0) holds 1, [0, 2] holds 3.
        let points = [[5.0, 3.0], [1.0, 1.0], [2.0, 2.0], [0.0, 2.0]];
        let (bins, width) = residual_histogram(&points, 2);
        assert_eq!(width, 2.0);
        assert_eq!(bins, [(-1.0, 1), (1.0, 3)]);
        assert!(residual_histogram(&[], 10).0.is_empty());
    }

    #[test]
    fn precision_recall_and_f1_per_class_by_hand() {
        // true 0: 3 right, 1 taken for 1; true 1: 2 right; class 2 never seen nor predicted.
        let matrix = vec![vec![3, 1, 0], vec![0, 2, 0], vec![0, 0, 0]];
        let scores = per_class_scores(&matrix);
        assert_eq!(scores[0], [1.0, 0.75, 2.0 * 0.75 / 1.75]);
        assert_eq!(scores[1][0], 2.0 / 3.0);
        assert_eq!(scores[1][1], 1.0);
        assert_eq!(scores[2], [0.0, 0.0, 0.0]);
    }
}
