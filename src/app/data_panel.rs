//! The dataset picker: MNIST's preview grid, class counts and the train/validation split.

use eframe::egui::{self, DragValue, TextureHandle, TextureOptions};

use super::tokens;
use crate::data::{Dataset, Samples};
use crate::train::TrainConfig;

/// Sample images shown in the preview grid.
const PREVIEW_COUNT: usize = 40;
const PREVIEW_COLUMNS: usize = 8;

/// The datasets the picker offers. Only MNIST ships today; more slot in here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetChoice {
    Mnist,
}

/// Textures for the preview grid, made once when the data arrives.
pub struct DataPreview {
    thumbnails: Vec<(TextureHandle, u8)>,
}

impl DataPreview {
    pub fn new(ctx: &egui::Context, dataset: &Dataset) -> Self {
        let set = &dataset.train;
        let thumbnails = (0..PREVIEW_COUNT.min(set.len()))
            .filter_map(|i| {
                let label = *set.labels().get(i)?;
                Some((
                    digit_texture(ctx, &format!("preview-{i}"), dataset, set, i)?,
                    label,
                ))
            })
            .collect();
        Self { thumbnails }
    }
}

/// A greyscale texture of image sample `index` of `set`, a split of `dataset` (nearest
/// filtering: crisp pixels); `None` when the samples are not images.
pub fn digit_texture(
    ctx: &egui::Context,
    name: &str,
    dataset: &Dataset,
    set: &Samples,
    index: usize,
) -> Option<TextureHandle> {
    let crate::spec::ActivationShape::Spatial { height, width, .. } = dataset.input_shape() else {
        return None;
    };
    let pixels = set.image(index)?.get(..height * width)?;
    let image = egui::ColorImage::from_gray([width, height], pixels);
    Some(ctx.load_texture(name, image, TextureOptions::NEAREST))
}

pub fn data_ui(
    ui: &mut egui::Ui,
    dataset: Result<(&Dataset, &DataPreview), &str>,
    config: &mut TrainConfig,
    training_active: bool,
) {
    let mut choice = DatasetChoice::Mnist;
    egui::ComboBox::from_label("Dataset")
        .selected_text("MNIST (shipped)")
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut choice, DatasetChoice::Mnist, "MNIST (shipped)");
        });
    let (dataset, preview) = match dataset {
        Ok(ready) => ready,
        Err(status) => {
            ui.label(status);
            return;
        }
    };
    ui.label(format!(
        "{} training and {} test samples of {}, {}",
        dataset.train.len(),
        dataset.test.len(),
        dataset.input_shape(),
        dataset.task().describe()
    ));

    ui.add_enabled_ui(!training_active, |ui| {
        egui::Grid::new("split").num_columns(2).show(ui, |ui| {
            let label = ui.label("Validation images");
            ui.add(DragValue::new(&mut config.validation_size).range(0..=dataset.train.len() / 2))
                .labelled_by(label.id);
            ui.end_row();
            let mut limited = config.train_limit.is_some();
            ui.checkbox(&mut limited, "Train on a subset");
            if limited {
                let mut limit = config.train_limit.unwrap_or(5_000);
                let label = ui.label("images");
                ui.add(
                    DragValue::new(&mut limit)
                        .range(1..=dataset.train.len())
                        .speed(50),
                )
                .labelled_by(label.id);
                config.train_limit = Some(limit);
            } else {
                config.train_limit = None;
            }
            ui.end_row();
        });
    });
    let train = dataset
        .train
        .len()
        .saturating_sub(config.validation_size)
        .min(config.train_limit.unwrap_or(usize::MAX));
    ui.label(format!(
        "Split: {train} train / {} validation / {} test",
        config.validation_size,
        dataset.test.len()
    ));

    ui.separator();
    ui.label("Training images per class");
    egui::Grid::new("class_counts")
        .num_columns(5)
        .show(ui, |ui| {
            for (class, count) in dataset
                .train
                .class_counts(dataset.classes())
                .iter()
                .enumerate()
            {
                ui.label(format!("{class}: {count}"));
                if class % 5 == 4 {
                    ui.end_row();
                }
            }
        });

    ui.separator();
    ui.label("First training images and their labels");
    egui::Grid::new("preview")
        .spacing([4.0, 4.0])
        .show(ui, |ui| {
            for (i, (texture, label)) in preview.thumbnails.iter().enumerate() {
                ui.vertical(|ui| {
                    ui.add(
                        egui::Image::new(texture)
                            .fit_to_exact_size(egui::Vec2::splat(tokens::THUMBNAIL_SIDE)),
                    );
                    ui.label(label.to_string());
                });
                if i % PREVIEW_COLUMNS == PREVIEW_COLUMNS - 1 {
                    ui.end_row();
                }
            }
        });
}
