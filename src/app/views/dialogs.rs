//! The modal dialogs (confirmations before losing work), drawn over the window.

use eframe::egui::{self, Key};

use crate::app::{AppCommand, Confirm, LayerLabApp};

impl LayerLabApp {
    /// The questions asked before losing work, as modal dialogs.
    pub(in crate::app) fn dialogs_ui(&mut self, ctx: &egui::Context) {
        if let Some(review) = &mut self.table_import {
            match review.ui(ctx) {
                Some(crate::app::views::table_import::TableImportAnswer::Import(options)) => {
                    self.commands.push(AppCommand::ImportTable(options));
                }
                Some(crate::app::views::table_import::TableImportAnswer::Cancel) => {
                    self.table_import = None
                }
                None => {}
            }
        }
        let Some(confirm) = self.confirm else {
            return;
        };
        let mut answer: Option<Option<AppCommand>> = None;
        egui::Modal::new(egui::Id::unique("layerlab-confirm")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            match confirm {
                Confirm::ReplaceUnsavedModel => {
                    ui.heading("Start a new run?");
                    ui.label(
                        "The model trained in the last run has not been saved. A new run \
                         replaces it (the automatic copy in the models folder too).",
                    );
                    ui.horizontal(|ui| {
                        if ui.button("Save it, then train").clicked() {
                            self.commands.push(AppCommand::SaveToModelsFolder);
                            answer = Some(Some(AppCommand::StartTrainingConfirmed));
                        }
                        if ui.button("Train without saving").clicked() {
                            answer = Some(Some(AppCommand::StartTrainingConfirmed));
                        }
                        if ui.button("Cancel").clicked() {
                            answer = Some(None);
                        }
                    });
                }
                Confirm::CloseWhileTraining => {
                    ui.heading("Quit while training?");
                    ui.label(
                        "A run is going on. Quitting stops it; its newest weights are kept in \
                         the models folder as last-trained.safetensors.",
                    );
                    ui.horizontal(|ui| {
                        if ui.button("Quit").clicked() {
                            answer = Some(Some(AppCommand::CloseConfirmed));
                        }
                        if ui.button("Keep training").clicked() {
                            answer = Some(None);
                        }
                    });
                }
            }
            if ui.input(|i| i.key_pressed(Key::Escape)) {
                answer = Some(None);
            }
        });
        if let Some(command) = answer {
            self.confirm = None;
            if let Some(command) = command {
                self.commands.push(command);
            }
        }
    }
}
