//! Live loss and accuracy charts over a [`MetricsHistory`] (egui_plot).
//!
//! Per-batch values raw and EMA-smoothed, per-epoch train vs validation, epochs marked with
//! vertical lines, the two plots' x axes linked. What is drawn is downsampled and cached;
//! the history itself keeps every value.

use eframe::egui::{self, Id};
use egui_plot::{Corner, HoverPosition, Legend, Line, Plot, PlotPoint, Points, VLine};
use serde::{Deserialize, Serialize};

use crate::app::views::{plot_axes, tokens};
use crate::train::{MetricsHistory, MinMaxSeries, RunningEma};

/// Points drawn per series at most; plenty for a chart a few hundred points wide.
const MAX_DRAWN_POINTS: usize = 1_000;
/// TensorBoard's default smoothing.
const DEFAULT_SMOOTHING: f64 = 0.6;
/// Epoch lines drawn at most; with more epochs every k-th is drawn (1,000 would grey the plot).
const MAX_EPOCH_MARKS: usize = 20;
/// Height of the learning-rate strip under the two main plots.
const LEARNING_RATE_HEIGHT: f32 = 90.0;
/// Least height of each main plot (the panel scrolls below this).
const MIN_CHART_HEIGHT: f32 = 140.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum XAxis {
    Steps,
    Epochs,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChartSettings {
    pub smoothing: f64,
    pub log_loss: bool,
    pub x_axis: XAxis,
}

impl Default for ChartSettings {
    fn default() -> Self {
        Self {
            smoothing: DEFAULT_SMOOTHING,
            log_loss: false,
            x_axis: XAxis::Steps,
        }
    }
}

/// The drawn series. Each frame takes in only the steps that arrived since the last one
/// (downsampled as they come, [`MinMaxSeries`]); a new run or another setting starts over.
/// Reading every step of a 360,000-step run each frame took most of a 12 ms frame.
#[derive(Default)]
pub struct ChartCache {
    /// The run and settings the series were built for: the first batch (its worker clock
    /// time tells runs apart) and the settings.
    built_for: Option<(Option<crate::train::BatchMetrics>, ChartSettings)>,
    /// Batches taken in so far.
    seen: usize,
    /// Epochs the epoch series were made from.
    epochs_seen: usize,
    batch_loss_raw: MinMaxSeries,
    batch_loss_smooth: MinMaxSeries,
    batch_accuracy_smooth: MinMaxSeries,
    learning_rate: MinMaxSeries,
    loss_average: RunningEma,
    accuracy_average: RunningEma,
    /// The drawn points of the series above, remade when they change.
    drawn: DrawnSeries,
    epoch_train_loss: Vec<PlotPoint>,
    epoch_validation_loss: Vec<PlotPoint>,
    epoch_train_accuracy: Vec<PlotPoint>,
    epoch_validation_accuracy: Vec<PlotPoint>,
    /// A regression run: RMSE (in the target's units) takes the accuracy chart's place.
    regression: bool,
    epoch_train_rmse: Vec<PlotPoint>,
    epoch_validation_rmse: Vec<PlotPoint>,
    epoch_marks: Vec<f64>,
    /// x of the epoch with the lowest validation loss.
    best_validation: Option<f64>,
    /// Where the learning rate was changed during the run.
    learning_rate_changes: Vec<PlotPoint>,
    /// Checkpoints (x, step), and what the marks below were made from.
    checkpoint_marks: Vec<(f64, usize)>,
    /// Early stopping's restored epoch and the epoch it stopped after (their ends' x).
    restored: Option<f64>,
    stopped: Option<f64>,
    marks_for: (usize, usize, Option<usize>, Option<usize>),
}

/// What egui_plot draws of the per-batch series.
#[derive(Default)]
struct DrawnSeries {
    batch_loss_raw: Vec<PlotPoint>,
    batch_loss_smooth: Vec<PlotPoint>,
    batch_accuracy_smooth: Vec<PlotPoint>,
    learning_rate: Vec<PlotPoint>,
}

/// Every `k`-th of `marks`, so at most `max` remain (the last one always).
pub fn thin_marks(marks: &[f64], max: usize) -> Vec<f64> {
    if marks.len() <= max {
        return marks.to_vec();
    }
    let stride = marks.len().div_ceil(max.max(1));
    marks
        .iter()
        .enumerate()
        .filter(|(i, _)| (i + 1).is_multiple_of(stride))
        .map(|(_, &x)| x)
        .collect()
}

fn drawn(series: &MinMaxSeries) -> Vec<PlotPoint> {
    series.points().map(|[x, y]| PlotPoint::new(x, y)).collect()
}

impl ChartCache {
    /// Number of per-batch points currently drawn (for tests and the frame-stats overlay).
    pub fn drawn_batch_points(&self) -> usize {
        self.drawn.batch_loss_smooth.len()
    }

    fn refresh(&mut self, history: &MetricsHistory, settings: &ChartSettings) {
        let built_for = (history.batches.first().cloned(), settings.clone());
        if self.built_for.as_ref() != Some(&built_for) || history.batches.len() < self.seen {
            *self = Self {
                built_for: Some(built_for),
                batch_loss_raw: MinMaxSeries::new(MAX_DRAWN_POINTS),
                batch_loss_smooth: MinMaxSeries::new(MAX_DRAWN_POINTS),
                batch_accuracy_smooth: MinMaxSeries::new(MAX_DRAWN_POINTS),
                learning_rate: MinMaxSeries::new(MAX_DRAWN_POINTS),
                loss_average: RunningEma::new(settings.smoothing),
                accuracy_average: RunningEma::new(settings.smoothing),
                epochs_seen: usize::MAX, // the epoch series are made below
                ..Self::default()
            };
        }
        let per_epoch = history.steps_per_epoch.max(1) as f64;
        let x_of_step = |step: usize| match settings.x_axis {
            XAxis::Steps => step as f64,
            XAxis::Epochs => step as f64 / per_epoch,
        };
        let loss_y = |v: f64| {
            if settings.log_loss {
                v.max(1e-12).log10()
            } else {
                v
            }
        };
        self.refresh_run_marks(history, &x_of_step);
        let new_batches = &history.batches[self.seen..];
        if !new_batches.is_empty() {
            // Regression has no accuracy: its batches give none, and nothing is drawn.
            self.regression = history.batches[0].accuracy.is_none();
            let mut previous_rate = self
                .seen
                .checked_sub(1)
                .map(|i| history.batches[i].learning_rate);
            for batch in new_batches {
                let x = x_of_step(batch.step);
                let loss = f64::from(batch.loss);
                self.batch_loss_raw.push([x, loss_y(loss)]);
                let smooth = self.loss_average.push(loss);
                self.batch_loss_smooth.push([x, loss_y(smooth)]);
                if let Some(accuracy) = batch.accuracy {
                    let smooth = self.accuracy_average.push(f64::from(accuracy));
                    self.batch_accuracy_smooth.push([x, smooth]);
                }
                self.learning_rate.push([x, batch.learning_rate]);
                if previous_rate.is_some_and(|rate| rate != batch.learning_rate) {
                    self.learning_rate_changes
                        .push(PlotPoint::new(x, batch.learning_rate));
                }
                previous_rate = Some(batch.learning_rate);
            }
            self.seen = history.batches.len();
            self.drawn = DrawnSeries {
                batch_loss_raw: drawn(&self.batch_loss_raw),
                batch_loss_smooth: drawn(&self.batch_loss_smooth),
                batch_accuracy_smooth: drawn(&self.batch_accuracy_smooth),
                learning_rate: drawn(&self.learning_rate),
            };
        }
        if self.epochs_seen == history.epochs.len() {
            return;
        }
        // Epochs are few (at most 1,000): their series are simply remade.
        self.epochs_seen = history.epochs.len();
        let epoch_points = |value: &dyn Fn(&crate::train::EpochMetrics) -> Option<f64>| {
            history
                .epochs
                .iter()
                .filter_map(|e| value(e).map(|v| PlotPoint::new(x_of_step(e.step), v)))
                .collect::<Vec<_>>()
        };
        self.epoch_train_loss = epoch_points(&|e| Some(loss_y(e.train_loss as f64)));
        self.epoch_validation_loss = epoch_points(&|e| e.validation_loss.map(|v| loss_y(v as f64)));
        self.epoch_train_accuracy = epoch_points(&|e| e.train_accuracy.map(f64::from));
        self.epoch_validation_accuracy = epoch_points(&|e| e.validation_accuracy.map(|v| v as f64));
        self.epoch_train_rmse = epoch_points(&|e| e.train_rmse.map(f64::from));
        self.epoch_validation_rmse = epoch_points(&|e| e.validation_rmse.map(f64::from));
        let marks: Vec<f64> = history.epochs.iter().map(|e| x_of_step(e.step)).collect();
        self.epoch_marks = thin_marks(&marks, MAX_EPOCH_MARKS);
        self.best_validation = history
            .epochs
            .iter()
            .filter_map(|e| e.validation_loss.map(|v| (e.step, v)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(step, _)| x_of_step(step));
    }
}

impl ChartCache {
    /// Checkpoints and early stopping's ends, remade when any of them changes.
    fn refresh_run_marks(&mut self, history: &MetricsHistory, x_of_step: &dyn Fn(usize) -> f64) {
        let marks_for = (
            history.checkpoints.len(),
            history.epochs.len(),
            history.restored_epoch,
            history.stopped_after_epoch,
        );
        if marks_for == self.marks_for {
            return;
        }
        self.marks_for = marks_for;
        self.checkpoint_marks = history
            .checkpoints
            .iter()
            .map(|&step| (x_of_step(step), step))
            .collect();
        let end_of = |epoch: Option<usize>| {
            let epoch = epoch?;
            let end = history.epochs.iter().find(|e| e.epoch == epoch)?;
            Some(x_of_step(end.step))
        };
        self.restored = end_of(history.restored_epoch);
        self.stopped = end_of(history.stopped_after_epoch);
    }
}

/// Chart controls: smoothing, log scale, x axis.
pub fn chart_controls_ui(ui: &mut egui::Ui, settings: &mut ChartSettings) {
    ui.horizontal_wrapped(|ui| {
        ui.add(egui::Slider::new(&mut settings.smoothing, 0.0..=0.99).text("Smoothing (EMA)"));
        ui.checkbox(&mut settings.log_loss, "Log-scale loss");
        // One group, so a narrow panel wraps it whole ("X" once ended a line, "axis:"
        // began the next).
        ui.horizontal(|ui| {
            ui.label("X axis:");
            ui.selectable_value(&mut settings.x_axis, XAxis::Steps, "Steps");
            ui.selectable_value(&mut settings.x_axis, XAxis::Epochs, "Epochs");
        });
    });
}

/// What the tooltip says near a data point: the series, where it is and its value. Steps
/// are whole numbers (the pointer between two is at the nearer one); epochs keep their
/// fraction, since a batch lies part-way through one.
fn hover_label(x_axis: XAxis) -> impl Fn(&HoverPosition<'_>) -> Option<String> {
    let x_text = move |x: f64| match x_axis {
        XAxis::Steps => format!("step {}", x.round().max(0.0)),
        XAxis::Epochs => format!("epoch {x:.2}"),
    };
    move |position| match position {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } if !plot_name.is_empty() => Some(format!(
            "{plot_name}\n{}\nvalue {:.4}",
            x_text(position.x),
            position.y
        )),
        HoverPosition::NearDataPoint { position, .. } | HoverPosition::Elsewhere { position } => {
            Some(x_text(position.x))
        }
    }
}

/// The loss and accuracy plots one above the other, filling the panel's height, and the
/// learning rate in a strip below; x axes linked.
/// Draws the charts; the step of the checkpoint clicked on, if one was.
pub fn charts_ui(
    ui: &mut egui::Ui,
    history: &MetricsHistory,
    settings: &ChartSettings,
    cache: &mut ChartCache,
) -> Option<usize> {
    cache.refresh(history, settings);
    let spacing = ui.spacing().item_spacing.y;
    let chart_height = ((ui.available_height() - LEARNING_RATE_HEIGHT - 3.0 * spacing) / 2.0)
        .max(MIN_CHART_HEIGHT);
    let frame = ChartFrame {
        link: Id::unique("layerlab-charts-x"),
        x_axis: settings.x_axis,
        // An empty chart starts at the origin (not at -0.5), with room for the first points.
        empty: history.batches.is_empty(),
        marks: &cache.epoch_marks,
        best: cache.best_validation,
        checkpoints: &cache.checkpoint_marks,
        restored: cache.restored,
        stopped: cache.stopped,
    };
    let clicked = loss_chart(ui, &frame, cache, chart_height, settings.log_loss);
    if cache.regression {
        rmse_chart(ui, &frame, cache, chart_height);
    } else {
        accuracy_chart(ui, &frame, cache, chart_height);
    }
    learning_rate_chart(ui, &frame, cache);
    clicked
}

/// What the stacked charts share: the linked x axis, its unit, the epoch marks.
struct ChartFrame<'a> {
    link: Id,
    x_axis: XAxis,
    empty: bool,
    marks: &'a [f64],
    best: Option<f64>,
    checkpoints: &'a [(f64, usize)],
    restored: Option<f64>,
    stopped: Option<f64>,
}

