//! The setup panel (Model, Data, Optimizer tabs), the main panel (Charts, Evaluation, Inside) and
//! the frame-time overlay.

use eframe::egui;

use crate::app::{
    views::charts, views::data_panel, views::designer_panel, views::evaluation_panel,
    views::inside_panel, views::optimizer_panel, views::runs_panel, AppCommand, DatasetSlot,
    LayerLabApp, MainTab, SetupTab,
};

impl LayerLabApp {
    pub(in crate::app) fn setup_panel_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.setup_tab, SetupTab::Model, "Model");
            ui.selectable_value(&mut self.setup_tab, SetupTab::Data, "Data");
            ui.selectable_value(&mut self.setup_tab, SetupTab::Optimizer, "Optimizer");
        });
        ui.separator();
        let active = self.training_active();
        egui::ScrollArea::vertical().show(ui, |ui| match self.setup_tab {
            SetupTab::Model => designer_panel::designer_ui(
                ui,
                &mut self.state.stack,
                &self.data_shape,
                &self.editor,
                &mut self.designer,
                &mut self.commands,
            ),
            SetupTab::Data => {
                ui.horizontal(|ui| {
                    let free = !active && self.import.is_none() && self.table_import.is_none();
                    if ui
                        .add_enabled(free, egui::Button::new("Import CSV…"))
                        .on_hover_text("A table of your own: check how each column is read and pick the target before it is imported")
                        .clicked()
                    {
                        self.commands.push(AppCommand::ImportCsvDialog);
                    }
                    if ui
                        .add_enabled(free, egui::Button::new("Import folder…"))
                        .on_hover_text("A folder of images with one sub-folder per class (optionally under train/ and test/), or of MNIST-format IDX files")
                        .clicked()
                    {
                        self.commands.push(AppCommand::ImportFolderDialog);
                    }
                    if let Some(import) = &self.import {
                        progress_ui(ui, &import.progress, &format!("Reading {}…", import.name));
                        if ui.button("Cancel").clicked() {
                            self.commands.push(AppCommand::CancelImport);
                        }
                    }
                });
                let loading_text;
                let dataset = match &self.dataset {
                    DatasetSlot::Ready(dataset, preview) => Ok((dataset.as_ref(), preview)),
                    DatasetSlot::Loading { name, .. } => {
                        loading_text = format!("Loading {name}…");
                        Err(loading_text.as_str())
                    }
                    DatasetSlot::Failed(message) => Err(message.as_str()),
                };
                // An imported table is named by its file; built-ins by their name.
                let picked = match &self.dataset {
                    DatasetSlot::Ready(dataset, _) => dataset.card.dataset.clone(),
                    DatasetSlot::Loading { .. } | DatasetSlot::Failed(_) => {
                        self.state.dataset.clone()
                    }
                };
                data_panel::data_ui(
                    ui,
                    &picked,
                    dataset,
                    &mut self.state.training,
                    active,
                    &self.state.toy,
                    &mut self.commands,
                );
            }
            SetupTab::Optimizer => {
                // The schedule's preview spans the run these settings would train.
                let steps_per_epoch = self
                    .dataset()
                    .and_then(|data| self.state.training.validate(data).ok())
                    .map(|split| split.steps_per_epoch(self.state.training.batch_size));
                optimizer_panel::optimizer_ui(
                    ui,
                    &mut self.state.training,
                    active,
                    steps_per_epoch,
                    &mut self.commands,
                );
                let dataset = match &self.dataset {
                    DatasetSlot::Ready(dataset, _) => Some(dataset.as_ref()),
                    DatasetSlot::Loading { .. } | DatasetSlot::Failed(_) => None,
                };
                ui.add_enabled_ui(!active, |ui| {
                    super::augmentation_panel::augmentation_ui(
                        ui,
                        &mut self.state.training,
                        dataset,
                        &mut self.augment_preview,
                    );
                });
                let can_find = !active && steps_per_epoch.is_some();
                super::lr_finder_panel::lr_finder_ui(
                    ui,
                    &self.lr_finder,
                    &mut self.state.training,
                    can_find,
                    &mut self.commands,
                );
            }
        });
    }

    pub(in crate::app) fn main_panel_ui(&mut self, ui: &mut egui::Ui) {
        let before = self.main_tab;
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.main_tab, MainTab::Charts, "Charts");
            ui.selectable_value(&mut self.main_tab, MainTab::Evaluation, "Evaluation");
            ui.selectable_value(&mut self.main_tab, MainTab::Inside, "Inside");
            ui.selectable_value(&mut self.main_tab, MainTab::Runs, "Runs");
        });
        if self.main_tab == MainTab::Inside && before != MainTab::Inside {
            // The predictor looks inside only while the tab is open.
            self.commands.push(AppCommand::LookInside);
        }
        if self.main_tab == MainTab::Runs && before != MainTab::Runs {
            // The store as it is now (runs of the CLI included).
            self.commands.push(AppCommand::RefreshRuns);
        }
        ui.separator();
        match self.main_tab {
            MainTab::Charts => {
                charts::chart_controls_ui(ui, &mut self.state.charts);
                if self.history.batches.is_empty() {
                    ui.label("Press Train (or Space) to start; loss and accuracy appear here as the model learns.");
                }
                let clicked =
                    charts::charts_ui(ui, &self.history, &self.state.charts, &mut self.chart_cache);
                // A checkpoint's triangle tries those weights (the run's id is known once
                // the store made its record).
                if let (Some(step), Some(id)) = (clicked, self.run_id()) {
                    self.commands
                        .push(AppCommand::TryCheckpoint(id.to_string(), step));
                }
            }
            MainTab::Evaluation => {
                let dataset = self.dataset().cloned();
                // Only results of the current model are shown.
                let view = self.shown_evaluation_mut();
                // Plots and headings fit the visible width; only the tables scroll sideways.
                let visible_width = ui.available_width();
                egui::ScrollArea::both().show(ui, |ui| {
                    ui.set_max_width(visible_width);
                    evaluation_panel::evaluation_ui(ui, view, dataset.as_deref());
                });
            }
            MainTab::Inside => {
                let dataset = self.dataset().cloned();
                inside_panel::refresh_thumbnails(ui.ctx(), &mut self.inside, dataset.as_deref());
                let inputs = inside_panel::InsideInputs {
                    prediction: self.prediction.prediction.as_ref(),
                    filters: self.prediction.filters.as_ref(),
                    dataset: dataset.as_deref(),
                    history: &self.history,
                    has_model: self.current.is_some(),
                    text: &self.prediction.text,
                };
                inside_panel::inside_ui(
                    ui,
                    &mut self.inside,
                    inputs,
                    &mut self.state.training,
                    &mut self.commands,
                );
            }
            MainTab::Runs => {
                let busy = self.training_active() || self.continuation_pending();
                let context = runs_panel::RunsContext {
                    tried: self
                        .scrub
                        .as_ref()
                        .and(self.current.as_ref())
                        .and_then(|c| c.run_point.clone()),
                    busy,
                    live: self
                        .session
                        .as_ref()
                        .filter(|s| s.is_active())
                        .map(|session| super::run_curves::LiveRun {
                            id: session.run_id(),
                            history: &self.history,
                        }),
                };
                runs_panel::runs_ui(ui, &mut self.runs, context, &mut self.commands);
            }
        }
    }

    pub(in crate::app) fn frame_stats_ui(&mut self, ui: &mut egui::Ui) {
        if !self.state.show_frame_stats {
            return;
        }
        let (p50, p99) = (
            self.frame_stats.percentile(0.5).unwrap_or(0.0),
            self.frame_stats.percentile(0.99).unwrap_or(0.0),
        );
        egui::Area::new(egui::Id::unique("layerlab-frame-stats"))
            .anchor(egui::Align2::RIGHT_BOTTOM, [-8.0, -30.0])
            .show(ui.ctx(), |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.monospace(format!(
                        "frame cpu p50 {p50:.2} ms  p99 {p99:.2} ms  ({} frames)\nchart points drawn {}",
                        self.frame_stats.len(),
                        self.chart_cache.drawn_batch_points()
                    ));
                });
            });
    }
}

/// A progress bar once the loader has said how much there is to do, a spinner until then.
pub(in crate::app) fn progress_ui(
    ui: &mut egui::Ui,
    progress: &crate::data::LoadProgress,
    text: &str,
) {
    match progress.fraction() {
        Some(fraction) => {
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(160.0)
                    .text(format!("{text} {:.0}%", fraction * 100.0)),
            );
            // The loader's reports wake the window only now and then; keep the bar moving.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        None => {
            ui.spinner();
            ui.label(text);
        }
    }
}
