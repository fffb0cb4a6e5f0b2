//! The Inside tab: the current model seen from inside while it learns.
//!
//! - Activations of the try-it input, layer by layer (maps for images, bars for features);
//!   a click enlarges one and finds the training samples that excite it most.
//! - Why this prediction: saliency maps beside the same map of a randomised copy.
//! - Filters of the first layer that learns.
//! - Training health (`health_panel`).
//!
//! Everything shown is computed on the predictor's thread (`predictor::ExplainRequest`) or a
//! background task; this file only turns it into textures when a new answer arrives, and draws.

use std::sync::Arc;

use eframe::egui::{self, RichText, TextureHandle};

use crate::app::command::AppCommand;
use crate::app::tasks::background::{take_answer, BackgroundTask, Waker};
use crate::app::tasks::predictor::LivePrediction;
use crate::app::views::inside_pictures::{bars_ui, rgb_texture, Mosaic, Scale, MAX_MAPS};
use crate::app::views::tokens;
use crate::data::{ColumnStep, Dataset, InputPipeline};
use crate::explain::{picture, Explanation, Filters, EXCITING_SAMPLE, EXCITING_TOP};
use crate::export::SavedModel;
use crate::spec::{ActivationShape, Layer};
use crate::train::{MetricsHistory, TrainConfig};

/// Flat layers with more units than this are drawn as a grid of cells, not bars.
const MAX_BARS: usize = 256;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InsideView {
    #[default]
    Activations,
    Saliency,
    Filters,
    Health,
}

/// What the Inside tab keeps between frames.
#[derive(Default)]
pub struct InsidePanel {
    pub view: InsideView,
    /// The class to explain; `None`: the predicted one.
    pub class: Option<usize>,
    /// The map or unit clicked: (layer, unit).
    pub selected: Option<(usize, usize)>,
    pictures: Option<Pictures>,
    filter_pictures: Option<(Arc<Filters>, FilterPictures)>,
    exciting: Option<ExcitingSearch>,
    pub(in crate::app) health: crate::app::views::health_panel::HealthView,
}

/// Textures of one explanation, made when it arrives.
struct Pictures {
    of: Arc<Explanation>,
    layers: Vec<LayerPicture>,
    /// (caption, texture) of each saliency panel.
    saliency: Vec<(&'static str, TextureHandle)>,
    /// The selected map, enlarged.
    enlarged: Option<((usize, usize), TextureHandle)>,
}

struct LayerPicture {
    layer: usize,
    title: String,
    drawing: LayerDrawing,
}

enum LayerDrawing {
    /// Image-shaped: one map per channel. Flat with many units: one cell per unit.
    Maps(Mosaic),
    Bars(Vec<f32>),
}

struct FilterPictures {
    first: Option<(String, Mosaic)>,
    deeper: Vec<(String, Vec<f32>)>,
}

/// Training samples found, as `(index, activation)`, or why not.
type Found = Result<Vec<(u32, f32)>, String>;

/// The search for the training samples that excite one unit.
struct ExcitingSearch {
    unit: (usize, usize),
    task: Option<BackgroundTask<Found>>,
    found: Option<Found>,
    thumbnails: Vec<TextureHandle>,
}

impl InsidePanel {
    /// Starts looking for the training samples that excite `unit` most, with `model`.
    pub fn find_exciting(
        &mut self,
        model: Arc<SavedModel>,
        dataset: Arc<Dataset>,
        unit: (usize, usize),
        waker: Waker,
    ) {
        let task = BackgroundTask::spawn("exciting", waker, move || {
            let model = SavedModel::clone(&model)
                .into_model(&Default::default(), "the model")
                .map_err(|e| e.to_string())?;
            crate::explain::most_exciting(&model, &dataset.train, unit.0, unit.1, EXCITING_TOP)
                .map_err(|e| e.to_string())
        });
        self.exciting = Some(ExcitingSearch {
            unit,
            found: task.as_ref().err().map(|e| Err(e.to_string())),
            task: task.ok(),
            thumbnails: Vec::new(),
        });
    }

    /// Takes the search's answer when it has come.
    pub fn poll(&mut self) {
        let Some(search) = &mut self.exciting else {
            return;
        };
        if let Some(found) = take_answer(&mut search.task, "the search stopped unexpectedly") {
            search.found = Some(found);
        }
    }

