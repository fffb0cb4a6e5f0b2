//! Repairs the saved window state (eframe's `app.ron`) before eframe reads it.
//!
//! eframe restores egui's memory and the window geometry from this file at launch; a zoom
//! factor of 0, NaN, -1 or 100 there panics inside winit at every launch, with no way out
//! but deleting the file. So LayerLab reads it first: egui's zoom factor is put back in range,
//! window geometry with impossible numbers is dropped (the window opens at its default size),
//! LayerLab's own settings are checked, and a file that cannot be read at all is kept as
//! `app.ron.bad` and replaced by defaults. What was done is said in the window.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::app::persistence::state::PersistedState;

/// The zoom factors egui is allowed to start with.
pub const ZOOM_RANGE: std::ops::RangeInclusive<f32> = 0.25..=5.0;
/// Window coordinates and sizes beyond this many points are not a real screen.
const MAX_WINDOW_COORDINATE: f64 = 100_000.0;

/// Where eframe keeps LayerLab's state (`~/.local/share/layerlab/app.ron` on Linux).
pub fn storage_file() -> Option<PathBuf> {
    eframe::storage_dir("LayerLab").map(|dir| dir.join("app.ron"))
}

/// Repairs the file at `path` in place; returns what the person should be told, if anything.
pub fn repair_storage_file(path: &Path) -> Option<String> {
    // A missing file is a first launch; anything else that cannot be read is kept as bad.
    let bytes = std::fs::read(path).ok()?;
    let keep_bad = |why: &str| {
        let bad = path.with_extension("ron.bad");
        let kept = std::fs::rename(path, &bad).is_ok();
        Some(if kept {
            format!(
                "The saved window state could not be read ({why}); it was kept as {} and LayerLab started with default settings.",
                bad.display()
            )
        } else {
            format!("The saved window state could not be read ({why}); LayerLab started with default settings.")
        })
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return keep_bad(&format!("it is not UTF-8 text: {e}")),
    };
    let mut entries: HashMap<String, String> = match ron::from_str(&text) {
        Ok(entries) => entries,
        Err(e) => return keep_bad(&e.to_string()),
    };
    let mut notes = Vec::new();
    if let Some(egui) = entries.get_mut("egui") {
        if let Some(repaired) = repair_zoom_factor(egui) {
            *egui = repaired;
            notes.push("the zoom factor was out of range and is back at 100%");
        }
    }
    if entries
        .get("window")
        .is_some_and(|window| !window_geometry_is_sane(window))
    {
        entries.remove("window");
        notes.push("the saved window size or position was impossible and was reset");
    }
    if let Some(app) = entries.get(eframe::APP_KEY) {
        match ron::from_str::<PersistedState>(app) {
            Ok(state) => {
                let (clean, changed) = state.sanitised();
                if changed {
                    if let Ok(text) = ron::to_string(&clean) {
                        entries.insert(eframe::APP_KEY.to_string(), text);
                    }
                    notes.push("some settings were out of range and were reset");
                }
            }
            Err(_) => {
                let bad = path.with_extension("ron.bad");
                let _ = std::fs::write(&bad, &text);
                entries.remove(eframe::APP_KEY);
                notes.push("LayerLab's settings could not be read (a copy is in app.ron.bad)");
            }
        }
    }
    if notes.is_empty() {
        return None;
    }
    if let Ok(text) = ron::ser::to_string_pretty(&entries, ron::ser::PrettyConfig::default()) {
        let _ = std::fs::write(path, text);
    }
    Some(format!(
        "Saved window state repaired: {}.",
        notes.join("; ")
    ))
}

/// egui's memory with `zoom_factor` put back to 1 when it is not a number in [`ZOOM_RANGE`];
/// `None` when it is fine (or absent).
fn repair_zoom_factor(egui: &str) -> Option<String> {
    const KEY: &str = "zoom_factor:";
    let start = egui.find(KEY)? + KEY.len();
    let end = egui[start..]
        .find([',', ')'])
        .map_or(egui.len(), |i| start + i);
    let value = egui[start..end].trim();
    let fine = value
        .parse::<f32>()
        .is_ok_and(|v| v.is_finite() && ZOOM_RANGE.contains(&v));
    if fine {
        return None;
    }
    Some(format!("{}1.0{}", &egui[..start], &egui[end..]))
}

