//! The Optimizer tab's augmentation settings for image data: each part's strength, and a
//! live grid of training images beside the copies training would see in its first epochs
//! (the engine's own draws for this seed; "Re-roll" shows other images and draws). The
//! grid is drawn again only when a setting changes.

use eframe::egui::{self, Slider};

use crate::data::{preview_grid, preview_images, Augmentation, Dataset};
use crate::train::{check_augmentation, image_shape, TrainConfig};

/// Training images in the grid, and augmented copies of each.
const PREVIEW_IMAGES: usize = 4;
const PREVIEW_COPIES: usize = 4;

/// The grid on show, and what it was drawn for.
#[derive(Default)]
pub struct AugmentPreview {
    drawn: Option<(PreviewKey, egui::TextureHandle)>,
    /// Added to the run's seed by "Re-roll".
    pub reroll: u64,
}

#[derive(Clone, Debug, PartialEq)]
struct PreviewKey {
    augmentation: Augmentation,
    seed: u64,
    dataset: String,
    train: usize,
}

/// The parts' sliders and the grid, when augmentation is on and the data are images.
pub fn augmentation_ui(
    ui: &mut egui::Ui,
    config: &mut TrainConfig,
    dataset: Option<&Dataset>,
    preview: &mut AugmentPreview,
) {
    let Some(augmentation) = &mut config.augmentation else {
        return;
    };
    let Some(dataset) = dataset.filter(|d| image_shape(d).is_some()) else {
        ui.label("Augmentation changes images only: this dataset trains without it.");
        return;
    };
    ui.label(egui::RichText::new("Augmentation").strong());
    egui::Grid::new("augmentation")
        .num_columns(2)
        .show(ui, |ui| {
            let slider = |ui: &mut egui::Ui, name: &str, value: &mut f32, max: f32| {
                let label = ui.label(name);
                ui.add(Slider::new(value, 0.0..=max)).labelled_by(label.id);
                ui.end_row();
            };
            slider(ui, "Rotate (degrees)", &mut augmentation.rotate, 45.0);
            slider(ui, "Shift (of the size)", &mut augmentation.translate, 0.3);
            slider(ui, "Zoom (±)", &mut augmentation.scale, 0.3);
            slider(ui, "Shear (degrees)", &mut augmentation.shear, 30.0);
            slider(
                ui,
                "Elastic strength (px)",
                &mut augmentation.elastic_alpha,
                40.0,
            );
            slider(ui, "Noise (std)", &mut augmentation.noise, 0.3);
            slider(ui, "Erase (probability)", &mut augmentation.erase, 1.0);
            let label = ui.label("Mirror");
            ui.checkbox(&mut augmentation.flip, "left-right (never for digits)")
                .labelled_by(label.id);
            ui.end_row();
        });
    if augmentation.elastic_alpha > 0.0 && augmentation.elastic_sigma <= 0.0 {
        augmentation.elastic_sigma = 4.0;
    }
    if let Err(why) = check_augmentation(augmentation, dataset) {
        ui.colored_label(super::tokens::ERROR, why.to_string());
        return;
    }
    let key = PreviewKey {
        augmentation: *augmentation,
        seed: config.seed.wrapping_add(preview.reroll),
        dataset: dataset.card.dataset.clone(),
        train: dataset.train.len(),
    };
    if preview
        .drawn
        .as_ref()
        .is_none_or(|(drawn, _)| *drawn != key)
    {
        let texture = grid_texture(ui.ctx(), dataset, &key);
        preview.drawn = texture.map(|t| (key, t));
    }
    ui.horizontal(|ui| {
        ui.label("What training sees");
        if ui
            .button("Re-roll")
            .on_hover_text("Other images, other draws")
            .clicked()
        {
            preview.reroll = preview.reroll.wrapping_add(1);
        }
    });
    if let Some((_, texture)) = &preview.drawn {
        let size = texture.size_vec2();
        let width = size.x.min(ui.available_width());
        ui.add(
            egui::Image::new(texture).fit_to_exact_size(egui::vec2(width, size.y * width / size.x)),
        );
    }
}

/// The grid for `key`: training images picked by the seed, each beside its copies in the
/// first epochs, as the engine augments them.
fn grid_texture(
    ctx: &egui::Context,
    dataset: &Dataset,
    key: &PreviewKey,
) -> Option<egui::TextureHandle> {
    let shape = image_shape(dataset)?;
    let (indices, images) = preview_images(&dataset.train, key.seed, PREVIEW_IMAGES);
    let grid = preview_grid(
        &key.augmentation,
        shape,
        &images,
        &indices,
        PREVIEW_COPIES,
        key.seed,
    );
    let size = [grid.width() as usize, grid.height() as usize];
    let image = egui::ColorImage::from_rgb(size, grid.as_raw());
    Some(ctx.load_texture("augment-preview", image, egui::TextureOptions::NEAREST))
}
