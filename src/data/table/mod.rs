//! CSV files as datasets: reading (plain or gzip), guessing each column's kind, and fitting
//! the preprocessing on the training rows only.

mod encode;
mod profile;

use super::dataset::{seeded_split, DataCard, Dataset, Task};
use super::preprocessing::{InputPipeline, Preprocessing, TargetScaling};
use super::raw_table::RawTable;
use super::text::{TextWeighting, DEFAULT_VOCABULARY_SIZE};
use super::DataError;
use crate::display::{name_list, NAMES_IN_A_MESSAGE};

/// A categorical target with more levels than this is almost certainly not a class label.
pub const MAX_CLASSES: usize = 256;

pub use encode::encode_table_for_model;
use encode::{encode_rows, fit_column, parse_target};
pub use profile::{
    guess_kind, guess_task, profile_columns, stray_non_numbers, ColumnKind, ColumnProfile,
    TaskKind, PROFILE_MAX_LEVELS,
};

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
    let bad = |reason: String| corrupt(train_table, reason);
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
    let (train_rows, test_rows) = split_rows(train_table, test_table, options)?;
    let training = TrainingCells {
        table: train_table,
        rows: &train_rows,
    };
    let mut report = TableReport {
        target: target_name.clone(),
        ..TableReport::default()
    };
    let steps = fit_columns(&training, target, options, &mut report)?;
    let task_kind = options
        .task
        .unwrap_or_else(|| guess_task(training.cells(target)));
    let (task, target_scaling, class_index) = match task_kind {
        TaskKind::Classification => {
            let levels = class_levels(&training, target, &target_name, options)?;
            (
                Task::Classification {
                    class_names: levels.clone(),
                },
                None,
                Some(levels),
            )
        }
        TaskKind::Regression => (
            Task::Regression {
                target: target_name.clone(),
                unit: options.target_unit.clone(),
            },
            Some(fit_target(&training, target, &target_name, options)?),
            None,
        ),
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
    let classes = class_index.as_deref();
    let train = encode_rows(&card, train_table, &train_rows, target, classes)?;
    let test = match test_table {
        Some(table) => {
            let rows: Vec<u32> = (0..table.row_count() as u32).collect();
            encode_rows(&card, table, &rows, target, classes)?
        }
        None => encode_rows(&card, train_table, &test_rows, target, classes)?,
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

fn corrupt(table: &RawTable, reason: String) -> DataError {
    DataError::Corrupt {
        path: table.source.clone(),
        reason,
    }
}

/// The training table's rows that train, the rows of one column at a time.
struct TrainingCells<'a> {
    table: &'a RawTable,
    rows: &'a [u32],
}

impl<'a> TrainingCells<'a> {
    fn cells(&self, column: usize) -> impl Iterator<Item = &'a str> + Clone + 'a {
        let table = self.table;
        self.rows
            .iter()
            .map(move |&r| table.row(r as usize).cell(column))
    }

    /// Each training row's cell of `column` with its line in the file.
    fn lines_and_cells(&self, column: usize) -> impl Iterator<Item = (usize, &'a str)> + 'a {
        let table = self.table;
        self.rows.iter().map(move |&r| {
            (
                RawTable::line_of(r as usize),
                table.row(r as usize).cell(column),
            )
        })
    }

    /// "line 12, column price: ...": where the `row`-th training row is in the file.
    fn at(&self, row: usize, column: &str, reason: String) -> DataError {
        corrupt(
            self.table,
            format!(
                "line {}, column {column}: {reason}",
                RawTable::line_of(self.rows[row] as usize)
            ),
        )
    }
}

/// The training and test rows of `train_table`: all of it with a test table of the same
/// columns, else a seeded split.
fn split_rows(
    train_table: &RawTable,
    test_table: Option<&RawTable>,
    options: &TableOptions,
) -> Result<(Vec<u32>, Vec<u32>), DataError> {
    match test_table {
        Some(test) => {
            if test.headers != train_table.headers {
                return Err(DataError::Mismatch {
                    images: train_table.source.clone(),
                    labels: test.source.clone(),
                    reason: "the two files have different columns".into(),
                });
            }
            Ok(((0..train_table.row_count() as u32).collect(), Vec::new()))
        }
        None => {
            if train_table.row_count() < 5 {
                return Err(corrupt(
                    train_table,
                    format!(
                        "{} rows are too few to split into training and test data",
                        train_table.row_count()
                    ),
                ));
            }
            Ok(seeded_split(
                train_table.row_count(),
                options.test_fraction,
                options.seed,
            ))
        }
    }
}

/// Each input column's kind (the person's choice, else the guess) and its step fitted on
/// the training rows; at least one column must be left to learn from.
fn fit_columns(
    training: &TrainingCells<'_>,
    target: usize,
    options: &TableOptions,
    report: &mut TableReport,
) -> Result<Vec<crate::data::ColumnStep>, DataError> {
    let headers = &training.table.headers;
    let mut steps = Vec::with_capacity(headers.len() - 1);
    for (index, header) in headers.iter().enumerate() {
        if index == target {
            continue;
        }
        let kind = options
            .kinds
            .iter()
            .find(|(name, _)| name == header)
            .map(|(_, kind)| *kind)
            .unwrap_or_else(|| guess_kind(training.cells(index)));
        report.columns.push((header.clone(), kind));
        if kind != ColumnKind::Numeric {
            if let Some(strays) = stray_non_numbers(training.lines_and_cells(index)) {
                report.notes.push(format!(
                    "{header}: read as {} because {strays}; correct them (or mark them \
                     missing) to read the column as numbers",
                    kind.name()
                ));
            }
        }
        let step = fit_column(
            header,
            kind,
            training.cells(index),
            options,
            &mut report.notes,
        )
        .map_err(|(row, reason)| training.at(row, header, reason))?;
        steps.push(step);
    }
    if steps.iter().all(|s| s.width() == 0) {
        return Err(corrupt(
            training.table,
            "no column is left to learn from: every input column is ignored or empty".into(),
        ));
    }
    Ok(steps)
}

/// The class names in label order: the given order, else the training rows' sorted values
/// (whole numbers as numbers, 2 before 10); between 2 and `MAX_CLASSES` of them.
fn class_levels(
    training: &TrainingCells<'_>,
    target: usize,
    target_name: &str,
    options: &TableOptions,
) -> Result<Vec<String>, DataError> {
    let mut levels: Vec<String> = match &options.class_order {
        Some(order) => order.clone(),
        None => {
            let set: std::collections::BTreeSet<String> = training
                .cells(target)
                .map(|c| c.trim().to_string())
                .collect();
            set.into_iter().collect()
        }
    };
    if options.class_order.is_none() && levels.iter().all(|l| l.parse::<i64>().is_ok()) {
        levels.sort_by_key(|l| l.parse::<i64>().unwrap_or(0));
    }
    if levels.len() < 2 {
        return Err(corrupt(training.table, format!(
            "the target column {target_name} has only one value ({}) in the training rows: there is nothing to classify",
            levels.first().map_or("none", String::as_str)
        )));
    }
    if levels.len() > MAX_CLASSES {
        return Err(corrupt(training.table, format!(
            "the target column {target_name} has {} distinct values, more than {MAX_CLASSES} classes; is it a number to predict (--task regression)?",
            levels.len()
        )));
    }
    Ok(levels)
}

/// A regression target's scaling, fitted on the training rows' values.
fn fit_target(
    training: &TrainingCells<'_>,
    target: usize,
    target_name: &str,
    options: &TableOptions,
) -> Result<TargetScaling, DataError> {
    let mut values = Vec::with_capacity(training.rows.len());
    for (row, cell) in training.cells(target).enumerate() {
        values.push(parse_target(cell).map_err(|reason| training.at(row, target_name, reason))?);
    }
    TargetScaling::fit(&values, options.log_target)
        .map_err(|e| corrupt(training.table, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ColumnStep, MAX_CATEGORY_LEVELS};

    fn table(text: &str) -> RawTable {
        RawTable::from_reader(text.as_bytes(), "t.csv").unwrap()
    }

    #[test]
    fn a_column_of_numbers_with_a_typo_says_which_cell_made_it_categorical() {
        let rows: String = (0..30).map(|i| format!("{},{}\n", i % 10, i % 2)).collect();
        let text = format!("x,y\n{}", rows.replacen("3,1\n", "abc,1\n", 1));
        let t = table(&text);
        let profiles = profile_columns(&t);
        assert_eq!(profiles[0].guessed, ColumnKind::Categorical);
        assert_eq!(
            profiles[0].stray_non_numbers.as_deref(),
            Some("1 value is not a number: line 5 'abc'")
        );
        assert_eq!(profiles[1].stray_non_numbers, None);
        let options = TableOptions {
            target: Some("y".into()),
            ..TableOptions::default()
        };
        // With a test file every row of the first trains, line 5 among them.
        let (_, report) = table_dataset("t", &t, Some(&t), &options).unwrap();
        assert!(
            report.notes.iter().any(|n| n.starts_with(
                "x: read as categorical because 1 value is not a number: line 5 'abc'"
            )),
            "{:?}",
            report.notes
        );
        // A column of words is words, not numbers with typos.
        let words = table("w,y\na,1\nb,0\n3,1\n");
        assert_eq!(profile_columns(&words)[0].stray_non_numbers, None);
        let many: String = (0..5).map(|i| format!("{i}\n")).collect();
        let strays = format!("v\n{many}x1\nx2\nx3\nx4\n{}", many.repeat(30));
        assert_eq!(
            stray_non_numbers(
                table(&strays)
                    .column(0)
                    .enumerate()
                    .map(|(r, c)| (RawTable::line_of(r), c))
            )
            .as_deref(),
            Some("4 values are not numbers: line 7 'x1', line 8 'x2', line 9 'x3' and 1 more")
        );
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
