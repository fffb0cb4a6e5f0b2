//! The dataset picker: the built-ins, a preview (images, or rows of tables and text), class
//! counts and the train/validation split.

use eframe::egui::{self, DragValue, TextureHandle, TextureOptions};

use crate::app::command::AppCommand;
use crate::app::views::text_measure::text_width;
use crate::app::views::tokens;
use crate::data::{Dataset, Samples, BUILTIN_DATASETS};
use crate::display::thousands;
use crate::train::TrainConfig;

/// Sample images shown in the preview grid.
const PREVIEW_COUNT: usize = 40;
const PREVIEW_COLUMNS: usize = 8;

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
    picked: &str,
    dataset: Result<(&Dataset, &DataPreview), &str>,
    config: &mut TrainConfig,
    training_active: bool,
    toy: &crate::data::ToyOptions,
    commands: &mut Vec<AppCommand>,
) {
    dataset_choice_ui(ui, picked, training_active, toy, commands);
    let (dataset, preview) = match dataset {
        Ok(ready) => ready,
        Err(status) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(status);
            });
            return;
        }
    };
    ui.label(format!(
        "{} training and {} test samples of {}, {}",
        thousands(dataset.train.len()),
        thousands(dataset.test.len()),
        dataset.input_shape(),
        dataset.task().describe()
    ));
    split_ui(ui, dataset, config, training_active);
    ui.separator();
    class_counts_ui(ui, dataset);
    if crate::data::ToyShape::named(&dataset.card.dataset).is_some() {
        ui.separator();
        toy_scatter_ui(ui, dataset);
        return;
    }
    if let crate::data::InputPipeline::Table { columns } = &dataset.card.preprocessing.input {
        ui.separator();
        egui::CollapsingHeader::new(format!(
            "How the {} columns are read (fitted on the training split)",
            columns.len()
        ))
        .id_salt("data-columns")
        .show(ui, |ui| columns_ui(ui, columns));
    }
    ui.separator();
    if dataset.train.raw.is_empty() {
        first_images_ui(ui, dataset, preview);
    } else {
        first_rows_ui(ui, dataset);
    }
}

/// The dataset box (built-ins, with what each is on hover), its source, and a toy set's
/// points, noise and seed.
fn dataset_choice_ui(
    ui: &mut egui::Ui,
    picked: &str,
    training_active: bool,
    toy: &crate::data::ToyOptions,
    commands: &mut Vec<AppCommand>,
) {
    let mut choice = picked.to_string();
    ui.add_enabled_ui(!training_active, |ui| {
        egui::ComboBox::from_label("Dataset")
            .selected_text(picked)
            .width(170.0)
            .show_ui(ui, |ui| {
                for data in BUILTIN_DATASETS {
                    ui.selectable_value(&mut choice, data.name.to_string(), data.name)
                        .on_hover_text(format!(
                            "{}; {}; {}\n{}",
                            data.kind, data.task, data.size, data.source
                        ));
                }
            });
    });
    if choice != picked {
        commands.push(AppCommand::PickDataset(choice));
    }
    if let Some(info) = crate::data::builtin(picked) {
        ui.small(format!("{}. {}", info.task, info.source));
    }
    if crate::data::ToyShape::named(picked).is_some() {
        let mut options = *toy;
        ui.add_enabled_ui(!training_active, |ui| {
            ui.add(egui::Slider::new(&mut options.samples, 50..=5_000).text("points"));
            ui.add(egui::Slider::new(&mut options.noise, 0.0..=1.0).text("noise"));
            // Another draw of the same set: results differ from draw to draw (README gives
            // the playground preset's range over seeds).
            ui.horizontal(|ui| {
                let label = ui.label("data seed");
                ui.add(DragValue::new(&mut options.seed).range(0..=u32::MAX as u64))
                    .labelled_by(label.id)
                    .on_hover_text("Which random draw of points (the same seed, the same points)");
            });
        });
        if options != *toy {
            commands.push(AppCommand::SetToyOptions(options));
        }
    }
}

