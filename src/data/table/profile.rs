//! Reading a table's columns before it becomes a dataset: each column's kind and task
//! guessed from its cells, and a profile (range, levels, missing cells) to show the person.

use serde::{Deserialize, Serialize};

use super::super::preprocessing::{is_missing, parse_number};
use super::super::raw_table::RawTable;

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

/// A numeric column with a few cells that are not numbers (a typo, "n/a?") is read as
/// categorical by [`guess_kind`]; this says which cells did it, so the person can fix them:
/// "1 value is not a number: line 5 'abc'". `None` when every present cell is a number, or when
/// more than one in twenty is not (a column of words, not a column of numbers with typos).
pub fn stray_non_numbers<'a>(cells: impl Iterator<Item = (usize, &'a str)>) -> Option<String> {
    const SHOWN: usize = 3;
    let (mut present, mut strays) = (0usize, 0usize);
    let mut first = Vec::new();
    for (line, cell) in cells.filter(|(_, c)| !is_missing(c)) {
        present += 1;
        if parse_number(cell).is_none() {
            strays += 1;
            if first.len() < SHOWN {
                first.push(format!(
                    "line {line} '{}'",
                    super::super::shorten(cell.trim(), 24)
                ));
            }
        }
    }
    if strays == 0 || strays * 20 > present {
        return None;
    }
    let more = match strays - first.len() {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let values = if strays == 1 {
        "value is not a number"
    } else {
        "values are not numbers"
    };
    Some(format!("{strays} {values}: {}{more}", first.join(", ")))
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
    /// Cells that keep a column of numbers from being read as numbers, as `stray_non_numbers`
    /// says them.
    pub stray_non_numbers: Option<String>,
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
            .map(|e| super::super::shorten(e, 16))
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
                stray_non_numbers: stray_non_numbers(
                    table
                        .column(index)
                        .enumerate()
                        .map(|(row, cell)| (RawTable::line_of(row), cell)),
                ),
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