/// Whether every number in the window geometry is finite, within a real screen's range, and
/// the scale factor positive.
fn window_geometry_is_sane(window: &str) -> bool {
    let Ok(value) = ron::from_str::<ron::Value>(window) else {
        return false;
    };
    #[allow(clippy::wildcard_enum_match_arm)] // ron::Value is foreign and non-exhaustive.
    fn walk(value: &ron::Value, key: Option<&str>) -> bool {
        match value {
            ron::Value::Number(n) => {
                let v = n.into_f64();
                let in_range = v.is_finite() && v.abs() <= MAX_WINDOW_COORDINATE;
                match key {
                    Some("scale_factor") => in_range && v > 0.0 && v <= 10.0,
                    _ => in_range,
                }
            }
            ron::Value::Map(map) => map.iter().all(|(k, v)| {
                let name = if let ron::Value::String(s) = k {
                    Some(s.as_str())
                } else {
                    None
                };
                walk(v, name)
            }),
            ron::Value::Seq(items) => items.iter().all(|v| walk(v, key)),
            ron::Value::Option(Some(inner)) => walk(inner, key),
            // ron's values are non-exhaustive; the others hold no number.
            _ => true,
        }
    }
    walk(&value, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(egui_zoom: &str, window: &str, app: &str) -> String {
        let entries: HashMap<String, String> = [
            (
                "egui".to_string(),
                format!("(options:(theme_preference:System,zoom_factor:{egui_zoom},repaint_on_widget_change:false))"),
            ),
            ("window".to_string(), window.to_string()),
            (eframe::APP_KEY.to_string(), app.to_string()),
        ]
        .into();
        ron::to_string(&entries).unwrap()
    }

    const GOOD_WINDOW: &str = "(normal_geometry:(outer_position_pixels:Some((x:0.0,y:0.0)),scale_factor:1.0,inner_size_points:(x:1000.0,y:640.0)),fullscreen:false,maximized:false)";

    #[test]
    fn zoom_factors_that_panicked_at_launch_are_put_back_to_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.ron");
        let app = ron::to_string(&PersistedState::default()).unwrap();
        for zoom in ["0.0", "NaN", "-1.0", "100.0", "inf"] {
            std::fs::write(&path, storage(zoom, GOOD_WINDOW, &app)).unwrap();
            let message = repair_storage_file(&path).expect("repaired");
            assert!(message.contains("zoom factor"), "{message}");
            let entries: HashMap<String, String> =
                ron::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert!(
                entries["egui"].contains("zoom_factor:1.0,"),
                "{}",
                entries["egui"]
            );
            assert_eq!(entries["window"], GOOD_WINDOW);
        }
        // A sane file is left alone, byte for byte.
        let good = storage("1.5", GOOD_WINDOW, &app);
        std::fs::write(&path, &good).unwrap();
        assert_eq!(repair_storage_file(&path), None);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), good);
    }

    #[test]
    fn impossible_window_geometry_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.ron");
        let app = ron::to_string(&PersistedState::default()).unwrap();
        for bad in [
            GOOD_WINDOW.replace("scale_factor:1.0", "scale_factor:0.0"),
            GOOD_WINDOW.replace("x:1000.0", "x:NaN"),
            GOOD_WINDOW.replace("y:640.0", "y:1e30"),
        ] {
            std::fs::write(&path, storage("1.0", &bad, &app)).unwrap();
            let message = repair_storage_file(&path).expect("repaired");
            assert!(message.contains("window size"), "{message}");
            let entries: HashMap<String, String> =
                ron::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert!(!entries.contains_key("window"));
        }
    }

    #[test]
    fn an_unreadable_file_is_kept_as_bad_and_defaults_are_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.ron");
        std::fs::write(&path, "{\"egui\": \"(options:(zoom_fac").unwrap();
        let message = repair_storage_file(&path).expect("reported");
        assert!(message.contains("app.ron.bad"), "{message}");
        assert!(!path.exists());
        assert!(dir.path().join("app.ron.bad").exists());

        // Bytes that are not UTF-8 are kept too, not replaced silently.
        std::fs::write(&path, b"{\"egui\": \"\xff\xfe\x00 zoom\"}").unwrap();
        let message = repair_storage_file(&path).expect("reported");
        assert!(message.contains("not UTF-8"), "{message}");
        assert!(!path.exists());
        assert_eq!(
            std::fs::read(dir.path().join("app.ron.bad")).unwrap(),
            b"{\"egui\": \"\xff\xfe\x00 zoom\"}"
        );

        // LayerLab's own settings broken, egui's fine: only ours are reset, with a copy kept.
        std::fs::write(&path, storage("1.0", GOOD_WINDOW, "(stack: 12)")).unwrap();
        let message = repair_storage_file(&path).expect("reported");
        assert!(message.contains("settings could not be read"), "{message}");
        let entries: HashMap<String, String> =
            ron::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(!entries.contains_key(eframe::APP_KEY));
    }

    #[test]
    fn out_of_range_settings_are_reset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.ron");
        let mut state = PersistedState::default();
        state.training.batch_size = 0;
        state.brush_radius = f32::NAN;
        state.stack = crate::spec::ModelSpec::new(vec![crate::spec::Layer::ReLU; 10_000]);
        let app = ron::to_string(&state).unwrap();
        std::fs::write(&path, storage("1.0", GOOD_WINDOW, &app)).unwrap();
        let message = repair_storage_file(&path).expect("reported");
        assert!(message.contains("out of range"), "{message}");
        let entries: HashMap<String, String> =
            ron::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let restored: PersistedState = ron::from_str(&entries[eframe::APP_KEY]).unwrap();
        let defaults = PersistedState::default();
        assert_eq!(restored.training.batch_size, defaults.training.batch_size);
        assert_eq!(restored.brush_radius, defaults.brush_radius);
        assert_eq!(restored.stack, defaults.stack);
    }
}
