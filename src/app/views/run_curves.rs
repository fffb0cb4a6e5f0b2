//! The Runs tab's chart: the ticked runs' curves overlaid in their colours (training loss,
//! validation loss, accuracy or RMSE, learning rate) against steps, epochs or seconds of
//! training, the run training in the window always among them, each run's value where the
//! pointer is, and the one ticked run's checkpoints marked (a click on a mark tries it).

use eframe::egui::{self, Color32, RichText};
use egui_plot::{Legend, Line, Plot, VLine};

use crate::app::command::AppCommand;
use crate::app::tasks::runs_browser::RunCurves;
use crate::app::views::{plot_axes, tokens};
use crate::store::CheckpointRow;
use crate::train::{downsample_min_max, ema, MetricsHistory};

/// The first ticked runs' colours, in the order of their ids (then [`run_colour`] spreads
/// hues).
pub const RUN_COLOURS: [Color32; 6] = tokens::SERIES_COLOURS;
/// Runs drawn with a legend at most; more would cover the chart (the list shows each run's
/// name in its colour, and the line under the chart their values).
const MAX_LEGEND_RUNS: usize = 8;

/// The colour of the `index`-th ticked run: the palette's, then hues a golden angle apart.
pub fn run_colour(index: usize) -> Color32 {
    match RUN_COLOURS.get(index) {
        Some(&colour) => colour,
        None => {
            let hue = (index as f32 * 0.618_034).fract();
            egui::ecolor::Hsva::new(hue, 0.65, 0.95, 1.0).into()
        }
    }
}
/// The colour of the run training in the window when it is not ticked.
const LIVE_COLOUR: Color32 = Color32::from_rgb(230, 230, 230);

/// What the chart draws.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CurveMetric {
    TrainingLoss,
    #[default]
    ValidationLoss,
    /// Validation accuracy (classification) or RMSE (regression).
    ValidationScore,
    LearningRate,
}

/// The chart's x axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CurveAxis {
    Steps,
    #[default]
    Epochs,
    /// Seconds of training (pauses left out).
    WallTime,
}

/// The chart's choices (kept while the tab is open).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurveChoice {
    pub metric: CurveMetric,
    pub axis: CurveAxis,
    /// Exponential smoothing of the training loss, 0 (none) to 0.99.
    pub smoothing: f64,
}

impl Default for CurveChoice {
    fn default() -> Self {
        Self {
            metric: CurveMetric::default(),
            axis: CurveAxis::default(),
            smoothing: 0.6,
        }
    }
}

/// One line of the chart.
struct Curve {
    name: String,
    colour: Color32,
    points: Vec<[f64; 2]>,
}

/// The run training in the window: its id (once recorded) and its metrics so far.
pub struct LiveRun<'a> {
    pub id: Option<&'a str>,
    pub history: &'a MetricsHistory,
}

