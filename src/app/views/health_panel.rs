//! Training health in the Inside tab: the warnings with what to change, per-layer norms and
//! update ratios, their history, dead ReLU units, and weight and gradient histograms over
//! time as a heat map (TensorBoard's histogram view, one column per report).

use std::collections::BTreeMap;

use eframe::egui::{self, Color32, ColorImage, RichText, TextureHandle, TextureOptions};
use egui_plot::{HLine, Legend, Line, Plot};

use crate::app::views::tokens;
use crate::train::{HealthReport, MetricsHistory, TrainConfig, WarningKind};

/// Line colours of successive layers.
const LAYER_COLOURS: [Color32; 6] = tokens::SERIES_COLOURS;

/// What the health view keeps between frames.
#[derive(Default)]
pub struct HealthView {
    /// Layer whose histograms are shown.
    pub layer: Option<usize>,
    pub gradients: bool,
    /// The heat map and what it was made from: (reports, last step, layer, gradients).
    heat_map: Option<((usize, usize, usize, bool), TextureHandle)>,
}

pub fn health_ui(
    ui: &mut egui::Ui,
    view: &mut HealthView,
    history: &MetricsHistory,
    training: &mut TrainConfig,
) {
    ui.horizontal(|ui| {
        let label = ui.label("Record every");
        ui.add(
            egui::DragValue::new(&mut training.health_every_steps)
                .range(0..=100_000)
                .suffix(" steps"),
        )
        .labelled_by(label.id)
        .on_hover_text("0 turns it off. Takes effect at the next run.");
    });
    let Some(latest) = history.health.last() else {
        ui.label("Health is recorded while a model trains: weight and gradient norms, how far each step moves the weights, dead ReLU units on a fixed batch of 64 training samples, and loss spikes.");
        return;
    };
    // Both ways: the table is wider than a small window's middle panel.
    egui::ScrollArea::both().id_salt("health").show(ui, |ui| {
        warnings_ui(ui, history);
        ui.label(RichText::new(format!("At step {}", crate::app::thousands(latest.step))).strong());
        layers_table_ui(ui, latest);
        ratio_plot_ui(ui, history);
        dead_plot_ui(ui, history);
        histogram_ui(ui, view, history);
    });
}

/// Every distinct warning of the run (the newest wording of each), newest first.
fn warnings_ui(ui: &mut egui::Ui, history: &MetricsHistory) {
    let mut newest: BTreeMap<(WarningKind, Option<usize>), (usize, &str)> = BTreeMap::new();
    for report in &history.health {
        for warning in &report.warnings {
            newest.insert(
                (warning.kind, warning.layer),
                (report.step, &warning.message),
            );
        }
    }
    if newest.is_empty() {
        ui.colored_label(tokens::OK, "No warnings: no dead layers, vanishing gradients, oversized updates or loss spikes so far.");
        return;
    }
    let mut warnings: Vec<(usize, &str)> = newest.into_values().collect();
    warnings.sort_by_key(|w| std::cmp::Reverse(w.0));
    for (step, message) in warnings {
        ui.colored_label(
            tokens::WARNING,
            format!("Warning at step {}: {message}", crate::app::thousands(step)),
        );
    }
}

