//! Everything a widget can ask the App to do, run in one place (`LayerLabApp::run_command`).

use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq)]
pub enum AppCommand {
    StartTraining,
    PauseTraining,
    ResumeTraining,
    StopTraining,
    SetLearningRate(f64),
    LoadPreset(&'static str),
    Undo,
    Redo,
    /// Ask for a path with a dialog, then export.
    ExportWeightsDialog,
    ExportWeightsTo(PathBuf),
    LoadModelDialog,
    LoadModelFrom(PathBuf),
    OpenImageDialog,
    OpenImageFrom(PathBuf),
    ClearCanvas,
    /// The canvas changed: predict again.
    PredictCanvas,
}
