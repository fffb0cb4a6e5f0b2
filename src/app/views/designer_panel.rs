//! The layer-stack designer: edit layers, see shapes and parameter counts, live.

use eframe::egui::{self, DragValue, RichText};

use crate::app::command::AppCommand;
use crate::app::views::stack_editor::{layer_templates, StackEditor};
use crate::app::views::text_measure::text_width;
use crate::app::views::tokens;
use crate::app::DataShape;
use crate::presets::PRESET_NAMES;
use crate::spec::{check_layers, validate, Layer, ModelSpec};

/// What a row's buttons asked for, applied after the rows are drawn.
enum RowAction {
    Up(usize),
    Down(usize),
    Duplicate(usize),
    Remove(usize),
}

/// Transient choices of the designer (not persisted).
#[derive(Default)]
pub struct DesignerChoices {
    pub new_layer: usize,
    /// Which preset the stack is, for the preset box ("custom" when none).
    stack_preset: StackPreset,
}

/// The preset a stack was last found to be, and the stack and outputs it was checked for:
/// checked again only when they change (not every frame).
#[derive(Default)]
struct StackPreset {
    checked: Option<(ModelSpec, usize)>,
    name: Option<&'static str>,
}

impl DesignerChoices {
    /// The preset `spec` is when sized for `outputs` values (its last layer), if any.
    pub fn stack_preset(&mut self, spec: &ModelSpec, outputs: usize) -> Option<&'static str> {
        let known = &mut self.stack_preset;
        if known.checked.as_ref() != Some(&(spec.clone(), outputs)) {
            known.name = PRESET_NAMES.iter().copied().find(|name| {
                crate::presets::preset(name).is_some_and(|p| p.with_outputs(outputs).spec == *spec)
            });
            known.checked = Some((spec.clone(), outputs));
        }
        known.name
    }
}

/// What the preset box says of a stack that is no preset.
pub const CUSTOM_STACK: &str = "custom";

/// The width of a layer row's Up, Down, Copy and Remove buttons side by side.
const ROW_BUTTONS_WIDTH: f32 = 215.0;

pub fn designer_ui(
    ui: &mut egui::Ui,
    spec: &mut ModelSpec,
    shape: &DataShape,
    editor: &StackEditor,
    choices: &mut DesignerChoices,
    commands: &mut Vec<AppCommand>,
) {
    let stack_preset = choices.stack_preset(spec, shape.outputs);
    preset_row_ui(ui, shape, stack_preset, editor, commands);
    ui.label(format!("Input: {} ({})", shape.input, shape.description));

    let (plans, first_error) = check_layers(spec, shape.input);
    let buttons_beside = row_buttons_fit_beside_names(ui, spec);
    let mut action = None;
    for index in 0..spec.layers.len() {
        ui.push_id(index, |ui| {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                let last = spec.layers.len() - 1;
                let mut buttons = |ui: &mut egui::Ui| {
                    if let Some(clicked) = row_buttons_ui(ui, index, last) {
                        action = Some(clicked);
                    }
                };
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(format!("{index}  {}", spec.layers[index].kind_name()))
                            .strong(),
                    );
                    if buttons_beside {
                        buttons(ui);
                    }
                });
                if !buttons_beside {
                    ui.horizontal(|ui| buttons(ui));
                }
                // The output shape on its own line, so the buttons never cover it, even at
                // the narrowest panel.
                ui.horizontal_wrapped(|ui| {
                    if has_settings(&spec.layers[index]) {
                        layer_fields_ui(ui, &mut spec.layers[index]);
                    }
                    match plans.get(index) {
                        Some(plan) if plan.parameters > 0 => ui.weak(format!(
                            "-> {}, {} params",
                            plan.output,
                            crate::display::thousands(plan.parameters)
                        )),
                        Some(plan) => ui.weak(format!("-> {}", plan.output)),
                        None => ui.weak("-> ?"),
                    };
                });
                if let Some(error) = first_error.as_ref().filter(|e| e.layer == Some(index)) {
                    ui.colored_label(tokens::ERROR, &error.message);
                }
            });
        });
    }
    match action {
        Some(RowAction::Up(i)) => spec.layers.swap(i, i - 1),
        Some(RowAction::Down(i)) => spec.layers.swap(i, i + 1),
        Some(RowAction::Duplicate(i)) => {
            let copy = spec.layers[i].clone();
            spec.layers.insert(i + 1, copy);
        }
        Some(RowAction::Remove(i)) => {
            spec.layers.remove(i);
        }
        None => {}
    }
    new_layer_ui(ui, spec, choices);
    ui.separator();
    verdict_ui(ui, spec, shape, first_error.is_none(), commands);
}