fn layers_table_ui(ui: &mut egui::Ui, report: &HealthReport) {
    egui::Grid::new("health-layers")
        .num_columns(5)
        .striped(true)
        .show(ui, |ui| {
            for heading in [
                "layer",
                "|weights|",
                "|gradient|",
                "gradient / weights",
                "update / weights",
            ] {
                ui.strong(heading);
            }
            ui.end_row();
            for layer in &report.layers {
                ui.label(format!("{} {}", layer.layer, layer.kind));
                ui.monospace(format!("{:.3}", layer.weight_norm));
                ui.monospace(format!("{:.2e}", layer.gradient_norm));
                ui.monospace(format!(
                    "{:.2e}",
                    layer.gradient_norm / layer.weight_norm.max(f32::MIN_POSITIVE)
                ));
                let healthy = (1e-4..=1e-2).contains(&layer.update_ratio);
                ui.colored_label(
                    if healthy { tokens::OK } else { tokens::WARNING },
                    format!("{:.2e}", layer.update_ratio),
                );
                ui.end_row();
            }
            for dead in &report.dead_units {
                ui.label(format!("{} ReLU", dead.layer));
                ui.label(format!(
                    "{:.0}% dead ({} of {} units)",
                    dead.fraction() * 100.0,
                    dead.dead,
                    dead.units
                ));
                ui.end_row();
            }
        });
    ui.small("Update / weights: how far one step moves a layer's weights; about 1e-3 is healthy, far below barely learns, far above jumps around.");
}

fn ratio_plot_ui(ui: &mut egui::Ui, history: &MetricsHistory) {
    let layers = history.health.last().map_or(0, |r| r.layers.len());
    ui.label(RichText::new("Update / weights over the run (log10)").strong());
    Plot::new("update-ratio")
        .height(150.0)
        .legend(Legend::default())
        .x_axis_label("step")
        .show(ui, |plot| {
            plot.hline(HLine::new("healthy (1e-3)", -3.0).color(tokens::EPOCH_MARK));
            for index in 0..layers {
                let points: Vec<[f64; 2]> = history
                    .health
                    .iter()
                    .filter_map(|r| {
                        let layer = r.layers.get(index)?;
                        (layer.update_ratio > 0.0)
                            .then(|| [r.step as f64, f64::from(layer.update_ratio).log10()])
                    })
                    .collect();
                let name = history
                    .health
                    .last()
                    .and_then(|r| r.layers.get(index))
                    .map_or_else(String::new, |l| format!("layer {} {}", l.layer, l.kind));
                plot.line(
                    Line::new(name, points).color(LAYER_COLOURS[index % LAYER_COLOURS.len()]),
                );
            }
        });
}

fn dead_plot_ui(ui: &mut egui::Ui, history: &MetricsHistory) {
    let relus = history.health.last().map_or(0, |r| r.dead_units.len());
    if relus == 0 {
        return;
    }
    ui.label(RichText::new("Dead ReLU units (%)").strong());
    Plot::new("dead-units")
        .height(120.0)
        .legend(Legend::default())
        .include_y(0.0)
        .include_y(100.0)
        .x_axis_label("step")
        .show(ui, |plot| {
            for index in 0..relus {
                let points: Vec<[f64; 2]> = history
                    .health
                    .iter()
                    .filter_map(|r| {
                        let dead = r.dead_units.get(index)?;
                        Some([r.step as f64, f64::from(dead.fraction()) * 100.0])
                    })
                    .collect();
                let name = history
                    .health
                    .last()
                    .and_then(|r| r.dead_units.get(index))
                    .map_or_else(String::new, |d| format!("layer {} ReLU", d.layer));
                plot.line(
                    Line::new(name, points).color(LAYER_COLOURS[index % LAYER_COLOURS.len()]),
                );
            }
        });
}