    /// Whether a search is running (tests wait for it).
    pub fn searching(&self) -> bool {
        self.exciting.as_ref().is_some_and(|s| s.task.is_some())
    }

    /// The samples found for the selected unit, or why none were, once the search ended.
    pub fn exciting_found(&self) -> Option<Result<&[(u32, f32)], &str>> {
        match self.exciting.as_ref()?.found.as_ref()? {
            Ok(found) => Some(Ok(found)),
            Err(why) => Some(Err(why)),
        }
    }

    /// Whether the view on show needs activations and saliency maps (not only filters).
    pub fn shows_maps(&self) -> bool {
        matches!(self.view, InsideView::Activations | InsideView::Saliency)
    }

    /// The explanation on show, if any.
    pub fn shown(&self) -> Option<&Arc<Explanation>> {
        self.pictures.as_ref().map(|p| &p.of)
    }
}

/// What the tab draws from.
pub struct InsideInputs<'a> {
    pub prediction: Option<&'a Result<LivePrediction, String>>,
    pub filters: Option<&'a Arc<Filters>>,
    pub dataset: Option<&'a Dataset>,
    pub history: &'a MetricsHistory,
    pub has_model: bool,
    /// The typed text, for text models.
    pub text: &'a str,
}

pub fn inside_ui(
    ui: &mut egui::Ui,
    panel: &mut InsidePanel,
    inputs: InsideInputs<'_>,
    training: &mut TrainConfig,
    commands: &mut Vec<AppCommand>,
) {
    let before = panel.view;
    ui.horizontal_wrapped(|ui| {
        for (view, name) in [
            (InsideView::Activations, "Activations"),
            (InsideView::Saliency, "Why this prediction"),
            (InsideView::Filters, "Filters"),
            (InsideView::Health, "Training health"),
        ] {
            ui.selectable_value(&mut panel.view, view, name);
        }
    });
    ui.separator();
    if panel.shows_maps() && !matches!(before, InsideView::Activations | InsideView::Saliency) {
        // The maps are computed only for the views that show them: ask for them now.
        commands.push(AppCommand::LookInside);
    }
    if panel.view == InsideView::Health {
        crate::app::views::health_panel::health_ui(ui, &mut panel.health, inputs.history, training);
        return;
    }
    if !inputs.has_model {
        ui.label("Train or load a model to look inside it.");
        return;
    }
    if panel.view == InsideView::Filters {
        filters_ui(ui, panel, inputs.filters);
        return;
    }
    let explanation = match inputs.prediction {
        None => {
            ui.label("Draw, type or fill in an input in the Try panel: its path through the network appears here.");
            return;
        }
        Some(Err(why)) => {
            ui.colored_label(tokens::ERROR, why);
            return;
        }
        Some(Ok(prediction)) => match &prediction.explanation {
            None if prediction.plane.is_some() => {
                ui.label("A 2-D set has no single input to follow: the decision regions in the Try panel show the model at every point of the plane. Filters and Training health work as for any model.");
                return;
            }
            None => {
                ui.spinner();
                return;
            }
            Some(Err(why)) => {
                ui.colored_label(tokens::ERROR, format!("Cannot look inside: {why}"));
                return;
            }
            Some(Ok(explanation)) => (prediction, explanation.clone()),
        },
    };
    let (prediction, explanation) = explanation;
    refresh_pictures(ui.ctx(), panel, &explanation, prediction);
    match panel.view {
        InsideView::Activations => activations_ui(ui, panel, inputs.dataset, commands),
        InsideView::Saliency => saliency_ui(
            ui,
            panel,
            prediction,
            &explanation,
            inputs.dataset,
            inputs.text,
            commands,
        ),
        InsideView::Filters | InsideView::Health => {}
    }
}

