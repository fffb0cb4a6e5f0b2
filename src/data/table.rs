//! CSV files as datasets: reading (plain or gzip), guessing each column's kind, and fitting
//! the preprocessing on the training rows only.

use serde::{Deserialize, Serialize};

use super::dataset::{seeded_split, DataCard, Dataset, Inputs, Samples, Targets, Task};
use super::preprocessing::{
    encode_row, is_missing, mean_and_std, parse_number, ColumnStep, InputPipeline, Preprocessing,
    TargetScaling, MAX_CATEGORY_LEVELS, MISSING_LEVEL,
};
use super::raw_table::{RawTable, Row};
use super::text::{tokenize, TextVectoriser, TextWeighting, DEFAULT_VOCABULARY_SIZE};
use super::DataError;
use crate::display::{name_list, thousands, NAMES_IN_A_MESSAGE};

/// A categorical target with more levels than this is almost certainly not a class label.
pub const MAX_CLASSES: usize = 256;

/// What a column is, as guessed or as the user says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Numeric,
    Categorical,
    Text,
    Ignore,
}

/// Classification or regression, for a target the user wants read one way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Classification,
    Regression,
}

/// Guesses a column's kind from its cells: numbers are numeric; long multi-word strings are
/// text; strings that are nearly all different (identifiers) are ignored; the rest is
/// categorical.
pub fn guess_kind<'a>(cells: impl Iterator<Item = &'a str>) -> ColumnKind {
    let (mut present, mut numeric, mut words, mut chars) = (0usize, 0usize, 0usize, 0usize);
    let mut distinct = std::collections::HashSet::new();
    for cell in cells.filter(|c| !is_missing(c)) {
        present += 1;
        if parse_number(cell).is_some() {
            numeric += 1;
        }
        words += cell.split_whitespace().count();
        chars += cell.len();
        distinct.insert(cell.trim());
    }
    if present == 0 {
        return ColumnKind::Ignore;
    }
    if numeric == present {
        return ColumnKind::Numeric;
    }
    let mean_words = words as f64 / present as f64;
    let mean_chars = chars as f64 / present as f64;
    if mean_words >= 4.0 && mean_chars >= 20.0 {
        return ColumnKind::Text;
    }
    if distinct.len() > 20 && distinct.len() * 2 > present {
        return ColumnKind::Ignore;
    }
    ColumnKind::Categorical
}

/// What a column holds, for a person deciding how to read it before an import.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnProfile {
    pub name: String,
    /// The kind [`guess_kind`] gives.
    pub guessed: ColumnKind,
    /// Missing cells ([`is_missing`]).
    pub missing: usize,
    /// Smallest and largest number, when every present cell is one.
    pub range: Option<(f64, f64)>,
    /// Distinct present values (counted up to [`PROFILE_MAX_LEVELS`] + 1).
    pub levels: usize,
    /// The first few distinct values, for a glance.
    pub examples: Vec<String>,
}

/// Distinct values a profile counts before it stops ("more than 1,000").
pub const PROFILE_MAX_LEVELS: usize = 1_000;

impl ColumnProfile {
    /// "1,300 to 215,245" for numbers; "3 levels: Pave, Grvl, (…)" otherwise.
    pub fn summary(&self) -> String {
        if let Some((low, high)) = self.range {
            return format!("{} to {}", short_number(low), short_number(high));
        }
        let count = if self.levels > PROFILE_MAX_LEVELS {
            format!("over {PROFILE_MAX_LEVELS} values")
        } else {
            format!("{} values", self.levels)
        };
        let shown: Vec<String> = self
            .examples
            .iter()
            .map(|e| super::shorten(e, 16))
            .collect();
        format!("{count}: {}", shown.join(", "))
    }
}

/// A number short enough for a table cell: whole numbers as they are, others to 4 digits.
fn short_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e12 {
        format!("{value}")
    } else {
        format!("{value:.4}")
    }
}

