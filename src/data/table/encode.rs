//! Fitting each column's step on the training rows, and encoding rows (a split's, or a
//! person's in the try panel) with the fitted steps.

use super::super::dataset::{DataCard, Inputs, Samples, Targets};
use super::super::preprocessing::{
    encode_row, is_missing, mean_and_std, parse_number, ColumnStep, InputPipeline,
    MAX_CATEGORY_LEVELS, MISSING_LEVEL,
};
use super::super::raw_table::{RawTable, Row};
use super::super::text::{tokenize, TextVectoriser};
use super::super::DataError;
use super::{ColumnKind, TableOptions};
use crate::display::thousands;

pub(super) fn parse_target(cell: &str) -> Result<f32, String> {
    if is_missing(cell) {
        return Err("the target is missing".into());
    }
    let value = parse_number(cell).ok_or_else(|| format!("{:?} is not a number", cell.trim()))?;
    let single = value as f32;
    if !single.is_finite() {
        return Err(format!(
            "{:?} is beyond the range LayerLab trains in (32-bit floats, up to {:e})",
            cell.trim(),
            f32::MAX
        ));
    }
    Ok(single)
}

/// Fits one column's step on its training cells; an error names the row (in `cells` order).
pub(super) fn fit_column<'a>(
    name: &str,
    kind: ColumnKind,
    cells: impl Iterator<Item = &'a str>,
    options: &TableOptions,
    notes: &mut Vec<String>,
) -> Result<ColumnStep, (usize, String)> {
    let name = name.to_string();
    Ok(match kind {
        ColumnKind::Numeric => {
            let mut values = Vec::new();
            let mut missing = 0;
            // The row of the value furthest from zero, to name when the statistics overflow.
            let mut largest = (0, 0.0f64);
            for (row, cell) in cells.enumerate() {
                if is_missing(cell) {
                    missing += 1;
                    continue;
                }
                let value = parse_number(cell)
                    .ok_or_else(|| (row, format!("{:?} is not a number", cell.trim())))?;
                if value.abs() > largest.1 {
                    largest = (row, value.abs());
                }
                values.push(value);
            }
            let (mean, std) = mean_and_std(&values);
            if !(mean.is_finite() && std.is_finite()) {
                // 1e308 is a number, but the column's mean or spread is not: standardising
                // it would write a card that cannot be read back.
                return Err((
                    largest.0,
                    format!(
                        "{:e} is too large to standardise: the column's mean or spread is not a \
                         finite number; rescale the column (divide it by a power of ten)",
                        largest.1
                    ),
                ));
            }
            if missing > 0 {
                notes.push(format!(
                    "{name}: {missing} missing values filled with the training mean {mean:.4}"
                ));
            }
            ColumnStep::Numeric { name, mean, std }
        }
        ColumnKind::Categorical => {
            let (levels, other) = fit_levels(cells);
            if let Some((kept, others, rows)) = other {
                notes.push(format!(
                    "{name}: {} values; the {kept} most frequent are kept and the other {} ({} \
                     rows) are read as one \"other\" value",
                    thousands(kept + others),
                    thousands(others),
                    thousands(rows)
                ));
            }
            ColumnStep::Categorical {
                name,
                levels,
                other: other.is_some(),
            }
        }
        ColumnKind::Text => {
            let documents: Vec<Vec<String>> = cells.map(tokenize).collect();
            let vectoriser =
                TextVectoriser::fit(&documents, options.vocabulary_size, options.text_weighting);
            if vectoriser.vocabulary.is_empty() {
                return Err((0, "the text column holds no words".into()));
            }
            ColumnStep::Text { name, vectoriser }
        }
        ColumnKind::Ignore => ColumnStep::Ignore { name },
    })
}

/// A categorical column's levels, sorted, at most [`MAX_CATEGORY_LEVELS`] of them: the most
/// frequent (ties by value). When some were left out: how many kept, how many left out and
/// in how many rows.
fn fit_levels<'a>(
    cells: impl Iterator<Item = &'a str>,
) -> (Vec<String>, Option<(usize, usize, usize)>) {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for cell in cells {
        let level = if is_missing(cell) {
            MISSING_LEVEL
        } else {
            cell.trim()
        };
        *counts.entry(level).or_default() += 1;
    }
    let mut by_count: Vec<(&str, usize)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let left_out = by_count.split_off(by_count.len().min(MAX_CATEGORY_LEVELS));
    let mut levels: Vec<String> = by_count
        .iter()
        .map(|(level, _)| level.to_string())
        .collect();
    levels.sort();
    let other = (!left_out.is_empty()).then(|| {
        let rows = left_out.iter().map(|(_, count)| count).sum();
        (levels.len(), left_out.len(), rows)
    });
    (levels, other)
}

