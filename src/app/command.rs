//! Everything a widget can ask the App to do, run in one place (`LayerLabApp::run_command`).

use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq)]
pub enum AppCommand {
    /// Start a run of the designed stack; asks first when that would replace a trained
    /// model that was never saved.
    StartTraining,
    /// Start a run without asking (the person already agreed).
    StartTrainingConfirmed,
    /// Train the current model (a loaded file, a finished run) further: its own stack,
    /// starting from its weights.
    ContinueTraining,
    PauseTraining,
    ResumeTraining,
    /// End the run now, keeping its weights; a second Stop while stopping cancels at once.
    StopTraining,
    SetLearningRate(f64),
    LoadPreset(&'static str),
    /// Load this built-in dataset (in the background) and train on it from now on.
    PickDataset(String),
    /// Regenerate the 2-D set with this many points and this noise.
    SetToyOptions(crate::data::ToyOptions),
    /// The next run's settings, as the Data and Optimizer tabs set them (refused while a run
    /// goes on, as those tabs are).
    SetTrainingSettings(Box<crate::train::TrainConfig>),
    /// The designer's stack, replaced whole (one undo step).
    SetStack(crate::spec::ModelSpec),
    /// Ask for a CSV file with a dialog, then import it.
    ImportCsvDialog,
    /// Read a CSV file in the background and show its columns for the person to check;
    /// a file that cannot be read leaves the current dataset as it was.
    ImportCsvFrom(PathBuf),
    /// Turn the CSV under review into a dataset with these choices, and train on it.
    ImportTable(crate::data::TableOptions),
    /// Ask for a folder with a dialog, then import it.
    ImportFolderDialog,
    /// Read a folder of IDX files or of class sub-folders of images in the background.
    ImportFolderFrom(PathBuf),
    /// Add a training point of a 2-D set (model coordinates) of this class.
    AddPoint {
        x: f32,
        y: f32,
        class: u8,
    },
    /// Ask for a path, then write the charts' figures there as CSV.
    ExportMetricsDialog,
    ExportMetricsTo(PathBuf),
    /// Give up an import in progress.
    CancelImport,
    /// Size the stack's last Linear layer for the dataset's outputs (classes, or 1).
    FitOutputs,
    Undo,
    Redo,
    /// Ask for a path with a dialog, then export.
    ExportWeightsDialog,
    ExportWeightsTo(PathBuf),
    ExportOnnxDialog,
    ExportOnnxTo(PathBuf),
    /// Ask for a folder, then write this run there as a PyTorch training script.
    ExportTorchDialog(String),
    ExportTorchTo(PathBuf),
    /// Save the current model in the models folder under a timestamped name.
    SaveToModelsFolder,
    LoadModelDialog,
    LoadModelFrom(PathBuf),
    /// At launch: read the model the last session trained (kept in the models folder) and
    /// carry on with it when it fits the data in use, or say where it is.
    OfferLastTrained(PathBuf),
    OpenImageDialog,
    OpenImageFrom(PathBuf),
    /// Evaluate the current model on the test set (with progress and Cancel).
    EvaluateModel,
    /// Cancel the test evaluation going on (of a run's end, or of "Evaluate").
    CancelEvaluation,
    ClearCanvas,
    /// Remove the last stroke drawn.
    UndoStroke,
    /// The canvas changed: predict again.
    PredictCanvas,
    /// Ask again about the same input (the Inside tab opened, or another class to explain).
    LookInside,
    /// Enlarge a map or unit of the Inside tab's activations and find the training samples
    /// that excite it most.
    InspectUnit {
        layer: usize,
        unit: usize,
    },
    CloseUnit,
    /// Close the window even though a run is going on.
    CloseConfirmed,
    /// File > Quit (Ctrl+Q): close the window, asking first while a run is going on.
    Quit,
    /// Run the learning-rate range test on the designed stack, the data and the optimizer.
    FindLearningRate,
    CancelLrFind,
    /// Read the run store's list again (the Runs tab).
    RefreshRuns,
    /// Tick or untick a run in the Runs tab (by id).
    ToggleRun(String),
    /// Tick (or untick) every run the Runs tab shows under its filter.
    TickShown(bool),
    /// Delete the ticked runs (hidden at once, gone from the store when Undo was not
    /// pressed in time).
    DeleteTickedRuns,
    UndoDeleteRuns,
    /// Sort the Runs tab's list by a column, ascending or not.
    SortRuns(crate::app::tasks::runs_browser::RunColumn, bool),
    /// The ticked run's name, tags and note as typed (not saved yet).
    EditRunForm(Box<crate::app::tasks::runs_browser::EditForm>),
    /// Make the checkpoint at a step of a run (by id) the model the try panel, the Inside tab
    /// and Evaluation use.
    TryCheckpoint(String, usize),
    /// Continue a stopped or interrupted run (by id) from its last checkpoint, in its own
    /// record, as it was recorded.
    ResumeRun(String),
    /// Fill the designer and settings with a run's (by id), for a child run from its
    /// checkpoint at a step that Train then starts.
    ForkFrom(String, usize),
    /// Give up the fork "Fork from here" prepared.
    ForgetFork,
    /// From a checkpoint tried back to the model the window had (the live run's).
    BackToLive,
    /// Write a change to a run's record (by id), then read the list again.
    EditRun(String, crate::app::tasks::runs_browser::RunEdit),
}
