//! The right-hand panel, "Try the model", fitted to the dataset: draw a digit (or open an
//! image) for image data, type a sentence for text, fill in a row for tables; see what the
//! current model makes of it. Owns the canvas, the inputs, the predictor thread and its answer.

use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui::{self, TextureHandle, TextureOptions};
use image::DynamicImage;

use crate::app::command::AppCommand;
use crate::app::tasks::predictor::{ExplainRequest, LivePrediction, PredictInput, Predictor};
use crate::app::views::canvas::{self, Canvas};
use crate::app::views::tokens;
use crate::data::{ColumnStep, Dataset, InputPipeline};
use crate::export::SavedModel;

/// Which input the panel offers, from the dataset's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputMode {
    Canvas,
    Text,
    Form,
    /// A 2-D set: the points over the model's decision regions.
    Plane,
}

/// Half the side of the plane shown, in standard deviations of the training points.
const PLANE_EXTENT: f32 = 3.0;
/// Grid points per side of the decision regions.
const PLANE_RESOLUTION: usize = 48;

impl InputMode {
    pub fn of(dataset: &Dataset) -> Self {
        match &dataset.card.preprocessing.input {
            InputPipeline::Image { .. } => Self::Canvas,
            InputPipeline::Table { columns } => {
                let used: Vec<&ColumnStep> = columns.iter().filter(|c| c.width() > 0).collect();
                let names: Vec<&str> = used.iter().map(|c| c.name()).collect();
                if used.len() == 1 && matches!(used[0], ColumnStep::Text { .. }) {
                    Self::Text
                } else if names == ["x", "y"] && dataset.classes() >= 2 {
                    Self::Plane
                } else {
                    Self::Form
                }
            }
        }
    }
}

pub struct PredictionPanel {
    pub canvas: Canvas,
    opened_image: Option<(PathBuf, Arc<DynamicImage>)>,
    pub prediction: Option<Result<LivePrediction, String>>,
    texture: Option<TextureHandle>,
    predictor: Option<Predictor>,
    pub mode: InputMode,
    /// The sentence typed for a text model.
    pub text: String,
    /// The form's `(column, cell)` fields for a table model, and the test row they came from.
    pub row: Vec<(String, String)>,
    row_index: usize,
    /// The dataset the form was filled from.
    row_source: String,
    /// How each field of the form is edited (for `row_source`).
    row_editors: Vec<crate::app::views::row_form::FieldEditor>,
    /// The class a click on the 2-D plane adds a point of.
    pub point_class: u8,
    /// The current model's first filters, from the newest answer that brought them.
    pub filters: Option<Arc<crate::explain::Filters>>,
}

impl PredictionPanel {
    pub fn new(predictor: Option<Predictor>) -> Self {
        Self {
            canvas: Canvas::default(),
            opened_image: None,
            prediction: None,
            texture: None,
            predictor,
            point_class: 1,
            filters: None,
            mode: InputMode::Canvas,
            text: String::new(),
            row: Vec::new(),
            row_index: 0,
            row_source: String::new(),
            row_editors: Vec::new(),
        }
    }

    /// Fills the form from test row `index` of `dataset` (its readable "column: cell" form).
    pub fn fill_row(&mut self, dataset: &Dataset, index: usize) {
        let Some(raw) = dataset.test.raw.get(index) else {
            return;
        };
        self.row_index = index;
        let row = crate::app::views::row_form::parse_raw_row(raw);
        let same_columns =
            self.row.len() == row.len() && self.row.iter().zip(&row).all(|((a, _), (b, _))| a == b);
        if self.row_source != dataset.card.dataset || !same_columns {
            let columns: Vec<String> = row.iter().map(|(c, _)| c.clone()).collect();
            self.row_editors = crate::app::views::row_form::field_editors(dataset, &columns);
        }
        self.row_source = dataset.card.dataset.clone();
        self.row = row;
    }

    pub fn clear(&mut self) {
        self.canvas.clear();
        self.opened_image = None;
        self.prediction = None;
        self.texture = None;
    }

