//! What the window remembers: its saved settings and their repair, and the models folder
//! where every trained model is kept.

pub(super) mod models_folder;
pub(super) mod saved_state;
pub(super) mod state;
