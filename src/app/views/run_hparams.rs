//! For three or more ticked runs: a setting that differs between them against a result
//! (best validation metric or test metric), one point per run in its colour, as
//! TensorBoard's HParams and W&B's scatter plots show it. Only numeric settings can be
//! chosen; a range wider than 100x is drawn on a log axis (learning rates).

use eframe::egui::{self, RichText};
use egui_plot::{Plot, Points};

use super::run_curves::run_colour;
use crate::store::{Comparison, RunRow};

/// Runs a chart of settings against results needs at least.
pub const MIN_HPARAM_RUNS: usize = 3;

/// The chart's choices: the setting's path ("settings.optimizer.lr") and the result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HParamChoice {
    pub setting: Option<String>,
    pub test: bool,
}

/// The settings that differ and are numbers (or unset) in every run, with their values.
pub fn numeric_settings(comparison: &Comparison) -> Vec<(&str, Vec<Option<f64>>)> {
    comparison
        .differences
        .iter()
        .filter_map(|difference| {
            let values: Option<Vec<Option<f64>>> = difference
                .values
                .iter()
                .map(|v| {
                    if v.is_null() {
                        Some(None)
                    } else {
                        v.as_f64().map(Some)
                    }
                })
                .collect();
            values
                .filter(|v| v.iter().filter(|x| x.is_some()).count() >= 2)
                .map(|v| (difference.path.as_str(), v))
        })
        .collect()
}

/// A run's result: best validation accuracy (percent) or RMSE, or its test figure.
fn result_of(run: &RunRow, test: bool) -> Option<f64> {
    let (accuracy, rmse) = if test {
        (run.test_accuracy, run.test_rmse)
    } else {
        (run.best_validation_accuracy, run.best_validation_rmse)
    };
    accuracy
        .map(|a| a * 100.0)
        .or(rmse)
        .filter(|v| v.is_finite())
}

pub fn hparams_ui(ui: &mut egui::Ui, comparison: &Comparison, choice: &mut HParamChoice) {
    if comparison.runs.len() < MIN_HPARAM_RUNS {
        return;
    }
    let settings = numeric_settings(comparison);
    ui.label(RichText::new("A setting against the result").strong());
    if settings.is_empty() {
        ui.label("No numeric setting differs between these runs.");
        return;
    }
    let chosen = choice
        .setting
        .clone()
        .filter(|s| settings.iter().any(|(path, _)| path == s))
        .unwrap_or_else(|| settings[0].0.to_string());
    let mut picked = chosen.clone();
    ui.horizontal_wrapped(|ui| {
        egui::ComboBox::from_id_salt("hparam-setting")
            .selected_text(&picked)
            .show_ui(ui, |ui| {
                for (path, _) in &settings {
                    ui.selectable_value(&mut picked, path.to_string(), *path);
                }
            });
        ui.label("against");
        ui.selectable_value(&mut choice.test, false, "best validation");
        ui.selectable_value(&mut choice.test, true, "test");
    });
    choice.setting = Some(picked.clone());
    let Some((_, values)) = settings.iter().find(|(path, _)| *path == picked) else {
        return;
    };
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    let low = known.iter().copied().fold(f64::INFINITY, f64::min);
    let high = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log = low > 0.0 && high / low > 100.0;
    let regression = comparison.runs.iter().any(|r| r.test_rmse.is_some());
    Plot::new("hparams")
        .height(180.0)
        .x_axis_label(if log {
            format!("{picked} (log10)")
        } else {
            picked.clone()
        })
        .y_axis_label(match (choice.test, regression) {
            (false, false) => "best validation accuracy (%)",
            (false, true) => "best validation RMSE",
            (true, false) => "test accuracy (%)",
            (true, true) => "test RMSE",
        })
        .show(ui, |plot| {
            for (index, (run, value)) in comparison.runs.iter().zip(values).enumerate() {
                let (Some(x), Some(y)) = (*value, result_of(run, choice.test)) else {
                    continue;
                };
                let x = if log { x.log10() } else { x };
                plot.points(
                    Points::new(run.name.clone(), vec![[x, y]])
                        .radius(5.0)
                        .color(run_colour(index)),
                );
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Difference;
    use serde_json::json;

    #[test]
    fn only_settings_that_are_numbers_in_two_runs_or_more_can_be_charted() {
        let comparison = Comparison {
            runs: Vec::new(),
            differences: vec![
                Difference {
                    path: "settings.optimizer.lr".into(),
                    values: vec![json!(0.1), json!(0.01), json!(0.001)],
                },
                Difference {
                    path: "settings.optimizer.kind".into(),
                    values: vec![json!("Adam"), json!("Sgd"), json!("Adam")],
                },
                Difference {
                    path: "settings.train_limit".into(),
                    values: vec![json!(null), json!(100), json!(null)],
                },
                Difference {
                    path: "settings.batch_size".into(),
                    values: vec![json!(null), json!(32), json!(64)],
                },
            ],
            layers: Vec::new(),
        };
        let settings = numeric_settings(&comparison);
        let paths: Vec<&str> = settings.iter().map(|(p, _)| *p).collect();
        assert_eq!(paths, ["settings.optimizer.lr", "settings.batch_size"]);
        assert_eq!(settings[1].1, [None, Some(32.0), Some(64.0)]);
    }
}