    /// Shows an opened image instead of the drawing.
    pub fn set_image(&mut self, path: PathBuf, image: Arc<DynamicImage>) {
        self.opened_image = Some((path, image));
        self.canvas.reset();
    }

    /// The drawing changed: it replaces an opened image.
    pub fn drawing_changed(&mut self) {
        self.opened_image = None;
    }

    /// Asks the predictor about the current input with `model`, and to look inside it
    /// when `explain` (the Inside tab is open).
    pub fn request(
        &mut self,
        model: &Arc<SavedModel>,
        brush_radius: f32,
        explain: Option<ExplainRequest>,
    ) {
        let input = match (self.mode, &self.opened_image) {
            (InputMode::Plane, _) => PredictInput::Plane {
                extent: PLANE_EXTENT,
                resolution: PLANE_RESOLUTION,
            },
            (InputMode::Text, _) if self.text.trim().is_empty() => PredictInput::Nothing,
            (InputMode::Text, _) => PredictInput::Text(self.text.clone()),
            (InputMode::Form, _) if self.row.is_empty() => PredictInput::Nothing,
            (InputMode::Form, _) => PredictInput::Row(self.row.clone()),
            (InputMode::Canvas, Some((_, image))) => PredictInput::Image(image.clone()),
            (InputMode::Canvas, None) if self.canvas.is_empty() => PredictInput::Nothing,
            (InputMode::Canvas, None) => PredictInput::Strokes {
                strokes: self.canvas.strokes.clone(),
                brush_radius,
            },
        };
        if matches!(input, PredictInput::Nothing) {
            self.forget();
            if explain.is_none() {
                return; // nothing to predict, and no filters wanted
            }
        }
        if let Some(predictor) = &mut self.predictor {
            predictor.request(model.clone(), input, explain);
        }
    }

    /// No input: no prediction.
    fn forget(&mut self) {
        self.prediction = None;
        self.texture = None;
    }

    /// Takes the predictor's newest answer, if one came.
    pub fn poll(&mut self) {
        if let Some(response) = self.predictor.as_mut().and_then(Predictor::poll) {
            if let Ok(prediction) = &response.result {
                if prediction.filters.is_some() {
                    self.filters = prediction.filters.clone();
                }
                if prediction.is_empty() {
                    return; // an answer without input only brings the filters
                }
            }
            self.prediction = Some(response.result);
            self.texture = None;
        }
    }

    /// Whether `prediction` answers the canvas (or image) as it is now.
    pub fn is_current(&self) -> bool {
        !self.predictor.as_ref().is_some_and(Predictor::is_pending)
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        dataset: Option<&Dataset>,
        model_origin: Option<&str>,
        brush_radius: &mut f32,
        commands: &mut Vec<AppCommand>,
    ) {
        if let Some(dataset) = dataset {
            let mode = InputMode::of(dataset);
            if mode != self.mode {
                self.mode = mode;
                self.forget();
            }
            if mode == InputMode::Form && self.row_source != dataset.card.dataset {
                self.fill_row(dataset, 0);
            }
        }
        match self.mode {
            InputMode::Plane => self.plane_input_ui(ui, dataset, commands),
            InputMode::Canvas => self.canvas_input_ui(ui, dataset, brush_radius, commands),
            InputMode::Text => self.text_input_ui(ui, commands),
            InputMode::Form => self.form_input_ui(ui, dataset, commands),
        }
        match model_origin {
            Some(origin) => ui.label(format!("Model: {origin}")),
            None => ui.label("Train or load a model to see predictions."),
        };
        if let Some((path, _)) = &self.opened_image {
            ui.label(format!("Image: {}", path.display()));
        }
        ui.separator();
        match &self.prediction {
            Some(Ok(prediction)) => prediction_ui(ui, prediction, &mut self.texture),
            Some(Err(message)) => {
                ui.colored_label(tokens::ERROR, message);
            }
            None => {}
        }
    }