/// The model inputs and targets of `rows` of `table`, through the card's fitted steps.
pub(super) fn encode_rows(
    card: &DataCard,
    table: &RawTable,
    rows: &[u32],
    target: usize,
    class_levels: Option<&[String]>,
) -> Result<Samples, DataError> {
    let InputPipeline::Table { columns } = &card.preprocessing.input else {
        unreachable!("tables are always encoded with a table pipeline")
    };
    let bad = |row: u32, reason: String| DataError::Corrupt {
        path: table.source.clone(),
        reason: format!("line {}, {reason}", RawTable::line_of(row as usize)),
    };
    let input_columns: Vec<usize> = (0..table.headers.len()).filter(|&i| i != target).collect();
    let width = columns.iter().map(ColumnStep::width).sum();
    let has_text = columns.iter().any(|c| matches!(c, ColumnStep::Text { .. }));
    // Rows with text stay sparse (a vocabulary is wide and mostly zeros); the rest are
    // written straight into one dense matrix, never a vector per row on the way.
    let mut sparse = Vec::with_capacity(if has_text { rows.len() } else { 0 });
    let mut dense = Vec::with_capacity(if has_text { 0 } else { rows.len() * width });
    let mut raw = Vec::with_capacity(rows.len());
    for &row in rows {
        let cells = table.row(row as usize);
        let entries = encode_row(columns, input_columns.iter().map(|&i| cells.cell(i)))
            .map_err(|e| bad(row, e.to_string()))?;
        if has_text {
            sparse.push(entries);
        } else {
            push_dense_row(&mut dense, width, entries);
        }
        raw.push(readable_row(&table.headers, cells, target));
    }
    let inputs = if has_text {
        Inputs::sparse(sparse, width)
    } else {
        Inputs::Dense {
            values: dense,
            width,
        }
    };
    let targets = match class_levels {
        Some(levels) => {
            let mut labels = Vec::with_capacity(rows.len());
            for &row in rows {
                let cell = table.row(row as usize).cell(target).trim();
                let label = levels.iter().position(|l| l == cell).ok_or_else(|| {
                    bad(
                        row,
                        format!(
                            "column {}: {cell:?} is not one of the classes seen in training ({})",
                            table.headers[target],
                            levels.join(", ")
                        ),
                    )
                })?;
                labels.push(label as u8);
            }
            Targets::Classes(labels)
        }
        None => {
            let mut values = Vec::with_capacity(rows.len());
            for &row in rows {
                values.push(parse_target(table.row(row as usize).cell(target)).map_err(
                    |reason| bad(row, format!("column {}: {reason}", table.headers[target])),
                )?);
            }
            Targets::Values(values)
        }
    };
    Ok(Samples {
        inputs,
        targets,
        raw,
    })
}

/// "review: I love it | product: B00…" (the target left out), shortened for display.
fn readable_row(headers: &[String], cells: Row<'_>, target: usize) -> String {
    let mut text = String::new();
    for (i, (header, cell)) in headers.iter().zip(cells.iter()).enumerate() {
        if i == target {
            continue;
        }
        if !text.is_empty() {
            text.push_str(" | ");
        }
        text.push_str(header);
        text.push_str(": ");
        text.push_str(cell.trim());
        if text.len() > 2_000 {
            break;
        }
    }
    text
}

/// Encodes `rows` of a raw CSV (the columns the model was trained on, by name; the target
/// may be absent) through a fitted table pipeline: what `predict` feeds a model, a batch of
/// rows at a time.
pub fn encode_table_for_model(
    columns: &[ColumnStep],
    table: &RawTable,
    rows: std::ops::Range<usize>,
) -> Result<Vec<f32>, DataError> {
    let mut positions = Vec::with_capacity(columns.len());
    for step in columns {
        match (table.column_index(step.name()), step) {
            (Some(index), _) => positions.push(Some(index)),
            (None, ColumnStep::Ignore { .. }) => positions.push(None),
            (None, _) => {
                return Err(DataError::Corrupt {
                    path: table.source.clone(),
                    reason: format!(
                        "the model needs a column {:?}, which the file does not have",
                        step.name()
                    ),
                })
            }
        }
    }
    let width: usize = columns.iter().map(ColumnStep::width).sum();
    let rows = rows.start.min(table.row_count())..rows.end.min(table.row_count());
    let mut values = Vec::with_capacity(rows.len() * width);
    for row in rows {
        let cells = table.row(row);
        let entries = encode_row(
            columns,
            positions.iter().map(|p| p.map_or("", |i| cells.cell(i))),
        )
        .map_err(|e| DataError::Corrupt {
            path: table.source.clone(),
            reason: format!("line {}, {e}", RawTable::line_of(row)),
        })?;
        push_dense_row(&mut values, width, entries);
    }
    Ok(values)
}

/// Appends one row of `width` features, zero but for `entries` (column, value).
fn push_dense_row(values: &mut Vec<f32>, width: usize, entries: Vec<(u32, f32)>) {
    let start = values.len();
    values.resize(start + width, 0.0);
    for (column, value) in entries {
        values[start + column as usize] = value;
    }
}