impl ChartFrame<'_> {
    /// A chart of `height` with the linked x axis, hover values, and an x range from the
    /// origin.
    fn plot(&self, id: &'static str, height: f32, y_label: &'static str) -> Plot<'static> {
        let plot = Plot::new(id)
            .height(height)
            .link_axis(self.link, [true, false])
            .y_axis_label(y_label)
            .label_formatter(hover_label(self.x_axis))
            .include_x(0.0);
        // Labels at any width; steps are whole (no "0.1 step" marks on a short run's axis).
        let plot = match self.x_axis {
            XAxis::Steps => plot.x_grid_spacer(plot_axes::whole_marks),
            XAxis::Epochs => plot
                .x_grid_spacer(plot_axes::labelled_marks)
                .x_axis_formatter(plot_axes::mark_text),
        };
        if self.empty {
            plot.include_x(1.0)
        } else {
            plot
        }
    }

    /// Checkpoints as triangles on the plot's x axis, painted over it (a plotted point would
    /// move the plot's bounds).
    fn paint_checkpoints(&self, ui: &egui::Ui, transform: &egui_plot::PlotTransform) {
        let frame = transform.frame();
        let painter = ui.painter_at(*frame);
        let size = tokens::CHECKPOINT_MARK_RADIUS;
        for &(x, _) in self.checkpoints {
            let at = transform.position_from_point_x(x);
            if at < frame.left() || at > frame.right() {
                continue;
            }
            let bottom = frame.bottom();
            painter.add(egui::Shape::convex_polygon(
                vec![
                    egui::pos2(at, bottom - 2.0 * size),
                    egui::pos2(at + size, bottom),
                    egui::pos2(at - size, bottom),
                ],
                tokens::CHECKPOINT_MARK,
                egui::Stroke::NONE,
            ));
        }
    }

    fn x_label(&self) -> &'static str {
        match self.x_axis {
            XAxis::Steps => "step",
            XAxis::Epochs => "epoch",
        }
    }

    /// The epochs' ends, the best validation epoch dashed, early stopping's restored and
    /// last epochs.
    fn draw_marks(&self, plot: &mut egui_plot::PlotUi<'_>) {
        for &x in self.marks {
            plot.vline(VLine::new("epoch", x).color(tokens::EPOCH_MARK));
        }
        if let Some(x) = self.best {
            plot.vline(
                VLine::new("best validation epoch", x)
                    .color(tokens::VALIDATION)
                    .style(egui_plot::LineStyle::dashed_loose()),
            );
        }
        if let Some(x) = self.restored {
            plot.vline(
                VLine::new("restored epoch (early stopping)", x)
                    .color(tokens::VALIDATION)
                    .width(2.0),
            );
        }
        if let Some(x) = self.stopped {
            plot.vline(
                VLine::new("stopped early", x)
                    .color(tokens::STOPPED_MARK)
                    .width(2.0),
            );
        }
    }
}