    /// A toy set's plane: the decision regions, where a click adds a point.
    fn plane_input_ui(
        &mut self,
        ui: &mut egui::Ui,
        dataset: Option<&Dataset>,
        commands: &mut Vec<AppCommand>,
    ) {
        ui.heading("Decision regions");
        if let Some([x, y]) = plane_ui(
            ui,
            dataset,
            self.prediction.as_ref().and_then(|p| p.as_ref().ok()),
            &mut self.texture,
        ) {
            commands.push(AppCommand::AddPoint {
                x,
                y,
                class: self.point_class,
            });
        }
        ui.horizontal(|ui| {
            ui.label("Click adds a point of");
            ui.selectable_value(&mut self.point_class, 0, "class 0 (orange)");
            ui.selectable_value(&mut self.point_class, 1, "class 1 (blue)");
        });
        ui.small("Points: the training set (orange class 0, blue class 1). Colour: the model's probability of blue, redrawn at every training snapshot. Added points are trained on from the next run.");
    }

    /// A text set's input: a typed review, each word tinted by what it did.
    fn text_input_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<AppCommand>) {
        ui.heading("Type a review");
        let edit = ui.add(
            egui::TextEdit::multiline(&mut self.text)
                .hint_text("The coffee was fresh and delicious…")
                .desired_rows(4)
                .desired_width(f32::INFINITY),
        );
        if edit.changed() {
            commands.push(AppCommand::PredictCanvas);
        }
        if let Some(Ok(prediction)) = &self.prediction {
            words_ui(ui, &self.text, prediction);
        }
    }

    /// A table's input: a row's form, filled from a test row to start with.
    fn form_input_ui(
        &mut self,
        ui: &mut egui::Ui,
        dataset: Option<&Dataset>,
        commands: &mut Vec<AppCommand>,
    ) {
        ui.heading("Fill in a row");
        if let Some(dataset) = dataset {
            let mut index = self.row_index;
            ui.horizontal(|ui| {
                let label = ui.label("Start from test row");
                ui.add(
                    egui::DragValue::new(&mut index)
                        .range(0..=dataset.test.len().saturating_sub(1)),
                )
                .labelled_by(label.id);
            });
            if index != self.row_index {
                self.fill_row(dataset, index);
                commands.push(AppCommand::PredictCanvas);
            }
            if let Some(actual) = actual_target(dataset, self.row_index) {
                ui.small(format!("its real target: {actual}"));
            }
        }
        let mut changed = false;
        egui::ScrollArea::vertical()
            .id_salt("form")
            .max_height(260.0)
            .show(ui, |ui| {
                changed =
                    crate::app::views::row_form::form_ui(ui, &mut self.row, &self.row_editors);
            });
        if changed {
            commands.push(AppCommand::PredictCanvas);
        }
    }

    fn canvas_input_ui(
        &mut self,
        ui: &mut egui::Ui,
        dataset: Option<&Dataset>,
        brush_radius: &mut f32,
        commands: &mut Vec<AppCommand>,
    ) {
        let digits = dataset.is_none_or(|d| {
            matches!(
                d.card.preprocessing.input,
                InputPipeline::Image {
                    framing: crate::data::ImageFraming::Digit,
                    ..
                }
            )
        });
        ui.heading(if digits {
            "Draw a digit"
        } else {
            "Draw or open an image"
        });
        canvas::canvas_ui(ui, &mut self.canvas, *brush_radius, commands);
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Clear")
                .on_hover_text("Clear the canvas (Delete)")
                .clicked()
            {
                commands.push(AppCommand::ClearCanvas);
            }
            if ui
                .add_enabled(self.canvas.can_undo(), egui::Button::new("Undo stroke"))
                .on_hover_text(
                    "Remove the last stroke, or bring back a cleared drawing (Ctrl+Z while the \
                     canvas has focus)",
                )
                .clicked()
            {
                commands.push(AppCommand::UndoStroke);
            }
            ui.toggle_value(&mut self.canvas.eraser, "Eraser")
                .on_hover_text("Draw to erase (the right button always erases)");
            if ui.button("Open image…").clicked() {
                commands.push(AppCommand::OpenImageDialog);
            }
        });
        let before = *brush_radius;
        ui.add(egui::Slider::new(brush_radius, 0.015..=0.09).text("Brush size"));
        if before != *brush_radius && !self.canvas.is_empty() {
            commands.push(AppCommand::PredictCanvas);
        }
    }
}