/// Makes the textures of a new explanation (once per answer, not per frame).
fn refresh_pictures(
    ctx: &egui::Context,
    panel: &mut InsidePanel,
    explanation: &Arc<Explanation>,
    prediction: &LivePrediction,
) {
    let current = panel.pictures.as_ref().is_some_and(|p| {
        Arc::ptr_eq(&p.of, explanation) && p.enlarged.as_ref().map(|e| e.0) == panel.selected
    });
    if current {
        return;
    }
    let layers = explanation
        .activations
        .iter()
        .filter(|a| !matches!(a.kind, Layer::Flatten | Layer::Dropout { .. }))
        .map(|activation| {
            let name = format!("activation-{}", activation.layer);
            let title = format!(
                "{} {}: {}",
                activation.layer,
                activation.kind,
                shape_text(activation.shape)
            );
            let drawing = match activation.shape {
                ActivationShape::Spatial {
                    channels,
                    height,
                    width,
                } => LayerDrawing::Maps(Mosaic::new(
                    ctx,
                    &name,
                    (0..channels).filter_map(|c| activation.map(c)),
                    height,
                    width,
                    Scale::fitting(&activation.values),
                )),
                ActivationShape::Flat { features } if features > MAX_BARS => {
                    // One cell per unit, rows of a square.
                    let side = (features as f32).sqrt().ceil() as usize;
                    let mut values = activation.values.clone();
                    values.resize(side * side, 0.0);
                    LayerDrawing::Maps(Mosaic::new(
                        ctx,
                        &name,
                        std::iter::once(values.as_slice()),
                        side,
                        side,
                        Scale::fitting(&activation.values),
                    ))
                }
                ActivationShape::Flat { .. } => LayerDrawing::Bars(activation.values.clone()),
            };
            LayerPicture {
                layer: activation.layer,
                title,
                drawing,
            }
        })
        .collect();
    let saliency = match prediction.image_size {
        Some((width, height)) => saliency_pictures(ctx, explanation, prediction, height, width),
        None => Vec::new(),
    };
    let enlarged = panel.selected.and_then(|(layer, unit)| {
        let activation = explanation.activations.get(layer)?;
        let ActivationShape::Spatial { height, width, .. } = activation.shape else {
            return None;
        };
        let map = activation.map(unit)?;
        let mosaic = Mosaic::new(
            ctx,
            "enlarged",
            std::iter::once(map),
            height,
            width,
            Scale::fitting(map),
        );
        Some(((layer, unit), mosaic.texture))
    });
    panel.pictures = Some(Pictures {
        of: explanation.clone(),
        layers,
        saliency,
        enlarged,
    });
}

fn shape_text(shape: ActivationShape) -> String {
    match shape {
        ActivationShape::Spatial {
            channels,
            height,
            width,
        } => format!("{channels} maps of {height}x{width}"),
        ActivationShape::Flat { features } => format!("{features} units"),
    }
}

fn saliency_pictures(
    ctx: &egui::Context,
    explanation: &Explanation,
    prediction: &LivePrediction,
    height: usize,
    width: usize,
) -> Vec<(&'static str, TextureHandle)> {
    let plane = height * width;
    let Some(input) = prediction.input.get(..plane) else {
        return Vec::new();
    };
    let overlay = |map: &[f32], map_height, map_width| {
        picture::overlay(input, height, width, map, map_height, map_width)
    };
    let mut panels = vec![
        ("Input", picture::input_panel(input, height, width)),
        (
            "Gradient x input",
            overlay(&explanation.gradient_times_input[..plane], height, width),
        ),
        ("Occlusion", overlay(&explanation.occlusion, height, width)),
    ];
    if let Some(cam) = &explanation.grad_cam {
        panels.push(("Grad-CAM", overlay(&cam.values, cam.height, cam.width)));
    }
    panels.push((
        "Random weights: gradient x input",
        overlay(
            &explanation.random_gradient_times_input[..plane],
            height,
            width,
        ),
    ));
    panels
        .into_iter()
        .enumerate()
        .map(|(i, (caption, image))| (caption, rgb_texture(ctx, &format!("saliency-{i}"), &image)))
        .collect()
}