/// Draws the chart and its choices; a click on a checkpoint's mark tries it.
pub fn curves_ui(
    ui: &mut egui::Ui,
    choice: &mut CurveChoice,
    runs: &[RunCurves],
    live: Option<LiveRun<'_>>,
    checkpoints: Option<(&str, &[CheckpointRow])>,
    commands: &mut Vec<AppCommand>,
) {
    choices_ui(ui, choice);
    let mut curves: Vec<Curve> = runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            // The live run's own metrics are fresher than the store's (written each second).
            let from_window = live
                .as_ref()
                .filter(|l| l.id == Some(run.row.id.as_str()))
                .map(|l| curve_of_history(l.history, *choice));
            Curve {
                name: run.row.name.clone(),
                colour: run_colour(i),
                points: from_window.unwrap_or_else(|| curve_of_run(run, *choice)),
            }
        })
        .collect();
    if let Some(live) = live.filter(|l| !runs.iter().any(|r| Some(r.row.id.as_str()) == l.id)) {
        if !live.history.batches.is_empty() {
            curves.push(Curve {
                name: "training now".into(),
                colour: LIVE_COLOUR,
                points: curve_of_history(live.history, *choice),
            });
        }
    }
    if !curves.is_empty() && curves.iter().all(|c| c.points.is_empty()) {
        // An empty plot with a made-up axis says nothing; this says why it is empty.
        let when = match choice.metric {
            CurveMetric::ValidationLoss | CurveMetric::ValidationScore => {
                ": validation comes at each epoch's end, and none has ended yet"
            }
            CurveMetric::TrainingLoss | CurveMetric::LearningRate => "",
        };
        ui.label(format!(
            "No {} recorded for the ticked runs{when}.",
            metric_name(choice.metric)
        ));
        return;
    }
    let marks: Vec<(f64, usize)> = checkpoints
        .zip(runs.first())
        .filter(|_| runs.len() == 1 && choice.axis != CurveAxis::WallTime)
        .map(|((_, rows), run)| {
            let per_epoch = steps_per_epoch(run);
            rows.iter()
                .map(|c| (x_of_step(c.step, per_epoch, choice.axis), c.step))
                .collect()
        })
        .unwrap_or_default();
    let plot = Plot::new("runs-overlay").height(220.0);
    let plot = if curves.len() <= MAX_LEGEND_RUNS {
        plot.legend(Legend::default())
    } else {
        plot
    };
    let response = plot
        .x_grid_spacer(match choice.axis {
            CurveAxis::Steps => plot_axes::whole_marks,
            CurveAxis::Epochs | CurveAxis::WallTime => plot_axes::labelled_marks,
        })
        .x_axis_formatter(plot_axes::mark_text)
        .x_axis_label(axis_name(choice.axis))
        .y_axis_label(metric_name(choice.metric))
        .show(ui, |plot| {
            for &(x, _) in &marks {
                plot.vline(VLine::new("checkpoint", x).color(tokens::EPOCH_MARK));
            }
            for curve in &curves {
                plot.line(
                    Line::new(curve.name.clone(), curve.points.clone())
                        .color(curve.colour)
                        .width(2.0),
                );
            }
            plot.pointer_coordinate()
        });
    if let (Some(step), Some((id, _))) = (plot_axes::clicked_mark(&response, &marks), checkpoints) {
        commands.push(AppCommand::TryCheckpoint(id.to_string(), step));
    }
    // The pointer's coordinate is given wherever the pointer is: a readout only over the plot.
    let hovered = response.inner.filter(|_| response.response.hovered());
    values_at_pointer_ui(ui, &curves, hovered.map(|p| p.x), choice.axis);
}

fn choices_ui(ui: &mut egui::Ui, choice: &mut CurveChoice) {
    ui.horizontal_wrapped(|ui| {
        for metric in [
            CurveMetric::TrainingLoss,
            CurveMetric::ValidationLoss,
            CurveMetric::ValidationScore,
            CurveMetric::LearningRate,
        ] {
            ui.selectable_value(&mut choice.metric, metric, metric_name(metric));
        }
        ui.separator();
        ui.label("x:");
        for (axis, text) in [
            (CurveAxis::Steps, "Steps"),
            (CurveAxis::Epochs, "Epochs"),
            (CurveAxis::WallTime, "Seconds"),
        ] {
            ui.selectable_value(&mut choice.axis, axis, text);
        }
        if choice.metric == CurveMetric::TrainingLoss {
            ui.separator();
            let label = ui.label("Smoothing");
            ui.add(egui::Slider::new(&mut choice.smoothing, 0.0..=0.99).fixed_decimals(2))
                .labelled_by(label.id);
        }
    });
}

/// "run a 0.412 · run b 0.388 at step 1,200": each run's value at the pointer's x (the
/// nearest point at or before it).
fn values_at_pointer_ui(ui: &mut egui::Ui, curves: &[Curve], x: Option<f64>, axis: CurveAxis) {
    let Some(x) = x else {
        ui.small("Point at the chart for each run's value there.");
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.small(format!("at {}:", x_text(x, axis)));
        let mut any = false;
        for curve in curves {
            let at = curve.points.partition_point(|p| p[0] <= x);
            let Some(point) = at.checked_sub(1).map(|i| curve.points[i]) else {
                continue;
            };
            any = true;
            ui.label(
                RichText::new(format!("{} {}", curve.name, y_text(point[1])))
                    .color(curve.colour)
                    .small(),
            );
        }
        if !any {
            ui.small("before the first point");
        }
    });
}

