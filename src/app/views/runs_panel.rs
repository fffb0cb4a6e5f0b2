//! The Runs tab: every run in the store, newest first (a virtual list), and for the runs
//! ticked their validation curves overlaid by epoch and what differs between them (the
//! settings that differ and the layer stacks diffed, the engine's `runs compare`).

use eframe::egui::{self, Color32, RichText};

use crate::app::command::AppCommand;
use crate::app::tasks::continuation::RunPoint;
use crate::app::tasks::runs_browser::{RunColumn, RunEdit, RunsBrowser};
use crate::app::views::tokens;
use crate::display::{decimal, format_secs};
use crate::store::{Comparison, LayerOp, RunRow};

/// How often the list is read again while a run in it is being trained.
const LIVE_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);
/// How often it is read again otherwise, while the tab is open.
const IDLE_REFRESH: std::time::Duration = std::time::Duration::from_secs(10);

use super::run_curves::{run_colour, LiveRun};

/// The list's columns: title, width in points (the stack takes the rest), sort key.
const COLUMNS: [(&str, f32, RunColumn); 7] = [
    ("run", 150.0, RunColumn::Name),
    ("status", 90.0, RunColumn::Status),
    ("dataset", 90.0, RunColumn::Dataset),
    ("epochs", 50.0, RunColumn::Epochs),
    ("best val.", 70.0, RunColumn::BestValidation),
    ("test", 70.0, RunColumn::Test),
    ("time", 50.0, RunColumn::Time),
];

/// What the window is doing with runs, for the tab.
pub struct RunsContext<'a> {
    /// The point of a run whose checkpoint is the current model.
    pub tried: Option<RunPoint>,
    /// A run trains or waits to start here (Resume and Fork wait).
    pub busy: bool,
    /// The run training in the window, always on the chart.
    pub live: Option<LiveRun<'a>>,
}

