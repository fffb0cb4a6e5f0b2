//! Choosing a file without ever blocking the window.
//!
//! The native dialog is rfd's async dialog (the XDG desktop portal on Linux), driven to
//! completion on a thread of its own; its answer comes back over a channel. Where no portal
//! answers (minimal desktops, WSL, some tiling window managers) the dialog "cancels" at once;
//! then, or whenever the person prefers it (View menu), the in-window picker below is used:
//! a folder listing, a path field and an extension filter, drawn by egui.
//!
//! The picker is LayerLab's own and deliberately small. `egui_file` 0.29 (which builds with
//! egui 0.37) was weighed as a replacement: it opens, saves and picks folders, filters and
//! takes a typed path, but it lists a whole folder at once on the UI thread (a folder of a
//! million files stalls the window; this one lists at most [`MAX_LISTED`]), and it would not
//! give the save's added extension and the reasons a path cannot be used ("... is a
//! folder", "the folder ... does not exist") that this one shows before the button is
//! pressed. Kept, at about 300 lines.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver};
use eframe::egui;

use crate::app::views::tokens;

/// A native dialog that answers "cancelled" faster than a person could was never shown.
const DIALOG_NEVER_SHOWN: Duration = Duration::from_millis(300);
/// Entries listed in one folder at most (a huge folder must not stall a frame).
const MAX_LISTED: usize = 2_000;

/// What the chosen path is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilePurpose {
    ExportWeights,
    LoadModel,
    OpenImage,
    /// A CSV table (plain or gzip) to train on.
    ImportCsv,
    /// A folder of IDX files or of one sub-folder of images per class.
    ImportFolder,
    /// Where to write the charts' figures as CSV.
    ExportMetrics,
    /// Where to write the model as ONNX.
    ExportOnnx,
    /// The folder to write a run's PyTorch training script in (a folder of its own inside).
    ExportTorch,
}

impl FilePurpose {
    pub fn title(self) -> &'static str {
        match self {
            Self::ExportWeights => "Export weights",
            Self::LoadModel => "Load model",
            Self::OpenImage => "Open image",
            Self::ImportCsv => "Import a CSV table",
            Self::ImportFolder => "Import an image or IDX folder",
            Self::ExportMetrics => "Export metrics as CSV",
            Self::ExportOnnx => "Export ONNX",
            Self::ExportTorch => "Export as PyTorch training script: choose a folder",
        }
    }

    fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::ExportWeights | Self::LoadModel => &["safetensors"],
            Self::OpenImage => &["png", "jpg", "jpeg", "bmp", "gif"],
            Self::ImportCsv => &["csv", "gz", "tsv"],
            // Folders only: the listing shows sub-folders and no files.
            Self::ImportFolder | Self::ExportTorch => &[],
            Self::ExportMetrics => &["csv"],
            Self::ExportOnnx => &["onnx"],
        }
    }

    fn saves(self) -> bool {
        matches!(
            self,
            Self::ExportWeights | Self::ExportMetrics | Self::ExportOnnx
        )
    }

    /// The answer is a folder, not a file.
    pub fn picks_folder(self) -> bool {
        matches!(self, Self::ImportFolder | Self::ExportTorch)
    }

    /// What the folder chosen is for, when the answer is a folder.
    fn folder_hint(self) -> Option<&'static str> {
        match self {
            Self::ImportFolder => {
                Some("Showing folders: pick the dataset's folder (double-click opens one)")
            }
            Self::ExportTorch => Some(
                "Showing folders: the export goes into a new folder of its own inside the one \
                 picked (double-click opens one)",
            ),
            Self::ExportWeights
            | Self::LoadModel
            | Self::OpenImage
            | Self::ImportCsv
            | Self::ExportMetrics
            | Self::ExportOnnx => None,
        }
    }

    fn default_name(self) -> &'static str {
        match self {
            Self::ExportWeights => "layerlab-model.safetensors",
            Self::ExportMetrics => "layerlab-metrics.csv",
            Self::ExportOnnx => "layerlab-model.onnx",
            Self::LoadModel
            | Self::OpenImage
            | Self::ImportCsv
            | Self::ImportFolder
            | Self::ExportTorch => "",
        }
    }
}

/// The answer of a dialog.
#[derive(Debug, PartialEq)]
pub enum DialogOutcome {
    Chosen(FilePurpose, PathBuf),
    Cancelled,
    /// No native dialog could be shown; the in-window picker is open instead.
    FellBack,
}

/// One file choice in progress: the native dialog on its thread, or the in-window picker.
pub enum FileDialog {
    Native {
        purpose: FilePurpose,
        /// Where the in-window picker starts if the native dialog cannot be shown.
        start_dir: Option<PathBuf>,
        /// The chosen path (or none), and how long the dialog was open.
        answer: Receiver<(Option<PathBuf>, Duration)>,
    },
    InWindow(InWindowPicker),
}