fn metric_name(metric: CurveMetric) -> &'static str {
    match metric {
        CurveMetric::TrainingLoss => "training loss",
        CurveMetric::ValidationLoss => "validation loss",
        CurveMetric::ValidationScore => "validation accuracy / RMSE",
        CurveMetric::LearningRate => "learning rate",
    }
}

fn axis_name(axis: CurveAxis) -> &'static str {
    match axis {
        CurveAxis::Steps => "steps",
        CurveAxis::Epochs => "epochs",
        CurveAxis::WallTime => "seconds",
    }
}

fn x_text(x: f64, axis: CurveAxis) -> String {
    match axis {
        CurveAxis::Steps => format!("step {}", crate::display::thousands(x.max(0.0) as usize)),
        CurveAxis::Epochs => format!("epoch {x:.2}"),
        CurveAxis::WallTime => crate::display::format_secs(x.max(0.0)),
    }
}

fn y_text(y: f64) -> String {
    if y != 0.0 && y.abs() < 1e-3 {
        format!("{y:.2e}")
    } else {
        format!("{y:.4}")
    }
}

/// Steps per epoch of a run (from its first epoch; 1 when it has none yet).
fn steps_per_epoch(run: &RunCurves) -> f64 {
    run.epochs
        .first()
        .map_or(1.0, |e| e.step.max(1) as f64 / (e.epoch + 1) as f64)
}

fn x_of_step(step: usize, per_epoch: f64, axis: CurveAxis) -> f64 {
    match axis {
        CurveAxis::Epochs => step as f64 / per_epoch,
        CurveAxis::Steps | CurveAxis::WallTime => step as f64,
    }
}

/// A validation figure of an epoch: its loss (the training loss where none was held out),
/// or its accuracy or RMSE.
fn epoch_value(epoch: &crate::train::EpochMetrics, metric: CurveMetric) -> Option<f64> {
    match metric {
        CurveMetric::ValidationLoss => {
            Some(f64::from(epoch.validation_loss.unwrap_or(epoch.train_loss)))
        }
        CurveMetric::ValidationScore => epoch
            .validation_accuracy
            .map(f64::from)
            .or(epoch.validation_rmse.map(f64::from)),
        CurveMetric::TrainingLoss | CurveMetric::LearningRate => None,
    }
    .filter(|v| v.is_finite())
}

/// Epoch points against the axis: epochs end at their step; in seconds, at the sum of the
/// epochs' durations.
fn epoch_curve(
    epochs: &[crate::train::EpochMetrics],
    per_epoch: f64,
    choice: CurveChoice,
    start_secs: f64,
) -> Vec<[f64; 2]> {
    let mut secs = start_secs;
    epochs
        .iter()
        .filter_map(|e| {
            secs += e.duration_secs;
            let x = match choice.axis {
                CurveAxis::WallTime => secs,
                axis @ (CurveAxis::Steps | CurveAxis::Epochs) => x_of_step(e.step, per_epoch, axis),
            };
            epoch_value(e, choice.metric).map(|y| [x, y])
        })
        .collect()
}

fn smoothed(points: Vec<[f64; 2]>, smoothing: f64) -> Vec<[f64; 2]> {
    if smoothing <= 0.0 {
        return points;
    }
    let ys: Vec<f64> = points.iter().map(|p| p[1]).collect();
    points
        .iter()
        .zip(ema(&ys, smoothing))
        .map(|(p, y)| [p[0], y])
        .collect()
}

