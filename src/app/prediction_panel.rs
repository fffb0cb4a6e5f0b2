//! The right-hand panel: draw a digit (or open an image) and see what the current model
//! makes of it. Owns the canvas, the opened image, the predictor thread and its answer.

use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui::{self, TextureHandle, TextureOptions};
use image::DynamicImage;

use super::canvas::{self, Canvas};
use super::command::AppCommand;
use super::predictor::{PredictInput, Prediction, Predictor};
use super::tokens;
use crate::export::SavedModel;

pub struct PredictionPanel {
    pub canvas: Canvas,
    opened_image: Option<(PathBuf, Arc<DynamicImage>)>,
    pub prediction: Option<Result<Prediction, String>>,
    texture: Option<TextureHandle>,
    predictor: Option<Predictor>,
}

impl PredictionPanel {
    pub fn new(predictor: Option<Predictor>) -> Self {
        Self {
            canvas: Canvas::default(),
            opened_image: None,
            prediction: None,
            texture: None,
            predictor,
        }
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
        self.canvas.clear();
    }

    /// The drawing changed: it replaces an opened image.
    pub fn drawing_changed(&mut self) {
        self.opened_image = None;
    }

    /// Asks the predictor about the current input with `model`.
    pub fn request(&mut self, model: &Arc<SavedModel>, brush_radius: f32) {
        let input = match &self.opened_image {
            Some((_, image)) => PredictInput::Image(image.clone()),
            None if self.canvas.is_empty() => {
                self.prediction = None;
                self.texture = None;
                return;
            }
            None => PredictInput::Strokes {
                strokes: self.canvas.strokes.clone(),
                brush_radius,
            },
        };
        if let Some(predictor) = &mut self.predictor {
            predictor.request(model.clone(), input);
        }
    }

    /// Takes the predictor's newest answer, if one came.
    pub fn poll(&mut self) {
        if let Some(response) = self.predictor.as_mut().and_then(Predictor::poll) {
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
        model_origin: Option<&str>,
        brush_radius: &mut f32,
        commands: &mut Vec<AppCommand>,
    ) {
        ui.heading("Draw a digit");
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
                .add_enabled(
                    !self.canvas.strokes.is_empty(),
                    egui::Button::new("Undo stroke"),
                )
                .on_hover_text("Remove the last stroke (Ctrl+Z while the canvas has focus)")
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
        match model_origin {
            Some(origin) => ui.label(format!("Model: {origin}")),
            None => ui.label("Train or load a model to see predictions."),
        };
        if let Some((path, _)) = &self.opened_image {
            ui.label(format!("Image: {}", path.display()));
        }
        ui.separator();
        match &self.prediction {
            Some(Ok(prediction)) => {
                let texture = self.texture.get_or_insert_with(|| {
                    let image = prediction.input.to_image();
                    ui.ctx().load_texture(
                        "model-input",
                        egui::ColorImage::from_gray(
                            [image.width() as usize, image.height() as usize],
                            image.as_raw(),
                        ),
                        TextureOptions::NEAREST,
                    )
                });
                ui.horizontal(|ui| {
                    ui.vertical(|ui| {
                        ui.label("What the model sees (28x28)");
                        ui.add(
                            egui::Image::new(&*texture).fit_to_exact_size(egui::Vec2::splat(112.0)),
                        );
                    });
                    ui.vertical(|ui| {
                        ui.label(
                            egui::RichText::new(format!("Prediction: {}", prediction.class()))
                                .heading(),
                        );
                        ui.label(format!(
                            "{:.1}% sure",
                            prediction.probabilities[prediction.class()] * 100.0
                        ));
                    });
                });
                let bar_width = (ui.available_width() - 30.0).clamp(80.0, 220.0);
                for (digit, p) in prediction.probabilities.iter().enumerate() {
                    ui.horizontal(|ui| {
                        ui.label(digit.to_string());
                        ui.add(
                            egui::ProgressBar::new(*p)
                                .desired_width(bar_width)
                                .fill(tokens::PREDICTED_BAR)
                                .text(format!("{:.1}%", p * 100.0)),
                        );
                    });
                }
            }
            Some(Err(message)) => {
                ui.colored_label(tokens::ERROR, message);
            }
            None => {}
        }
    }
}