impl FileDialog {
    /// Opens a native dialog on its own thread, or the in-window picker if `in_window` is
    /// set or no thread can start. `waker` repaints the window when the answer arrives.
    pub fn open(
        purpose: FilePurpose,
        in_window: bool,
        start_dir: Option<PathBuf>,
        waker: crate::train::Waker,
    ) -> Self {
        if !in_window {
            let (tx, rx) = bounded(1);
            let mut dialog = rfd::AsyncFileDialog::new().set_title(purpose.title());
            if !purpose.picks_folder() {
                dialog = dialog.add_filter(purpose.title(), purpose.extensions());
            }
            if let Some(dir) = &start_dir {
                dialog = dialog.set_directory(dir);
            }
            let spawned = std::thread::Builder::new()
                .name("layerlab-file-dialog".into())
                .spawn(move || {
                    let opened = Instant::now();
                    let chosen = if purpose.saves() {
                        pollster::block_on(dialog.set_file_name(purpose.default_name()).save_file())
                    } else if purpose.picks_folder() {
                        pollster::block_on(dialog.pick_folder())
                    } else {
                        pollster::block_on(dialog.pick_file())
                    };
                    let chosen = chosen.map(|handle| handle.path().to_path_buf());
                    // Timed here, not when the window next polls (it may be late).
                    let _ = tx.send((chosen, opened.elapsed()));
                    waker();
                });
            if spawned.is_ok() {
                return Self::Native {
                    purpose,
                    start_dir,
                    answer: rx,
                };
            }
        }
        Self::InWindow(InWindowPicker::new(purpose, start_dir))
    }

    /// Polls a native dialog, or draws the in-window picker; `None` while still choosing.
    pub fn update(&mut self, ctx: &egui::Context) -> Option<DialogOutcome> {
        match self {
            Self::Native {
                purpose,
                start_dir,
                answer,
            } => match answer.try_recv() {
                Ok((Some(path), _)) => Some(DialogOutcome::Chosen(*purpose, path)),
                Ok((None, open_for)) if open_for < DIALOG_NEVER_SHOWN => {
                    *self = Self::InWindow(InWindowPicker::new(*purpose, start_dir.take()));
                    Some(DialogOutcome::FellBack)
                }
                Ok((None, _)) | Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    Some(DialogOutcome::Cancelled)
                }
                Err(crossbeam_channel::TryRecvError::Empty) => None,
            },
            Self::InWindow(picker) => picker.ui(ctx),
        }
    }

    pub fn purpose(&self) -> FilePurpose {
        match self {
            Self::Native { purpose, .. } => *purpose,
            Self::InWindow(picker) => picker.purpose,
        }
    }
}

/// A folder entry shown by the picker.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    is_dir: bool,
    name: String,
}

/// LayerLab's own file picker, drawn in the window.
pub struct InWindowPicker {
    pub purpose: FilePurpose,
    /// The folder shown (editable as text).
    folder: String,
    /// The file name (saving) or the selected file (opening).
    file_name: String,
    entries: Vec<Entry>,
    listed: Option<PathBuf>,
    error: Option<String>,
}

impl InWindowPicker {
    pub fn new(purpose: FilePurpose, start_dir: Option<PathBuf>) -> Self {
        // Never the program's working directory (wherever it was started from).
        let folder = start_dir
            .or_else(home_dir)
            .unwrap_or_else(|| PathBuf::from("/"));
        Self {
            purpose,
            folder: folder.display().to_string(),
            file_name: purpose.default_name().into(),
            entries: Vec::new(),
            listed: None,
            error: None,
        }
    }