pub fn runs_ui(
    ui: &mut egui::Ui,
    browser: &mut RunsBrowser,
    context: RunsContext<'_>,
    commands: &mut Vec<AppCommand>,
) {
    ui.horizontal(|ui| {
        let count = match &browser.runs {
            Some(Ok(runs)) if runs.len() == 1 => "1 run recorded".to_string(),
            Some(Ok(runs)) => format!(
                "{} runs recorded, newest first",
                crate::display::thousands(runs.len())
            ),
            Some(Err(_)) | None => "Runs recorded".to_string(),
        };
        ui.label(count);
        if ui.button("Refresh").clicked() {
            commands.push(AppCommand::RefreshRuns);
        }
        if browser.is_loading() {
            ui.spinner();
        }
        let ticked = browser.selected.len();
        if ticked > 0
            && ui
                .button(if ticked == 1 {
                    "Delete run".to_string()
                } else {
                    format!("Delete {ticked} runs")
                })
                .on_hover_text("Its record, curves and checkpoints (Undo for 10 s)")
                .clicked()
        {
            commands.push(AppCommand::DeleteTickedRuns);
        }
        if let Some(deleted) = &browser.deleted {
            let count = deleted.ids.len();
            ui.label(if count == 1 {
                "1 run deleted.".to_string()
            } else {
                format!("{count} runs deleted.")
            });
            if ui.button("Undo delete").clicked() {
                commands.push(AppCommand::UndoDeleteRuns);
            }
        }
        if let Some(error) = &browser.delete_error {
            ui.colored_label(tokens::ERROR, error);
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Filter");
        ui.add(
            egui::TextEdit::singleline(&mut browser.filter)
                .hint_text("name, dataset, status, tag, layer…")
                .desired_width(220.0),
        )
        .labelled_by(label.id);
    });
    // Read again now and then: a run being trained (here or by `layerlab train`) is followed
    // every 2 s, and a run started elsewhere appears within 10 s.
    if browser.is_stale(LIVE_REFRESH, IDLE_REFRESH) {
        commands.push(AppCommand::RefreshRuns);
    }
    ui.ctx().request_repaint_after(if browser.has_live_run() {
        LIVE_REFRESH
    } else {
        IDLE_REFRESH
    });
    let shown = browser.shown().to_vec();
    let mut choices = Choices {
        curves: browser.curves,
        hparams: browser.hparams.clone(),
    };
    draw_runs(ui, browser, &shown, &context, &mut choices, commands);
    browser.curves = choices.curves;
    browser.hparams = choices.hparams;
}

/// The charts' choices, changed while the tab draws.
struct Choices {
    curves: super::run_curves::CurveChoice,
    hparams: super::run_hparams::HParamChoice,
}

/// The tab below its title and filter: the list, the ticked run's form, the chart and what
/// differs.
fn draw_runs(
    ui: &mut egui::Ui,
    browser: &RunsBrowser,
    shown: &[usize],
    context: &RunsContext<'_>,
    choices: &mut Choices,
    commands: &mut Vec<AppCommand>,
) {
    let runs = match &browser.runs {
        Some(Ok(runs)) => runs,
        Some(Err(why)) => {
            ui.colored_label(tokens::ERROR, format!("Cannot read the run store: {why}"));
            return;
        }
        None => return,
    };
    if runs.is_empty() {
        ui.label("No run yet: every run trained here or with `layerlab train` is listed here.");
        return;
    }
    ui.small("Tick runs to overlay their curves; tick two or more to see what differs; click a column's title to sort.");
    list_ui(ui, runs, shown, browser, commands);
    if let Some(form) = &browser.form {
        edit_ui(ui, form, browser.edit_error.as_deref(), commands);
        if let Some(run) = runs.iter().find(|r| r.id == form.id) {
            // Known only when this run is the one ticked (two or more list no checkpoints).
            let checkpoints = match &browser.selection {
                Some(Ok(selection))
                    if selection.runs.len() == 1 && selection.runs[0].row.id == run.id =>
                {
                    Some(selection.checkpoints.len())
                }
                _ => None,
            };
            resume_ui(ui, run, checkpoints, context, commands);
        }
        if let Some(Ok(selection)) = &browser.selection {
            if let (Some(trained_by), Some(run)) = (
                &selection.trained_by,
                selection.runs.first().filter(|r| r.row.id == form.id),
            ) {
                let parent = run.row.parent_id.as_deref().unwrap_or("a run");
                ui.label(format!(
                    "Trained by {trained_by} from an export of run {parent}, brought back by `layerlab runs import`."
                ));
            }
            checkpoints_ui(ui, &form.id, &selection.checkpoints, context, commands);
        }
    }
    ui.separator();
    let live = || {
        context.live.as_ref().map(|l| LiveRun {
            id: l.id,
            history: l.history,
        })
    };
    match &browser.selection {
        Some(Ok(selection)) => {
            let checkpoints = browser
                .form
                .as_ref()
                .map(|form| (form.id.as_str(), selection.checkpoints.as_slice()));
            egui::ScrollArea::both()
                .id_salt("runs-selection")
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    super::run_curves::curves_ui(
                        ui,
                        &mut choices.curves,
                        &selection.runs,
                        live(),
                        checkpoints,
                        commands,
                    );
                    if let Some(comparison) = &selection.comparison {
                        ui.separator();
                        differences_ui(ui, comparison);
                        super::run_hparams::hparams_ui(ui, comparison, &mut choices.hparams);
                    }
                });
        }
        None if context.live.is_some() => {
            super::run_curves::curves_ui(ui, &mut choices.curves, &[], live(), None, commands);
        }
        Some(Err(why)) => {
            ui.colored_label(tokens::ERROR, format!("Cannot read the runs: {why}"));
        }
        None => {}
    }
}