/// Profiles every column of `table` (its guessed kind, missing cells, range or levels).
pub fn profile_columns(table: &RawTable) -> Vec<ColumnProfile> {
    (0..table.headers.len())
        .map(|index| {
            let mut missing = 0;
            let mut range: Option<(f64, f64)> = None;
            let mut all_numbers = true;
            let mut distinct = std::collections::HashSet::new();
            let mut examples = Vec::new();
            for cell in table.column(index) {
                if is_missing(cell) {
                    missing += 1;
                    continue;
                }
                match parse_number(cell) {
                    Some(v) if all_numbers => {
                        range = Some(range.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
                    }
                    Some(_) => {}
                    None => all_numbers = false,
                }
                if distinct.len() <= PROFILE_MAX_LEVELS
                    && distinct.insert(cell.trim())
                    && examples.len() < 4
                {
                    examples.push(cell.trim().to_string());
                }
            }
            ColumnProfile {
                name: table.headers[index].clone(),
                guessed: guess_kind(table.column(index)),
                missing,
                range: range.filter(|_| all_numbers),
                levels: distinct.len(),
                examples,
            }
        })
        .collect()
}

/// Classification when the target is categorical, or numeric with few distinct whole values
/// (at most 10, as class labels 0-9 are); regression otherwise.
pub fn guess_task<'a>(cells: impl Iterator<Item = &'a str> + Clone) -> TaskKind {
    if guess_kind(cells.clone()) != ColumnKind::Numeric {
        return TaskKind::Classification;
    }
    let mut distinct = std::collections::BTreeSet::new();
    for cell in cells.filter(|c| !is_missing(c)) {
        match parse_number(cell) {
            Some(v) if v.fract() == 0.0 && v.abs() < 1e9 => {
                distinct.insert(v as i64);
            }
            _ => return TaskKind::Regression,
        }
        if distinct.len() > 10 {
            return TaskKind::Regression;
        }
    }
    TaskKind::Classification
}

/// How a table becomes a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct TableOptions {
    /// The target column (default: the last).
    pub target: Option<String>,
    /// Kinds the user chose, overriding the guesses.
    pub kinds: Vec<(String, ColumnKind)>,
    /// Classification or regression (default: guessed from the target).
    pub task: Option<TaskKind>,
    /// Class names in label order, when the data has a fixed order (else sorted levels).
    pub class_order: Option<Vec<String>>,
    /// The target's unit, for regression ("USD").
    pub target_unit: String,
    /// Train on the logarithm of a regression target.
    pub log_target: bool,
    pub vocabulary_size: usize,
    pub text_weighting: TextWeighting,
    /// Fraction of rows held out as the test split when there is no test file.
    pub test_fraction: f64,
    pub seed: u64,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            target: None,
            kinds: Vec::new(),
            task: None,
            class_order: None,
            target_unit: String::new(),
            log_target: false,
            vocabulary_size: DEFAULT_VOCABULARY_SIZE,
            text_weighting: TextWeighting::MultiHot,
            test_fraction: 0.2,
            seed: 42,
        }
    }
}

/// What was guessed and what was done, for the user to read (the CLI prints it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableReport {
    pub columns: Vec<(String, ColumnKind)>,
    pub target: String,
    /// "Lot_Frontage: 490 missing values filled with the training mean 69.2".
    pub notes: Vec<String>,
}

impl ColumnKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Numeric => "numeric",
            Self::Categorical => "categorical",
            Self::Text => "text",
            Self::Ignore => "ignore",
        }
    }
}

