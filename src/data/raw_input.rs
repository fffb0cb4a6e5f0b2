//! Raw input (an image, a sentence, CSV rows) to model input through a saved card's recorded
//! preprocessing. `predict`, the window and tests all go through here; the outputs are read
//! back into what they mean by `crate::model::Prediction`.

use image::{imageops, imageops::FilterType, DynamicImage, GrayImage};

use super::dataset::DataCard;
use super::preprocessing::{encode_row, ColumnStep, ImageFraming, InputPipeline};
use super::raw_table::RawTable;
use super::table::encode_table_for_model;
use super::DataError;
use crate::preprocess::{preprocess_digit, MNIST_SIDE};

/// Why raw input does not suit a model.
#[derive(Debug, thiserror::Error)]
pub enum RawInputError {
    #[error(transparent)]
    Image(#[from] crate::preprocess::PreprocessError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("this model takes {expected}, not {given}")]
    WrongKind {
        expected: &'static str,
        given: &'static str,
    },
}

/// What kind of raw input a card's model takes: "an image", "CSV rows", "text".
pub fn input_kind(card: &DataCard) -> &'static str {
    match &card.preprocessing.input {
        InputPipeline::Image { .. } => "an image",
        InputPipeline::Table { columns } if text_only(columns) => "text (--text)",
        InputPipeline::Table { .. } => "CSV rows",
    }
}

/// Whether the only column the model uses is a text column.
fn text_only(columns: &[ColumnStep]) -> bool {
    let used: Vec<&ColumnStep> = columns.iter().filter(|c| c.width() > 0).collect();
    used.len() == 1 && matches!(used[0], ColumnStep::Text { .. })
}

/// One image prepared as the card's dataset was: MNIST's digit framing, or a plain resize
/// with light-on-dark polarity.
pub fn image_input(card: &DataCard, image: &DynamicImage) -> Result<Vec<f32>, RawInputError> {
    let InputPipeline::Image {
        channels,
        height,
        width,
        max_level,
        framing,
    } = card.preprocessing.input
    else {
        return Err(RawInputError::WrongKind {
            expected: input_kind(card),
            given: "an image",
        });
    };
    if image.width() == 0 || image.height() == 0 {
        return Err(crate::preprocess::PreprocessError::Empty.into());
    }
    let grey = match framing {
        ImageFraming::Digit => {
            let digit = preprocess_digit(image)?.to_image();
            if (height, width) == (MNIST_SIDE, MNIST_SIDE) {
                digit
            } else {
                imageops::resize(&digit, width as u32, height as u32, FilterType::Triangle)
            }
        }
        ImageFraming::Resize => light_on_dark(imageops::resize(
            &image.to_luma8(),
            width as u32,
            height as u32,
            FilterType::Triangle,
        )),
        ImageFraming::FitObject => fit_object(light_on_dark(image.to_luma8()), width, height),
        ImageFraming::Plain => {
            // Exactly as the folder's images were stored: resized, grey or RGB channels-first.
            let mut pixels = Vec::with_capacity(channels * height * width);
            super::image_folder::push_pixels(image, channels, height, width, &mut pixels);
            return Ok(pixels.into_iter().map(|p| f32::from(p) / 255.0).collect());
        }
    };
    // Quantised to the set's grey levels (17 for the 8x8 digits), then scaled to [0, 1].
    let levels = f32::from(max_level.max(1));
    let plane: Vec<f32> = grey
        .pixels()
        .map(|p| (f32::from(p.0[0]) / 255.0 * levels).round() / levels)
        .collect();
    Ok(plane.repeat(channels.max(1)))
}

/// The sets keep objects light on a dark background; a picture whose border is light (a
/// photo on white paper) is inverted to match.
fn light_on_dark(mut grey: GrayImage) -> GrayImage {
    let (width, height) = grey.dimensions();
    let border: Vec<u8> = grey
        .enumerate_pixels()
        .filter(|(x, y, _)| *x == 0 || *y == 0 || *x + 1 == width || *y + 1 == height)
        .map(|(_, _, p)| p.0[0])
        .collect();
    let mean = border.iter().map(|&v| f32::from(v)).sum::<f32>() / border.len().max(1) as f32;
    if mean > 127.0 {
        imageops::invert(&mut grey);
    }
    grey
}