/// Draws the loss chart; the checkpoint clicked on, if one was.
fn loss_chart(
    ui: &mut egui::Ui,
    frame: &ChartFrame<'_>,
    cache: &ChartCache,
    height: f32,
    log_loss: bool,
) -> Option<usize> {
    let label = if log_loss { "log10 loss" } else { "loss" };
    let mut plot = frame
        .plot("loss_plot", height, label)
        .legend(Legend::default())
        .x_axis_label(frame.x_label());
    if frame.empty {
        plot = plot.include_y(0.0).include_y(2.5);
    }
    let response = plot.show(ui, |plot| {
        plot.line(
            Line::new("batch loss", &cache.drawn.batch_loss_raw[..])
                .color(tokens::TRAIN_LOSS.gamma_multiply(tokens::RAW_SERIES_OPACITY)),
        );
        plot.line(
            Line::new("batch loss (smoothed)", &cache.drawn.batch_loss_smooth[..])
                .color(tokens::TRAIN_LOSS)
                .width(2.0),
        );
        epoch_series(
            plot,
            "epoch train loss",
            &cache.epoch_train_loss,
            tokens::EPOCH_TRAIN,
        );
        epoch_series(
            plot,
            "validation loss",
            &cache.epoch_validation_loss,
            tokens::VALIDATION,
        );
        frame.draw_marks(plot);
        plot.pointer_coordinate()
    });
    frame.paint_checkpoints(ui, &response.transform);
    plot_axes::clicked_mark(&response, frame.checkpoints)
}