impl TableReport {
    /// "id=ignore, x=numeric, weather=categorical": each column and what it was read as.
    pub fn columns_line(&self) -> String {
        self.columns
            .iter()
            .map(|(column, kind)| format!("{column}={}", kind.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Builds a dataset from a table, with a seeded split (or the given test table), fitting
/// every statistic on the training rows only.
pub fn table_dataset(
    name: &str,
    train_table: &RawTable,
    test_table: Option<&RawTable>,
    options: &TableOptions,
) -> Result<(Dataset, TableReport), DataError> {
    let bad = |reason: String| DataError::Corrupt {
        path: train_table.source.clone(),
        reason,
    };
    let target_name = options
        .target
        .clone()
        .or_else(|| train_table.headers.last().cloned())
        .unwrap_or_default();
    let target = train_table.column_index(&target_name).ok_or_else(|| {
        bad(format!(
            "there is no column {target_name:?}; the columns are {}",
            name_list(&train_table.headers, NAMES_IN_A_MESSAGE)
        ))
    })?;
    for (column, _) in &options.kinds {
        if train_table.column_index(column).is_none() {
            return Err(bad(format!(
                "--column names {column:?}, which is not a column; the columns are {}",
                name_list(&train_table.headers, NAMES_IN_A_MESSAGE)
            )));
        }
    }
    let (train_rows, test_rows): (Vec<u32>, Vec<u32>) = match test_table {
        Some(test) => {
            if test.headers != train_table.headers {
                return Err(DataError::Mismatch {
                    images: train_table.source.clone(),
                    labels: test.source.clone(),
                    reason: "the two files have different columns".into(),
                });
            }
            ((0..train_table.row_count() as u32).collect(), Vec::new())
        }
        None => {
            if train_table.row_count() < 5 {
                return Err(bad(format!(
                    "{} rows are too few to split into training and test data",
                    train_table.row_count()
                )));
            }
            seeded_split(train_table.row_count(), options.test_fraction, options.seed)
        }
    };
    let train_cells = |column: usize| {
        train_rows
            .iter()
            .map(move |&r| train_table.row(r as usize).cell(column))
    };

    // The task, from the training rows' targets.
    let task_kind = options
        .task
        .unwrap_or_else(|| guess_task(train_cells(target)));
    let mut report = TableReport {
        target: target_name.clone(),
        ..TableReport::default()
    };

    // Column steps, fitted on training rows.
    let mut steps = Vec::with_capacity(train_table.headers.len() - 1);
    for (index, header) in train_table.headers.iter().enumerate() {
        if index == target {
            continue;
        }
        let kind = options
            .kinds
            .iter()
            .find(|(name, _)| name == header)
            .map(|(_, kind)| *kind)
            .unwrap_or_else(|| guess_kind(train_cells(index)));
        report.columns.push((header.clone(), kind));
        steps.push(
            fit_column(header, kind, train_cells(index), options, &mut report.notes).map_err(
                |(row, reason)| {
                    bad(format!(
                        "line {}, column {header}: {reason}",
                        RawTable::line_of(train_rows[row] as usize)
                    ))
                },
            )?,
        );
    }
    if steps.iter().all(|s| s.width() == 0) {
        return Err(bad(
            "no column is left to learn from: every input column is ignored or empty".into(),
        ));
    }

    let (task, target_scaling, class_index) = match task_kind {
        TaskKind::Classification => {
            let mut levels: Vec<String> = match &options.class_order {
                Some(order) => order.clone(),
                None => {
                    let set: std::collections::BTreeSet<String> =
                        train_cells(target).map(|c| c.trim().to_string()).collect();
                    set.into_iter().collect()
                }
            };
            // Whole numbers sort as numbers (2 before 10).
            if options.class_order.is_none() && levels.iter().all(|l| l.parse::<i64>().is_ok()) {
                levels.sort_by_key(|l| l.parse::<i64>().unwrap_or(0));
            }
            if levels.len() < 2 {
                return Err(bad(format!(
                    "the target column {target_name} has only one value ({}) in the training rows: there is nothing to classify",
                    levels.first().map_or("none", String::as_str)
                )));
            }
            if levels.len() > MAX_CLASSES {
                return Err(bad(format!(
                    "the target column {target_name} has {} distinct values, more than {MAX_CLASSES} classes; is it a number to predict (--task regression)?",
                    levels.len()
                )));
            }
            (
                Task::Classification {
                    class_names: levels.clone(),
                },
                None,
                Some(levels),
            )
        }
        TaskKind::Regression => {
            let mut values = Vec::with_capacity(train_rows.len());
            for (row, cell) in train_cells(target).enumerate() {
                values.push(parse_target(cell).map_err(|reason| {
                    bad(format!(
                        "line {}, column {target_name}: {reason}",
                        RawTable::line_of(train_rows[row] as usize)
                    ))
                })?);
            }
            let scaling =
                TargetScaling::fit(&values, options.log_target).map_err(|e| bad(e.to_string()))?;
            (
                Task::Regression {
                    target: target_name.clone(),
                    unit: options.target_unit.clone(),
                },
                Some(scaling),
                None,
            )
        }
    };

    let card = DataCard {
        dataset: name.to_string(),
        task,
        preprocessing: Preprocessing {
            input: InputPipeline::Table { columns: steps },
            target: target_scaling,
        },
        builtin_options: None,
    };
    let train = encode_rows(
        &card,
        train_table,
        &train_rows,
        target,
        class_index.as_deref(),
    )?;
    let test = match test_table {
        Some(table) => {
            let rows: Vec<u32> = (0..table.row_count() as u32).collect();
            encode_rows(&card, table, &rows, target, class_index.as_deref())?
        }
        None => encode_rows(
            &card,
            train_table,
            &test_rows,
            target,
            class_index.as_deref(),
        )?,
    };
    Ok((
        Dataset {
            name: name.to_string(),
            card,
            train,
            test,
        },
        report,
    ))
}

fn parse_target(cell: &str) -> Result<f32, String> {
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
fn fit_column<'a>(
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
fn encode_rows(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> RawTable {
        RawTable::from_reader(text.as_bytes(), "t.csv").unwrap()
    }

    #[test]
    fn a_profile_gives_each_columns_kind_range_levels_and_missing_cells() {
        let t = table("area,street,note\n1300,Pave,\n215245.5,Grvl,NA\n8450,Pave,x\n");
        let profiles = profile_columns(&t);
        assert_eq!(profiles[0].guessed, ColumnKind::Numeric);
        assert_eq!(profiles[0].range, Some((1300.0, 215245.5)));
        assert_eq!(profiles[0].summary(), "1300 to 215245.5000");
        assert_eq!(profiles[0].missing, 0);
        assert_eq!(profiles[1].guessed, ColumnKind::Categorical);
        assert_eq!(profiles[1].range, None);
        assert_eq!(profiles[1].levels, 2);
        assert_eq!(profiles[1].summary(), "2 values: Pave, Grvl");
        assert_eq!(profiles[2].missing, 2);
        assert_eq!(profiles[2].levels, 1);
    }

    #[test]
    fn kinds_are_guessed_from_the_cells() {
        assert_eq!(
            guess_kind(["1", "2.5", "NA", "-3e2"].into_iter()),
            ColumnKind::Numeric
        );
        assert_eq!(
            guess_kind(["Pave", "Grvl", "Pave"].into_iter()),
            ColumnKind::Categorical
        );
        assert_eq!(
            guess_kind(["this tea is really very good", "not worth the money at all"].into_iter()),
            ColumnKind::Text
        );
        let ids: Vec<String> = (0..40).map(|i| format!("B00{i}")).collect();
        assert_eq!(
            guess_kind(ids.iter().map(String::as_str)),
            ColumnKind::Ignore
        );
        assert_eq!(guess_kind(["", "NA"].into_iter()), ColumnKind::Ignore);
        assert_eq!(
            guess_task(["0", "1", "2", "1"].into_iter()),
            TaskKind::Classification
        );
        assert_eq!(
            guess_task(["0.5", "1", "2"].into_iter()),
            TaskKind::Regression
        );
        assert_eq!(
            guess_task(["yes", "no"].into_iter()),
            TaskKind::Classification
        );
        let many: Vec<String> = (0..30).map(|i| i.to_string()).collect();
        assert_eq!(
            guess_task(many.iter().map(String::as_str)),
            TaskKind::Regression
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        let err = RawTable::from_reader("a,b\n1,2\n3\n".as_bytes(), "r.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.csv: line 3 has 1 fields but the header has 2"
        );
        let err = RawTable::from_reader("".as_bytes(), "e.csv").unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let err = RawTable::from_reader("a,b\n".as_bytes(), "h.csv").unwrap_err();
        assert!(err.to_string().contains("no rows"), "{err}");
    }

    #[test]
    fn statistics_are_fitted_on_the_training_rows_only() {
        // Rows 0-7 are ordinary; the test file holds an extreme value and an unseen level.
        let train = table("x,colour,y\n1,red,1\n2,blue,2\n3,red,3\n4,blue,4\n5,red,5\n6,blue,6\n7,red,7\n8,blue,8\n");
        let test = table("x,colour,y\n1000,green,9\n");
        let options = TableOptions {
            task: Some(TaskKind::Regression),
            ..TableOptions::default()
        };
        let (data, _) = table_dataset("t", &train, Some(&test), &options).unwrap();
        let InputPipeline::Table { columns } = &data.card.preprocessing.input else {
            panic!()
        };
        assert_eq!(
            columns[0],
            ColumnStep::Numeric {
                name: "x".into(),
                mean: 4.5,
                std: (5.25f64).sqrt()
            }
        );
        assert_eq!(
            columns[1],
            ColumnStep::Categorical {
                name: "colour".into(),
                levels: vec!["blue".into(), "red".into()],
                other: false,
            }
        );
        let scaling = data.card.preprocessing.target.unwrap();
        assert_eq!((scaling.mean, scaling.std), (4.5, (5.25f64).sqrt()));
        // The unseen level encodes as zeros; the test target stays in its units.
        let mut row = Vec::new();
        data.test.fill_inputs(&[0], &mut row);
        assert_eq!(row.len(), 3);
        assert!((row[0] - ((1000.0 - 4.5) / 5.25f64.sqrt()) as f32).abs() < 1e-3);
        assert_eq!(&row[1..], [0.0, 0.0]);
        assert_eq!(data.test.values(), [9.0]);
    }

    #[test]
    fn the_vocabulary_comes_from_the_training_rows_only() {
        let train = table("review,label\ngood tea,a\nbad tea,b\ngood cup,a\nbad cup,b\n");
        let test = table("review,label\nmarvellous tea,a\n");
        let options = TableOptions {
            kinds: vec![("review".into(), ColumnKind::Text)],
            ..TableOptions::default()
        };
        let (data, _) = table_dataset("t", &train, Some(&test), &options).unwrap();
        let InputPipeline::Table { columns } = &data.card.preprocessing.input else {
            panic!()
        };
        let ColumnStep::Text { vectoriser, .. } = &columns[0] else {
            panic!()
        };
        assert_eq!(vectoriser.vocabulary, ["bad", "cup", "good", "tea"]);
        let mut row = Vec::new();
        data.test.fill_inputs(&[0], &mut row);
        assert_eq!(row, [0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn targets_and_columns_that_cannot_work_get_a_clear_message() {
        let one_class = table("x,y\n1,a\n2,a\n3,a\n4,a\n5,a\n6,a\n");
        let err = table_dataset("t", &one_class, None, &TableOptions::default()).unwrap_err();
        assert!(err.to_string().contains("only one value"), "{err}");

        let text = table("x,y\n1,1.5\nabc,2.5\n3,3.5\n4,4.5\n5,5.5\n6,6.5\n");
        let options = TableOptions {
            kinds: vec![("x".into(), ColumnKind::Numeric)],
            test_fraction: 0.0,
            ..TableOptions::default()
        };
        let err = table_dataset("t", &text, None, &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv: line 3, column x: \"abc\" is not a number"
        );

        let empty_text = table("words,y\n,1\n,2\n,1\n,2\n,1\n,2\n");
        let options = TableOptions {
            kinds: vec![("words".into(), ColumnKind::Text)],
            ..TableOptions::default()
        };
        let err = table_dataset("t", &empty_text, None, &options).unwrap_err();
        assert!(err.to_string().contains("holds no words"), "{err}");
    }

    #[test]
    fn numbers_too_large_for_their_statistics_or_for_f32_are_refused_where_they_are() {
        // 1e308 is a number, but the column's mean overflows: refused with line and column.
        let huge = table("x,y\n1,1.5\n1e308,2.5\n3,3.5\n4,4.5\n5,5.5\n6,6.5\n");
        let options = TableOptions {
            test_fraction: 0.0,
            ..TableOptions::default()
        };
        let err = table_dataset("t", &huge, None, &options)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("t.csv: line 3, column x: 1e308 is too large to standardise"),
            "{err}"
        );
        // A target beyond f32's range: the file, line and column, not "sample 28".
        let target = table("x,y\n1,1.5\n2,2.5\n3,1e39\n4,4.5\n5,5.5\n6,6.5\n");
        let options = TableOptions {
            task: Some(TaskKind::Regression),
            test_fraction: 0.0,
            ..TableOptions::default()
        };
        let err = table_dataset("t", &target, None, &options)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("t.csv: line 4, column y: \"1e39\" is beyond the range"),
            "{err}"
        );
    }

    #[test]
    fn a_column_of_many_levels_keeps_the_most_frequent_and_reads_the_rest_as_other() {
        // 40,000 street names, "Main" in 500 rows and "Side" in 300: before, 40,000 one-hot
        // columns (2.5 GB for a 329 KB file).
        let mut text = String::from("street,y\n");
        for i in 0..40_000 {
            text.push_str(&format!("s{i},{}\n", i % 2));
        }
        for i in 0..800 {
            let street = if i < 500 { "Main" } else { "Side" };
            text.push_str(&format!("{street},{}\n", i % 2));
        }
        let many = table(&text);
        let options = TableOptions {
            kinds: vec![("street".into(), ColumnKind::Categorical)],
            ..TableOptions::default()
        };
        let (data, report) = table_dataset("t", &many, None, &options).unwrap();
        let InputPipeline::Table { columns } = &data.card.preprocessing.input else {
            panic!("a table")
        };
        let ColumnStep::Categorical { levels, other, .. } = &columns[0] else {
            panic!("categorical")
        };
        assert_eq!(levels.len(), MAX_CATEGORY_LEVELS);
        assert!(*other && levels.contains(&"Main".into()) && levels.contains(&"Side".into()));
        assert_eq!(
            data.input_shape(),
            crate::spec::ActivationShape::Flat { features: 101 }
        );
        let note = report
            .notes
            .iter()
            .find(|n| n.starts_with("street:"))
            .unwrap();
        assert!(note.contains("the 100 most frequent are kept"), "{note}");
        // A rare street is "other"; a street never seen is "other" too.
        let step = &columns[0];
        let mut out = Vec::new();
        step.encode("s39999", 0, &mut out).unwrap();
        step.encode("Nowhere Lane", 0, &mut out).unwrap();
        step.encode("Main", 0, &mut out).unwrap();
        let main = levels.iter().position(|l| l == "Main").unwrap() as u32;
        assert_eq!(out, [(100, 1.0), (100, 1.0), (main, 1.0)]);
    }

    #[test]
    fn a_multi_member_gzip_csv_is_read_to_its_last_member() {
        use std::io::Write;
        let member = |text: &str| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(text.as_bytes()).unwrap();
            gz.finish().unwrap()
        };
        // `cat a.gz b.gz > c.csv.gz`: the header and 50 rows, then 350 more rows.
        let first: String = (0..50).map(|i| format!("{i},{}\n", i % 2)).collect();
        let second: String = (50..400).map(|i| format!("{i},{}\n", i % 2)).collect();
        let mut joined = member(&format!("x,y\n{first}"));
        joined.extend(member(&second));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv.gz");
        std::fs::write(&path, joined).unwrap();
        let table = RawTable::read(&path).unwrap();
        assert_eq!(table.row_count(), 400);
        assert_eq!(table.column(0).last(), Some("399"));
    }

    #[test]
    fn a_missing_target_among_a_million_columns_lists_a_few_and_counts_the_rest() {
        let header: Vec<String> = (0..1_000_000).map(|i| format!("column{i}")).collect();
        let row = vec!["1"; header.len()].join(",");
        let wide = table(&format!("{}\n{row}\n{row}\n", header.join(",")));
        let options = TableOptions {
            target: Some("nope".into()),
            ..TableOptions::default()
        };
        let err = table_dataset("t", &wide, None, &options)
            .unwrap_err()
            .to_string();
        assert!(err.len() < 1_000, "{} bytes of error text", err.len());
        assert!(
            err.ends_with("column18, column19 and 999,980 more"),
            "{err}"
        );
        let options = TableOptions {
            kinds: vec![("nope".into(), ColumnKind::Numeric)],
            ..TableOptions::default()
        };
        let err = table_dataset("t", &wide, None, &options)
            .unwrap_err()
            .to_string();
        assert!(
            err.len() < 1_000 && err.contains("and 999,980 more"),
            "{err}"
        );
    }
}
