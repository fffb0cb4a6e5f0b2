//! Optimizer, hyperparameters and run settings.

use eframe::egui::{self, DragValue, Slider};

use crate::app::command::AppCommand;
use crate::app::views::tokens;
use crate::data::Augmentation;
use crate::optim::{OptimizerConfig, Plateau, Schedule, MAX_LEARNING_RATE, OPTIMIZER_NAMES};
use crate::train::{EarlyStopping, TrainConfig, MAX_BATCH_SIZE, MAX_EPOCHS};

/// Settings are locked while a run is active, except the learning rate, which is sent to
/// the running job.
pub fn optimizer_ui(
    ui: &mut egui::Ui,
    config: &mut TrainConfig,
    training_active: bool,
    steps_per_epoch: Option<usize>,
    commands: &mut Vec<AppCommand>,
) {
    let lr_before = config.optimizer.learning_rate();
    ui.add_enabled_ui(!training_active, |ui| {
        let current = config.optimizer.name();
        let mut chosen = current;
        egui::ComboBox::from_label("Optimizer")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for name in OPTIMIZER_NAMES {
                    ui.selectable_value(&mut chosen, name, name);
                }
            });
        if chosen != current {
            if let Some(mut fresh) = OptimizerConfig::default_for(chosen) {
                fresh.set_learning_rate(config.optimizer.learning_rate());
                config.optimizer = fresh;
            }
        }
    });

    let mut lr = config.optimizer.learning_rate();
    ui.add(
        Slider::new(&mut lr, 1e-5..=MAX_LEARNING_RATE.min(1.0))
            .logarithmic(true)
            .text("Learning rate"),
    );
    config.optimizer.set_learning_rate(lr);
    if training_active && lr != lr_before {
        commands.push(AppCommand::SetLearningRate(lr));
    }

    ui.add_enabled_ui(!training_active, |ui| {
        hyperparameters_ui(ui, &mut config.optimizer);
        ui.separator();
        egui::Grid::new("run_settings")
            .num_columns(2)
            .show(ui, |ui| {
                labelled(
                    ui,
                    "Batch size",
                    DragValue::new(&mut config.batch_size).range(1..=MAX_BATCH_SIZE),
                );
                labelled(
                    ui,
                    "Epochs",
                    DragValue::new(&mut config.epochs).range(1..=MAX_EPOCHS),
                );
                labelled(ui, "Seed", DragValue::new(&mut config.seed));
                schedule_ui(ui, config);
                early_stopping_ui(ui, config);
                augmentation_ui(ui, config);
            });
    });
    if let Err(error) = config.optimizer.validate() {
        ui.colored_label(tokens::ERROR, error.to_string());
    }
    if let Some(steps_per_epoch) = steps_per_epoch {
        schedule_preview_ui(ui, config, steps_per_epoch);
    }
}