/// The plane of a 2-D set: the model's probability of class 1 as a heat map, the training
/// points on top (both in standardised coordinates).
///
/// Returns the model coordinates of a click on the plane: a point to add.
///
/// The heat map is one texture, made once per prediction (`texture` is cleared when a new
/// one arrives): 3,600 painted cells a frame cost a software renderer a core's worth.
fn plane_ui(
    ui: &mut egui::Ui,
    dataset: Option<&Dataset>,
    prediction: Option<&LivePrediction>,
    texture: &mut Option<TextureHandle>,
) -> Option<[f32; 2]> {
    let side = ui.available_width().clamp(160.0, 300.0);
    let (rect, response) = ui.allocate_exact_size(egui::Vec2::splat(side), egui::Sense::click());
    let response = response.on_hover_cursor(egui::CursorIcon::Crosshair);
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Decision regions plane")
    });
    let clicked = response
        .clicked()
        .then(|| response.interact_pointer_pos())
        .flatten()
        .map(|pos| {
            [
                (pos.x - rect.min.x) / side * 2.0 * PLANE_EXTENT - PLANE_EXTENT,
                PLANE_EXTENT - (pos.y - rect.min.y) / side * 2.0 * PLANE_EXTENT,
            ]
        });
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, egui::Color32::from_gray(24));
    let colour = |p: f32| {
        let (orange, blue) = (tokens::CLASS_ZERO, tokens::CLASS_ONE);
        let p = p.clamp(0.0, 1.0);
        egui::Color32::from_rgb(
            (f32::from(orange.r()) * (1.0 - p) + f32::from(blue.r()) * p) as u8,
            (f32::from(orange.g()) * (1.0 - p) + f32::from(blue.g()) * p) as u8,
            (f32::from(orange.b()) * (1.0 - p) + f32::from(blue.b()) * p) as u8,
        )
        .gamma_multiply(0.55)
    };
    if let Some((resolution, plane)) = prediction.and_then(|p| p.plane.as_ref()) {
        if texture.is_none() && plane.len() == resolution * resolution {
            let image = egui::ColorImage::new(
                [*resolution, *resolution],
                plane.iter().map(|&p| colour(p)).collect(),
            );
            *texture = Some(ui.ctx().load_texture(
                "decision-regions",
                image,
                TextureOptions::NEAREST,
            ));
        }
        if let Some(texture) = texture {
            let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
            painter.image(texture.id(), rect, uv, egui::Color32::WHITE);
        }
    }
    let Some(dataset) = dataset else {
        return clicked;
    };
    let to_screen = |x: f32, y: f32| {
        egui::pos2(
            rect.min.x + (x + PLANE_EXTENT) / (2.0 * PLANE_EXTENT) * side,
            rect.min.y + (PLANE_EXTENT - y) / (2.0 * PLANE_EXTENT) * side,
        )
    };
    // The points as one mesh of small squares, white-rimmed: 2,000 stroked circles were
    // tessellated into fresh vertex buffers every frame, the window's largest cost while a
    // small model trained (page faults zeroing them, in `perf`).
    let shown = dataset.train.len().min(2_000);
    let mut mesh = egui::Mesh::default();
    mesh.reserve_vertices(shown * 8);
    mesh.reserve_triangles(shown * 4);
    let mut point = Vec::with_capacity(2);
    for index in 0..shown {
        dataset.train.inputs.push_sample(index, &mut point);
        if let [x, y] = point[..] {
            let class = dataset.train.labels().get(index).copied().unwrap_or(0);
            let fill = if class == 0 {
                tokens::CLASS_ZERO
            } else {
                tokens::CLASS_ONE
            };
            let centre = to_screen(x, y);
            mesh.add_colored_rect(
                egui::Rect::from_center_size(centre, egui::Vec2::splat(5.0)),
                egui::Color32::WHITE,
            );
            mesh.add_colored_rect(
                egui::Rect::from_center_size(centre, egui::Vec2::splat(4.0)),
                fill,
            );
        }
        point.clear();
    }
    painter.add(egui::Shape::mesh(mesh));
    clicked
}