fn activations_ui(
    ui: &mut egui::Ui,
    panel: &mut InsidePanel,
    dataset: Option<&Dataset>,
    commands: &mut Vec<AppCommand>,
) {
    let Some(pictures) = &panel.pictures else {
        return;
    };
    ui.label(format!(
        "The try-it input, layer by layer ({:.1} ms on the predictor thread). Orange: positive, blue: negative. Click a map or unit to enlarge it.",
        pictures.of.timings.activations_ms
    ));
    let mut clicked = None;
    egui::ScrollArea::vertical()
        .id_salt("activations")
        .show(ui, |ui| {
            if let Some(selected) = panel.selected {
                selected_ui(ui, panel, selected, dataset, commands);
                ui.separator();
            }
            let Some(pictures) = &panel.pictures else {
                return;
            };
            let width = ui.available_width().max(120.0);
            for picture in &pictures.layers {
                ui.label(RichText::new(&picture.title).strong());
                let hover = "Click to enlarge and find the training samples that excite it most";
                let unit = match &picture.drawing {
                    LayerDrawing::Maps(mosaic) => {
                        let more =
                            picture_count(&pictures.of, picture.layer).saturating_sub(MAX_MAPS);
                        let unit = mosaic.ui(ui, width, hover);
                        if more > 0 {
                            ui.small(format!("and {more} more maps"));
                        }
                        // A map per channel; or one grid of a flat layer's units.
                        unit.map(|(map, position)| {
                            if picture_count(&pictures.of, picture.layer) > 0 {
                                map
                            } else {
                                position
                            }
                        })
                    }
                    LayerDrawing::Bars(values) => bars_ui(ui, values, width, hover),
                };
                if let Some(unit) = unit {
                    clicked = Some((picture.layer, unit));
                }
                ui.add_space(6.0);
            }
        });
    if let Some(unit) = clicked {
        commands.push(AppCommand::InspectUnit {
            layer: unit.0,
            unit: unit.1,
        });
    }
}

/// Channels of an image-shaped layer (what a mosaic's index counts).
fn picture_count(explanation: &Explanation, layer: usize) -> usize {
    match explanation.activations.get(layer).map(|a| a.shape) {
        Some(ActivationShape::Spatial { channels, .. }) => channels,
        Some(ActivationShape::Flat { .. }) | None => 0,
    }
}

fn selected_ui(
    ui: &mut egui::Ui,
    panel: &InsidePanel,
    (layer, unit): (usize, usize),
    dataset: Option<&Dataset>,
    commands: &mut Vec<AppCommand>,
) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("Layer {layer}, unit {unit}")).heading());
        if ui.button("Close").clicked() {
            commands.push(AppCommand::CloseUnit);
        }
    });
    if let Some(((_, _), texture)) = panel.pictures.as_ref().and_then(|p| p.enlarged.as_ref()) {
        ui.add(egui::Image::new(texture).fit_to_exact_size(egui::Vec2::splat(168.0)));
    }
    let Some(search) = panel.exciting.as_ref().filter(|s| s.unit == (layer, unit)) else {
        return;
    };
    ui.label(format!(
        "Training samples that excite it most (top {EXCITING_TOP} of {EXCITING_SAMPLE}):"
    ));
    match &search.found {
        None => {
            ui.spinner();
        }
        Some(Err(why)) => {
            ui.colored_label(tokens::ERROR, why);
        }
        Some(Ok(found)) => {
            let Some(dataset) = dataset else {
                return;
            };
            ui.horizontal_wrapped(|ui| {
                for (rank, &(index, value)) in found.iter().enumerate() {
                    ui.vertical(|ui| {
                        match search.thumbnails.get(rank) {
                            Some(texture) => {
                                ui.add(
                                    egui::Image::new(texture).fit_to_exact_size(egui::Vec2::splat(
                                        tokens::THUMBNAIL_SIDE,
                                    )),
                                );
                            }
                            None => {
                                let raw = dataset.train.raw.get(index as usize);
                                ui.label(crate::data::shorten(raw.map_or("", String::as_str), 60));
                            }
                        }
                        ui.small(format!("{value:.2}"));
                    });
                }
            });
            if ui.button("Search again with the current weights").clicked() {
                commands.push(AppCommand::InspectUnit { layer, unit });
            }
        }
    }
}

/// Makes thumbnails of the samples found, once they are.
pub fn refresh_thumbnails(ctx: &egui::Context, panel: &mut InsidePanel, dataset: Option<&Dataset>) {
    let (Some(search), Some(dataset)) = (&mut panel.exciting, dataset) else {
        return;
    };
    let Some(Ok(found)) = &search.found else {
        return;
    };
    if search.thumbnails.is_empty() && !found.is_empty() {
        search.thumbnails = found
            .iter()
            .enumerate()
            .filter_map(|(rank, &(index, _))| {
                crate::app::views::data_panel::digit_texture(
                    ctx,
                    &format!("exciting-{rank}"),
                    dataset,
                    &dataset.train,
                    index as usize,
                )
            })
            .collect();
    }
}