fn histogram_ui(ui: &mut egui::Ui, view: &mut HealthView, history: &MetricsHistory) {
    let Some(latest) = history.health.last() else {
        return;
    };
    if latest.layers.is_empty() {
        return;
    }
    let layer = view
        .layer
        .filter(|&l| latest.layers.iter().any(|h| h.layer == l))
        .unwrap_or(latest.layers[0].layer);
    ui.horizontal(|ui| {
        ui.label(RichText::new("Histograms over time").strong());
        let mut chosen = layer;
        egui::ComboBox::from_id_salt("histogram-layer")
            .selected_text(format!("layer {chosen}"))
            .show_ui(ui, |ui| {
                for h in &latest.layers {
                    ui.selectable_value(
                        &mut chosen,
                        h.layer,
                        format!("layer {} {}", h.layer, h.kind),
                    );
                }
            });
        view.layer = Some(chosen);
        ui.selectable_value(&mut view.gradients, false, "weights");
        ui.selectable_value(&mut view.gradients, true, "gradients");
    });
    let key = (history.health.len(), latest.step, layer, view.gradients);
    if view.heat_map.as_ref().map(|(k, _)| *k) != Some(key) {
        let image = heat_map(&history.health, layer, view.gradients);
        view.heat_map = Some((
            key,
            ui.ctx()
                .load_texture("health-histograms", image, TextureOptions::NEAREST),
        ));
    }
    if let Some((_, texture)) = &view.heat_map {
        let width = ui.available_width().min(720.0);
        ui.add(
            egui::Image::new(texture)
                .maintain_aspect_ratio(false)
                .fit_to_exact_size(egui::vec2(width, 160.0)),
        );
    }
    let range = latest.layers.iter().find(|h| h.layer == layer).map(|h| {
        if view.gradients {
            h.gradients.high
        } else {
            h.weights.high
        }
    });
    ui.small(format!(
        "One column per report, left to right; each spans minus to plus its own largest value (now ±{:.3e}), zero in the middle; brighter: more values.",
        range.unwrap_or(0.0)
    ));
}

/// Reports as columns, histogram bins as rows (positive values up), each column scaled by
/// its fullest bin.
pub fn heat_map(reports: &[HealthReport], layer: usize, gradients: bool) -> ColorImage {
    let columns: Vec<&[u32]> = reports
        .iter()
        .filter_map(|r| {
            let h = r.layers.iter().find(|h| h.layer == layer)?;
            Some(if gradients {
                h.gradients.counts.as_slice()
            } else {
                h.weights.counts.as_slice()
            })
        })
        .collect();
    let bins = columns.first().map_or(1, |c| c.len()).max(1);
    let width = columns.len().max(1);
    let mut image = ColorImage::filled([width, bins], Color32::BLACK);
    for (x, counts) in columns.iter().enumerate() {
        let fullest = counts.iter().copied().max().unwrap_or(0).max(1) as f32;
        for (bin, &count) in counts.iter().enumerate().take(bins) {
            let t = (count as f32 / fullest).sqrt();
            let y = bins - 1 - bin;
            image.pixels[y * width + x] = Color32::from_rgb(
                (t * 255.0) as u8,
                (t * t * 200.0) as u8,
                ((1.0 - t) * t * 180.0) as u8,
            );
        }
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{Histogram, LayerHealth};

    fn report(step: usize, values: &[f32]) -> HealthReport {
        HealthReport::new(
            step,
            vec![LayerHealth {
                layer: 0,
                kind: "Linear".into(),
                weight_norm: 1.0,
                gradient_norm: 0.1,
                update_ratio: 1e-3,
                weights: Histogram::symmetric(values, 4),
                gradients: Histogram::symmetric(&[], 4),
            }],
            Vec::new(),
            Vec::new(),
            false,
        )
    }

    #[test]
    fn the_heat_map_has_a_column_per_report_with_positive_values_up() {
        let reports = [report(100, &[0.9, 0.9, -0.9]), report(200, &[-1.0])];
        let image = heat_map(&reports, 0, false);
        assert_eq!(image.size, [2, 4]);
        // Report 1: bin 3 (positive) is fullest: the top row, full brightness.
        assert_eq!(image.pixels[0].r(), 255);
        // Its bin 0 (one negative value of two) is the bottom row, dimmer.
        let bottom = image.pixels[3 * 2];
        assert!(bottom.r() > 0 && bottom.r() < 255, "{bottom:?}");
        // Report 2: only bin 0.
        assert_eq!(image.pixels[3 * 2 + 1].r(), 255);
        assert_eq!(image.pixels[1].r(), 0);
        // No such layer: an empty picture, not a panic.
        assert_eq!(heat_map(&reports, 5, false).size, [1, 1]);
    }
}
