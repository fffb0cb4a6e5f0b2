//! Turning `--dataset` (a built-in name, a CSV file, an image or IDX folder) into a dataset.

use std::path::Path;

use anyhow::bail;
use layerlab::data::{
    builtin, folder_dataset, load_builtin, table_dataset, DataOptions, Dataset, FolderKind,
    ImageFolderOptions, RawTable, TableOptions, ToyOptions,
};

use super::args::{ColourMode, DataArgs};

/// What the user asked for, loaded; `notes` are what was guessed or filled in, for the user.
pub struct LoadedData {
    pub dataset: Dataset,
    pub notes: Vec<String>,
    /// The column predicted, for a CSV file.
    pub target_column: Option<String>,
}

impl DataArgs {
    pub fn options(&self) -> DataOptions {
        DataOptions {
            split_seed: self.split_seed,
            toy: ToyOptions {
                samples: self.samples,
                noise: self.noise,
                seed: self.split_seed,
            },
            vocabulary_size: self.vocabulary,
            text_weighting: self.text_weighting,
            log_target: self.log_target,
        }
    }

    /// The built-in name or path given, "mnist" when none.
    pub fn source(&self) -> String {
        match (&self.dataset, &self.data_dir) {
            (Some(name), _) => name.clone(),
            (None, Some(dir)) => dir.display().to_string(),
            (None, None) => "mnist".into(),
        }
    }

    /// Loads the dataset, with `log_target` forced on when a preset asks for it.
    pub fn load(&self, log_target: bool) -> anyhow::Result<LoadedData> {
        let mut options = self.options();
        options.log_target |= log_target;
        let source = self.source();
        let table_only = |flag: &str| -> anyhow::Result<()> {
            bail!("{flag} applies to CSV files; {source} is a built-in dataset or a folder")
        };
        if builtin(&source).is_some() || (self.data_dir.is_none() && !Path::new(&source).exists()) {
            if builtin(&source).is_none() {
                bail!(
                    "{source:?} is neither a built-in dataset nor an existing file or folder; choose one of {}",
                    layerlab::data::BUILTIN_DATASETS
                        .iter()
                        .map(|d| d.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if self.target.is_some() {
                table_only("--target")?;
            }
            if !self.columns.is_empty() {
                table_only("--column")?;
            }
            let dataset = load_builtin(&source, &options)?;
            return Ok(LoadedData {
                dataset,
                notes: Vec::new(),
                target_column: None,
            });
        }
        let path = Path::new(&source);
        if path.is_dir() {
            // `--data-dir` always means IDX files; otherwise the folder's files decide.
            let kind = self.data_dir.is_some().then_some(FolderKind::Idx);
            let (dataset, notes) = folder_dataset(
                path,
                kind,
                ImageFolderOptions {
                    size: self.image_size.map(|s| (s, s)),
                    rgb: self.colour.map(|c| c == ColourMode::Rgb),
                    seed: self.split_seed,
                },
            )?;
            return Ok(LoadedData {
                dataset,
                notes,
                target_column: None,
            });
        }
        let table = RawTable::read(path)?;
        let table_options = TableOptions {
            target: self.target.clone(),
            kinds: self
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.kind))
                .collect(),
            task: self.task,
            class_order: None,
            target_unit: self.unit.clone().unwrap_or_default(),
            log_target: options.log_target,
            vocabulary_size: self.vocabulary,
            text_weighting: self.text_weighting,
            test_fraction: 0.2,
            seed: self.split_seed,
        };
        let name = path
            .file_name()
            .map_or_else(|| source.clone(), |n| n.to_string_lossy().into_owned());
        let (dataset, report) = table_dataset(&name, &table, None, &table_options)?;
        let mut notes = vec![format!(
            "{name}: {} rows, target {} ({}); columns: {}",
            table.row_count(),
            report.target,
            dataset.task().describe(),
            report.columns_line()
        )];
        notes.extend(report.notes);
        Ok(LoadedData {
            dataset,
            notes,
            target_column: Some(report.target),
        })
    }
}