    /// Lists the folder when it changed: sub-folders first, then files with a wanted
    /// extension, each group by name.
    fn refresh(&mut self) {
        let folder = PathBuf::from(&self.folder);
        if self.listed.as_ref() == Some(&folder) {
            return;
        }
        self.listed = Some(folder.clone());
        self.entries.clear();
        match std::fs::read_dir(&folder) {
            Ok(read) => {
                let extensions = self.purpose.extensions();
                for entry in read.flatten().take(MAX_LISTED) {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with('.') {
                        continue;
                    }
                    let is_dir = entry.path().is_dir();
                    let wanted = is_dir || has_extension(Path::new(&name), extensions);
                    if wanted {
                        self.entries.push(Entry { is_dir, name });
                    }
                }
                self.entries
                    .sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then(a.name.cmp(&b.name)));
                self.error = None;
            }
            Err(e) => self.error = Some(format!("cannot list {}: {e}", folder.display())),
        }
    }

    /// The path the picker would answer now, if it is acceptable.
    pub fn chosen_path(&self) -> Result<PathBuf, String> {
        let name = self.file_name.trim();
        if self.purpose.picks_folder() {
            // The folder shown, or a sub-folder selected in it.
            let folder = Path::new(&self.folder).join(name);
            return if folder.is_dir() {
                Ok(folder)
            } else {
                Err(format!("{} is not a folder", folder.display()))
            };
        }
        if name.is_empty() {
            return Err("type or pick a file name".into());
        }
        let path = Path::new(&self.folder).join(name);
        if path.is_dir() {
            return Err(format!("{} is a folder", path.display()));
        }
        if self.purpose.saves() {
            if !path.parent().is_some_and(Path::is_dir) {
                return Err(format!("the folder {} does not exist", self.folder));
            }
            // Saving adds the extension when it is missing.
            if has_extension(&path, self.purpose.extensions()) {
                Ok(path)
            } else {
                Ok(path.with_extension(self.purpose.extensions()[0]))
            }
        } else if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{} does not exist", path.display()))
        }
    }

    fn ui(&mut self, ctx: &egui::Context) -> Option<DialogOutcome> {
        self.refresh();
        let mut outcome = None;
        let mut open = true;
        egui::Window::new(self.purpose.title())
            .id(egui::Id::unique("layerlab-file-picker"))
            .collapsible(false)
            .resizable(true)
            .default_size([520.0, 380.0])
            .open(&mut open)
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    if ui.button("Up").on_hover_text("Parent folder").clicked() {
                        if let Some(parent) = Path::new(&self.folder).parent() {
                            self.folder = parent.display().to_string();
                        }
                    }
                    ui.label("Folder");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.folder).desired_width(f32::INFINITY),
                    );
                });
                if let Some(error) = &self.error {
                    ui.colored_label(tokens::ERROR, error);
                }
                if let Some(hint) = self.purpose.folder_hint() {
                    ui.label(hint);
                } else {
                    let filter = self.purpose.extensions().join(", ");
                    ui.label(format!("Showing folders and .{filter} files"));
                }
                let mut enter = None;
                egui::ScrollArea::vertical()
                    .max_height(220.0)
                    .auto_shrink([false, true])
                    .show(ui, |ui| {
                        for entry in &self.entries {
                            let label = if entry.is_dir {
                                format!("{}/", entry.name)
                            } else {
                                entry.name.clone()
                            };
                            let selected = (!entry.is_dir || self.purpose.picks_folder())
                                && entry.name == self.file_name;
                            let response = ui.selectable_label(selected, label);
                            if response.clicked() {
                                enter = Some((entry.clone(), false));
                            }
                            if response.double_clicked() {
                                enter = Some((entry.clone(), true));
                            }
                        }
                    });
                if let Some((entry, double)) = enter {
                    let path = Path::new(&self.folder).join(&entry.name);
                    if entry.is_dir && (double || !self.purpose.picks_folder()) {
                        self.folder = path.display().to_string();
                        if self.purpose.picks_folder() {
                            self.file_name.clear();
                        }
                    } else if entry.is_dir {
                        // Choosing a folder: one click selects it, a double click opens it.
                        self.file_name = entry.name;
                    } else {
                        self.file_name = entry.name;
                        if double {
                            outcome = self
                                .chosen_path()
                                .ok()
                                .map(|p| DialogOutcome::Chosen(self.purpose, p));
                        }
                    }
                }
                if !self.purpose.picks_folder() {
                    ui.horizontal(|ui| {
                        ui.label("File name");
                        ui.add(
                            egui::TextEdit::singleline(&mut self.file_name).desired_width(300.0),
                        );
                    });
                }
                let chosen = self.chosen_path();
                if let Err(why) = &chosen {
                    ui.weak(why);
                }
                // Enter accepts what the button would (in the name or path field too).
                if let Ok(path) = &chosen {
                    if ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        outcome = Some(DialogOutcome::Chosen(self.purpose, path.clone()));
                    }
                }
                ui.horizontal(|ui| {
                    let verb = if self.purpose.saves() {
                        "Save"
                    } else if self.purpose.picks_folder() {
                        "Use this folder"
                    } else {
                        "Open"
                    };
                    if ui
                        .add_enabled(chosen.is_ok(), egui::Button::new(verb))
                        .clicked()
                    {
                        if let Ok(path) = &chosen {
                            outcome = Some(DialogOutcome::Chosen(self.purpose, path.clone()));
                        }
                    }
                    if ui.button("Cancel").clicked() {
                        outcome = Some(DialogOutcome::Cancelled);
                    }
                });
            });
        if !open {
            outcome = Some(DialogOutcome::Cancelled);
        }
        outcome
    }
}