/// The runs as a virtual list: only the rows in view are laid out.
fn list_ui(
    ui: &mut egui::Ui,
    runs: &[RunRow],
    shown: &[usize],
    browser: &RunsBrowser,
    commands: &mut Vec<AppCommand>,
) {
    egui::ScrollArea::horizontal()
        .id_salt("runs-columns")
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let shown_ids = || shown.iter().map(|&i| &runs[i].id);
                let mut all =
                    !shown.is_empty() && shown_ids().all(|id| browser.selected.contains(id));
                if ui
                    .checkbox(&mut all, "")
                    .on_hover_text("Tick every run shown (the filter's), or untick them")
                    .changed()
                {
                    commands.push(AppCommand::TickShown(all));
                }
                for (title, width, column) in COLUMNS {
                    let (sorted_by, ascending) = browser.sort;
                    let arrow = match (sorted_by == column, ascending) {
                        (true, true) => " ^",
                        (true, false) => " v",
                        (false, _) => "",
                    };
                    let title = RichText::new(format!("{title}{arrow}")).strong();
                    if cell(
                        ui,
                        width,
                        egui::Label::new(title).sense(egui::Sense::click()),
                    )
                    .on_hover_text("Sort by this column (again: the other way)")
                    .clicked()
                    {
                        let ascending = if sorted_by == column {
                            !ascending
                        } else {
                            column.ascending_first()
                        };
                        commands.push(AppCommand::SortRuns(column, ascending));
                    }
                }
                ui.label(RichText::new("stack").strong());
            });
            let row_height = ui.spacing().interact_size.y + 2.0;
            let list_height = (ui.available_height() * 0.4).clamp(4.0 * row_height, 280.0);
            egui::ScrollArea::vertical()
                .id_salt("runs-list")
                .max_height(list_height)
                .auto_shrink([false, true])
                .show_rows(ui, row_height, shown.len(), |ui, visible| {
                    for &index in &shown[visible] {
                        row_ui(ui, &runs[index], browser, commands);
                    }
                });
        });
}

fn row_ui(ui: &mut egui::Ui, run: &RunRow, browser: &RunsBrowser, commands: &mut Vec<AppCommand>) {
    ui.horizontal(|ui| {
        let mut ticked = browser.selected.contains(&run.id);
        let colour = browser
            .selected
            .iter()
            .position(|id| id == &run.id)
            .map(run_colour);
        if ui.checkbox(&mut ticked, "").changed() {
            commands.push(AppCommand::ToggleRun(run.id.clone()));
        }
        let name = RichText::new(&run.name);
        let name = match colour {
            Some(colour) => name.color(colour).strong(),
            None => name,
        };
        let cells = [
            status_text(run),
            run.dataset.clone(),
            format!("{}/{}", run.epochs_completed, run.epochs),
            best_validation(run),
            test_metric(run),
            format_secs(run.train_secs),
        ];
        let tags = if run.tags.is_empty() {
            String::new()
        } else {
            format!("\ntags: {}", run.tags.join(", "))
        };
        cell(ui, COLUMNS[0].1, egui::Label::new(name).truncate())
            .on_hover_text(format!("{} ({}){tags}", run.name, run.id));
        for (text, (_, width, _)) in cells.into_iter().zip(&COLUMNS[1..]) {
            cell(ui, *width, egui::Label::new(text).truncate());
        }
        ui.add(egui::Label::new(RichText::new(&run.stack).small()).truncate());
    });
}

/// The one ticked run's name, tags and note, saved to the store with Save.
fn edit_ui(
    ui: &mut egui::Ui,
    form: &crate::app::tasks::runs_browser::EditForm,
    error: Option<&str>,
    commands: &mut Vec<AppCommand>,
) {
    let mut edited = form.clone();
    egui::Grid::new("run-edit").num_columns(2).show(ui, |ui| {
        for (title, text) in [
            ("Name", &mut edited.name),
            ("Tags (commas)", &mut edited.tags),
            ("Note", &mut edited.note),
        ] {
            let label = ui.label(title);
            ui.add(egui::TextEdit::singleline(text).desired_width(320.0))
                .labelled_by(label.id);
            ui.end_row();
        }
    });
    if edited != *form {
        commands.push(AppCommand::EditRunForm(Box::new(edited.clone())));
    }
    ui.horizontal(|ui| {
        if ui.button("Save").clicked() {
            let id = edited.id.clone();
            let tags: Vec<String> = edited
                .tags
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            commands.push(AppCommand::EditRun(
                id,
                RunEdit {
                    name: edited.name.clone(),
                    tags,
                    note: edited.note.clone(),
                },
            ));
        }
        if let Some(error) = error {
            ui.colored_label(tokens::ERROR, format!("Not saved: {error}"));
        }
    });
}