/// The preset box (the presets made for this dataset first), Load preset, Undo and Redo.
/// The preset box (what the stack is; picking one loads it, undoably) and Undo, Redo.
fn preset_row_ui(
    ui: &mut egui::Ui,
    shape: &DataShape,
    stack_preset: Option<&'static str>,
    editor: &StackEditor,
    commands: &mut Vec<AppCommand>,
) {
    let fitting = &shape.presets;
    // The presets that suit the data in their order (best first), then the rest.
    let order = fitting.iter().copied().chain(
        PRESET_NAMES
            .iter()
            .copied()
            .filter(|name| !fitting.contains(name)),
    );
    let made_for = if crate::data::builtin(&shape.name).is_some() {
        "made for"
    } else {
        "suits"
    };
    // Wrapped: at the narrowest panel Undo and Redo go to a line of their own rather than
    // widening the panel's content past its edge (which cut every layer row's buttons).
    ui.horizontal_wrapped(|ui| {
        let mut picked = stack_preset;
        let shown = stack_preset.unwrap_or(CUSTOM_STACK);
        // Wide enough for the name shown ("mlp-regressor-robust" was cut at the default).
        let spacing = ui.spacing();
        let width = (text_width(ui, shown, egui::TextStyle::Button)
            + spacing.icon_width
            + spacing.icon_spacing
            + 2.0 * spacing.button_padding.x
            + 8.0)
            .max(spacing.combo_width);
        egui::ComboBox::from_label("Preset")
            .width(width)
            .selected_text(shown)
            .show_ui(ui, |ui| {
                for name in order {
                    let label = if fitting.contains(&name) {
                        format!("{name}  ({made_for} {})", shape.name)
                    } else {
                        name.to_string()
                    };
                    ui.selectable_value(&mut picked, Some(name), label);
                }
            })
            .response
            .on_hover_text("The preset the stack is. Pick one to load its stack and training settings (Undo brings yours back).");
        if let Some(name) = picked.filter(|_| picked != stack_preset) {
            commands.push(AppCommand::LoadPreset(name));
        }
        ui.separator();
        if ui
            .add_enabled(editor.can_undo(), egui::Button::new("Undo"))
            .clicked()
        {
            commands.push(AppCommand::Undo);
        }
        if ui
            .add_enabled(editor.can_redo(), egui::Button::new("Redo"))
            .clicked()
        {
            commands.push(AppCommand::Redo);
        }
    });
}

/// One choice for every row, so the buttons line up: beside the names when the widest name
/// leaves them room, else on a line of their own (never over a name).
fn row_buttons_fit_beside_names(ui: &egui::Ui, spec: &ModelSpec) -> bool {
    let widest_name = spec
        .layers
        .iter()
        .enumerate()
        .map(|(index, layer)| {
            let text = format!("{index}  {}", layer.kind_name());
            text_width(ui, &text, egui::TextStyle::Body)
        })
        .fold(0.0, f32::max);
    let row_inner_width = ui.available_width() - 2.0 * ui.style().spacing.window_margin.leftf();
    row_inner_width - widest_name - ui.spacing().item_spacing.x >= ROW_BUTTONS_WIDTH
}

/// A layer row's Up, Down, Copy and Remove, right-aligned; what was clicked.
fn row_buttons_ui(ui: &mut egui::Ui, index: usize, last: usize) -> Option<RowAction> {
    let mut action = None;
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        if ui
            .small_button("Remove")
            .on_hover_text(format!("Remove layer {index}"))
            .clicked()
        {
            action = Some(RowAction::Remove(index));
        }
        if ui
            .small_button("Copy")
            .on_hover_text(format!("Duplicate layer {index}"))
            .clicked()
        {
            action = Some(RowAction::Duplicate(index));
        }
        if ui
            .add_enabled(index < last, egui::Button::new("Down").small())
            .on_hover_text(format!("Move layer {index} down"))
            .clicked()
        {
            action = Some(RowAction::Down(index));
        }
        if ui
            .add_enabled(index > 0, egui::Button::new("Up").small())
            .on_hover_text(format!("Move layer {index} up"))
            .clicked()
        {
            action = Some(RowAction::Up(index));
        }
    });
    action
}

/// The "New layer" box and Add layer.
fn new_layer_ui(ui: &mut egui::Ui, spec: &mut ModelSpec, choices: &mut DesignerChoices) {
    let templates = layer_templates();
    ui.horizontal(|ui| {
        let choice = choices.new_layer.min(templates.len() - 1);
        egui::ComboBox::from_label("New layer")
            .selected_text(templates[choice].kind_name())
            .show_ui(ui, |ui| {
                for (i, template) in templates.iter().enumerate() {
                    ui.selectable_value(&mut choices.new_layer, i, template.kind_name());
                }
            });
        if ui.button("Add layer").clicked() {
            spec.layers.push(templates[choice].clone());
        }
    });
}

