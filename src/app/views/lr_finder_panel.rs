//! The Optimizer tab's "Find learning rate": the range test's progress with Cancel, then its
//! smoothed loss against the rate (log axis) with fastai's two suggestions marked, each with
//! "Use" to set it as the learning rate.

use eframe::egui::{self, RichText};
use egui_plot::{Line, Plot, VLine};

use super::tokens;
use crate::app::command::AppCommand;
use crate::app::tasks::lr_finder::LrFinder;
use crate::train::{LrFindResult, Suggestion, TrainConfig};

pub fn lr_finder_ui(
    ui: &mut egui::Ui,
    finder: &LrFinder,
    config: &mut TrainConfig,
    can_start: bool,
    commands: &mut Vec<AppCommand>,
) {
    ui.separator();
    match finder.progress() {
        Some(done) => {
            ui.horizontal(|ui| {
                let total = finder.steps.max(1);
                ui.add(
                    egui::ProgressBar::new(done as f32 / total as f32)
                        .text(format!(
                            "Sweeping the learning rate: step {done} of {total}"
                        ))
                        .desired_width(220.0),
                );
                if ui.button("Cancel sweep").clicked() {
                    commands.push(AppCommand::CancelLrFind);
                }
            });
        }
        None => {
            if ui
                .add_enabled(can_start, egui::Button::new("Find learning rate"))
                .on_hover_text(
                    "Smith's range test: a few batches at rates from 1e-7 to 10, the loss \
                     against the rate, and where it falls fastest (nothing is trained)",
                )
                .on_disabled_hover_text("Wait for the data, or for the run to end")
                .clicked()
            {
                commands.push(AppCommand::FindLearningRate);
            }
        }
    }
    match &finder.result {
        Some(Ok(result)) => result_ui(ui, result, config),
        Some(Err(why)) => {
            ui.colored_label(tokens::ERROR, format!("The sweep failed: {why}"));
        }
        None => {}
    }
}

fn result_ui(ui: &mut egui::Ui, result: &LrFindResult, config: &mut TrainConfig) {
    let points: Vec<[f64; 2]> = result
        .points
        .iter()
        .filter(|p| p.smoothed.is_finite())
        .map(|p| [p.lr.log10(), p.smoothed])
        .collect();
    let suggestions: Vec<(&str, Suggestion)> =
        [("valley", result.valley), ("steepest", result.steepest)]
            .into_iter()
            .filter_map(|(name, s)| s.map(|s| (name, s)))
            .collect();
    Plot::new("lr-finder")
        .height(140.0)
        .x_axis_label("learning rate (log scale)")
        .x_grid_spacer(super::plot_axes::whole_marks)
        .x_axis_formatter(power_of_ten_text)
        .y_axis_label("smoothed loss")
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(Line::new("smoothed loss", points).color(tokens::TRAIN_LOSS));
            for (name, suggestion) in &suggestions {
                plot.vline(
                    VLine::new(
                        format!("{name} {:.1e}", suggestion.lr),
                        suggestion.lr.log10(),
                    )
                    .color(tokens::VALIDATION),
                );
            }
        });
    if suggestions.is_empty() {
        ui.label("The curve is too short to suggest a rate: try a larger dataset or batch.");
    }
    ui.horizontal_wrapped(|ui| {
        for (name, suggestion) in &suggestions {
            let text = format!("Use {:.1e} ({name})", suggestion.lr);
            if ui
                .button(text)
                .on_hover_text("Set it as the learning rate")
                .clicked()
            {
                config.optimizer.set_learning_rate(suggestion.lr);
            }
        }
        if result.diverged {
            ui.label(
                RichText::new("(the loss blew up before the end: the sweep stopped there)").small(),
            );
        }
    });
}

/// A mark on the log10 axis as the learning rate it stands for: "1e-4", "1", "10" (the axis
/// read "0" alone, in log10 units, over a sweep from 1e-7 to 10).
fn power_of_ten_text(mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    match mark.value.round() as i64 {
        0 => "1".into(),
        1 => "10".into(),
        power => format!("1e{power}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_axis_is_labelled_in_learning_rates() {
        let text = |value| {
            power_of_ten_text(
                egui_plot::GridMark {
                    value,
                    step_size: 1.0,
                },
                &(-7.0..=1.0),
            )
        };
        assert_eq!(text(-7.0), "1e-7");
        assert_eq!(text(-3.0), "1e-3");
        assert_eq!(text(0.0), "1");
        assert_eq!(text(1.0), "10");
        assert_eq!(text(2.0), "1e2");
    }
}
