//! The models folder: one click saves there, and every trained model is kept there
//! automatically, so closing the window never loses one. It lives in the platform's data
//! directory (`~/.local/share/layerlab/models` on Linux), or under `LAYERLAB_DATA_DIR`.

use std::path::PathBuf;
use std::time::SystemTime;

/// File the newest trained model is kept in, replaced by each run.
pub const LAST_TRAINED: &str = "last-trained.safetensors";

/// The folder, or why there is none (no home directory).
pub fn models_dir() -> Result<PathBuf, String> {
    let base = match std::env::var_os("LAYERLAB_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => dirs::data_dir()
            .map(|d| d.join("layerlab"))
            .ok_or("this system has no data directory for LayerLab (is HOME set?)")?,
    };
    Ok(base.join("models"))
}

/// The models folder, created if it is missing; the error names the folder and the cause.
pub fn ensure_models_dir() -> Result<PathBuf, String> {
    let dir = models_dir()?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("Cannot create the models folder {}: {e}", dir.display()))?;
    Ok(dir)
}

/// A new file name for `at`: `layerlab-2026-11-23T21-07-01Z.safetensors` (UTC, no colons,
/// so it is valid everywhere), with a counter added if that name is taken.
pub fn timestamped_path(dir: &std::path::Path, at: SystemTime) -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(at)
        .to_string()
        .replace(':', "-");
    let first = dir.join(format!("layerlab-{stamp}.safetensors"));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("layerlab-{stamp}-{n}.safetensors")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn saved_names_are_timestamps_that_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let at = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let first = timestamped_path(dir.path(), at);
        assert_eq!(
            first.file_name().unwrap(),
            "layerlab-2026-11-18T11-06-40Z.safetensors"
        );
        std::fs::write(&first, b"x").unwrap();
        let second = timestamped_path(dir.path(), at);
        assert_eq!(
            second.file_name().unwrap(),
            "layerlab-2026-11-18T11-06-40Z-2.safetensors"
        );
    }
}