/// The typed text with each word tinted by its influence: blue where it pushed toward the
/// predicted class, orange where it pushed away, stronger for more.
pub(in crate::app) fn words_ui(ui: &mut egui::Ui, text: &str, prediction: &LivePrediction) {
    if prediction.words.is_empty() {
        return;
    }
    let largest = prediction
        .words
        .iter()
        .fold(1e-6f32, |m, (_, d)| m.max(d.abs()));
    let mut job = egui::text::LayoutJob::default();
    for piece in text.split_inclusive(|c: char| c.is_whitespace()) {
        let key = crate::data::tokenize(piece).into_iter().next();
        let influence = key
            .and_then(|k| prediction.words.iter().find(|(w, _)| *w == k))
            .map_or(0.0, |(_, d)| *d / largest);
        let base = if influence >= 0.0 {
            tokens::CLASS_ONE
        } else {
            tokens::CLASS_ZERO
        };
        job.append(
            piece,
            0.0,
            egui::TextFormat {
                background: base.gamma_multiply(influence.abs().clamp(0.0, 1.0) * 0.9),
                color: ui.visuals().strong_text_color(),
                ..Default::default()
            },
        );
    }
    ui.label(job).on_hover_text(
        "Each word tinted by how much the prediction drops without it: blue pushed toward the predicted class, orange away",
    );
}

/// Test row `index`'s target, in words: its class name, or its value.
fn actual_target(dataset: &Dataset, index: usize) -> Option<String> {
    let names = dataset.task().class_names();
    match dataset.test.labels().get(index) {
        Some(&label) => names.get(label as usize).cloned(),
        None => dataset.test.values().get(index).map(|&v| {
            let places = if v.fract() == 0.0 { 0 } else { 2 };
            crate::display::decimal(f64::from(v), places)
        }),
    }
}

/// What the model saw (for images), its answer and each class's probability.
fn prediction_ui(
    ui: &mut egui::Ui,
    prediction: &LivePrediction,
    texture: &mut Option<TextureHandle>,
) {
    if let Some((width, height)) = prediction.image_size {
        let texture = texture.get_or_insert_with(|| {
            let plane: Vec<u8> = prediction.input[..(width * height).min(prediction.input.len())]
                .iter()
                .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
                .collect();
            ui.ctx().load_texture(
                "model-input",
                egui::ColorImage::from_gray([width, height], &plane),
                TextureOptions::NEAREST,
            )
        });
        ui.label(format!("What the model sees ({width}x{height})"));
        ui.add(egui::Image::new(&*texture).fit_to_exact_size(egui::Vec2::splat(112.0)));
    }
    if let Some(value) = &prediction.value {
        ui.label(egui::RichText::new(format!("Prediction: {value}")).heading());
    }
    if prediction.probabilities.is_empty() {
        return;
    }
    let class = prediction.class();
    ui.label(
        egui::RichText::new(format!("Prediction: {}", prediction.class_name(class))).heading(),
    );
    ui.label(format!(
        "{:.1}% sure",
        prediction.probabilities[class] * 100.0
    ));
    let bar_width = (ui.available_width() - 90.0).clamp(80.0, 220.0);
    egui::Grid::new("probabilities")
        .num_columns(2)
        .show(ui, |ui| {
            for (index, p) in prediction.probabilities.iter().enumerate() {
                ui.label(prediction.class_name(index));
                ui.add(
                    egui::ProgressBar::new(*p)
                        .desired_width(bar_width)
                        .fill(tokens::PREDICTED_BAR)
                        .text(format!("{:.1}%", p * 100.0)),
                );
                ui.end_row();
            }
        });
}