fn saliency_ui(
    ui: &mut egui::Ui,
    panel: &mut InsidePanel,
    prediction: &LivePrediction,
    explanation: &Explanation,
    dataset: Option<&Dataset>,
    text: &str,
    commands: &mut Vec<AppCommand>,
) {
    if !prediction.probabilities.is_empty() {
        let mut class = panel.class;
        egui::ComboBox::from_label("class explained")
            .selected_text(match class {
                None => format!(
                    "the predicted one ({})",
                    prediction.class_name(prediction.class())
                ),
                Some(c) => prediction.class_name(c),
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut class, None, "the predicted one");
                for c in 0..prediction.probabilities.len() {
                    ui.selectable_value(&mut class, Some(c), prediction.class_name(c));
                }
            });
        if class != panel.class {
            panel.class = class;
            commands.push(AppCommand::LookInside);
        }
    }
    let correlation = explanation.random_correlation;
    let timings = explanation.timings;
    if let Some(pictures) = &panel.pictures {
        if !pictures.saliency.is_empty() {
            ui.label("Red: supports the class, blue: speaks against it.");
            // One row, each panel as large as fits (60 to 180 points).
            let count = pictures.saliency.len() as f32;
            let gap = ui.spacing().item_spacing.x;
            let side = ((ui.available_width() - gap * (count - 1.0)) / count).clamp(60.0, 180.0);
            ui.horizontal_wrapped(|ui| {
                for (caption, texture) in &pictures.saliency {
                    ui.allocate_ui(egui::vec2(side, side + 30.0), |ui| {
                        ui.vertical(|ui| {
                            ui.add(
                                egui::Image::new(texture)
                                    .fit_to_exact_size(egui::Vec2::splat(side)),
                            );
                            ui.add(egui::Label::new(RichText::new(*caption).small()).wrap());
                        });
                    });
                }
            });
        }
    }
    if let (Some(dataset), None) = (dataset, prediction.image_size) {
        feature_bars_ui(ui, dataset, explanation, prediction, text);
    }
    ui.separator();
    let verdict = if correlation.abs() < 0.5 {
        RichText::new("Low: the map depends on what the model learned.")
    } else {
        RichText::new("High: the map looks much the same for random weights; it shows the input more than what was learned.")
            .color(tokens::WARNING)
    };
    ui.label(format!(
        "Sanity check (Adebayo et al., 2018): correlation of gradient x input with the same map for random weights: {correlation:.2}."
    ));
    ui.label(verdict);
    ui.small(format!(
        "Computed in {:.0} ms on the predictor thread: gradient x input {:.1} ms, occlusion {:.1} ms, Grad-CAM {:.1} ms, random copy {:.1} ms.",
        timings.saliency_ms(),
        timings.gradient_ms,
        timings.occlusion_ms,
        timings.grad_cam_ms,
        timings.random_ms
    ));
}

/// Per-column attribution for tables (gradient x input and occlusion summed over each
/// column's inputs), per-word tint for text.
fn feature_bars_ui(
    ui: &mut egui::Ui,
    dataset: &Dataset,
    explanation: &Explanation,
    prediction: &LivePrediction,
    text: &str,
) {
    let InputPipeline::Table { columns } = &dataset.card.preprocessing.input else {
        return;
    };
    if columns.iter().filter(|c| c.width() > 0).count() == 1
        && matches!(
            columns.iter().find(|c| c.width() > 0),
            Some(ColumnStep::Text { .. })
        )
    {
        ui.label("Each word tinted by how much it pushed toward the predicted class (the probability drop without it):");
        crate::app::views::prediction_panel::words_ui(ui, text, prediction);
        return;
    }
    let mut rows = Vec::new();
    let mut start = 0;
    for column in columns {
        let end = start + column.width();
        if column.width() > 0 {
            let sum = |map: &[f32]| map.get(start..end).map_or(0.0, |v| v.iter().sum::<f32>());
            rows.push((
                column.name().to_string(),
                sum(&explanation.gradient_times_input),
                sum(&explanation.occlusion),
            ));
        }
        start = end;
    }
    rows.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    let largest = rows.iter().fold(1e-12f32, |m, r| m.max(r.1.abs()));
    ui.label("What each column contributed (gradient x input, summed over the column's inputs; occlusion: the drop when it is set to its training mean):");
    egui::Grid::new("feature-attribution")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            ui.strong("column");
            ui.strong("gradient x input");
            ui.strong("occlusion");
            ui.end_row();
            for (name, gradient, occluded) in rows.iter().take(20) {
                ui.label(name);
                let width = 160.0 * gradient.abs() / largest;
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(170.0, 14.0), egui::Sense::hover());
                let colour = if *gradient >= 0.0 {
                    Scale::Diverging { largest: 1.0 }.colour(1.0)
                } else {
                    Scale::Diverging { largest: 1.0 }.colour(-1.0)
                };
                ui.painter().rect_filled(
                    egui::Rect::from_min_size(rect.min, egui::vec2(width.max(1.0), rect.height())),
                    0.0,
                    colour,
                );
                ui.label(format!("{occluded:+.3}"));
                ui.end_row();
            }
        });
    if rows.len() > 20 {
        ui.small(format!("and {} more columns", rows.len() - 20));
    }
}