/// The validation size, an optional training subset, and the split they make.
fn split_ui(ui: &mut egui::Ui, dataset: &Dataset, config: &mut TrainConfig, training_active: bool) {
    ui.add_enabled_ui(!training_active, |ui| {
        egui::Grid::new("split").num_columns(2).show(ui, |ui| {
            let label = ui.label("Validation samples");
            ui.add(DragValue::new(&mut config.validation_size).range(0..=dataset.train.len() / 2))
                .labelled_by(label.id);
            ui.end_row();
            let mut limited = config.train_limit.is_some();
            ui.checkbox(&mut limited, "Train on a subset");
            if limited {
                let mut limit = config.train_limit.unwrap_or(5_000);
                let label = ui.label("samples");
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
        "Split: {} train / {} validation / {} test",
        thousands(train),
        thousands(config.validation_size),
        thousands(dataset.test.len())
    ));
}

/// Training samples per class, two classes a line.
fn class_counts_ui(ui: &mut egui::Ui, dataset: &Dataset) {
    let names = dataset.task().class_names();
    if names.is_empty() {
        return;
    }
    ui.label("Training samples per class");
    egui::Grid::new("class_counts")
        .num_columns(2)
        .show(ui, |ui| {
            for (class, count) in dataset.train.class_counts(names.len()).iter().enumerate() {
                ui.label(format!(
                    "{}: {}",
                    class_heading(class, &names[class]),
                    thousands(*count)
                ));
                if class % 2 == 1 {
                    ui.end_row();
                }
            }
        });
}

/// "3 Dress", or "3" where the class is named by its number (MNIST's "3", not "3 3").
pub fn class_heading(class: usize, name: &str) -> String {
    if name == class.to_string() {
        name.to_owned()
    } else {
        format!("{class} {name}")
    }
}

/// The first rows of a table or text set, each under its target.
fn first_rows_ui(ui: &mut egui::Ui, dataset: &Dataset) {
    let names = dataset.task().class_names();
    ui.label("First training samples");
    for index in 0..dataset.train.len().min(8) {
        let target =
            match names.get(dataset.train.labels().get(index).copied().unwrap_or(0) as usize) {
                Some(name) if !names.is_empty() => name.clone(),
                _ => dataset
                    .train
                    .values()
                    .get(index)
                    .map_or_else(String::new, |v| format!("{v}")),
            };
        let text = crate::data::shorten(&dataset.train.raw[index], 160);
        // ASCII: the bundled font has no arrow glyph, and egui panics on a missing one.
        ui.label(egui::RichText::new(format!("-> {target}")).strong());
        ui.small(text);
    }
}

/// The first training images under their labels, in as many columns as the panel holds
/// (at most [`PREVIEW_COLUMNS`]), each cell as wide as the longest label so no name breaks
/// mid-word ("Pullove/r").
fn first_images_ui(ui: &mut egui::Ui, dataset: &Dataset, preview: &DataPreview) {
    let names = dataset.task().class_names();
    let label = |class: u8| {
        names
            .get(class as usize)
            .cloned()
            .unwrap_or_else(|| class.to_string())
    };
    ui.label("First training images and their labels");
    let spacing = 4.0;
    let widest = preview
        .thumbnails
        .iter()
        .map(|(_, class)| text_width(ui, &label(*class), egui::TextStyle::Small))
        .fold(0.0, f32::max);
    let cell = widest.max(tokens::THUMBNAIL_SIDE);
    let fit = ((ui.available_width() + spacing) / (cell + spacing)).floor() as usize;
    let columns = fit.clamp(1, PREVIEW_COLUMNS);
    egui::Grid::new("preview")
        .spacing([spacing, spacing])
        .show(ui, |ui| {
            for (i, (texture, class)) in preview.thumbnails.iter().enumerate() {
                ui.vertical(|ui| {
                    ui.set_width(cell);
                    ui.add(
                        egui::Image::new(texture)
                            .fit_to_exact_size(egui::Vec2::splat(tokens::THUMBNAIL_SIDE)),
                    );
                    // One line; a name wider than the panel allows is cut with "…" and
                    // shown whole on hover.
                    ui.add(egui::Label::new(egui::RichText::new(label(*class)).small()).truncate());
                });
                if i % columns == columns - 1 {
                    ui.end_row();
                }
            }
        });
}

/// Each input column and what the model gets from it: the standardisation, the levels, the
/// vocabulary.
fn columns_ui(ui: &mut egui::Ui, columns: &[crate::data::ColumnStep]) {
    use crate::data::ColumnStep;
    egui::ScrollArea::vertical()
        .id_salt("data-columns-scroll")
        .max_height(220.0)
        .show(ui, |ui| {
            egui::Grid::new("data-columns-grid")
                .num_columns(3)
                .striped(true)
                .show(ui, |ui| {
                    for column in columns {
                        ui.label(column.name());
                        let (kind, detail) = match column {
                            ColumnStep::Numeric { mean, std, .. } => {
                                ("numeric", format!("mean {mean:.4}, std {std:.4}"))
                            }
                            ColumnStep::Categorical { levels, other, .. } => (
                                "categorical",
                                format!(
                                    "{} levels{}, one-hot: {}",
                                    levels.len(),
                                    if *other { " and \"other\"" } else { "" },
                                    crate::display::name_list(levels, 12)
                                ),
                            ),
                            ColumnStep::Text { vectoriser, .. } => (
                                "text",
                                format!(
                                    "vocabulary of {} words ({:?})",
                                    vectoriser.vocabulary.len(),
                                    vectoriser.weighting
                                ),
                            ),
                            ColumnStep::Ignore { .. } => ("ignored", "not used".to_string()),
                        };
                        ui.label(kind);
                        ui.small(crate::data::shorten(&detail, 90));
                        ui.end_row();
                    }
                });
        });
}

/// The training points of a 2-D set, coloured by class (standardised coordinates).
fn toy_scatter_ui(ui: &mut egui::Ui, dataset: &Dataset) {
    let mut classes: [Vec<[f64; 2]>; 2] = [Vec::new(), Vec::new()];
    let mut point = Vec::with_capacity(2);
    for index in 0..dataset.train.len() {
        dataset.train.inputs.push_sample(index, &mut point);
        let class = usize::from(dataset.train.labels().get(index).copied().unwrap_or(0) > 0);
        if let [x, y] = point[..] {
            classes[class].push([f64::from(x), f64::from(y)]);
        }
        point.clear();
    }
    egui_plot::Plot::new("toy-scatter")
        .height(ui.available_width().min(300.0))
        .data_aspect(1.0)
        .show(ui, |plot| {
            let [zero, one] = classes;
            plot.points(
                egui_plot::Points::new("class 0", zero)
                    .radius(2.0)
                    .color(tokens::CLASS_ZERO),
            );
            plot.points(
                egui_plot::Points::new("class 1", one)
                    .radius(2.0)
                    .color(tokens::CLASS_ONE),
            );
        });
}