/// The person's home folder ($HOME, or %USERPROFILE% on Windows).
fn home_dir() -> Option<PathBuf> {
    ["HOME", "USERPROFILE"]
        .iter()
        .filter_map(std::env::var_os)
        .map(PathBuf::from)
        .find(|dir| dir.is_dir())
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialog_that_never_showed_falls_back_to_the_picker_in_the_same_folder() {
        let dir = tempfile::tempdir().unwrap();
        let answered = |open_for: Duration| {
            let (tx, rx) = bounded(1);
            tx.send((None, open_for)).unwrap();
            FileDialog::Native {
                purpose: FilePurpose::LoadModel,
                start_dir: Some(dir.path().into()),
                answer: rx,
            }
        };
        let ctx = egui::Context::default();
        let mut dialog = answered(Duration::from_millis(5));
        assert_eq!(dialog.update(&ctx), Some(DialogOutcome::FellBack));
        match &dialog {
            FileDialog::InWindow(picker) => {
                assert_eq!(picker.folder, dir.path().display().to_string())
            }
            FileDialog::Native { .. } => panic!("no fallback"),
        }
        // Open for a while, then cancelled: the person cancelled; no picker.
        let mut dialog = answered(Duration::from_secs(3));
        assert_eq!(dialog.update(&ctx), Some(DialogOutcome::Cancelled));
    }

    /// One frame of `picker` with `events` (keys typed); its answer.
    fn frame(picker: &mut InWindowPicker, events: Vec<egui::Event>) -> Option<DialogOutcome> {
        let ctx = egui::Context::default();
        let mut outcome = None;
        let input = egui::RawInput {
            events,
            ..Default::default()
        };
        let _ = ctx.run_ui(input, |ui| outcome = picker.ui(ui.ctx()));
        outcome
    }

    fn enter() -> egui::Event {
        egui::Event::Key {
            key: egui::Key::Enter,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers: egui::Modifiers::NONE,
        }
    }

    #[test]
    fn enter_accepts_a_usable_path_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.safetensors"), b"x").unwrap();
        let mut picker = InWindowPicker::new(FilePurpose::LoadModel, Some(dir.path().into()));
        assert_eq!(frame(&mut picker, vec![]), None);
        // No file named: Enter does nothing.
        assert_eq!(frame(&mut picker, vec![enter()]), None);
        picker.file_name = "m.safetensors".into();
        assert_eq!(frame(&mut picker, vec![]), None);
        assert_eq!(
            frame(&mut picker, vec![enter()]),
            Some(DialogOutcome::Chosen(
                FilePurpose::LoadModel,
                dir.path().join("m.safetensors")
            ))
        );
    }

    #[test]
    fn without_a_folder_to_start_in_the_picker_opens_at_home_not_the_working_directory() {
        let picker = InWindowPicker::new(FilePurpose::ImportCsv, None);
        let expected = home_dir().unwrap_or_else(|| PathBuf::from("/"));
        assert_eq!(picker.folder, expected.display().to_string());
    }

    #[test]
    fn the_picker_lists_folders_and_wanted_files_and_answers_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("runs")).unwrap();
        std::fs::write(dir.path().join("b.safetensors"), b"x").unwrap();
        std::fs::write(dir.path().join("a.SAFETENSORS"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let mut picker = InWindowPicker::new(FilePurpose::LoadModel, Some(dir.path().into()));
        picker.refresh();
        let names: Vec<&str> = picker.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["runs", "a.SAFETENSORS", "b.safetensors"]);
        assert!(picker.chosen_path().is_err(), "nothing chosen yet");
        picker.file_name = "b.safetensors".into();
        assert_eq!(
            picker.chosen_path().unwrap(),
            dir.path().join("b.safetensors")
        );
        picker.file_name = "missing.safetensors".into();
        assert!(picker.chosen_path().unwrap_err().contains("does not exist"));

        let mut saver = InWindowPicker::new(FilePurpose::ExportWeights, Some(dir.path().into()));
        saver.file_name = "mine".into();
        assert_eq!(
            saver.chosen_path().unwrap(),
            dir.path().join("mine.safetensors")
        );
        saver.file_name = "runs".into();
        assert!(saver.chosen_path().unwrap_err().contains("is a folder"));
        saver.folder = dir.path().join("nowhere").display().to_string();
        saver.file_name = "m.safetensors".into();
        assert!(saver.chosen_path().unwrap_err().contains("does not exist"));

        // Choosing a folder: the one shown, or a sub-folder selected; never a file.
        let mut folders = InWindowPicker::new(FilePurpose::ImportFolder, Some(dir.path().into()));
        folders.refresh();
        let names: Vec<&str> = folders.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["runs"]);
        assert_eq!(folders.chosen_path().unwrap(), dir.path());
        folders.file_name = "runs".into();
        assert_eq!(folders.chosen_path().unwrap(), dir.path().join("runs"));
        folders.file_name = "b.safetensors".into();
        assert!(folders
            .chosen_path()
            .unwrap_err()
            .contains("is not a folder"));
    }
}
