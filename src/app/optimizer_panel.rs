//! Optimizer, hyperparameters and run settings.

use eframe::egui::{self, DragValue, Slider};

use super::command::AppCommand;
use super::tokens;
use crate::optim::{OptimizerConfig, MAX_LEARNING_RATE, OPTIMIZER_NAMES};
use crate::train::{TrainConfig, MAX_BATCH_SIZE, MAX_EPOCHS};

/// Settings are locked while a run is active, except the learning rate, which is sent to
/// the running job.
pub fn optimizer_ui(
    ui: &mut egui::Ui,
    config: &mut TrainConfig,
    training_active: bool,
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
            });
    });
    if let Err(error) = config.optimizer.validate() {
        ui.colored_label(tokens::ERROR, error.to_string());
    }
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