fn rmse_chart(ui: &mut egui::Ui, frame: &ChartFrame<'_>, cache: &ChartCache, height: f32) {
    frame
        .plot("rmse_plot", height, "RMSE (target units)")
        .legend(Legend::default())
        .x_axis_label(frame.x_label())
        .include_y(0.0)
        .show(ui, |plot| {
            epoch_series(
                plot,
                "epoch train RMSE",
                &cache.epoch_train_rmse,
                tokens::EPOCH_TRAIN,
            );
            epoch_series(
                plot,
                "validation RMSE",
                &cache.epoch_validation_rmse,
                tokens::VALIDATION,
            );
            frame.draw_marks(plot);
        });
}

fn accuracy_chart(ui: &mut egui::Ui, frame: &ChartFrame<'_>, cache: &ChartCache, height: f32) {
    frame
        .plot("accuracy_plot", height, "accuracy")
        // Accuracy climbs to the top right; the bottom right stays empty after the start.
        .legend(Legend::default().position(Corner::RightBottom))
        .x_axis_label(frame.x_label())
        .include_y(0.0)
        .include_y(1.0)
        .show(ui, |plot| {
            if !cache.drawn.batch_accuracy_smooth.is_empty() {
                plot.line(
                    Line::new(
                        "batch accuracy (smoothed)",
                        &cache.drawn.batch_accuracy_smooth[..],
                    )
                    .color(tokens::TRAIN_LOSS)
                    .width(2.0),
                );
            }
            epoch_series(
                plot,
                "epoch train accuracy",
                &cache.epoch_train_accuracy,
                tokens::EPOCH_TRAIN,
            );
            epoch_series(
                plot,
                "validation accuracy",
                &cache.epoch_validation_accuracy,
                tokens::VALIDATION,
            );
            frame.draw_marks(plot);
        });
}