/// Resume, for a run that stopped or was interrupted (its own record goes on from its last
/// checkpoint).
/// `checkpoints`: how many the run has, once read. One that stopped before its first
/// checkpoint has nothing to resume from, and says so rather than offering Resume.
fn resume_ui(
    ui: &mut egui::Ui,
    run: &RunRow,
    checkpoints: Option<usize>,
    context: &RunsContext,
    commands: &mut Vec<AppCommand>,
) {
    if !matches!(run.status.as_str(), "stopped" | "interrupted") {
        return;
    }
    let ended = format!(
        "This run {} at step {}",
        if run.status == "stopped" {
            "was stopped"
        } else {
            "was interrupted"
        },
        crate::display::thousands(run.last_step)
    );
    if checkpoints == Some(0) {
        ui.label(format!(
            "{ended}, before its first checkpoint (one is written at each epoch's end): there \
             is nothing to resume from. Train starts it afresh."
        ));
        return;
    }
    ui.horizontal(|ui| {
        let resume = ui.add_enabled(!context.busy, egui::Button::new("Resume"));
        if resume
            .on_hover_text("Go on from its last checkpoint, as it was recorded, in its own record")
            .on_disabled_hover_text("Wait for the run going on here to end")
            .clicked()
        {
            commands.push(AppCommand::ResumeRun(run.id.clone()));
        }
        ui.label(format!("{ended}."));
    });
}

/// The one ticked run's checkpoints: a click tries that point of the run in the window (the
/// arrow keys step to the one before or after), and the one tried can be forked.
fn checkpoints_ui(
    ui: &mut egui::Ui,
    id: &str,
    checkpoints: &[crate::store::CheckpointRow],
    context: &RunsContext,
    commands: &mut Vec<AppCommand>,
) {
    if checkpoints.is_empty() {
        return;
    }
    let tried = context
        .tried
        .as_ref()
        .filter(|point| point.run_id == id)
        .and_then(|point| checkpoints.iter().position(|c| c.step == point.step));
    ui.horizontal_wrapped(|ui| {
        ui.label("Try the run at:");
        for (index, checkpoint) in checkpoints.iter().enumerate() {
            let text = format!(
                "epoch {} (step {})",
                checkpoint.epoch,
                crate::display::thousands(checkpoint.step)
            );
            if ui
                .selectable_label(tried == Some(index), text)
                .on_hover_text("Its weights in the try panel, Inside and Evaluation (arrow keys: the one before or after)")
                .clicked()
            {
                commands.push(AppCommand::TryCheckpoint(id.to_string(), checkpoint.step));
            }
        }
    });
    if let Some(index) = tried {
        // Left and right step through the run when no widget has the keys, or the canvas
        // has them (a person draws, then steps); a focused field or slider keeps its own.
        let (left, right) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::ArrowLeft),
                i.key_pressed(egui::Key::ArrowRight),
            )
        });
        let focused = ui.memory(|m| m.focused());
        if focused.is_none() || focused == Some(crate::app::canvas_id()) {
            let next = if left {
                index.checked_sub(1)
            } else if right {
                Some(index + 1).filter(|&n| n < checkpoints.len())
            } else {
                None
            };
            if let Some(next) = next {
                commands.push(AppCommand::TryCheckpoint(
                    id.to_string(),
                    checkpoints[next].step,
                ));
            }
        }
        let checkpoint = &checkpoints[index];
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!context.busy, egui::Button::new("Fork from here"))
                .on_hover_text(
                    "The designer and settings become this run's; change what you want to try, \
                     then Train starts a child run from this checkpoint",
                )
                .clicked()
            {
                commands.push(AppCommand::ForkFrom(id.to_string(), checkpoint.step));
            }
            if ui
                .button("Back to live")
                .on_hover_text("The model the window had before (the run training now, if one is)")
                .clicked()
            {
                commands.push(AppCommand::BackToLive);
            }
        });
    }
}