/// The learning rate over the whole run, as the schedule will set it (before training).
fn schedule_preview_ui(ui: &mut egui::Ui, config: &TrainConfig, steps_per_epoch: usize) {
    /// Points drawn at most, spread over the run.
    const PREVIEW_POINTS: usize = 300;
    if config.schedule.validate().is_err() {
        return;
    }
    let base = config.optimizer.learning_rate();
    let preview = config
        .schedule
        .preview(base, steps_per_epoch, config.epochs, PREVIEW_POINTS);
    let plateau = matches!(config.schedule.schedule, Schedule::Plateau(_));
    ui.label(if plateau {
        "Learning rate over the run (lowered when the validation loss stalls)"
    } else {
        "Learning rate over the run"
    });
    egui_plot::Plot::new("schedule-preview")
        .height(90.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_y(0.0)
        .x_axis_label("epoch")
        .x_grid_spacer(super::plot_axes::labelled_marks)
        .x_axis_formatter(super::plot_axes::mark_text)
        .show(ui, |plot| {
            plot.line(egui_plot::Line::new("learning rate", preview).color(tokens::TRAIN_LOSS));
        });
}

/// The learning-rate schedule: the common ones with PyTorch's defaults (the CLI has them all
/// with every parameter).
fn schedule_ui(ui: &mut egui::Ui, config: &mut TrainConfig) {
    ui.label("Schedule");
    let current = config.schedule.schedule.name();
    let mut chosen = current;
    egui::ComboBox::from_id_salt("schedule")
        .selected_text(current)
        .show_ui(ui, |ui| {
            for name in ["constant", "onecycle", "cosine", "plateau"] {
                ui.selectable_value(&mut chosen, name, name);
            }
        })
        .response
        .on_hover_text("How the learning rate changes over the run (the slider sets its base, OneCycle's peak)");
    if chosen != current {
        config.schedule.schedule = match chosen {
            "onecycle" => Schedule::one_cycle(),
            "cosine" => Schedule::Cosine {
                t_max: 0,
                eta_min: 0.0,
            },
            "plateau" => Schedule::Plateau(Plateau::default()),
            _ => Schedule::Constant,
        };
    }
    ui.end_row();
}

/// Early stopping on the validation loss, keeping the best epoch.
fn early_stopping_ui(ui: &mut egui::Ui, config: &mut TrainConfig) {
    let mut on = config.early_stopping.is_some();
    ui.checkbox(&mut on, "Stop early")
        .on_hover_text("Stop when the validation loss has not improved for this many epochs, and keep the best epoch's weights");
    match (on, &mut config.early_stopping) {
        (true, Some(rule)) => {
            ui.add(
                DragValue::new(&mut rule.patience)
                    .range(1..=100)
                    .suffix(" epochs"),
            );
        }
        (true, None) => {
            config.early_stopping = Some(EarlyStopping::default());
            ui.label("");
        }
        (false, _) => {
            config.early_stopping = None;
            ui.label("");
        }
    }
    ui.end_row();
}

/// Augmentation of training images: on with the mnist-99 recipe's rotation, shift and zoom,
/// or off (the CLI's --augment sets every part).
fn augmentation_ui(ui: &mut egui::Ui, config: &mut TrainConfig) {
    let mut on = config.augmentation.is_some();
    ui.checkbox(&mut on, "Augment").on_hover_text(
        "Random changes to each training image (images only; never validation or test)",
    );
    if on && config.augmentation.is_none() {
        config.augmentation = Some(Augmentation {
            rotate: 10.0,
            translate: 0.1,
            scale: 0.1,
            ..Augmentation::default()
        });
    } else if !on {
        config.augmentation = None;
    }
    ui.label(
        config
            .augmentation
            .map_or_else(|| "off".to_string(), |a| a.describe()),
    );
    ui.end_row();
}

fn hyperparameters_ui(ui: &mut egui::Ui, optimizer: &mut OptimizerConfig) {
    egui::Grid::new("hyperparameters")
        .num_columns(2)
        .show(ui, |ui| match optimizer {
            OptimizerConfig::Sgd {
                momentum,
                dampening,
                nesterov,
                weight_decay,
                ..
            } => {
                labelled(
                    ui,
                    "Momentum",
                    DragValue::new(momentum).speed(0.01).range(0.0..=0.999),
                );
                labelled(
                    ui,
                    "Dampening",
                    DragValue::new(dampening).speed(0.01).range(0.0..=0.999),
                );
                ui.label("");
                ui.checkbox(nesterov, "Nesterov");
                ui.end_row();
                labelled(
                    ui,
                    "Weight decay",
                    DragValue::new(weight_decay).speed(1e-4).range(0.0..=1.0),
                );
            }
            OptimizerConfig::Adam {
                betas,
                eps,
                weight_decay,
                ..
            }
            | OptimizerConfig::AdamW {
                betas,
                eps,
                weight_decay,
                ..
            } => {
                labelled(
                    ui,
                    "Beta 1",
                    DragValue::new(&mut betas[0])
                        .speed(0.001)
                        .range(0.0..=0.9999),
                );
                labelled(
                    ui,
                    "Beta 2",
                    DragValue::new(&mut betas[1])
                        .speed(0.0001)
                        .range(0.0..=0.99999),
                );
                labelled(
                    ui,
                    "Epsilon",
                    DragValue::new(eps).speed(1e-9).range(1e-12..=1e-2),
                );
                labelled(
                    ui,
                    "Weight decay",
                    DragValue::new(weight_decay).speed(1e-4).range(0.0..=1.0),
                );
            }
            OptimizerConfig::RmsProp {
                alpha,
                eps,
                weight_decay,
                momentum,
                centered,
                ..
            } => {
                labelled(
                    ui,
                    "Alpha",
                    DragValue::new(alpha).speed(0.001).range(0.0..=0.9999),
                );
                labelled(
                    ui,
                    "Epsilon",
                    DragValue::new(eps).speed(1e-9).range(1e-12..=1e-2),
                );
                labelled(
                    ui,
                    "Momentum",
                    DragValue::new(momentum).speed(0.01).range(0.0..=0.999),
                );
                labelled(
                    ui,
                    "Weight decay",
                    DragValue::new(weight_decay).speed(1e-4).range(0.0..=1.0),
                );
                ui.label("");
                ui.checkbox(centered, "Centered");
                ui.end_row();
            }
        });
}

/// A grid row: a label and the widget it names (screen readers and kittest find it by label).
fn labelled(ui: &mut egui::Ui, name: &str, widget: impl egui::Widget) {
    let label = ui.label(name);
    ui.add(widget).labelled_by(label.id);
    ui.end_row();
}