/// The learning rate each step used, and the changes made by hand.
fn learning_rate_chart(ui: &mut egui::Ui, frame: &ChartFrame<'_>, cache: &ChartCache) {
    frame
        .plot("learning_rate_plot", LEARNING_RATE_HEIGHT, "learning rate")
        .include_y(0.0)
        .show(ui, |plot| {
            if !cache.drawn.learning_rate.is_empty() {
                plot.line(
                    Line::new("learning rate", &cache.drawn.learning_rate[..])
                        .color(tokens::TRAIN_LOSS)
                        .width(1.5),
                );
            }
            if !cache.learning_rate_changes.is_empty() {
                plot.add(
                    Points::new("changed during the run", &cache.learning_rate_changes[..])
                        .color(tokens::VALIDATION)
                        .radius(tokens::EPOCH_POINT_RADIUS),
                );
            }
        });
}

/// A per-epoch series: a line with a marker on each epoch (one epoch is one point).
fn epoch_series<'a>(
    plot: &mut egui_plot::PlotUi<'a>,
    name: &str,
    points: &'a [PlotPoint],
    colour: egui::Color32,
) {
    if points.is_empty() {
        return; // no legend entry for a series without data
    }
    plot.line(Line::new(name, points).color(colour).width(2.0));
    plot.add(
        Points::new(name, points)
            .color(colour)
            .radius(tokens::EPOCH_POINT_RADIUS),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pointer off a line once read "step 1146.85" (issue 25, item 21).
    #[test]
    fn hovering_names_whole_steps_and_fractional_epochs() {
        let elsewhere = |x: f64| HoverPosition::Elsewhere {
            position: PlotPoint::new(x, 0.3),
        };
        assert_eq!(
            hover_label(XAxis::Steps)(&elsewhere(1146.85)).as_deref(),
            Some("step 1147")
        );
        assert_eq!(
            hover_label(XAxis::Steps)(&elsewhere(-0.4)).as_deref(),
            Some("step 0")
        );
        assert_eq!(
            hover_label(XAxis::Epochs)(&elsewhere(2.5)).as_deref(),
            Some("epoch 2.50")
        );
    }

    #[test]
    fn a_thousand_epochs_draw_at_most_twenty_marks_ending_at_the_last() {
        let marks: Vec<f64> = (1..=1_000).map(f64::from).collect();
        let thinned = thin_marks(&marks, MAX_EPOCH_MARKS);
        assert_eq!(thinned.len(), 20);
        assert_eq!(thinned.last(), Some(&1_000.0));
        assert_eq!(
            thin_marks(&marks[..5], MAX_EPOCH_MARKS),
            marks[..5].to_vec()
        );
    }

    fn history(steps: std::ops::Range<usize>, first_secs: f64) -> MetricsHistory {
        let mut history = MetricsHistory {
            steps_per_epoch: 100,
            total_steps: 5_000,
            ..MetricsHistory::default()
        };
        for step in steps {
            history.batches.push(crate::train::BatchMetrics {
                step,
                epoch: step / 100,
                loss: 2.0 / (1.0 + step as f32) + ((step * 37) % 11) as f32 * 0.01,
                accuracy: Some((step % 7) as f32 / 7.0),
                learning_rate: if step < 3_000 { 1e-3 } else { 1e-4 },
                samples: 32,
                train_secs: first_secs + step as f64 * 1e-3,
            });
        }
        history
    }

    #[test]
    fn frame_by_frame_intake_draws_what_one_pass_over_the_run_draws() {
        let settings = ChartSettings::default();
        let whole = history(1..5_001, 0.0);
        let mut at_once = ChartCache::default();
        at_once.refresh(&whole, &settings);
        let mut growing = ChartCache::default();
        let mut partial = history(1..1, 0.0);
        for chunk in whole.batches.chunks(613) {
            partial.batches.extend_from_slice(chunk);
            growing.refresh(&partial, &settings);
        }
        assert_eq!(growing.drawn.batch_loss_raw, at_once.drawn.batch_loss_raw);
        assert_eq!(
            growing.drawn.batch_loss_smooth,
            at_once.drawn.batch_loss_smooth
        );
        assert_eq!(
            growing.drawn.batch_accuracy_smooth,
            at_once.drawn.batch_accuracy_smooth
        );
        assert!(at_once.drawn_batch_points() <= MAX_DRAWN_POINTS);
        assert_eq!(
            growing.learning_rate_changes,
            [PlotPoint::new(3_000.0, 1e-4)]
        );
        // The smoothed line ends where the debiased EMA of every loss ends.
        let losses: Vec<f64> = whole.batches.iter().map(|b| f64::from(b.loss)).collect();
        let last = *crate::train::ema(&losses, settings.smoothing)
            .last()
            .unwrap();
        let drawn_last = growing.drawn.batch_loss_smooth.last().unwrap();
        assert_eq!((drawn_last.x, drawn_last.y), (5_000.0, last));

        // Another run (another first batch) starts over, even when it is longer.
        let next = history(1..6_001, 99.0);
        growing.refresh(&next, &settings);
        assert_eq!(growing.seen, 6_000);
        assert_eq!(growing.learning_rate_changes.len(), 1);
        // Another setting starts over too: the x axis in epochs.
        let epochs = ChartSettings {
            x_axis: XAxis::Epochs,
            ..settings
        };
        growing.refresh(&next, &epochs);
        assert_eq!(growing.drawn.batch_loss_raw.last().unwrap().x, 60.0);
    }

    #[test]
    fn checkpoints_and_early_stoppings_ends_sit_where_they_happened() {
        let mut history = history(1..301, 0.0);
        for (epoch, step) in [(0, 100), (1, 200), (2, 300)] {
            history.epochs.push(crate::train::EpochMetrics {
                epoch,
                step,
                train_loss: 0.5,
                train_accuracy: None,
                train_rmse: None,
                validation_loss: Some(0.5),
                validation_accuracy: None,
                validation_rmse: None,
                validation_mae: None,
                images_per_sec: 1.0,
                duration_secs: 1.0,
            });
        }
        history.checkpoints = vec![100, 150, 300];
        history.restored_epoch = Some(0);
        history.stopped_after_epoch = Some(2);
        let settings = ChartSettings {
            x_axis: XAxis::Epochs,
            ..ChartSettings::default()
        };
        let mut cache = ChartCache::default();
        cache.refresh(&history, &settings);
        assert_eq!(cache.checkpoint_marks, [(1.0, 100), (1.5, 150), (3.0, 300)]);
        assert_eq!((cache.restored, cache.stopped), (Some(1.0), Some(3.0)));
        // A checkpoint written later (between epochs) is marked on the next frame.
        history.checkpoints.push(320);
        cache.refresh(&history, &settings);
        assert_eq!(cache.checkpoint_marks.last(), Some(&(3.2, 320)));
    }
}