/// A stored run's line.
fn curve_of_run(run: &RunCurves, choice: CurveChoice) -> Vec<[f64; 2]> {
    let per_epoch = steps_per_epoch(run);
    let rescaled = |points: &[[f64; 2]]| -> Vec<[f64; 2]> {
        points
            .iter()
            .map(|p| [x_of_step(p[0] as usize, per_epoch, choice.axis), p[1]])
            .collect()
    };
    match (choice.metric, choice.axis) {
        (CurveMetric::TrainingLoss, CurveAxis::WallTime) => {
            smoothed(run.loss_by_secs.clone(), choice.smoothing)
        }
        (CurveMetric::TrainingLoss, _) => smoothed(rescaled(&run.loss_by_step), choice.smoothing),
        (CurveMetric::LearningRate, CurveAxis::WallTime) => run.lr_by_secs.clone(),
        (CurveMetric::LearningRate, _) => rescaled(&run.lr_by_step),
        (CurveMetric::ValidationLoss | CurveMetric::ValidationScore, _) => {
            // A fork's or continuation's line starts on its parent's last epoch before it.
            let join = run.join.as_ref();
            let start_secs = join.map_or(0.0, |j| j.epoch_secs);
            let from_parent = join.and_then(|j| {
                let epoch = j.epoch.as_ref()?;
                let x = match choice.axis {
                    CurveAxis::WallTime => j.epoch_secs,
                    axis @ (CurveAxis::Steps | CurveAxis::Epochs) => {
                        x_of_step(epoch.step, per_epoch, axis)
                    }
                };
                epoch_value(epoch, choice.metric).map(|y| [x, y])
            });
            from_parent
                .into_iter()
                .chain(epoch_curve(&run.epochs, per_epoch, choice, start_secs))
                .collect()
        }
    }
}

/// The live run's line, from the window's own metrics (thinned as a stored run's).
fn curve_of_history(history: &MetricsHistory, choice: CurveChoice) -> Vec<[f64; 2]> {
    let per_epoch = history.steps_per_epoch.max(1) as f64;
    let x = |b: &crate::train::BatchMetrics| match choice.axis {
        CurveAxis::WallTime => b.train_secs,
        axis @ (CurveAxis::Steps | CurveAxis::Epochs) => x_of_step(b.step, per_epoch, axis),
    };
    let thin = |points: Vec<[f64; 2]>| {
        downsample_min_max(&points, crate::app::tasks::runs_browser::MAX_CURVE_POINTS)
    };
    match choice.metric {
        CurveMetric::TrainingLoss => {
            let points = history
                .batches
                .iter()
                .filter(|b| b.loss.is_finite())
                .map(|b| [x(b), f64::from(b.loss)])
                .collect();
            smoothed(thin(points), choice.smoothing)
        }
        CurveMetric::LearningRate => thin(
            history
                .batches
                .iter()
                .map(|b| [x(b), b.learning_rate])
                .collect(),
        ),
        CurveMetric::ValidationLoss | CurveMetric::ValidationScore => {
            epoch_curve(&history.epochs, per_epoch, choice, 0.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::EpochMetrics;

    fn epoch(epoch: usize, step: usize, loss: f32, secs: f64) -> EpochMetrics {
        EpochMetrics {
            epoch,
            step,
            train_loss: loss * 2.0,
            train_accuracy: None,
            train_rmse: None,
            validation_loss: Some(loss),
            validation_accuracy: Some(1.0 - loss),
            validation_rmse: None,
            validation_mae: None,
            images_per_sec: 1.0,
            duration_secs: secs,
        }
    }

    #[test]
    fn epoch_points_sit_at_their_step_their_epoch_or_their_seconds() {
        let epochs = [epoch(0, 50, 0.5, 2.0), epoch(1, 100, 0.25, 3.0)];
        let choice = |axis| CurveChoice {
            metric: CurveMetric::ValidationLoss,
            axis,
            smoothing: 0.0,
        };
        assert_eq!(
            epoch_curve(&epochs, 50.0, choice(CurveAxis::Steps), 0.0),
            [[50.0, 0.5], [100.0, 0.25]]
        );
        assert_eq!(
            epoch_curve(&epochs, 50.0, choice(CurveAxis::Epochs), 0.0),
            [[1.0, 0.5], [2.0, 0.25]]
        );
        assert_eq!(
            epoch_curve(&epochs, 50.0, choice(CurveAxis::WallTime), 0.0),
            [[2.0, 0.5], [5.0, 0.25]]
        );
        let score = CurveChoice {
            metric: CurveMetric::ValidationScore,
            ..choice(CurveAxis::Steps)
        };
        assert_eq!(
            epoch_curve(&epochs, 50.0, score, 0.0),
            [[50.0, 0.5], [100.0, 0.75]]
        );
    }
}
