//! Input that is not a widget's: keyboard shortcuts, dropped files, the window's close
//! button.

use eframe::egui::{self, Key, KeyboardShortcut, Modifiers};

use super::{AppCommand, Confirm, LayerLabApp, RunStatus};

impl LayerLabApp {
    /// Closing the window while a run goes on asks first.
    pub(super) fn handle_close_request(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested())
            && self.training_active()
            && !self.close_confirmed
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm = Some(Confirm::CloseWhileTraining);
        }
    }

    /// Files dropped on the window open as what they are: an image in the try-it panel, a
    /// CSV or a folder as a dataset, weights as the model. While files hover, a hint says so.
    pub(super) fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let (hovering, dropped) = ctx.input(|i| {
            (
                !i.raw.hovered_files.is_empty(),
                i.raw
                    .dropped_files
                    .iter()
                    .map(|f| f.path().to_path_buf())
                    .collect::<Vec<_>>(),
            )
        });
        if hovering {
            let rect = ctx.content_rect();
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("layerlab-drop-hint"),
            ));
            painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(160));
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "Drop an image to try the model, a CSV or folder to train on, or a .safetensors model",
                egui::FontId::proportional(18.0),
                egui::Color32::WHITE,
            );
        }
        // One file at a time: the first one dropped that LayerLab can open.
        for path in dropped {
            match command_for_dropped(&path) {
                Some(command) => {
                    self.commands.push(command);
                    break;
                }
                None => self.notifications.error(format!(
                    "Cannot open {}: drop an image (PNG, JPEG, BMP, GIF), a CSV, a folder or a .safetensors model",
                    crate::data::file_label(&path)
                )),
            }
        }
    }

    /// Keys, read from the frame's key events (so a press and release within one frame
    /// still count) with egui's shortcut matching.
    pub(super) fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.text_edit_focused() || self.confirm.is_some() {
            return;
        }
        let focused = ctx.memory(|m| m.focused());
        let canvas_focused = focused == Some(super::canvas_id());
        // Space and Delete belong to a focused button or slider, unless it is the canvas.
        let free = focused.is_none() || canvas_focused;
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        let redo_y = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
        let undo = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
        let quit = KeyboardShortcut::new(Modifiers::COMMAND, Key::Q);
        if ctx.input_mut(|i| i.consume_shortcut(&quit)) {
            self.commands.push(AppCommand::Quit);
        }
        let (redo, undo, space, delete) = ctx.input_mut(|i| {
            // Redo first: Ctrl+Z's pattern would also match Ctrl+Shift+Z.
            let redo = i.consume_shortcut(&redo) || i.consume_shortcut(&redo_y);
            let undo = i.consume_shortcut(&undo);
            let space = free && i.consume_key(Modifiers::NONE, Key::Space);
            let delete = free
                && (i.consume_key(Modifiers::NONE, Key::Delete)
                    || i.consume_key(Modifiers::NONE, Key::Backspace));
            (redo, undo, space, delete)
        });
        if space {
            let command = match self.run_status() {
                Some(RunStatus::Running) => AppCommand::PauseTraining,
                Some(RunStatus::Paused) => AppCommand::ResumeTraining,
                Some(RunStatus::Stopping | RunStatus::Evaluating { .. }) => return,
                Some(RunStatus::Finished | RunStatus::Stopped | RunStatus::Failed(_)) | None => {
                    AppCommand::StartTraining
                }
            };
            self.commands.push(command);
        }
        if delete {
            self.commands.push(AppCommand::ClearCanvas);
        }
        if undo {
            // While the canvas has focus, Ctrl+Z takes back the last stroke.
            self.commands.push(if canvas_focused {
                AppCommand::UndoStroke
            } else {
                AppCommand::Undo
            });
        }
        if redo && !canvas_focused {
            self.commands.push(AppCommand::Redo);
        }
    }
}

/// What a file dropped on the window opens as, by its kind.
pub(super) fn command_for_dropped(path: &std::path::Path) -> Option<AppCommand> {
    if path.is_dir() {
        return Some(AppCommand::ImportFolderFrom(path.to_path_buf()));
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)?;
    let path = path.to_path_buf();
    match extension.as_str() {
        "png" | "jpg" | "jpeg" | "bmp" | "gif" => Some(AppCommand::OpenImageFrom(path)),
        "csv" | "tsv" | "gz" => Some(AppCommand::ImportCsvFrom(path)),
        "safetensors" => Some(AppCommand::LoadModelFrom(path)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_file_opens_as_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        assert_eq!(
            command_for_dropped(&path("seven.PNG")),
            Some(AppCommand::OpenImageFrom(path("seven.PNG")))
        );
        assert_eq!(
            command_for_dropped(&path("houses.csv")),
            Some(AppCommand::ImportCsvFrom(path("houses.csv")))
        );
        assert_eq!(
            command_for_dropped(&path("m.safetensors")),
            Some(AppCommand::LoadModelFrom(path("m.safetensors")))
        );
        assert_eq!(
            command_for_dropped(dir.path()),
            Some(AppCommand::ImportFolderFrom(dir.path().to_path_buf()))
        );
        assert_eq!(command_for_dropped(&path("notes.txt")), None);
        assert_eq!(command_for_dropped(&path("README")), None);
    }
}
