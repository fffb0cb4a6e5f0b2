//! The menus, the run controls and the status line at the top of the window.

use eframe::egui;

use crate::app::persistence::models_folder::models_dir;
use crate::app::{AppCommand, LayerLabApp, RunStatus};

impl LayerLabApp {
    pub(in crate::app) fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| self.file_menu_ui(ui));
            ui.menu_button("View", |ui| self.view_menu_ui(ui));
        });
        ui.horizontal_wrapped(|ui| {
            self.run_controls_ui(ui);
        });
    }

    fn file_menu_ui(&mut self, ui: &mut egui::Ui) {
        let has_model = self.current.is_some();
        if ui.button("Load model…").clicked() {
            self.commands.push(AppCommand::LoadModelDialog);
        }
        if ui
            .add_enabled(
                !self.history.batches.is_empty(),
                egui::Button::new("Export metrics as CSV…"),
            )
            .on_hover_text("Every batch and epoch of the charts, for a spreadsheet or pandas")
            .clicked()
        {
            self.commands.push(AppCommand::ExportMetricsDialog);
        }
        if ui
            .button("Import CSV…")
            .on_hover_text("Train on a table of your own; you check its columns and target first")
            .clicked()
        {
            self.commands.push(AppCommand::ImportCsvDialog);
        }
        if ui
            .button("Import image or IDX folder…")
            .on_hover_text("One sub-folder of images per class, or MNIST-format IDX files")
            .clicked()
        {
            self.commands.push(AppCommand::ImportFolderDialog);
        }
        if ui
            .add_enabled(has_model, egui::Button::new("Export weights…"))
            .on_disabled_hover_text("Train or load a model first")
            .clicked()
        {
            self.commands.push(AppCommand::ExportWeightsDialog);
        }
        if ui
            .add_enabled(has_model, egui::Button::new("Export ONNX…"))
            .on_hover_text("The model as ONNX (opset 13) for onnxruntime, tract, OpenCV, TensorRT…")
            .on_disabled_hover_text("Train or load a model first")
            .clicked()
        {
            self.commands.push(AppCommand::ExportOnnxDialog);
        }
        self.export_torch_button_ui(ui);
        let folder = models_dir().map_or_else(|e| e, |d| d.display().to_string());
        if ui
            .add_enabled(has_model, egui::Button::new("Save to models folder"))
            .on_hover_text(format!(
                "One click, a timestamped name in {folder}. The newest trained model is \
                 also kept there as last-trained.safetensors."
            ))
            .clicked()
        {
            self.commands.push(AppCommand::SaveToModelsFolder);
        }
        if ui.button("Open image…").clicked() {
            self.commands.push(AppCommand::OpenImageDialog);
        }
        ui.separator();
        if ui
            .add(egui::Button::new("Quit").shortcut_text("Ctrl+Q"))
            .on_hover_text("Close LayerLab (it asks first while a run is going on)")
            .clicked()
        {
            self.commands.push(AppCommand::Quit);
        }
    }

    /// The run File > "Export as PyTorch training script…" writes: the one ticked in the Runs
    /// tab, else the window's newest run.
    pub(in crate::app) fn torch_export_run(&self) -> Option<String> {
        match self.runs.selected.len() {
            1 => self.runs.selected.first().cloned(),
            _ => self.run_id().map(str::to_string),
        }
    }

    fn export_torch_button_ui(&mut self, ui: &mut egui::Ui) {
        let run = self.torch_export_run();
        let button = ui
            .add_enabled(
                run.is_some() && !self.torch_export.is_busy(),
                egui::Button::new("Export as PyTorch training script…"),
            )
            .on_disabled_hover_text(if self.torch_export.is_busy() {
                "An export is being written"
            } else {
                "Train a run, or tick one in the Runs tab, first"
            });
        let button = match &run {
            Some(id) => button.on_hover_text(format!(
                "Run {id} as a folder that trains it with PyTorch: `python train.py`, or \
                 `torchrun --nproc_per_node N train.py` on many GPUs or machines; \
                 `layerlab runs import` brings the result back"
            )),
            None => button,
        };
        if let (true, Some(id)) = (button.clicked(), run) {
            self.commands.push(AppCommand::ExportTorchDialog(id));
        }
    }

    fn view_menu_ui(&mut self, ui: &mut egui::Ui) {
        // Words, not glyphs: the bundled fonts have no sun or moon.
        let mut theme = ui.ctx().options(|o| o.theme_preference);
        let before = theme;
        ui.horizontal(|ui| {
            ui.label("Theme:");
            ui.selectable_value(&mut theme, egui::ThemePreference::Dark, "Dark");
            ui.selectable_value(&mut theme, egui::ThemePreference::Light, "Light");
            ui.selectable_value(&mut theme, egui::ThemePreference::System, "System");
        });
        if theme != before {
            ui.ctx().set_theme(theme);
        }
        ui.checkbox(&mut self.state.show_setup_panel, "Setup panel");
        ui.checkbox(&mut self.state.show_draw_panel, "Draw panel");
        ui.checkbox(&mut self.state.show_frame_stats, "Frame times");
        ui.checkbox(
            &mut self.state.in_window_file_picker,
            "Use LayerLab's file picker",
        )
        .on_hover_text("Instead of the desktop's dialog (the XDG portal)");
    }

    /// Train (or "Train fork" when "Fork from here" prepared one, with "Forget fork").
    fn train_button_ui(&mut self, ui: &mut egui::Ui, can_start: bool, stack_problem: Option<&str>) {
        let fork = self.pending_fork();
        let train = ui.add_enabled(
            can_start,
            egui::Button::new(if fork.is_some() {
                "Train fork"
            } else {
                "Train"
            }),
        );
        let train = match (stack_problem, &fork) {
            (Some(problem), _) => train.on_disabled_hover_text(format!("Cannot train: {problem}")),
            (None, Some(fork)) => train.on_hover_text(format!(
                "Start a child run of {fork} with the settings as they are now (Space)"
            )),
            (None, None) => train.on_hover_text("Start a new run of the designed stack (Space)"),
        };
        if train.clicked() {
            self.commands.push(AppCommand::StartTraining);
        }
        if fork.is_some()
            && ui
                .small_button("Forget fork")
                .on_hover_text("Train starts a new run again")
                .clicked()
        {
            self.commands.push(AppCommand::ForgetFork);
        }
    }

    fn run_controls_ui(&mut self, ui: &mut egui::Ui) {
        let status = self.run_status().cloned();
        let active = self.training_active();
        let evaluating = self.evaluation_task.is_some();
        let shape = &self.data_shape;
        let stack_problem = crate::spec::validate(&self.state.stack, shape.input, shape.outputs)
            .err()
            .map(|e| e.to_string())
            .or_else(|| {
                self.state
                    .training
                    .optimizer
                    .validate()
                    .err()
                    .map(|e| e.to_string())
            });
        let waiting = self.continuation_pending();
        let can_start =
            !active && !evaluating && !waiting && self.dataset_ready() && stack_problem.is_none();
        self.train_button_ui(ui, can_start, stack_problem.as_deref());
        let can_continue =
            !active && !evaluating && !waiting && self.dataset_ready() && self.current.is_some();
        if ui
            .add_enabled(can_continue, egui::Button::new("Continue training"))
            .on_hover_text("Train the current model further, from its weights")
            .clicked()
        {
            self.commands.push(AppCommand::ContinueTraining);
        }
        let pause_or_resume = match status {
            Some(RunStatus::Running) => Some(("Pause", AppCommand::PauseTraining)),
            Some(RunStatus::Paused) => Some(("Resume", AppCommand::ResumeTraining)),
            Some(
                RunStatus::Stopping
                | RunStatus::Evaluating { .. }
                | RunStatus::Finished
                | RunStatus::Stopped
                | RunStatus::Failed(_),
            )
            | None => None,
        };
        // Always drawn, disabled when there is nothing to pause, so the buttons after it keep
        // their places when a run ends (a second click on Stop landed on "Evaluate").
        let (label, command) = pause_or_resume.unzip();
        let pause = ui
            .add_enabled(
                command.is_some(),
                egui::Button::new(label.unwrap_or("Pause")),
            )
            .on_hover_text("Space");
        if let (true, Some(command)) = (pause.clicked(), command) {
            self.commands.push(command);
        }
        let stopping = matches!(status, Some(RunStatus::Stopping));
        let stop_hint = if stopping {
            "Stop now, without waiting for the current batch"
        } else {
            "End the run now, keeping its weights"
        };
        if ui
            .add_enabled(active, egui::Button::new("Stop"))
            .on_hover_text(stop_hint)
            .clicked()
        {
            self.commands.push(AppCommand::StopTraining);
        }
        if ui
            .add_enabled(
                !active && !evaluating && self.current.is_some() && self.dataset_ready(),
                egui::Button::new("Evaluate on test set"),
            )
            .on_hover_text("Test accuracy, confusion matrix and mistakes of the current model")
            .clicked()
        {
            self.commands.push(AppCommand::EvaluateModel);
        }
        if let Some((done, total)) = self.evaluation_progress() {
            let fraction = if total == 0 {
                0.0
            } else {
                done as f32 / total as f32
            };
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(220.0)
                    .text(format!(
                        "Evaluating: {} of {}",
                        crate::app::thousands(done),
                        crate::app::thousands(total)
                    )),
            );
            if ui
                .button("Cancel")
                .on_hover_text("Skip the test evaluation")
                .clicked()
            {
                self.commands.push(AppCommand::CancelEvaluation);
            }
        } else if let Some(session) = &self.session {
            let elapsed = crate::app::format_secs(session.elapsed().as_secs_f64());
            let text = format!("{} · {elapsed} elapsed", session.status_line());
            ui.add(egui::ProgressBar::new(session.progress.fraction()).text(text));
        } else if let crate::app::DatasetSlot::Loading { name, progress, .. } = &self.dataset {
            crate::app::views::panels::progress_ui(ui, progress, &format!("Loading {name}…"));
        } else if !self.dataset_ready() {
            ui.spinner();
            ui.label(format!("Loading {}…", self.state.dataset));
        }
    }
}