fn filters_ui(ui: &mut egui::Ui, panel: &mut InsidePanel, filters: Option<&Arc<Filters>>) {
    let Some(filters) = filters else {
        ui.spinner();
        return;
    };
    let current = panel
        .filter_pictures
        .as_ref()
        .is_some_and(|(of, _)| Arc::ptr_eq(of, filters));
    if !current {
        let pictures = filter_pictures(ui.ctx(), filters);
        panel.filter_pictures = Some((filters.clone(), pictures));
    }
    let Some((_, pictures)) = &panel.filter_pictures else {
        return;
    };
    let Some((title, mosaic)) = &pictures.first else {
        ui.label("Filters are pictures of what the first layer looks for in an image; this model's input is not an image. \"Why this prediction\" shows what each input column contributes.");
        return;
    };
    ui.label("Redrawn at every training snapshot: watch them form. Orange: positive weights, blue: negative.");
    ui.label(RichText::new(title).strong());
    mosaic.ui(
        ui,
        ui.available_width().min(720.0),
        "One picture per filter",
    );
    for (title, means) in &pictures.deeper {
        ui.label(RichText::new(title).strong());
        bars_ui(
            ui,
            means,
            ui.available_width().min(720.0),
            "Mean absolute weight of each filter",
        );
    }
}

fn filter_pictures(ctx: &egui::Context, filters: &Filters) -> FilterPictures {
    match filters {
        Filters::Kernels {
            layer,
            out_channels,
            in_channels,
            size,
            values,
            deeper,
        } => {
            // The first input channel of each kernel (the only one for grey images).
            let per_filter = in_channels * size * size;
            let maps = values
                .chunks(per_filter.max(1))
                .map(|kernel| &kernel[..size * size]);
            let scale = Scale::Diverging {
                largest: values.iter().fold(1e-12f32, |m, v| m.max(v.abs())),
            };
            let title = format!(
                "Layer {layer} Conv2d: {out_channels} kernels of {size}x{size}{}",
                if *in_channels > 1 {
                    format!(" (input channel 0 of {in_channels})")
                } else {
                    String::new()
                }
            );
            FilterPictures {
                first: Some((
                    title,
                    Mosaic::new(ctx, "filters", maps, *size, *size, scale),
                )),
                deeper: deeper
                    .iter()
                    .map(|(layer, means)| {
                        (
                            format!(
                                "Layer {layer} Conv2d: mean |weight| of each of its {} filters",
                                means.len()
                            ),
                            means.clone(),
                        )
                    })
                    .collect(),
            }
        }
        Filters::Templates {
            layer,
            height,
            width,
            rows,
        } => {
            let scale = Scale::fitting(rows.iter().flatten());
            let title = format!(
                "Layer {layer} Linear: its first {} rows as {height}x{width} templates (what each unit adds up over the image)",
                rows.len()
            );
            FilterPictures {
                first: Some((
                    title,
                    Mosaic::new(
                        ctx,
                        "filters",
                        rows.iter().map(Vec::as_slice),
                        *height,
                        *width,
                        scale,
                    ),
                )),
                deeper: Vec::new(),
            }
        }
        Filters::None => FilterPictures {
            first: None,
            deeper: Vec::new(),
        },
    }
}