/// The stack's warnings and whether it can train, with the one-click fix for its outputs.
fn verdict_ui(
    ui: &mut egui::Ui,
    spec: &ModelSpec,
    shape: &DataShape,
    shapes_fit: bool,
    commands: &mut Vec<AppCommand>,
) {
    let classes = shape.outputs;
    for warning in crate::spec::stack_warnings(spec) {
        ui.colored_label(tokens::WARNING, format!("Warning: {warning}"));
    }
    match validate(spec, shape.input, classes) {
        Ok(plan) => {
            ui.colored_label(
                tokens::OK,
                format!(
                    "Ready to train: {} parameters, {} outputs",
                    crate::display::thousands(plan.total_parameters()),
                    plan.output()
                ),
            );
        }
        Err(error) => {
            ui.colored_label(tokens::ERROR, format!("Cannot train: {error}"));
            // The shapes fit but the outputs do not: one click sizes the last layer.
            if shapes_fit && !spec.layers.is_empty() {
                let label = format!("End with {classes} outputs");
                if ui
                    .button(label)
                    .on_hover_text(format!(
                        "Set the last Linear layer to {classes} outputs for {}",
                        shape.description
                    ))
                    .clicked()
                {
                    commands.push(AppCommand::FitOutputs);
                }
            }
        }
    }
}

/// Whether a layer has settings to edit (activations like ReLU have none).
fn has_settings(layer: &Layer) -> bool {
    !matches!(
        layer,
        Layer::Flatten | Layer::ReLU | Layer::Sigmoid | Layer::Tanh | Layer::GELU
    )
}

/// The editable parameters of one layer.
fn layer_fields_ui(ui: &mut egui::Ui, layer: &mut Layer) {
    match layer {
        Layer::Linear { out_features } => {
            size_field(ui, "out_features", out_features, 1..=16_384);
        }
        Layer::Conv2d {
            out_channels,
            kernel_size,
            stride,
            padding,
        } => {
            size_field(ui, "out_channels", out_channels, 1..=1_024);
            size_field(ui, "kernel_size", kernel_size, 1..=64);
            size_field(ui, "stride", stride, 1..=16);
            size_field(ui, "padding", padding, 0..=32);
        }
        Layer::MaxPool2d {
            kernel_size,
            stride,
        }
        | Layer::AvgPool2d {
            kernel_size,
            stride,
        } => {
            size_field(ui, "kernel_size", kernel_size, 1..=64);
            let mut value = stride.unwrap_or(*kernel_size);
            if size_field(ui, "stride", &mut value, 1..=64) {
                *stride = Some(value);
            }
        }
        Layer::LeakyReLU { negative_slope } => {
            let label = ui.label("slope");
            ui.add(DragValue::new(negative_slope).speed(0.001).range(0.0..=1.0))
                .labelled_by(label.id);
        }
        Layer::Dropout { p } => {
            let label = ui.label("p");
            ui.add(DragValue::new(p).speed(0.01).range(0.0..=0.95))
                .labelled_by(label.id);
        }
        Layer::BatchNorm1d { eps, momentum } | Layer::BatchNorm2d { eps, momentum } => {
            let label = ui.label("eps");
            ui.add(
                DragValue::new(eps)
                    .speed(1e-6)
                    .range(1e-8..=0.1)
                    .custom_formatter(|v, _| f32_scientific(v)),
            )
            .labelled_by(label.id);
            let label = ui.label("momentum");
            ui.add(DragValue::new(momentum).speed(0.01).range(0.0..=1.0))
                .labelled_by(label.id);
        }
        Layer::Flatten | Layer::ReLU | Layer::Sigmoid | Layer::Tanh | Layer::GELU => {}
    }
}

/// An f32 setting in scientific notation, in the f32's own shortest form: `1e-5`, not the
/// `9.999999747378752e-6` of the f64 that DragValue widens it to.
fn f32_scientific(value: f64) -> String {
    format!("{:e}", value as f32)
}

/// A labelled integer field; true when it changed.
fn size_field(
    ui: &mut egui::Ui,
    name: &str,
    value: &mut usize,
    range: std::ops::RangeInclusive<usize>,
) -> bool {
    let label = ui.label(name);
    ui.add(DragValue::new(value).speed(0.1).range(range))
        .labelled_by(label.id)
        .changed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_norm_eps_reads_as_typed() {
        assert_eq!(f32_scientific(f64::from(1e-5f32)), "1e-5");
        assert_eq!(f32_scientific(f64::from(1e-3f32)), "1e-3");
    }
}