/// Grey level above which a pixel counts as the object when trimming.
const OBJECT_LEVEL: u8 = 24;

/// Fashion-MNIST's framing: the object's bounding box, its longest edge scaled to the
/// frame (aspect kept), centred on black. A blank picture stays blank.
fn fit_object(grey: GrayImage, width: usize, height: usize) -> GrayImage {
    let (frame_w, frame_h) = (width as u32, height as u32);
    let mut bounds: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in grey.enumerate_pixels() {
        if p.0[0] > OBJECT_LEVEL {
            bounds = Some(bounds.map_or((x, y, x, y), |(x0, y0, x1, y1)| {
                (x0.min(x), y0.min(y), x1.max(x), y1.max(y))
            }));
        }
    }
    let Some((x0, y0, x1, y1)) = bounds else {
        return GrayImage::new(frame_w, frame_h);
    };
    let object = imageops::crop_imm(&grey, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image();
    let scale = (f64::from(frame_w) / f64::from(object.width()))
        .min(f64::from(frame_h) / f64::from(object.height()));
    let fitted_w = ((f64::from(object.width()) * scale).round() as u32).clamp(1, frame_w);
    let fitted_h = ((f64::from(object.height()) * scale).round() as u32).clamp(1, frame_h);
    let fitted = imageops::resize(&object, fitted_w, fitted_h, FilterType::Triangle);
    let mut frame = GrayImage::new(frame_w, frame_h);
    imageops::overlay(
        &mut frame,
        &fitted,
        i64::from((frame_w - fitted_w) / 2),
        i64::from((frame_h - fitted_h) / 2),
    );
    frame
}

/// One sentence prepared for a text model.
pub fn text_input(card: &DataCard, text: &str) -> Result<Vec<f32>, RawInputError> {
    let columns = match &card.preprocessing.input {
        InputPipeline::Table { columns }
            if columns.iter().any(|c| matches!(c, ColumnStep::Text { .. })) =>
        {
            columns
        }
        InputPipeline::Table { .. } | InputPipeline::Image { .. } => {
            return Err(RawInputError::WrongKind {
                expected: input_kind(card),
                given: "text",
            })
        }
    };
    // The text goes to the text column; any other column counts as missing.
    let cells: Vec<&str> = columns
        .iter()
        .map(|c| {
            if matches!(c, ColumnStep::Text { .. }) {
                text
            } else {
                ""
            }
        })
        .collect();
    let width: usize = columns.iter().map(ColumnStep::width).sum();
    let entries = encode_row(columns, cells).map_err(|e| {
        RawInputError::Data(DataError::Corrupt {
            path: "--text".into(),
            reason: e.to_string(),
        })
    })?;
    let mut values = vec![0.0; width];
    for (index, value) in entries {
        values[index as usize] = value;
    }
    Ok(values)
}

/// The rows of a CSV table prepared for a table model, one after another.
pub fn table_inputs(
    card: &DataCard,
    table: &RawTable,
    rows: std::ops::Range<usize>,
) -> Result<Vec<f32>, RawInputError> {
    match &card.preprocessing.input {
        InputPipeline::Table { columns } => Ok(encode_table_for_model(columns, table, rows)?),
        InputPipeline::Image { .. } => Err(RawInputError::WrongKind {
            expected: input_kind(card),
            given: "CSV rows",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_an_object_trims_scales_its_longest_edge_to_the_frame_and_centres_it() {
        // A dark 20x40 object on white paper, off-centre in a 100x60 picture.
        let picture = GrayImage::from_fn(100, 60, |x, y| {
            image::Luma([if (10..30).contains(&x) && (15..55).contains(&y) {
                10
            } else {
                250
            }])
        });
        let framed = fit_object(light_on_dark(picture), 28, 28);
        let lit = |x: u32, y: u32| framed.get_pixel(x, y).0[0] > 128;
        // Inverted (light object), 28 tall and 14 wide, centred: columns 7..21.
        assert!(lit(14, 0) && lit(14, 14) && lit(14, 27));
        assert!(lit(8, 14) && lit(19, 14));
        assert!(!lit(5, 14) && !lit(22, 14));
        // Nothing to fit: a blank frame, not a stretched border.
        let blank = fit_object(GrayImage::new(50, 50), 28, 28);
        assert!(blank.pixels().all(|p| p.0[0] == 0));
    }
}
