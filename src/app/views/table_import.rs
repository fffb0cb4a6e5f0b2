//! Before a CSV becomes a dataset: its first rows and, per column, the kind LayerLab guessed
//! (editable), the range or the values, and the missing cells; the target column and the
//! task are chosen here too. Nothing changes until "Import table" is pressed.

use std::sync::Arc;

use eframe::egui;

use crate::app::views::tokens;
use crate::data::{
    guess_task, profile_columns, ColumnKind, ColumnProfile, RawTable, TableOptions, TaskKind,
};

/// Rows of the file shown under the columns.
const PREVIEW_ROWS: usize = 5;

/// What the person answered.
#[derive(Debug, PartialEq)]
pub enum TableImportAnswer {
    Import(TableOptions),
    Cancel,
}

/// A CSV read and profiled, waiting for the person's choices.
pub struct TableImport {
    /// The file name, for titles and messages.
    pub name: String,
    pub table: Arc<RawTable>,
    profiles: Vec<ColumnProfile>,
    /// How each column is read (starts as the guess).
    pub kinds: Vec<ColumnKind>,
    /// The target column's index.
    pub target: usize,
    pub task: TaskKind,
}

impl TableImport {
    /// Profiles `table`; the target starts as the last column, its task as guessed.
    pub fn new(name: String, table: RawTable) -> Self {
        let profiles = profile_columns(&table);
        let kinds = profiles.iter().map(|p| p.guessed).collect();
        let target = table.headers.len().saturating_sub(1);
        let task = guess_task(table.column(target));
        Self {
            name,
            table: Arc::new(table),
            profiles,
            kinds,
            target,
            task,
        }
    }

    /// The options `table_dataset` gets: the target, the task, and every input column's kind.
    pub fn options(&self) -> TableOptions {
        let headers = &self.table.headers;
        TableOptions {
            target: headers.get(self.target).cloned(),
            kinds: headers
                .iter()
                .zip(&self.kinds)
                .enumerate()
                .filter(|(index, _)| *index != self.target)
                .map(|(_, (name, kind))| (name.clone(), *kind))
                .collect(),
            task: Some(self.task),
            ..TableOptions::default()
        }
    }

    /// Picks the target column by name; its task is guessed again.
    pub fn set_target(&mut self, name: &str) -> bool {
        let Some(index) = self.table.column_index(name) else {
            return false;
        };
        self.target = index;
        self.task = guess_task(self.table.column(index));
        true
    }