/// A column's cell: `width` points, its content on the left (cut with "…" if longer).
fn cell(ui: &mut egui::Ui, width: f32, label: egui::Label) -> egui::Response {
    let height = ui.spacing().interact_size.y;
    ui.allocate_ui_with_layout(
        egui::vec2(width, height),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_width(width);
            ui.add(label)
        },
    )
    .inner
}

/// "finished", "interrupted at step 430", "failed: the loss is not a number".
fn status_text(run: &RunRow) -> String {
    match &run.message {
        Some(message) if run.status == "failed" => format!("failed: {message}"),
        Some(message) if !message.is_empty() => format!("{} ({message})", run.status),
        Some(_) | None => run.status.clone(),
    }
}

fn best_validation(run: &RunRow) -> String {
    match (run.best_validation_accuracy, run.best_validation_rmse) {
        (Some(accuracy), _) => format!("{:.2}%", accuracy * 100.0),
        (None, Some(rmse)) => format!("RMSE {}", decimal(rmse, 2)),
        (None, None) => "-".into(),
    }
}

fn test_metric(run: &RunRow) -> String {
    match (run.test_accuracy, run.test_rmse) {
        (Some(accuracy), _) => format!("{:.2}%", accuracy * 100.0),
        (None, Some(rmse)) => format!("RMSE {}", decimal(rmse, 2)),
        (None, None) => "-".into(),
    }
}

/// Only the settings that differ, and the first run's stack against each other's.
fn differences_ui(ui: &mut egui::Ui, comparison: &Comparison) {
    ui.label(RichText::new("What differs").strong());
    if comparison.differences.is_empty() {
        ui.label("The settings and data are the same.");
    } else {
        egui::Grid::new("run-differences")
            .striped(true)
            .show(ui, |ui| {
                ui.label(RichText::new("setting").strong());
                for run in &comparison.runs {
                    ui.label(RichText::new(&run.name).strong());
                }
                ui.end_row();
                for difference in &comparison.differences {
                    ui.label(&difference.path);
                    for value in &difference.values {
                        let text = crate::data::shorten(&value.to_string(), 40);
                        ui.label(text).on_hover_text(value.to_string());
                    }
                    ui.end_row();
                }
            });
    }
    let first = comparison.runs.first().map_or("", |r| r.name.as_str());
    for (ops, other) in comparison.layers.iter().zip(comparison.runs.iter().skip(1)) {
        ui.label(RichText::new(format!("Layer stacks: {first} against {}", other.name)).strong());
        if ops.iter().all(|op| matches!(op, LayerOp::Same { .. })) {
            ui.label(format!("The same {} layers.", ops.len()));
            continue;
        }
        for op in ops {
            let (mark, text, colour) = layer_op_line(op);
            ui.colored_label(colour, format!("{mark} {text}"));
        }
    }
}

/// "= 0 Conv2d(...)", "+ 3 Dropout(0.2)", "- 2 ReLU", "~ 1 Linear: out_features 128 -> 64".
fn layer_op_line(op: &LayerOp) -> (&'static str, String, Color32) {
    match op {
        LayerOp::Same { a, layer, .. } => ("=", format!("{a} {layer}"), Color32::GRAY),
        LayerOp::Insert { b, layer } => ("+", format!("{b} {layer}"), tokens::OK),
        LayerOp::Delete { a, layer } => ("-", format!("{a} {layer}"), tokens::ERROR),
        LayerOp::Change { a, b, kind, fields } => {
            let changes: Vec<String> = fields
                .iter()
                .map(|f| {
                    let values: Vec<String> = f.values.iter().map(|v| v.to_string()).collect();
                    format!("{} {}", f.path, values.join(" -> "))
                })
                .collect();
            (
                "~",
                format!("{a} -> {b} {kind}: {}", changes.join(", ")),
                tokens::WARNING,
            )
        }
    }
}
