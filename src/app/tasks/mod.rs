//! Work off the UI thread: one-shot background tasks, the training session's worker, the
//! predictor, evaluation, and model files; each talks to the window over channels.

pub(super) mod background;
pub(super) mod continuation;
pub(super) mod evaluation_task;
pub(super) mod lr_finder;
pub(super) mod model_files;
pub(super) mod predictor;
pub(super) mod runs_browser;
pub(super) mod torch_export;
pub(super) mod training_session;