    /// Draws the dialog; an answer once the person presses Import or Cancel.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<TableImportAnswer> {
        let mut answer = None;
        let mut open = true;
        egui::Window::new(format!("Import {}", self.name))
            .id(egui::Id::unique("layerlab-table-import"))
            .collapsible(false)
            .resizable(true)
            .default_size([640.0, 520.0])
            .max_height(ctx.content_rect().height() - 80.0)
            .open(&mut open)
            .show(ctx, |ui| {
                ui.label(format!(
                    "{} rows and {} columns. Check how each column is read, then import.",
                    self.table.row_count(),
                    self.table.headers.len()
                ));
                self.target_ui(ui);
                ui.separator();
                egui::ScrollArea::vertical()
                    .id_salt("table-import-columns")
                    .max_height(260.0)
                    .auto_shrink([false, true])
                    .show(ui, |ui| self.columns_ui(ui));
                ui.separator();
                ui.label("First rows");
                egui::ScrollArea::horizontal()
                    .id_salt("table-import-rows")
                    .show(ui, |ui| self.rows_ui(ui));
                ui.separator();
                ui.horizontal(|ui| {
                    let inputs = (0..self.kinds.len())
                        .filter(|&i| i != self.target && self.kinds[i] != ColumnKind::Ignore)
                        .count();
                    let ready = inputs > 0;
                    if ui
                        .add_enabled(ready, egui::Button::new("Import table"))
                        .clicked()
                    {
                        answer = Some(TableImportAnswer::Import(self.options()));
                    }
                    if ui.button("Cancel").clicked() {
                        answer = Some(TableImportAnswer::Cancel);
                    }
                    if !ready {
                        ui.colored_label(tokens::ERROR, "Every input column is ignored.");
                    }
                });
            });
        if !open {
            answer = Some(TableImportAnswer::Cancel);
        }
        answer
    }

    fn target_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let current = self
                .table
                .headers
                .get(self.target)
                .cloned()
                .unwrap_or_default();
            let mut chosen = current.clone();
            egui::ComboBox::from_label("Target column")
                .selected_text(&current)
                .show_ui(ui, |ui| {
                    for name in &self.table.headers {
                        ui.selectable_value(&mut chosen, name.clone(), name);
                    }
                });
            if chosen != current {
                self.set_target(&chosen);
            }
            ui.separator();
            ui.radio_value(&mut self.task, TaskKind::Classification, "Classification");
            ui.radio_value(&mut self.task, TaskKind::Regression, "Regression");
        });
    }

    fn columns_ui(&mut self, ui: &mut egui::Ui) {
        egui::Grid::new("table-import-grid")
            .num_columns(4)
            .striped(true)
            .show(ui, |ui| {
                ui.strong("Column");
                ui.strong("Read as");
                ui.strong("Range or values");
                ui.strong("Missing");
                ui.end_row();
                for (index, profile) in self.profiles.iter().enumerate() {
                    let name = ui.label(&profile.name);
                    if index == self.target {
                        ui.label("target");
                    } else {
                        let kind = &mut self.kinds[index];
                        egui::ComboBox::from_id_salt(("column-kind", index))
                            .selected_text(kind.name())
                            .width(110.0)
                            .show_ui(ui, |ui| {
                                for option in [
                                    ColumnKind::Numeric,
                                    ColumnKind::Categorical,
                                    ColumnKind::Text,
                                    ColumnKind::Ignore,
                                ] {
                                    let label = if option == profile.guessed {
                                        format!("{} (guess)", option.name())
                                    } else {
                                        option.name().to_string()
                                    };
                                    ui.selectable_value(kind, option, label);
                                }
                            })
                            .response
                            .labelled_by(name.id);
                    }
                    match &profile.stray_non_numbers {
                        Some(strays) if self.kinds[index] != ColumnKind::Numeric => {
                            ui.vertical(|ui| {
                                ui.label(profile.summary());
                                ui.colored_label(tokens::WARNING, strays).on_hover_text(
                                    "Read as numbers only once these cells are corrected \
                                         or left empty (empty cells are filled)",
                                );
                            });
                        }
                        _ => {
                            ui.label(profile.summary());
                        }
                    }
                    if profile.missing > 0 {
                        ui.colored_label(tokens::WARNING, profile.missing.to_string());
                    } else {
                        ui.label("0");
                    }
                    ui.end_row();
                }
            });
    }

    fn rows_ui(&self, ui: &mut egui::Ui) {
        egui::Grid::new("table-import-rows-grid")
            .striped(true)
            .show(ui, |ui| {
                for header in &self.table.headers {
                    ui.strong(header);
                }
                ui.end_row();
                for row in self.table.rows().take(PREVIEW_ROWS) {
                    for cell in row.iter() {
                        let shown: String = cell.chars().take(24).collect();
                        ui.label(shown);
                    }
                    ui.end_row();
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(text: &str) -> TableImport {
        TableImport::new(
            "t.csv".into(),
            RawTable::from_reader(text.as_bytes(), "t.csv").unwrap(),
        )
    }

    #[test]
    fn the_guesses_become_options_and_the_persons_choices_override_them() {
        let mut dialog = import("id,grade,score\n1,3,10.5\n2,1,11.25\n3,2,9.0\n");
        assert_eq!(dialog.target, 2);
        assert_eq!(dialog.task, TaskKind::Regression);
        let options = dialog.options();
        assert_eq!(options.target.as_deref(), Some("score"));
        assert_eq!(
            options.kinds,
            [
                ("id".to_string(), ColumnKind::Numeric),
                ("grade".to_string(), ColumnKind::Numeric)
            ]
        );
        // The grade is a class label: picked as the target, its task is guessed again.
        assert!(dialog.set_target("grade"));
        assert_eq!(dialog.task, TaskKind::Classification);
        dialog.kinds[0] = ColumnKind::Ignore;
        let options = dialog.options();
        assert_eq!(options.target.as_deref(), Some("grade"));
        assert_eq!(options.task, Some(TaskKind::Classification));
        assert!(options
            .kinds
            .contains(&("id".to_string(), ColumnKind::Ignore)));
        assert!(!dialog.set_target("nope"));
    }
}
